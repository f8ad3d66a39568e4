//! [`Backend`]: what a SQL backend brings to the statements written once here: its database
//! driver, its error codes, where it reads and how it writes, its batch writer, and the few
//! statements its dialect says its own way.

use std::borrow::Cow;
use std::future::Future;
use std::ops::DerefMut;
use std::path::Path;

use parlor_core::{MessageHit, MessageId};
use parlor_store::{MessageSearch, StoreError, StoreResult};
use sqlx::pool::PoolConnection;

use crate::driver::Driver;
use crate::queue::WriteQueue;
use crate::search_page::Candidate;
use crate::statement::Conn;

/// A SQL backend: SQLite (`parlor-store-sqlite`) or PostgreSQL (`parlor-store-postgres`).
/// [`crate::SqlStore`] implements the `Store` trait for any of them.
pub trait Backend: Send + Sync + Sized + 'static {
    type Db: Driver;
    /// A read connection, given back when dropped.
    type Reader: DerefMut<Target = <Self::Db as sqlx::Database>::Connection> + Send;

    // --- the dialect ---

    /// `GREATEST` of two values: SQLite's two-argument `MAX`, PostgreSQL's `GREATEST`.
    const GREATEST: &'static str;
    /// A `LIKE` that ignores case (SQLite's does already).
    const ILIKE: &'static str;
    /// An expression for the newest webhook outbox id (0 when there is none).
    const OUTBOX_HEAD: &'static str;
    /// How a write transaction begins.
    const BEGIN_WRITE: &'static str = "BEGIN";
    /// How a read transaction that sees one snapshot throughout begins.
    const BEGIN_SNAPSHOT: &'static str = "BEGIN";
    /// True when webhook outbox entries are numbered after they commit
    /// ([`Backend::number_outbox`]) rather than as they are written: a reader of the outbox
    /// then numbers what committed before it reads.
    const OUTBOX_NUMBERED_AFTER_COMMIT: bool = false;

    /// `expr` as compared with the case-insensitive unique index on `users.username`: SQLite's
    /// column is `COLLATE NOCASE` (a comparison with it already ignores case, and uses the
    /// index); PostgreSQL's index is on `lower(username)`.
    fn username_key(expr: &str) -> Cow<'_, str>;

    /// A database error as the store reports it (locked, full, closed...).
    fn error(e: sqlx::Error) -> StoreError;

    // --- where statements run ---

    /// A connection to read on.
    fn reader(&self) -> impl Future<Output = StoreResult<Self::Reader>> + Send;
    /// A connection for a write transaction outside the batch writer.
    fn writer(&self) -> impl Future<Output = StoreResult<PoolConnection<Self::Db>>> + Send;
    /// Runs in every write transaction just before its commit.
    fn before_commit(conn: &mut Conn<'_, Self>) -> impl Future<Output = StoreResult<()>> + Send {
        let _ = conn;
        async { Ok(()) }
    }
    /// Runs in an erasure's transaction after its changes: removes the erased words from the
    /// search index's storage where deleting them only marks them (SQLite's FTS5).
    fn scrub_search_index(conn: &mut Conn<'_, Self>) -> impl Future<Output = StoreResult<()>> + Send {
        let _ = conn;
        async { Ok(()) }
    }
    /// Runs in a retention sweep's transaction after it erased messages: forgets the words of
    /// the search index's own word list that no message holds any more (SQLite's
    /// `messages_fts_words`; PostgreSQL keeps no such list).
    fn forget_unindexed_words(conn: &mut Conn<'_, Self>) -> impl Future<Output = StoreResult<()>> + Send {
        let _ = conn;
        async { Ok(()) }
    }
    /// Gives the writer connection back once its transaction ended with `outcome`.
    fn release<T: Send + Sync>(
        conn: PoolConnection<Self::Db>,
        outcome: &StoreResult<T>,
    ) -> impl Future<Output = ()> + Send {
        let _ = outcome;
        async move { drop(conn) }
    }
    /// True when a transaction that failed with `error` on its `attempt`th run is to run again
    /// (after a pause the backend takes here).
    fn retry(error: &StoreError, attempt: u32) -> impl Future<Output = bool> + Send {
        let _ = (error, attempt);
        async { false }
    }
    /// The batch writer's inbox: messages, read positions, delivery receipts.
    fn queue(&self) -> &WriteQueue;

    // --- what each backend does its own way ---

    /// Locks the conversations' rows for the rest of the transaction, so rules that read
    /// before they write (the last owner, archived conversations) hold against other writers.
    /// Backends with one writer need nothing.
    fn lock_conversations(conn: &mut Conn<'_, Self>, ids: &[i64]) -> impl Future<Output = StoreResult<()>> + Send {
        let _ = (conn, ids);
        async { Ok(()) }
    }
    /// As [`Backend::lock_conversations`], for the conversation of a message.
    fn lock_conversation_of(
        conn: &mut Conn<'_, Self>,
        message: MessageId,
    ) -> impl Future<Output = StoreResult<()>> + Send {
        let _ = (conn, message);
        async { Ok(()) }
    }
    /// Up to `n` messages matching `search` that its user may read (below `search.below`),
    /// newest first, reading no more of the index than that takes (see [`crate::search_page`]).
    fn search_candidates(
        conn: &mut Conn<'_, Self>,
        search: &MessageSearch,
        n: usize,
    ) -> impl Future<Output = StoreResult<Vec<Candidate>>> + Send;
    /// Orders one window of candidates best first, ties newest first: by `score` unless the
    /// backend scores here.
    fn rank_window(window: &mut [Candidate]) {
        window.sort_by(crate::search_page::by_rank);
    }
    /// The page's messages with their excerpts, in the page's order.
    fn search_hits(
        conn: &mut Conn<'_, Self>,
        search: &MessageSearch,
        page: Vec<Candidate>,
    ) -> impl Future<Output = StoreResult<Vec<MessageHit>>> + Send;
    /// Numbers webhook outbox entries that are not numbered yet.
    fn number_outbox(conn: &mut Conn<'_, Self>) -> impl Future<Output = StoreResult<()>> + Send {
        let _ = conn;
        async { Ok(()) }
    }
    /// Deletes up to `chunk` outbox entries every endpoint has passed; returns how many.
    fn prune_outbox(conn: &mut Conn<'_, Self>, chunk: u32) -> impl Future<Output = StoreResult<u64>> + Send;

    // --- maintenance ---

    fn backup(&self, to: &Path) -> impl Future<Output = StoreResult<u64>> + Send {
        let _ = to;
        async { Err(StoreError::Unsupported("backup")) }
    }
    fn vacuum(&self) -> impl Future<Output = StoreResult<()>> + Send {
        async { Err(StoreError::Unsupported("vacuum")) }
    }
    /// Closes the connections once the batch writer has stopped.
    fn close(&self) -> impl Future<Output = ()> + Send;
}
