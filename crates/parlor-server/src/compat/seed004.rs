//! Seed 004 (job-linked conversations, presence, voice; a Next.js client that parses ids as
//! UUIDs): conversations created for a job, `send_message/`, `mark_as_read/` (PATCH), the
//! message list, and the sockets of `socket.rs` (`/ws/chat/{uuid}/`, `/ws/presence/`). Its
//! conversations and messages are named by UUID-shaped ids (`ids.rs`).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Extension, Json, Router};
use parlor_core::ConversationId;
use parlor_protocol::ErrorCode;
use parlor_store::ReadUpTo;
use serde::{Deserialize, Serialize};

use super::Compat;
use super::ids::{Kind, RawId};
use super::seed002::mark_messages;
use super::shared::{self, ConversationDetail};
use super::socket;
use super::views::SeedMessage;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::http::extract::{Json as Body, optional_json};
use crate::rate_limit::{Bucket, Key};
use crate::service::SendInput;
use crate::state::AppState;

pub fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/api/chat/conversations/{id}/send_message", post(send_message))
        .route("/api/chat/conversations/{id}/mark_as_read", patch(mark_as_read))
        .route("/api/chat/messages", get(shared::recent_messages))
        .route("/ws/chat/{id}", get(socket::job_chat))
        .route("/ws/presence", get(socket::presence))
}

#[derive(Deserialize)]
pub struct CreateBody {
    #[serde(default)]
    participant_id: Option<RawId>,
    #[serde(default)]
    participants: Vec<RawId>,
    #[serde(default)]
    user_id: Option<RawId>,
    /// The job the conversation is about.
    #[serde(default)]
    job: Option<RawId>,
    #[serde(default)]
    job_id: Option<RawId>,
    #[serde(default)]
    title: Option<String>,
}

/// `POST /api/chat/conversations/`: with the other participant, about a `job` when named (one
/// conversation per job and people, found again on the next call).
pub async fn create(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
    Body(body): Body<CreateBody>,
) -> ApiResult<(StatusCode, Json<ConversationDetail>)> {
    state.rate_limits.check(Bucket::Sends, Key::User(me.id)).await?;
    let mut named: Vec<RawId> = body.participants;
    named.extend(body.participant_id.into_iter().chain(body.user_id));
    if named.is_empty() {
        return Err(ApiError::bad_request(ErrorCode::ValidationFailed, "`participant_id` is required"));
    }
    let mut others = Vec::with_capacity(named.len());
    for raw in &named {
        others.push(compat.user_named(&state, &raw.text()).await?.id);
    }
    let (overview, created) = match body.job.or(body.job_id) {
        Some(job) => state.rooms.by_context(me.id, "job", &job.text(), body.title.as_deref(), others).await?,
        None if others.len() == 1 => state.conversations.open_direct(me.id, others[0]).await?,
        None => return Err(ApiError::bad_request(ErrorCode::ValidationFailed, "several participants need a `job`")),
    };
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(shared::detail(&state, &compat, true, &me, overview.conversation.id).await?)))
}

#[derive(Deserialize)]
struct SendBody {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    message_type: Option<String>,
}

/// `POST /api/chat/conversations/{uuid}/send_message/`: the fallback to the socket.
async fn send_message(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
    Path(raw): Path<String>,
    Body(body): Body<SendBody>,
) -> ApiResult<(StatusCode, Json<SeedMessage>)> {
    let id = ConversationId(compat.parse_id(Kind::Conversation, &raw)?);
    state.rate_limits.check(Bucket::Sends, Key::User(me.id)).await?;
    if body.message_type.as_deref().is_some_and(|t| t != "text") {
        return Err(ApiError::bad_request(
            ErrorCode::ValidationFailed,
            "files go to /api/chat/conversations/{id}/attachments/ as multipart; send_message sends text",
        ));
    }
    let content = body.content.unwrap_or_default();
    let appended =
        state.messages.send(&me, id, SendInput { content, reply_to: None, client_id: None, forwarded: false }).await?;
    let message = appended.message().ok_or_else(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(shared::render_one(&state, &compat, true, &me, message).await?)))
}

#[derive(Deserialize, Default)]
struct MarkBody {
    #[serde(default)]
    message_ids: Vec<RawId>,
}

#[derive(Serialize)]
struct Marked {
    status: &'static str,
    unread_count: i64,
}

/// `PATCH /api/chat/conversations/{uuid}/mark_as_read/`: `message_ids`, or everything.
async fn mark_as_read(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
    Path(raw): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Marked>> {
    let id = ConversationId(compat.parse_id(Kind::Conversation, &raw)?);
    state.rate_limits.check(Bucket::Sends, Key::User(me.id)).await?;
    let body: MarkBody = optional_json(&body)?;
    state.conversations.ensure_member(me.id, id).await?;
    if body.message_ids.is_empty() {
        state.receipts.mark_read(me.id, id, ReadUpTo::Latest).await?;
    } else {
        mark_messages(&state, &compat, &me, &body.message_ids).await?;
    }
    let overview = state.conversations.conversation(me.id, id).await?;
    Ok(Json(Marked { status: "ok", unread_count: overview.unread_count() }))
}
