//! Retention: a conversation's own period (disappearing messages, set by a room's owner or
//! either side of a direct conversation), the server's (`retention.messages_days`), the sweeper
//! that applies both in small batches, and the legal hold (server API) that suspends them.

use std::time::Duration;

use parlor_core::{ConversationId, ConversationKind, Role, Timestamp, UserId};
use tokio_util::sync::CancellationToken;

use super::Privacy;
use crate::error::{ApiError, ApiResult, OrNotFound};

/// The longest retention a conversation may set: ten years.
pub const MAX_RETENTION_SECS: i64 = 10 * 365 * 86_400;

impl Privacy {
    /// Sets how long the conversation keeps messages (`None`: as long as the server does).
    /// Rooms: owners only; direct conversations: either side. Others get the same 404 as for a
    /// missing conversation.
    pub async fn set_retention(&self, me: UserId, id: ConversationId, secs: Option<i64>) -> ApiResult<()> {
        if let Some(secs) = secs
            && !(1..=MAX_RETENTION_SECS).contains(&secs)
        {
            let why = format!("must be 1 to {MAX_RETENTION_SECS} seconds, or null");
            return Err(ApiError::from(parlor_core::ValidationError::new("retention_secs", why)));
        }
        let overview = self.conversations.conversation(me, id).await?;
        if !overview.membership.active {
            return Err(ApiError::not_found("conversation"));
        }
        if overview.conversation.kind == ConversationKind::Room && overview.membership.role != Role::Owner {
            return Err(ApiError::forbidden("only the room's owners can change how long it keeps messages"));
        }
        let appended = self.store.set_retention(id, me, secs).await.or_not_found("conversation")?;
        if let Some(appended) = appended {
            tracing::info!(conversation_id = %id.0, user_id = %me, retention_secs = ?secs, "conversation retention set");
            self.hub.publish(&appended.event).await;
        }
        Ok(())
    }

    /// Sets or clears a legal hold (server API): while set, nothing in the conversation is
    /// erased, by retention or by an account's erasure.
    pub async fn set_legal_hold(&self, id: ConversationId, on: bool) -> ApiResult<()> {
        self.store.set_legal_hold(id, on).await.or_not_found("conversation")?;
        tracing::info!(conversation_id = %id.0, on, "legal hold changed");
        Ok(())
    }

    /// One sweep: batches of at most `retention.batch` messages, each its own short
    /// transaction, until a batch comes back short. Returns how many messages were erased.
    pub async fn sweep(&self) -> usize {
        let now = Timestamp::now();
        let days = self.retention.messages_days;
        let server_cutoff =
            (days > 0.0).then(|| Timestamp::from_millis(now.as_millis().saturating_sub((days * 86_400_000.0) as i64)));
        let mut erased = 0;
        loop {
            let swept = match self.store.sweep_messages(server_cutoff, now, self.retention.batch).await {
                Ok(swept) => swept,
                Err(e) => {
                    tracing::warn!(error = %e, "retention sweep failed");
                    return erased;
                }
            };
            for file in &swept.files {
                self.attachments.remove_files(file).await;
            }
            for event in &swept.events {
                self.hub.publish(event).await;
            }
            erased += swept.events.len();
            if swept.events.len() < self.retention.batch as usize {
                return erased;
            }
            // Between batches, whatever else waits for the write connection goes first.
            tokio::task::yield_now().await;
        }
    }

    /// Sweeps every `retention.sweep_secs` until shutdown.
    pub async fn sweep_every_tick(self, shutdown: CancellationToken) {
        let mut ticker = tokio::time::interval(Duration::from_secs_f64(self.retention.sweep_secs));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = ticker.tick() => {
                    let erased = self.sweep().await;
                    if erased > 0 {
                        tracing::info!(erased, "messages past their retention erased");
                    }
                }
            }
        }
    }
}
