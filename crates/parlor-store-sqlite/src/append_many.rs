//! Appending a whole batch of plain text messages with a fixed number of statements: the batch
//! writer's fast path. Each statement is a hand-off to SQLite's thread and back, and appending
//! one message at a time costs about ten of them; here a batch of any size costs six (check,
//! insert messages, insert events, move the counters, move the senders' read positions, read
//! back), its messages travelling as JSON arrays (`CROSS JOIN` keeps the array as the outer
//! loop, so each row is a primary-key lookup). Anything unusual in the batch (a reply, a file, a
//! repeated `client_id`, a sender who is not a member, an archived conversation) returns `None`
//! before writing anything, and the writer takes the one-at-a-time path, which answers each case.

use std::collections::{HashMap, HashSet};

use parlor_core::chain::{Digest32, to_hex};
use parlor_core::{ConversationEvent, EventKind, NewMessage, Seq, Timestamp};
use parlor_store::{StoreError, StoreResult};
use sqlx::SqliteConnection;

use parlor_store_sql::rows::{MESSAGE_COLUMNS, MESSAGE_JOINS};
use parlor_store_sql::{Row, chain};

use crate::SqliteBackend;
use crate::rows::{self, db, json};

/// Whether the fast path may take this message at all.
pub(crate) fn plain(new: &NewMessage) -> bool {
    new.reply_to.is_none() && new.attachment.is_none()
}

/// Stores `batch` (plain messages, in order) and returns their `message_created` events, or
/// `None`, having written nothing, when one of them needs the one-at-a-time path.
pub(crate) async fn append_many(
    conn: &mut SqliteConnection,
    batch: &[&NewMessage],
) -> StoreResult<Option<Vec<ConversationEvent>>> {
    // A retry queued behind its first attempt must be answered as a duplicate of it.
    let mut retries = HashSet::new();
    for new in batch {
        if let Some(id) = &new.client_id
            && !retries.insert((new.conversation_id, new.sender_id, id.as_str()))
        {
            return Ok(None);
        }
    }
    let asked: Vec<(i64, i64, Option<&str>)> =
        batch.iter().map(|n| (n.conversation_id.0, n.sender_id.0, n.client_id.as_ref().map(|c| c.as_str()))).collect();
    let checked = sqlx::query(
        "SELECT c.id, c.last_message_seq, c.last_event_seq, c.last_event_hash, c.archived_at IS NULL \
         AND EXISTS (SELECT 1 FROM members mb WHERE mb.conversation_id = c.id \
                     AND mb.user_id = json_extract(r.value, '$[1]') AND mb.active = 1) \
         AND (json_extract(r.value, '$[2]') IS NULL OR NOT EXISTS (SELECT 1 FROM messages m \
              WHERE m.conversation_id = c.id AND m.sender_id = json_extract(r.value, '$[1]') \
              AND m.client_id = json_extract(r.value, '$[2]'))) \
         FROM json_each(?) AS r CROSS JOIN conversations AS c ON c.id = json_extract(r.value, '$[0]')",
    )
    .bind(json(&asked)?)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    if checked.len() != batch.len() {
        return Ok(None);
    }
    let mut counters: HashMap<i64, (i64, i64)> = HashMap::new();
    // Each conversation's newest link, moved along as its events are chained below.
    let mut heads: HashMap<i64, Digest32> = HashMap::new();
    for row in &checked {
        if !rows::get::<bool, _>(row, 4)? {
            return Ok(None);
        }
        counters.insert(rows::get(row, 0)?, (rows::get(row, 1)?, rows::get(row, 2)?));
        let last_hash: Option<String> = rows::get(row, 3)?;
        heads.insert(rows::get(row, 0)?, chain::previous(last_hash.as_deref())?);
    }

    // Numbered in the batch's order, per conversation.
    let now = Timestamp::now().as_millis();
    let mut numbered = Vec::with_capacity(batch.len());
    for new in batch {
        let (seq, event_seq) = counters.get_mut(&new.conversation_id.0).ok_or(StoreError::NotFound)?;
        *seq += 1;
        *event_seq += 1;
        numbered.push((*seq, *event_seq));
    }
    let rows_in: Vec<_> = batch
        .iter()
        .zip(&numbered)
        .map(|(n, (seq, event_seq))| {
            let client = n.client_id.as_ref().map(|c| c.as_str());
            (n.conversation_id.0, seq, event_seq, n.sender_id.0, n.body.as_str(), client, i64::from(n.forwarded))
        })
        .collect();
    let inserted = sqlx::query(
        "INSERT INTO messages (conversation_id, seq, event_seq, sender_id, content, reply_to, client_id, created_at, \
         kind, system, forwarded) \
         SELECT json_extract(r.value, '$[0]'), json_extract(r.value, '$[1]'), json_extract(r.value, '$[2]'), \
         json_extract(r.value, '$[3]'), json_extract(r.value, '$[4]'), NULL, json_extract(r.value, '$[5]'), ?, \
         'text', NULL, json_extract(r.value, '$[6]') FROM json_each(?) AS r ORDER BY r.key \
         RETURNING id, conversation_id, seq",
    )
    .bind(now)
    .bind(json(&rows_in)?)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let mut ids: HashMap<(i64, i64), i64> = HashMap::with_capacity(inserted.len());
    for row in &inserted {
        ids.insert((rows::get(row, 1)?, rows::get(row, 2)?), rows::get(row, 0)?);
    }
    let id_of = |conversation: i64, seq: i64| ids.get(&(conversation, seq)).copied().ok_or(StoreError::NotFound);

    let mut events_in = Vec::with_capacity(batch.len());
    let mut read_up_to: HashMap<(i64, i64), i64> = HashMap::new();
    for (new, (seq, event_seq)) in batch.iter().zip(&numbered) {
        let conversation = new.conversation_id.0;
        let id = id_of(conversation, *seq)?;
        let head = heads.get_mut(&conversation).ok_or(StoreError::NotFound)?;
        let metadata = chain::metadata(Some(id), Some(new.sender_id.0), now, None);
        let link = chain::link(head, *event_seq, "message_created", metadata, new.body.as_str());
        *head = link.digest;
        events_in.push((conversation, *event_seq, id, new.sender_id.0, link.content_hash, link.metadata, link.hash));
        let newest = read_up_to.entry((conversation, new.sender_id.0)).or_insert(*seq);
        *newest = (*newest).max(*seq);
    }
    sqlx::query(
        "INSERT INTO events (conversation_id, seq, kind, message_id, actor_id, created_at, content_hash, metadata, hash) \
         SELECT json_extract(r.value, '$[0]'), json_extract(r.value, '$[1]'), 'message_created', \
         json_extract(r.value, '$[2]'), json_extract(r.value, '$[3]'), ?, json_extract(r.value, '$[4]'), \
         json_extract(r.value, '$[5]'), json_extract(r.value, '$[6]') FROM json_each(?) AS r ORDER BY r.key",
    )
    .bind(now)
    .bind(json(&events_in)?)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    let mut ends = Vec::with_capacity(counters.len());
    for (conversation, (seq, event_seq)) in &counters {
        let head = heads.get(conversation).ok_or(StoreError::NotFound)?;
        ends.push((*conversation, *seq, *event_seq, id_of(*conversation, *seq)?, to_hex(head)));
    }
    sqlx::query(
        "UPDATE conversations SET last_message_seq = json_extract(r.value, '$[1]'), \
         last_event_seq = json_extract(r.value, '$[2]'), last_message_id = json_extract(r.value, '$[3]'), \
         last_event_hash = json_extract(r.value, '$[4]'), \
         last_activity_at = ? FROM json_each(?) AS r WHERE conversations.id = json_extract(r.value, '$[0]')",
    )
    .bind(now)
    .bind(json(&ends)?)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    // Whoever writes has read everything before it.
    let readers: Vec<(i64, i64, i64)> = read_up_to.into_iter().map(|((c, u), seq)| (c, u, seq)).collect();
    sqlx::query(
        "UPDATE members SET last_read_seq = json_extract(r.value, '$[2]'), \
         delivered_seq = MAX(delivered_seq, json_extract(r.value, '$[2]')) FROM json_each(?) AS r \
         WHERE members.conversation_id = json_extract(r.value, '$[0]') AND members.user_id = json_extract(r.value, '$[1]') \
         AND members.last_read_seq < json_extract(r.value, '$[2]')",
    )
    .bind(json(&readers)?)
    .execute(&mut *conn)
    .await
    .map_err(db)?;

    // Read back as the one-at-a-time path does (sender names, previews), in the batch's order.
    let wanted: Vec<i64> = inserted.iter().map(|r| rows::get(r, 0)).collect::<StoreResult<_>>()?;
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM json_each(?) AS wanted CROSS JOIN messages m ON m.id = wanted.value {MESSAGE_JOINS}"
    );
    let found = sqlx::query(&sql).bind(json(&wanted)?).fetch_all(&mut *conn).await.map_err(db)?;
    let mut messages: HashMap<i64, parlor_core::Message> = HashMap::with_capacity(found.len());
    for row in found {
        let (message, _) = parlor_store_sql::rows::message(&Row::<SqliteBackend>(row))?;
        messages.insert(message.id.0, message);
    }
    let mut events = Vec::with_capacity(batch.len());
    for (new, (seq, event_seq)) in batch.iter().zip(&numbered) {
        let id = id_of(new.conversation_id.0, *seq)?;
        let message = messages.remove(&id).ok_or(StoreError::NotFound)?;
        events.push(ConversationEvent {
            conversation_id: new.conversation_id,
            seq: Seq(*event_seq),
            at: message.created_at,
            kind: EventKind::MessageCreated(message),
        });
    }
    Ok(Some(events))
}
