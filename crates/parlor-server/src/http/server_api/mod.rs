//! The server API: `/api/server/...`, called by the host platform's backend with its API key
//! (see [`crate::auth::ServerKey`]), never by end users.

pub(super) mod audit;
pub(crate) mod audited;
pub(super) mod operator;
pub(super) mod platform;
pub(super) mod privacy;
pub(super) mod transcripts;
pub(super) mod users;
pub(super) mod webhooks;

use axum::Router;
use axum::routing::{delete, get, patch, post, put};

use crate::state::AppState;

/// Every server API route, each call made with the key recorded in the audit log ([`audited`]).
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/api/server/users/{external_id}", put(users::upsert).get(users::get_one).delete(privacy::delete_user))
        .route("/api/server/users/{external_id}/unread", get(platform::unread))
        .route("/api/server/accounts", post(operator::create_account))
        .route("/api/server/accounts/by-username/{username}", get(operator::by_username))
        .route("/api/server/accounts/{id}", patch(platform::set_flags))
        .route("/api/server/accounts/{id}/tokens", post(operator::issue_token))
        .route("/api/server/connections", post(platform::connect))
        .route("/api/server/conversations/by-context/{kind}/{external_id}", put(platform::by_context))
        .route("/api/server/conversations/{id}", get(operator::conversation))
        .route("/api/server/conversations/{id}/messages", get(operator::messages))
        .route("/api/server/conversations/{id}/notices", post(platform::notice))
        .route("/api/server/conversations/{id}/legal-hold", put(privacy::hold).delete(privacy::release))
        .route("/api/server/conversations/{id}/members", post(platform::add_members))
        .route("/api/server/conversations/{id}/members/{external_id}", delete(platform::remove_member))
        .route("/api/server/backup", post(operator::backup))
        .route("/api/server/vacuum", post(operator::vacuum))
        .route("/api/server/webhooks", get(webhooks::list).post(webhooks::create))
        .route("/api/server/webhooks/{id}", delete(webhooks::delete))
        .route("/api/server/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route("/api/server/audit", get(audit::list))
        .route("/api/server/conversations/{id}/transcript", get(transcripts::transcript))
        .route("/api/server/transcript-key", get(transcripts::key))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), audited::record))
}
