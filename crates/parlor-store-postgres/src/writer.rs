//! The batch writer: a node commits the hot writes (messages, read and delivered positions) in
//! batches, so a busy node pays one commit per batch instead of one per message; a caller
//! hears back only after the batch's commit, which is what makes an acknowledgement mean
//! "stored".
//!
//! **Lanes.** Writes are spread over a few lanes by conversation ([`lane_of`]), each a task
//! with its own connection committing its own batches, so several batches are in flight (their
//! commits and fsyncs overlap) while one conversation's writes keep their order: they all go
//! through the same lane, one batch after another.
//!
//! **Set-wise.** A batch costs a fixed number of round trips whatever its size: `BEGIN`, the
//! conversations' locks, the delivery receipts (at most three statements, `receipts.rs`), the
//! appends (three, `append_many.rs`, four when a retry must be answered with its reactions),
//! `COMMIT`: six for a batch of plain messages (counted by `tests/round_trips.rs`; about ten per
//! message before). Only read positions (`MarkRead`, rare: a reader's explicit receipt) still
//! take a savepoint and a few statements each. Positions are applied before the batch's appends:
//! nobody has seen a message of a batch before it commits, so no receipt can be about one.
//! Every message still gets its own answer; a batch whose set-wise statements fail for a reason
//! other than a deadlock (a constraint the check did not foresee) is rolled back and run again
//! one write at a time, each in its own savepoint, as before.
//!
//! Other nodes write the same conversations at the same time. A batch first locks every
//! conversation it appends to or logs a receipt in, in ascending id order
//! ([`crate::lock_conversations`]), so two batches never deadlock on them; a batch aborted
//! for a deadlock or serialization failure anyway is run again from the start, whole.

use std::time::Instant;

use parlor_core::ConversationEvent;
use parlor_store::{Appended, ReadOutcome, StoreError, StoreResult};
use parlor_store_sql::queue::{Write, batch_failed, refuse_the_rest};
use parlor_store_sql::{Conn, messages, read_state};
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::mpsc;

use crate::rows::{db, is_retryable};
use crate::{MAX_ATTEMPTS, OnCommit, PostgresBackend, append_many, backoff, lock_conversations, receipts};

/// The most writes committed together. Large enough to amortise the commit, small enough that
/// the first writer in a batch does not wait long for the last.
const MAX_BATCH: usize = 256;

/// Lanes at most: more batches in flight overlap more commits, but each holds a connection.
pub(crate) const MAX_LANES: usize = 4;

/// Writes queued per lane before the dispatcher waits (and, behind it, the writers).
const LANE_QUEUE: usize = 1024;

/// The conversations whose rows `write` locks: appends and logged receipts take their
/// counters; a quiet receipt touches only the member's row.
fn locks(write: &Write, into: &mut Vec<i64>) {
    match write {
        Write::Append(new, _) => into.push(new.conversation_id.0),
        Write::MarkRead(id, _, _, true, _) => into.push(id.0),
        Write::MarkDeliveredMany(receipts, _) => {
            into.extend(receipts.iter().filter(|r| r.log).map(|r| r.conversation.0));
        }
        _ => {}
    }
}

/// One write's answer, kept until the batch commits.
enum Outcome {
    Appended(StoreResult<Appended>),
    Read(StoreResult<ReadOutcome>),
    DeliveredMany(StoreResult<Vec<ConversationEvent>>),
}

impl Outcome {
    fn error(&self) -> Option<&StoreError> {
        match self {
            Outcome::Appended(r) => r.as_ref().err(),
            Outcome::Read(r) => r.as_ref().err(),
            Outcome::DeliveredMany(r) => r.as_ref().err(),
        }
    }
}

/// The lane a write goes to: its conversation's (a delivery-receipt list goes by its first).
fn lane_of(write: &Write, lanes: usize) -> usize {
    let conversation = match write {
        Write::Append(new, _) => new.conversation_id.0,
        Write::MarkRead(id, ..) => id.0,
        Write::MarkDeliveredMany(list, _) => list.first().map_or(0, |r| r.conversation.0),
        Write::Vacuum(_) | Write::Close(_) => 0,
    };
    usize::try_from(conversation.rem_euclid(lanes.max(1) as i64)).unwrap_or(0)
}

/// Hands each queued write to its lane; on `Close`, lets every lane finish what it holds first.
pub(crate) async fn run(pool: PgPool, mut rx: mpsc::Receiver<Write>, on_commit: OnCommit, lanes: usize) {
    let (mut senders, mut tasks) = (Vec::new(), Vec::new());
    for _ in 0..lanes.max(1) {
        let (tx, inbox) = mpsc::channel(LANE_QUEUE);
        senders.push(tx);
        tasks.push(tokio::spawn(lane(pool.clone(), inbox, on_commit.clone())));
    }
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut closing = None;
    while closing.is_none() && rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let close = batch.iter().position(|w| matches!(w, Write::Close(_)));
        closing = close.map(|at| batch.split_off(at));
        for write in batch.drain(..) {
            // PostgreSQL has no `VACUUM` between batches (`Store::vacuum` never queues one here).
            if let Write::Vacuum(_) = write {
                write.fail(StoreError::Unsupported("vacuum"));
                continue;
            }
            let at = lane_of(&write, senders.len());
            if let Err(mpsc::error::SendError(write)) = senders[at].send(write).await {
                write.fail(StoreError::Unavailable);
            }
        }
    }
    drop(senders);
    for task in tasks {
        if let Err(e) = task.await {
            tracing::error!(error = %e, "a write lane stopped");
        }
    }
    let notify = refuse_the_rest(closing.unwrap_or_default(), &mut rx);
    for tx in notify {
        tx.send(()).ok();
    }
}

/// One lane: its writes in batches, one batch at a time.
async fn lane(pool: PgPool, mut rx: mpsc::Receiver<Write>, on_commit: OnCommit) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        commit_batch(&pool, std::mem::take(&mut batch), &on_commit).await;
    }
}

async fn commit_batch(pool: &PgPool, batch: Vec<Write>, on_commit: &OnCommit) {
    if batch.is_empty() {
        return;
    }
    let started = Instant::now();
    let size = batch.len();
    let mut attempt = 0;
    let mut setwise = true;
    let outcome = loop {
        attempt += 1;
        match apply(pool, &batch, setwise).await {
            Err(e) if attempt < MAX_ATTEMPTS && is_retryable(&e) => {
                tracing::debug!(error = %e, attempt, batch = size, "write batch aborted by the database; running it again");
                backoff(attempt).await;
            }
            Err(e) if setwise && !matches!(e, StoreError::Full | StoreError::Busy | StoreError::Unavailable) => {
                tracing::warn!(error = %e, batch = size, "set-wise batch failed; running it again one write at a time");
                setwise = false;
            }
            other => break other,
        }
    };
    let elapsed = started.elapsed();
    on_commit(elapsed);
    match outcome {
        Ok(outcomes) => {
            tracing::trace!(batch = size, elapsed_us = elapsed.as_micros() as u64, "write batch committed");
            for (write, outcome) in batch.into_iter().zip(outcomes) {
                match (write, outcome) {
                    (Write::Append(_, tx), Outcome::Appended(r)) => drop(tx.send(r)),
                    (Write::MarkRead(.., tx), Outcome::Read(r)) => drop(tx.send(r)),
                    (Write::MarkDeliveredMany(_, tx), Outcome::DeliveredMany(r)) => drop(tx.send(r)),
                    (other, _) => other.fail(StoreError::Unavailable),
                }
            }
        }
        Err(e) => {
            tracing::error!(error = %e, batch = size, "write batch failed; nothing in it was stored");
            for write in batch {
                write.fail(batch_failed(&e));
            }
        }
    }
}

async fn apply(pool: &PgPool, batch: &[Write], setwise: bool) -> StoreResult<Vec<Outcome>> {
    let mut conn = pool.acquire().await.map_err(db)?;
    if setwise { apply_setwise(&mut conn, batch).await } else { apply_on(&mut conn, batch).await }
}

/// The batch with a fixed number of round trips (the module's doc): positions first, then every
/// append at once.
async fn apply_setwise(conn: &mut PgConnection, batch: &[Write]) -> StoreResult<Vec<Outcome>> {
    let mut tx = conn.begin().await.map_err(db)?;
    let mut locked = Vec::new();
    for write in batch {
        locks(write, &mut locked);
    }
    lock_conversations(&mut tx, &locked).await?;
    let mut outcomes: Vec<Option<Outcome>> = batch.iter().map(|_| None).collect();
    for (write, slot) in batch.iter().zip(outcomes.iter_mut()) {
        let outcome = match write {
            Write::MarkDeliveredMany(list, _) => {
                // All or nothing, as one write: a failure here fails the batch's attempt.
                let events = receipts::mark_delivered_many(&mut Conn::<PostgresBackend>::new(&mut *tx), list).await?;
                Outcome::DeliveredMany(Ok(events))
            }
            Write::MarkRead(id, user, up_to, log, _) => {
                let mut savepoint = tx.begin().await.map_err(db)?;
                let point = &mut Conn::<PostgresBackend>::new(&mut *savepoint);
                let read = read_state::mark_read(point, *id, *user, up_to.clone(), *log).await;
                match &read {
                    Ok(_) => savepoint.commit().await.map_err(db)?,
                    Err(e) if is_retryable(e) || matches!(e, StoreError::Full | StoreError::Busy) => {
                        return Err(read.err().unwrap_or(StoreError::Unavailable));
                    }
                    Err(_) => savepoint.rollback().await.map_err(db)?,
                }
                Outcome::Read(read)
            }
            _ => continue,
        };
        *slot = Some(outcome);
    }
    let news: Vec<&parlor_core::NewMessage> =
        batch.iter().filter_map(|w| if let Write::Append(new, _) = w { Some(&**new) } else { None }).collect();
    let mut appended = append_many::append_many(&mut tx, &news).await?.into_iter();
    for (write, slot) in batch.iter().zip(outcomes.iter_mut()) {
        if let Write::Append(..) = write {
            *slot = Some(Outcome::Appended(appended.next().unwrap_or(Err(StoreError::Unavailable))));
        }
    }
    tx.commit().await.map_err(db)?;
    // Vacuums and closes never reach a lane; a slot left empty is answered as unavailable.
    Ok(outcomes.into_iter().map(|o| o.unwrap_or(Outcome::Read(Err(StoreError::Unavailable)))).collect())
}

/// The batch one write at a time, each in its own savepoint so one bad write fails alone: the
/// fallback when the set-wise statements failed.
async fn apply_on(conn: &mut PgConnection, batch: &[Write]) -> StoreResult<Vec<Outcome>> {
    let mut tx = conn.begin().await.map_err(db)?;
    let mut locked = Vec::new();
    for write in batch {
        locks(write, &mut locked);
    }
    lock_conversations(&mut tx, &locked).await?;
    let conn = &mut Conn::<PostgresBackend>::new(&mut *tx);
    let mut outcomes = Vec::with_capacity(batch.len());
    for write in batch {
        let mut savepoint = conn.raw().begin().await.map_err(db)?;
        let point = &mut Conn::<PostgresBackend>::new(&mut *savepoint);
        let outcome = match write {
            Write::Append(new, _) => Outcome::Appended(messages::append(point, (**new).clone()).await),
            Write::MarkRead(id, user, up_to, log, _) => {
                Outcome::Read(read_state::mark_read(point, *id, *user, up_to.clone(), *log).await)
            }
            Write::MarkDeliveredMany(list, _) => {
                Outcome::DeliveredMany(receipts::mark_delivered_many(point, list).await)
            }
            Write::Vacuum(_) | Write::Close(_) => continue,
        };
        match outcome.error() {
            None => savepoint.commit().await.map_err(db)?,
            // Lost a deadlock, or the database itself failed (disk full): the whole batch is
            // run again, or fails, together.
            Some(e) if is_retryable(e) || matches!(e, StoreError::Full | StoreError::Busy) => {
                return Err(match outcome {
                    Outcome::Appended(Err(e)) | Outcome::Read(Err(e)) | Outcome::DeliveredMany(Err(e)) => e,
                    _ => StoreError::Unavailable,
                });
            }
            Some(_) => savepoint.rollback().await.map_err(db)?,
        }
        outcomes.push(outcome);
    }
    tx.commit().await.map_err(db)?;
    Ok(outcomes)
}
