//! Webhook endpoints, the outbox and the delivery log. The outbox itself is filled by a
//! trigger on `events` (see `migrations/0003_webhooks.sql`), so no write path can forget it,
//! and numbered after commit by [`sequence`], so its ids only ever appear in increasing order.

use parlor_core::{ConversationId, EventType, OutboxId, Seq, Timestamp, WebhookId, WebhookSecret};
use parlor_store::{Delivery, NewDelivery, NewWebhook, OutboxEntry, StoreError, StoreResult, Webhook};
use sqlx::PgConnection;
use sqlx::postgres::PgRow;

use crate::events;
use crate::rows::{self, corrupt, db};

const COLUMNS: &str = "id, url, events, secret, cursor, created_at";

fn webhook(row: &PgRow) -> StoreResult<Webhook> {
    let events: Option<String> = rows::get(row, 2)?;
    let events = match events {
        None => None,
        Some(json) => {
            let names: Vec<String> = serde_json::from_str(&json).map_err(|e| corrupt(e.to_string()))?;
            // A type a later version dropped is ignored rather than failing every read.
            Some(names.iter().filter_map(|n| EventType::parse(n).ok()).collect())
        }
    };
    let secret: String = rows::get(row, 3)?;
    Ok(Webhook {
        id: WebhookId(rows::get(row, 0)?),
        url: rows::get(row, 1)?,
        events,
        secret: WebhookSecret::parse(&secret).map_err(|e| corrupt(e.to_string()))?,
        cursor: OutboxId(rows::get(row, 4)?),
        created_at: Timestamp::from_millis(rows::get(row, 5)?),
    })
}

pub(crate) async fn create(conn: &mut PgConnection, new: NewWebhook) -> StoreResult<Webhook> {
    let events = new.events.map(|types| {
        let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
        serde_json::Value::from(names).to_string()
    });
    // Entries committed before this one are numbered first, so the cursor passes them all.
    sequence(&mut *conn).await?;
    let sql = format!(
        "INSERT INTO webhooks (url, events, secret, cursor, created_at) \
         VALUES ($1, $2, $3, (SELECT last_id FROM webhook_outbox_counter), $4) RETURNING {COLUMNS}"
    );
    let row = sqlx::query(&sql)
        .bind(new.url.as_str())
        .bind(events)
        .bind(new.secret.as_str())
        .bind(Timestamp::now().as_millis())
        .fetch_one(conn)
        .await
        .map_err(db)?;
    webhook(&row)
}

pub(crate) async fn all(conn: &mut PgConnection) -> StoreResult<Vec<Webhook>> {
    let sql = format!("SELECT {COLUMNS} FROM webhooks ORDER BY id");
    let found = sqlx::query(&sql).fetch_all(conn).await.map_err(db)?;
    found.iter().map(webhook).collect()
}

pub(crate) async fn by_id(conn: &mut PgConnection, id: WebhookId) -> StoreResult<Option<Webhook>> {
    let sql = format!("SELECT {COLUMNS} FROM webhooks WHERE id = $1");
    let found = sqlx::query(&sql).bind(id.0).fetch_optional(conn).await.map_err(db)?;
    found.as_ref().map(webhook).transpose()
}

pub(crate) async fn delete(conn: &mut PgConnection, id: WebhookId) -> StoreResult<()> {
    let done = sqlx::query("DELETE FROM webhooks WHERE id = $1").bind(id.0).execute(conn).await.map_err(db)?;
    if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

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
pub(crate) async fn sequence(conn: &mut PgConnection) -> StoreResult<()> {
    let waiting = sqlx::query("SELECT 1 FROM webhook_outbox WHERE id IS NULL LIMIT 1")
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    if waiting.is_none() {
        return Ok(());
    }
    let counter =
        sqlx::query("SELECT last_id FROM webhook_outbox_counter FOR UPDATE").fetch_one(&mut *conn).await.map_err(db)?;
    let last: i64 = rows::get(&counter, 0)?;
    // A statement started after the lock was granted: it sees every row committed before it,
    // including those a concurrent numbering just numbered (not NULL any more).
    let numbered = sqlx::query(
        "UPDATE webhook_outbox o SET id = $1 + w.n FROM \
         (SELECT pending_id, row_number() OVER (ORDER BY pending_id) AS n FROM webhook_outbox WHERE id IS NULL) w \
         WHERE o.pending_id = w.pending_id RETURNING o.id",
    )
    .bind(last)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let top = numbered.iter().map(|r| rows::get::<i64, _>(r, 0)).collect::<StoreResult<Vec<_>>>()?;
    if let Some(top) = top.into_iter().max() {
        sqlx::query("UPDATE webhook_outbox_counter SET last_id = $1")
            .bind(top)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    Ok(())
}

pub(crate) async fn outbox_after(
    conn: &mut PgConnection,
    after: OutboxId,
    limit: u32,
) -> StoreResult<Vec<OutboxEntry>> {
    let found = sqlx::query("SELECT id, conversation_id, seq FROM webhook_outbox WHERE id > $1 ORDER BY id LIMIT $2")
        .bind(after.0)
        .bind(i64::from(limit))
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    let mut entries = Vec::with_capacity(found.len());
    for row in &found {
        let (id, conversation, seq): (i64, i64, i64) = (rows::get(row, 0)?, rows::get(row, 1)?, rows::get(row, 2)?);
        // The log's own loader, so the event reads exactly as a resuming client would see it.
        let loaded = events::after(conn, ConversationId(conversation), Seq(seq - 1), 1).await?;
        match loaded.into_iter().next() {
            Some(event) if event.seq == Seq(seq) => entries.push(OutboxEntry { id: OutboxId(id), event }),
            // Events are never deleted today; should one go, the others must still flow.
            _ => tracing::warn!(outbox_id = id, conversation_id = conversation, seq, "outbox entry without its event"),
        }
    }
    Ok(entries)
}

pub(crate) async fn record_delivery(conn: &mut PgConnection, d: &NewDelivery) -> StoreResult<()> {
    let moved = if d.succeeded() { d.outbox_id.0 } else { 0 };
    // Checks the endpoint exists as a side effect: a deleted one must stop, not log.
    advance(conn, d.webhook, OutboxId(moved)).await?;
    sqlx::query(
        "INSERT INTO webhook_deliveries (webhook_id, outbox_id, event_type, attempt, status, error, duration_ms, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(d.webhook.0)
    .bind(d.outbox_id.0)
    .bind(d.event_type.as_str())
    .bind(i64::from(d.attempt))
    .bind(d.status.map(i64::from))
    .bind(d.error.as_deref())
    .bind(i64::try_from(d.duration_ms).unwrap_or(i64::MAX))
    .bind(d.at.as_millis())
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}

pub(crate) async fn advance(conn: &mut PgConnection, id: WebhookId, to: OutboxId) -> StoreResult<()> {
    let done = sqlx::query("UPDATE webhooks SET cursor = GREATEST(cursor, $1) WHERE id = $2")
        .bind(to.0)
        .bind(id.0)
        .execute(conn)
        .await
        .map_err(db)?;
    if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub(crate) async fn deliveries(conn: &mut PgConnection, id: WebhookId, limit: u32) -> StoreResult<Vec<Delivery>> {
    let found = sqlx::query(
        "SELECT id, outbox_id, event_type, attempt, status, error, duration_ms, created_at FROM webhook_deliveries \
         WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(id.0)
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await
    .map_err(db)?;
    found
        .iter()
        .map(|row| {
            Ok(Delivery {
                id: rows::get(row, 0)?,
                outbox_id: OutboxId(rows::get(row, 1)?),
                event_type: rows::get(row, 2)?,
                attempt: u32::try_from(rows::get::<i64, _>(row, 3)?).unwrap_or_default(),
                status: rows::get::<Option<i64>, _>(row, 4)?.and_then(|s| u16::try_from(s).ok()),
                error: rows::get(row, 5)?,
                duration_ms: u64::try_from(rows::get::<i64, _>(row, 6)?).unwrap_or_default(),
                at: Timestamp::from_millis(rows::get(row, 7)?),
            })
        })
        .collect()
}

/// Deletes up to `chunk` outbox entries that every endpoint has passed; returns how many.
/// Called repeatedly, each in its own short transaction, so pruning never holds the write
/// connection for long.
pub(crate) async fn prune_outbox(conn: &mut PgConnection, chunk: u32) -> StoreResult<u64> {
    let done = sqlx::query(
        "DELETE FROM webhook_outbox WHERE pending_id IN (SELECT pending_id FROM webhook_outbox \
         WHERE NOT EXISTS (SELECT 1 FROM webhooks) \
         OR id <= (SELECT MIN(cursor) FROM webhooks) ORDER BY pending_id LIMIT $1)",
    )
    .bind(i64::from(chunk))
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(done.rows_affected())
}

/// Keeps the newest `keep` log rows of every endpoint.
pub(crate) async fn prune_deliveries(conn: &mut PgConnection, keep: u32) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM webhook_deliveries WHERE id IN (SELECT d.id FROM webhook_deliveries d WHERE d.id <= \
         (SELECT k.id FROM webhook_deliveries k WHERE k.webhook_id = d.webhook_id ORDER BY k.id DESC LIMIT 1 OFFSET $1))",
    )
    .bind(i64::from(keep))
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}
