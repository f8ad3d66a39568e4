//! Many delivery receipts at once, PostgreSQL's way: a node's receipts, gathered over a
//! moment, in the batch writer's transaction.

use parlor_core::ConversationEvent;
use parlor_store::{DeliveredUpTo, StoreError, StoreResult};
use parlor_store_sql::{Conn, read_state};

use crate::PostgresBackend;
use crate::rows::db;

/// Logged receipts one by one, as `mark_delivered` (their conversations are locked by the
/// writer); the quiet ones, most of a large room's, in one statement.
pub(crate) async fn mark_delivered_many(
    conn: &mut Conn<'_, PostgresBackend>,
    receipts: &[DeliveredUpTo],
) -> StoreResult<Vec<ConversationEvent>> {
    let mut events = Vec::new();
    for r in receipts.iter().filter(|r| r.log) {
        match read_state::mark_delivered(conn, r.conversation, r.user, r.up_to, true).await {
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
async fn raise_quietly(conn: &mut Conn<'_, PostgresBackend>, receipts: Vec<DeliveredUpTo>) -> StoreResult<()> {
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
    .execute(conn.raw())
    .await
    .map_err(db)?;
    Ok(())
}
