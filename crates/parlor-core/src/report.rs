//! Reports: a message someone showed to the server's admins, and why.

use crate::{MessageId, Timestamp, UserId};

/// A report of a message to the server's admins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub id: i64,
    pub message_id: MessageId,
    pub reporter_id: UserId,
    pub reason: String,
    pub created_at: Timestamp,
}
