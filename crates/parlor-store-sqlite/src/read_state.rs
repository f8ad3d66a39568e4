//! Per-member read positions. `mark_read` runs inside the batch writer's transaction.

use std::collections::{HashMap, HashSet};

use parlor_core::{ConversationEvent, ConversationId, EventKind, MessageId, Seq, Timestamp, UserId};
use parlor_store::{DeliveredUpTo, MemberPosition, ReadOutcome, ReadUpTo, StoreError, StoreResult};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use crate::rows::{self, db, json};

pub(crate) async fn mark_read(
    conn: &mut SqliteConnection,
    id: ConversationId,
    user: UserId,
    up_to: ReadUpTo,
    log: bool,
) -> StoreResult<ReadOutcome> {
    let state = sqlx::query(
        "SELECT mb.last_read_seq, c.last_message_seq FROM members mb JOIN conversations c ON c.id = mb.conversation_id \
         WHERE mb.conversation_id = ? AND mb.user_id = ? AND mb.active = 1",
    )
    .bind(id.0)
    .bind(user.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?
    .ok_or(StoreError::NotFound)?;
    let current: i64 = rows::get(&state, 0)?;
    let latest: i64 = rows::get(&state, 1)?;

    let (target, named) = match up_to {
        ReadUpTo::Latest => (latest, Vec::new()),
        ReadUpTo::Messages(ids) if ids.is_empty() => (latest, Vec::new()),
        ReadUpTo::Messages(ids) => {
            let mut q: QueryBuilder<Sqlite> =
                QueryBuilder::new("SELECT id, seq FROM messages WHERE conversation_id = ");
            q.push_bind(id.0).push(" AND id IN (");
            let mut list = q.separated(", ");
            for m in ids.iter().take(1000) {
                list.push_bind(m.0);
            }
            q.push(") ORDER BY seq");
            let mut target = current;
            let mut named = Vec::new();
            for row in q.build().fetch_all(&mut *conn).await.map_err(db)? {
                named.push(MessageId(rows::get(&row, 0)?));
                target = target.max(rows::get(&row, 1)?);
            }
            (target, named)
        }
    };

    if target <= current {
        return Ok(ReadOutcome { last_read_seq: Seq(current), unread_count: (latest - current).max(0), event: None });
    }

    sqlx::query("UPDATE members SET last_read_seq = ? WHERE conversation_id = ? AND user_id = ?")
        .bind(target)
        .bind(id.0)
        .bind(user.0)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    let outcome = ReadOutcome { last_read_seq: Seq(target), unread_count: (latest - target).max(0), event: None };
    if !log {
        return Ok(outcome);
    }
    let now = Timestamp::now();
    let data = serde_json::json!({ "up_to": target, "message_ids": named.iter().map(|m| m.0).collect::<Vec<_>>() });
    let event_seq =
        crate::events::log(conn, id.0, "messages_read", None, Some(user.0), Some(data.to_string()), now).await?;
    let event = ConversationEvent {
        conversation_id: id,
        seq: event_seq,
        at: now,
        kind: EventKind::MessagesRead { user_id: user, up_to: Seq(target), message_ids: named },
    };
    Ok(ReadOutcome { event: Some(event), ..outcome })
}

pub(crate) async fn unread_counts(
    conn: &mut SqliteConnection,
    user: UserId,
) -> StoreResult<Vec<(ConversationId, i64)>> {
    let found = sqlx::query(
        "SELECT c.id, c.last_message_seq - mb.last_read_seq FROM members mb JOIN conversations c ON c.id = mb.conversation_id \
         WHERE mb.user_id = ? AND mb.active = 1 AND c.last_message_seq > mb.last_read_seq \
         ORDER BY c.last_activity_at DESC",
    )
    .bind(user.0)
    .fetch_all(conn)
    .await
    .map_err(db)?;
    found.iter().map(|r| Ok((ConversationId(rows::get(r, 0)?), rows::get(r, 1)?))).collect()
}

pub(crate) async fn mark_delivered(
    conn: &mut SqliteConnection,
    id: ConversationId,
    user: UserId,
    up_to: Seq,
    log: bool,
) -> StoreResult<Option<ConversationEvent>> {
    let state = sqlx::query(
        "SELECT mb.delivered_seq, c.last_message_seq FROM members mb JOIN conversations c ON c.id = mb.conversation_id \
         WHERE mb.conversation_id = ? AND mb.user_id = ? AND mb.active = 1",
    )
    .bind(id.0)
    .bind(user.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?
    .ok_or(StoreError::NotFound)?;
    let current: i64 = rows::get(&state, 0)?;
    let target = up_to.0.min(rows::get(&state, 1)?);
    if target <= current {
        return Ok(None);
    }
    sqlx::query("UPDATE members SET delivered_seq = ? WHERE conversation_id = ? AND user_id = ?")
        .bind(target)
        .bind(id.0)
        .bind(user.0)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    if !log {
        return Ok(None);
    }
    let now = Timestamp::now();
    let data = serde_json::json!({ "up_to": target }).to_string();
    let seq = crate::events::log(conn, id.0, "messages_delivered", None, Some(user.0), Some(data), now).await?;
    Ok(Some(ConversationEvent {
        conversation_id: id,
        seq,
        at: now,
        kind: EventKind::MessagesDelivered { user_id: user, up_to: Seq(target) },
    }))
}

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
         mb.delivered_seq, c.last_event_seq FROM json_each(?) AS r \
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
    for row in &found {
        let (conversation, user, target): (i64, i64, i64) =
            (rows::get(row, 0)?, rows::get(row, 1)?, rows::get(row, 2)?);
        let (current, last_event): (i64, i64) = (rows::get(row, 3)?, rows::get(row, 4)?);
        if target <= current {
            continue;
        }
        moves.push([conversation, user, target]);
        if logged.contains(&(conversation, user)) {
            let counter = counters.entry(conversation).or_insert(last_event);
            *counter += 1;
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
    let counters: Vec<[i64; 2]> = counters.into_iter().map(|(id, last)| [id, last]).collect();
    sqlx::query(
        "UPDATE conversations SET last_event_seq = json_extract(r.value, '$[1]') FROM json_each(?) AS r \
         WHERE conversations.id = json_extract(r.value, '$[0]')",
    )
    .bind(json(&counters)?)
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    let rows: Vec<(i64, i64, i64, String)> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::MessagesDelivered { user_id, up_to } => {
                Some((e.conversation_id.0, e.seq.0, user_id.0, serde_json::json!({ "up_to": up_to.0 }).to_string()))
            }
            _ => None,
        })
        .collect();
    sqlx::query(
        "INSERT INTO events (conversation_id, seq, kind, actor_id, data, created_at) \
         SELECT json_extract(r.value, '$[0]'), json_extract(r.value, '$[1]'), 'messages_delivered', \
         json_extract(r.value, '$[2]'), json_extract(r.value, '$[3]'), ? FROM json_each(?) AS r",
    )
    .bind(now.as_millis())
    .bind(json(&rows)?)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(events)
}

pub(crate) async fn positions(conn: &mut SqliteConnection, id: ConversationId) -> StoreResult<Vec<MemberPosition>> {
    let found = sqlx::query(
        "SELECT user_id, last_read_seq, delivered_seq FROM members WHERE conversation_id = ? AND active = 1 ORDER BY user_id",
    )
    .bind(id.0)
    .fetch_all(conn)
    .await
    .map_err(db)?;
    found
        .iter()
        .map(|r| {
            Ok(MemberPosition {
                user_id: UserId(rows::get(r, 0)?),
                last_read_seq: Seq(rows::get(r, 1)?),
                delivered_seq: Seq(rows::get(r, 2)?),
            })
        })
        .collect()
}
