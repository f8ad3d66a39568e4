//! Read positions and unread counts.

use parlor_core::{ConversationId, Message, MessageId, Seq, User, UserId};
use std::collections::HashMap;
use std::time::Duration;

use parlor_store::{DeliveredUpTo, MemberPosition, ReadOutcome, ReadUpTo, StoreError};
use tokio_util::sync::CancellationToken;

use super::Chat;
use crate::error::{ApiError, ApiResult};

impl Chat {
    /// Moves `me`'s read position forward and tells the other members (and `me`'s other devices).
    pub async fn mark_read(&self, me: UserId, id: ConversationId, up_to: ReadUpTo) -> ApiResult<ReadOutcome> {
        // The position is kept whatever happens; who hears of it is the write check's to say.
        let log = self.receipts_logged(id).await && self.receipts_shown(me, id).await;
        let outcome = self.store.mark_read(id, me, up_to, log).await.map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("conversation"),
            other => other.into(),
        })?;
        if let Some(event) = &outcome.event {
            self.hub.publish(event).await;
        }
        self.settle_notifications(me, id).await;
        Ok(outcome)
    }

    /// Whether receipts in this conversation are logged and pushed (see
    /// `limits.receipt_events_max_members`).
    async fn receipts_logged(&self, id: ConversationId) -> bool {
        self.hub.members(id).await.is_ok_and(|m| m.len() <= self.limits.receipt_events_max_members)
    }

    pub async fn unread_counts(&self, me: UserId) -> ApiResult<Vec<(ConversationId, i64)>> {
        Ok(self.store.unread_counts(me).await?)
    }
}

/// How often the node writes the delivery receipts its connections gathered.
pub const RECEIPT_INTERVAL: Duration = Duration::from_millis(250);

impl Chat {
    /// Notes that one of `me`'s devices received a conversation's messages up to `up_to`. Costs
    /// no write: the node gathers receipts and writes them every [`RECEIPT_INTERVAL`]
    /// ([`Chat::write_receipts`]), at most one per member and conversation, all in one write.
    pub fn note_delivered(&self, me: UserId, id: ConversationId, up_to: Seq) {
        if let Ok(mut pending) = self.delivered.lock() {
            let newest = pending.entry((id, me)).or_insert(up_to);
            *newest = (*newest).max(up_to);
        }
    }

    /// Writes the receipts gathered since the last call, all in one write
    /// (`Store::mark_delivered_many`), and tells the conversations whose receipts are logged
    /// (small ones): a tick costs a few statements whether it gathered ten receipts or 10,000.
    pub async fn write_receipts(&self) {
        let gathered = match self.delivered.lock() {
            Ok(mut pending) => std::mem::take(&mut *pending),
            Err(_) => return,
        };
        if gathered.is_empty() {
            return;
        }
        // The policy is per conversation: a room's 10,000 receipts ask it once.
        let mut logged: HashMap<ConversationId, bool> = HashMap::new();
        let mut receipts = Vec::with_capacity(gathered.len());
        for ((id, user), up_to) in gathered {
            let log = match logged.get(&id) {
                Some(&log) => log,
                None => *logged.entry(id).or_insert(self.receipts_logged(id).await),
            } && self.receipts_shown(user, id).await;
            receipts.push(DeliveredUpTo { conversation: id, user, up_to, log });
        }
        match self.store.mark_delivered_many(&receipts).await {
            Ok(events) => {
                for event in &events {
                    self.hub.publish(event).await;
                }
            }
            Err(e) => tracing::warn!(receipts = receipts.len(), error = %e, "delivery receipts not stored"),
        }
    }

    /// Writes gathered receipts every [`RECEIPT_INTERVAL`] until shutdown (the server writes
    /// the last ones once every connection has closed).
    pub async fn write_receipts_every_tick(self, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(RECEIPT_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tick.tick() => self.write_receipts().await,
            }
        }
    }

    /// Every current member's read and delivered positions (only the caller's own in a direct
    /// conversation across a block or, under the `connections` policy, a removed connection).
    pub async fn positions(&self, me: UserId, id: ConversationId) -> ApiResult<Vec<MemberPosition>> {
        // Former members see the past, not who reads what now.
        self.active_member(me, id).await?;
        let mut positions = self.store.positions(id).await?;
        if !self.receipts_shown(me, id).await {
            positions.retain(|p| p.user_id == me);
        }
        Ok(positions)
    }

    /// Who has received and read one message, and its status from the sender's side.
    pub async fn receipts(&self, me: UserId, id: MessageId) -> ApiResult<(Message, Vec<User>, Vec<User>, usize)> {
        let message = self.message(me, id).await?;
        self.active_member(me, message.conversation_id).await.map_err(|_| ApiError::not_found("message"))?;
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
