//! The server API: `/api/server/...`, called by the host platform's backend with its API key
//! (see [`crate::auth::ServerKey`]), never by end users.

mod users;

use axum::Router;
use axum::routing::put;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/server/users/{external_id}", put(users::upsert))
}
