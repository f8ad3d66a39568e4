//! `Receipts`: read positions, unread counts, and who has received and read what. Delivery
//! positions are gathered by [`DeliveryReceipts`]; whether a member's positions are shown to the
//! others is [`Reach`]'s to say.

use std::sync::Arc;

use parlor_core::{ConversationId, Message, MessageId, User, UserId};
use parlor_store::{MemberPosition, ReadOutcome, ReadUpTo, Store};

use super::{Conversations, DeliveryReceipts, Notifications, Reach};
use crate::bus::Hub;
use crate::error::{ApiError, ApiResult, OrNotFound};

#[derive(Clone)]
pub struct Receipts {
    store: Arc<dyn Store>,
    hub: Hub,
    conversations: Conversations,
    reach: Reach,
    /// The receipt policy (which conversations log receipt events).
    delivery_receipts: DeliveryReceipts,
    /// Reading a conversation settles its notifications.
    notifications: Notifications,
}

impl Receipts {
    pub fn new(
        store: Arc<dyn Store>,
        hub: Hub,
        conversations: Conversations,
        reach: Reach,
        delivery_receipts: DeliveryReceipts,
        notifications: Notifications,
    ) -> Self {
        Self { store, hub, conversations, reach, delivery_receipts, notifications }
    }

    /// Moves `me`'s read position forward and tells the other members (and `me`'s other devices).
    pub async fn mark_read(&self, me: UserId, id: ConversationId, up_to: ReadUpTo) -> ApiResult<ReadOutcome> {
        // The position is kept whatever happens; who hears of it is the write check's to say.
        let log = self.delivery_receipts.logged(id).await && self.reach.receipts_shown(me, id).await;
        let outcome = self.store.mark_read(id, me, up_to, log).await.or_not_found("conversation")?;
        if let Some(event) = &outcome.event {
            self.hub.publish(event).await;
        }
        self.notifications.settle_notifications(me, id).await;
        Ok(outcome)
    }

    pub async fn unread_counts(&self, me: UserId) -> ApiResult<Vec<(ConversationId, i64)>> {
        Ok(self.store.unread_counts(me).await?)
    }

    /// Every current member's read and delivered positions (only the caller's own in a direct
    /// conversation across a block or, under the `connections` policy, a removed connection).
    pub async fn positions(&self, me: UserId, id: ConversationId) -> ApiResult<Vec<MemberPosition>> {
        // Former members see the past, not who reads what now.
        self.conversations.active_member(me, id).await?;
        let mut positions = self.store.positions(id).await?;
        if !self.reach.receipts_shown(me, id).await {
            positions.retain(|p| p.user_id == me);
        }
        Ok(positions)
    }

    /// Who has received and read one message, and its status from the sender's side.
    pub async fn receipts(&self, me: UserId, id: MessageId) -> ApiResult<(Message, Vec<User>, Vec<User>, usize)> {
        let message = self.conversations.message(me, id).await?;
        self.conversations
            .active_member(me, message.conversation_id)
            .await
            .map_err(|_| ApiError::not_found("message"))?;
        let positions = self.positions(me, message.conversation_id).await?;
        let others: Vec<&MemberPosition> = positions.iter().filter(|p| p.user_id != message.sender_id).collect();
        let read: Vec<UserId> = others.iter().filter(|p| p.last_read_seq >= message.seq).map(|p| p.user_id).collect();
        let delivered: Vec<UserId> = others
            .iter()
            .filter(|p| p.delivered_seq >= message.seq || p.last_read_seq >= message.seq)
            .map(|p| p.user_id)
            .collect();
        let users = self.store.users(&delivered).await?;
        let pick = |ids: &[UserId]| -> Vec<User> { users.iter().filter(|u| ids.contains(&u.id)).cloned().collect() };
        Ok((message, pick(&read), pick(&delivered), others.len()))
    }
}
