//! Erasing an account: asked by the person (`DELETE /api/users/me`, their password in standalone
//! mode) or by the host platform (`DELETE /api/server/users/{external_id}`). The store erases in
//! one transaction; then the files go, the erased messages' events are published, member lists
//! cached anywhere are dropped and every socket of theirs is closed.

use parlor_core::{User, UserId};
use parlor_protocol::ErrorCode;
use parlor_store::StoreError;

use super::Privacy;
use crate::error::{ApiError, ApiResult};

impl Privacy {
    /// The caller erases their own account. A password account must give its password (a
    /// stolen access token alone cannot erase it); the host platform's users, who have none
    /// here, are vouched for by their platform's token.
    pub async fn erase_own(&self, user: &User, password: Option<String>) -> ApiResult<()> {
        if let Some(username) = &user.username {
            let wrong = || {
                ApiError::new(axum::http::StatusCode::FORBIDDEN, ErrorCode::InvalidCredentials, "the password is wrong")
            };
            let password = password.ok_or_else(|| {
                ApiError::bad_request(ErrorCode::ValidationFailed, "`password` is required to delete this account")
            })?;
            let password = parlor_core::Password::parse(password).map_err(|_| wrong())?;
            let hash = self.store.credentials(username).await?.filter(|(u, _)| u.id == user.id).map(|(_, h)| h);
            if hash.is_none() || !self.passwords.verify(password, hash).await? {
                return Err(wrong());
            }
        }
        self.erase(user.id).await
    }

    /// Erases an account, whoever asked. `not_found` for an unknown or already erased one.
    pub async fn erase(&self, user: UserId) -> ApiResult<()> {
        let erased = self.store.erase_user(user, self.mode).await.map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("user"),
            other => other.into(),
        })?;
        // No socket of theirs stays open, here or on another node, nor opens again.
        self.hub.disconnect_user(user);
        for id in &erased.conversations {
            self.hub.forget_members(*id);
        }
        for file in &erased.files {
            self.chat.remove_files(file).await;
        }
        for event in &erased.events {
            self.hub.publish(event).await;
        }
        tracing::info!(user_id = %user, messages = erased.events.len(), files = erased.files.len(), "account erased");
        Ok(())
    }
}
