//! The WebSocket gateway: `/ws/` carries all of a user's conversations; `/ws/chat/{id}/` is the
//! same protocol scoped to one conversation, as seed 001 documents it. Both authenticate before
//! the upgrade (401/404 as JSON; 429 over a rate limit or the per-user socket cap) and hand
//! the socket to one task per connection.

mod connection;

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use parlor_core::{ConversationId, User};
use serde::Deserialize;

use crate::auth::bearer_token;
use crate::error::{ApiError, ApiResult};
use crate::http::Id;
use crate::rate_limit::{Bucket, ClientIp, Key};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct TokenParam {
    #[serde(default)]
    token: Option<String>,
}

pub async fn unified(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Query(q): Query<TokenParam>,
) -> Response {
    match admit(&state, ip, &headers, q.token.as_deref()).await {
        Ok(user) => upgrade(ws, state, user, None),
        Err(e) => e.into_response(),
    }
}

pub async fn scoped(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Id(id): Id,
    Query(q): Query<TokenParam>,
) -> Response {
    let checked = async {
        let user = admit(&state, ip, &headers, q.token.as_deref()).await?;
        state.chat.ensure_member(user.id, ConversationId(id)).await?;
        Ok::<_, ApiError>(user)
    };
    match checked.await {
        Ok(user) => upgrade(ws, state, user, Some(ConversationId(id))),
        Err(e) => e.into_response(),
    }
}

/// Authenticates a handshake and applies the rate limits and the per-user socket cap, all
/// before upgrading: failures count against the client's address, successes against the user.
async fn admit(state: &AppState, ip: IpAddr, headers: &HeaderMap, query_token: Option<&str>) -> ApiResult<User> {
    let user = match authenticate(state, headers, query_token).await {
        Ok(user) => user,
        Err(e) => {
            state.rate_limits.check(Bucket::FailedConnects, Key::Ip(ip)).await?;
            return Err(e);
        }
    };
    state.rate_limits.check(Bucket::Connects, Key::User(user.id)).await?;
    // Checked before the upgrade, so a burst of simultaneous handshakes may pass it together;
    // the `connects` bucket bounds how many.
    let stale_found_within = Duration::from_secs(state.config.limits.heartbeat_secs);
    state.rate_limits.check_connections(state.hub.connections_of(user.id), stale_found_within)?;
    Ok(user)
}

async fn authenticate(state: &AppState, headers: &HeaderMap, query_token: Option<&str>) -> ApiResult<User> {
    let token = query_token
        .filter(|t| !t.is_empty())
        .or_else(|| bearer_token(headers))
        .ok_or_else(|| ApiError::unauthorized("missing credentials: pass `?token=` or `Authorization: Bearer`"))?;
    state.tokens.authenticate(token).await
}

fn upgrade(ws: WebSocketUpgrade, state: AppState, user: User, scope: Option<ConversationId>) -> Response {
    let limits = &state.config.limits;
    // The transport accepts up to 4x the frame limit so that frames just over it can be answered
    // with an error event; beyond that the connection closes with 1009.
    let hard_limit = limits.max_frame_bytes.saturating_mul(4);
    ws.read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(limits.max_frame_bytes.saturating_mul(8).max(1 << 20))
        .max_message_size(hard_limit)
        .max_frame_size(hard_limit)
        .on_upgrade(move |socket| {
            let tracker = state.connections.clone();
            tracker.track_future(connection::run(socket, state, user, scope))
        })
}
