//! Retention: a conversation's own (disappearing messages), the sweep that erases messages past
//! theirs or the server's, and the legal hold that stops both (and an account's erasure).

use parlor_core::{ConversationId, MessageId, SystemEvent, Timestamp, UserId};
use parlor_store::{Appended, StoreError, StoreResult, Swept};

use crate::backend::Backend;
use crate::statement::{Conn, sql};
use crate::{lifecycle, messages};

/// Live messages a sweep may erase: not yet deleted, not system messages. The partial indexes
/// of migration 0013 hold exactly these.
const LIVE: &str = "m.deleted_at IS NULL AND m.kind <> 'system'";

pub async fn set_legal_hold<B: Backend>(conn: &mut Conn<'_, B>, id: ConversationId, on: bool) -> StoreResult<()> {
    let changed = if on {
        sql("UPDATE conversations SET legal_hold_at = COALESCE(legal_hold_at, $1) WHERE id = $2")
            .bind(Timestamp::now().as_millis())
            .bind(id.0)
            .execute(conn)
            .await?
    } else {
        sql("UPDATE conversations SET legal_hold_at = NULL WHERE id = $1").bind(id.0).execute(conn).await?
    };
    if changed == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

pub async fn set_retention<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: ConversationId,
    actor: UserId,
    retention_secs: Option<i64>,
) -> StoreResult<Option<Appended>> {
    B::lock_conversations(conn, &[id.0]).await?;
    let row = sql("SELECT retention_secs FROM conversations WHERE id = $1")
        .bind(id.0)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    if row.get::<Option<i64>>(0)? == retention_secs {
        return Ok(None);
    }
    sql("UPDATE conversations SET retention_secs = $1 WHERE id = $2")
        .bind(retention_secs)
        .bind(id.0)
        .execute(conn)
        .await?;
    let name: String =
        sql("SELECT display_name FROM users WHERE id = $1").bind(actor.0).fetch_one(conn).await?.get(0)?;
    let text = match retention_secs {
        Some(secs) => format!("{name} set messages to disappear after {}", describe(secs)),
        None => format!("{name} turned off disappearing messages"),
    };
    let event = SystemEvent { action: "retention_changed".into(), actor_id: actor, user_ids: Vec::new(), role: None };
    messages::insert_system(conn, id, event, &text).await.map(Some)
}

/// A retention period as people say it: "1 day", "2 hours", "90 seconds".
fn describe(secs: i64) -> String {
    let (n, unit) = match secs {
        s if s % 86_400 == 0 => (s / 86_400, "day"),
        s if s % 3_600 == 0 => (s / 3_600, "hour"),
        s if s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

pub async fn sweep<B: Backend>(
    conn: &mut Conn<'_, B>,
    server_cutoff: Option<Timestamp>,
    now: Timestamp,
    limit: u32,
) -> StoreResult<Swept> {
    let mut due: Vec<(i64, i64)> = Vec::new();
    if let Some(cutoff) = server_cutoff {
        let text = format!(
            "SELECT m.conversation_id, m.id FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE {LIVE} AND m.created_at < $1 AND c.legal_hold_at IS NULL ORDER BY m.created_at LIMIT $2"
        );
        for row in sql(text).bind(cutoff.as_millis()).bind(limit).fetch_all(conn).await? {
            due.push((row.get(0)?, row.get(1)?));
        }
    }
    let own = sql("SELECT id, retention_secs FROM conversations WHERE retention_secs IS NOT NULL \
         AND legal_hold_at IS NULL ORDER BY id")
    .fetch_all(conn)
    .await?;
    for row in own {
        let Some(left) = usize::try_from(limit).ok().and_then(|l| l.checked_sub(due.len())).filter(|l| *l > 0) else {
            break;
        };
        let (conversation, secs): (i64, i64) = (row.get(0)?, row.get(1)?);
        let cutoff = now.as_millis().saturating_sub(secs.saturating_mul(1000));
        let text = format!(
            "SELECT m.conversation_id, m.id FROM messages m WHERE m.conversation_id = $1 AND {LIVE} \
             AND m.created_at < $2 ORDER BY m.created_at LIMIT $3"
        );
        let found = sql(text).bind(conversation).bind(cutoff).bind(i64::try_from(left).unwrap_or(i64::MAX));
        for row in found.fetch_all(conn).await? {
            due.push((row.get(0)?, row.get(1)?));
        }
    }
    due.sort_unstable();
    due.dedup();
    let mut conversations: Vec<i64> = due.iter().map(|(c, _)| *c).collect();
    conversations.dedup();
    // Conversation rows first, in id order, as every writer takes them; then what may have
    // changed since the messages were picked: a hold set meanwhile wins.
    B::lock_conversations(conn, &conversations).await?;
    let held = held_among(conn, &conversations).await?;
    let mut swept = Swept::default();
    for (conversation, message) in due {
        if held.contains(&conversation) {
            continue;
        }
        if let Some((event, file)) = lifecycle::erase(conn, MessageId(message), now).await? {
            swept.events.push(event);
            swept.files.extend(file);
        }
    }
    if !swept.events.is_empty() {
        B::forget_unindexed_words(conn).await?;
    }
    Ok(swept)
}

/// Which of `ids` are under a legal hold.
pub async fn held_among<B: Backend>(conn: &mut Conn<'_, B>, ids: &[i64]) -> StoreResult<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = sql("SELECT id FROM conversations WHERE legal_hold_at IS NOT NULL AND id IN (");
    q.push_list(ids.iter().copied()).push(")");
    q.fetch_all(conn).await?.iter().map(|r| r.get(0)).collect()
}
