//! The durable per-conversation event log: every change to a conversation, numbered.

use crate::{ConversationId, Message, MessageId, Seq, Timestamp, UserId};

/// One entry of a conversation's log. `seq` numbers the log 1, 2, 3... with no gaps, so a
/// client that remembers the last `seq` it saw can ask for exactly what it missed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationEvent {
    pub conversation_id: ConversationId,
    pub seq: Seq,
    pub at: Timestamp,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A message was stored.
    MessageCreated(Message),
    /// A member's read position moved forward to the message numbered `up_to`.
    MessagesRead {
        user_id: UserId,
        up_to: Seq,
        /// The messages the member named when marking, if they named any (seed 001's form).
        message_ids: Vec<MessageId>,
    },
}
