//! The seeds' sockets: seed 002's and 003's one socket per user at `/ws/chat/` (every
//! conversation; messages addressed by `receiver_id` or `conversation_id`), seed 004's socket
//! per conversation at `/ws/chat/{uuid}/` and its presence socket at `/ws/presence/`. Each is
//! one task, registered with the hub like parlor's own sockets (so its user is online and
//! receives every event), that turns the seed's frames into service calls and parlor's events
//! into the seed's frames (`frames.rs`). Handshakes are parlor's: origin, `?token=` or the
//! platform's session cookie, rate limits and the socket cap.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use parlor_core::{ConversationId, SessionId, User};
use tokio::time::Instant;

use super::Compat;
use super::frames::{Dialect, Session};
use super::ids::Kind;
use crate::bus::Mail;
use crate::error::ApiError;
use crate::gateway::heartbeat::{Beat, Heartbeat};
use crate::gateway::{Credentials, admit_handshake};
use crate::rate_limit::ClientIp;
use crate::state::AppState;

/// What a handshake brings: the client's address, headers, URI and query credentials.
pub struct Handshake {
    ip: IpAddr,
    headers: HeaderMap,
    uri: Uri,
    credentials: Credentials,
}

impl FromRequestParts<AppState> for Handshake {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, state).await;
        let Query(credentials) =
            Query::<Credentials>::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        Ok(Self { ip, headers: parts.headers.clone(), uri: parts.uri.clone(), credentials })
    }
}

impl Handshake {
    async fn admit(&self, state: &AppState) -> Result<(User, Option<SessionId>), ApiError> {
        admit_handshake(state, self.ip, &self.headers, &self.uri, &self.credentials).await
    }
}

/// `/ws/chat/`: seeds 002 and 003.
pub async fn unified(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    handshake: Handshake,
) -> Response {
    match handshake.admit(&state).await {
        Ok(admitted) => upgrade(ws, state, compat, admitted, Dialect::Unified),
        Err(e) => e.into_response(),
    }
}

/// `/ws/chat/{uuid}/`: seed 004's conversation socket.
pub async fn job_chat(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    Path(raw): Path<String>,
    handshake: Handshake,
) -> Response {
    let checked = async {
        let id = ConversationId(compat.parse_id(Kind::Conversation, &raw)?);
        let admitted = handshake.admit(&state).await?;
        state.conversations.ensure_member(admitted.0.id, id).await?;
        Ok::<_, ApiError>((admitted, id))
    };
    match checked.await {
        Ok((admitted, id)) => upgrade(ws, state, compat, admitted, Dialect::Job(id)),
        Err(e) => e.into_response(),
    }
}

/// `/ws/presence/`: seed 004's online and offline changes.
pub async fn presence(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    handshake: Handshake,
) -> Response {
    match handshake.admit(&state).await {
        Ok(admitted) => upgrade(ws, state, compat, admitted, Dialect::Presence),
        Err(e) => e.into_response(),
    }
}

/// `admitted`: the user and the session of their credential (closed when it is revoked).
fn upgrade(
    ws: WebSocketUpgrade,
    state: AppState,
    compat: Arc<Compat>,
    admitted: (User, Option<SessionId>),
    dialect: Dialect,
) -> Response {
    // Sized as parlor's own sockets: frames a little over the limit get an error frame, far over
    // it close the connection; a small read buffer.
    // One box, as parlor's own sockets do: axum's task keeps the closure as long as the socket.
    let arguments = Box::new((state, compat, admitted, dialect));
    crate::gateway::sized(ws, &arguments.0.config.limits).on_upgrade(move |socket| {
        let (state, compat, admitted, dialect) = *arguments;
        let tracker = state.connections.clone();
        tracker.track_future(run(socket, state, compat, admitted, dialect))
    })
}

const CLOSE_GOING_AWAY: u16 = 1001;
const CLOSE_SLOW_CONSUMER: u16 = 4008;
/// The account was disabled or the session revoked, as parlor's own sockets say it.
const CLOSE_ACCOUNT_DISABLED: u16 = 4003;

/// One seed socket's life: frames in, events out, a ping at a heartbeat's tick unless it was busy
/// both ways (`gateway/heartbeat.rs`), until either side goes or the server shuts down. Not an
/// `async fn`, which would keep its arguments twice for the socket's whole life (as parlor's
/// own sockets, `gateway/task_size.rs`).
#[expect(clippy::manual_async_fn, reason = "an async fn would hold its arguments twice")]
fn run(
    mut socket: WebSocket,
    state: AppState,
    compat: Arc<Compat>,
    admitted: (User, Option<SessionId>),
    dialect: Dialect,
) -> impl Future<Output = ()> + Send {
    async move {
        let (user, session) = admitted;
        let focus = match dialect {
            Dialect::Job(id) => id.0,
            _ => 0,
        };
        let (_guard, mailbox) = state.hub.register(user.id, session, focus);
        let shutdown = state.shutdown.clone();
        let heartbeat = Duration::from_secs(state.config.limits.heartbeat_secs);
        let ticker = tokio::time::sleep(heartbeat);
        tokio::pin!(ticker);
        let mut session = Session::new(state.clone(), compat, user, dialect);
        let mut beat = Heartbeat::default();
        let close = loop {
            let out: Vec<String> = tokio::select! {
                _ = shutdown.cancelled() => break Some((CLOSE_GOING_AWAY, "server shutting down")),
                () = mailbox.kicked() => break Some((CLOSE_ACCOUNT_DISABLED, "signed out or disabled")),
                incoming = socket.recv() => {
                    beat.heard();
                    match incoming {
                        Some(Ok(Message::Text(text))) => Box::pin(session.on_text(text.as_str())).await,
                        Some(Ok(Message::Binary(_))) => vec![session.error("send JSON text frames")],
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Vec::new(),
                        None | Some(Ok(Message::Close(_)) | Err(_)) => break None,
                    }
                }
                mail = mailbox.next() => match mail {
                    Mail::Event(event) => Box::pin(session.on_event(&event.frame)).await,
                    Mail::Dropped => break Some((CLOSE_SLOW_CONSUMER, "slow consumer: reconnect")),
                },
                () = &mut ticker => {
                    ticker.as_mut().reset(Instant::now() + heartbeat);
                    match beat.tick(true) {
                        Beat::Quiet => Vec::new(),
                        Beat::Dead => break None,
                        Beat::Ping => match tokio::time::timeout(heartbeat, socket.send(Message::Ping(Default::default()))).await {
                            Ok(Ok(())) => Vec::new(),
                            _ => break None,
                        },
                    }
                }
            };
            let mut gone = false;
            for frame in out {
                match tokio::time::timeout(heartbeat, socket.send(Message::Text(Utf8Bytes::from(frame)))).await {
                    Ok(Ok(())) => {
                        state.metrics.frame_out();
                        beat.said();
                    }
                    _ => gone = true,
                }
            }
            if gone {
                break None;
            }
        };
        if let Some((code, reason)) = close {
            let frame = CloseFrame { code, reason: Utf8Bytes::from_static(reason) };
            tokio::time::timeout(heartbeat, socket.send(Message::Close(Some(frame)))).await.ok();
        }
    }
}
