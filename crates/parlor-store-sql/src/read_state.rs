//! Per-member read and delivered positions. `mark_read` runs inside the batch writer's
//! transaction; delivery receipts come many at once, and each backend writes them its own way
//! (`mark_delivered_many` in its `receipts.rs`).

use parlor_core::{ConversationEvent, ConversationId, EventKind, MessageId, Seq, Timestamp, UserId};
use parlor_store::{MemberPosition, ReadOutcome, ReadUpTo, StoreError, StoreResult};

use crate::backend::Backend;
use crate::statement::{Conn, sql};

pub async fn mark_read<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: ConversationId,
    user: UserId,
    up_to: ReadUpTo,
    log: bool,
) -> StoreResult<ReadOutcome> {
    let state = sql(
        "SELECT mb.last_read_seq, c.last_message_seq FROM members mb JOIN conversations c ON c.id = mb.conversation_id \
         WHERE mb.conversation_id = $1 AND mb.user_id = $2 AND mb.active = 1",
    )
    .bind(id.0)
    .bind(user.0)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let current: i64 = state.get(0)?;
    let latest: i64 = state.get(1)?;

    let (target, named) = match up_to {
        ReadUpTo::Latest => (latest, Vec::new()),
        ReadUpTo::Messages(ids) if ids.is_empty() => (latest, Vec::new()),
        ReadUpTo::Messages(ids) => {
            let mut q = sql("SELECT id, seq FROM messages WHERE conversation_id = ");
            q.push_bind(id.0).push(" AND id IN (").push_list(ids.iter().take(1000).map(|m| m.0)).push(") ORDER BY seq");
            let mut target = current;
            let mut named = Vec::new();
            for row in q.fetch_all(conn).await? {
                named.push(MessageId(row.get(0)?));
                target = target.max(row.get(1)?);
            }
            (target, named)
        }
    };

    if target <= current {
        return Ok(ReadOutcome { last_read_seq: Seq(current), unread_count: (latest - current).max(0), event: None });
    }

    sql("UPDATE members SET last_read_seq = $1 WHERE conversation_id = $2 AND user_id = $3")
        .bind(target)
        .bind(id.0)
        .bind(user.0)
        .execute(conn)
        .await?;
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

pub async fn unread_counts<B: Backend>(
    conn: &mut Conn<'_, B>,
    user: UserId,
) -> StoreResult<Vec<(ConversationId, i64)>> {
    let found = sql(
        "SELECT c.id, c.last_message_seq - mb.last_read_seq FROM members mb JOIN conversations c ON c.id = mb.conversation_id \
         WHERE mb.user_id = $1 AND mb.active = 1 AND c.last_message_seq > mb.last_read_seq \
         ORDER BY c.last_activity_at DESC",
    )
    .bind(user.0)
    .fetch_all(conn)
        .await?;
    found.iter().map(|r| Ok((ConversationId(r.get(0)?), r.get(1)?))).collect()
}

pub async fn positions<B: Backend>(conn: &mut Conn<'_, B>, id: ConversationId) -> StoreResult<Vec<MemberPosition>> {
    let found = sql(
        "SELECT user_id, last_read_seq, delivered_seq FROM members WHERE conversation_id = $1 AND active = 1 ORDER BY user_id",
    )
    .bind(id.0)
    .fetch_all(conn)
        .await?;
    found
        .iter()
        .map(|r| {
            Ok(MemberPosition {
                user_id: UserId(r.get(0)?),
                last_read_seq: Seq(r.get(1)?),
                delivered_seq: Seq(r.get(2)?),
            })
        })
        .collect()
}
