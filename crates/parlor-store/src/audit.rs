//! The audit log's rows: what an admin, a moderator or the server API did, as the store keeps
//! it (append-only), and the filter its readers page through it with.

use parlor_core::Timestamp;

/// An action to record. The store stamps its id; `at` is when it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    pub at: Timestamp,
    /// Who acted: `api_key` (the server API), `user:<id>` (an admin or moderator), `system`.
    pub actor: String,
    /// What was done, dotted: `account.disable`, `message.delete`, `conversation.transcript`...
    pub action: String,
    /// What it was done to, as `kind:id` (`user:7`, `conversation:3`), when anything.
    pub target: Option<String>,
    /// The HTTP request it came from (`X-Request-Id`), when it came from one.
    pub request_id: Option<String>,
    /// More about it, as a JSON object (never message content, tokens or passwords).
    pub details: Option<String>,
}

/// A recorded action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Increasing in the order entries were recorded: the paging cursor.
    pub id: i64,
    pub entry: NewAuditEntry,
}

/// Which entries to read: all conditions given must hold. Newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    /// At or after.
    pub since: Option<Timestamp>,
    /// Before.
    pub until: Option<Timestamp>,
    /// Only entries with a smaller id: the previous page's last id.
    pub before_id: Option<i64>,
    pub limit: u32,
}
