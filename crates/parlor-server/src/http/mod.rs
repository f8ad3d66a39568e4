//! The HTTP API: routes, and handlers that turn requests into service calls and results into
//! JSON. Paths work with and without a trailing slash (seed 001 uses the slash).

mod accounts;
mod conversations;
mod extract;
mod messages;
mod users;

pub(crate) use extract::Id;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::routing::{get, post};
use tower_http::trace::TraceLayer;

use crate::error::ApiError;
use crate::gateway;
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let body_limit = state.config.limits.max_body_bytes;
    Router::new()
        .route("/api/auth/register", post(accounts::register))
        .route("/api/auth/token", post(accounts::token))
        .route("/api/auth/refresh", post(accounts::refresh))
        .route("/api/users/me", get(users::me).patch(users::update_me))
        .route("/api/chat/users", get(users::search))
        .route("/api/chat/users/{id}", get(users::get_one))
        .route("/api/chat/conversations", get(conversations::list).post(conversations::open_direct))
        .route("/api/chat/conversations/{id}", get(conversations::get_one))
        .route("/api/chat/conversations/{id}/messages", get(messages::history).post(messages::send))
        .route("/api/chat/conversations/{id}/mark_read", post(conversations::mark_read))
        .route("/api/chat/messages", post(messages::send_seed))
        .route("/api/chat/messages/{id}", get(messages::get_one))
        .route("/api/chat/unread-count", get(conversations::unread_count))
        .route("/healthz", get(|| async { "ok" }))
        .route("/ws", get(gateway::unified))
        .route("/ws/chat/{id}", get(gateway::scoped))
        .fallback(|| async { ApiError::not_found("route") })
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(
            // Only the path is logged: query strings may carry `?token=`.
            TraceLayer::new_for_http().make_span_with(
                |req: &Request<_>| tracing::info_span!("request", method = %req.method(), path = %req.uri().path()),
            ),
        )
        .with_state(state)
}
