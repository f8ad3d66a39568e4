//! The embedded SQLite backend of parlor's [`Store`](parlor_store::Store): one database file in
//! WAL mode, a pool of read connections, and a single write connection owned by the batch
//! writer (see [`writer`]). Migrations in `migrations/` are embedded and applied on open.
//!
//! The statements themselves are written once in `parlor-store-sql`, for both SQL backends;
//! this crate brings what is SQLite's own: the connections and the batch writer (with its
//! set-wise fast paths, `append_many.rs` and `receipts.rs`), the FTS5 message index
//! (`search.rs`), the outbox's pruning (`outbox.rs`), backups and `VACUUM`
//! (`maintenance.rs`), WAL checkpoints off the writer's path (`checkpoint.rs`), and SQLite's
//! error codes (`rows.rs`).
//!
//! **Invariant:** only the writer's connection writes, so per-conversation sequence numbers are
//! assigned in commit order and SQLite answers `SQLITE_BUSY` only when another process holds
//! the database's write lock for longer than [`Options::busy_timeout`]; that write then fails
//! with [`StoreError::Busy`] (and a full disk with [`StoreError::Full`]), never half-done.

mod append_many;
mod checkpoint;
mod maintenance;
mod outbox;
mod readers;
mod receipts;
mod rows;
mod search;
mod writer;

use std::borrow::Cow;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use parlor_core::MessageHit;
use parlor_store::{MessageSearch, StoreError, StoreResult};
use parlor_store_sql::queue::{WriteQueue, write_queue};
use parlor_store_sql::search_page::Candidate;
use parlor_store_sql::{Backend, Conn, SqlStore};
use sqlx::pool::PoolConnection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};

use crate::readers::{Reader, Readers};
use crate::rows::db;

/// The SQLite store.
pub type SqliteStore = SqlStore<SqliteBackend>;

/// Queued writes before senders wait: backpressure instead of unbounded memory.
const WRITE_QUEUE: usize = 8192;

/// Called by the batch writer after each commit with how long the batch took.
pub type OnCommit = Arc<dyn Fn(Duration) + Send + Sync>;

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

/// Read connections open at most: reads beyond wait for one.
const READERS: usize = 8;

/// Write transactions take the write lock when they begin, so a locked database costs one
/// `busy_timeout` per transaction, not one per statement.
pub(crate) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// SQLite's connections and batch writer.
pub struct SqliteBackend {
    /// Readers; WAL lets them run alongside the writer.
    read: Readers,
    /// The single write connection, for the rare writes that do not go through the batcher.
    write: SqlitePool,
    /// The batch writer's inbox.
    queue: WriteQueue,
    /// The connection that checkpoints the WAL off the writer's path (`checkpoint.rs`).
    checkpoint: SqlitePool,
}

/// Opens (creating if needed) the database at `path` with full durability and applies pending
/// migrations.
pub async fn open(path: &Path) -> StoreResult<SqliteStore> {
    open_with(path, Options::default()).await
}

/// As [`open`], with every [`Options`] chosen.
pub async fn open_with(path: &Path, options: Options) -> StoreResult<SqliteStore> {
    open_observed(path, options, Arc::new(|_| {})).await
}

/// As [`open_with`], calling `on_commit` with the time each write batch took (for metrics; it
/// runs on the writer's task, so it must be quick).
pub async fn open_observed(
    path: &Path,
    Options { durability, busy_timeout }: Options,
    on_commit: OnCommit,
) -> StoreResult<SqliteStore> {
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
    // stale, and each ping is one more hand-off to the connection's thread and back for every
    // query (a measurable share of a reconnect storm, docs/benchmarks.md).
    // The writer never checkpoints in a commit: `checkpoint.rs` does, on a connection of its own.
    let write_options = options
        .clone()
        .pragma("wal_autocheckpoint", "0")
        .pragma("journal_size_limit", checkpoint::WAL_SIZE_LIMIT.to_string());
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .test_before_acquire(false)
        .connect_with(write_options)
        .await
        .map_err(db)?;
    sqlx::migrate!("./migrations").run(&write).await.map_err(StoreError::backend)?;
    let checkpoint = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .test_before_acquire(false)
        .connect_with(options.clone())
        .await
        .map_err(db)?;
    let read = Readers::new(options.read_only(true), READERS);
    let (queue, inbox) = write_queue(WRITE_QUEUE);
    tokio::spawn(writer::run(write.clone(), inbox, on_commit));
    tokio::spawn(checkpoint::run(checkpoint.clone()));
    Ok(SqlStore::new(SqliteBackend { read, write, queue, checkpoint }))
}

impl Backend for SqliteBackend {
    type Db = Sqlite;
    type Reader = Reader;

    const GREATEST: &'static str = "MAX";
    const ILIKE: &'static str = "LIKE";
    const OUTBOX_HEAD: &'static str = "(SELECT COALESCE(MAX(id), 0) FROM webhook_outbox)";
    const BEGIN_WRITE: &'static str = BEGIN_WRITE;

    fn username_key(expr: &str) -> Cow<'_, str> {
        Cow::Borrowed(expr)
    }

    fn error(e: sqlx::Error) -> StoreError {
        db(e)
    }

    async fn reader(&self) -> StoreResult<Reader> {
        self.read.acquire().await
    }

    async fn writer(&self) -> StoreResult<PoolConnection<Sqlite>> {
        self.write.acquire().await.map_err(db)
    }

    /// Every write transaction indexes the messages it stored, so a search never misses a
    /// committed message.
    async fn before_commit(conn: &mut Conn<'_, Self>) -> StoreResult<()> {
        search::index_pending(conn.raw()).await
    }

    async fn scrub_search_index(conn: &mut Conn<'_, Self>) -> StoreResult<()> {
        search::scrub(conn.raw()).await
    }

    async fn forget_unindexed_words(conn: &mut Conn<'_, Self>) -> StoreResult<()> {
        search::forget_unindexed_words(conn.raw()).await
    }

    async fn release<T: Send + Sync>(conn: PoolConnection<Sqlite>, outcome: &StoreResult<T>) {
        writer::release(conn, outcome).await;
    }

    fn queue(&self) -> &WriteQueue {
        &self.queue
    }

    async fn search_candidates(
        conn: &mut Conn<'_, Self>,
        search: &MessageSearch,
        n: usize,
    ) -> StoreResult<Vec<Candidate>> {
        search::candidates(conn, search, n).await
    }

    fn rank_window(window: &mut [Candidate]) {
        search::rank_window(window);
    }

    async fn search_hits(
        conn: &mut Conn<'_, Self>,
        _search: &MessageSearch,
        page: Vec<Candidate>,
    ) -> StoreResult<Vec<MessageHit>> {
        search::hits(conn, page).await
    }

    async fn prune_outbox(conn: &mut Conn<'_, Self>, chunk: u32) -> StoreResult<u64> {
        outbox::prune(conn, chunk).await
    }

    async fn backup(&self, to: &Path) -> StoreResult<u64> {
        let mut conn = self.read.acquire().await?;
        maintenance::backup(&mut conn, to).await
    }

    async fn vacuum(&self) -> StoreResult<()> {
        self.queue.vacuum().await
    }

    async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
        self.checkpoint.close().await;
    }
}
