//! Erasing an account: asked by the person (`DELETE /api/users/me`, their password in standalone
//! mode) or by the host platform (`DELETE /api/server/users/{external_id}`). The store erases in
//! one transaction, queuing the `user.deleted` webhook in it; then the files and export
//! archives go, the erased messages' events are published, member lists cached anywhere are
//! dropped and every socket of theirs is closed.

use parlor_core::{Timestamp, User, UserId};
use parlor_protocol::{ErrorCode, UserDeletedHook};
use parlor_store::{ErasureMode, QueuedUserDeleted};

use super::Privacy;
use crate::error::{ApiError, ApiResult, Kind, OrNotFound};
use crate::service::Actor;

impl Privacy {
    /// The caller erases their own account. A password account must give its password (a
    /// stolen access token alone cannot erase it); the host platform's users, who have none
    /// here, are vouched for by their platform's token.
    pub async fn erase_own(&self, user: &User, password: Option<String>) -> ApiResult<()> {
        if let Some(username) = &user.username {
            let wrong = || ApiError::new(Kind::Forbidden, ErrorCode::InvalidCredentials, "the password is wrong");
            let password = password.ok_or_else(|| {
                ApiError::bad_request(ErrorCode::ValidationFailed, "`password` is required to delete this account")
            })?;
            let password = parlor_core::Password::parse(password).map_err(|_| wrong())?;
            let hash = self.store.credentials(username).await?.filter(|(u, _)| u.id == user.id).map(|(_, h)| h);
            if hash.is_none() || !self.passwords.verify(password, hash).await? {
                return Err(wrong());
            }
        }
        self.erase(user.id, Actor::User(user.id)).await
    }

    /// Erases an account, whoever asked (`by`, told to the platform in `user.deleted`).
    /// `not_found` for an unknown or already erased one.
    pub async fn erase(&self, user: UserId, by: Actor) -> ApiResult<()> {
        let known = self.store.user(user).await?.ok_or_else(|| ApiError::not_found("user"))?;
        let at = Timestamp::now();
        let hook = UserDeletedHook {
            user_id: user,
            external_id: known.external_id,
            mode: match self.mode {
                ErasureMode::Delete => "delete",
                ErasureMode::Anonymize => "anonymize",
            }
            .to_owned(),
            by: match by {
                Actor::User(_) => "user",
                Actor::ApiKey => "api_key",
                Actor::System => "system",
            }
            .to_owned(),
        };
        // Serializing a plain struct of strings and numbers cannot fail.
        let hook = QueuedUserDeleted { at, data: serde_json::to_string(&hook).unwrap_or_default() };
        let erased = self.store.erase_user(user, self.mode, &hook).await.or_not_found("user")?;
        self.hub.wake_webhooks();
        // No socket of theirs stays open, here or on another node, nor opens again.
        self.hub.disconnect_user(user);
        for id in &erased.conversations {
            self.hub.forget_members(*id);
        }
        for file in &erased.files {
            self.attachments.remove_files(file).await;
        }
        for archive in &erased.exports {
            self.blobs.delete(archive).await;
        }
        for event in &erased.events {
            self.hub.publish(event).await;
        }
        tracing::info!(user_id = %user, messages = erased.events.len(), files = erased.files.len(), "account erased");
        Ok(())
    }
}
