//! `/api/notifications/` (seed 002): the caller's notification inbox.

use axum::extract::State;
use parlor_protocol::NotificationView;
use parlor_store::{NotificationFilter, NotificationsToRead};
use serde::{Deserialize, Serialize};

use super::extract::{Id, Query};
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    #[serde(default)]
    before: Option<i64>,
    #[serde(default)]
    unread: Option<bool>,
    #[serde(default)]
    limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct NotificationPage {
    results: Vec<NotificationView>,
    unread_count: i64,
    /// Pass as `before` for the next (older) page; `null` at the end.
    next_before: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct UnreadNotifications {
    unread_count: i64,
}

#[utoipa::path(
    get,
    path = "/api/notifications",
    tag = "notifications",
    operation_id = "notifications_list",
    params(ListParams),
    responses(
        (status = 200, description = "A page of notifications, newest first", body = NotificationPage),
        (status = 400, description = "A query parameter has the wrong type (`invalid_body`) or breaks a rule (`validation_failed`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Query(params): Query<ListParams>,
) -> ApiResult<axum::Json<NotificationPage>> {
    let limit = params.limit.unwrap_or(50).clamp(1, 100);
    let filter = NotificationFilter { before: params.before, unread_only: params.unread.unwrap_or(false), limit };
    let (found, unread_count) = state.notifications.notifications(me.id, filter).await?;
    let next_before = (found.len() == limit as usize).then(|| found.last().map(|n| n.id)).flatten();
    let results = found.iter().map(NotificationView::from).collect();
    Ok(axum::Json(NotificationPage { results, unread_count, next_before }))
}

#[utoipa::path(
    get,
    path = "/api/notifications/unread_count",
    tag = "notifications",
    operation_id = "notifications_unread_count",
    responses(
        (status = 200, description = "Unread notifications", body = UnreadNotifications),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn unread_count(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> ApiResult<axum::Json<UnreadNotifications>> {
    Ok(axum::Json(UnreadNotifications { unread_count: state.notifications.unread_notifications(me.id).await? }))
}

#[utoipa::path(
    post,
    path = "/api/notifications/mark_all_read",
    tag = "notifications",
    operation_id = "notifications_mark_all_read",
    responses(
        (status = 200, description = "Unread notifications now (none)", body = UnreadNotifications),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn mark_all_read(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> ApiResult<axum::Json<UnreadNotifications>> {
    let unread_count = state.notifications.mark_notifications_read(me.id, NotificationsToRead::All).await?;
    Ok(axum::Json(UnreadNotifications { unread_count }))
}

/// Marking someone else's notification changes nothing and says so the same way.
#[utoipa::path(
    post,
    path = "/api/notifications/{id}/mark_read",
    tag = "notifications",
    operation_id = "notifications_mark_read",
    params(("id" = i64, Path, description = "The notification")),
    responses(
        (status = 200, description = "Unread notifications now", body = UnreadNotifications),
        (status = 404, description = "The id is not a number", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn mark_read(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
) -> ApiResult<axum::Json<UnreadNotifications>> {
    let unread_count = state.notifications.mark_notifications_read(me.id, NotificationsToRead::One(id)).await?;
    Ok(axum::Json(UnreadNotifications { unread_count }))
}
