//! What the seeds' clients do alike: list conversations, read one conversation's messages,
//! and turn parlor's messages into the seeds' shape with the names each client knows.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::{Extension, Json};
use parlor_core::{ConversationId, Message, Seq, User, UserId};
use parlor_store::ConversationFilter;
use serde::Deserialize;

use super::Compat;
use super::ids::{Kind, UserRef};
use super::views::{MessageParts, Page, ReadPositions, SeedConversation, SeedMessage};
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::http::extract::Query;
use crate::state::AppState;

/// `GET /api/chat/conversations/`: most recent activity first.
pub async fn conversations(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
) -> ApiResult<Json<Page<SeedConversation>>> {
    let filter = ConversationFilter { context_type: None, context_id: None, after: None, limit: 0 };
    let (found, _) = state.conversations.conversations(me.id, filter, None).await?;
    let results = found.iter().map(|o| SeedConversation::of(&compat, false, me.id, o)).collect();
    Ok(Json(Page::of(results, None)))
}

#[derive(Deserialize)]
pub struct PageParams {
    /// Messages older than this sequence number (the `next` link carries it).
    #[serde(default)]
    before: Option<i64>,
    #[serde(default)]
    limit: Option<u32>,
}

/// `GET /api/chat/conversations/{id}/messages/`: oldest first, the newest page; `next` is the
/// page before it.
pub async fn messages(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
    Path(raw): Path<String>,
    Query(p): Query<PageParams>,
) -> ApiResult<Json<Page<SeedMessage>>> {
    let uuid = super::ids::uuid_shaped(&raw);
    let id = ConversationId(compat.parse_id(Kind::Conversation, &raw)?);
    let (mut page, has_more) = state.messages.history(me.id, id, p.before.map(Seq), p.limit).await?;
    page.reverse();
    let next = page
        .first()
        .filter(|_| has_more)
        .map(|m| format!("/api/chat/conversations/{raw}/messages/?before={}", m.seq.0));
    let results = render(&state, &compat, uuid, &me, id, &page).await?;
    Ok(Json(Page::of(results, next)))
}

/// How many conversations, and messages of each, `recent_messages` looks at.
const LIST_CONVERSATIONS: u32 = 20;
const LIST_MESSAGES: u32 = 50;

/// `GET /api/chat/` (002), `GET /api/chat/messages/` (004): the newest messages of the user's
/// most recently active conversations, newest first.
pub async fn recent_messages(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
) -> ApiResult<Json<Page<SeedMessage>>> {
    let filter = ConversationFilter { context_type: None, context_id: None, after: None, limit: 0 };
    let (conversations, _) = state.conversations.conversations(me.id, filter, Some(LIST_CONVERSATIONS)).await?;
    let mut all = Vec::new();
    for o in &conversations {
        let id = o.conversation.id;
        let (page, _) = state.messages.history(me.id, id, None, Some(LIST_MESSAGES)).await?;
        all.extend(render(&state, &compat, false, &me, id, &page).await?.into_iter().zip(page));
    }
    all.sort_by(|(_, a), (_, b)| b.created_at.cmp(&a.created_at).then(b.id.0.cmp(&a.id.0)));
    all.truncate(LIST_MESSAGES as usize);
    Ok(Json(Page::of(all.into_iter().map(|(seed, _)| seed).collect(), None)))
}

/// Messages of one conversation in the seeds' shape, with `is_read` from the members' read
/// positions and users named as the client knows them.
pub async fn render(
    state: &AppState,
    compat: &Compat,
    uuid: bool,
    me: &User,
    id: ConversationId,
    messages: &[Message],
) -> ApiResult<Vec<SeedMessage>> {
    let positions = state.receipts.positions(me.id, id).await.unwrap_or_default();
    let read = ReadPositions { me: me.id, positions: &positions };
    let mut names = Names::default();
    let mut out = Vec::with_capacity(messages.len());
    for m in messages {
        let sender = names.of(state, compat, m.sender_id).await;
        let receiver = match read.other() {
            Some(other) => {
                let to = if m.sender_id == other { me.id } else { other };
                Some(names.of(state, compat, to).await)
            }
            None => None,
        };
        out.push(SeedMessage::of(compat, uuid, m, MessageParts { sender, receiver }, &read));
    }
    Ok(out)
}

/// One message, as a send answers it.
pub async fn render_one(
    state: &AppState,
    compat: &Compat,
    uuid: bool,
    me: &User,
    m: &Message,
) -> ApiResult<SeedMessage> {
    let mut one = render(state, compat, uuid, me, m.conversation_id, std::slice::from_ref(m)).await?;
    one.pop().ok_or_else(crate::error::ApiError::internal)
}

/// The users of one answer, looked up once each.
#[derive(Default)]
pub struct Names(HashMap<UserId, UserRef>);

impl Names {
    pub async fn of(&mut self, state: &AppState, compat: &Compat, id: UserId) -> UserRef {
        if let Some(found) = self.0.get(&id) {
            return found.clone();
        }
        let named = compat.user_ref_of(state, id).await;
        self.0.insert(id, named.clone());
        named
    }
}

/// A conversation with its newest messages (seeds 003 and 004).
#[derive(serde::Serialize)]
pub struct ConversationDetail {
    #[serde(flatten)]
    pub conversation: SeedConversation,
    pub messages: Vec<SeedMessage>,
}

/// The conversation `id` as `me` sees it, with its newest page of messages, oldest first.
pub async fn detail(
    state: &AppState,
    compat: &Compat,
    uuid: bool,
    me: &User,
    id: ConversationId,
) -> ApiResult<ConversationDetail> {
    let overview = state.conversations.conversation(me.id, id).await?;
    let (mut page, _) = state.messages.history(me.id, id, None, None).await?;
    page.reverse();
    Ok(ConversationDetail {
        conversation: SeedConversation::of(compat, uuid, me.id, &overview),
        messages: render(state, compat, uuid, me, id, &page).await?,
    })
}

/// `GET /api/chat/conversations/{id}/`: by integer or (seed 004) UUID-shaped id.
pub async fn conversation(
    State(state): State<AppState>,
    Extension(compat): Extension<Arc<Compat>>,
    CurrentUser(me): CurrentUser,
    Path(raw): Path<String>,
) -> ApiResult<Json<ConversationDetail>> {
    let uuid = super::ids::uuid_shaped(&raw);
    let id = ConversationId(compat.parse_id(Kind::Conversation, &raw)?);
    Ok(Json(detail(&state, &compat, uuid, &me, id).await?))
}
