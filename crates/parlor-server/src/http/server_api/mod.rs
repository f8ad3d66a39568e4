//! The server API: `/api/server/...`, called by the host platform's backend with its API key
//! (see [`crate::auth::ServerKey`]), never by end users.

mod users;
mod webhooks;

use axum::Router;
use axum::routing::{delete, get, put};

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/server/users/{external_id}", put(users::upsert))
        .route("/api/server/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/api/server/webhooks/{id}", delete(webhooks::delete))
        .route("/api/server/webhooks/{id}/deliveries", get(webhooks::deliveries))
}
