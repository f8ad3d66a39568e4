//! Reading the per-conversation event log, for clients that resume after a disconnect.

use parlor_core::{ConversationEvent, ConversationId, EventKind, MessageId, Seq, Timestamp, UserId};
use parlor_store::StoreResult;
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;

use crate::rows::{self, MESSAGE_COLUMNS, MESSAGE_JOINS, corrupt, db};

pub(crate) async fn after(
    conn: &mut SqliteConnection,
    id: ConversationId,
    after: Seq,
    limit: u32,
) -> StoreResult<Vec<ConversationEvent>> {
    let sql = format!(
        "SELECT e.seq AS e_seq, e.kind AS e_kind, e.actor_id AS e_actor_id, e.data AS e_data, e.created_at AS e_created_at, \
         {MESSAGE_COLUMNS} FROM events e LEFT JOIN messages m ON m.id = e.message_id {} \
         WHERE e.conversation_id = ? AND e.seq > ? ORDER BY e.seq LIMIT ?",
        // The message joins must be LEFT here: most events are not messages.
        MESSAGE_JOINS.replacen("JOIN users su", "LEFT JOIN users su", 1)
    );
    let found = sqlx::query(&sql).bind(id.0).bind(after.0).bind(limit).fetch_all(conn).await.map_err(db)?;
    found.iter().map(|row| event(id, row)).collect()
}

fn event(conversation_id: ConversationId, row: &SqliteRow) -> StoreResult<ConversationEvent> {
    let kind: String = rows::get(row, "e_kind")?;
    let kind = match kind.as_str() {
        "message_created" => EventKind::MessageCreated(rows::message(row)?.0),
        "messages_read" => {
            let data: String = rows::get(row, "e_data")?;
            let data: serde_json::Value = serde_json::from_str(&data).map_err(|e| corrupt(e.to_string()))?;
            EventKind::MessagesRead {
                user_id: UserId(rows::get(row, "e_actor_id")?),
                up_to: Seq(data["up_to"].as_i64().unwrap_or_default()),
                message_ids: data["message_ids"]
                    .as_array()
                    .map(|ids| ids.iter().filter_map(serde_json::Value::as_i64).map(MessageId).collect())
                    .unwrap_or_default(),
            }
        }
        other => return Err(corrupt(format!("unknown event kind {other:?}"))),
    };
    Ok(ConversationEvent {
        conversation_id,
        seq: Seq(rows::get(row, "e_seq")?),
        at: Timestamp::from_millis(rows::get(row, "e_created_at")?),
        kind,
    })
}

pub(crate) async fn last_seq(conn: &mut SqliteConnection, id: ConversationId) -> StoreResult<Seq> {
    let row = sqlx::query("SELECT last_event_seq FROM conversations WHERE id = ?")
        .bind(id.0)
        .fetch_optional(conn)
        .await
        .map_err(db)?;
    match row {
        Some(r) => Ok(Seq(rows::get(&r, 0)?)),
        None => Ok(Seq::ZERO),
    }
}
