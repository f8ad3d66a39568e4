//! The batch writer: one task per node commits the hot writes (messages, read and delivered
//! positions) in batches, so a busy node pays one commit per batch instead of one per
//! message. Each write runs in its own savepoint, so one bad write fails alone; a caller hears
//! back only after the batch's commit, which is what makes an acknowledgement mean "stored".
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
use crate::{MAX_ATTEMPTS, OnCommit, PostgresBackend, backoff, lock_conversations, receipts};

/// The most writes committed together. Large enough to amortise the commit, small enough that
/// the first writer in a batch does not wait long for the last.
const MAX_BATCH: usize = 256;

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

pub(crate) async fn run(pool: PgPool, mut rx: mpsc::Receiver<Write>, on_commit: OnCommit) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let close = batch.iter().position(|w| matches!(w, Write::Close(_)));
        let closing = close.map(|at| batch.split_off(at));
        // PostgreSQL has no `VACUUM` between batches (`Store::vacuum` never queues one here).
        let (vacuums, writes): (Vec<Write>, Vec<Write>) =
            std::mem::take(&mut batch).into_iter().partition(|w| matches!(w, Write::Vacuum(_)));
        vacuums.into_iter().for_each(|w| w.fail(StoreError::Unsupported("vacuum")));
        commit_batch(&pool, writes, &on_commit).await;
        if let Some(rest) = closing {
            let notify = refuse_the_rest(rest, &mut rx);
            for tx in notify {
                tx.send(()).ok();
            }
            return;
        }
    }
}

async fn commit_batch(pool: &PgPool, batch: Vec<Write>, on_commit: &OnCommit) {
    if batch.is_empty() {
        return;
    }
    let started = Instant::now();
    let size = batch.len();
    let mut attempt = 0;
    let outcome = loop {
        attempt += 1;
        match apply(pool, &batch).await {
            Err(e) if attempt < MAX_ATTEMPTS && is_retryable(&e) => {
                tracing::debug!(error = %e, attempt, batch = size, "write batch aborted by the database; running it again");
                backoff(attempt).await;
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

async fn apply(pool: &PgPool, batch: &[Write]) -> StoreResult<Vec<Outcome>> {
    let mut conn = pool.acquire().await.map_err(db)?;
    apply_on(&mut conn, batch).await
}

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
