//! Seed 003 (one socket for everything, `socket.rs`): its REST calls besides the shared
//! conversation list and detail: `start_conversation/`, `{id}/add_message/`, and the users
//! with their online status (`users/`, `users/{id}/status/`), which list only the people the
//! caller may see the presence of (parlor's presence rules), never every account.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use parlor_core::{ConversationId, MessageId, User};
use parlor_protocol::StatusView;
use serde::{Deserialize, Serialize};

use super::Compat;
use super::ids::{Kind, RawId, UserRef};
use super::shared::{self, ConversationDetail};
use super::views::{Page, SeedMessage};
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
        .route("/api/chat/users", get(users))
        .route("/api/chat/users/{id}/status", get(status))
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
    let (overview, created) = state.conversations.open_direct(me.id, other.id).await?;
    let id = overview.conversation.id;
    if let Some(text) = body.message.filter(|t| !t.trim().is_empty()) {
        let input = SendInput { content: text, reply_to: None, client_id: None, forwarded: false };
        state.messages.send(&me, id, input).await?;
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
    let appended =
        state.messages.send(&me, id, SendInput { content, reply_to, client_id: None, forwarded: false }).await?;
    let message = appended.message().ok_or_else(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(shared::render_one(&state, &compat, false, &me, message).await?)))
}

/// A user's online status as the seed's `UserStatus` model has it.
#[derive(Serialize)]
struct ChatStatus {
    is_online: bool,
    /// `null` when never seen, while online, or hidden by the user (hide-last-seen).
    last_active: Option<String>,
}

impl ChatStatus {
    fn of(status: &StatusView) -> Self {
        Self { is_online: status.is_online, last_active: status.last_seen.map(|t| t.to_rfc3339()) }
    }
}

/// A user in the seed's list: Django's user fields, the status flat and as `chat_status`
/// (what its templates read: `user.chat_status.is_online`).
#[derive(Serialize)]
struct UserWithStatus {
    id: UserRef,
    username: String,
    first_name: String,
    last_name: String,
    is_online: bool,
    last_active: Option<String>,
    chat_status: ChatStatus,
}

impl UserWithStatus {
    fn of(compat: &Compat, user: &User, status: &StatusView) -> Self {
        // parlor keeps one display name: its first word is the first name, the rest the last.
        let name = user.name.trim();
        let (first, last) = name.split_once(char::is_whitespace).unwrap_or((name, ""));
        let chat_status = ChatStatus::of(status);
        Self {
            id: compat.user_ref(user),
            username: user.username.clone().unwrap_or_else(|| user.name.clone()),
            first_name: first.to_owned(),
            last_name: last.trim().to_owned(),
            is_online: chat_status.is_online,
            last_active: chat_status.last_active.clone(),
            chat_status,
        }
    }
}

/// `GET /api/chat/users/`: the people the caller shares a conversation (or an accepted
/// connection, which always has its direct conversation) with and has not blocked, by id,
/// with their status. "All users" in the seed; never every account here.
async fn users(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
) -> ApiResult<Json<Page<UserWithStatus>>> {
    let contacts = state.presence.contacts_with_users(me.id).await?;
    let results = contacts.iter().map(|(user, status)| UserWithStatus::of(&compat, user, status)).collect();
    Ok(Json(Page::of(results, None)))
}

#[derive(Serialize)]
struct UserStatusBody {
    user_id: UserRef,
    is_online: bool,
    last_active: Option<String>,
}

/// `GET /api/chat/users/{id}/status/`: for the caller and the people in their list; the same
/// 404 as an unknown user for anyone else.
async fn status(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
    Path(raw): Path<String>,
) -> ApiResult<Json<UserStatusBody>> {
    // Only a lookup: asking for someone's status must not create them (as a "Chat with" does).
    let user = if compat.platform {
        // The seed's own 404 body, not the server API's "upsert it first".
        state.platform.platform_user(&raw).await.map_err(|e| match e.kind {
            crate::error::Kind::NotFound => ApiError::not_found("user"),
            _ => e,
        })?
    } else {
        let id = raw.parse::<i64>().map_err(|_| ApiError::not_found("user"))?;
        state.accounts.user(parlor_core::UserId(id)).await?
    };
    let status = ChatStatus::of(&state.presence.status(me.id, user.id).await?);
    Ok(Json(UserStatusBody {
        user_id: compat.user_ref(&user),
        is_online: status.is_online,
        last_active: status.last_active,
    }))
}
