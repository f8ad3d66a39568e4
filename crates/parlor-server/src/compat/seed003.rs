//! Seed 003 (one socket for everything, `socket.rs`): its REST calls besides the shared
//! conversation list and detail: `start_conversation/` and `{id}/add_message/`.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Extension, Json, Router};
use parlor_core::{ConversationId, MessageId};
use serde::Deserialize;

use super::Compat;
use super::ids::{Kind, RawId};
use super::shared::{self, ConversationDetail};
use super::views::SeedMessage;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::Json as Body;
use crate::rate_limit::{Bucket, Key};
use crate::service::SendInput;
use crate::state::AppState;

pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/api/chat/conversations/start_conversation", post(start))
        .route("/api/chat/conversations/{id}/add_message", post(add_message))
}

#[derive(Deserialize)]
struct StartBody {
    #[serde(default)]
    user_id: Option<RawId>,
    #[serde(default)]
    recipient_id: Option<RawId>,
    #[serde(default)]
    participant_id: Option<RawId>,
    /// A first message, sent with the start.
    #[serde(default)]
    message: Option<String>,
}

/// `POST /api/chat/conversations/start_conversation/` with the other user's id: the direct
/// conversation with them (201 when new, 200 when it existed), with its messages.
async fn start(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
    Body(body): Body<StartBody>,
) -> ApiResult<(StatusCode, Json<ConversationDetail>)> {
    state.rate_limits.check(Bucket::Sends, Key::User(me.id)).await?;
    let other = body.user_id.or(body.recipient_id).or(body.participant_id).ok_or_else(|| {
        ApiError::bad_request(parlor_protocol::ErrorCode::ValidationFailed, "`user_id` is required: who to talk to")
    })?;
    let other = compat.user_named(&state, &other.text()).await?;
    let (overview, created) = state.chat.open_direct(me.id, other.id).await?;
    let id = overview.conversation.id;
    if let Some(text) = body.message.filter(|t| !t.trim().is_empty()) {
        let input = SendInput { content: text, reply_to: None, client_id: None, forwarded: false };
        state.chat.send(&me, id, input).await?;
    }
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(shared::detail(&state, &compat, false, &me, id).await?)))
}

#[derive(Deserialize)]
struct AddBody {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    reply_to: Option<RawId>,
}

/// `POST /api/chat/conversations/{id}/add_message/`: 201 and the message.
async fn add_message(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
    Path(raw): Path<String>,
    Body(body): Body<AddBody>,
) -> ApiResult<(StatusCode, Json<SeedMessage>)> {
    let id = ConversationId(compat.parse_id(Kind::Conversation, &raw)?);
    state.rate_limits.check(Bucket::Sends, Key::User(me.id)).await?;
    let reply_to = match body.reply_to {
        Some(r) => Some(MessageId(compat.parse_id(Kind::Message, &r.text())?)),
        None => None,
    };
    let content = body.content.or(body.message).unwrap_or_default();
    let appended = state.chat.send(&me, id, SendInput { content, reply_to, client_id: None, forwarded: false }).await?;
    let message = appended.message().ok_or_else(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(shared::render_one(&state, &compat, false, &me, message).await?)))
}
