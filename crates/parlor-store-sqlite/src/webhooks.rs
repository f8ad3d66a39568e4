//! Webhook endpoints, the outbox and the delivery log. The outbox itself is filled by a
//! trigger on `events` (see `migrations/0006_webhooks.sql`), so no write path can forget it.

use parlor_core::{ConversationId, EventType, OutboxId, Seq, Timestamp, WebhookId, WebhookSecret};
use parlor_store::{Delivery, NewDelivery, NewWebhook, OutboxEntry, StoreError, StoreResult, Webhook};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;

use crate::events;
use crate::rows::{self, corrupt, db};

const COLUMNS: &str = "id, url, events, secret, cursor, created_at";

fn webhook(row: &SqliteRow) -> StoreResult<Webhook> {
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

pub(crate) async fn create(conn: &mut SqliteConnection, new: NewWebhook) -> StoreResult<Webhook> {
    let events = new.events.map(|types| {
        let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
        serde_json::Value::from(names).to_string()
    });
    let sql = format!(
        "INSERT INTO webhooks (url, events, secret, cursor, created_at) \
         VALUES (?, ?, ?, (SELECT COALESCE(MAX(id), 0) FROM webhook_outbox), ?) RETURNING {COLUMNS}"
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

pub(crate) async fn all(conn: &mut SqliteConnection) -> StoreResult<Vec<Webhook>> {
    let sql = format!("SELECT {COLUMNS} FROM webhooks ORDER BY id");
    let found = sqlx::query(&sql).fetch_all(conn).await.map_err(db)?;
    found.iter().map(webhook).collect()
}

pub(crate) async fn by_id(conn: &mut SqliteConnection, id: WebhookId) -> StoreResult<Option<Webhook>> {
    let sql = format!("SELECT {COLUMNS} FROM webhooks WHERE id = ?");
    let found = sqlx::query(&sql).bind(id.0).fetch_optional(conn).await.map_err(db)?;
    found.as_ref().map(webhook).transpose()
}

pub(crate) async fn delete(conn: &mut SqliteConnection, id: WebhookId) -> StoreResult<()> {
    let done = sqlx::query("DELETE FROM webhooks WHERE id = ?").bind(id.0).execute(conn).await.map_err(db)?;
    if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub(crate) async fn outbox_after(
    conn: &mut SqliteConnection,
    after: OutboxId,
    limit: u32,
) -> StoreResult<Vec<OutboxEntry>> {
    let found = sqlx::query("SELECT id, conversation_id, seq FROM webhook_outbox WHERE id > ? ORDER BY id LIMIT ?")
        .bind(after.0)
        .bind(limit)
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

pub(crate) async fn record_delivery(conn: &mut SqliteConnection, d: &NewDelivery) -> StoreResult<()> {
    let moved = if d.succeeded() { d.outbox_id.0 } else { 0 };
    // Checks the endpoint exists as a side effect: a deleted one must stop, not log.
    advance(conn, d.webhook, OutboxId(moved)).await?;
    sqlx::query(
        "INSERT INTO webhook_deliveries (webhook_id, outbox_id, event_type, attempt, status, error, duration_ms, \
         created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(d.webhook.0)
    .bind(d.outbox_id.0)
    .bind(d.event_type.as_str())
    .bind(d.attempt)
    .bind(d.status)
    .bind(d.error.as_deref())
    .bind(i64::try_from(d.duration_ms).unwrap_or(i64::MAX))
    .bind(d.at.as_millis())
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}

pub(crate) async fn advance(conn: &mut SqliteConnection, id: WebhookId, to: OutboxId) -> StoreResult<()> {
    let done = sqlx::query("UPDATE webhooks SET cursor = MAX(cursor, ?) WHERE id = ?")
        .bind(to.0)
        .bind(id.0)
        .execute(conn)
        .await
        .map_err(db)?;
    if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub(crate) async fn deliveries(conn: &mut SqliteConnection, id: WebhookId, limit: u32) -> StoreResult<Vec<Delivery>> {
    let found = sqlx::query(
        "SELECT id, outbox_id, event_type, attempt, status, error, duration_ms, created_at FROM webhook_deliveries \
         WHERE webhook_id = ? ORDER BY id DESC LIMIT ?",
    )
    .bind(id.0)
    .bind(limit)
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
                attempt: rows::get(row, 3)?,
                status: rows::get(row, 4)?,
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
pub(crate) async fn prune_outbox(conn: &mut SqliteConnection, chunk: u32) -> StoreResult<u64> {
    let done = sqlx::query(
        "DELETE FROM webhook_outbox WHERE id IN (SELECT id FROM webhook_outbox WHERE id <= \
         COALESCE((SELECT MIN(cursor) FROM webhooks), (SELECT MAX(id) FROM webhook_outbox)) ORDER BY id LIMIT ?)",
    )
    .bind(chunk)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(done.rows_affected())
}

/// Keeps the newest `keep` log rows of every endpoint.
pub(crate) async fn prune_deliveries(conn: &mut SqliteConnection, keep: u32) -> StoreResult<()> {
    sqlx::query(
        "DELETE FROM webhook_deliveries WHERE id IN (SELECT d.id FROM webhook_deliveries d WHERE d.id <= \
         (SELECT k.id FROM webhook_deliveries k WHERE k.webhook_id = d.webhook_id ORDER BY k.id DESC LIMIT 1 OFFSET ?))",
    )
    .bind(keep)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}
