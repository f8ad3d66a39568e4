//! Many delivery receipts at once, SQLite's way: a node's receipts, gathered over a moment,
//! written with four statements whatever their number.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use parlor_core::chain::to_hex;
use parlor_core::{ConversationEvent, ConversationId, EventKind, Seq, Timestamp, UserId};
use parlor_store::{DeliveredUpTo, StoreResult};
use parlor_store_sql::chain;
use sqlx::SqliteConnection;

use crate::rows::{self, db, json};

/// Four statements for any number of receipts, each receipt list travelling as one JSON array
/// (`CROSS JOIN` keeps the array as the outer loop: SQLite plans it as written, and each row
/// is a primary-key lookup). Read the positions; move those that advance; number the events of
/// the logged ones per conversation; write them. Runs in the writer's transaction, the only
/// writer, so nothing moves between the read and the writes.
pub(crate) async fn mark_delivered_many(
    conn: &mut SqliteConnection,
    receipts: &[DeliveredUpTo],
) -> StoreResult<Vec<ConversationEvent>> {
    let asked: Vec<[i64; 3]> = receipts.iter().map(|r| [r.conversation.0, r.user.0, r.up_to.0]).collect();
    let logged: HashSet<(i64, i64)> = receipts.iter().filter(|r| r.log).map(|r| (r.conversation.0, r.user.0)).collect();
    let found = sqlx::query(
        "SELECT mb.conversation_id, mb.user_id, MIN(json_extract(r.value, '$[2]'), c.last_message_seq), \
         mb.delivered_seq, c.last_event_seq, c.last_event_hash FROM json_each(?) AS r \
         CROSS JOIN members AS mb ON mb.conversation_id = json_extract(r.value, '$[0]') \
         AND mb.user_id = json_extract(r.value, '$[1]') AND mb.active = 1 \
         CROSS JOIN conversations AS c ON c.id = mb.conversation_id",
    )
    .bind(json(&asked)?)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;

    let now = Timestamp::now();
    let (mut moves, mut events, mut counters) = (Vec::new(), Vec::new(), HashMap::new());
    // Each logged event's data and chain link, in `events`' order.
    let mut links = Vec::new();
    for row in &found {
        let (conversation, user, target): (i64, i64, i64) =
            (rows::get(row, 0)?, rows::get(row, 1)?, rows::get(row, 2)?);
        let (current, last_event): (i64, i64) = (rows::get(row, 3)?, rows::get(row, 4)?);
        if target <= current {
            continue;
        }
        moves.push([conversation, user, target]);
        if logged.contains(&(conversation, user)) {
            let (counter, prev) = match counters.entry(conversation) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => {
                    let last_hash: Option<String> = rows::get(row, 5)?;
                    e.insert((last_event, chain::previous(last_hash.as_deref())?))
                }
            };
            *counter += 1;
            let data = serde_json::json!({ "up_to": target }).to_string();
            let metadata = chain::metadata(None, Some(user), now.as_millis(), Some(&data));
            let link = chain::link(prev, *counter, "messages_delivered", metadata, "");
            *prev = link.digest;
            links.push((data, link));
            events.push(ConversationEvent {
                conversation_id: ConversationId(conversation),
                seq: Seq(*counter),
                at: now,
                kind: EventKind::MessagesDelivered { user_id: UserId(user), up_to: Seq(target) },
            });
        }
    }
    if moves.is_empty() {
        return Ok(events);
    }
    sqlx::query(
        "UPDATE members SET delivered_seq = json_extract(r.value, '$[2]') FROM json_each(?) AS r \
         WHERE members.conversation_id = json_extract(r.value, '$[0]') AND members.user_id = json_extract(r.value, '$[1]')",
    )
    .bind(json(&moves)?)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    if events.is_empty() {
        return Ok(events);
    }
    let counters: Vec<(i64, i64, String)> =
        counters.into_iter().map(|(id, (last, hash))| (id, last, to_hex(&hash))).collect();
    sqlx::query(
        "UPDATE conversations SET last_event_seq = json_extract(r.value, '$[1]'), \
         last_event_hash = json_extract(r.value, '$[2]') FROM json_each(?) AS r \
         WHERE conversations.id = json_extract(r.value, '$[0]')",
    )
    .bind(json(&counters)?)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    let rows: Vec<(i64, i64, i64, &str, &str, &str, &str)> = events
        .iter()
        .zip(&links)
        .filter_map(|(e, (data, link))| match e.kind {
            EventKind::MessagesDelivered { user_id, .. } => Some((
                e.conversation_id.0,
                e.seq.0,
                user_id.0,
                data.as_str(),
                link.content_hash.as_str(),
                link.metadata.as_str(),
                link.hash.as_str(),
            )),
            _ => None,
        })
        .collect();
    sqlx::query(
        "INSERT INTO events (conversation_id, seq, kind, actor_id, data, created_at, content_hash, metadata, hash) \
         SELECT json_extract(r.value, '$[0]'), json_extract(r.value, '$[1]'), 'messages_delivered', \
         json_extract(r.value, '$[2]'), json_extract(r.value, '$[3]'), ?, json_extract(r.value, '$[4]'), \
         json_extract(r.value, '$[5]'), json_extract(r.value, '$[6]') FROM json_each(?) AS r",
    )
    .bind(now.as_millis())
    .bind(json(&rows)?)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(events)
}
