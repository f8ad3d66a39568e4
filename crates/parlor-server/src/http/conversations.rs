//! `/api/chat/conversations/*` (except messages) and `/api/chat/unread-count/`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use parlor_core::ConversationId;
use parlor_protocol::{
    ConversationList, ConversationReceipts, ConversationView, CreateConversationRequest, MarkReadRequest,
    MarkReadResponse, PositionView, UnreadCounts, UnreadEntry,
};
use parlor_store::{ConversationFilter, ReadUpTo};
use serde::Deserialize;

use super::extract::{Id, Json, Query, optional_json};
use crate::auth::CurrentUser;
use crate::error::ApiResult;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(default)]
    context_type: Option<String>,
    #[serde(default)]
    context_id: Option<String>,
}

/// Most recent activity first; `?context_type=job&context_id=42` narrows to one context.
pub async fn list(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Query(params): Query<ListParams>,
) -> ApiResult<axum::Json<ConversationList>> {
    let filter = ConversationFilter { context_type: params.context_type, context_id: params.context_id, limit: 0 };
    let found = state.chat.conversations(me.id, filter).await?;
    Ok(axum::Json(ConversationList { results: found.iter().map(ConversationView::from).collect() }))
}

/// 201 when the conversation is new, 200 when it already existed.
pub async fn open_direct(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Json(body): Json<CreateConversationRequest>,
) -> ApiResult<(StatusCode, axum::Json<ConversationView>)> {
    let (overview, created) = state.chat.open_direct(me.id, body.user_id).await?;
    let status = if created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, axum::Json(ConversationView::from(&overview))))
}

pub async fn get_one(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
) -> ApiResult<axum::Json<ConversationView>> {
    let overview = state.chat.conversation(me.id, ConversationId(id)).await?;
    Ok(axum::Json(ConversationView::from(&overview)))
}

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
    let outcome = state.chat.mark_read(me.id, ConversationId(id), up_to).await?;
    Ok(axum::Json(MarkReadResponse {
        conversation_id: ConversationId(id),
        last_read_seq: outcome.last_read_seq,
        unread_count: outcome.unread_count,
    }))
}

pub async fn unread_count(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
) -> ApiResult<axum::Json<UnreadCounts>> {
    let counts = state.chat.unread_counts(me.id).await?;
    Ok(axum::Json(UnreadCounts {
        total: counts.iter().map(|(_, n)| n).sum(),
        conversations: counts
            .into_iter()
            .map(|(conversation_id, unread_count)| UnreadEntry { conversation_id, unread_count })
            .collect(),
    }))
}

pub async fn receipts(
    State(state): State<AppState>,
    CurrentUser(me): CurrentUser,
    Id(id): Id,
) -> ApiResult<axum::Json<ConversationReceipts>> {
    let positions = state.chat.positions(me.id, ConversationId(id)).await?;
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
