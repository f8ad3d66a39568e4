//! The embedded SQLite backend of parlor's [`Store`]: one database file in WAL mode, a pool of
//! read connections, and a single write connection owned by the batch writer (see
//! [`writer`]). Migrations in `migrations/` are embedded and applied on open.
//!
//! **Invariant:** only the writer's connection writes, so per-conversation sequence numbers are
//! assigned in commit order and SQLite answers `SQLITE_BUSY` only when another process holds
//! the database's write lock for longer than [`Options::busy_timeout`]; that write then fails
//! with [`StoreError::Busy`] (and a full disk with [`StoreError::Full`]), never half-done.

mod append_many;
mod attachments;
mod connections;
mod conversations;
mod events;
mod lifecycle;
mod maintenance;
mod messages;
mod moderation;
mod notifications;
mod reactions;
mod read_state;
mod rooms;
mod rows;
mod search;
mod users;
mod webhooks;
mod writer;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use parlor_core::{
    AttachmentId, AvatarUrl, Context, Conversation, ConversationEvent, ConversationId, ConversationOverview,
    DirectPair, DisplayName, Emoji, ExternalId, Member, Membership, Message, MessageBody, MessageHit, MessageId,
    NewMessage, NewNotification, NewUser, Notification, OutboxId, ProfileUpdate, SearchQuery, Seq, StoredAttachment,
    Timestamp, User, UserId, WebhookId,
};
use parlor_store::{
    Appended, Connection, ConversationFilter, ConversationPatch, DeliveredUpTo, Delivery, MemberChange, MemberPosition,
    MessageSearch, NewDelivery, NewRoom, NewWebhook, NotificationFilter, NotificationsToRead, OutboxEntry, ReadOutcome,
    ReadUpTo, Report, Store, StoreError, StoreResult, UserFlags, Webhook,
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Acquire, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::rows::db;
use crate::writer::Write;

/// Queued writes before senders wait: backpressure instead of unbounded memory.
const WRITE_QUEUE: usize = 8192;

/// Called by the batch writer after each commit with how long the batch took.
pub type OnCommit = Arc<dyn Fn(Duration) + Send + Sync>;

/// Outbox rows deleted per transaction when pruning.
const PRUNE_CHUNK: u32 = 5000;

/// What an acknowledged write survives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// An fsync per commit (batch): survives power loss and OS crashes.
    Full,
    /// WAL without an fsync per commit: survives a crash of parlor (kill -9), not of the machine.
    Normal,
}

/// How the database is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub durability: Durability,
    /// How long a write waits for another process's lock before failing with
    /// [`StoreError::Busy`]; a write transaction waits once, when it starts.
    pub busy_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self { durability: Durability::Full, busy_timeout: Duration::from_secs(5) }
    }
}

/// Write transactions take the write lock when they begin, so a locked database costs one
/// `busy_timeout` per transaction, not one per statement.
pub(crate) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

pub struct SqliteStore {
    /// Readers; WAL lets them run alongside the writer.
    read: SqlitePool,
    /// The single write connection, for the rare writes that do not go through the batcher.
    write: SqlitePool,
    /// The batch writer's inbox.
    writer: mpsc::Sender<Write>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` with full durability and applies
    /// pending migrations.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        Self::open_with(path, Durability::Full).await
    }

    /// As [`SqliteStore::open`], choosing what a commit survives.
    pub async fn open_with(path: &Path, durability: Durability) -> StoreResult<Self> {
        Self::open_with_options(path, Options { durability, ..Options::default() }).await
    }

    /// As [`SqliteStore::open`], with every [`Options`] chosen.
    pub async fn open_with_options(path: &Path, options: Options) -> StoreResult<Self> {
        Self::open_observed(path, options, Arc::new(|_| {})).await
    }

    /// As [`SqliteStore::open_with_options`], calling `on_commit` with the time each write batch
    /// took (for metrics; it runs on the writer's task, so it must be quick).
    pub async fn open_observed(
        path: &Path,
        Options { durability, busy_timeout }: Options,
        on_commit: OnCommit,
    ) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(StoreError::backend)?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(match durability {
                Durability::Full => SqliteSynchronous::Full,
                Durability::Normal => SqliteSynchronous::Normal,
            })
            .foreign_keys(true)
            .busy_timeout(busy_timeout);
        // No ping when a connection is taken from a pool: a connection to a local file cannot go
        // stale, and each ping is one more hand-off to the connection's thread and back for
        // every query (a measurable share of a reconnect storm, docs/benchmarks.md).
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .test_before_acquire(false)
            .connect_with(options.clone())
            .await
            .map_err(db)?;
        sqlx::migrate!("./migrations").run(&write).await.map_err(StoreError::backend)?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(options.read_only(true))
            .await
            .map_err(db)?;
        let (tx, rx) = mpsc::channel(WRITE_QUEUE);
        tokio::spawn(writer::run(write.clone(), rx, on_commit));
        Ok(Self { read, write, writer: tx })
    }

    /// Writes waiting for the batch writer right now.
    pub fn write_queue_len(&self) -> usize {
        self.writer.max_capacity().saturating_sub(self.writer.capacity())
    }

    async fn queue<T>(&self, make: impl FnOnce(oneshot::Sender<StoreResult<T>>) -> Write) -> StoreResult<T> {
        let (tx, rx) = oneshot::channel();
        self.writer.send(make(tx)).await.map_err(|_| StoreError::Unavailable)?;
        rx.await.map_err(|_| StoreError::Unavailable)?
    }
}

/// Runs `$body` with `$conn` bound to a connection from `$pool`.
macro_rules! with_conn {
    ($pool:expr, |$conn:ident| $body:expr) => {{
        let mut pooled = $pool.acquire().await.map_err(db)?;
        let $conn = &mut *pooled;
        $body.await
    }};
}

/// Runs `$body` in a transaction on the write connection.
macro_rules! in_tx {
    ($pool:expr, |$conn:ident| $body:expr) => {{
        let mut pooled = $pool.acquire().await.map_err(db)?;
        let outcome = async {
            let mut tx = sqlx::Connection::begin_with(&mut *pooled, BEGIN_WRITE).await.map_err(db)?;
            let $conn = &mut *tx;
            let out = $body.await?;
            search::index_pending(&mut tx).await?;
            tx.commit().await.map_err(db)?;
            Ok::<_, StoreError>(out)
        }
        .await;
        writer::release(pooled, &outcome).await;
        outcome
    }};
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_user(&self, new: NewUser) -> StoreResult<User> {
        in_tx!(self.write, |c| users::create(c, new))
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        with_conn!(self.read, |c| users::by_id(c, id))
    }

    async fn credentials(&self, username: &str) -> StoreResult<Option<(User, String)>> {
        with_conn!(self.read, |c| users::credentials(c, username))
    }

    async fn upsert_external_user(
        &self,
        external_id: &ExternalId,
        name: Option<&DisplayName>,
        avatar: Option<&AvatarUrl>,
    ) -> StoreResult<User> {
        in_tx!(self.write, |c| users::upsert_external(c, external_id, name, avatar))
    }

    async fn update_profile(&self, id: UserId, update: &ProfileUpdate) -> StoreResult<User> {
        in_tx!(self.write, |c| users::update_profile(c, id, update))
    }

    async fn user_by_external_id(&self, external_id: &ExternalId) -> StoreResult<Option<User>> {
        with_conn!(self.read, |c| users::by_external_id(c, external_id))
    }

    async fn users(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        with_conn!(self.read, |c| users::many(c, ids))
    }

    async fn users_by_usernames(&self, usernames: &[String]) -> StoreResult<Vec<User>> {
        with_conn!(self.read, |c| users::by_usernames(c, usernames))
    }

    async fn search_users(&self, query: &str, limit: u32) -> StoreResult<Vec<User>> {
        with_conn!(self.read, |c| users::search(c, query, limit))
    }

    async fn touch_last_seen(&self, seen: &[(UserId, Timestamp)]) -> StoreResult<()> {
        if seen.is_empty() {
            return Ok(());
        }
        in_tx!(self.write, |c| users::touch_last_seen(c, seen))
    }

    async fn set_user_flags(&self, user: UserId, flags: &UserFlags) -> StoreResult<User> {
        in_tx!(self.write, |c| users::set_flags(c, user, flags))
    }

    async fn contacts(&self, user: UserId) -> StoreResult<Vec<UserId>> {
        with_conn!(self.read, |c| conversations::contacts(c, user))
    }

    async fn presence_audience(&self, user: UserId, max_members: u32) -> StoreResult<Vec<UserId>> {
        with_conn!(self.read, |c| conversations::presence_audience(c, user, max_members))
    }

    async fn share_conversation(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        with_conn!(self.read, |c| conversations::share_conversation(c, a, b))
    }

    async fn set_block(&self, blocker: UserId, blocked: UserId, on: bool) -> StoreResult<bool> {
        in_tx!(self.write, |c| moderation::set_block(c, blocker, blocked, on))
    }

    async fn blocked_by(&self, user: UserId) -> StoreResult<Vec<UserId>> {
        with_conn!(self.read, |c| moderation::blocked_by(c, user))
    }

    async fn block_partners(&self, user: UserId) -> StoreResult<Vec<UserId>> {
        with_conn!(self.read, |c| moderation::block_partners(c, user))
    }

    async fn blocked_between(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        with_conn!(self.read, |c| moderation::blocked_between(c, a, b))
    }

    async fn report_message(&self, message: MessageId, reporter: UserId, reason: &str) -> StoreResult<Report> {
        in_tx!(self.write, |c| moderation::report(c, message, reporter, reason))
    }

    async fn reports(&self, limit: u32) -> StoreResult<Vec<Report>> {
        with_conn!(self.read, |c| moderation::reports(c, limit))
    }

    async fn set_muted(&self, id: ConversationId, user: UserId, muted: bool) -> StoreResult<()> {
        in_tx!(self.write, |c| notifications::set_muted(c, id, user, muted))
    }

    async fn muted_members(&self, id: ConversationId) -> StoreResult<Vec<UserId>> {
        with_conn!(self.read, |c| notifications::muted_members(c, id))
    }

    async fn add_notifications(&self, new: &[NewNotification]) -> StoreResult<Vec<Notification>> {
        if new.is_empty() {
            return Ok(Vec::new());
        }
        in_tx!(self.write, |c| notifications::add(c, new))
    }

    async fn notifications(&self, user: UserId, filter: &NotificationFilter) -> StoreResult<Vec<Notification>> {
        with_conn!(self.read, |c| notifications::list(c, user, filter))
    }

    async fn unread_notification_count(&self, user: UserId) -> StoreResult<i64> {
        with_conn!(self.read, |c| notifications::unread_count(c, user))
    }

    async fn has_unread_notifications(&self, user: UserId, id: ConversationId) -> StoreResult<bool> {
        with_conn!(self.read, |c| notifications::has_unread(c, user, id))
    }

    async fn mark_notifications_read(&self, user: UserId, which: NotificationsToRead) -> StoreResult<u64> {
        in_tx!(self.write, |c| notifications::mark_read(c, user, which))
    }

    async fn insert_refresh_token(&self, token_hash: &[u8], user: UserId, expires_at: Timestamp) -> StoreResult<()> {
        in_tx!(self.write, |c| users::insert_refresh_token(c, token_hash, user, expires_at))
    }

    async fn prune_refresh_tokens(&self, before: Timestamp) -> StoreResult<u64> {
        in_tx!(self.write, |c| users::prune_refresh_tokens(c, before))
    }

    async fn take_refresh_token(&self, token_hash: &[u8]) -> StoreResult<Option<(UserId, Timestamp)>> {
        in_tx!(self.write, |c| users::take_refresh_token(c, token_hash))
    }

    async fn get_or_create_direct(&self, pair: DirectPair) -> StoreResult<(ConversationId, bool)> {
        in_tx!(self.write, |c| conversations::get_or_create_direct(c, pair))
    }

    async fn overview(&self, id: ConversationId, user: UserId) -> StoreResult<Option<ConversationOverview>> {
        with_conn!(self.read, |c| conversations::overview(c, id, user))
    }

    async fn list_overviews(
        &self,
        user: UserId,
        filter: &ConversationFilter,
    ) -> StoreResult<Vec<ConversationOverview>> {
        with_conn!(self.read, |c| conversations::list_overviews(c, user, filter))
    }

    async fn membership(&self, id: ConversationId, user: UserId) -> StoreResult<Option<Membership>> {
        with_conn!(self.read, |c| rooms::membership(c, id, user))
    }

    async fn conversation_with_members(&self, id: ConversationId) -> StoreResult<Option<(Conversation, Vec<Member>)>> {
        with_conn!(self.read, |c| conversations::with_members(c, id))
    }

    async fn create_room(&self, room: NewRoom) -> StoreResult<(ConversationId, Appended)> {
        in_tx!(self.write, |c| rooms::create(c, room))
    }

    async fn get_or_create_by_context(
        &self,
        context: &Context,
        participants: &[UserId],
        creator: UserId,
    ) -> StoreResult<(ConversationId, bool)> {
        in_tx!(self.write, |c| rooms::get_or_create_by_context(c, context, participants, creator))
    }

    async fn change_members(&self, id: ConversationId, actor: UserId, change: MemberChange) -> StoreResult<Appended> {
        in_tx!(self.write, |c| rooms::change_members(c, id, actor, change))
    }

    async fn update_conversation(
        &self,
        id: ConversationId,
        actor: UserId,
        patch: &ConversationPatch,
    ) -> StoreResult<Option<(ConversationEvent, Appended)>> {
        in_tx!(self.write, |c| rooms::update(c, id, actor, patch))
    }

    async fn request_connection(&self, from: UserId, to: UserId) -> StoreResult<Connection> {
        in_tx!(self.write, |c| connections::request(c, from, to))
    }

    async fn connection(&self, id: i64) -> StoreResult<Option<Connection>> {
        with_conn!(self.read, |c| connections::by_id(c, id))
    }

    async fn connections(&self, user: UserId) -> StoreResult<Vec<Connection>> {
        with_conn!(self.read, |c| connections::of_user(c, user))
    }

    async fn accept_connection(&self, id: i64) -> StoreResult<Connection> {
        in_tx!(self.write, |c| connections::accept(c, id))
    }

    async fn delete_connection(&self, id: i64) -> StoreResult<()> {
        in_tx!(self.write, |c| connections::delete(c, id))
    }

    async fn connected(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        with_conn!(self.read, |c| connections::connected(c, a, b))
    }

    async fn edit_message(&self, id: MessageId, body: &MessageBody) -> StoreResult<ConversationEvent> {
        in_tx!(self.write, |c| lifecycle::edit(c, id, body))
    }

    async fn delete_message(&self, id: MessageId) -> StoreResult<ConversationEvent> {
        in_tx!(self.write, |c| lifecycle::delete(c, id))
    }

    async fn toggle_reaction(&self, id: MessageId, user: UserId, emoji: &Emoji) -> StoreResult<ConversationEvent> {
        in_tx!(self.write, |c| reactions::toggle(c, id, user, emoji))
    }

    async fn mark_delivered(
        &self,
        id: ConversationId,
        user: UserId,
        up_to: Seq,
        log: bool,
    ) -> StoreResult<Option<ConversationEvent>> {
        self.queue(|reply| Write::MarkDelivered(id, user, up_to, log, reply)).await
    }

    async fn mark_delivered_many(&self, receipts: &[DeliveredUpTo]) -> StoreResult<Vec<ConversationEvent>> {
        if receipts.is_empty() {
            return Ok(Vec::new());
        }
        let receipts = receipts.to_vec();
        self.queue(|reply| Write::MarkDeliveredMany(receipts, reply)).await
    }

    async fn attachment(&self, id: AttachmentId) -> StoreResult<Option<StoredAttachment>> {
        with_conn!(self.read, |c| attachments::by_id(c, id))
    }

    async fn attachment_of_message(&self, id: MessageId) -> StoreResult<Option<StoredAttachment>> {
        with_conn!(self.read, |c| attachments::of_message(c, id))
    }

    async fn expire_attachments(&self, before: Timestamp, limit: u32) -> StoreResult<Vec<StoredAttachment>> {
        in_tx!(self.write, |c| attachments::expire(c, before, limit))
    }

    async fn positions(&self, id: ConversationId) -> StoreResult<Vec<MemberPosition>> {
        with_conn!(self.read, |c| read_state::positions(c, id))
    }

    async fn is_member(&self, id: ConversationId, user: UserId) -> StoreResult<bool> {
        with_conn!(self.read, |c| conversations::is_member(c, id, user))
    }

    async fn member_ids(&self, id: ConversationId) -> StoreResult<Vec<UserId>> {
        with_conn!(self.read, |c| conversations::member_ids(c, id))
    }

    async fn append_message(&self, new: NewMessage) -> StoreResult<Appended> {
        self.queue(|reply| Write::Append(Box::new(new), reply)).await
    }

    async fn append_notice(&self, id: ConversationId, text: &MessageBody) -> StoreResult<Appended> {
        in_tx!(self.write, |c| messages::insert_notice(c, id, text))
    }

    async fn message(&self, id: MessageId) -> StoreResult<Option<Message>> {
        let found = with_conn!(self.read, |c| messages::with_event_seq(c, id))?;
        Ok(found.map(|(m, _)| m))
    }

    async fn messages_before(&self, id: ConversationId, before: Option<Seq>, limit: u32) -> StoreResult<Vec<Message>> {
        with_conn!(self.read, |c| messages::before(c, id, before, limit))
    }

    async fn messages_after(&self, id: ConversationId, after: Seq, limit: u32) -> StoreResult<Vec<Message>> {
        with_conn!(self.read, |c| messages::after(c, id, after, limit))
    }

    async fn mark_read(
        &self,
        id: ConversationId,
        user: UserId,
        up_to: ReadUpTo,
        log: bool,
    ) -> StoreResult<ReadOutcome> {
        self.queue(|reply| Write::MarkRead(id, user, up_to, log, reply)).await
    }

    async fn unread_counts(&self, user: UserId) -> StoreResult<Vec<(ConversationId, i64)>> {
        with_conn!(self.read, |c| read_state::unread_counts(c, user))
    }

    async fn search_messages(&self, search: &MessageSearch) -> StoreResult<Vec<MessageHit>> {
        with_conn!(self.read, |c| search::messages(c, search))
    }

    async fn search_conversations(
        &self,
        user: UserId,
        query: &SearchQuery,
        limit: u32,
    ) -> StoreResult<Vec<ConversationOverview>> {
        with_conn!(self.read, |c| search::conversations(c, user, query, limit))
    }

    async fn events_after(&self, id: ConversationId, after: Seq, limit: u32) -> StoreResult<Vec<ConversationEvent>> {
        with_conn!(self.read, |c| events::after(c, id, after, limit))
    }

    async fn last_event_seq(&self, id: ConversationId) -> StoreResult<Seq> {
        with_conn!(self.read, |c| events::last_seq(c, id))
    }

    async fn create_webhook(&self, new: NewWebhook) -> StoreResult<Webhook> {
        in_tx!(self.write, |c| webhooks::create(c, new))
    }

    async fn webhooks(&self) -> StoreResult<Vec<Webhook>> {
        with_conn!(self.read, |c| webhooks::all(c))
    }

    async fn webhook(&self, id: WebhookId) -> StoreResult<Option<Webhook>> {
        with_conn!(self.read, |c| webhooks::by_id(c, id))
    }

    async fn delete_webhook(&self, id: WebhookId) -> StoreResult<()> {
        in_tx!(self.write, |c| webhooks::delete(c, id))
    }

    async fn outbox_after(&self, after: OutboxId, limit: u32) -> StoreResult<Vec<OutboxEntry>> {
        // One read transaction, so the entries and their events come from the same snapshot.
        let mut pooled = self.read.acquire().await.map_err(db)?;
        let mut tx = pooled.begin().await.map_err(db)?;
        let entries = webhooks::outbox_after(&mut tx, after, limit).await?;
        tx.commit().await.map_err(db)?;
        Ok(entries)
    }

    async fn record_delivery(&self, attempt: &NewDelivery) -> StoreResult<()> {
        in_tx!(self.write, |c| webhooks::record_delivery(c, attempt))
    }

    async fn advance_webhook(&self, id: WebhookId, to: OutboxId) -> StoreResult<()> {
        in_tx!(self.write, |c| webhooks::advance(c, id, to))
    }

    async fn deliveries(&self, id: WebhookId, limit: u32) -> StoreResult<Vec<Delivery>> {
        with_conn!(self.read, |c| webhooks::deliveries(c, id, limit))
    }

    async fn prune_webhooks(&self, keep_deliveries: u32) -> StoreResult<u64> {
        let mut pruned = 0;
        loop {
            let removed: u64 = in_tx!(self.write, |c| webhooks::prune_outbox(c, PRUNE_CHUNK))?;
            pruned += removed;
            if removed < u64::from(PRUNE_CHUNK) {
                break;
            }
        }
        in_tx!(self.write, |c| webhooks::prune_deliveries(c, keep_deliveries))?;
        Ok(pruned)
    }

    async fn ping(&self) -> StoreResult<()> {
        if self.writer.is_closed() {
            return Err(StoreError::Unavailable);
        }
        with_conn!(self.read, |c| async { sqlx::query("SELECT 1").execute(c).await.map(drop).map_err(db) })
    }

    async fn backup(&self, to: &Path) -> StoreResult<u64> {
        with_conn!(self.read, |c| maintenance::backup(c, to))
    }

    async fn vacuum(&self) -> StoreResult<()> {
        self.queue(Write::Vacuum).await
    }

    async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        if self.writer.send(Write::Close(tx)).await.is_ok() {
            drop(rx.await);
        }
        self.read.close().await;
        self.write.close().await;
    }
}
