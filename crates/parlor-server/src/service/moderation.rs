//! `Moderation`: blocks between users, reports of messages, and what server admins may do
//! (delete any message, disable a user and end their sessions at once). What a block then
//! refuses is [`Reach`](super::Reach)'s to check.

use std::sync::Arc;

use parlor_core::{MessageId, Report, User, UserId};
use parlor_store::{Store, UserFlags};

use super::{Attachments, Conversations};
use crate::bus::Hub;
use crate::error::{ApiError, ApiResult, OrNotFound};

/// Longest report reason kept.
const MAX_REASON_CHARS: usize = 1000;

#[derive(Clone)]
pub struct Moderation {
    store: Arc<dyn Store>,
    /// The block cache, deletions published, a disabled user's sockets closed.
    hub: Hub,
    /// A report names a message the reporter may read.
    conversations: Conversations,
    /// A deleted message's files go with it.
    attachments: Attachments,
}

impl Moderation {
    pub fn new(store: Arc<dyn Store>, hub: Hub, conversations: Conversations, attachments: Attachments) -> Self {
        Self { store, hub, conversations, attachments }
    }

    /// Blocks (`on`) or unblocks `other`: no direct messages between the two either way, no
    /// presence either way, no notifications from them.
    pub async fn set_block(&self, me: UserId, other: UserId, on: bool) -> ApiResult<()> {
        if me == other {
            return Err(ApiError::from(parlor_core::ValidationError::new("user_id", "you cannot block yourself")));
        }
        self.store.set_block(me, other, on).await.or_not_found("user")?;
        self.hub.forget_block(me, other);
        Ok(())
    }

    pub async fn blocked_users(&self, me: UserId) -> ApiResult<Vec<User>> {
        let ids = self.store.blocked_by(me).await?;
        Ok(self.store.users(&ids).await?)
    }

    /// Reports a message the caller can read to the server's admins.
    pub async fn report(&self, me: UserId, id: MessageId, reason: &str) -> ApiResult<Report> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
            return Err(ApiError::from(parlor_core::ValidationError::new("reason", "must be 1 to 1000 characters")));
        }
        let message = self.conversations.message(me, id).await?;
        let report = self.store.report_message(message.id, me, reason).await?;
        tracing::info!(report_id = report.id, message_id = %id.0, "message reported");
        Ok(report)
    }

    pub async fn reports(&self, server_admin: &User, limit: u32) -> ApiResult<Vec<Report>> {
        ensure_server_admin(server_admin)?;
        Ok(self.store.reports(limit).await?)
    }

    /// A server admin deletes any message, member or not.
    pub async fn server_admin_delete(&self, server_admin: &User, id: MessageId) -> ApiResult<()> {
        ensure_server_admin(server_admin)?;
        let attachment = self.store.attachment_of_message(id).await?;
        let event = self.store.delete_message(id).await.or_not_found("message")?;
        if let Some(stored) = &attachment {
            self.attachments.remove_files(stored).await;
        }
        tracing::info!(admin_id = %server_admin.id, message_id = %id.0, "message deleted by a server admin");
        self.hub.publish(&event).await;
        Ok(())
    }

    /// Sets a user's admin and disabled flags (server API, or an admin for `disabled`);
    /// disabling closes their sockets at once.
    pub async fn set_user_flags(&self, user: UserId, flags: UserFlags) -> ApiResult<User> {
        let updated = self.store.set_user_flags(user, &flags).await.or_not_found("user")?;
        match flags.disabled {
            Some(true) => {
                tracing::info!(user_id = %user, "user disabled");
                self.hub.disconnect_user(user);
            }
            Some(false) => self.hub.reconnect_user(user),
            None => {}
        }
        Ok(updated)
    }

    pub async fn server_admin_set_disabled(
        &self,
        server_admin: &User,
        user: UserId,
        disabled: bool,
    ) -> ApiResult<User> {
        ensure_server_admin(server_admin)?;
        if server_admin.id == user {
            return Err(ApiError::forbidden("admins cannot disable themselves"));
        }
        self.set_user_flags(user, UserFlags { admin: None, disabled: Some(disabled) }).await
    }
}

fn ensure_server_admin(user: &User) -> ApiResult<()> {
    if user.is_admin { Ok(()) } else { Err(ApiError::forbidden("only server admins can do this")) }
}
