//! Seed 000 (REST chat with files): a conversation created with the other user's id in the
//! path, text over `messages/`, files over `send-file/` with a caption, `mark-read/` and the
//! unread count, messages with `message_type`, `attachment` (its URL), `attachment_name`,
//! `attachment_size`, `is_read` and `created_at`.

use std::sync::Arc;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Extension, Json, Router};
use parlor_core::ConversationId;
use parlor_store::ReadUpTo;
use serde::{Deserialize, Serialize};

use super::Compat;
use super::ids::{Kind, RawId};
use super::shared;
use super::views::{SeedConversation, SeedMessage};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::rate_limit::{Bucket, Key};
use crate::service::SendInput;
use crate::state::AppState;

pub fn routes(router: Router<AppState>, upload_limit: DefaultBodyLimit) -> Router<AppState> {
    router
        .route("/api/chat/conversations/{id}/send-file", post(send_file).layer(upload_limit))
        .route("/api/chat/conversations/{id}/mark-read", post(mark_read))
        .route("/api/chat/unread-count", axum::routing::get(unread_count))
}

/// `POST /api/chat/conversations/<user_id>/`: the direct conversation with that user, 201 when
/// new, 200 when it existed.
pub async fn open_with(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
    Path(user): Path<String>,
) -> ApiResult<(StatusCode, Json<SeedConversation>)> {
    state.rate_limits.check(Bucket::Sends, Key::User(me.id)).await?;
    let other = compat.user_named(&state, &user).await?;
    let (overview, created) = state.conversations.open_direct(me.id, other.id).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(SeedConversation::of(&compat, false, me.id, &overview))))
}

#[derive(Deserialize)]
pub struct TextBody {
    #[serde(default)]
    content: Option<String>,
    /// Seed 002's name for the text.
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    reply_to: Option<RawId>,
}

/// `POST /api/chat/conversations/<id>/messages/` with `{"content": ...}`: 201 and the message.
pub async fn send_text(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
    Path(raw): Path<String>,
    crate::http::extract::Json(body): crate::http::extract::Json<TextBody>,
) -> ApiResult<(StatusCode, Json<SeedMessage>)> {
    let uuid = super::ids::uuid_shaped(&raw);
    let id = ConversationId(compat.parse_id(Kind::Conversation, &raw)?);
    state.rate_limits.check(Bucket::Sends, Key::User(me.id)).await?;
    let content = body.content.or(body.message).unwrap_or_default();
    let reply_to = match body.reply_to {
        Some(raw) => Some(parlor_core::MessageId(compat.parse_id(Kind::Message, &raw.text())?)),
        None => None,
    };
    let input = SendInput { content, reply_to, client_id: None, forwarded: false };
    let appended = state.messages.send(&me, id, input).await?;
    let message = appended.message().ok_or_else(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(shared::render_one(&state, &compat, uuid, &me, message).await?)))
}

/// `POST /api/chat/conversations/<id>/send-file/`: multipart `file` and an optional `caption`.
async fn send_file(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
    Path(raw): Path<String>,
    form: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<SeedMessage>)> {
    let id = ConversationId(compat.parse_id(Kind::Conversation, &raw)?);
    let appended = crate::http::receive_upload(&state, &me, id, form).await?;
    let message = appended.message().ok_or_else(ApiError::internal)?;
    let status = if appended.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(shared::render_one(&state, &compat, false, &me, message).await?)))
}

#[derive(Serialize)]
pub struct Marked {
    status: &'static str,
    unread_count: i64,
}

/// `POST /api/chat/conversations/<id>/mark-read/`: everything in it read.
async fn mark_read(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
    Path(raw): Path<String>,
) -> ApiResult<Json<Marked>> {
    let id = ConversationId(compat.parse_id(Kind::Conversation, &raw)?);
    state.rate_limits.check(Bucket::Sends, Key::User(me.id)).await?;
    let outcome = state.receipts.mark_read(me.id, id, ReadUpTo::Latest).await?;
    Ok(Json(Marked { status: "ok", unread_count: outcome.unread_count }))
}

#[derive(Serialize)]
pub struct UnreadCount {
    unread_count: i64,
    count: i64,
}

/// `GET /api/chat/unread-count/` (and seed 002's `unread_count/`): over every conversation.
pub async fn unread_count(State(state): State<AppState>, CurrentUser(me): CurrentUser) -> ApiResult<Json<UnreadCount>> {
    let total = state.receipts.unread_counts(me.id).await?.iter().map(|(_, n)| n).sum();
    Ok(Json(UnreadCount { unread_count: total, count: total }))
}
