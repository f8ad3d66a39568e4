//! The batch writer: one task owns SQLite's single write connection and commits the hot writes
//! (messages, read positions) in batches, so a busy server pays one commit, and one fsync, per
//! batch instead of per message. Each write runs in its own savepoint, so one bad write fails
//! alone; a caller hears back only after the batch's commit, which is what makes an
//! acknowledgement mean "durably stored".
//!
//! A batch takes up to `MAX_BATCH` (256) writes. Plain messages are appended set-wise with six
//! statements whatever their number (`append_many.rs`), a node's delivery receipts with four
//! (`receipts.rs`); anything unusual falls back to one write at a time. The rest (rooms, edits,
//! reactions, contacts) run short transactions on the same connection. Write transactions take
//! the lock at `BEGIN IMMEDIATE`, so another process holding it (a backup) costs one
//! `database.busy_timeout_ms` per batch, then `StoreError::Busy` (503 `unavailable`); a full
//! disk is `StoreError::Full` (507 `insufficient_storage`). Either fails the whole batch at
//! once, and the connection is replaced (`release`).

use std::time::Instant;

use parlor_core::{ConversationEvent, NewMessage};
use parlor_store::{Appended, ReadOutcome, StoreError, StoreResult};
use parlor_store_sql::queue::{Write, batch_failed, refuse_the_rest};
use parlor_store_sql::{Conn, messages, read_state};
use sqlx::pool::PoolConnection;
use sqlx::{Acquire, Connection, Sqlite, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::{BEGIN_WRITE, OnCommit, SqliteBackend, append_many, maintenance, receipts, rows::db, search};

/// The most writes committed together. Large enough to amortise the fsync, small enough that
/// the first writer in a batch does not wait long for the last.
const MAX_BATCH: usize = 256;

enum Done {
    Appended(StoreResult<Appended>, oneshot::Sender<StoreResult<Appended>>),
    Read(StoreResult<ReadOutcome>, oneshot::Sender<StoreResult<ReadOutcome>>),
    DeliveredMany(StoreResult<Vec<ConversationEvent>>, oneshot::Sender<StoreResult<Vec<ConversationEvent>>>),
}

impl Done {
    /// Replaces the answer with the batch's failure when the batch did not commit.
    fn fail_with(self, batch: Option<&StoreError>) -> Self {
        let Some(e) = batch else {
            return self;
        };
        match self {
            Done::Appended(_, tx) => Done::Appended(Err(batch_failed(e)), tx),
            Done::Read(_, tx) => Done::Read(Err(batch_failed(e)), tx),
            Done::DeliveredMany(_, tx) => Done::DeliveredMany(Err(batch_failed(e)), tx),
        }
    }

    fn error(&self) -> Option<&StoreError> {
        match self {
            Done::Appended(r, _) => r.as_ref().err(),
            Done::Read(r, _) => r.as_ref().err(),
            Done::DeliveredMany(r, _) => r.as_ref().err(),
        }
    }

    fn reply(self) {
        // A caller that gave up waiting is fine: its write is stored either way.
        match self {
            Done::Appended(r, tx) => drop(tx.send(r)),
            Done::Read(r, tx) => drop(tx.send(r)),
            Done::DeliveredMany(r, tx) => drop(tx.send(r)),
        }
    }
}

pub(crate) async fn run(pool: SqlitePool, mut rx: mpsc::Receiver<Write>, on_commit: OnCommit) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let close = batch.iter().position(|w| matches!(w, Write::Close(_)));
        let closing = close.map(|at| batch.split_off(at));
        let mut rest = std::mem::take(&mut batch);
        while let Some(at) = rest.iter().position(|w| matches!(w, Write::Vacuum(_))) {
            let mut after = rest.split_off(at);
            commit_batch(&pool, rest, &on_commit).await;
            if let Write::Vacuum(reply) = after.remove(0) {
                drop(reply.send(vacuum(&pool).await));
            }
            rest = after;
        }
        commit_batch(&pool, rest, &on_commit).await;
        if let Some(rest) = closing {
            let notify = refuse_the_rest(rest, &mut rx);
            pool.close().await;
            for tx in notify {
                tx.send(()).ok();
            }
            return;
        }
    }
}

async fn commit_batch(pool: &SqlitePool, batch: Vec<Write>, on_commit: &OnCommit) {
    if batch.is_empty() {
        return;
    }
    let started = Instant::now();
    let size = batch.len();
    let mut done = Vec::with_capacity(size);
    let outcome = apply(pool, batch, &mut done).await;
    if let Err(e) = &outcome {
        tracing::error!(error = %e, batch = size, "write batch failed; nothing in it was stored");
    }
    let elapsed = started.elapsed();
    on_commit(elapsed);
    tracing::trace!(batch = size, elapsed_us = elapsed.as_micros() as u64, "write batch committed");
    for d in done {
        d.fail_with(outcome.as_ref().err()).reply();
    }
}

/// Returns the write connection to the pool, or closes it when the database failed under it
/// (a commit refused for a full disk, a lock never granted): SQLite may have rolled the
/// transaction back itself, which the driver does not track, so the next transaction starts on
/// a fresh connection.
pub(crate) async fn release<T>(conn: PoolConnection<Sqlite>, outcome: &StoreResult<T>) {
    if matches!(outcome, Err(StoreError::Busy | StoreError::Full | StoreError::Backend(_)))
        && let Err(e) = conn.close().await
    {
        tracing::warn!(error = %e, "closing the write connection after a failure failed");
    }
}

async fn apply(pool: &SqlitePool, batch: Vec<Write>, done: &mut Vec<Done>) -> StoreResult<()> {
    let mut conn = pool.acquire().await.map_err(db)?;
    let outcome = apply_on(&mut conn, batch, done).await;
    release(conn, &outcome).await;
    outcome
}

async fn apply_on(conn: &mut SqliteConnection, batch: Vec<Write>, done: &mut Vec<Done>) -> StoreResult<()> {
    let mut tx = conn.begin_with(BEGIN_WRITE).await.map_err(db)?;
    // Only appends store messages; receipt-only batches (most of them) skip the index round trips.
    let stores_messages = batch.iter().any(|w| matches!(w, Write::Append(..)));
    let batch = append_plain(&mut tx, batch, done).await?;
    for write in batch {
        let mut savepoint = tx.begin().await.map_err(db)?;
        let (ok, d) = match write {
            Write::Append(new, reply) => {
                let r = messages::append(&mut Conn::<SqliteBackend>::new(&mut *savepoint), *new).await;
                (r.is_ok(), Done::Appended(r, reply))
            }
            Write::MarkRead(id, user, up_to, log, reply) => {
                let r =
                    read_state::mark_read(&mut Conn::<SqliteBackend>::new(&mut *savepoint), id, user, up_to, log).await;
                (r.is_ok(), Done::Read(r, reply))
            }
            Write::MarkDeliveredMany(list, reply) => {
                let r = receipts::mark_delivered_many(&mut savepoint, &list).await;
                (r.is_ok(), Done::DeliveredMany(r, reply))
            }
            Write::Close(_) | Write::Vacuum(_) => continue,
        };
        // The database itself failed (locked, disk full): the rest of the batch would fail the
        // same way, one timeout each, so the whole batch fails now and nothing in it is stored.
        if let Some(e) = d.error().filter(|e| matches!(e, StoreError::Busy | StoreError::Full)) {
            let e = batch_failed(e);
            done.push(d);
            return Err(e);
        }
        if ok {
            savepoint.commit().await.map_err(db)?;
        } else {
            savepoint.rollback().await.map_err(db)?;
        }
        done.push(d);
    }
    if stores_messages {
        search::index_pending(&mut tx).await?;
    }
    tx.commit().await.map_err(db)
}

/// The fast path: when every append in the batch is a plain message (and no read position is
/// moved, which could be "up to the latest" and must see the batch in order), all of them are
/// stored with a fixed number of statements (`append_many`). Returns the writes left for the
/// one-at-a-time path: the others, or the whole batch when the fast path declined it.
async fn append_plain(
    tx: &mut sqlx::Transaction<'_, Sqlite>,
    batch: Vec<Write>,
    done: &mut Vec<Done>,
) -> StoreResult<Vec<Write>> {
    let eligible = batch.iter().any(|w| matches!(w, Write::Append(..)))
        && batch.iter().all(|w| match w {
            Write::Append(new, _) => append_many::plain(new),
            Write::MarkRead(..) => false,
            _ => true,
        });
    if !eligible {
        return Ok(batch);
    }
    let news: Vec<&NewMessage> =
        batch.iter().filter_map(|w| if let Write::Append(new, _) = w { Some(&**new) } else { None }).collect();
    let mut savepoint = tx.begin().await.map_err(db)?;
    let events = match append_many::append_many(&mut savepoint, &news).await {
        Ok(Some(events)) => events,
        Ok(None) => {
            savepoint.rollback().await.map_err(db)?;
            return Ok(batch);
        }
        Err(e) if matches!(e, StoreError::Busy | StoreError::Full) => return Err(batch_failed(&e)),
        Err(e) => {
            // Unexpected; the one-at-a-time path gives each write its own answer.
            tracing::warn!(error = %e, "batch append failed; appending one at a time");
            savepoint.rollback().await.map_err(db)?;
            return Ok(batch);
        }
    };
    savepoint.commit().await.map_err(db)?;
    let mut events = events.into_iter();
    let mut rest = Vec::new();
    for write in batch {
        match write {
            Write::Append(_, reply) => {
                let result = events.next().map(|event| Appended { event, duplicate: false });
                done.push(Done::Appended(result.ok_or(StoreError::Unavailable), reply));
            }
            other => rest.push(other),
        }
    }
    Ok(rest)
}

async fn vacuum(pool: &SqlitePool) -> StoreResult<()> {
    let mut conn = pool.acquire().await.map_err(db)?;
    maintenance::vacuum(&mut conn).await
}
