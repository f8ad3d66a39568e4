//! Webhook endpoints, the outbox and the delivery log. The outbox itself is filled by a
//! trigger on `events` (each backend's webhook migration), so no write path can forget it;
//! numbering its entries and pruning them is each backend's own ([`Backend::number_outbox`],
//! [`Backend::prune_outbox`]).

use parlor_core::{
    ConversationId, Delivery, EventType, OutboxId, Seq, Timestamp, UserId, Webhook, WebhookId, WebhookSecret,
};
use parlor_store::{
    NewDelivery, NewWebhook, OutboxEntry, OutboxItem, QueuedNotification, QueuedUserDeleted, StoreError, StoreResult,
};

use crate::backend::Backend;
use crate::events;
use crate::rows::corrupt;
use crate::statement::{Conn, Row, sql};

const COLUMNS: &str = "id, url, events, secret, cursor, created_at";

fn webhook<B: Backend>(row: &Row<B>) -> StoreResult<Webhook> {
    let events: Option<String> = row.get(2)?;
    let events = match events {
        None => None,
        Some(json) => {
            let names: Vec<String> = serde_json::from_str(&json).map_err(|e| corrupt(e.to_string()))?;
            // A type a later version dropped is ignored rather than failing every read.
            Some(names.iter().filter_map(|n| EventType::parse(n).ok()).collect())
        }
    };
    let secret: String = row.get(3)?;
    Ok(Webhook {
        id: WebhookId(row.get(0)?),
        url: row.get(1)?,
        events,
        secret: WebhookSecret::parse(&secret).map_err(|e| corrupt(e.to_string()))?,
        cursor: OutboxId(row.get(4)?),
        created_at: Timestamp::from_millis(row.get(5)?),
    })
}

pub async fn create<B: Backend>(conn: &mut Conn<'_, B>, new: NewWebhook) -> StoreResult<Webhook> {
    let events = new.events.map(|types| {
        let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
        serde_json::Value::from(names).to_string()
    });
    // Entries committed before this one are numbered first, so the cursor passes them all.
    B::number_outbox(conn).await?;
    let text = format!(
        "INSERT INTO webhooks (url, events, secret, cursor, created_at) \
         VALUES ($1, $2, $3, {}, $4) RETURNING {COLUMNS}",
        B::OUTBOX_HEAD
    );
    let row = sql(text)
        .bind(new.url.as_str())
        .bind(events)
        .bind(new.secret.as_str())
        .bind(Timestamp::now().as_millis())
        .fetch_one(conn)
        .await?;
    webhook(&row)
}

pub async fn all<B: Backend>(conn: &mut Conn<'_, B>) -> StoreResult<Vec<Webhook>> {
    let text = format!("SELECT {COLUMNS} FROM webhooks ORDER BY id");
    let found = sql(text).fetch_all(conn).await?;
    found.iter().map(webhook).collect()
}

pub async fn by_id<B: Backend>(conn: &mut Conn<'_, B>, id: WebhookId) -> StoreResult<Option<Webhook>> {
    let text = format!("SELECT {COLUMNS} FROM webhooks WHERE id = $1");
    let found = sql(text).bind(id.0).fetch_optional(conn).await?;
    found.as_ref().map(webhook).transpose()
}

pub async fn delete<B: Backend>(conn: &mut Conn<'_, B>, id: WebhookId) -> StoreResult<()> {
    let done = sql("DELETE FROM webhooks WHERE id = $1").bind(id.0).execute(conn).await?;
    if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn outbox_after<B: Backend>(
    conn: &mut Conn<'_, B>,
    after: OutboxId,
    limit: u32,
) -> StoreResult<Vec<OutboxEntry>> {
    let found = sql("SELECT id, conversation_id, seq, created_at, payload, kind, COALESCE(recipient_id, 0), actor_id \
         FROM webhook_outbox WHERE id > $1 ORDER BY id LIMIT $2")
    .bind(after.0)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    let mut entries = Vec::with_capacity(found.len());
    for row in &found {
        let (id, conversation, seq): (i64, i64, i64) = (row.get(0)?, row.get(1)?, row.get(2)?);
        if let Some(data) = row.get::<Option<String>>(4)? {
            let at = Timestamp::from_millis(row.get(3)?);
            if row.get::<String>(5)? == USER_DELETED {
                let queued = QueuedUserDeleted { at, data };
                entries.push(OutboxEntry { id: OutboxId(id), item: OutboxItem::UserDeleted(queued) });
                continue;
            }
            let conversation_id = (conversation != 0).then_some(ConversationId(conversation));
            let (recipient, actor) = (UserId(row.get(6)?), row.get::<Option<i64>>(7)?.map(UserId));
            let queued = QueuedNotification { conversation_id, recipient, actor, at, data };
            entries.push(OutboxEntry { id: OutboxId(id), item: OutboxItem::Notification(queued) });
            continue;
        }
        // The log's own loader, so the event reads exactly as a resuming client would see it.
        let loaded = events::after(conn, ConversationId(conversation), Seq(seq - 1), 1).await?;
        match loaded.into_iter().next() {
            Some(event) if event.seq == Seq(seq) => {
                entries.push(OutboxEntry { id: OutboxId(id), item: OutboxItem::Event(event) })
            }
            // Events are never deleted today; should one go, the others must still flow.
            _ => tracing::warn!(outbox_id = id, conversation_id = conversation, seq, "outbox entry without its event"),
        }
    }
    Ok(entries)
}

/// Queues a notification's delivery, in the same statement that checks an endpoint exists.
pub async fn queue_notification<B: Backend>(conn: &mut Conn<'_, B>, queued: &QueuedNotification) -> StoreResult<bool> {
    let done = sql("INSERT INTO webhook_outbox (conversation_id, seq, kind, created_at, payload, recipient_id, \
         actor_id) SELECT $1, 0, 'notification_created', $2, $3, $4, $5 WHERE EXISTS (SELECT 1 FROM webhooks)")
    .bind(queued.conversation_id.map_or(0, |c| c.0))
    .bind(queued.at.as_millis())
    .bind(queued.data.as_str())
    .bind(queued.recipient.0)
    .bind(queued.actor.map(|a| a.0))
    .execute(conn)
    .await?;
    Ok(done > 0)
}

/// The outbox `kind` of a `user.deleted` entry.
const USER_DELETED: &str = "user_deleted";

/// Removes the queued `notification.created` entries for or caused by `user` (in an erasure's
/// transaction): they carry the person's name, platform id and message previews. An endpoint
/// whose cursor is before them skips the gap; ids are never reused.
pub async fn forget_notifications_of<B: Backend>(conn: &mut Conn<'_, B>, user: UserId) -> StoreResult<()> {
    sql("DELETE FROM webhook_outbox WHERE kind = 'notification_created' AND (recipient_id = $1 OR actor_id = $1)")
        .bind(user.0)
        .execute(conn)
        .await?;
    Ok(())
}

/// Queues an erasure's `user.deleted` delivery (in the erasure's transaction), while an
/// endpoint exists.
pub async fn queue_user_deleted<B: Backend>(conn: &mut Conn<'_, B>, queued: &QueuedUserDeleted) -> StoreResult<()> {
    sql("INSERT INTO webhook_outbox (conversation_id, seq, kind, created_at, payload) \
         SELECT 0, 0, $1, $2, $3 WHERE EXISTS (SELECT 1 FROM webhooks)")
    .bind(USER_DELETED)
    .bind(queued.at.as_millis())
    .bind(queued.data.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn record_delivery<B: Backend>(conn: &mut Conn<'_, B>, d: &NewDelivery) -> StoreResult<()> {
    let moved = if d.succeeded() { d.outbox_id.0 } else { 0 };
    // Checks the endpoint exists as a side effect: a deleted one must stop, not log.
    advance(conn, d.webhook, OutboxId(moved)).await?;
    sql("INSERT INTO webhook_deliveries (webhook_id, outbox_id, event_type, attempt, status, error, duration_ms, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
    .bind(d.webhook.0)
    .bind(d.outbox_id.0)
    .bind(d.event_type.as_str())
    .bind(i64::from(d.attempt))
    .bind(d.status.map(i64::from))
    .bind(d.error.as_deref())
    .bind(i64::try_from(d.duration_ms).unwrap_or(i64::MAX))
    .bind(d.at.as_millis())
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn advance<B: Backend>(conn: &mut Conn<'_, B>, id: WebhookId, to: OutboxId) -> StoreResult<()> {
    let done = sql(format!("UPDATE webhooks SET cursor = {}(cursor, $1) WHERE id = $2", B::GREATEST))
        .bind(to.0)
        .bind(id.0)
        .execute(conn)
        .await?;
    if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn deliveries<B: Backend>(conn: &mut Conn<'_, B>, id: WebhookId, limit: u32) -> StoreResult<Vec<Delivery>> {
    let found = sql(
        "SELECT id, outbox_id, event_type, attempt, status, error, duration_ms, created_at FROM webhook_deliveries \
         WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(id.0)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    found
        .iter()
        .map(|row| {
            Ok(Delivery {
                id: row.get(0)?,
                outbox_id: OutboxId(row.get(1)?),
                event_type: row.get(2)?,
                attempt: u32::try_from(row.get::<i64>(3)?).unwrap_or_default(),
                status: row.get::<Option<i64>>(4)?.and_then(|s| u16::try_from(s).ok()),
                error: row.get(5)?,
                duration_ms: u64::try_from(row.get::<i64>(6)?).unwrap_or_default(),
                at: Timestamp::from_millis(row.get(7)?),
            })
        })
        .collect()
}

/// Keeps the newest `keep` log rows of every endpoint.
pub async fn prune_deliveries<B: Backend>(conn: &mut Conn<'_, B>, keep: u32) -> StoreResult<()> {
    sql(
        "DELETE FROM webhook_deliveries WHERE id IN (SELECT d.id FROM webhook_deliveries d WHERE d.id <= \
         (SELECT k.id FROM webhook_deliveries k WHERE k.webhook_id = d.webhook_id ORDER BY k.id DESC LIMIT 1 OFFSET $1))",
    )
    .bind(i64::from(keep))
    .execute(conn)
        .await?;
    Ok(())
}
