//! The PostgreSQL backend of parlor's [`Store`](parlor_store::Store), for several parlor nodes
//! sharing one database. Migrations in `migrations/` are embedded and applied on connect
//! (PostgreSQL's advisory lock keeps nodes starting together from applying them twice).
//!
//! The statements themselves are written once in `parlor-store-sql`, for both SQL backends;
//! this crate brings what is PostgreSQL's own: the pool and the batch writer, row locks and
//! retries, delivery receipts in bulk (`receipts.rs`), text search (`search.rs`), the outbox's
//! numbering after commit (`outbox.rs`), importing a SQLite database (`import.rs`), and
//! PostgreSQL's error codes (`rows.rs`).
//!
//! **Invariant:** per-conversation sequence numbers are taken with `UPDATE conversations ...
//! RETURNING` inside the writing transaction. The row lock that takes is held until commit, so
//! writers on every node number a conversation's messages and events gap-free and in commit
//! order. A transaction touching several conversations locks them in ascending id order
//! ([`lock_conversations`]); one that still loses a deadlock (or a serialization failure) is
//! run again from the start.
//!
//! Hot writes (messages, read and delivered positions) go through [`writer`], which commits
//! them in batches, set-wise (`append_many.rs`, `receipts.rs`: a fixed number of round trips
//! per batch), on a few lanes partitioned by conversation; the rest run short transactions
//! straight on the pool.

mod append_many;
pub mod import;
mod outbox;
mod receipts;
mod rows;
mod search;
#[cfg(feature = "testing")]
pub mod testing;
mod writer;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use parlor_core::{MessageHit, MessageId};
use parlor_store::{MessageSearch, StoreError, StoreResult};
use parlor_store_sql::queue::{WriteQueue, write_queue};
use parlor_store_sql::search_page::Candidate;
use parlor_store_sql::{Backend, Conn, SqlStore, sql};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};

use crate::rows::{db, is_retryable};

/// The PostgreSQL store.
pub type PostgresStore = SqlStore<PostgresBackend>;

/// Queued writes before senders wait: backpressure instead of unbounded memory.
const WRITE_QUEUE: usize = 4096;

/// Called by the batch writer after each commit with how long the batch took (the same type
/// as the SQLite store's, so the server's metrics hook serves both).
pub type OnCommit = Arc<dyn Fn(Duration) + Send + Sync>;

/// How many times a transaction that lost a deadlock is run before its error is returned.
pub(crate) const MAX_ATTEMPTS: u32 = 5;

/// The fewest connections a node keeps: while the batch writer's one lane commits on one,
/// three serve reads and other writes.
pub const MIN_CONNECTIONS: u32 = 4;

/// How the store connects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Connections this node keeps open at most, [`MIN_CONNECTIONS`] or more (fewer count as
    /// that many). The batch writer's lanes use a quarter of them, between one and four, each
    /// one at a time.
    pub max_connections: u32,
    /// How long a caller waits for a free connection before failing (sqlx's `PoolTimedOut`,
    /// which the store reports as [`StoreError::Busy`]: 503 with "retry shortly").
    pub acquire_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self { max_connections: 16, acquire_timeout: Duration::from_secs(5) }
    }
}

/// This node's connections and batch writer.
pub struct PostgresBackend {
    /// Every connection of this node: readers, short write transactions and the batch writer.
    pool: PgPool,
    /// The batch writer's inbox.
    queue: WriteQueue,
}

/// Connects to the database at `url` (`postgres://...`) and applies pending migrations.
pub async fn connect(url: &str, options: Options) -> StoreResult<PostgresStore> {
    connect_observed(url, options, Arc::new(|_| {})).await
}

/// As [`connect`], calling `on_commit` with the time each write batch took (for metrics; it
/// runs on the writer's task, so it must be quick).
pub async fn connect_observed(url: &str, options: Options, on_commit: OnCommit) -> StoreResult<PostgresStore> {
    let connect: PgConnectOptions = url.parse().map_err(StoreError::backend)?;
    let max_connections = options.max_connections.max(MIN_CONNECTIONS);
    let pool = PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(options.acquire_timeout)
        .connect_with(connect)
        .await
        .map_err(db)?;
    sqlx::migrate!("./migrations").run(&pool).await.map_err(StoreError::backend)?;
    let (queue, inbox) = write_queue(WRITE_QUEUE);
    // A quarter of the connections write, so readers are never starved by the lanes.
    let lanes = usize::try_from(max_connections / 4).unwrap_or(1).clamp(1, writer::MAX_LANES);
    tokio::spawn(writer::run(pool.clone(), inbox, on_commit, lanes));
    Ok(SqlStore::new(PostgresBackend { pool, queue }))
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

impl Backend for PostgresBackend {
    type Db = Postgres;
    type Reader = PoolConnection<Postgres>;

    const GREATEST: &'static str = "GREATEST";
    const ILIKE: &'static str = "ILIKE";
    const OUTBOX_HEAD: &'static str = "(SELECT last_id FROM webhook_outbox_counter)";
    const BEGIN_SNAPSHOT: &'static str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    const OUTBOX_NUMBERED_AFTER_COMMIT: bool = true;

    fn username_key(expr: &str) -> Cow<'_, str> {
        Cow::Owned(format!("lower({expr})"))
    }

    fn error(e: sqlx::Error) -> StoreError {
        db(e)
    }

    async fn reader(&self) -> StoreResult<PoolConnection<Postgres>> {
        self.pool.acquire().await.map_err(db)
    }

    async fn writer(&self) -> StoreResult<PoolConnection<Postgres>> {
        self.pool.acquire().await.map_err(db)
    }

    /// A transaction PostgreSQL aborted for a deadlock or a lost race runs again, a few times.
    async fn retry(error: &StoreError, attempt: u32) -> bool {
        if attempt >= MAX_ATTEMPTS || !is_retryable(error) {
            return false;
        }
        tracing::debug!(error = %error, attempt, "transaction aborted by the database; running it again");
        backoff(attempt).await;
        true
    }

    fn queue(&self) -> &WriteQueue {
        &self.queue
    }

    async fn lock_conversations(conn: &mut Conn<'_, Self>, ids: &[i64]) -> StoreResult<()> {
        lock_conversations(conn.raw(), ids).await
    }

    async fn lock_conversation_of(conn: &mut Conn<'_, Self>, message: MessageId) -> StoreResult<()> {
        let owner = sql("SELECT conversation_id FROM messages WHERE id = $1")
            .bind(message.0)
            .fetch_optional(conn)
            .await?
            .ok_or(StoreError::NotFound)?;
        lock_conversations(conn.raw(), &[owner.get(0)?]).await
    }

    async fn search_candidates(
        conn: &mut Conn<'_, Self>,
        search: &MessageSearch,
        n: usize,
    ) -> StoreResult<Vec<Candidate>> {
        search::candidates(conn, search, n).await
    }

    async fn search_hits(
        conn: &mut Conn<'_, Self>,
        search: &MessageSearch,
        page: Vec<Candidate>,
    ) -> StoreResult<Vec<MessageHit>> {
        search::hits(conn, search, page).await
    }

    async fn number_outbox(conn: &mut Conn<'_, Self>) -> StoreResult<()> {
        outbox::sequence(conn).await
    }

    async fn prune_outbox(conn: &mut Conn<'_, Self>, chunk: u32) -> StoreResult<u64> {
        outbox::prune(conn, chunk).await
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
