//! Opening, listing and reading conversations; membership checks for everything else.

use parlor_core::{ConversationEvent, ConversationId, ConversationOverview, DirectPair, Seq, UserId};

use super::Chat;
use crate::error::{ApiError, ApiResult};

impl Chat {
    /// The one direct conversation between `me` and `other`, and whether it was just created.
    pub async fn open_direct(&self, me: UserId, other: UserId) -> ApiResult<(ConversationOverview, bool)> {
        let pair = DirectPair::new(me, other)?;
        if self.store.user(other).await?.is_none() {
            return Err(ApiError::not_found("user"));
        }
        let (id, created) = self.store.get_or_create_direct(pair).await?;
        if created {
            tracing::info!(conversation_id = %id, user_id = %me, "direct conversation created");
        }
        Ok((self.conversation(me, id).await?, created))
    }

    pub async fn conversation(&self, me: UserId, id: ConversationId) -> ApiResult<ConversationOverview> {
        self.store.overview(id, me).await?.ok_or_else(|| ApiError::not_found("conversation"))
    }

    pub async fn conversations(&self, me: UserId) -> ApiResult<Vec<ConversationOverview>> {
        Ok(self.store.list_overviews(me, 500).await?)
    }

    /// Succeeds only for members; everyone else gets the same 404 as for a missing conversation.
    pub async fn ensure_member(&self, me: UserId, id: ConversationId) -> ApiResult<()> {
        let members = self.hub.members(id).await?;
        if members.contains(&me) { Ok(()) } else { Err(ApiError::not_found("conversation")) }
    }

    /// Logged events after `after`, for a member's resume. `None` when more than the replay limit
    /// were missed: the client must reload instead.
    pub async fn missed_events(
        &self,
        me: UserId,
        id: ConversationId,
        after: Seq,
    ) -> ApiResult<Option<Vec<ConversationEvent>>> {
        self.ensure_member(me, id).await?;
        let max = self.limits.replay_max;
        let events = self.store.events_after(id, after, max + 1).await?;
        Ok((events.len() <= max as usize).then_some(events))
    }

    /// Events strictly between two positions the connection has already seen; used to fill a gap.
    pub async fn events_between(
        &self,
        id: ConversationId,
        after: Seq,
        before: Seq,
    ) -> ApiResult<Vec<ConversationEvent>> {
        let wanted = u32::try_from(before.0 - after.0 - 1).unwrap_or(u32::MAX).min(self.limits.replay_max);
        Ok(self.store.events_after(id, after, wanted).await?)
    }

    pub async fn last_event_seq(&self, id: ConversationId) -> ApiResult<Seq> {
        Ok(self.store.last_event_seq(id).await?)
    }
}
