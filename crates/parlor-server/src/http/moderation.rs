//! Blocking users, muting and reporting, and the server admins' endpoints under `/api/admin/`.

use axum::extract::State;
use axum::http::StatusCode;
use parlor_core::{ConversationId, MessageId, UserId};
use parlor_protocol::{ReportList, ReportView, UserList, UserView};
use parlor_store::Report;
use serde::{Deserialize, Serialize};

use super::extract::{Id, Json, Query};
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::state::AppState;

fn report_view(r: &Report) -> ReportView {
    ReportView {
        id: r.id,
        message_id: r.message_id,
        reporter_id: r.reporter_id,
        reason: r.reason.clone(),
        created_at: r.created_at,
    }
}

#[derive(Serialize)]
pub struct Muted {
    conversation_id: ConversationId,
    muted: bool,
}

#[derive(Deserialize)]
pub struct ReportBody {
    reason: String,
}

#[derive(Deserialize)]
pub struct LimitParams {
    #[serde(default)]
    limit: Option<u32>,
}

pub async fn block(State(state): State<AppState>, CurrentUser(me): CurrentUser, Id(id): Id) -> ApiResult<StatusCode> {
    state.chat.set_block(me.id, UserId(id), true).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn unblock(State(state): State<AppState>, CurrentUser(me): CurrentUser, Id(id): Id) -> ApiResult<StatusCode> {
    state.chat.set_block(me.id, UserId(id), false).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn blocked(State(state): State<AppState>, CurrentUser(me): CurrentUser) -> ApiResult<axum::Json<UserList>> {
    let users = state.chat.blocked_users(me.id).await?;
    Ok(axum::Json(UserList { results: users.iter().map(UserView::from).collect() }))
}

pub async fn mute(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
) -> ApiResult<axum::Json<Muted>> {
    set_muted(state, me.id, id, true).await
}

pub async fn unmute(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
) -> ApiResult<axum::Json<Muted>> {
    set_muted(state, me.id, id, false).await
}

async fn set_muted(state: AppState, me: UserId, id: i64, muted: bool) -> ApiResult<axum::Json<Muted>> {
    state.chat.set_muted(me, ConversationId(id), muted).await?;
    Ok(axum::Json(Muted { conversation_id: ConversationId(id), muted }))
}

pub async fn report(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
    Json(body): Json<ReportBody>,
) -> ApiResult<(StatusCode, axum::Json<ReportView>)> {
    let report = state.chat.report(me.id, MessageId(id), &body.reason).await?;
    Ok((StatusCode::CREATED, axum::Json(report_view(&report))))
}

pub async fn reports(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Query(params): Query<LimitParams>,
) -> ApiResult<axum::Json<ReportList>> {
    let found = state.chat.reports(&me, params.limit.unwrap_or(50).clamp(1, 500)).await?;
    Ok(axum::Json(ReportList { results: found.iter().map(report_view).collect() }))
}

pub async fn delete_message(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    state.chat.admin_delete(&me, MessageId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn disable_user(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
) -> ApiResult<axum::Json<UserView>> {
    let user = state.chat.admin_set_disabled(&me, UserId(id), true).await?;
    Ok(axum::Json(UserView::from(&user)))
}

pub async fn enable_user(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
) -> ApiResult<axum::Json<UserView>> {
    let user = state.chat.admin_set_disabled(&me, UserId(id), false).await?;
    Ok(axum::Json(UserView::from(&user)))
}
