//! The durable per-conversation event log: every change to a conversation, numbered.

use crate::{ConversationId, Message, MessageId, Reaction, Seq, Timestamp, UserId};

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
    /// A message was stored (system messages record membership and room changes).
    MessageCreated(Message),
    /// A message's content changed; carries the message as it is now.
    MessageEdited(Message),
    /// A message became a tombstone.
    MessageDeleted { message_id: MessageId, message_seq: Seq },
    /// Someone added or removed a reaction; `reactions` is the message's full set now.
    ReactionChanged { message_id: MessageId, user_id: UserId, emoji: String, added: bool, reactions: Vec<Reaction> },
    /// A member's devices received messages up to `up_to`.
    MessagesDelivered { user_id: UserId, up_to: Seq },
    /// Title, avatar or archive state changed; carries the conversation's values now.
    ConversationUpdated { title: Option<String>, avatar: Option<String>, archived: bool },
    /// A member's read position moved forward to the message numbered `up_to`.
    MessagesRead {
        user_id: UserId,
        up_to: Seq,
        /// The messages the member named when marking, if they named any (seed 001's form).
        message_ids: Vec<MessageId>,
    },
}
