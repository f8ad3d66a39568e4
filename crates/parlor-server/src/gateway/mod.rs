//! The WebSocket gateway: `/ws/` carries all of a user's conversations; `/ws/chat/{id}/` is the
//! same protocol scoped to one conversation, as seed 001 documents it. Both authenticate before
//! the upgrade (401/404 as JSON) and hand the socket to one task per connection.

mod connection;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use parlor_core::{ConversationId, User};
use serde::Deserialize;

use crate::auth::bearer_token;
use crate::error::{ApiError, ApiResult};
use crate::http::Id;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct TokenParam {
    #[serde(default)]
    token: Option<String>,
}

pub async fn unified(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<TokenParam>,
) -> Response {
    match authenticate(&state, &headers, q.token.as_deref()).await {
        Ok(user) => upgrade(ws, state, user, None),
        Err(e) => e.into_response(),
    }
}

pub async fn scoped(
    ws: WebSocketUpgrade,
    State(state): State<AppState>,
    headers: HeaderMap,
    Id(id): Id,
    Query(q): Query<TokenParam>,
) -> Response {
    let checked = async {
        let user = authenticate(&state, &headers, q.token.as_deref()).await?;
        state.chat.ensure_member(user.id, ConversationId(id)).await?;
        Ok::<_, ApiError>(user)
    };
    match checked.await {
        Ok(user) => upgrade(ws, state, user, Some(ConversationId(id))),
        Err(e) => e.into_response(),
    }
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
