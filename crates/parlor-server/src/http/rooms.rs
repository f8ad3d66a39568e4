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

use super::RequestId;
use super::extract::{Id, Ids, Json};
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::service::{Actor, Record};
use crate::state::AppState;

type View = axum::Json<ConversationView>;

#[utoipa::path(
    post,
    path = "/api/chat/rooms",
    tag = "rooms",
    operation_id = "rooms_create",
    request_body = parlor_protocol::CreateRoomRequest,
    responses(
        (status = 201, description = "The new room; the caller owns it", body = parlor_protocol::ConversationView),
        (status = 404, description = "A named member does not exist", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Json(body): Json<CreateRoomRequest>,
) -> ApiResult<(StatusCode, View)> {
    let room = state.rooms.create_room(&me, &body.title, body.avatar.as_deref(), body.members).await?;
    Ok((StatusCode::CREATED, axum::Json(ConversationView::from(&room))))
}

#[utoipa::path(
    patch,
    path = "/api/chat/conversations/{id}",
    tag = "rooms",
    operation_id = "rooms_update",
    request_body = parlor_protocol::ConversationPatchRequest,
    params(("id" = i64, Path, description = "The conversation")),
    responses(
        (status = 200, description = "The conversation now", body = parlor_protocol::ConversationView),
        (status = 404, description = "No such conversation", body = parlor_protocol::ErrorBody),
        (status = 409, description = "Archived (`conversation_archived`), not a room (`not_a_room`), or the last owner (`last_owner`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::AuthErrors,
    ),
)]
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
    let overview = state.rooms.update_conversation(me.id, ConversationId(id), patch).await?;
    Ok(axum::Json(ConversationView::from(&overview)))
}

#[utoipa::path(
    post,
    path = "/api/chat/conversations/{id}/archive",
    tag = "rooms",
    operation_id = "rooms_archive",
    params(("id" = i64, Path, description = "The conversation")),
    responses(
        (status = 200, description = "The archived conversation", body = parlor_protocol::ConversationView),
        (status = 404, description = "No such conversation", body = parlor_protocol::ErrorBody),
        (status = 409, description = "Archived (`conversation_archived`), not a room (`not_a_room`), or the last owner (`last_owner`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn archive(State(state): State<AppState>, CurrentUser(me): CurrentUser, Id(id): Id) -> ApiResult<View> {
    set_archived(state, me.id, id, true).await
}

#[utoipa::path(
    post,
    path = "/api/chat/conversations/{id}/unarchive",
    tag = "rooms",
    operation_id = "rooms_unarchive",
    params(("id" = i64, Path, description = "The conversation")),
    responses(
        (status = 200, description = "The conversation, no longer archived", body = parlor_protocol::ConversationView),
        (status = 404, description = "No such conversation", body = parlor_protocol::ErrorBody),
        (status = 409, description = "Archived (`conversation_archived`), not a room (`not_a_room`), or the last owner (`last_owner`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn unarchive(State(state): State<AppState>, CurrentUser(me): CurrentUser, Id(id): Id) -> ApiResult<View> {
    set_archived(state, me.id, id, false).await
}

async fn set_archived(state: AppState, me: UserId, id: i64, archived: bool) -> ApiResult<View> {
    let patch = ConversationPatch { archived: Some(archived), ..ConversationPatch::default() };
    let overview = state.rooms.update_conversation(me, ConversationId(id), patch).await?;
    Ok(axum::Json(ConversationView::from(&overview)))
}

#[utoipa::path(
    post,
    path = "/api/chat/conversations/{id}/members",
    tag = "rooms",
    operation_id = "rooms_add_members",
    request_body = parlor_protocol::AddMembersRequest,
    params(("id" = i64, Path, description = "The conversation")),
    responses(
        (status = 200, description = "The room with its members now", body = parlor_protocol::ConversationView),
        (status = 404, description = "No such conversation or user", body = parlor_protocol::ErrorBody),
        (status = 409, description = "Archived (`conversation_archived`), not a room (`not_a_room`), or the last owner (`last_owner`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn add_members(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
    Json(body): Json<AddMembersRequest>,
) -> ApiResult<View> {
    state.rooms.add_members(me.id, ConversationId(id), body.user_ids).await?;
    Ok(axum::Json(ConversationView::from(&state.conversations.conversation(me.id, ConversationId(id)).await?)))
}

#[utoipa::path(
    delete,
    path = "/api/chat/conversations/{id}/members/{user_id}",
    tag = "rooms",
    operation_id = "rooms_remove_member",
    params(("id" = i64, Path, description = "The conversation"), ("user_id" = i64, Path, description = "The member")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such conversation or member", body = parlor_protocol::ErrorBody),
        (status = 409, description = "Archived (`conversation_archived`), not a room (`not_a_room`), or the last owner (`last_owner`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn remove_member(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    request: RequestId,
    Ids(id, user): Ids,
) -> ApiResult<StatusCode> {
    state.rooms.remove_member(me.id, ConversationId(id), UserId(user)).await?;
    // Removing someone else is moderation; removing oneself is leaving, not audited.
    if me.id != UserId(user) {
        let record = Record::new(Actor::User(me.id), "room.member_remove").target("conversation", id);
        state.audit.record(record.request(Some(&request)).details(serde_json::json!({ "user_id": user }))).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    patch,
    path = "/api/chat/conversations/{id}/members/{user_id}",
    tag = "rooms",
    operation_id = "rooms_set_role",
    request_body = parlor_protocol::SetRoleRequest,
    params(("id" = i64, Path, description = "The conversation"), ("user_id" = i64, Path, description = "The member")),
    responses(
        (status = 200, description = "The room with the new role", body = parlor_protocol::ConversationView),
        (status = 404, description = "No such conversation or member", body = parlor_protocol::ErrorBody),
        (status = 409, description = "Archived (`conversation_archived`), not a room (`not_a_room`), or the last owner (`last_owner`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn set_role(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    request: RequestId,
    Ids(id, user): Ids,
    Json(body): Json<SetRoleRequest>,
) -> ApiResult<View> {
    state.rooms.set_role(me.id, ConversationId(id), UserId(user), &body.role).await?;
    let record = Record::new(Actor::User(me.id), "room.role_change").target("conversation", id);
    let details = serde_json::json!({ "user_id": user, "role": &body.role });
    state.audit.record(record.request(Some(&request)).details(details)).await;
    Ok(axum::Json(ConversationView::from(&state.conversations.conversation(me.id, ConversationId(id)).await?)))
}

#[utoipa::path(
    post,
    path = "/api/chat/conversations/{id}/leave",
    tag = "rooms",
    operation_id = "rooms_leave",
    params(("id" = i64, Path, description = "The conversation")),
    responses(
        (status = 204, description = "Left"),
        (status = 404, description = "No such conversation", body = parlor_protocol::ErrorBody),
        (status = 409, description = "Archived (`conversation_archived`), not a room (`not_a_room`), or the last owner (`last_owner`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn leave(State(state): State<AppState>, CurrentUser(me): CurrentUser, Id(id): Id) -> ApiResult<StatusCode> {
    state.rooms.leave(me.id, ConversationId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/chat/conversations/by-context/{type}/{id}/`: idempotent get-or-create.
#[utoipa::path(
    put,
    path = "/api/chat/conversations/by-context/{kind}/{external_id}",
    tag = "rooms",
    operation_id = "rooms_by_context",
    request_body = parlor_protocol::ContextConversationRequest,
    params(("kind" = String, Path, description = "The context's type on the host platform, e.g. `job`"), ("external_id" = String, Path, description = "The context's id on the host platform")),
    responses(
        (status = 201, description = "A new conversation for the context", body = parlor_protocol::ConversationView),
        (status = 200, description = "The context's existing conversation", body = parlor_protocol::ConversationView),
        (status = 404, description = "A named member does not exist", body = parlor_protocol::ErrorBody),
        (status = 409, description = "Archived (`conversation_archived`), not a room (`not_a_room`), or the last owner (`last_owner`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn by_context(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Path((kind, external_id)): Path<(String, String)>,
    Json(body): Json<ContextConversationRequest>,
) -> ApiResult<(StatusCode, View)> {
    let (overview, created) =
        state.rooms.by_context(me.id, &kind, &external_id, body.title.as_deref(), body.members).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(ConversationView::from(&overview))))
}
