//! `/api/connections/`: contact requests between users, and accepting them (the API keeps seed
//! 001's word, "connection"; the code says contact).

use axum::extract::State;
use axum::http::StatusCode;
use parlor_core::{Contact, ContactStatus, ConversationId, UserId};
use parlor_protocol::{ConnectionList, ConnectionRequestBody, ConnectionView, UserView};

use super::extract::{Id, Json};
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::service::EndContact;
use crate::state::AppState;

async fn view(
    state: &AppState,
    me: UserId,
    c: &Contact,
    conversation: Option<ConversationId>,
) -> ApiResult<ConnectionView> {
    let (other, direction) = if c.requester == me { (c.addressee, "outgoing") } else { (c.requester, "incoming") };
    let user = state.accounts.user(other).await.map_err(|_| ApiError::not_found("connection"))?;
    Ok(ConnectionView {
        id: c.id,
        status: match c.status {
            ContactStatus::Pending => "pending",
            ContactStatus::Accepted => "accepted",
        },
        direction,
        user: UserView::from(&user),
        created_at: c.created_at,
        conversation_id: conversation,
    })
}

#[utoipa::path(
    get,
    path = "/api/connections",
    tag = "connections",
    operation_id = "connections_list",
    responses(
        (status = 200, description = "The caller's connections and requests", body = parlor_protocol::ConnectionList),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> ApiResult<axum::Json<ConnectionList>> {
    let mut results = Vec::new();
    for c in state.contacts.contacts(me.id).await? {
        results.push(view(&state, me.id, &c, None).await?);
    }
    Ok(axum::Json(ConnectionList { results }))
}

#[utoipa::path(
    post,
    path = "/api/connections",
    tag = "connections",
    operation_id = "connections_request",
    request_body = parlor_protocol::ConnectionRequestBody,
    responses(
        (status = 201, description = "The request (or the connection, when the other user had asked too)", body = parlor_protocol::ConnectionView),
        (status = 404, description = "No such user", body = parlor_protocol::ErrorBody),
        (status = 409, description = "A connection or request already exists (`connection_exists`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn request(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Json(body): Json<ConnectionRequestBody>,
) -> ApiResult<(StatusCode, axum::Json<ConnectionView>)> {
    let (contact, conversation) = state.contacts.request_contact(me.id, body.user_id).await?;
    Ok((StatusCode::CREATED, axum::Json(view(&state, me.id, &contact, conversation).await?)))
}

#[utoipa::path(
    post,
    path = "/api/connections/{id}/accept",
    tag = "connections",
    operation_id = "connections_accept",
    params(("id" = i64, Path, description = "The connection")),
    responses(
        (status = 200, description = "The accepted connection and its direct conversation", body = parlor_protocol::ConnectionView),
        (status = 404, description = "No such incoming request", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn accept(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
) -> ApiResult<axum::Json<ConnectionView>> {
    let (contact, conversation) = state.contacts.accept_contact(me.id, id).await?;
    Ok(axum::Json(view(&state, me.id, &contact, Some(conversation)).await?))
}

#[utoipa::path(
    post,
    path = "/api/connections/{id}/decline",
    tag = "connections",
    operation_id = "connections_decline",
    params(("id" = i64, Path, description = "The connection")),
    responses(
        (status = 204, description = "Declined"),
        (status = 404, description = "No such incoming request", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn decline(State(state): State<AppState>, CurrentUser(me): CurrentUser, Id(id): Id) -> ApiResult<StatusCode> {
    state.contacts.end_contact(me.id, id, EndContact::Decline).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/connections/{id}/cancel",
    tag = "connections",
    operation_id = "connections_cancel",
    params(("id" = i64, Path, description = "The connection")),
    responses(
        (status = 204, description = "Cancelled"),
        (status = 404, description = "No such outgoing request", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn cancel(State(state): State<AppState>, CurrentUser(me): CurrentUser, Id(id): Id) -> ApiResult<StatusCode> {
    state.contacts.end_contact(me.id, id, EndContact::Cancel).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    delete,
    path = "/api/connections/{id}",
    tag = "connections",
    operation_id = "connections_remove",
    params(("id" = i64, Path, description = "The connection")),
    responses(
        (status = 204, description = "Removed"),
        (status = 404, description = "No such connection", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn remove(State(state): State<AppState>, CurrentUser(me): CurrentUser, Id(id): Id) -> ApiResult<StatusCode> {
    state.contacts.end_contact(me.id, id, EndContact::Remove).await?;
    Ok(StatusCode::NO_CONTENT)
}
