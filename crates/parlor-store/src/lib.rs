//! The storage boundary of parlor: the [`Store`] trait every backend implements, its error type,
//! and the [`conformance`] suite that every backend must pass.
//!
//! **Invariant:** all SQL lives in the backend crates (`parlor-store-sqlite`, later Postgres).
//! Services talk to `dyn Store` only. Every write that a client is told succeeded is durable
//! when the method returns.

pub mod conformance;
mod error;
mod types;

use async_trait::async_trait;
use parlor_core::{
    AvatarUrl, ConversationEvent, ConversationId, ConversationOverview, DirectPair, DisplayName, ExternalId, Message,
    MessageId, NewMessage, NewUser, ProfileUpdate, Seq, Timestamp, User, UserId,
};

pub use error::StoreError;
pub use types::{Appended, ReadOutcome, ReadUpTo};

pub type StoreResult<T> = Result<T, StoreError>;

/// Everything parlor keeps. Implementations must be safe to share across tasks and must keep
/// per-conversation sequences gap-free and ordered under concurrent writers.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- users ---

    /// Fails with [`StoreError::Conflict`] when the username is taken (case-insensitively).
    async fn create_user(&self, new: NewUser) -> StoreResult<User>;
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    /// The user and their argon2 hash, for a login. Case-insensitive on the username.
    async fn credentials(&self, username: &str) -> StoreResult<Option<(User, String)>>;
    /// The host platform's user, created on first sight; name and avatar are refreshed when given
    /// and different.
    async fn upsert_external_user(
        &self,
        external_id: &ExternalId,
        name: Option<&DisplayName>,
        avatar: Option<&AvatarUrl>,
    ) -> StoreResult<User>;
    async fn update_profile(&self, id: UserId, update: &ProfileUpdate) -> StoreResult<User>;
    /// Users whose name or username contains `query` (case-insensitive), by name.
    async fn search_users(&self, query: &str, limit: u32) -> StoreResult<Vec<User>>;

    // --- refresh tokens (stored as hashes, single use) ---

    async fn insert_refresh_token(&self, token_hash: &[u8], user: UserId, expires_at: Timestamp) -> StoreResult<()>;
    /// Removes the token and returns its owner and expiry; `None` if unknown or already used.
    async fn take_refresh_token(&self, token_hash: &[u8]) -> StoreResult<Option<(UserId, Timestamp)>>;

    // --- conversations ---

    /// The one direct conversation of the pair, and whether this call created it.
    async fn get_or_create_direct(&self, pair: DirectPair) -> StoreResult<(ConversationId, bool)>;
    /// `None` when the conversation does not exist *or* `user` is not a member.
    async fn overview(&self, id: ConversationId, user: UserId) -> StoreResult<Option<ConversationOverview>>;
    /// The user's conversations, most recent activity first.
    async fn list_overviews(&self, user: UserId, limit: u32) -> StoreResult<Vec<ConversationOverview>>;
    async fn is_member(&self, id: ConversationId, user: UserId) -> StoreResult<bool>;
    async fn member_ids(&self, id: ConversationId) -> StoreResult<Vec<UserId>>;

    // --- messages ---

    /// Stores a message and its event, numbering both. A repeated `client_id` from the same
    /// sender in the same conversation stores nothing and returns the original
    /// (`duplicate: true`). Fails with `NotFound` if the sender is not a member and with
    /// `InvalidReference` if `reply_to` is not a message of the conversation. Sending moves the
    /// sender's read position to their message.
    async fn append_message(&self, new: NewMessage) -> StoreResult<Appended>;
    async fn message(&self, id: MessageId) -> StoreResult<Option<Message>>;
    /// Newest first, strictly below `before` (a message seq) when given.
    async fn messages_before(&self, id: ConversationId, before: Option<Seq>, limit: u32) -> StoreResult<Vec<Message>>;

    // --- read state ---

    /// Moves the member's read position forward (never back). Logs a `MessagesRead` event only
    /// when the position moved.
    async fn mark_read(&self, id: ConversationId, user: UserId, up_to: ReadUpTo) -> StoreResult<ReadOutcome>;
    /// Conversations of `user` with unread messages, and how many.
    async fn unread_counts(&self, user: UserId) -> StoreResult<Vec<(ConversationId, i64)>>;

    // --- event log ---

    /// Events with `seq > after`, oldest first, at most `limit`.
    async fn events_after(&self, id: ConversationId, after: Seq, limit: u32) -> StoreResult<Vec<ConversationEvent>>;
    /// The newest event seq of the conversation (0 when it has none).
    async fn last_event_seq(&self, id: ConversationId) -> StoreResult<Seq>;

    /// Finishes in-flight writes and closes connections. Later calls fail with `Unavailable`.
    async fn close(&self);
}
