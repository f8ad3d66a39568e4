//! `/api/push/...`: Web Push for the caller's browsers: the server's VAPID key and the
//! subscriptions they registered. 404 throughout when `push.enabled = false`.

use axum::extract::State;
use axum::http::StatusCode;
use parlor_protocol::{PushConfigView, PushSubscriptionList, PushSubscriptionRequest, PushSubscriptionView};
use parlor_store::PushSubscription;

use super::extract::{Id, Json};
use crate::auth::CurrentUser;
use crate::away::push::Push;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

fn push(state: &AppState) -> ApiResult<&Push> {
    state.push.as_ref().ok_or_else(|| ApiError::not_found("push"))
}

fn view(s: &PushSubscription) -> PushSubscriptionView {
    PushSubscriptionView { id: s.id, endpoint: s.endpoint.clone(), created_at: s.created_at }
}

#[utoipa::path(
    get,
    path = "/api/push/config",
    tag = "push",
    operation_id = "push_config",
    responses(
        (status = 200, description = "The server's VAPID public key", body = PushConfigView),
        (status = 404, description = "Web Push is off on this server", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn config(
    State(state): State<AppState>,
    CurrentUser(_me): CurrentUser,
) -> ApiResult<axum::Json<PushConfigView>> {
    Ok(axum::Json(PushConfigView { vapid_public_key: push(&state)?.public_key().to_owned() }))
}

#[utoipa::path(
    post,
    path = "/api/push/subscriptions",
    tag = "push",
    operation_id = "push_subscribe",
    request_body = PushSubscriptionRequest,
    responses(
        (status = 201, description = "Registered (replacing any subscription with the same endpoint)", body = PushSubscriptionView),
        (status = 404, description = "Web Push is off on this server", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn subscribe(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Json(body): Json<PushSubscriptionRequest>,
) -> ApiResult<(StatusCode, axum::Json<PushSubscriptionView>)> {
    let created = push(&state)?.subscribe(me.id, &body.endpoint, &body.keys.p256dh, &body.keys.auth).await?;
    Ok((StatusCode::CREATED, axum::Json(view(&created))))
}

#[utoipa::path(
    get,
    path = "/api/push/subscriptions",
    tag = "push",
    operation_id = "push_subscriptions",
    responses(
        (status = 200, description = "The caller's subscriptions, oldest first", body = PushSubscriptionList),
        (status = 404, description = "Web Push is off on this server", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> ApiResult<axum::Json<PushSubscriptionList>> {
    let found = push(&state)?.subscriptions(me.id).await?;
    Ok(axum::Json(PushSubscriptionList { results: found.iter().map(view).collect() }))
}

#[utoipa::path(
    delete,
    path = "/api/push/subscriptions/{id}",
    tag = "push",
    operation_id = "push_unsubscribe",
    params(("id" = i64, Path, description = "The subscription")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such subscription of yours (or Web Push is off)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn unsubscribe(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    push(&state)?.unsubscribe(me.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
