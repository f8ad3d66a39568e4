//! Webhook endpoints over the server API: `POST`/`GET /api/server/webhooks`,
//! `DELETE /api/server/webhooks/{id}`, `GET /api/server/webhooks/{id}/deliveries?limit=`.

use axum::extract::State;
use axum::http::StatusCode;
use parlor_core::{Delivery, Webhook, WebhookId};
use parlor_protocol::{CreateWebhookRequest, DeliveryList, DeliveryView, WebhookList, WebhookView};

use serde::Deserialize;

use crate::auth::ServerKey;
use crate::error::ApiResult;
use crate::http::extract::{Id, Json, Query};
use crate::state::AppState;

fn view(hook: &Webhook) -> WebhookView {
    WebhookView {
        id: hook.id,
        url: hook.url.clone(),
        events: hook.events.as_ref().map(|types| types.iter().map(|t| t.as_str()).collect()),
        created_at: hook.created_at,
        secret: None,
    }
}

fn delivery_view(d: &Delivery) -> DeliveryView {
    DeliveryView {
        id: d.id,
        event_id: d.outbox_id.to_string(),
        event_type: d.event_type.clone(),
        attempt: d.attempt,
        ok: d.status.is_some_and(|s| (200..300).contains(&s)),
        status: d.status,
        error: d.error.clone(),
        duration_ms: d.duration_ms,
        at: d.at,
    }
}

/// 201 with the endpoint and, this once, its secret.
#[utoipa::path(
    post,
    path = "/api/server/webhooks",
    tag = "server",
    operation_id = "server_webhooks_create",
    request_body = parlor_protocol::CreateWebhookRequest,
    responses(
        (status = 201, description = "The endpoint, with its secret shown this once", body = parlor_protocol::WebhookView),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn create(
    State(state): State<AppState>,
    _: ServerKey,
    Json(body): Json<CreateWebhookRequest>,
) -> ApiResult<(StatusCode, axum::Json<WebhookView>)> {
    let hook = state.webhooks.create(&body.url, body.events.as_deref(), body.secret.as_deref()).await?;
    let shown = WebhookView { secret: Some(hook.secret.as_str().to_owned()), ..view(&hook) };
    Ok((StatusCode::CREATED, axum::Json(shown)))
}

#[utoipa::path(
    get,
    path = "/api/server/webhooks",
    tag = "server",
    operation_id = "server_webhooks_list",
    responses(
        (status = 200, description = "The endpoints", body = parlor_protocol::WebhookList),
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn list(State(state): State<AppState>, _: ServerKey) -> ApiResult<axum::Json<WebhookList>> {
    let hooks = state.webhooks.list().await?;
    Ok(axum::Json(WebhookList { results: hooks.iter().map(view).collect() }))
}

#[utoipa::path(
    delete,
    path = "/api/server/webhooks/{id}",
    tag = "server",
    operation_id = "server_webhooks_delete",
    params(("id" = i64, Path, description = "The webhook endpoint")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such endpoint", body = parlor_protocol::ErrorBody),
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn delete(State(state): State<AppState>, _: ServerKey, Id(id): Id) -> ApiResult<StatusCode> {
    state.webhooks.delete(WebhookId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    limit: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/api/server/webhooks/{id}/deliveries",
    tag = "server",
    operation_id = "server_webhooks_deliveries",
    params(("id" = i64, Path, description = "The webhook endpoint"), LogParams),
    responses(
        (status = 200, description = "Delivery attempts, newest first", body = parlor_protocol::DeliveryList),
        (status = 400, description = "A query parameter has the wrong type (`invalid_body`) or breaks a rule (`validation_failed`)", body = parlor_protocol::ErrorBody),
        (status = 404, description = "No such endpoint", body = parlor_protocol::ErrorBody),
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn deliveries(
    State(state): State<AppState>,
    _: ServerKey,
    Id(id): Id,
    Query(params): Query<LogParams>,
) -> ApiResult<axum::Json<DeliveryList>> {
    let log = state.webhooks.deliveries(WebhookId(id), params.limit).await?;
    Ok(axum::Json(DeliveryList { results: log.iter().map(delivery_view).collect() }))
}
