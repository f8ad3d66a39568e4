//! `/api/users/me` and the user directory under `/api/chat/users/`.

use axum::extract::State;
use parlor_core::UserId;
use parlor_protocol::{ProfilePatch, UserList, UserView};
use serde::Deserialize;

use super::extract::{Id, Json, Query};
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::state::AppState;

pub async fn me(CurrentUser(user): CurrentUser) -> axum::Json<UserView> {
    axum::Json(UserView::from(&user))
}

pub async fn update_me(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Json(patch): Json<ProfilePatch>,
) -> ApiResult<axum::Json<UserView>> {
    let avatar = patch.avatar.as_ref().map(|a| a.as_deref());
    let updated = state.accounts.update_profile(user.id, patch.name.as_deref(), avatar).await?;
    Ok(axum::Json(UserView::from(&updated)))
}

#[derive(Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    limit: Option<u32>,
}

pub async fn search(
    State(state): State<AppState>,
    CurrentUser(_): CurrentUser,
    Query(params): Query<SearchParams>,
) -> ApiResult<axum::Json<UserList>> {
    let found = state.accounts.search(&params.q, params.limit.unwrap_or(20).clamp(1, 100)).await?;
    Ok(axum::Json(UserList { results: found.iter().map(UserView::from).collect() }))
}

pub async fn get_one(
    State(state): State<AppState>,
    CurrentUser(_): CurrentUser,
    Id(id): Id,
) -> ApiResult<axum::Json<UserView>> {
    let user = state.accounts.user(UserId(id)).await?;
    Ok(axum::Json(UserView::from(&user)))
}
