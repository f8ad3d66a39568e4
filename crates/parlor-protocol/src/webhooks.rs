//! The webhook contract: the server API's request and views for endpoints and their delivery
//! log, and the payload every delivery carries (documented in `docs/webhooks.md`).

use parlor_core::{ConversationEvent, ConversationId, EventType, OutboxId, Timestamp, WebhookId};
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

/// The body of a delivery. `data` is the frame a WebSocket client gets for the same event.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookPayload {
    /// The outbox id, as a string: the same as `X-Parlor-Delivery`, for deduplication.
    pub id: String,
    #[serde(rename = "type")]
    pub event_type: &'static str,
    pub created_at: Timestamp,
    pub conversation_id: ConversationId,
    pub data: ServerFrame,
}

impl WebhookPayload {
    pub fn new(id: OutboxId, event_type: EventType, event: &ConversationEvent) -> Self {
        Self {
            id: id.to_string(),
            event_type: event_type.as_str(),
            created_at: event.at,
            conversation_id: event.conversation_id,
            data: ServerFrame::from_event(event),
        }
    }
}
