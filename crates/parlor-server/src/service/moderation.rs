//! Moderation: blocks between users, reports of messages, and what server admins may do
//! (delete any message, disable a user and end their sessions at once).

use parlor_core::{ConversationId, ConversationKind, MessageId, User, UserId};
use parlor_protocol::ErrorCode;
use parlor_store::{Report, UserFlags};

use super::Chat;
use crate::error::{ApiError, ApiResult};

/// Longest report reason kept.
const MAX_REASON_CHARS: usize = 1000;

impl Chat {
    /// Blocks (`on`) or unblocks `other`: no direct messages between the two either way, no
    /// presence either way, no notifications from them.
    pub async fn set_block(&self, me: UserId, other: UserId, on: bool) -> ApiResult<()> {
        if me == other {
            return Err(ApiError::from(parlor_core::ValidationError::new("user_id", "you cannot block yourself")));
        }
        self.store.set_block(me, other, on).await.map_err(|e| match e {
            parlor_store::StoreError::NotFound => ApiError::not_found("user"),
            other => other.into(),
        })?;
        self.hub.forget_block(me, other);
        Ok(())
    }

    pub async fn blocked_users(&self, me: UserId) -> ApiResult<Vec<User>> {
        let ids = self.store.blocked_by(me).await?;
        Ok(self.store.users(&ids).await?)
    }

    /// Refuses a direct contact (opening a DM, asking to connect) with someone who does not
    /// exist or where either blocked the other.
    pub(super) async fn check_can_contact(&self, me: UserId, other: UserId) -> ApiResult<()> {
        if self.store.user(other).await?.is_none() {
            return Err(ApiError::not_found("user"));
        }
        if self.store.blocked_between(me, other).await? {
            return Err(blocked());
        }
        Ok(())
    }

    /// Whom a user may put in a room with themselves: nobody across a block, and under the
    /// `connections` DM policy only their connections (sharing a room shows presence, so
    /// strangers cannot be pulled into one).
    pub(super) async fn check_can_add(&self, me: UserId, users: &[UserId]) -> ApiResult<()> {
        for &user in users.iter().filter(|u| **u != me) {
            if self.store.blocked_between(me, user).await? {
                return Err(ApiError::forbidden("you cannot add a user you blocked or who blocked you")
                    .with_code(ErrorCode::Blocked));
            }
            if self.dm_policy == crate::config::DmPolicy::Connections && !self.store.connected(me, user).await? {
                return Err(
                    ApiError::forbidden("you can only add your connections").with_code(ErrorCode::ConnectionRequired)
                );
            }
        }
        Ok(())
    }

    /// Sending in a direct conversation where either blocked the other is refused. Only
    /// two-member conversations pay for the check, and only a block pays for the kind lookup.
    pub(super) async fn check_not_blocked(&self, me: UserId, id: ConversationId) -> ApiResult<()> {
        let members = self.hub.members(id).await?;
        let [a, b] = members[..] else { return Ok(()) };
        let other = if a == me { b } else { a };
        if self.blocked_between(me, other).await?
            && self.conversation(me, id).await?.conversation.kind == ConversationKind::Direct
        {
            return Err(blocked());
        }
        Ok(())
    }

    /// Reports a message the caller can read to the server's admins.
    pub async fn report(&self, me: UserId, id: MessageId, reason: &str) -> ApiResult<Report> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
            return Err(ApiError::from(parlor_core::ValidationError::new("reason", "must be 1 to 1000 characters")));
        }
        let message = self.message(me, id).await?;
        let report = self.store.report_message(message.id, me, reason).await?;
        tracing::info!(report_id = report.id, message_id = %id.0, "message reported");
        Ok(report)
    }

    pub async fn reports(&self, admin: &User, limit: u32) -> ApiResult<Vec<Report>> {
        ensure_admin(admin)?;
        Ok(self.store.reports(limit).await?)
    }

    /// An admin deletes any message, member or not.
    pub async fn admin_delete(&self, admin: &User, id: MessageId) -> ApiResult<()> {
        ensure_admin(admin)?;
        let attachment = self.store.attachment_of_message(id).await?;
        let event = self.store.delete_message(id).await.map_err(|e| match e {
            parlor_store::StoreError::NotFound => ApiError::not_found("message"),
            other => other.into(),
        })?;
        if let Some(stored) = &attachment {
            self.remove_files(stored).await;
        }
        tracing::info!(admin_id = %admin.id, message_id = %id.0, "message deleted by an admin");
        self.hub.publish(&event).await;
        Ok(())
    }

    /// Sets a user's admin and disabled flags (server API, or an admin for `disabled`);
    /// disabling closes their sockets at once.
    pub async fn set_user_flags(&self, user: UserId, flags: UserFlags) -> ApiResult<User> {
        let updated = self.store.set_user_flags(user, &flags).await.map_err(|e| match e {
            parlor_store::StoreError::NotFound => ApiError::not_found("user"),
            other => other.into(),
        })?;
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

    pub async fn admin_set_disabled(&self, admin: &User, user: UserId, disabled: bool) -> ApiResult<User> {
        ensure_admin(admin)?;
        if admin.id == user {
            return Err(ApiError::forbidden("admins cannot disable themselves"));
        }
        self.set_user_flags(user, UserFlags { admin: None, disabled: Some(disabled) }).await
    }
}

impl Chat {
    /// Whether either blocked the other, cached per pair: every message in a DM asks, and a
    /// query per message costs more than the send itself. `set_block` drops the pair's entry
    /// (on every node: the cache is the hub's).
    async fn blocked_between(&self, a: UserId, b: UserId) -> ApiResult<bool> {
        if let Some(known) = self.hub.cached_block(a, b) {
            return Ok(known);
        }
        let blocked = self.store.blocked_between(a, b).await?;
        self.hub.cache_block(a, b, blocked);
        Ok(blocked)
    }
}

fn ensure_admin(user: &User) -> ApiResult<()> {
    if user.is_admin { Ok(()) } else { Err(ApiError::forbidden("only server admins can do this")) }
}

fn blocked() -> ApiError {
    ApiError::forbidden("you cannot message this user").with_code(ErrorCode::Blocked)
}
