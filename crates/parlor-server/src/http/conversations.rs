//! `/api/chat/conversations/*` (except messages) and `/api/chat/unread-count/`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use parlor_core::{ConversationId, ValidationError};
use parlor_protocol::{
    ConversationPage, ConversationReceipts, ConversationView, CreateConversationRequest, MarkReadRequest,
    MarkReadResponse, PositionView, UnreadCounts, UnreadEntry,
};
use parlor_store::{ConversationFilter, ReadUpTo};
use serde::Deserialize;

use super::extract::{Id, Json, Query, optional_json};
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::rate_limit::{Bucket, Key};
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    #[serde(default)]
    context_type: Option<String>,
    #[serde(default)]
    context_id: Option<String>,
    /// Conversations per page: 1 to 500, default 100.
    #[serde(default)]
    limit: Option<u32>,
    /// The previous page's `next_cursor`: the page after it.
    #[serde(default)]
    after: Option<String>,
}

/// Most recent activity first, a page at a time (`has_more`; pass `next_cursor` back as
/// `after`); `?context_type=job&context_id=42` narrows to one context.
#[utoipa::path(
    get,
    path = "/api/chat/conversations",
    tag = "conversations",
    operation_id = "conversations_list",
    params(ListParams),
    responses(
        (status = 200, description = "The caller's conversations, most recent activity first", body = parlor_protocol::ConversationPage),
        (status = 400, description = "A query parameter has the wrong type (`invalid_body`) or breaks a rule (`validation_failed`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Query(params): Query<ListParams>,
) -> ApiResult<axum::Json<ConversationPage>> {
    let after = params.after.as_deref().map(cursor::parse).transpose()?;
    let filter =
        ConversationFilter { context_type: params.context_type, context_id: params.context_id, after, limit: 0 };
    let (found, has_more) = state.conversations.conversations(me.id, filter, params.limit).await?;
    let next_cursor = found.last().filter(|_| has_more).map(cursor::of);
    Ok(axum::Json(ConversationPage {
        results: found.iter().map(ConversationView::from).collect(),
        next_cursor,
        has_more,
    }))
}

/// 201 when the conversation is new, 200 when it already existed. With `external_id` (host-app
/// mode) the other person is the platform's user of that id, created on first reference and
/// named when the platform tells parlor (their first token, or the server API's upsert).
#[utoipa::path(
    post,
    path = "/api/chat/conversations",
    tag = "conversations",
    operation_id = "conversations_open_direct",
    request_body = parlor_protocol::CreateConversationRequest,
    responses(
        (status = 201, description = "A new direct conversation", body = parlor_protocol::ConversationView),
        (status = 200, description = "The direct conversation that already existed", body = parlor_protocol::ConversationView),
        (status = 404, description = "No such user (`user_id`; an `external_id` outside host-app mode)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::BodyErrors,
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn open_direct(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Json(body): Json<CreateConversationRequest>,
) -> ApiResult<(StatusCode, axum::Json<ConversationView>)> {
    let other = match (body.user_id, body.external_id) {
        (Some(id), None) => id,
        (None, Some(external_id)) => {
            // A user created here counts as a write of the caller's.
            state.rate_limits.check(Bucket::Sends, Key::User(me.id)).await?;
            state.accounts.platform_user_by_reference(&external_id).await?.id
        }
        _ => return Err(ValidationError::new("user_id", "send one of `user_id` or `external_id`").into()),
    };
    let (overview, created) = state.conversations.open_direct(me.id, other).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(ConversationView::from(&overview))))
}

#[utoipa::path(
    get,
    path = "/api/chat/conversations/{id}",
    tag = "conversations",
    operation_id = "conversations_get_one",
    params(("id" = i64, Path, description = "The conversation")),
    responses(
        (status = 200, description = "The conversation", body = parlor_protocol::ConversationView),
        (status = 404, description = "No such conversation, or the caller was never a member", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn get_one(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
) -> ApiResult<axum::Json<ConversationView>> {
    let overview = state.conversations.conversation(me.id, ConversationId(id)).await?;
    state.delivery_receipts.note_fetched(me.id, &overview);
    Ok(axum::Json(ConversationView::from(&overview)))
}

#[utoipa::path(
    post,
    path = "/api/chat/conversations/{id}/mark_read",
    tag = "conversations",
    operation_id = "conversations_mark_read",
    request_body(content = Option<parlor_protocol::MarkReadRequest>, description = "Optional: without a body everything is read"),
    params(("id" = i64, Path, description = "The conversation")),
    responses(
        (status = 200, description = "The read position now", body = parlor_protocol::MarkReadResponse),
        (status = 400, description = "The body is not JSON or has the wrong shape", body = parlor_protocol::ErrorBody),
        (status = 413, description = "The body is too large (`payload_too_large`)", body = parlor_protocol::ErrorBody),
        (status = 404, description = "No such conversation", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn mark_read(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
    body: Bytes,
) -> ApiResult<axum::Json<MarkReadResponse>> {
    let request: MarkReadRequest = optional_json(&body)?;
    let mut named = request.message_ids.unwrap_or_default();
    named.extend(request.message_id);
    let up_to = if named.is_empty() { ReadUpTo::Latest } else { ReadUpTo::Messages(named) };
    let outcome = state.receipts.mark_read(me.id, ConversationId(id), up_to).await?;
    Ok(axum::Json(MarkReadResponse {
        conversation_id: ConversationId(id),
        last_read_seq: outcome.last_read_seq,
        unread_count: outcome.unread_count,
    }))
}

#[utoipa::path(
    get,
    path = "/api/chat/unread-count",
    tag = "conversations",
    operation_id = "conversations_unread_count",
    responses(
        (status = 200, description = "Unread messages per conversation", body = parlor_protocol::UnreadCounts),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn unread_count(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> ApiResult<axum::Json<UnreadCounts>> {
    let counts = state.receipts.unread_counts(me.id).await?;
    Ok(axum::Json(UnreadCounts {
        total: counts.iter().map(|(_, n)| n).sum(),
        conversations: counts
            .into_iter()
            .map(|(conversation_id, unread_count)| UnreadEntry { conversation_id, unread_count })
            .collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/api/chat/conversations/{id}/receipts",
    tag = "conversations",
    operation_id = "conversations_receipts",
    params(("id" = i64, Path, description = "The conversation")),
    responses(
        (status = 200, description = "Every member's delivered and read position", body = parlor_protocol::ConversationReceipts),
        (status = 404, description = "No such conversation", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn receipts(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
) -> ApiResult<axum::Json<ConversationReceipts>> {
    let positions = state.receipts.positions(me.id, ConversationId(id)).await?;
    Ok(axum::Json(ConversationReceipts {
        conversation_id: ConversationId(id),
        members: positions
            .into_iter()
            .map(|p| PositionView {
                user_id: p.user_id,
                last_read_seq: p.last_read_seq,
                delivered_seq: p.delivered_seq,
            })
            .collect(),
    }))
}

/// The conversation list's cursor: `<last activity, ms>.<id>` of the page's last entry. Opaque
/// to clients, and any text a client makes up is checked like any other input.
mod cursor {
    use parlor_core::{ConversationId, ConversationOverview, Timestamp};
    use parlor_protocol::ErrorCode;
    use parlor_store::ListPosition;

    use crate::error::{ApiError, ApiResult};

    pub fn of(o: &ConversationOverview) -> String {
        format!("{}.{}", o.conversation.last_activity_at.as_millis(), o.conversation.id.0)
    }

    pub fn parse(text: &str) -> ApiResult<ListPosition> {
        let invalid = || ApiError::bad_request(ErrorCode::ValidationFailed, "after: not a cursor from this list");
        let (at, id) = text.split_once('.').ok_or_else(invalid)?;
        let at = at.parse::<i64>().map_err(|_| invalid())?;
        let id = id.parse::<i64>().map_err(|_| invalid())?;
        Ok(ListPosition { last_activity_at: Timestamp::from_millis(at), id: ConversationId(id) })
    }
}
