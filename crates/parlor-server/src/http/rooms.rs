//! Rooms and conversation settings: `/api/chat/rooms/`, membership, roles, leaving, archiving,
//! and context-linked conversations.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use parlor_core::{AvatarUrl, ConversationId, RoomTitle, UserId};
use parlor_protocol::{
    AddMembersRequest, ContextConversationRequest, ConversationPatchRequest, ConversationView, CreateRoomRequest,
    SetRoleRequest,
};
use parlor_store::ConversationPatch;

use super::extract::{Id, Ids, Json};
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::state::AppState;

type View = axum::Json<ConversationView>;

pub async fn create(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Json(body): Json<CreateRoomRequest>,
) -> ApiResult<(StatusCode, View)> {
    let room = state.chat.create_room(&me, &body.title, body.avatar.as_deref(), body.members).await?;
    Ok((StatusCode::CREATED, axum::Json(ConversationView::from(&room))))
}

pub async fn update(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
    Json(body): Json<ConversationPatchRequest>,
) -> ApiResult<View> {
    let patch = ConversationPatch {
        title: body.title.as_deref().map(RoomTitle::parse).transpose()?,
        avatar: match body.avatar {
            Some(Some(url)) => Some(Some(AvatarUrl::parse(&url)?)),
            Some(None) => Some(None),
            None => None,
        },
        archived: None,
    };
    let overview = state.chat.update_conversation(me.id, ConversationId(id), patch).await?;
    Ok(axum::Json(ConversationView::from(&overview)))
}

pub async fn archive(State(state): State<AppState>, CurrentUser(me): CurrentUser, Id(id): Id) -> ApiResult<View> {
    set_archived(state, me.id, id, true).await
}

pub async fn unarchive(State(state): State<AppState>, CurrentUser(me): CurrentUser, Id(id): Id) -> ApiResult<View> {
    set_archived(state, me.id, id, false).await
}

async fn set_archived(state: AppState, me: UserId, id: i64, archived: bool) -> ApiResult<View> {
    let patch = ConversationPatch { archived: Some(archived), ..ConversationPatch::default() };
    let overview = state.chat.update_conversation(me, ConversationId(id), patch).await?;
    Ok(axum::Json(ConversationView::from(&overview)))
}

pub async fn add_members(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
    Json(body): Json<AddMembersRequest>,
) -> ApiResult<View> {
    state.chat.add_members(me.id, ConversationId(id), body.user_ids).await?;
    Ok(axum::Json(ConversationView::from(&state.chat.conversation(me.id, ConversationId(id)).await?)))
}

pub async fn remove_member(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Ids(id, user): Ids,
) -> ApiResult<StatusCode> {
    state.chat.remove_member(me.id, ConversationId(id), UserId(user)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn set_role(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Ids(id, user): Ids,
    Json(body): Json<SetRoleRequest>,
) -> ApiResult<View> {
    state.chat.set_role(me.id, ConversationId(id), UserId(user), &body.role).await?;
    Ok(axum::Json(ConversationView::from(&state.chat.conversation(me.id, ConversationId(id)).await?)))
}

pub async fn leave(State(state): State<AppState>, CurrentUser(me): CurrentUser, Id(id): Id) -> ApiResult<StatusCode> {
    state.chat.leave(me.id, ConversationId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/chat/conversations/by-context/{type}/{id}/`: idempotent get-or-create.
pub async fn by_context(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path((kind, external_id)): Path<(String, String)>,
    Json(body): Json<ContextConversationRequest>,
) -> ApiResult<(StatusCode, View)> {
    let (overview, created) =
        state.chat.by_context(me.id, &kind, &external_id, body.title.as_deref(), body.members).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(ConversationView::from(&overview))))
}
