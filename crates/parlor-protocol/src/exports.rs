//! Self-service data exports (docs/privacy.md §5): what `POST /api/users/me/export` and the
//! listing under `/api/users/me/exports` answer.

use parlor_core::Timestamp;
use serde::Serialize;

/// One export of the caller's data.
#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct ExportView {
    pub id: i64,
    /// `pending` (asked for), `running` (being built), `ready` (download it), `failed` (see
    /// `error`) or `expired` (its archive was deleted).
    pub status: &'static str,
    pub created_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    /// While ready: when its archive is deleted.
    pub expires_at: Option<Timestamp>,
    /// The archive's size in bytes, once ready.
    pub size_bytes: Option<u64>,
    /// Why it failed: `too_large` (over the server's bound), `timeout`, `interrupted` or `failed`.
    pub error: Option<String>,
    /// Where to download it, while ready.
    pub download_url: Option<String>,
}

#[derive(utoipa::ToSchema, Debug, Clone, Serialize)]
pub struct ExportList {
    /// Newest first.
    pub results: Vec<ExportView>,
}
