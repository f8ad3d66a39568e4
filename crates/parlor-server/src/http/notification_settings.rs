//! `/api/users/me/notification-settings`: the caller's preferences for being reached while
//! away (Web Push, email, quiet hours). See docs/notifications.md.

use axum::extract::State;
use parlor_core::{EmailDelay, QuietHours};
use parlor_protocol::{NotificationSettingsPatch, NotificationSettingsView};

use super::extract::Json;
use crate::auth::CurrentUser;
use crate::away::SettingsChange;
use crate::error::ApiResult;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/api/users/me/notification-settings",
    tag = "users",
    operation_id = "notification_settings_get",
    responses(
        (status = 200, description = "The caller's notification preferences", body = NotificationSettingsView),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> ApiResult<axum::Json<NotificationSettingsView>> {
    let settings = state.away.settings(me.id).await?;
    Ok(axum::Json(NotificationSettingsView::from(&settings)))
}

#[utoipa::path(
    patch,
    path = "/api/users/me/notification-settings",
    tag = "users",
    operation_id = "notification_settings_update",
    request_body = NotificationSettingsPatch,
    responses(
        (status = 200, description = "The preferences as they are now", body = NotificationSettingsView),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Json(patch): Json<NotificationSettingsPatch>,
) -> ApiResult<axum::Json<NotificationSettingsView>> {
    let change = SettingsChange {
        push: patch.push,
        email: patch.email,
        email_delay_minutes: patch.email_delay_minutes.map(|d| d.map(EmailDelay::parse).transpose()).transpose()?,
        quiet_hours: patch
            .quiet_hours
            .map(|q| q.map(|q| QuietHours::parse(&q.start, &q.end, &q.time_zone)).transpose())
            .transpose()?,
    };
    let settings = state.away.change_settings(me.id, change).await?;
    Ok(axum::Json(NotificationSettingsView::from(&settings)))
}
