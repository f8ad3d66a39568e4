//! `GET /api/server/audit`: the audit log, newest first, filtered and paged.

use axum::extract::State;
use parlor_core::{Timestamp, ValidationError};
use parlor_protocol::{AuditEntryView, AuditPage};
use parlor_store::AuditEntry;
use serde::Deserialize;

use crate::auth::ServerKey;
use crate::error::ApiResult;
use crate::http::extract::Query;
use crate::service::AuditQuery;
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Only this actor: `api_key`, `user:<id>`, `system`.
    actor: Option<String>,
    /// Only this action, e.g. `account.update`.
    action: Option<String>,
    /// Only this target, e.g. `user:7`, `conversation:3`.
    target: Option<String>,
    /// Only entries at or after this time (RFC 3339).
    since: Option<String>,
    /// Only entries before this time (RFC 3339).
    until: Option<String>,
    /// The previous page's `next_cursor`.
    before: Option<i64>,
    /// Entries per page, 1 to 500 (default 50).
    limit: Option<u32>,
}

fn time(field: &'static str, value: Option<String>) -> Result<Option<Timestamp>, ValidationError> {
    value
        .map(|v| {
            chrono::DateTime::parse_from_rfc3339(&v)
                .map(|t| Timestamp::from_millis(t.timestamp_millis()))
                .map_err(|_| ValidationError::new(field, "must be an RFC 3339 time, e.g. 2026-01-31T12:00:00Z"))
        })
        .transpose()
}

fn view(e: &AuditEntry) -> AuditEntryView {
    AuditEntryView {
        id: e.id,
        at: e.entry.at,
        actor: e.entry.actor.clone(),
        action: e.entry.action.clone(),
        target: e.entry.target.clone(),
        request_id: e.entry.request_id.clone(),
        details: e.entry.details.as_deref().and_then(|d| serde_json::from_str(d).ok()),
    }
}

#[utoipa::path(
    get,
    path = "/api/server/audit",
    tag = "server",
    operation_id = "server_audit_list",
    params(AuditParams),
    responses(
        (status = 200, description = "Recorded actions, newest first", body = parlor_protocol::AuditPage),
        (status = 400, description = "A query parameter has the wrong type (`invalid_body`) or breaks a rule (`validation_failed`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn list(
    State(state): State<AppState>,
    _: ServerKey,
    Query(params): Query<AuditParams>,
) -> ApiResult<axum::Json<AuditPage>> {
    let query = AuditQuery {
        actor: params.actor,
        action: params.action,
        target: params.target,
        since: time("since", params.since)?,
        until: time("until", params.until)?,
        before: params.before,
        limit: params.limit,
    };
    let (entries, has_more) = state.audit.page(query).await?;
    let next_cursor = if has_more { entries.last().map(|e| e.id) } else { None };
    Ok(axum::Json(AuditPage { results: entries.iter().map(view).collect(), next_cursor, has_more }))
}
