//! The operator's endpoints, called by `parlor admin`: `POST /api/server/accounts`,
//! `GET /api/server/accounts/by-username/{username}`, `POST /api/server/accounts/{id}/tokens`,
//! `GET /api/server/conversations/{id}` and `.../messages?after=&limit=` (exports),
//! `POST /api/server/backup`, `POST /api/server/vacuum`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use parlor_core::{ConversationId, Seq, UserId};
use parlor_protocol::{
    BackupRequest, BackupView, ContextView, CreateAccountRequest, ExportPage, ExportedConversation, IssueTokenRequest,
    IssuedToken, MemberView, MessageView, ServerUserView,
};
use serde::Deserialize;

use crate::auth::ServerKey;
use crate::error::ApiResult;
use crate::http::extract::{Id, Json, Query};
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/api/server/accounts",
    tag = "server",
    operation_id = "server_admin_create_account",
    request_body = CreateAccountRequest,
    responses(
        (status = 201, description = "The new account", body = ServerUserView),
        (status = 409, description = "The username is taken (`username_taken`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn create_account(
    State(state): State<AppState>,
    _: ServerKey,
    Json(body): Json<CreateAccountRequest>,
) -> ApiResult<(StatusCode, axum::Json<ServerUserView>)> {
    let user = state.accounts.create_account(&body.username, body.password, body.name.as_deref(), body.admin).await?;
    Ok((StatusCode::CREATED, axum::Json(ServerUserView::from(&user))))
}

#[utoipa::path(
    get,
    path = "/api/server/accounts/by-username/{username}",
    tag = "server",
    operation_id = "server_admin_by_username",
    params(("username" = String, Path, description = "A parlor username")),
    responses(
        (status = 200, description = "The account", body = ServerUserView),
        (status = 404, description = "No such user", body = parlor_protocol::ErrorBody),
        (status = 400, description = "Not a username", body = parlor_protocol::ErrorBody),
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn by_username(
    State(state): State<AppState>,
    _: ServerKey,
    Path(username): Path<String>,
) -> ApiResult<axum::Json<ServerUserView>> {
    let user = state.accounts.by_username(&username).await?;
    Ok(axum::Json(ServerUserView::from(&user)))
}

#[utoipa::path(
    post,
    path = "/api/server/accounts/{id}/tokens",
    tag = "server",
    operation_id = "server_admin_issue_token",
    request_body = IssueTokenRequest,
    params(("id" = i64, Path, description = "parlor's id for the user")),
    responses(
        (status = 201, description = "An access token for the user", body = IssuedToken),
        (status = 403, description = "The account is disabled (`account_disabled`)", body = parlor_protocol::ErrorBody),
        (status = 404, description = "No such user", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn issue_token(
    State(state): State<AppState>,
    _: ServerKey,
    Id(id): Id,
    Json(body): Json<IssueTokenRequest>,
) -> ApiResult<(StatusCode, axum::Json<IssuedToken>)> {
    let (access, expires_in) = state.accounts.issue_token(UserId(id), body.ttl_secs).await?;
    let issued = IssuedToken { user_id: UserId(id), access, token_type: "Bearer".to_owned(), expires_in };
    Ok((StatusCode::CREATED, axum::Json(issued)))
}

#[utoipa::path(
    get,
    path = "/api/server/conversations/{id}",
    tag = "server",
    operation_id = "server_admin_conversation",
    params(("id" = i64, Path, description = "The conversation")),
    responses(
        (status = 200, description = "The conversation and its members", body = ExportedConversation),
        (status = 404, description = "No such conversation", body = parlor_protocol::ErrorBody),
        (status = 400, description = "A non-numeric id", body = parlor_protocol::ErrorBody),
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn conversation(
    State(state): State<AppState>,
    _: ServerKey,
    Id(id): Id,
) -> ApiResult<axum::Json<ExportedConversation>> {
    let (c, members) = state.operator.export_conversation(ConversationId(id)).await?;
    Ok(axum::Json(ExportedConversation {
        id: c.id,
        kind: c.kind.as_str(),
        title: c.title,
        avatar: c.avatar,
        context: c.context.map(|x| ContextView { kind: x.kind, id: x.external_id, title: x.title }),
        archived_at: c.archived_at,
        created_at: c.created_at,
        last_activity_at: c.last_activity_at,
        last_message_seq: c.last_message_seq,
        members: members.iter().map(MemberView::from).collect(),
    }))
}

#[derive(Deserialize)]
pub struct PageParams {
    after: Option<i64>,
    limit: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/api/server/conversations/{id}/messages",
    tag = "server",
    operation_id = "server_admin_messages",
    params(("id" = i64, Path, description = "The conversation"), ("after" = Option<i64>, Query, description = "Messages with a seq above this"), ("limit" = Option<u32>, Query, description = "Page size")),
    responses(
        (status = 200, description = "One page of messages, oldest first", body = ExportPage),
        (status = 404, description = "No such conversation", body = parlor_protocol::ErrorBody),
        (status = 400, description = "A bad id or query parameter", body = parlor_protocol::ErrorBody),
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn messages(
    State(state): State<AppState>,
    _: ServerKey,
    Id(id): Id,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<ExportPage>> {
    let after = Seq(params.after.unwrap_or(0).max(0));
    let (page, has_more) = state.operator.export_messages(ConversationId(id), after, params.limit).await?;
    Ok(axum::Json(ExportPage {
        next_cursor: page.last().map(|m| m.seq),
        results: page.iter().map(MessageView::from).collect(),
        has_more,
    }))
}

#[utoipa::path(
    post,
    path = "/api/server/backup",
    tag = "server",
    operation_id = "server_admin_backup",
    request_body = BackupRequest,
    responses(
        (status = 201, description = "The backup file written", body = BackupView),
        (status = 409, description = "The file exists", body = parlor_protocol::ErrorBody),
        (status = 501, description = "The store cannot be backed up (`not_supported`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn backup(
    State(state): State<AppState>,
    _: ServerKey,
    Json(body): Json<BackupRequest>,
) -> ApiResult<(StatusCode, axum::Json<BackupView>)> {
    let (path, bytes) = state.operator.backup(&body.path, &state.config.data_dir).await?;
    Ok((StatusCode::CREATED, axum::Json(BackupView { path: path.display().to_string(), bytes })))
}

#[utoipa::path(
    post,
    path = "/api/server/vacuum",
    tag = "server",
    operation_id = "server_admin_vacuum",
    responses(
        (status = 204, description = "Compacted"),
        (status = 501, description = "The store cannot be compacted (`not_supported`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::ServerKeyErrors,
    ),
    security(("api_key" = [])),
)]
pub async fn vacuum(State(state): State<AppState>, _: ServerKey) -> ApiResult<StatusCode> {
    state.operator.vacuum().await?;
    Ok(StatusCode::NO_CONTENT)
}
