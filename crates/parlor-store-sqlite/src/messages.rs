//! Storing and reading messages. `append` runs inside the batch writer's transaction.

use parlor_core::{ConversationEvent, ConversationId, EventKind, Message, MessageId, NewMessage, Seq, Timestamp};
use parlor_store::{Appended, StoreError, StoreResult};
use sqlx::SqliteConnection;

use crate::rows::{self, MESSAGE_COLUMNS, MESSAGE_JOINS, db};

pub(crate) async fn append(conn: &mut SqliteConnection, new: NewMessage) -> StoreResult<Appended> {
    let conversation = new.conversation_id;
    let member = sqlx::query("SELECT 1 FROM members WHERE conversation_id = ? AND user_id = ?")
        .bind(conversation.0)
        .bind(new.sender_id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    if member.is_none() {
        return Err(StoreError::NotFound);
    }

    if let Some(client_id) = &new.client_id {
        let earlier =
            sqlx::query("SELECT id FROM messages WHERE conversation_id = ? AND sender_id = ? AND client_id = ?")
                .bind(conversation.0)
                .bind(new.sender_id.0)
                .bind(client_id.as_str())
                .fetch_optional(&mut *conn)
                .await
                .map_err(db)?;
        if let Some(row) = earlier {
            let (message, event_seq) =
                with_event_seq(conn, MessageId(rows::get(&row, 0)?)).await?.ok_or(StoreError::NotFound)?;
            let event = ConversationEvent {
                conversation_id: conversation,
                seq: event_seq,
                at: message.created_at,
                kind: EventKind::MessageCreated(message),
            };
            return Ok(Appended { event, duplicate: true });
        }
    }

    if let Some(reply_to) = new.reply_to {
        let target = sqlx::query("SELECT 1 FROM messages WHERE id = ? AND conversation_id = ?")
            .bind(reply_to.0)
            .bind(conversation.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
        if target.is_none() {
            return Err(StoreError::InvalidReference("reply_to"));
        }
    }

    let now = Timestamp::now().as_millis();
    let counters = sqlx::query(
        "UPDATE conversations SET last_message_seq = last_message_seq + 1, last_event_seq = last_event_seq + 1, \
         last_activity_at = ? WHERE id = ? RETURNING last_message_seq, last_event_seq",
    )
    .bind(now)
    .bind(conversation.0)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    let seq: i64 = rows::get(&counters, 0)?;
    let event_seq: i64 = rows::get(&counters, 1)?;

    let inserted = sqlx::query(
        "INSERT INTO messages (conversation_id, seq, event_seq, sender_id, content, reply_to, client_id, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(conversation.0)
    .bind(seq)
    .bind(event_seq)
    .bind(new.sender_id.0)
    .bind(new.body.as_str())
    .bind(new.reply_to.map(|m| m.0))
    .bind(new.client_id.as_ref().map(|c| c.as_str()))
    .bind(now)
    .fetch_one(&mut *conn)
    .await
    .map_err(db)?;
    let id: i64 = rows::get(&inserted, 0)?;

    sqlx::query("UPDATE conversations SET last_message_id = ? WHERE id = ?")
        .bind(id)
        .bind(conversation.0)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    sqlx::query("INSERT INTO events (conversation_id, seq, kind, message_id, actor_id, created_at) VALUES (?, ?, 'message_created', ?, ?, ?)")
        .bind(conversation.0)
        .bind(event_seq)
        .bind(id)
        .bind(new.sender_id.0)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    // Whoever writes has read everything before it.
    sqlx::query("UPDATE members SET last_read_seq = ? WHERE conversation_id = ? AND user_id = ? AND last_read_seq < ?")
        .bind(seq)
        .bind(conversation.0)
        .bind(new.sender_id.0)
        .bind(seq)
        .execute(&mut *conn)
        .await
        .map_err(db)?;

    let (message, _) = with_event_seq(conn, MessageId(id)).await?.ok_or(StoreError::NotFound)?;
    let event = ConversationEvent {
        conversation_id: conversation,
        seq: Seq(event_seq),
        at: message.created_at,
        kind: EventKind::MessageCreated(message),
    };
    Ok(Appended { event, duplicate: false })
}

pub(crate) async fn with_event_seq(conn: &mut SqliteConnection, id: MessageId) -> StoreResult<Option<(Message, Seq)>> {
    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages m {MESSAGE_JOINS} WHERE m.id = ?");
    let row = sqlx::query(&sql).bind(id.0).fetch_optional(conn).await.map_err(db)?;
    row.as_ref().map(rows::message).transpose()
}

pub(crate) async fn before(
    conn: &mut SqliteConnection,
    id: ConversationId,
    before: Option<Seq>,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m {MESSAGE_JOINS} \
         WHERE m.conversation_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?"
    );
    let found = sqlx::query(&sql)
        .bind(id.0)
        .bind(before.map_or(i64::MAX, |s| s.0))
        .bind(limit)
        .fetch_all(conn)
        .await
        .map_err(db)?;
    found.iter().map(|r| rows::message(r).map(|(m, _)| m)).collect()
}
