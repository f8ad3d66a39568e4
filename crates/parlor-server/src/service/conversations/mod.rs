//! `Conversations`: opening, listing and reading conversations, one message at a time
//! included; who may read one (`reader`: current and former members) and who is in one
//! (`ensure_member`), which every other service asks; what a call needs of a conversation. A
//! former member sees everything through `former.rs`, this service's other half.

mod former;

use std::sync::Arc;

use parlor_core::{
    ConversationEvent, ConversationId, ConversationOverview, DirectPair, Membership, Message, MessageId, Seq, UserId,
};
use parlor_store::{ConversationFilter, Store, StoreError};

use super::reach::Via;
use super::{DeliveryReceipts, Reach};
use crate::bus::Hub;
use crate::error::{ApiError, ApiResult};

/// Conversations in a list page when the client does not say, and the most it may ask for. A
/// page of 100 overviews (members, last message, unread count) is ~100 KB and a few ms.
pub const CONVERSATION_PAGE_DEFAULT: u32 = 100;
pub const CONVERSATION_PAGE_MAX: u32 = 500;

#[derive(Clone)]
pub struct Conversations {
    store: Arc<dyn Store>,
    /// Current members, cached per conversation.
    hub: Hub,
    reach: Reach,
    /// A fetched conversation counts as delivered.
    delivery_receipts: DeliveryReceipts,
    /// `limits.replay_max`: the most events a resume or a gap fill replays.
    replay_max: u32,
}

impl Conversations {
    pub fn new(
        store: Arc<dyn Store>,
        hub: Hub,
        reach: Reach,
        delivery_receipts: DeliveryReceipts,
        replay_max: u32,
    ) -> Self {
        Self { store, hub, reach, delivery_receipts, replay_max }
    }

    /// The one direct conversation between `me` and `other`, and whether it was just created.
    pub async fn open_direct(&self, me: UserId, other: UserId) -> ApiResult<(ConversationOverview, bool)> {
        let pair = DirectPair::new(me, other)?;
        self.reach.check_can_contact(me, other, Via::Direct).await?;
        let (id, created) = self.store.get_or_create_direct(pair).await?;
        if created {
            tracing::info!(conversation_id = %id, user_id = %me, "direct conversation created");
        }
        Ok((self.conversation(me, id).await?, created))
    }

    /// Members and former members (as it was when they left) see a conversation; everyone
    /// else gets a 404.
    pub async fn conversation(&self, me: UserId, id: ConversationId) -> ApiResult<ConversationOverview> {
        let mut overview = self.store.overview(id, me).await?.ok_or_else(|| ApiError::not_found("conversation"))?;
        self.overview_as_seen(&mut overview).await?;
        Ok(overview)
    }

    /// A page of the caller's conversations (`limit`: 1 to [`CONVERSATION_PAGE_MAX`], default
    /// [`CONVERSATION_PAGE_DEFAULT`]) and whether more follow.
    pub async fn conversations(
        &self,
        me: UserId,
        mut filter: ConversationFilter,
        limit: Option<u32>,
    ) -> ApiResult<(Vec<ConversationOverview>, bool)> {
        let limit = limit.unwrap_or(CONVERSATION_PAGE_DEFAULT).clamp(1, CONVERSATION_PAGE_MAX);
        filter.limit = limit + 1;
        let mut found = self.store.list_overviews(me, &filter).await?;
        let has_more = found.len() > limit as usize;
        found.truncate(limit as usize);
        for overview in &mut found {
            self.overview_as_seen(overview).await?;
            self.delivery_receipts.note_fetched(me, overview);
        }
        Ok((found, has_more))
    }

    /// Succeeds only for current members; everyone else gets the same 404 as for a missing
    /// conversation. For anything that writes or listens live.
    pub async fn ensure_member(&self, me: UserId, id: ConversationId) -> ApiResult<()> {
        let members = self.hub.members(id).await?;
        if members.contains(&me) { Ok(()) } else { Err(ApiError::not_found("conversation")) }
    }

    /// The caller's membership if they may read the conversation: current members everything,
    /// former members up to their departure.
    pub async fn reader(&self, me: UserId, id: ConversationId) -> ApiResult<Membership> {
        self.store.membership(id, me).await?.ok_or_else(|| ApiError::not_found("conversation"))
    }

    /// A current member's membership, for role checks.
    pub(crate) async fn active_member(&self, me: UserId, id: ConversationId) -> ApiResult<Membership> {
        self.reader(me, id).await.and_then(|m| if m.active { Ok(m) } else { Err(ApiError::not_found("conversation")) })
    }

    /// Logged events after `after` that the caller may see. `None` when more than the replay
    /// limit were missed: the client must reload instead.
    pub async fn missed_events(
        &self,
        me: UserId,
        id: ConversationId,
        after: Seq,
    ) -> ApiResult<Option<Vec<ConversationEvent>>> {
        let membership = self.reader(me, id).await?;
        let max = self.replay_max;
        let mut events = self.store.events_after(id, after, max + 1).await?;
        if let Some(cutoff) = membership.event_cutoff() {
            events.retain(|e| e.seq <= cutoff);
        }
        if events.len() > max as usize {
            return Ok(None);
        }
        self.events_as_they_were(&membership, id, &mut events).await?;
        Ok(Some(events))
    }

    /// Events strictly between two positions the connection has already seen; used to fill a gap.
    /// `None` when the gap is larger than the replay limit: the client must resync.
    pub async fn events_between(
        &self,
        me: UserId,
        id: ConversationId,
        after: Seq,
        before: Seq,
    ) -> ApiResult<Option<Vec<ConversationEvent>>> {
        let membership = self.reader(me, id).await?;
        let missing = before.0 - after.0 - 1;
        if missing > i64::from(self.replay_max) {
            return Ok(None);
        }
        let mut events = self.store.events_after(id, after, u32::try_from(missing).unwrap_or(0)).await?;
        if let Some(cutoff) = membership.event_cutoff() {
            events.retain(|e| e.seq <= cutoff);
        }
        self.events_as_they_were(&membership, id, &mut events).await?;
        Ok(Some(events))
    }

    /// The newest event seq the caller may see.
    pub async fn last_event_seq(&self, me: UserId, id: ConversationId) -> ApiResult<Seq> {
        let membership = self.reader(me, id).await?;
        let latest = self.store.last_event_seqs(&[id]).await?.get(&id).copied().unwrap_or(Seq::ZERO);
        Ok(membership.event_cutoff().map_or(latest, |c| c.min(latest)))
    }

    /// One message, for anyone who may read its conversation at that point, as they may see it.
    pub async fn message(&self, me: UserId, id: MessageId) -> ApiResult<Message> {
        let mut message = self.store.message(id).await?.ok_or_else(|| ApiError::not_found("message"))?;
        let membership = self.reader(me, message.conversation_id).await.map_err(|_| ApiError::not_found("message"))?;
        if membership.message_cutoff().is_some_and(|cutoff| message.seq > cutoff) {
            return Err(ApiError::not_found("message"));
        }
        let conversation = message.conversation_id;
        self.as_they_were(&membership, conversation, std::slice::from_mut(&mut message)).await?;
        Ok(message)
    }

    /// The members of a conversation `me` may call in (`crate::calls`): `me` is one, and in a
    /// direct conversation neither blocked the other (nor, under `dm_policy = "connections"`,
    /// are they strangers). Every refusal is the same 404 as a missing conversation, so a call
    /// reveals no block.
    pub async fn callable_members(&self, me: UserId, id: ConversationId) -> ApiResult<Arc<[UserId]>> {
        self.ensure_member(me, id).await?;
        if self.reach.check_can_write(me, id).await.is_err() {
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
}
