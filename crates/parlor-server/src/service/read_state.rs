//! Read positions and unread counts.

use parlor_core::{ConversationId, UserId};
use parlor_store::{ReadOutcome, ReadUpTo, StoreError};

use super::Chat;
use crate::error::{ApiError, ApiResult};

impl Chat {
    /// Moves `me`'s read position forward and tells the other members (and `me`'s other devices).
    pub async fn mark_read(&self, me: UserId, id: ConversationId, up_to: ReadUpTo) -> ApiResult<ReadOutcome> {
        let outcome = self.store.mark_read(id, me, up_to).await.map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("conversation"),
            other => other.into(),
        })?;
        if let Some(event) = &outcome.event {
            self.hub.publish(event).await;
        }
        Ok(outcome)
    }

    pub async fn unread_counts(&self, me: UserId) -> ApiResult<Vec<(ConversationId, i64)>> {
        Ok(self.store.unread_counts(me).await?)
    }
}
