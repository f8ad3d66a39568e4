//! Reading a conversation's events as the hash chain holds them, with the content each
//! message event carried: a message's contents over its life are its kept versions (oldest
//! first) and then its current text, so its `n`th content-carrying event (created, then each
//! edit) carried the `n`th of them.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use parlor_core::{ConversationId, MessageId, Seq};
use parlor_store::{ChainedEvent, StoreResult};

use crate::backend::Backend;
use crate::statement::{Conn, sql};

/// A message's contents over its life, and the seqs of the events that carried them.
struct Life {
    contents: Vec<String>,
    carriers: Vec<i64>,
    deleted: bool,
    erased: bool,
}

pub async fn chained<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: ConversationId,
    after: Seq,
    limit: u32,
) -> StoreResult<Vec<ChainedEvent>> {
    let found = sql("SELECT seq, kind, message_id, metadata, content_hash, hash FROM events \
         WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")
    .bind(id.0)
    .bind(after.0)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    let mut lives: HashMap<i64, Option<Life>> = HashMap::new();
    let mut events = Vec::with_capacity(found.len());
    for row in &found {
        let (seq, kind, message_id): (i64, String, Option<i64>) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let mut event = ChainedEvent {
            seq: Seq(seq),
            message_id: message_id.map(MessageId),
            metadata: row.get(3)?,
            content_hash: row.get(4)?,
            hash: row.get(5)?,
            content: None,
            message_deleted: false,
            message_erased: false,
            kind,
        };
        if let Some(message) = message_id {
            let known = match lives.entry(message) {
                Entry::Occupied(known) => known.into_mut(),
                Entry::Vacant(slot) => slot.insert(life(conn, id, message).await?),
            };
            if let Some(life) = known {
                event.message_deleted = life.deleted;
                event.message_erased = life.erased;
                if matches!(event.kind.as_str(), "message_created" | "message_edited") {
                    let nth = life.carriers.iter().position(|s| *s == seq);
                    event.content = nth.and_then(|n| life.contents.get(n)).cloned();
                }
            }
        }
        events.push(event);
    }
    Ok(events)
}

async fn life<B: Backend>(conn: &mut Conn<'_, B>, id: ConversationId, message: i64) -> StoreResult<Option<Life>> {
    let Some(row) =
        sql("SELECT content, deleted_at FROM messages WHERE id = $1").bind(message).fetch_optional(conn).await?
    else {
        return Ok(None);
    };
    let (current, deleted): (Option<String>, Option<i64>) = (row.get(0)?, row.get(1)?);
    let versions = sql("SELECT content FROM message_versions WHERE message_id = $1 ORDER BY version")
        .bind(message)
        .fetch_all(conn)
        .await?;
    let mut contents = versions.iter().map(|r| r.get::<String>(0)).collect::<StoreResult<Vec<_>>>()?;
    contents.push(current.unwrap_or_default());
    let carriers = sql("SELECT seq FROM events WHERE conversation_id = $1 AND message_id = $2 \
         AND kind IN ('message_created', 'message_edited') ORDER BY seq")
    .bind(id.0)
    .bind(message)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|r| r.get::<i64>(0))
    .collect::<StoreResult<Vec<_>>>()?;
    // Erased (an account's erasure, retention) rather than deleted: its `message_deleted` event
    // says so (`lifecycle::erase`).
    let mut erased = false;
    if deleted.is_some() {
        let deletions = sql("SELECT data FROM events WHERE conversation_id = $1 AND message_id = $2 \
             AND kind = 'message_deleted'")
        .bind(id.0)
        .bind(message)
        .fetch_all(conn)
        .await?;
        for row in &deletions {
            let data = row.get::<Option<String>>(0)?.unwrap_or_default();
            let data: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
            erased |= data["erased"] == true;
        }
    }
    Ok(Some(Life { contents, carriers, deleted: deleted.is_some(), erased }))
}
