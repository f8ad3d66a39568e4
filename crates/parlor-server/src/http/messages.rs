//! Message history and sending over HTTP (the fallback to the WebSocket).

use axum::extract::State;
use axum::http::StatusCode;
use parlor_core::{ConversationId, MessageId, Seq, User};
use parlor_protocol::{
    EditMessageRequest, ForwardRequest, MessagePage, MessageReceipts, MessageView, ReactRequest,
    SeedSendMessageRequest, SendMessageRequest, UserView,
};
use serde::Deserialize;

use super::extract::{Id, Json, Query};
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::rate_limit::{Bucket, Key};
use crate::service::SendInput;
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    #[serde(default)]
    before: Option<i64>,
    #[serde(default)]
    limit: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/api/chat/conversations/{id}/messages",
    tag = "messages",
    operation_id = "messages_history",
    params(("id" = i64, Path, description = "The conversation"), PageParams),
    responses(
        (status = 200, description = "A page of messages, newest first", body = parlor_protocol::MessagePage),
        (status = 400, description = "A query parameter has the wrong type (`invalid_body`) or breaks a rule (`validation_failed`)", body = parlor_protocol::ErrorBody),
        (status = 404, description = "No such conversation", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn history(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
    Query(p): Query<PageParams>,
) -> ApiResult<axum::Json<MessagePage>> {
    let (page, has_more) = state.messages.history(me.id, ConversationId(id), p.before.map(Seq), p.limit).await?;
    let next_cursor = if has_more { page.last().map(|m| m.seq) } else { None };
    Ok(axum::Json(MessagePage { results: page.iter().map(MessageView::from).collect(), next_cursor, has_more }))
}

#[utoipa::path(
    post,
    path = "/api/chat/conversations/{id}/messages",
    tag = "messages",
    operation_id = "messages_send",
    request_body = parlor_protocol::SendMessageRequest,
    params(("id" = i64, Path, description = "The conversation")),
    responses(
        crate::http::openapi::RateLimited,
        (status = 201, description = "The new message", body = parlor_protocol::MessageView),
        (status = 200, description = "The message already stored under this `client_id`", body = parlor_protocol::MessageView),
        (status = 404, description = "No such conversation", body = parlor_protocol::ErrorBody),
        (status = 409, description = "The conversation is archived (`conversation_archived`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn send(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
    Json(body): Json<SendMessageRequest>,
) -> ApiResult<(StatusCode, axum::Json<MessageView>)> {
    store(&state, &me, ConversationId(id), body).await
}

/// Seed 001's `POST /api/chat/messages/` with `{"conversation": id, "content": ...}`.
#[utoipa::path(
    post,
    path = "/api/chat/messages",
    tag = "messages",
    operation_id = "messages_send_seed",
    request_body = parlor_protocol::SeedSendMessageRequest,
    responses(
        crate::http::openapi::RateLimited,
        (status = 201, description = "The new message", body = parlor_protocol::MessageView),
        (status = 200, description = "The message already stored under this `client_id`", body = parlor_protocol::MessageView),
        (status = 404, description = "No such conversation", body = parlor_protocol::ErrorBody),
        (status = 409, description = "The conversation is archived (`conversation_archived`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn send_seed(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Json(body): Json<SeedSendMessageRequest>,
) -> ApiResult<(StatusCode, axum::Json<MessageView>)> {
    store(&state, &me, body.conversation, body.message).await
}

/// 201 for a new message, 200 when the `client_id` was already stored.
async fn store(
    state: &AppState,
    me: &User,
    id: ConversationId,
    body: SendMessageRequest,
) -> ApiResult<(StatusCode, axum::Json<MessageView>)> {
    state.rate_limits.check(Bucket::Sends, Key::User(me.id)).await?;
    let input =
        SendInput { content: body.content, reply_to: body.reply_to, client_id: body.client_id, forwarded: false };
    let appended = state.messages.send(me, id, input).await?;
    let status = if appended.duplicate { StatusCode::OK } else { StatusCode::CREATED };
    let message = appended.message().map(MessageView::from).ok_or_else(crate::error::ApiError::internal)?;
    Ok((status, axum::Json(message)))
}

#[utoipa::path(
    get,
    path = "/api/chat/messages/{id}",
    tag = "messages",
    operation_id = "messages_get_one",
    params(("id" = i64, Path, description = "The message")),
    responses(
        (status = 200, description = "The message", body = parlor_protocol::MessageView),
        (status = 404, description = "No such message", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn get_one(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
) -> ApiResult<axum::Json<MessageView>> {
    let message = state.conversations.message(me.id, MessageId(id)).await?;
    Ok(axum::Json(MessageView::from(&message)))
}

#[utoipa::path(
    patch,
    path = "/api/chat/messages/{id}",
    tag = "messages",
    operation_id = "messages_edit",
    request_body = parlor_protocol::EditMessageRequest,
    params(("id" = i64, Path, description = "The message")),
    responses(
        crate::http::openapi::RateLimited,
        (status = 200, description = "The edited message", body = parlor_protocol::MessageView),
        (status = 404, description = "No such message", body = parlor_protocol::ErrorBody),
        (status = 409, description = "The conversation is archived (`conversation_archived`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn edit(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
    Json(body): Json<EditMessageRequest>,
) -> ApiResult<axum::Json<MessageView>> {
    state.rate_limits.check(Bucket::Sends, Key::User(me.id)).await?;
    state.messages.edit(me.id, MessageId(id), body.content).await?;
    get_one(State(state), CurrentUser(me), Id(id)).await
}

#[utoipa::path(
    delete,
    path = "/api/chat/messages/{id}",
    tag = "messages",
    operation_id = "messages_delete",
    params(("id" = i64, Path, description = "The message")),
    responses(
        crate::http::openapi::RateLimited,
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such message", body = parlor_protocol::ErrorBody),
        (status = 409, description = "The conversation is archived (`conversation_archived`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn delete(State(state): State<AppState>, CurrentUser(me): CurrentUser, Id(id): Id) -> ApiResult<StatusCode> {
    state.rate_limits.check(Bucket::Sends, Key::User(me.id)).await?;
    state.messages.delete(me.id, MessageId(id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Toggles the caller's reaction; returns the message with its reactions now.
#[utoipa::path(
    post,
    path = "/api/chat/messages/{id}/reactions",
    tag = "messages",
    operation_id = "messages_react",
    request_body = parlor_protocol::ReactRequest,
    params(("id" = i64, Path, description = "The message")),
    responses(
        crate::http::openapi::RateLimited,
        (status = 200, description = "The message with its reactions now", body = parlor_protocol::MessageView),
        (status = 404, description = "No such message", body = parlor_protocol::ErrorBody),
        (status = 409, description = "The conversation is archived (`conversation_archived`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn react(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
    Json(body): Json<ReactRequest>,
) -> ApiResult<axum::Json<MessageView>> {
    state.rate_limits.check(Bucket::Sends, Key::User(me.id)).await?;
    state.messages.react(&me, MessageId(id), &body.emoji).await?;
    get_one(State(state), CurrentUser(me), Id(id)).await
}

#[utoipa::path(
    post,
    path = "/api/chat/messages/{id}/forward",
    tag = "messages",
    operation_id = "messages_forward",
    request_body = parlor_protocol::ForwardRequest,
    params(("id" = i64, Path, description = "The message")),
    responses(
        crate::http::openapi::RateLimited,
        (status = 201, description = "The forwarded copy", body = parlor_protocol::MessageView),
        (status = 404, description = "No such message or conversation", body = parlor_protocol::ErrorBody),
        (status = 409, description = "The conversation is archived (`conversation_archived`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn forward(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
    Json(body): Json<ForwardRequest>,
) -> ApiResult<(StatusCode, axum::Json<MessageView>)> {
    state.rate_limits.check(Bucket::Sends, Key::User(me.id)).await?;
    let appended = state.messages.forward(&me, MessageId(id), body.conversation_id).await?;
    let message = appended.message().map(MessageView::from).ok_or_else(crate::error::ApiError::internal)?;
    Ok((StatusCode::CREATED, axum::Json(message)))
}

#[utoipa::path(
    get,
    path = "/api/chat/messages/{id}/receipts",
    tag = "messages",
    operation_id = "messages_receipts",
    params(("id" = i64, Path, description = "The message")),
    responses(
        (status = 200, description = "Who received and read the message", body = parlor_protocol::MessageReceipts),
        (status = 404, description = "No such message", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn receipts(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
) -> ApiResult<axum::Json<MessageReceipts>> {
    let (message, read, delivered, recipients) = state.receipts.receipts(me.id, MessageId(id)).await?;
    let status = if recipients > 0 && read.len() == recipients {
        "read"
    } else if recipients > 0 && delivered.len() == recipients {
        "delivered"
    } else {
        "sent"
    };
    Ok(axum::Json(MessageReceipts {
        message_id: message.id,
        message_seq: message.seq,
        status,
        read_count: read.len(),
        delivered_count: delivered.len(),
        read_by: read.iter().map(UserView::from).collect(),
        delivered_to: delivered.iter().map(UserView::from).collect(),
        recipient_count: recipients,
    }))
}
