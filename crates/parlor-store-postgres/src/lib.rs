//! The PostgreSQL backend of parlor's [`Store`], for several parlor nodes sharing one database.
//! Migrations in `migrations/` are embedded and applied on connect (PostgreSQL's advisory lock
//! keeps nodes starting together from applying them twice).
//!
//! **Invariant:** per-conversation sequence numbers are taken with `UPDATE conversations ...
//! RETURNING` inside the writing transaction. The row lock that takes is held until commit, so
//! writers on every node number a conversation's messages and events gap-free and in commit
//! order. A transaction touching several conversations locks them in ascending id order
//! ([`lock_conversations`]); one that still loses a deadlock (or a serialization failure) is
//! run again from the start.
//!
//! Hot writes (messages, read and delivered positions) go through [`writer`], which commits
//! them in batches; the rest run short transactions straight on the pool.

mod attachments;
mod connections;
mod conversations;
mod events;
pub mod import;
mod lifecycle;
mod messages;
mod moderation;
mod notifications;
mod reactions;
mod read_state;
mod rooms;
mod rows;
mod search;
#[cfg(feature = "testing")]
pub mod testing;
mod users;
mod webhooks;
mod writer;

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
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::sync::{mpsc, oneshot};

use crate::rows::{db, is_retryable};
use crate::writer::Write;

/// Queued writes before senders wait: backpressure instead of unbounded memory.
const WRITE_QUEUE: usize = 4096;

/// Called by the batch writer after each commit with how long the batch took (the same type
/// as the SQLite store's, so the server's metrics hook serves both).
pub type OnCommit = Arc<dyn Fn(Duration) + Send + Sync>;

/// Outbox rows deleted per transaction when pruning.
const PRUNE_CHUNK: u32 = 5000;

/// How many times a transaction that lost a deadlock is run before its error is returned.
pub(crate) const MAX_ATTEMPTS: u32 = 5;

/// How the store connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Connections this node keeps open at most (the batch writer uses one at a time).
    pub max_connections: u32,
    /// How long a caller waits for a free connection before failing with `Unavailable`.
    pub acquire_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self { max_connections: 16, acquire_timeout: Duration::from_secs(5) }
    }
}

pub struct PostgresStore {
    /// Every connection of this node: readers, short write transactions and the batch writer.
    pool: PgPool,
    /// The batch writer's inbox.
    writer: mpsc::Sender<Write>,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://...`) and applies pending migrations.
    pub async fn connect(url: &str, options: Options) -> StoreResult<Self> {
        Self::connect_observed(url, options, Arc::new(|_| {})).await
    }

    /// As [`PostgresStore::connect`], calling `on_commit` with the time each write batch took
    /// (for metrics; it runs on the writer's task, so it must be quick).
    pub async fn connect_observed(url: &str, options: Options, on_commit: OnCommit) -> StoreResult<Self> {
        let connect: PgConnectOptions = url.parse().map_err(StoreError::backend)?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(2))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await
            .map_err(db)?;
        sqlx::migrate!("./migrations").run(&pool).await.map_err(StoreError::backend)?;
        let (tx, rx) = mpsc::channel(WRITE_QUEUE);
        tokio::spawn(writer::run(pool.clone(), rx, on_commit));
        Ok(Self { pool, writer: tx })
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

/// Locks the conversations' rows (`FOR NO KEY UPDATE`, which foreign-key checks do not wait
/// for) in ascending id order, so two transactions that touch the same conversations never
/// wait for each other in a cycle. Writes take a conversation's lock before any other row of
/// it, so the rule covers their members and messages too.
pub(crate) async fn lock_conversations(conn: &mut sqlx::PgConnection, ids: &[i64]) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    sqlx::query("SELECT id FROM conversations WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE")
        .bind(ids)
        .fetch_all(conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// A short pause before running a transaction again, longer each time and jittered so two
/// losers of the same deadlock do not collide again.
pub(crate) async fn backoff(attempt: u32) {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let jitter = u64::from(nanos % 1000);
    tokio::time::sleep(Duration::from_micros(u64::from(attempt) * 2000 + jitter * 2)).await;
}

/// Runs `$body` with `$conn` bound to a connection from `$pool`.
macro_rules! with_conn {
    ($pool:expr, |$conn:ident| $body:expr) => {{
        let mut pooled = $pool.acquire().await.map_err(db)?;
        let $conn = &mut *pooled;
        $body.await
    }};
}

/// Runs `$body` in a transaction, running it again (the whole of it: `$body` is evaluated
/// afresh) when PostgreSQL aborted it for a deadlock or a serialization failure.
macro_rules! in_tx {
    ($pool:expr, |$conn:ident| $body:expr) => {{
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = async {
                let mut tx = $pool.begin().await.map_err(db)?;
                let $conn = &mut *tx;
                let out = $body.await?;
                tx.commit().await.map_err(db)?;
                Ok::<_, StoreError>(out)
            }
            .await;
            match outcome {
                Err(e) if attempt < MAX_ATTEMPTS && is_retryable(&e) => {
                    tracing::debug!(error = %e, attempt, "transaction aborted by the database; running it again");
                    backoff(attempt).await;
                }
                other => break other,
            }
        }
    }};
}

#[async_trait]
impl Store for PostgresStore {
    async fn create_user(&self, new: NewUser) -> StoreResult<User> {
        in_tx!(self.pool, |c| users::create(c, new.clone()))
    }

    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        with_conn!(self.pool, |c| users::by_id(c, id))
    }

    async fn credentials(&self, username: &str) -> StoreResult<Option<(User, String)>> {
        with_conn!(self.pool, |c| users::credentials(c, username))
    }

    async fn upsert_external_user(
        &self,
        external_id: &ExternalId,
        name: Option<&DisplayName>,
        avatar: Option<&AvatarUrl>,
    ) -> StoreResult<User> {
        in_tx!(self.pool, |c| users::upsert_external(c, external_id, name, avatar))
    }

    async fn update_profile(&self, id: UserId, update: &ProfileUpdate) -> StoreResult<User> {
        in_tx!(self.pool, |c| users::update_profile(c, id, update))
    }

    async fn user_by_external_id(&self, external_id: &ExternalId) -> StoreResult<Option<User>> {
        with_conn!(self.pool, |c| users::by_external_id(c, external_id))
    }

    async fn users(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        with_conn!(self.pool, |c| users::many(c, ids))
    }

    async fn users_by_usernames(&self, usernames: &[String]) -> StoreResult<Vec<User>> {
        with_conn!(self.pool, |c| users::by_usernames(c, usernames))
    }

    async fn search_users(&self, query: &str, limit: u32) -> StoreResult<Vec<User>> {
        with_conn!(self.pool, |c| users::search(c, query, limit))
    }

    async fn touch_last_seen(&self, seen: &[(UserId, Timestamp)]) -> StoreResult<()> {
        if seen.is_empty() {
            return Ok(());
        }
        // Rows in id order: two nodes writing the same users never wait for each other in a cycle.
        let mut seen = seen.to_vec();
        seen.sort_unstable_by_key(|(user, _)| user.0);
        in_tx!(self.pool, |c| users::touch_last_seen(c, &seen))
    }

    async fn set_user_flags(&self, user: UserId, flags: &UserFlags) -> StoreResult<User> {
        in_tx!(self.pool, |c| users::set_flags(c, user, flags))
    }

    async fn contacts(&self, user: UserId) -> StoreResult<Vec<UserId>> {
        with_conn!(self.pool, |c| conversations::contacts(c, user))
    }

    async fn presence_audience(&self, user: UserId, max_members: u32) -> StoreResult<Vec<UserId>> {
        with_conn!(self.pool, |c| conversations::presence_audience(c, user, max_members))
    }

    async fn share_conversation(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        with_conn!(self.pool, |c| conversations::share_conversation(c, a, b))
    }

    async fn set_block(&self, blocker: UserId, blocked: UserId, on: bool) -> StoreResult<bool> {
        in_tx!(self.pool, |c| moderation::set_block(c, blocker, blocked, on))
    }

    async fn blocked_by(&self, user: UserId) -> StoreResult<Vec<UserId>> {
        with_conn!(self.pool, |c| moderation::blocked_by(c, user))
    }

    async fn block_partners(&self, user: UserId) -> StoreResult<Vec<UserId>> {
        with_conn!(self.pool, |c| moderation::block_partners(c, user))
    }

    async fn blocked_between(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        with_conn!(self.pool, |c| moderation::blocked_between(c, a, b))
    }

    async fn report_message(&self, message: MessageId, reporter: UserId, reason: &str) -> StoreResult<Report> {
        in_tx!(self.pool, |c| moderation::report(c, message, reporter, reason))
    }

    async fn reports(&self, limit: u32) -> StoreResult<Vec<Report>> {
        with_conn!(self.pool, |c| moderation::reports(c, limit))
    }

    async fn set_muted(&self, id: ConversationId, user: UserId, muted: bool) -> StoreResult<()> {
        in_tx!(self.pool, |c| notifications::set_muted(c, id, user, muted))
    }

    async fn muted_members(&self, id: ConversationId) -> StoreResult<Vec<UserId>> {
        with_conn!(self.pool, |c| notifications::muted_members(c, id))
    }

    async fn add_notifications(&self, new: &[NewNotification]) -> StoreResult<Vec<Notification>> {
        if new.is_empty() {
            return Ok(Vec::new());
        }
        in_tx!(self.pool, |c| notifications::add(c, new))
    }

    async fn notifications(&self, user: UserId, filter: &NotificationFilter) -> StoreResult<Vec<Notification>> {
        with_conn!(self.pool, |c| notifications::list(c, user, filter))
    }

    async fn unread_notification_count(&self, user: UserId) -> StoreResult<i64> {
        with_conn!(self.pool, |c| notifications::unread_count(c, user))
    }

    async fn has_unread_notifications(&self, user: UserId, id: ConversationId) -> StoreResult<bool> {
        with_conn!(self.pool, |c| notifications::has_unread(c, user, id))
    }

    async fn mark_notifications_read(&self, user: UserId, which: NotificationsToRead) -> StoreResult<u64> {
        in_tx!(self.pool, |c| notifications::mark_read(c, user, which))
    }

    async fn insert_refresh_token(&self, token_hash: &[u8], user: UserId, expires_at: Timestamp) -> StoreResult<()> {
        in_tx!(self.pool, |c| users::insert_refresh_token(c, token_hash, user, expires_at))
    }

    async fn prune_refresh_tokens(&self, before: Timestamp) -> StoreResult<u64> {
        in_tx!(self.pool, |c| users::prune_refresh_tokens(c, before))
    }

    async fn take_refresh_token(&self, token_hash: &[u8]) -> StoreResult<Option<(UserId, Timestamp)>> {
        in_tx!(self.pool, |c| users::take_refresh_token(c, token_hash))
    }

    async fn get_or_create_direct(&self, pair: DirectPair) -> StoreResult<(ConversationId, bool)> {
        in_tx!(self.pool, |c| conversations::get_or_create_direct(c, pair))
    }

    async fn overview(&self, id: ConversationId, user: UserId) -> StoreResult<Option<ConversationOverview>> {
        with_conn!(self.pool, |c| conversations::overview(c, id, user))
    }

    async fn list_overviews(
        &self,
        user: UserId,
        filter: &ConversationFilter,
    ) -> StoreResult<Vec<ConversationOverview>> {
        with_conn!(self.pool, |c| conversations::list_overviews(c, user, filter))
    }

    async fn membership(&self, id: ConversationId, user: UserId) -> StoreResult<Option<Membership>> {
        with_conn!(self.pool, |c| rooms::membership(c, id, user))
    }

    async fn conversation_with_members(&self, id: ConversationId) -> StoreResult<Option<(Conversation, Vec<Member>)>> {
        with_conn!(self.pool, |c| conversations::with_members(c, id))
    }

    async fn create_room(&self, room: NewRoom) -> StoreResult<(ConversationId, Appended)> {
        in_tx!(self.pool, |c| rooms::create(c, room.clone()))
    }

    async fn get_or_create_by_context(
        &self,
        context: &Context,
        participants: &[UserId],
        creator: UserId,
    ) -> StoreResult<(ConversationId, bool)> {
        in_tx!(self.pool, |c| rooms::get_or_create_by_context(c, context, participants, creator))
    }

    async fn change_members(&self, id: ConversationId, actor: UserId, change: MemberChange) -> StoreResult<Appended> {
        in_tx!(self.pool, |c| rooms::change_members(c, id, actor, change.clone()))
    }

    async fn update_conversation(
        &self,
        id: ConversationId,
        actor: UserId,
        patch: &ConversationPatch,
    ) -> StoreResult<Option<(ConversationEvent, Appended)>> {
        in_tx!(self.pool, |c| rooms::update(c, id, actor, patch))
    }

    async fn request_connection(&self, from: UserId, to: UserId) -> StoreResult<Connection> {
        in_tx!(self.pool, |c| connections::request(c, from, to))
    }

    async fn connection(&self, id: i64) -> StoreResult<Option<Connection>> {
        with_conn!(self.pool, |c| connections::by_id(c, id))
    }

    async fn connections(&self, user: UserId) -> StoreResult<Vec<Connection>> {
        with_conn!(self.pool, |c| connections::of_user(c, user))
    }

    async fn accept_connection(&self, id: i64) -> StoreResult<Connection> {
        in_tx!(self.pool, |c| connections::accept(c, id))
    }

    async fn delete_connection(&self, id: i64) -> StoreResult<()> {
        in_tx!(self.pool, |c| connections::delete(c, id))
    }

    async fn connected(&self, a: UserId, b: UserId) -> StoreResult<bool> {
        with_conn!(self.pool, |c| connections::connected(c, a, b))
    }

    async fn edit_message(&self, id: MessageId, body: &MessageBody) -> StoreResult<ConversationEvent> {
        in_tx!(self.pool, |c| lifecycle::edit(c, id, body))
    }

    async fn delete_message(&self, id: MessageId) -> StoreResult<ConversationEvent> {
        in_tx!(self.pool, |c| lifecycle::delete(c, id))
    }

    async fn toggle_reaction(&self, id: MessageId, user: UserId, emoji: &Emoji) -> StoreResult<ConversationEvent> {
        in_tx!(self.pool, |c| reactions::toggle(c, id, user, emoji))
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
        with_conn!(self.pool, |c| attachments::by_id(c, id))
    }

    async fn attachment_of_message(&self, id: MessageId) -> StoreResult<Option<StoredAttachment>> {
        with_conn!(self.pool, |c| attachments::of_message(c, id))
    }

    async fn expire_attachments(&self, before: Timestamp, limit: u32) -> StoreResult<Vec<StoredAttachment>> {
        in_tx!(self.pool, |c| attachments::expire(c, before, limit))
    }

    async fn positions(&self, id: ConversationId) -> StoreResult<Vec<MemberPosition>> {
        with_conn!(self.pool, |c| read_state::positions(c, id))
    }

    async fn is_member(&self, id: ConversationId, user: UserId) -> StoreResult<bool> {
        with_conn!(self.pool, |c| conversations::is_member(c, id, user))
    }

    async fn member_ids(&self, id: ConversationId) -> StoreResult<Vec<UserId>> {
        with_conn!(self.pool, |c| conversations::member_ids(c, id))
    }

    async fn append_message(&self, new: NewMessage) -> StoreResult<Appended> {
        self.queue(|reply| Write::Append(Box::new(new), reply)).await
    }

    async fn append_notice(&self, id: ConversationId, text: &MessageBody) -> StoreResult<Appended> {
        in_tx!(self.pool, |c| messages::insert_notice(c, id, text))
    }

    async fn message(&self, id: MessageId) -> StoreResult<Option<Message>> {
        let found = with_conn!(self.pool, |c| messages::with_event_seq(c, id))?;
        Ok(found.map(|(m, _)| m))
    }

    async fn messages_before(&self, id: ConversationId, before: Option<Seq>, limit: u32) -> StoreResult<Vec<Message>> {
        with_conn!(self.pool, |c| messages::before(c, id, before, limit))
    }

    async fn messages_after(&self, id: ConversationId, after: Seq, limit: u32) -> StoreResult<Vec<Message>> {
        with_conn!(self.pool, |c| messages::after(c, id, after, limit))
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
        with_conn!(self.pool, |c| read_state::unread_counts(c, user))
    }

    async fn search_messages(&self, search: &MessageSearch) -> StoreResult<Vec<MessageHit>> {
        with_conn!(self.pool, |c| search::messages(c, search))
    }

    async fn search_conversations(
        &self,
        user: UserId,
        query: &SearchQuery,
        limit: u32,
    ) -> StoreResult<Vec<ConversationOverview>> {
        with_conn!(self.pool, |c| search::conversations(c, user, query, limit))
    }

    async fn events_after(&self, id: ConversationId, after: Seq, limit: u32) -> StoreResult<Vec<ConversationEvent>> {
        with_conn!(self.pool, |c| events::after(c, id, after, limit))
    }

    async fn last_event_seq(&self, id: ConversationId) -> StoreResult<Seq> {
        with_conn!(self.pool, |c| events::last_seq(c, id))
    }

    async fn create_webhook(&self, new: NewWebhook) -> StoreResult<Webhook> {
        in_tx!(self.pool, |c| webhooks::create(c, new.clone()))
    }

    async fn webhooks(&self) -> StoreResult<Vec<Webhook>> {
        with_conn!(self.pool, |c| webhooks::all(c))
    }

    async fn webhook(&self, id: WebhookId) -> StoreResult<Option<Webhook>> {
        with_conn!(self.pool, |c| webhooks::by_id(c, id))
    }

    async fn delete_webhook(&self, id: WebhookId) -> StoreResult<()> {
        in_tx!(self.pool, |c| webhooks::delete(c, id))
    }

    async fn outbox_after(&self, after: OutboxId, limit: u32) -> StoreResult<Vec<OutboxEntry>> {
        // Number what committed since the last read (see `webhooks::sequence`), then read the
        // entries and their events from one snapshot.
        in_tx!(self.pool, |c| webhooks::sequence(c))?;
        let mut pooled = self.pool.acquire().await.map_err(db)?;
        let mut tx = sqlx::Connection::begin_with(&mut *pooled, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .await
            .map_err(db)?;
        let entries = webhooks::outbox_after(&mut tx, after, limit).await?;
        tx.commit().await.map_err(db)?;
        Ok(entries)
    }

    async fn record_delivery(&self, attempt: &NewDelivery) -> StoreResult<()> {
        in_tx!(self.pool, |c| webhooks::record_delivery(c, attempt))
    }

    async fn advance_webhook(&self, id: WebhookId, to: OutboxId) -> StoreResult<()> {
        in_tx!(self.pool, |c| webhooks::advance(c, id, to))
    }

    async fn deliveries(&self, id: WebhookId, limit: u32) -> StoreResult<Vec<Delivery>> {
        with_conn!(self.pool, |c| webhooks::deliveries(c, id, limit))
    }

    async fn prune_webhooks(&self, keep_deliveries: u32) -> StoreResult<u64> {
        let mut pruned = 0;
        loop {
            let removed: u64 = in_tx!(self.pool, |c| webhooks::prune_outbox(c, PRUNE_CHUNK))?;
            pruned += removed;
            if removed < u64::from(PRUNE_CHUNK) {
                break;
            }
        }
        in_tx!(self.pool, |c| webhooks::prune_deliveries(c, keep_deliveries))?;
        Ok(pruned)
    }

    async fn ping(&self) -> StoreResult<()> {
        if self.writer.is_closed() {
            return Err(StoreError::Unavailable);
        }
        with_conn!(self.pool, |c| async { sqlx::query("SELECT 1").execute(c).await.map(drop).map_err(db) })
    }

    async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        if self.writer.send(Write::Close(tx)).await.is_ok() {
            drop(rx.await);
        }
        self.pool.close().await;
    }
}
