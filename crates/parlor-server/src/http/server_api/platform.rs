//! The host platform's backend acting for its users: admin and disabled flags, connections,
//! context conversations and their members, notices, and unread counts for its own badges.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use parlor_core::{ConversationId, UserId};
use parlor_protocol::{ConversationView, MessageView, ServerUserView, UnreadCounts, UnreadEntry};
use parlor_store::UserFlags;
use serde::{Deserialize, Serialize};

use crate::auth::ServerKey;
use crate::error::ApiResult;
use crate::http::AuditNote;
use crate::http::extract::{Id, Json};
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagsBody {
    #[serde(default)]
    admin: Option<bool>,
    #[serde(default)]
    disabled: Option<bool>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectBody {
    /// The two users, by the platform's ids.
    users: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Connected {
    connection_id: i64,
    status: &'static str,
    conversation_id: ConversationId,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextBody {
    /// The participants, by the platform's ids; the first becomes the room's owner.
    members: Vec<String>,
    #[serde(default)]
    title: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembersBody {
    /// The users to add, by the platform's ids.
    users: Vec<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeBody {
    text: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PlatformUnread {
    user_id: UserId,
    #[serde(flatten)]
    messages: UnreadCounts,
    notifications: i64,
}

/// `PATCH /api/server/accounts/{id}`: by parlor's own user id, so it reaches users who
/// registered with a password too.
#[utoipa::path(
    patch,
    path = "/api/server/accounts/{id}",
    tag = "server",
    operation_id = "server_platform_set_flags",
    request_body = FlagsBody,
    params(("id" = i64, Path, description = "parlor's id for the user")),
    responses(
        (status = 200, description = "The user", body = parlor_protocol::ServerUserView),
        (status = 404, description = "No such user", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn set_flags(
    State(state): State<AppState>,
    _: ServerKey,
    Id(id): Id,
    Json(body): Json<FlagsBody>,
) -> ApiResult<(axum::Extension<AuditNote>, axum::Json<ServerUserView>)> {
    let flags = UserFlags { admin: body.admin, disabled: body.disabled };
    let user = state.moderation.set_user_flags(UserId(id), flags).await?;
    // What changed, for the audit log: disabling and making admins are what it is read for.
    let note = AuditNote(serde_json::json!({ "admin": body.admin, "disabled": body.disabled }));
    Ok((axum::Extension(note), axum::Json(ServerUserView::from(&user))))
}

#[utoipa::path(
    post,
    path = "/api/server/connections",
    tag = "server",
    operation_id = "server_platform_connect",
    request_body = ConnectBody,
    responses(
        (status = 200, description = "The accepted connection and its direct conversation", body = Connected),
        (status = 404, description = "No user with one of those external ids", body = parlor_protocol::ErrorBody),
        (status = 409, description = "The connection cannot be made", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn connect(
    State(state): State<AppState>,
    _: ServerKey,
    Json(body): Json<ConnectBody>,
) -> ApiResult<axum::Json<Connected>> {
    let [a, b] = body.users.as_slice() else {
        return Err(parlor_core::ValidationError::new("users", "name exactly two users").into());
    };
    let (a, b) = (state.platform.platform_user(a).await?.id, state.platform.platform_user(b).await?.id);
    let (contact, conversation_id) = state.platform.connect(a, b).await?;
    Ok(axum::Json(Connected { connection_id: contact.id, status: "accepted", conversation_id }))
}

/// Get-or-create the conversation for a context (a job...) between the named users.
#[utoipa::path(
    put,
    path = "/api/server/conversations/by-context/{kind}/{external_id}",
    tag = "server",
    operation_id = "server_platform_by_context",
    request_body = ContextBody,
    params(("kind" = String, Path, description = "The context's type on the host platform, e.g. `job`"), ("external_id" = String, Path, description = "The context's id on the host platform")),
    responses(
        (status = 201, description = "A new conversation for the context", body = parlor_protocol::ConversationView),
        (status = 200, description = "The context's existing conversation", body = parlor_protocol::ConversationView),
        (status = 404, description = "No user with one of those external ids", body = parlor_protocol::ErrorBody),
        (status = 409, description = "Archived (`conversation_archived`), not a room (`not_a_room`), or the last owner (`last_owner`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn by_context(
    State(state): State<AppState>,
    _: ServerKey,
    Path((kind, external_id)): Path<(String, String)>,
    Json(body): Json<ContextBody>,
) -> ApiResult<(StatusCode, axum::Json<ConversationView>)> {
    let members = state.platform.platform_users(&body.members).await?;
    let Some((&creator, others)) = members.split_first() else {
        return Err(parlor_core::ValidationError::new("members", "name at least two users").into());
    };
    let (overview, created) =
        state.rooms.open_context(creator, &kind, &external_id, body.title.as_deref(), others.to_vec()).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(ConversationView::from(&overview))))
}

/// Adds the platform's users to a room, as "System" (no role or block rule applies).
#[utoipa::path(
    post,
    path = "/api/server/conversations/{id}/members",
    tag = "server",
    operation_id = "server_platform_add_members",
    request_body = MembersBody,
    params(("id" = i64, Path, description = "The room")),
    responses(
        (status = 204, description = "They are members (those who were already are unchanged)"),
        (status = 404, description = "No such conversation, or no user with one of those external ids", body = parlor_protocol::ErrorBody),
        (status = 409, description = "Not a room (`not_a_room`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn add_members(
    State(state): State<AppState>,
    _: ServerKey,
    Id(id): Id,
    Json(body): Json<MembersBody>,
) -> ApiResult<StatusCode> {
    if body.users.is_empty() {
        return Err(parlor_core::ValidationError::new("users", "name at least one user").into());
    }
    let users = state.platform.platform_users(&body.users).await?;
    state.platform.platform_add_members(ConversationId(id), users).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes one of the platform's users from a room, as "System".
#[utoipa::path(
    delete,
    path = "/api/server/conversations/{id}/members/{external_id}",
    tag = "server",
    operation_id = "server_platform_remove_member",
    params(
        ("id" = i64, Path, description = "The room"),
        ("external_id" = String, Path, description = "The host platform's id for the member"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such conversation, user or member", body = parlor_protocol::ErrorBody),
        (status = 409, description = "Not a room (`not_a_room`), or the last owner (`last_owner`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn remove_member(
    State(state): State<AppState>,
    _: ServerKey,
    Path((id, external_id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    // As `Id` does: a path that is no number names no conversation.
    let id = id.parse::<i64>().map_err(|_| crate::error::ApiError::not_found("resource"))?;
    let user = state.platform.platform_user(&external_id).await?;
    state.platform.platform_remove_member(ConversationId(id), user.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/server/conversations/{id}/notices",
    tag = "server",
    operation_id = "server_platform_notice",
    request_body = NoticeBody,
    params(("id" = i64, Path, description = "The conversation")),
    responses(
        (status = 201, description = "The notice, a system message", body = parlor_protocol::MessageView),
        (status = 404, description = "No such conversation", body = parlor_protocol::ErrorBody),
        (status = 409, description = "The conversation is archived (`conversation_archived`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn notice(
    State(state): State<AppState>,
    _: ServerKey,
    Id(id): Id,
    Json(body): Json<NoticeBody>,
) -> ApiResult<(StatusCode, axum::Json<MessageView>)> {
    let message = state.platform.post_notice(ConversationId(id), body.text).await?;
    Ok((StatusCode::CREATED, axum::Json(MessageView::from(&message))))
}

/// The user's unread messages per conversation and unread notifications, for the platform's badge.
#[utoipa::path(
    get,
    path = "/api/server/users/{external_id}/unread",
    tag = "server",
    operation_id = "server_platform_unread",
    params(("external_id" = String, Path, description = "The host platform's id for the user")),
    responses(
        (status = 200, description = "The user's unread messages and notifications", body = PlatformUnread),
        (status = 404, description = "No user with that external id", body = parlor_protocol::ErrorBody),
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn unread(
    State(state): State<AppState>,
    _: ServerKey,
    Path(external_id): Path<String>,
) -> ApiResult<axum::Json<PlatformUnread>> {
    let user = state.platform.platform_user(&external_id).await?;
    let counts = state.receipts.unread_counts(user.id).await?;
    let notifications = state.notifications.unread_notifications(user.id).await?;
    let messages = UnreadCounts {
        total: counts.iter().map(|(_, n)| n).sum(),
        conversations: counts
            .into_iter()
            .map(|(conversation_id, unread_count)| UnreadEntry { conversation_id, unread_count })
            .collect(),
    };
    Ok(axum::Json(PlatformUnread { user_id: user.id, messages, notifications }))
}
