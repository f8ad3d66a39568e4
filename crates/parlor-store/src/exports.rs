//! Values of the self-service data exports (docs/privacy.md §5): a person's request, the
//! background job that builds its archive, and what became of it. The job's state lives in the
//! store, so a node that stops mid-build leaves a claim that runs out and another run takes over.

use parlor_core::{Timestamp, UserId};

/// Where an export stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportStatus {
    /// Asked for; no node is building it yet.
    Pending,
    /// A node is building it (its claim lasts until `lease_until`).
    Running,
    /// The archive is in blob storage until `expires_at`.
    Ready,
    /// It could not be built; `error` says why.
    Failed,
    /// It was ready and its archive is gone.
    Expired,
}

impl ExportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Ready => "ready",
            Self::Failed => "failed",
            Self::Expired => "expired",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "pending" => Self::Pending,
            "running" => Self::Running,
            "ready" => Self::Ready,
            "failed" => Self::Failed,
            "expired" => Self::Expired,
            _ => return None,
        })
    }

    /// Pending or running: the one a person may have at a time.
    pub fn in_progress(self) -> bool {
        matches!(self, Self::Pending | Self::Running)
    }
}

/// One export, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportJob {
    pub id: i64,
    pub user_id: UserId,
    pub status: ExportStatus,
    pub created_at: Timestamp,
    /// How many runs were started (a run cut short by a stopped node counts).
    pub attempts: u32,
    pub finished_at: Option<Timestamp>,
    /// When a ready archive is deleted.
    pub expires_at: Option<Timestamp>,
    /// The archive's size in bytes, once ready.
    pub size_bytes: Option<u64>,
    /// The archive's key in blob storage, while ready.
    pub blob_key: Option<String>,
    /// Why it failed: a short code (`too_large`, `interrupted`, `failed`).
    pub error: Option<String>,
}

/// The bounds a new request is checked against, in the transaction that stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportQuota {
    /// Requests made since then count...
    pub since: Timestamp,
    /// ...and at most this many may.
    pub max: u32,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportOutcome {
    Ready { blob_key: String, size_bytes: u64, expires_at: Timestamp },
    Failed { error: String },
}
