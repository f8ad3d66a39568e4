//! What operators watch: `/healthz` (the process serves), `/readyz` (parlor can do its job; 503
//! from the moment shutdown begins), `/metrics` (Prometheus, optionally behind a bearer token),
//! the per-request HTTP counter, and the log format. See docs/operations.md.

mod health;
mod histogram;
mod logs;
mod metrics;

pub use health::Health;
pub use logs::init_logging;
pub use metrics::{BusMetrics, EmailMetrics, Metrics, PushMetrics};

use axum::extract::{MatchedPath, Request, State};
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::auth::bearer_token;
use crate::error::ApiError;
use crate::state::AppState;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

pub fn router(state: &AppState) -> Router<AppState> {
    let router = Router::new().route("/healthz", get(|| async { "ok" })).route("/readyz", get(readyz));
    if state.config.observability.metrics { router.route("/metrics", get(metrics)) } else { router }
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.health.check(&state.metrics).await {
        Ok(()) => Json(json!({"status": "ready"})).into_response(),
        Err(reasons) => {
            let body = Json(json!({"status": "not_ready", "reasons": reasons}));
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, body).into_response()
        }
    }
}

async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(expected) = state.config.observability.metrics_token.get() {
        let given = bearer_token(&headers).ok_or_else(|| {
            ApiError::unauthorized("missing credentials: send `Authorization: Bearer <metrics_token>`")
        })?;
        // Hashing first makes the comparison constant-time in the token's length too.
        let matches: bool = Sha256::digest(given.as_bytes()).ct_eq(&Sha256::digest(expected.as_bytes())).into();
        if !matches {
            return Err(ApiError::unauthorized("invalid metrics token"));
        }
    }
    let body = state.metrics.render(&state.hub).map_err(|_| ApiError::internal())?;
    Ok(([(CONTENT_TYPE, OPENMETRICS)], body).into_response())
}

/// Counts every HTTP request by its route template and status class, and times history pages.
/// The answer's body is ready when `next` returns (handlers answer with buffered JSON), so the
/// time covers routing, authentication, the service and serialization, not the socket's write.
pub async fn track_http(State(metrics): State<Metrics>, req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let method = req.method().clone();
    let response = next.run(req).await;
    // A router behind another (`compat::mount` dispatches to two) notes its match in the answer.
    let route = response.extensions().get::<MatchedPath>().cloned().or(route);
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    metrics.http_request(&method, route, response.status().as_u16(), started.elapsed());
    response
}

/// Copies the route template a router matched into its answer, for `track_http` outside it.
pub async fn note_route(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().cloned();
    let mut response = next.run(req).await;
    if let Some(route) = route {
        response.extensions_mut().insert(route);
    }
    response
}
