//! What the store takes and gives for webhooks beyond the domain types (`parlor_core::Webhook`,
//! `parlor_core::Delivery`): endpoints to register, outbox entries, delivery attempts to record.

use parlor_core::{
    ConversationEvent, ConversationId, EventType, OutboxId, Timestamp, UserId, WebhookId, WebhookSecret, WebhookUrl,
};

/// An endpoint to register.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: WebhookUrl,
    /// `None`: every type, including ones added in later versions.
    pub events: Option<Vec<EventType>>,
    pub secret: WebhookSecret,
}

/// One outbox entry with what it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: OutboxId,
    pub item: OutboxItem,
}

/// What an outbox entry delivers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(clippy::large_enum_variant, reason = "entries are read a page at a time; boxing the common case buys nothing")]
pub enum OutboxItem {
    /// A logged event, loaded as it is now: a message deleted since shows as a tombstone.
    Event(ConversationEvent),
    /// A notification, with the delivery's `data` as the JSON written when it was made.
    Notification(QueuedNotification),
    /// An account was erased (`user.deleted`), with `data` as written by the erasure.
    UserDeleted(QueuedUserDeleted),
}

/// A `user.deleted` delivery, queued by the erasure it reports, in its transaction. The store
/// keeps `data` as it was given and never reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedUserDeleted {
    pub at: Timestamp,
    pub data: String,
}

/// A `notification.created` delivery as the notifications service queued it. The store keeps
/// `data` as it was given and never reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedNotification {
    /// The conversation it is about; `None` for one about no conversation (a connection request).
    pub conversation_id: Option<ConversationId>,
    /// Whom it is for, and who caused it (the sender, the requester): erasing either's account
    /// removes the entry while it waits, so their name and words are not delivered after.
    pub recipient: UserId,
    pub actor: Option<UserId>,
    pub at: Timestamp,
    pub data: String,
}

impl OutboxItem {
    /// The type it is delivered as, or `None` when webhooks do not carry it.
    pub fn event_type(&self) -> Option<EventType> {
        match self {
            OutboxItem::Event(event) => EventType::of(event),
            OutboxItem::Notification(_) => Some(EventType::NotificationCreated),
            OutboxItem::UserDeleted(_) => Some(EventType::UserDeleted),
        }
    }

    /// The conversation it is about (0 for none).
    pub fn conversation_id(&self) -> ConversationId {
        match self {
            OutboxItem::Event(event) => event.conversation_id,
            OutboxItem::Notification(n) => n.conversation_id.unwrap_or(ConversationId(0)),
            OutboxItem::UserDeleted(_) => ConversationId(0),
        }
    }
}

/// One delivery attempt, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    pub webhook: WebhookId,
    pub outbox_id: OutboxId,
    pub event_type: EventType,
    /// 1 for the first attempt at this entry since the dispatcher started on it.
    pub attempt: u32,
    /// The HTTP status, when the endpoint answered.
    pub status: Option<u16>,
    /// Why there was no answer (timeout, connection refused...).
    pub error: Option<String>,
    pub duration_ms: u64,
    pub at: Timestamp,
}

impl NewDelivery {
    /// A 2xx answer: the entry is delivered and the endpoint's cursor moves past it.
    pub fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}
