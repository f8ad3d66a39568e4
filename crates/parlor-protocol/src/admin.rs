//! The server API's operator endpoints, which `parlor admin` calls: accounts with passwords,
//! tokens issued by the operator, conversation exports, backups and vacuuming.

use parlor_core::{Seq, Timestamp, UserId};
use serde::{Deserialize, Serialize};

use crate::{ContextView, MemberView, MessageView};

/// `POST /api/server/accounts`: a password account, as if the user had registered.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountRequest {
    pub username: String,
    pub password: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub admin: bool,
}

/// `POST /api/server/accounts/{id}/tokens`.
#[derive(utoipa::ToSchema, Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueTokenRequest {
    /// Lifetime of the token; the server's `access_token_ttl_secs` when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<i64>,
}

/// An access token the operator issued for a user.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize, Deserialize)]
pub struct IssuedToken {
    pub user_id: UserId,
    pub access: String,
    pub token_type: String,
    /// Seconds until `access` expires.
    pub expires_in: i64,
}

/// `GET /api/server/conversations/{id}`: the conversation as no member in particular sees it.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct ExportedConversation {
    pub id: parlor_core::ConversationId,
    /// `direct` or `room`.
    pub kind: &'static str,
    pub title: Option<String>,
    pub avatar: Option<String>,
    pub context: Option<ContextView>,
    pub archived_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub last_activity_at: Timestamp,
    pub last_message_seq: Seq,
    /// Current members, in the order they joined.
    pub members: Vec<MemberView>,
}

/// `GET /api/server/conversations/{id}/messages?after=&limit=`: oldest first. Pass
/// `next_cursor` back as `after` while `has_more`.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct ExportPage {
    pub results: Vec<MessageView>,
    pub next_cursor: Option<Seq>,
    pub has_more: bool,
}

/// `POST /api/server/backup`: where, on the server's machine, to write the copy.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupRequest {
    pub path: String,
}

/// A finished backup: the file written and its size.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize, Deserialize)]
pub struct BackupView {
    pub path: String,
    pub bytes: u64,
}
