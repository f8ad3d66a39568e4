//! The HTTP API: routes, and handlers that turn requests into service calls and results into
//! JSON. Paths work with and without a trailing slash (seed 001 uses the slash).

mod accounts;
mod attachments;
mod calls;
mod contacts;
mod conversations;
mod cors;
mod email;
mod exports;
pub(crate) mod extract;
mod messages;
mod moderation;
mod notification_settings;
mod notifications;
mod openapi;
mod privacy;
mod push;
mod request_id;
mod rooms;
mod search;
mod server_api;
mod users;

pub(crate) use attachments::receive_upload;
pub(crate) use extract::Id;
pub(crate) use request_id::RequestId;
pub(crate) use server_api::audited::{AuditNote, KeyUsed};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::routing::{get, post, put};
use tower_http::trace::TraceLayer;

use crate::gateway;
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    let body_limit = state.config.limits.max_body_bytes;
    // Uploads are checked byte for byte while streaming; this only bounds the rest of the form.
    let upload_limit = DefaultBodyLimit::max(
        usize::try_from(state.config.attachments.max_upload_bytes).unwrap_or(usize::MAX).saturating_add(1 << 20),
    );
    let parlor = Router::new()
        .route("/api/auth/register", post(accounts::register))
        .route("/api/auth/token", post(accounts::token))
        .route("/api/auth/refresh", post(accounts::refresh))
        .route("/api/auth/ws-ticket", post(accounts::ws_ticket))
        .route("/api/users/me", get(users::me).patch(users::update_me).delete(privacy::delete_me))
        .route("/api/users/me/export", post(exports::request))
        .route("/api/users/me/exports", get(exports::list))
        .route("/api/users/me/exports/{id}", get(exports::get_one))
        .route("/api/users/me/exports/{id}/download", get(exports::download))
        .route(
            "/api/users/me/notification-settings",
            get(notification_settings::get).patch(notification_settings::update),
        )
        .route("/api/chat/users", get(users::search))
        .route("/api/chat/users/{id}", get(users::get_one))
        .route("/api/chat/users/by-external/{external_id}", get(users::by_external))
        .route("/api/chat/users/{id}/status", get(users::status))
        .route("/api/chat/presence", get(users::presence))
        .route("/api/chat/conversations", get(conversations::list).post(conversations::open_direct))
        .route("/api/chat/conversations/{id}", get(conversations::get_one).patch(rooms::update))
        .route("/api/chat/conversations/{id}/messages", get(messages::history).post(messages::send))
        .route("/api/chat/conversations/{id}/mark_read", post(conversations::mark_read))
        .route("/api/chat/conversations/{id}/retention", put(privacy::set_retention))
        .route("/api/chat/conversations/{id}/receipts", get(conversations::receipts))
        .route("/api/chat/conversations/{id}/archive", post(rooms::archive))
        .route("/api/chat/conversations/{id}/unarchive", post(rooms::unarchive))
        .route("/api/chat/conversations/{id}/leave", post(rooms::leave))
        .route("/api/chat/conversations/{id}/members", post(rooms::add_members))
        .route(
            "/api/chat/conversations/{id}/members/{user_id}",
            axum::routing::delete(rooms::remove_member).patch(rooms::set_role),
        )
        .route("/api/chat/conversations/by-context/{kind}/{external_id}", put(rooms::by_context))
        .route("/api/chat/rooms", post(rooms::create))
        .route("/api/chat/conversations/{id}/attachments", post(attachments::upload).layer(upload_limit))
        .route("/api/chat/conversations/{id}/send-file", post(attachments::upload).layer(upload_limit))
        .route("/api/chat/attachments/{id}", get(attachments::download))
        .route("/api/chat/attachments/{id}/thumbnail", get(attachments::thumbnail))
        .route("/api/files/download/{id}", get(attachments::download_by_message))
        .route("/api/chat/limits", get(attachments::limits))
        .route("/api/chat/messages", post(messages::send_seed))
        .route("/api/chat/messages/{id}", get(messages::get_one).patch(messages::edit).delete(messages::delete))
        .route("/api/chat/messages/{id}/reactions", post(messages::react))
        .route("/api/chat/messages/{id}/forward", post(messages::forward))
        .route("/api/chat/messages/{id}/receipts", get(messages::receipts))
        .route("/api/connections", get(contacts::list).post(contacts::request))
        .route("/api/connections/{id}", axum::routing::delete(contacts::remove))
        .route("/api/connections/{id}/accept", post(contacts::accept))
        .route("/api/connections/{id}/decline", post(contacts::decline))
        .route("/api/connections/{id}/cancel", post(contacts::cancel))
        .route("/api/chat/unread-count", get(conversations::unread_count))
        .route("/api/chat/conversations/{id}/mute", post(moderation::mute))
        .route("/api/chat/conversations/{id}/unmute", post(moderation::unmute))
        .route("/api/chat/users/{id}/block", post(moderation::block).delete(moderation::unblock))
        .route("/api/chat/blocks", get(moderation::blocked))
        .route("/api/chat/messages/{id}/report", post(moderation::report))
        .route("/api/admin/reports", get(moderation::reports))
        .route("/api/admin/messages/{id}", axum::routing::delete(moderation::delete_message))
        .route("/api/admin/users/{id}/disable", post(moderation::disable_user))
        .route("/api/admin/users/{id}/enable", post(moderation::enable_user))
        .route("/api/calls/ice-servers", get(calls::ice_servers))
        .route("/api/notifications", get(notifications::list))
        .route("/api/notifications/unread_count", get(notifications::unread_count))
        .route("/api/notifications/mark_all_read", post(notifications::mark_all_read))
        .route("/api/notifications/{id}/mark_read", post(notifications::mark_read))
        .route("/api/email/unsubscribe", get(email::page).post(email::unsubscribe))
        .route("/api/push/config", get(push::config))
        .route("/api/push/subscriptions", get(push::list).post(push::subscribe))
        .route("/api/push/subscriptions/{id}", axum::routing::delete(push::unsubscribe))
        .route("/api/chat/search/messages", get(search::messages))
        .route("/api/chat/search/conversations", get(search::conversations))
        .route("/api/openapi.json", openapi::route())
        .merge(server_api::router(&state))
        .merge(crate::web::router(&state))
        .merge(crate::observability::router(&state))
        .route("/ws", get(gateway::unified))
        .route("/ws/chat/{id}", get(gateway::scoped))
        .route_layer(axum::middleware::from_fn(crate::observability::note_route));
    // The seeds' dialects (docs/compat.md), around parlor's routes; its fallback is the 404.
    crate::compat::mount(parlor, &state)
        .layer(axum::middleware::from_fn(request_id::assign))
        .layer(cors::layer(&state.config.http))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn_with_state(state.metrics.clone(), crate::observability::track_http))
        .layer(
            // Only the path is logged: query strings may carry `?token=`.
            TraceLayer::new_for_http().make_span_with(
                |req: &Request<_>| tracing::info_span!("request", method = %req.method(), path = %req.uri().path()),
            ),
        )
        .with_state(state)
}
