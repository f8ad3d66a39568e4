//! `/api/chat/search/messages/` and `/api/chat/search/conversations/`.

use axum::extract::State;
use parlor_core::{AttachmentFilter, ConversationId, SearchCursor, Timestamp, UserId};
use parlor_protocol::{ConversationList, ConversationView, ErrorCode, MessageHitView, MessageSearchPage};
use serde::Deserialize;

use super::extract::Query;
use crate::auth::CurrentUser;
use crate::error::{ApiError, ApiResult};
use crate::service::MessageSearchInput;
use crate::state::AppState;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageParams {
    /// `search` is the name Django REST framework's search filter uses.
    #[serde(default, alias = "search")]
    q: String,
    #[serde(default)]
    conversation_id: Option<i64>,
    #[serde(default)]
    sender_id: Option<i64>,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    has: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
    /// Results to skip, at most 1000 (page deeper with `cursor`).
    #[serde(default)]
    offset: Option<u32>,
    /// `next_cursor` of the previous page: the next page of the same list, unshifted by
    /// messages sent since (not with `offset`).
    #[serde(default)]
    cursor: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/chat/search/messages",
    tag = "search",
    operation_id = "search_messages",
    params(MessageParams),
    responses(
        (status = 200, description = "Hits, best match first within windows of the newest matches", body = parlor_protocol::MessageSearchPage),
        (status = 400, description = "A query parameter has the wrong type (`invalid_body`) or breaks a rule (`validation_failed`)", body = parlor_protocol::ErrorBody),
        (status = 404, description = "`conversation_id` names a conversation the caller is not in", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn messages(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Query(p): Query<MessageParams>,
) -> ApiResult<axum::Json<MessageSearchPage>> {
    let has = p.has.as_deref().map(AttachmentFilter::parse).transpose();
    let cursor = p.cursor.as_deref().map(SearchCursor::parse).transpose();
    let cursor = cursor.map_err(|e| ApiError::bad_request(ErrorCode::InvalidBody, e.to_string()))?;
    if cursor.is_some() && p.offset.is_some() {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidBody,
            "offset: not with cursor, which says where the page starts",
        ));
    }
    let input = MessageSearchInput {
        q: p.q,
        conversation_id: p.conversation_id.map(ConversationId),
        sender_id: p.sender_id.map(UserId),
        after: time("after", p.after.as_deref())?,
        before: time("before", p.before.as_deref())?,
        has: has.map_err(|e| ApiError::bad_request(ErrorCode::InvalidBody, e.to_string()))?,
        limit: p.limit,
        offset: p.offset.unwrap_or(0),
        cursor,
    };
    let offset = input.offset;
    let page = state.search.search_messages(me.id, input).await?;
    let has_more = page.next.is_some();
    // An offset continues an offset; a cursor's pages say only their cursor.
    let next_offset = (has_more && cursor.is_none())
        .then(|| offset.saturating_add(u32::try_from(page.hits.len()).unwrap_or(u32::MAX)));
    Ok(axum::Json(MessageSearchPage {
        results: page.hits.iter().map(MessageHitView::from).collect(),
        next_offset,
        next_cursor: page.next.map(|c| c.to_string()),
        has_more,
    }))
}

/// A time in the API's own format (RFC 3339, e.g. `2025-10-25T10:00:00.000Z`).
fn time(field: &str, raw: Option<&str>) -> ApiResult<Option<Timestamp>> {
    let Some(raw) = raw else { return Ok(None) };
    let parsed = chrono::DateTime::parse_from_rfc3339(raw).map_err(|_| {
        ApiError::bad_request(
            ErrorCode::InvalidBody,
            format!(
                "{field}: expected an RFC 3339 time such as 2025-10-25T10:00:00.000Z (a `+` offset must be sent as %2B)"
            ),
        )
    })?;
    Ok(Some(Timestamp::from_millis(parsed.timestamp_millis())))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationParams {
    #[serde(default, alias = "search")]
    q: String,
    #[serde(default)]
    limit: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/api/chat/search/conversations",
    tag = "search",
    operation_id = "search_conversations",
    params(ConversationParams),
    responses(
        (status = 200, description = "Matching conversations", body = parlor_protocol::ConversationList),
        (status = 400, description = "A query parameter has the wrong type (`invalid_body`) or breaks a rule (`validation_failed`)", body = parlor_protocol::ErrorBody),
        crate::http::openapi::AuthErrors,
    ),
)]
pub async fn conversations(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Query(p): Query<ConversationParams>,
) -> ApiResult<axum::Json<ConversationList>> {
    let found = state.search.search_conversations(me.id, &p.q, p.limit).await?;
    Ok(axum::Json(ConversationList { results: found.iter().map(ConversationView::from).collect() }))
}
