//! The person's data rights over HTTP (docs/privacy.md): erasing their own account
//! (`DELETE /api/users/me`) and a conversation's retention (`PUT .../retention`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use parlor_core::ConversationId;
use serde::Deserialize;

use super::RequestId;
use super::extract::{Id, Json, optional_json};
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::rate_limit::{Bucket, ClientIp, Key};
use crate::service::{Actor, Record};
use crate::state::AppState;

/// What erasing one's own account takes.
#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseAccount {
    /// The account's password; required for password accounts, not for the host platform's
    /// users (who have none here).
    #[serde(default)]
    password: Option<String>,
}

#[utoipa::path(
    delete,
    path = "/api/users/me",
    tag = "users",
    operation_id = "users_delete_me",
    request_body(content = Option<EraseAccount>, description = "The password, for password accounts"),
    responses(
        (status = 204, description = "The account is erased: its sessions end, its sockets close, and its messages are deleted or anonymized (`privacy.erasure`)"),
        (status = 400, description = "Not JSON (`invalid_json`), an unknown field (`invalid_body`), or no password for a password account (`validation_failed`)", body = parlor_protocol::ErrorBody),
        (status = 401, description = "No token, or an expired, tampered or unknown one (`unauthorized`)", body = parlor_protocol::ErrorBody),
        (status = 403, description = "The password is wrong (`invalid_credentials`), or the account is disabled (`account_disabled`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::RateLimited,
    ),
)]
/// A password account's attempt counts against the same buckets as a login (the client's
/// address and the username), before the password is checked: a stolen access token cannot
/// be used to guess the password here faster than at `/api/auth/token`.
pub async fn delete_me(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    ClientIp(ip): ClientIp,
    request: RequestId,
    body: Bytes,
) -> ApiResult<StatusCode> {
    let body: EraseAccount = optional_json(&body)?;
    if let Some(username) = &user.username {
        state.rate_limits.check(Bucket::Logins, Key::Ip(ip)).await?;
        state.rate_limits.check(Bucket::LoginsPerUsername, Key::username(username)).await?;
    }
    state.privacy.erase_own(&user, body.password).await?;
    // The same action the server API's erasure is recorded as, by the person this time.
    let record = Record::new(Actor::User(user.id), "user.erase").target("user", user.id);
    state.audit.record(record.request(Some(&request))).await;
    Ok(StatusCode::NO_CONTENT)
}

/// How long a conversation keeps its messages.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionBody {
    /// Messages older than this many seconds are erased (1 to 315360000); `null` keeps them as
    /// long as the server does (`retention.messages_days`).
    retention_secs: Option<i64>,
}

#[utoipa::path(
    put,
    path = "/api/chat/conversations/{id}/retention",
    tag = "conversations",
    operation_id = "conversations_set_retention",
    params(("id" = i64, Path, description = "The conversation")),
    request_body = RetentionBody,
    responses(
        (status = 204, description = "Set; members see a `retention_changed` system message when it changed"),
        (status = 404, description = "No such conversation, or the caller is not a current member", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn set_retention(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    request: RequestId,
    Id(id): Id,
    Json(body): Json<RetentionBody>,
) -> ApiResult<StatusCode> {
    state.privacy.set_retention(user.id, ConversationId(id), body.retention_secs).await?;
    let record = Record::new(Actor::User(user.id), "conversation.retention").target("conversation", id);
    let details = serde_json::json!({ "retention_secs": body.retention_secs });
    state.audit.record(record.request(Some(&request)).details(details)).await;
    Ok(StatusCode::NO_CONTENT)
}
