//! `/api/users/me` and the user directory under `/api/chat/users/`.

use axum::extract::State;
use parlor_core::{User, UserId};
use parlor_protocol::{ProfilePatch, StatusList, StatusView, UserList, UserView};
use serde::Deserialize;

use super::extract::{Id, Json, Query};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/users/me",
    tag = "users",
    operation_id = "users_me",
    responses(
        (status = 200, description = "The caller's own profile", body = parlor_protocol::UserView),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn me(CurrentUser(user): CurrentUser) -> axum::Json<UserView> {
    axum::Json(own_view(&user))
}

/// The user's own profile, with their settings.
fn own_view(user: &User) -> UserView {
    let mut view = UserView::from(user);
    view.hide_last_seen = Some(user.hide_last_seen);
    view.email = user.email.clone();
    view
}

#[utoipa::path(
    patch,
    path = "/api/users/me",
    tag = "users",
    operation_id = "users_update_me",
    request_body = parlor_protocol::ProfilePatch,
    responses(
        (status = 200, description = "The updated profile", body = parlor_protocol::UserView),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn update_me(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(patch): Json<ProfilePatch>,
) -> ApiResult<axum::Json<UserView>> {
    let avatar = patch.avatar.as_ref().map(|a| a.as_deref());
    if let Some(email) = &patch.email {
        state.accounts.set_email(&user, email.as_deref()).await?;
    }
    let updated = state.accounts.update_profile(user.id, patch.name.as_deref(), avatar, patch.hide_last_seen).await?;
    Ok(axum::Json(own_view(&updated)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Part of a name or username, at least 2 characters. Under `dm_policy = "connections"`
    /// only people the caller shares a conversation or connection with match, or the one whose
    /// username is exactly this.
    #[serde(default)]
    q: String,
    /// 1 to 20 (the default).
    #[serde(default)]
    limit: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/api/chat/users",
    tag = "users",
    operation_id = "users_search",
    params(SearchParams),
    responses(
        (status = 200, description = "Matching users", body = parlor_protocol::UserList),
        (status = 400, description = "A query parameter has the wrong type (`invalid_body`) or breaks a rule (`validation_failed`: `q` shorter than 2 characters)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn search(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Query(params): Query<SearchParams>,
) -> ApiResult<axum::Json<UserList>> {
    let found = state.directory.find_users(me.id, &params.q, params.limit).await?;
    Ok(axum::Json(UserList { results: state.presence.annotate(me.id, &found).await? }))
}

#[utoipa::path(
    get,
    path = "/api/chat/users/{id}",
    tag = "users",
    operation_id = "users_get_one",
    params(("id" = i64, Path, description = "The user")),
    responses(
        (status = 200, description = "The user", body = parlor_protocol::UserView),
        (status = 404, description = "No such user", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn get_one(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
) -> ApiResult<axum::Json<UserView>> {
    let user = state.accounts.user(UserId(id)).await?;
    let mut annotated = state.presence.annotate(me.id, std::slice::from_ref(&user)).await?;
    annotated.pop().map(axum::Json).ok_or_else(ApiError::internal)
}

/// `GET /api/chat/users/by-external/{external_id}/`: the user the host platform knows by that id,
/// for a "Chat with X" button on a page that only knows the platform's ids (host-app mode).
#[utoipa::path(
    get,
    path = "/api/chat/users/by-external/{external_id}",
    tag = "users",
    operation_id = "users_by_external",
    params(("external_id" = String, Path, description = "The host platform's id for the user")),
    responses(
        (status = 200, description = "The user", body = parlor_protocol::UserView),
        (status = 404, description = "No user with that external id", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn by_external(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    axum::extract::Path(external_id): axum::extract::Path<String>,
) -> ApiResult<axum::Json<UserView>> {
    let user = state.platform.platform_user(&external_id).await?;
    let mut annotated = state.presence.annotate(me.id, std::slice::from_ref(&user)).await?;
    annotated.pop().map(axum::Json).ok_or_else(ApiError::internal)
}

/// `GET /api/chat/users/{id}/status/` (seed 003): for the user themselves and people who share
/// a conversation with them; a 404 for everyone else.
#[utoipa::path(
    get,
    path = "/api/chat/users/{id}/status",
    tag = "users",
    operation_id = "users_status",
    params(("id" = i64, Path, description = "The user")),
    responses(
        (status = 200, description = "Online and last seen", body = parlor_protocol::StatusView),
        (status = 404, description = "No such user, or one the caller shares no conversation with", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn status(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
) -> ApiResult<axum::Json<StatusView>> {
    Ok(axum::Json(state.presence.status(me.id, UserId(id)).await?))
}

/// `GET /api/chat/presence/` (seed 004): the status of everyone the caller shares a conversation with.
#[utoipa::path(
    get,
    path = "/api/chat/presence",
    tag = "users",
    operation_id = "users_presence",
    responses(
        (status = 200, description = "The status of everyone the caller shares a conversation with", body = parlor_protocol::StatusList),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn presence(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> ApiResult<axum::Json<StatusList>> {
    Ok(axum::Json(StatusList { results: state.presence.contacts(me.id).await? }))
}
