//! `Operator`: what the operator does through the server API (`parlor admin`) beyond accounts
//! (whose password accounts and access tokens are `Accounts`'): reading a whole conversation
//! for an export, and the store's maintenance (online backups, vacuuming).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use parlor_core::{Conversation, ConversationId, Member, Message, Seq};
use parlor_protocol::ErrorCode;
use parlor_store::Store;

use crate::error::{ApiError, ApiResult, Kind};

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
