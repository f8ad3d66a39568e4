//! The webhook contract: the server API's request and views for endpoints and their delivery
//! log, and the payload every delivery carries (documented in `docs/webhooks.md`).

use parlor_core::{ConversationEvent, ConversationId, EventType, MessageId, OutboxId, Timestamp, UserId, WebhookId};
use serde::{Deserialize, Serialize};

use crate::ServerFrame;

/// `POST /api/server/webhooks`.
#[derive(utoipa::ToSchema, Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    pub url: String,
    /// Event types to receive; absent or `null` for all of them, including future ones.
    #[serde(default)]
    pub events: Option<Vec<String>>,
    /// The signing secret; generated when absent.
    #[serde(default)]
    pub secret: Option<String>,
}

#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct WebhookView {
    pub id: WebhookId,
    pub url: String,
    /// `null`: every type.
    pub events: Option<Vec<&'static str>>,
    pub created_at: Timestamp,
    /// Only in the response that created the endpoint: it is never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct WebhookList {
    pub results: Vec<WebhookView>,
}

/// One attempt to deliver one event to one endpoint.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct DeliveryView {
    pub id: i64,
    /// The payload's `id` and the `X-Parlor-Delivery` header.
    pub event_id: String,
    pub event_type: String,
    pub attempt: u32,
    /// True for a 2xx answer.
    pub ok: bool,
    /// The HTTP status, `null` when the endpoint did not answer.
    pub status: Option<u16>,
    /// Why there was no answer: `timeout`, `connection failed`...
    pub error: Option<String>,
    pub duration_ms: u64,
    pub at: Timestamp,
}

#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct DeliveryList {
    pub results: Vec<DeliveryView>,
}

/// The body of a delivery. `data` is the frame a WebSocket client gets for the same event, or
/// for `notification.created`, a [`NotificationHook`].
#[derive(Debug, Clone, Serialize)]
pub struct WebhookPayload {
    /// The outbox id, as a string: the same as `X-Parlor-Delivery`, for deduplication.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: &'static str,
    pub created_at: Timestamp,
    /// 0 for a notification about no conversation (a connection request).
    pub conversation_id: ConversationId,
    pub data: WebhookData,
}

/// What a delivery is about.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum WebhookData {
    Frame(ServerFrame),
    Notification(NotificationHook),
    UserDeleted(UserDeletedHook),
}

impl WebhookPayload {
    pub fn new(id: OutboxId, event_type: EventType, event: &ConversationEvent) -> Self {
        Self {
            id: id.to_string(),
            event_type: event_type.as_str(),
            created_at: event.at,
            conversation_id: event.conversation_id,
            data: WebhookData::Frame(ServerFrame::from_event(event)),
        }
    }

    pub fn notification(id: OutboxId, at: Timestamp, hook: NotificationHook) -> Self {
        Self {
            id: id.to_string(),
            event_type: EventType::NotificationCreated.as_str(),
            created_at: at,
            conversation_id: hook.conversation_id.unwrap_or(ConversationId(0)),
            data: WebhookData::Notification(hook),
        }
    }
}

impl WebhookPayload {
    pub fn user_deleted(id: OutboxId, at: Timestamp, hook: UserDeletedHook) -> Self {
        Self {
            id: id.to_string(),
            event_type: EventType::UserDeleted.as_str(),
            created_at: at,
            conversation_id: ConversationId(0),
            data: WebhookData::UserDeleted(hook),
        }
    }
}

/// `user.deleted`'s `data`: an account was erased (docs/privacy.md), by its owner or through
/// the server API, so the platform can forget its side too. Written by the erasure, in its
/// transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDeletedHook {
    /// parlor's id of the account (its row stays, as "Deleted user").
    pub user_id: UserId,
    /// The platform's id (the host token's subject); `None` for standalone accounts.
    pub external_id: Option<String>,
    /// What happened to their messages: `delete` or `anonymize` (`privacy.erasure`).
    pub mode: String,
    /// Who asked: `user` (`DELETE /api/users/me`) or `api_key` (the server API). When is the
    /// envelope's `created_at`.
    pub by: String,
}

/// `notification.created`'s `data`: someone was notified, for a platform that reaches them
/// itself (its own mobile push, its own email). Written when the notification is made and
/// kept in the outbox as JSON, so it says what was true then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationHook {
    pub notification_id: i64,
    /// `message`, `mention`, `room_added` or `connection_request`.
    pub kind: String,
    pub recipient: HookUser,
    pub conversation_id: Option<ConversationId>,
    pub message_id: Option<MessageId>,
    /// Who caused it; `None` for a platform notice.
    pub sender: Option<HookUser>,
    /// The start of the message (what the inbox shows), empty when there is none.
    pub preview: String,
    /// How many unread messages a folded `message` notification stands for.
    pub count: i64,
    /// Whether any of the recipient's devices had a connection open when it was made.
    pub online: bool,
}

/// A person in a [`NotificationHook`]: parlor's id and the platform's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookUser {
    pub id: UserId,
    /// The platform's id (the host token's subject); `None` for standalone accounts.
    pub external_id: Option<String>,
    pub name: String,
}
