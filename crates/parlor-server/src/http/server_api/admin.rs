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

pub async fn create_account(
    State(state): State<AppState>,
    _: ServerKey,
    Json(body): Json<CreateAccountRequest>,
) -> ApiResult<(StatusCode, axum::Json<ServerUserView>)> {
    let user = state.accounts.create_account(&body.username, body.password, body.name.as_deref(), body.admin).await?;
    Ok((StatusCode::CREATED, axum::Json(ServerUserView::from(&user))))
}

pub async fn by_username(
    State(state): State<AppState>,
    _: ServerKey,
    Path(username): Path<String>,
) -> ApiResult<axum::Json<ServerUserView>> {
    let user = state.accounts.by_username(&username).await?;
    Ok(axum::Json(ServerUserView::from(&user)))
}

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

pub async fn conversation(
    State(state): State<AppState>,
    _: ServerKey,
    Id(id): Id,
) -> ApiResult<axum::Json<ExportedConversation>> {
    let (c, members) = state.chat.export_conversation(ConversationId(id)).await?;
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

pub async fn messages(
    State(state): State<AppState>,
    _: ServerKey,
    Id(id): Id,
    Query(params): Query<PageParams>,
) -> ApiResult<axum::Json<ExportPage>> {
    let after = Seq(params.after.unwrap_or(0).max(0));
    let (page, has_more) = state.chat.export_messages(ConversationId(id), after, params.limit).await?;
    Ok(axum::Json(ExportPage {
        next_cursor: page.last().map(|m| m.seq),
        results: page.iter().map(MessageView::from).collect(),
        has_more,
    }))
}

pub async fn backup(
    State(state): State<AppState>,
    _: ServerKey,
    Json(body): Json<BackupRequest>,
) -> ApiResult<(StatusCode, axum::Json<BackupView>)> {
    let (path, bytes) = state.chat.backup(&body.path, &state.config.data_dir).await?;
    Ok((StatusCode::CREATED, axum::Json(BackupView { path: path.display().to_string(), bytes })))
}

pub async fn vacuum(State(state): State<AppState>, _: ServerKey) -> ApiResult<StatusCode> {
    state.chat.vacuum().await?;
    Ok(StatusCode::NO_CONTENT)
}
