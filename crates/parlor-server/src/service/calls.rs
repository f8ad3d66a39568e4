//! What a call needs of `Chat`: who may call in a conversation (members only, nobody across a
//! block in a direct conversation: refused like a missing conversation) and writing the call's
//! message when it ends, delivered like any message. The live call is `crate::calls`.

use std::sync::Arc;

use parlor_core::{CallRecord, ConversationId, Message, UserId};
use parlor_store::StoreError;

use super::Chat;
use crate::error::{ApiError, ApiResult};

impl Chat {
    /// The members of a conversation `me` may call in: `me` is one, and in a direct conversation
    /// neither blocked the other (nor, under `dm_policy = "connections"`, are they strangers).
    /// Every refusal is the same 404 as a missing conversation, so a call reveals no block.
    pub async fn callable_members(&self, me: UserId, id: ConversationId) -> ApiResult<Arc<[UserId]>> {
        self.ensure_member(me, id).await?;
        if self.check_can_write(me, id).await.is_err() {
            return Err(ApiError::not_found("conversation"));
        }
        Ok(self.hub.members(id).await?)
    }

    /// Refuses a call in an archived conversation: it takes no new messages, so the call's
    /// message could not be kept.
    pub async fn check_not_archived(&self, id: ConversationId) -> ApiResult<()> {
        let archived = self.store.conversation_with_members(id).await?.is_some_and(|(c, _)| c.archived_at.is_some());
        if archived { Err(StoreError::Rule("archived").into()) } else { Ok(()) }
    }

    /// Whether `a` and `b` blocked each other: in a room, a call does not ring across a block.
    pub async fn blocked_either(&self, a: UserId, b: UserId) -> ApiResult<bool> {
        self.blocked_between(a, b).await
    }

    /// Stores the call's message (written by the caller) and delivers it like any message:
    /// history, unread counts, notifications and webhooks see it.
    pub async fn record_call(&self, id: ConversationId, caller: UserId, record: &CallRecord) -> ApiResult<Message> {
        let appended = self.store.append_call(id, caller, record).await.map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("conversation"),
            other => other.into(),
        })?;
        self.hub.publish(&appended.event).await;
        let message = appended.message().ok_or_else(ApiError::internal)?.clone();
        self.after_message(&message);
        Ok(message)
    }
}
