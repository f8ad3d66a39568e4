//! The WebSocket gateway: `/ws/` carries all of a user's conversations; `/ws/chat/{id}/` is the
//! same protocol scoped to one conversation, as seed 001 documents it. Both check the origin and
//! the credentials before the upgrade (`handshake.rs`; 401/403/404 as JSON; 429 over a rate
//! limit or the per-user socket cap) and hand the socket to one task per connection.
//!
//! An idle connection costs little more than its task, so the task is kept small
//! (docs/benchmarks.md; its size is checked by `task_size.rs`): frame handlers are boxed while
//! they run, the task is built by a plain function, and the socket reads into 1 KiB.

mod connection;
mod handshake;
pub(crate) mod heartbeat;
#[cfg(test)]
mod task_size;

use std::net::IpAddr;
use std::time::Duration;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use parlor_core::{ConversationId, SessionId, User};

use crate::config::Limits;
use crate::error::{ApiError, ApiResult};
use crate::http::Id;
use crate::rate_limit::{Bucket, ClientIp, Key};
use crate::state::AppState;
pub(crate) use handshake::Credentials;

pub async fn unified(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    uri: Uri,
    Query(credentials): Query<Credentials>,
) -> Response {
    let checked = async {
        handshake::check_origin(&headers, &uri, &state.config.websocket)?;
        admit(&state, ip, &headers, &credentials).await
    };
    match checked.await {
        Ok((user, session)) => upgrade(ws, state, user, session, None),
        Err(e) => e.into_response(),
    }
}

pub async fn scoped(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    uri: Uri,
    Id(id): Id,
    Query(credentials): Query<Credentials>,
) -> Response {
    let checked = async {
        handshake::check_origin(&headers, &uri, &state.config.websocket)?;
        let (user, session) = admit(&state, ip, &headers, &credentials).await?;
        state.conversations.ensure_member(user.id, ConversationId(id)).await?;
        Ok::<_, ApiError>((user, session))
    };
    match checked.await {
        Ok((user, session)) => upgrade(ws, state, user, session, Some(ConversationId(id))),
        Err(e) => e.into_response(),
    }
}

/// The whole check before an upgrade (origin, credentials, rate limits, the socket cap), for
/// sockets of other dialects (`crate::compat`).
pub(crate) async fn admit_handshake(
    state: &AppState,
    ip: IpAddr,
    headers: &HeaderMap,
    uri: &Uri,
    credentials: &Credentials,
) -> ApiResult<(User, Option<SessionId>)> {
    handshake::check_origin(headers, uri, &state.config.websocket)?;
    admit(state, ip, headers, credentials).await
}

/// Authenticates a handshake and applies the rate limits and the per-user socket cap, all
/// before upgrading: failures count against the client's address, successes against the user.
async fn admit(
    state: &AppState,
    ip: IpAddr,
    headers: &HeaderMap,
    credentials: &Credentials,
) -> ApiResult<(User, Option<SessionId>)> {
    let (user, session) = match handshake::authenticate(state, headers, credentials).await {
        Ok(admitted) => admitted,
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
    Ok((user, session))
}

fn upgrade(
    ws: WebSocketUpgrade,
    state: AppState,
    user: User,
    session: Option<SessionId>,
    scope: Option<ConversationId>,
) -> Response {
    // One box for what the task needs: axum's task keeps the closure for its whole life, and the
    // box is freed once the connection starts (8 bytes kept instead of ~200).
    let arguments = Box::new((state, user, session, scope));
    sized(ws, &arguments.0.config.limits).on_upgrade(move |socket| {
        let (state, user, session, scope) = *arguments;
        let tracker = state.connections.clone();
        tracker.track_future(connection::run(socket, state, user, session, scope))
    })
}

/// Frames a connection gathers into one `write` under load: ~20 events. A connection keeps a
/// buffer this large once a burst filled it, so it is small.
const WRITE_GATHER_BYTES: usize = 8 * 1024;

/// The transport's sizes, for every socket (parlor's and the seeds'). tungstenite's defaults
/// would give each a 128 KiB read buffer and accept 64 MiB messages.
pub(crate) fn sized(ws: WebSocketUpgrade, limits: &Limits) -> WebSocketUpgrade {
    // Up to 4x the frame limit is read, so that frames just over it can be answered with an
    // error event; beyond that the connection closes with 1009.
    let hard_limit = limits.max_frame_bytes.saturating_mul(4);
    // 1 KiB holds a typical frame in one read; larger frames take a few reads (rare), and an
    // idle connection is a few KiB cheaper (see docs/benchmarks.md, idle connections). Frames
    // fed without a flush gather in the write buffer up to WRITE_GATHER_BYTES, then go out in
    // one `write` (the connection flushes once its mailbox is empty: `connection.rs`).
    ws.read_buffer_size(1024)
        .write_buffer_size(WRITE_GATHER_BYTES)
        .max_write_buffer_size(limits.max_frame_bytes.saturating_mul(8).max(1 << 20))
        .max_message_size(hard_limit)
        .max_frame_size(hard_limit)
}
