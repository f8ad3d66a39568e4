//! The webhook outbox, PostgreSQL's way: filled by a trigger on `events`
//! (`migrations/0003_webhooks.sql`), so no write path can forget it, and numbered after commit
//! by [`sequence`], so its ids only ever appear in increasing order.

use parlor_store::StoreResult;
use parlor_store_sql::{Conn, sql};

use crate::PostgresBackend;

/// Numbers the outbox rows that committed since the last call, above every id handed out
/// before, in the order they were written.
///
/// Why not number them when they are written: several nodes write at once, and a transaction
/// that took a lower number may commit after one that took a higher number. A dispatcher that
/// had already read the higher one would move its cursor past the lower one and never deliver
/// it. Here, numbering happens under the counter row's lock, after the rows committed, and the
/// next numbering waits for this one's commit: every id handed out later is higher than every
/// id a reader could already have seen, so a cursor never skips an entry.
///
/// Runs in its own short transaction, before a read, and only writes when something waits.
pub(crate) async fn sequence(conn: &mut Conn<'_, PostgresBackend>) -> StoreResult<()> {
    let waiting = sql("SELECT 1 FROM webhook_outbox WHERE id IS NULL LIMIT 1").fetch_optional(conn).await?;
    if waiting.is_none() {
        return Ok(());
    }
    let counter = sql("SELECT last_id FROM webhook_outbox_counter FOR UPDATE").fetch_one(conn).await?;
    let last: i64 = counter.get(0)?;
    // A statement started after the lock was granted: it sees every row committed before it,
    // including those a concurrent numbering just numbered (not NULL any more).
    let numbered = sql("UPDATE webhook_outbox o SET id = $1 + w.n FROM \
         (SELECT pending_id, row_number() OVER (ORDER BY pending_id) AS n FROM webhook_outbox WHERE id IS NULL) w \
         WHERE o.pending_id = w.pending_id RETURNING o.id")
    .bind(last)
    .fetch_all(conn)
    .await?;
    let top = numbered.iter().map(|r| r.get::<i64>(0)).collect::<StoreResult<Vec<_>>>()?;
    if let Some(top) = top.into_iter().max() {
        sql("UPDATE webhook_outbox_counter SET last_id = $1").bind(top).execute(conn).await?;
    }
    Ok(())
}

/// Deletes up to `chunk` outbox entries that every endpoint has passed; returns how many.
/// Called repeatedly, each in its own short transaction, so pruning never holds the write
/// connection for long.
pub(crate) async fn prune(conn: &mut Conn<'_, PostgresBackend>, chunk: u32) -> StoreResult<u64> {
    sql("DELETE FROM webhook_outbox WHERE pending_id IN (SELECT pending_id FROM webhook_outbox \
         WHERE NOT EXISTS (SELECT 1 FROM webhooks) \
         OR id <= (SELECT MIN(cursor) FROM webhooks) ORDER BY pending_id LIMIT $1)")
    .bind(chunk)
    .execute(conn)
    .await
}
