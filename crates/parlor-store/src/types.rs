//! Values the store hands back from its writes.

use parlor_core::{ConversationEvent, EventKind, Message, MessageId, Seq};

/// The result of [`crate::Store::append_message`].
#[derive(Debug, Clone)]
pub struct Appended {
    /// The `MessageCreated` event (the original one, for a duplicate).
    pub event: ConversationEvent,
    /// True when the `client_id` was seen before and nothing new was stored.
    pub duplicate: bool,
}

impl Appended {
    pub fn message(&self) -> Option<&Message> {
        match &self.event.kind {
            EventKind::MessageCreated(m) => Some(m),
            _ => None,
        }
    }
}

/// How far to mark a conversation read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadUpTo {
    /// Everything stored so far.
    Latest,
    /// Up to the newest of these messages; ids of other conversations are ignored.
    Messages(Vec<MessageId>),
}

/// The result of [`crate::Store::mark_read`].
#[derive(Debug, Clone)]
pub struct ReadOutcome {
    pub last_read_seq: Seq,
    pub unread_count: i64,
    /// The logged event, when the position moved.
    pub event: Option<ConversationEvent>,
}
