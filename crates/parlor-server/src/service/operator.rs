//! What the operator does through the server API (`parlor admin`): password accounts and access
//! tokens for a user (the accounts service's, here with the rest), and `Operator`: reading a
//! whole conversation for an export, and the store's maintenance (online backups, vacuuming).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use parlor_core::{Conversation, ConversationId, Member, Message, Seq, User, UserId};
use parlor_protocol::ErrorCode;
use parlor_store::{Store, UserFlags};

use super::Accounts;
use crate::error::{ApiError, ApiResult, Kind};

/// The longest-lived token the operator may issue: a year and a day.
const MAX_TOKEN_TTL_SECS: i64 = 366 * 24 * 3600;

impl Accounts {
    /// A password account made by the operator, optionally a server admin.
    pub async fn create_account(
        &self,
        username: &str,
        password: String,
        name: Option<&str>,
        admin: bool,
    ) -> ApiResult<User> {
        let mut user = self.create(username, password, name).await?;
        if admin {
            user = self.store.set_user_flags(user.id, &UserFlags { admin: Some(true), disabled: None }).await?;
        }
        tracing::info!(user_id = %user.id, admin, "account created by the operator");
        Ok(user)
    }

    /// An access token for `user`, living `ttl_secs` (the server's default when `None`), and
    /// that lifetime. Disabled users get none.
    pub async fn issue_token(&self, user: UserId, ttl_secs: Option<i64>) -> ApiResult<(String, i64)> {
        let ttl = ttl_secs.unwrap_or(self.tokens.access_ttl_secs());
        if !(1..=MAX_TOKEN_TTL_SECS).contains(&ttl) {
            return Err(parlor_core::ValidationError::new("ttl_secs", "must be 1 second to 366 days").into());
        }
        let user = self.user(user).await?;
        if user.disabled {
            return Err(ApiError::account_disabled());
        }
        let token = self.tokens.issue_access_for(user.id, ttl)?;
        tracing::info!(user_id = %user.id, ttl_secs = ttl, "access token issued by the operator");
        Ok((token, ttl))
    }

    /// A user by username, ignoring case.
    pub async fn by_username(&self, username: &str) -> ApiResult<User> {
        let found = self.store.users_by_usernames(&[username.to_owned()]).await?;
        found.into_iter().next().ok_or_else(|| ApiError::not_found("user"))
    }
}

#[derive(Clone)]
pub struct Operator {
    store: Arc<dyn Store>,
    /// `limits.page_size_max`: the largest page of an export.
    page_size_max: u32,
}

impl Operator {
    pub fn new(store: Arc<dyn Store>, page_size_max: u32) -> Self {
        Self { store, page_size_max }
    }

    /// The conversation and its current members, whoever they are.
    pub async fn export_conversation(&self, id: ConversationId) -> ApiResult<(Conversation, Vec<Member>)> {
        self.store.conversation_with_members(id).await?.ok_or_else(|| ApiError::not_found("conversation"))
    }

    /// A page of the conversation's messages after `after`, oldest first, at most a page; and
    /// whether the page is full (so more may follow).
    pub async fn export_messages(
        &self,
        id: ConversationId,
        after: Seq,
        limit: Option<u32>,
    ) -> ApiResult<(Vec<Message>, bool)> {
        let limit = limit.unwrap_or(self.page_size_max).clamp(1, self.page_size_max);
        let page = self.store.messages_after(id, after, limit).await?;
        let full = page.len() == limit as usize;
        Ok((page, full))
    }

    /// Writes a consistent copy of the database to the new file `path` on this machine
    /// (relative to `data_dir`) while serving; returns where and how big.
    pub async fn backup(&self, path: &str, data_dir: &Path) -> ApiResult<(PathBuf, u64)> {
        if path.trim().is_empty() {
            return Err(parlor_core::ValidationError::new("path", "must not be empty").into());
        }
        // No file system takes a NUL in a name; other control characters are no one's file name.
        if path.chars().any(char::is_control) {
            return Err(parlor_core::ValidationError::new("path", "must not contain control characters").into());
        }
        let to = data_dir.join(path);
        let parent = to.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        if !tokio::fs::metadata(parent).await.is_ok_and(|m| m.is_dir()) {
            let message = format!("directory {} does not exist on the server", parent.display());
            return Err(ApiError::bad_request(ErrorCode::ValidationFailed, message));
        }
        let size = self.store.backup(&to).await.map_err(|e| match e {
            parlor_store::StoreError::Conflict(_) => ApiError::new(
                Kind::Conflict,
                ErrorCode::ValidationFailed,
                format!("{} already exists: backups never overwrite a file", to.display()),
            ),
            other => other.into(),
        })?;
        tracing::info!(path = %to.display(), bytes = size, "database backed up");
        Ok((to, size))
    }

    /// Compacts the database through the write connection, queued with every other write.
    pub async fn vacuum(&self) -> ApiResult<()> {
        let started = std::time::Instant::now();
        self.store.vacuum().await?;
        tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "database vacuumed");
        Ok(())
    }
}
