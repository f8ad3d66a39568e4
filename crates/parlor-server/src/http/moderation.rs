//! Blocking users, muting and reporting, and the server admins' endpoints under `/api/admin/`.

use axum::extract::State;
use axum::http::StatusCode;
use parlor_core::{ConversationId, MessageId, Report, UserId};
use parlor_protocol::{ReportList, ReportView, UserList, UserView};

use serde::{Deserialize, Serialize};

use super::RequestId;
use super::extract::{Id, Json, Query};
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::service::{Actor, Record};
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

#[derive(Serialize, utoipa::ToSchema)]
pub struct Muted {
    conversation_id: ConversationId,
    muted: bool,
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct ReportBody {
    reason: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitParams {
    #[serde(default)]
    limit: Option<u32>,
}

#[utoipa::path(
    post,
    path = "/api/chat/users/{id}/block",
    tag = "moderation",
    operation_id = "moderation_block",
    params(("id" = i64, Path, description = "The user")),
    responses(
        (status = 204, description = "Blocked"),
        (status = 400, description = "Blocking yourself (`validation_failed`)", body = parlor_protocol::ErrorBody),
        (status = 404, description = "No such user", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn block(State(state): State<AppState>, CurrentUser(me): CurrentUser, Id(id): Id) -> ApiResult<StatusCode> {
    state.moderation.set_block(me.id, UserId(id), true).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete,
    path = "/api/chat/users/{id}/block",
    tag = "moderation",
    operation_id = "moderation_unblock",
    params(("id" = i64, Path, description = "The user")),
    responses(
        (status = 204, description = "Unblocked"),
        (status = 400, description = "Unblocking yourself (`validation_failed`)", body = parlor_protocol::ErrorBody),
        (status = 404, description = "No such user", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn unblock(State(state): State<AppState>, CurrentUser(me): CurrentUser, Id(id): Id) -> ApiResult<StatusCode> {
    state.moderation.set_block(me.id, UserId(id), false).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/api/chat/blocks",
    tag = "moderation",
    operation_id = "moderation_blocked",
    responses(
        (status = 200, description = "The users the caller blocked", body = parlor_protocol::UserList),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn blocked(State(state): State<AppState>, CurrentUser(me): CurrentUser) -> ApiResult<axum::Json<UserList>> {
    let users = state.moderation.blocked_users(me.id).await?;
    Ok(axum::Json(UserList { results: users.iter().map(UserView::from).collect() }))
}

#[utoipa::path(
    post,
    path = "/api/chat/conversations/{id}/mute",
    tag = "moderation",
    operation_id = "moderation_mute",
    params(("id" = i64, Path, description = "The conversation")),
    responses(
        (status = 200, description = "Muted", body = Muted),
        (status = 404, description = "No such conversation", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn mute(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
) -> ApiResult<axum::Json<Muted>> {
    set_muted(state, me.id, id, true).await
}

#[utoipa::path(
    post,
    path = "/api/chat/conversations/{id}/unmute",
    tag = "moderation",
    operation_id = "moderation_unmute",
    params(("id" = i64, Path, description = "The conversation")),
    responses(
        (status = 200, description = "No longer muted", body = Muted),
        (status = 404, description = "No such conversation", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn unmute(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
) -> ApiResult<axum::Json<Muted>> {
    set_muted(state, me.id, id, false).await
}

async fn set_muted(state: AppState, me: UserId, id: i64, muted: bool) -> ApiResult<axum::Json<Muted>> {
    state.notifications.set_muted(me, ConversationId(id), muted).await?;
    Ok(axum::Json(Muted { conversation_id: ConversationId(id), muted }))
}

#[utoipa::path(
    post,
    path = "/api/chat/messages/{id}/report",
    tag = "moderation",
    operation_id = "moderation_report",
    request_body = ReportBody,
    params(("id" = i64, Path, description = "The message")),
    responses(
        (status = 201, description = "The report", body = parlor_protocol::ReportView),
        (status = 404, description = "No such message", body = parlor_protocol::ErrorBody),
        (status = 409, description = "Already reported by the caller (`already_reported`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn report(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
    Json(body): Json<ReportBody>,
) -> ApiResult<(StatusCode, axum::Json<ReportView>)> {
    let report = state.moderation.report(me.id, MessageId(id), &body.reason).await?;
    Ok((StatusCode::CREATED, axum::Json(report_view(&report))))
}

#[utoipa::path(
    get,
    path = "/api/admin/reports",
    tag = "admin",
    operation_id = "moderation_reports",
    params(LimitParams),
    responses(
        (status = 200, description = "Reports, newest first (server admins only)", body = parlor_protocol::ReportList),
        (status = 400, description = "A query parameter has the wrong type (`invalid_body`) or breaks a rule (`validation_failed`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn reports(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Query(params): Query<LimitParams>,
) -> ApiResult<axum::Json<ReportList>> {
    let found = state.moderation.reports(&me, params.limit.unwrap_or(50).clamp(1, 500)).await?;
    Ok(axum::Json(ReportList { results: found.iter().map(report_view).collect() }))
}

#[utoipa::path(
    delete,
    path = "/api/admin/messages/{id}",
    tag = "admin",
    operation_id = "moderation_delete_message",
    params(("id" = i64, Path, description = "The message")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such message", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn delete_message(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    request: RequestId,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    state.moderation.server_admin_delete(&me, MessageId(id)).await?;
    state
        .audit
        .record(Record::new(Actor::User(me.id), "message.delete").target("message", id).request(Some(&request)))
        .await;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/admin/users/{id}/disable",
    tag = "admin",
    operation_id = "moderation_disable_user",
    params(("id" = i64, Path, description = "The user")),
    responses(
        (status = 200, description = "The disabled user", body = parlor_protocol::UserView),
        (status = 404, description = "No such user", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn disable_user(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    request: RequestId,
    Id(id): Id,
) -> ApiResult<axum::Json<UserView>> {
    let user = state.moderation.server_admin_set_disabled(&me, UserId(id), true).await?;
    state
        .audit
        .record(Record::new(Actor::User(me.id), "user.disable").target("user", id).request(Some(&request)))
        .await;
    Ok(axum::Json(UserView::from(&user)))
}

#[utoipa::path(
    post,
    path = "/api/admin/users/{id}/enable",
    tag = "admin",
    operation_id = "moderation_enable_user",
    params(("id" = i64, Path, description = "The user")),
    responses(
        (status = 200, description = "The enabled user", body = parlor_protocol::UserView),
        (status = 404, description = "No such user", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn enable_user(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    request: RequestId,
    Id(id): Id,
) -> ApiResult<axum::Json<UserView>> {
    let user = state.moderation.server_admin_set_disabled(&me, UserId(id), false).await?;
    state.audit.record(Record::new(Actor::User(me.id), "user.enable").target("user", id).request(Some(&request))).await;
    Ok(axum::Json(UserView::from(&user)))
}
