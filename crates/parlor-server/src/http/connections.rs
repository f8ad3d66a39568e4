//! `/api/connections/`: requests between users, and accepting them (seed 001).

use axum::extract::State;
use axum::http::StatusCode;
use parlor_core::{ConversationId, UserId};
use parlor_protocol::{ConnectionList, ConnectionRequestBody, ConnectionView, UserView};
use parlor_store::{Connection, ConnectionStatus};

use super::extract::{Id, Json};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::service::EndConnection;
use crate::state::AppState;

async fn view(
    state: &AppState,
    me: UserId,
    c: &Connection,
    conversation: Option<ConversationId>,
) -> ApiResult<ConnectionView> {
    let (other, direction) = if c.requester == me { (c.addressee, "outgoing") } else { (c.requester, "incoming") };
    let user = state.accounts.user(other).await.map_err(|_| ApiError::not_found("connection"))?;
    Ok(ConnectionView {
        id: c.id,
        status: match c.status {
            ConnectionStatus::Pending => "pending",
            ConnectionStatus::Accepted => "accepted",
        },
        direction,
        user: UserView::from(&user),
        created_at: c.created_at,
        conversation_id: conversation,
    })
}

pub async fn list(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> ApiResult<axum::Json<ConnectionList>> {
    let mut results = Vec::new();
    for c in state.chat.connections(me.id).await? {
        results.push(view(&state, me.id, &c, None).await?);
    }
    Ok(axum::Json(ConnectionList { results }))
}

pub async fn request(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Json(body): Json<ConnectionRequestBody>,
) -> ApiResult<(StatusCode, axum::Json<ConnectionView>)> {
    let (connection, conversation) = state.chat.request_connection(me.id, body.user_id).await?;
    Ok((StatusCode::CREATED, axum::Json(view(&state, me.id, &connection, conversation).await?)))
}

pub async fn accept(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
) -> ApiResult<axum::Json<ConnectionView>> {
    let (connection, conversation) = state.chat.accept_connection(me.id, id).await?;
    Ok(axum::Json(view(&state, me.id, &connection, Some(conversation)).await?))
}

pub async fn decline(State(state): State<AppState>, CurrentUser(me): CurrentUser, Id(id): Id) -> ApiResult<StatusCode> {
    state.chat.end_connection(me.id, id, EndConnection::Decline).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn cancel(State(state): State<AppState>, CurrentUser(me): CurrentUser, Id(id): Id) -> ApiResult<StatusCode> {
    state.chat.end_connection(me.id, id, EndConnection::Cancel).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn remove(State(state): State<AppState>, CurrentUser(me): CurrentUser, Id(id): Id) -> ApiResult<StatusCode> {
    state.chat.end_connection(me.id, id, EndConnection::Remove).await?;
    Ok(StatusCode::NO_CONTENT)
}
