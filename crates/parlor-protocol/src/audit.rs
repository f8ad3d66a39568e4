//! `GET /api/server/audit`: the audit log as the host platform's backend reads it.

use parlor_core::Timestamp;
use serde::Serialize;

/// One recorded action.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct AuditEntryView {
    /// Increasing in the order actions were recorded.
    pub id: i64,
    pub at: Timestamp,
    /// `api_key` (the server API), `user:<id>` (an admin or a room's owner), `system`.
    pub actor: String,
    /// What was done, dotted: `account.update`, `message.delete`, `conversation.transcript`...
    pub action: String,
    /// What it was done to, as `kind:id` (`user:7`, `conversation:3`), or `null`.
    pub target: Option<String>,
    /// The `X-Request-Id` of the request it came from.
    pub request_id: Option<String>,
    /// More about it (the HTTP status, the flags set...); never message content or secrets.
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

/// A page of entries, newest first. Pass `next_cursor` back as `before` while `has_more`.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct AuditPage {
    pub results: Vec<AuditEntryView>,
    pub next_cursor: Option<i64>,
    pub has_more: bool,
}
