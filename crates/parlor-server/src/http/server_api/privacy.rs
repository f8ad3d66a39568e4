//! The host platform's side of data rights: erasing one of its users
//! (`DELETE /api/server/users/{external_id}`) and legal holds on conversations.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use parlor_core::ConversationId;

use crate::auth::ServerKey;
use crate::error::ApiResult;
use crate::http::extract::Id;
use crate::state::AppState;

/// Erases the platform's user as `DELETE /api/users/me` would (docs/privacy.md).
#[utoipa::path(
    delete,
    path = "/api/server/users/{external_id}",
    tag = "server",
    operation_id = "server_users_delete",
    params(("external_id" = String, Path, description = "The host platform's id for the user")),
    responses(
        (status = 204, description = "The account is erased"),
        (status = 404, description = "parlor does not know this user (or already erased them)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn delete_user(
    State(state): State<AppState>,
    _: ServerKey,
    Path(external_id): Path<String>,
) -> ApiResult<StatusCode> {
    let user = state.platform.platform_user(&external_id).await?;
    state.privacy.erase(user.id, crate::service::Actor::ApiKey).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Puts the conversation under a legal hold: nothing in it is erased, by retention or by an
/// account's erasure, until the hold is lifted.
#[utoipa::path(
    put,
    path = "/api/server/conversations/{id}/legal-hold",
    tag = "server",
    operation_id = "server_conversations_hold",
    params(("id" = i64, Path, description = "The conversation")),
    responses(
        (status = 204, description = "The conversation is held"),
        (status = 404, description = "No such conversation", body = parlor_protocol::ErrorBody),
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn hold(State(state): State<AppState>, _: ServerKey, Id(id): Id) -> ApiResult<StatusCode> {
    state.privacy.set_legal_hold(ConversationId(id), true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Lifts the legal hold: retention applies again from the next sweep.
#[utoipa::path(
    delete,
    path = "/api/server/conversations/{id}/legal-hold",
    tag = "server",
    operation_id = "server_conversations_release",
    params(("id" = i64, Path, description = "The conversation")),
    responses(
        (status = 204, description = "The hold is lifted (or there was none)"),
        (status = 404, description = "No such conversation", body = parlor_protocol::ErrorBody),
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn release(State(state): State<AppState>, _: ServerKey, Id(id): Id) -> ApiResult<StatusCode> {
    state.privacy.set_legal_hold(ConversationId(id), false).await?;
    Ok(StatusCode::NO_CONTENT)
}
