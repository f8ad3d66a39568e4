//! Per-member read positions. `mark_read` runs inside the batch writer's transaction.

use parlor_core::{ConversationEvent, ConversationId, EventKind, MessageId, Seq, Timestamp, UserId};
use parlor_store::{DeliveredUpTo, MemberPosition, ReadOutcome, ReadUpTo, StoreError, StoreResult};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::rows::{self, db};

pub(crate) async fn mark_read(
    conn: &mut PgConnection,
    id: ConversationId,
    user: UserId,
    up_to: ReadUpTo,
    log: bool,
) -> StoreResult<ReadOutcome> {
    let state = sqlx::query(
        "SELECT mb.last_read_seq, c.last_message_seq FROM members mb JOIN conversations c ON c.id = mb.conversation_id \
         WHERE mb.conversation_id = $1 AND mb.user_id = $2 AND mb.active = 1",
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
            let mut q: QueryBuilder<Postgres> =
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

    sqlx::query("UPDATE members SET last_read_seq = $1 WHERE conversation_id = $2 AND user_id = $3")
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

pub(crate) async fn unread_counts(conn: &mut PgConnection, user: UserId) -> StoreResult<Vec<(ConversationId, i64)>> {
    let found = sqlx::query(
        "SELECT c.id, c.last_message_seq - mb.last_read_seq FROM members mb JOIN conversations c ON c.id = mb.conversation_id \
         WHERE mb.user_id = $1 AND mb.active = 1 AND c.last_message_seq > mb.last_read_seq \
         ORDER BY c.last_activity_at DESC",
    )
    .bind(user.0)
    .fetch_all(conn)
    .await
    .map_err(db)?;
    found.iter().map(|r| Ok((ConversationId(rows::get(r, 0)?), rows::get(r, 1)?))).collect()
}

pub(crate) async fn mark_delivered(
    conn: &mut PgConnection,
    id: ConversationId,
    user: UserId,
    up_to: Seq,
    log: bool,
) -> StoreResult<Option<ConversationEvent>> {
    let state = sqlx::query(
        "SELECT mb.delivered_seq, c.last_message_seq FROM members mb JOIN conversations c ON c.id = mb.conversation_id \
         WHERE mb.conversation_id = $1 AND mb.user_id = $2 AND mb.active = 1",
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
    sqlx::query("UPDATE members SET delivered_seq = $1 WHERE conversation_id = $2 AND user_id = $3")
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

/// Logged receipts one by one, as `mark_delivered` (their conversations are locked by the
/// writer); the quiet ones, most of a large room's, in one statement.
pub(crate) async fn mark_delivered_many(
    conn: &mut PgConnection,
    receipts: &[DeliveredUpTo],
) -> StoreResult<Vec<ConversationEvent>> {
    let mut events = Vec::new();
    for r in receipts.iter().filter(|r| r.log) {
        match mark_delivered(conn, r.conversation, r.user, r.up_to, true).await {
            Ok(Some(event)) => events.push(event),
            Ok(None) | Err(StoreError::NotFound) => {}
            Err(e) => return Err(e),
        }
    }
    let quiet: Vec<DeliveredUpTo> = receipts.iter().filter(|r| !r.log).copied().collect();
    if !quiet.is_empty() {
        raise_quietly(conn, quiet).await?;
    }
    Ok(events)
}

/// One statement for all of them (arrays unnested), so a 10,000-member room's deliveries are
/// one round trip. Rows are locked in (conversation, user) order first, so two nodes raising
/// overlapping positions cannot deadlock on them.
async fn raise_quietly(conn: &mut PgConnection, receipts: Vec<DeliveredUpTo>) -> StoreResult<()> {
    let mut sorted = receipts;
    sorted.sort_by_key(|r| (r.conversation, r.user));
    let conversations: Vec<i64> = sorted.iter().map(|r| r.conversation.0).collect();
    let users: Vec<i64> = sorted.iter().map(|r| r.user.0).collect();
    let up_to: Vec<i64> = sorted.iter().map(|r| r.up_to.0).collect();
    sqlx::query(
        "WITH r AS (SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[]) AS r(conversation_id, user_id, up_to)), \
         locked AS (SELECT mb.conversation_id, mb.user_id FROM members mb JOIN r \
                    ON mb.conversation_id = r.conversation_id AND mb.user_id = r.user_id \
                    WHERE mb.active = 1 ORDER BY mb.conversation_id, mb.user_id FOR UPDATE OF mb) \
         UPDATE members mb SET delivered_seq = LEAST(r.up_to, c.last_message_seq) \
         FROM r JOIN locked l ON l.conversation_id = r.conversation_id AND l.user_id = r.user_id \
         JOIN conversations c ON c.id = r.conversation_id \
         WHERE mb.conversation_id = r.conversation_id AND mb.user_id = r.user_id \
         AND mb.delivered_seq < LEAST(r.up_to, c.last_message_seq)",
    )
    .bind(conversations)
    .bind(users)
    .bind(up_to)
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}

pub(crate) async fn positions(conn: &mut PgConnection, id: ConversationId) -> StoreResult<Vec<MemberPosition>> {
    let found = sqlx::query(
        "SELECT user_id, last_read_seq, delivered_seq FROM members WHERE conversation_id = $1 AND active = 1 ORDER BY user_id",
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
