//! `Reach`, the write check: whether something a user does may reach another person. Every
//! action that lands in front of someone else asks here, so a block (either way) and the
//! `connections` DM policy hold for all of them alike: writing in a conversation (send, forward
//! into, upload, edit, type: [`Reach::check_can_write`]), reacting to a message, read and
//! delivery receipts shown in a direct conversation ([`Reach::receipts_shown`]), asking to
//! connect ([`Reach::check_can_contact`]), opening a DM and adding someone to a room
//! ([`Reach::check_can_add`]); @mentions and room invitations notify nobody across a block
//! ([`Reach::block_partners`]). docs/security.md lists them with their tests. It depends on no
//! other service: the others ask it.

use std::collections::HashSet;
use std::sync::Arc;

use parlor_core::{ConversationId, ConversationKind, UserId};
use parlor_protocol::ErrorCode;
use parlor_store::Store;

use crate::bus::Hub;
use crate::config::DmPolicy;
use crate::error::{ApiError, ApiResult};

#[derive(Clone)]
pub struct Reach {
    store: Arc<dyn Store>,
    /// Member lists, and the per-pair block cache.
    hub: Hub,
    dm_policy: DmPolicy,
}

/// How an action reaches the other person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Via {
    /// One to one: a direct conversation, or putting someone in a room. A block refuses it and,
    /// under `dm_policy = "connections"`, so does a missing contact.
    Direct,
    /// Inside a room both are in (a reaction to their message): a block refuses it; the DM
    /// policy does not, since the room already lets them see each other.
    InRoom,
    /// Asking to connect: only a block refuses it, since it is how a contact starts.
    Request,
}

impl Reach {
    pub fn new(store: Arc<dyn Store>, hub: Hub, dm_policy: DmPolicy) -> Self {
        Self { store, hub, dm_policy }
    }

    /// The one check: `Ok` when `me` may reach `other` this way.
    pub(super) async fn check(&self, me: UserId, other: UserId, reach: Via) -> ApiResult<()> {
        match self.reach_refusal(me, other, reach).await? {
            Some(refusal) => Err(refusal),
            None => Ok(()),
        }
    }

    /// Why `me` may not reach `other` this way, if they may not.
    async fn reach_refusal(&self, me: UserId, other: UserId, reach: Via) -> ApiResult<Option<ApiError>> {
        if me == other || other == UserId::SYSTEM {
            return Ok(None);
        }
        if self.blocked_between(me, other).await? {
            return Ok(Some(blocked()));
        }
        if reach == Via::Direct
            && self.dm_policy == DmPolicy::Connections
            && !self.store.are_contacts(me, other).await?
        {
            return Ok(Some(
                ApiError::forbidden("connect with this user first").with_code(ErrorCode::ConnectionRequired),
            ));
        }
        Ok(None)
    }

    /// Whether a member may write (send, forward into, upload, edit, type, react) here: in a
    /// direct conversation, whether they may reach the other member directly. Rooms are shared
    /// space: a block does not silence anyone in them.
    pub(super) async fn check_can_write(&self, me: UserId, id: ConversationId) -> ApiResult<()> {
        let members = self.hub.members(id).await?;
        let [a, b] = members[..] else { return Ok(()) };
        let other = if a == me { b } else { a };
        match self.reach_refusal(me, other, Via::Direct).await? {
            // Only a refusal pays for the kind lookup: a room of two is not a direct conversation.
            Some(refusal) if self.kind(me, id).await? == ConversationKind::Direct => Err(refusal),
            _ => Ok(()),
        }
    }

    /// The kind of a conversation `me` may see (the same 404 as a missing one otherwise).
    async fn kind(&self, me: UserId, id: ConversationId) -> ApiResult<ConversationKind> {
        let overview = self.store.overview(id, me).await?.ok_or_else(|| ApiError::not_found("conversation"))?;
        Ok(overview.conversation.kind)
    }

    /// Whether `me`'s read and delivery positions here may be shown to the others, and theirs
    /// to `me`: not in a direct conversation `me` may not write in.
    pub(super) async fn receipts_shown(&self, me: UserId, id: ConversationId) -> bool {
        self.check_can_write(me, id).await.is_ok()
    }

    /// Refuses a direct contact (asking to connect) with someone who does not exist or where
    /// either blocked the other; opening a DM also needs [`Via::Direct`].
    pub(super) async fn check_can_contact(&self, me: UserId, other: UserId, reach: Via) -> ApiResult<()> {
        if self.store.user(other).await?.is_none() {
            return Err(ApiError::not_found("user"));
        }
        self.check(me, other, reach).await
    }

    /// Whom a user may put in a room with themselves: nobody across a block, and under the
    /// `connections` DM policy only their contacts (sharing a room shows presence, so
    /// strangers cannot be pulled into one).
    pub(super) async fn check_can_add(&self, me: UserId, users: &[UserId]) -> ApiResult<()> {
        for &user in users {
            self.check(me, user, Via::Direct).await?;
        }
        Ok(())
    }

    /// Everyone `user` blocked or was blocked by: notifications (mentions, room invitations)
    /// from `user` skip them.
    pub(super) async fn block_partners(&self, user: UserId) -> ApiResult<HashSet<UserId>> {
        Ok(self.store.block_partners(user).await?.into_iter().collect())
    }

    /// Whether either blocked the other, cached per pair: every message in a DM asks, and a
    /// query per message costs more than the send itself. `set_block` drops the pair's entry
    /// (on every node: the cache is the hub's). In a room, a call does not ring across a block.
    pub async fn blocked_between(&self, a: UserId, b: UserId) -> ApiResult<bool> {
        if let Some(known) = self.hub.cached_block(a, b) {
            return Ok(known);
        }
        let blocked = self.store.blocked_between(a, b).await?;
        self.hub.cache_block(a, b, blocked);
        Ok(blocked)
    }
}

fn blocked() -> ApiError {
    ApiError::forbidden("you cannot reach this user: one of you blocked the other").with_code(ErrorCode::Blocked)
}
