//! Seed 002 (DRF ChatViewSet: messages addressed by receiver, edit, delete, reply, files,
//! rooms): `GET /api/chat/` (the newest messages across the user's conversations), `POST
//! /api/chat/` (to a `receiver`, JSON or multipart with a `file`), `history/?user_id=`, a global
//! `mark_read/`, `{id}/edit_message/`, `{id}/delete_message/`, `unread_count/` and `GET
//! /api/rooms/`. Its socket frames are `socket.rs`'s.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::routing::{delete, get, patch, post};
use axum::{Extension, Json, Router};
use futures_util::TryStreamExt;
use parlor_core::{ConversationId, ConversationKind, MessageId, User};
use parlor_protocol::ErrorCode;
use parlor_store::{ConversationFilter, ReadUpTo};
use serde::{Deserialize, Serialize};

use super::Compat;
use super::ids::{Kind, RawId};
use super::shared;
use super::views::{Page, SeedMessage, SeedUser};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Query, optional_json};
use crate::rate_limit::{Bucket, Key};
use crate::service::{ReceivedFile, SendInput};
use crate::state::AppState;

pub fn routes(router: Router<AppState>, upload_limit: DefaultBodyLimit) -> Router<AppState> {
    router
        .route("/api/chat", get(shared::recent_messages).merge(post(send).layer(upload_limit)))
        .route("/api/chat/history", get(history))
        .route("/api/chat/mark_read", post(mark_read))
        .route("/api/chat/{id}/edit_message", patch(edit))
        .route("/api/chat/{id}/delete_message", delete(remove))
        .route("/api/chat/unread_count", get(super::seed000::unread_count))
        .route("/api/rooms", get(rooms))
}

#[derive(Deserialize, Default)]
struct SendBody {
    #[serde(default)]
    receiver: Option<RawId>,
    #[serde(default)]
    receiver_id: Option<RawId>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    reply_to: Option<RawId>,
    #[serde(default)]
    reply_to_id: Option<RawId>,
}

/// The direct conversation with the user a seed's client addresses.
pub(super) async fn with_receiver(
    state: &AppState,
    compat: &Compat,
    me: &User,
    raw: &str,
) -> ApiResult<ConversationId> {
    let other = compat.user_named(state, raw).await?;
    Ok(state.conversations.open_direct(me.id, other.id).await?.0.conversation.id)
}

/// `POST /api/chat/`: to `receiver` (or `receiver_id`), JSON or multipart (`file`; the text
/// is its caption). Multipart names the receiver before the file, as a `FormData` built in
/// that order does.
async fn send(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
    request: Request,
) -> ApiResult<(StatusCode, Json<SeedMessage>)> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let appended = if multipart {
        let form = Multipart::from_request(request, &state).await.map_err(|e| {
            ApiError::new(crate::error::Kind::of_status(e.status()), ErrorCode::InvalidBody, e.body_text())
        })?;
        send_form(&state, &compat, &me, form).await?
    } else {
        state.rate_limits.check(Bucket::Sends, Key::User(me.id)).await?;
        let bytes = axum::body::to_bytes(request.into_body(), state.config.limits.max_body_bytes)
            .await
            .map_err(|_| ApiError::new(crate::error::Kind::TooLarge, ErrorCode::PayloadTooLarge, "body too large"))?;
        let body: SendBody = optional_json(&bytes)?;
        let receiver = body.receiver.as_ref().or(body.receiver_id.as_ref()).map(RawId::text).ok_or_else(|| {
            ApiError::bad_request(ErrorCode::ValidationFailed, "`receiver` is required: the user to send to")
        })?;
        let id = with_receiver(&state, &compat, &me, &receiver).await?;
        let content = body.message.or(body.content).unwrap_or_default();
        let reply_to = match body.reply_to.or(body.reply_to_id) {
            Some(raw) => Some(MessageId(compat.parse_id(Kind::Message, &raw.text())?)),
            None => None,
        };
        state.messages.send(&me, id, SendInput { content, reply_to, client_id: None, forwarded: false }).await?
    };
    let message = appended.message().ok_or_else(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(shared::render_one(&state, &compat, false, &me, message).await?)))
}

async fn send_form(
    state: &AppState,
    compat: &Compat,
    me: &User,
    mut form: Multipart,
) -> ApiResult<parlor_store::Appended> {
    state.rate_limits.check(Bucket::Uploads, Key::User(me.id)).await?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        ApiError::new(
            crate::error::Kind::of_status(e.status()),
            ErrorCode::InvalidBody,
            format!("multipart: {}", e.body_text()),
        )
    };
    let (mut receiver, mut text, mut file): (Option<String>, Option<String>, Option<(ConversationId, ReceivedFile)>) =
        (None, None, None);
    let outcome = async {
        while let Some(field) = form.next_field().await.map_err(bad)? {
            match field.name() {
                Some("receiver" | "receiver_id") => receiver = Some(field.text().await.map_err(bad)?),
                Some("message" | "content" | "caption") => text = Some(field.text().await.map_err(bad)?),
                Some("file") if file.is_none() => {
                    let Some(to) = receiver.as_deref() else {
                        return Err(ApiError::bad_request(
                            ErrorCode::ValidationFailed,
                            "send `receiver` before `file`",
                        ));
                    };
                    let id = with_receiver(state, compat, me, to).await?;
                    let name = field.file_name().map(str::to_owned);
                    let chunks = field.map_err(bad);
                    file = Some((id, state.attachments.receive_file(id, name.as_deref(), Box::pin(chunks)).await?));
                }
                _ => drop(field.bytes().await.map_err(bad)?),
            }
        }
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        if let Some((_, file)) = file {
            state.attachments.discard_received(file).await;
        }
        return Err(e);
    }
    match (file, receiver) {
        (Some((id, file)), _) => state.attachments.send_attachment(me, id, file, text, None, false).await,
        (None, Some(to)) => {
            let id = with_receiver(state, compat, me, &to).await?;
            let input =
                SendInput { content: text.unwrap_or_default(), reply_to: None, client_id: None, forwarded: false };
            state.messages.send(me, id, input).await
        }
        (None, None) => Err(ApiError::bad_request(ErrorCode::ValidationFailed, "`receiver` is required")),
    }
}

#[derive(Deserialize)]
struct HistoryParams {
    user_id: String,
    #[serde(default)]
    before: Option<i64>,
    #[serde(default)]
    limit: Option<u32>,
}

/// `GET /api/chat/history/?user_id=X`: the direct conversation with X, oldest first.
async fn history(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
    Query(p): Query<HistoryParams>,
) -> ApiResult<Json<Page<SeedMessage>>> {
    let id = with_receiver(&state, &compat, &me, &p.user_id).await?;
    let (mut page, has_more) = state.messages.history(me.id, id, p.before.map(parlor_core::Seq), p.limit).await?;
    page.reverse();
    let next = page
        .first()
        .filter(|_| has_more)
        .map(|m| format!("/api/chat/history/?user_id={}&before={}", p.user_id, m.seq.0));
    Ok(Json(Page::of(shared::render(&state, &compat, false, &me, id, &page).await?, next)))
}

#[derive(Deserialize, Default)]
struct MarkReadBody {
    #[serde(default)]
    message_ids: Vec<RawId>,
    #[serde(default)]
    user_id: Option<RawId>,
    #[serde(default)]
    sender_id: Option<RawId>,
}

#[derive(Serialize)]
struct MarkedRead {
    status: &'static str,
    unread_count: i64,
}

/// `POST /api/chat/mark_read/`: `message_ids`, or everything from `user_id` (or
/// `sender_id`), or with no body everything.
async fn mark_read(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
    body: axum::body::Bytes,
) -> ApiResult<Json<MarkedRead>> {
    state.rate_limits.check(Bucket::Sends, Key::User(me.id)).await?;
    let body: MarkReadBody = optional_json(&body)?;
    if !body.message_ids.is_empty() {
        mark_messages(&state, &compat, &me, &body.message_ids).await?;
    } else if let Some(from) = body.user_id.as_ref().or(body.sender_id.as_ref()).map(RawId::text) {
        let id = with_receiver(&state, &compat, &me, &from).await?;
        state.receipts.mark_read(me.id, id, ReadUpTo::Latest).await?;
    } else {
        for (id, _) in state.receipts.unread_counts(me.id).await? {
            state.receipts.mark_read(me.id, id, ReadUpTo::Latest).await?;
        }
    }
    let unread_count = state.receipts.unread_counts(me.id).await?.iter().map(|(_, n)| n).sum();
    Ok(Json(MarkedRead { status: "ok", unread_count }))
}

/// Marks the named messages read, conversation by conversation.
pub(super) async fn mark_messages(state: &AppState, compat: &Compat, me: &User, ids: &[RawId]) -> ApiResult<()> {
    let mut by_conversation: std::collections::BTreeMap<ConversationId, Vec<MessageId>> = Default::default();
    for raw in ids {
        let id = MessageId(compat.parse_id(Kind::Message, &raw.text())?);
        let message = state.conversations.message(me.id, id).await?;
        by_conversation.entry(message.conversation_id).or_default().push(id);
    }
    for (conversation, ids) in by_conversation {
        state.receipts.mark_read(me.id, conversation, ReadUpTo::Messages(ids)).await?;
    }
    Ok(())
}

#[derive(Deserialize)]
struct EditBody {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    content: Option<String>,
}

/// `PATCH /api/chat/{id}/edit_message/` with `{"message": ...}`: the sender only.
async fn edit(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
    Path(raw): Path<String>,
    crate::http::extract::Json(body): crate::http::extract::Json<EditBody>,
) -> ApiResult<Json<SeedMessage>> {
    let id = MessageId(compat.parse_id(Kind::Message, &raw)?);
    state.rate_limits.check(Bucket::Sends, Key::User(me.id)).await?;
    let content = body.message.or(body.content).unwrap_or_default();
    state.messages.edit(me.id, id, content).await?;
    let message = state.conversations.message(me.id, id).await?;
    Ok(Json(shared::render_one(&state, &compat, false, &me, &message).await?))
}

/// `DELETE /api/chat/{id}/delete_message/`: a soft delete; 204.
async fn remove(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
    Path(raw): Path<String>,
) -> ApiResult<StatusCode> {
    let id = MessageId(compat.parse_id(Kind::Message, &raw)?);
    state.rate_limits.check(Bucket::Sends, Key::User(me.id)).await?;
    state.messages.delete(me.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A group chat as seed 002's `ChatRoomSerializer` shows it.
#[derive(Serialize)]
struct SeedRoom {
    id: i64,
    name: String,
    members: Vec<SeedUser>,
    member_count: usize,
    unread_count: i64,
    is_active: bool,
    created_at: String,
    updated_at: String,
}

/// `GET /api/rooms/`: the user's rooms.
async fn rooms(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
) -> ApiResult<Json<Page<SeedRoom>>> {
    let filter = ConversationFilter { context_type: None, context_id: None, after: None, limit: 0 };
    let (found, _) = state.conversations.conversations(me.id, filter, None).await?;
    let rooms = found
        .iter()
        .filter(|o| o.conversation.kind == ConversationKind::Room)
        .map(|o| SeedRoom {
            id: o.conversation.id.0,
            name: o.conversation.title.clone().unwrap_or_default(),
            members: o.members.iter().map(|m| SeedUser::of(&compat, &m.user)).collect(),
            member_count: o.members.len(),
            unread_count: o.unread_count(),
            is_active: o.conversation.archived_at.is_none(),
            created_at: o.conversation.created_at.to_rfc3339(),
            updated_at: o.conversation.last_activity_at.to_rfc3339(),
        })
        .collect();
    Ok(Json(Page::of(rooms, None)))
}
