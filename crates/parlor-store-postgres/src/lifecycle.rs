//! Editing and deleting messages. Earlier contents go to `message_versions` (moderation only).

use parlor_core::{ConversationEvent, EventKind, MessageBody, MessageId, Timestamp};
use parlor_store::{StoreError, StoreResult};
use sqlx::PgConnection;

use crate::rows::{self, db};
use crate::{events, messages};

/// Moves the current content into the versions table; returns (conversation, message seq).
async fn keep_version(conn: &mut PgConnection, id: MessageId, now: Timestamp) -> StoreResult<(i64, i64)> {
    // The conversation's lock before the message's row, the order every writer keeps; then
    // the message as it is once no other node can change it (a concurrent delete wins once).
    let owner = sqlx::query("SELECT conversation_id FROM messages WHERE id = $1")
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?
        .ok_or(StoreError::NotFound)?;
    crate::lock_conversations(conn, &[rows::get(&owner, 0)?]).await?;
    let row = sqlx::query(
        "SELECT m.conversation_id, m.seq, m.content, c.archived_at FROM messages m \
         JOIN conversations c ON c.id = m.conversation_id WHERE m.id = $1 AND m.deleted_at IS NULL",
    )
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?
    .ok_or(StoreError::NotFound)?;
    if rows::get::<Option<i64>, _>(&row, 3)?.is_some() {
        return Err(StoreError::Rule("archived"));
    }
    let (conversation, seq, content): (i64, i64, String) =
        (rows::get(&row, 0)?, rows::get(&row, 1)?, rows::get(&row, 2)?);
    sqlx::query(
        "INSERT INTO message_versions (message_id, version, content, replaced_at) \
         VALUES ($1, (SELECT COUNT(*) + 1 FROM message_versions WHERE message_id = $1), $2, $3)",
    )
    .bind(id.0)
    .bind(content)
    .bind(now.as_millis())
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    Ok((conversation, seq))
}

pub(crate) async fn edit(conn: &mut PgConnection, id: MessageId, body: &MessageBody) -> StoreResult<ConversationEvent> {
    let now = Timestamp::now();
    let (conversation, _) = keep_version(conn, id, now).await?;
    sqlx::query("UPDATE messages SET content = $1, edited_at = $2 WHERE id = $3")
        .bind(body.as_str())
        .bind(now.as_millis())
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    let seq = events::log(conn, conversation, "message_edited", Some(id.0), None, None, now).await?;
    let (message, _) = messages::with_event_seq(conn, id).await?.ok_or(StoreError::NotFound)?;
    Ok(ConversationEvent {
        conversation_id: message.conversation_id,
        seq,
        at: now,
        kind: EventKind::MessageEdited(message),
    })
}

pub(crate) async fn delete(conn: &mut PgConnection, id: MessageId) -> StoreResult<ConversationEvent> {
    let now = Timestamp::now();
    let (conversation, message_seq) = keep_version(conn, id, now).await?;
    sqlx::query("UPDATE messages SET content = '', deleted_at = $1 WHERE id = $2")
        .bind(now.as_millis())
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    sqlx::query("DELETE FROM reactions WHERE message_id = $1").bind(id.0).execute(&mut *conn).await.map_err(db)?;
    // The file goes with the message; the caller removes its bytes from blob storage.
    sqlx::query("DELETE FROM attachments WHERE message_id = $1").bind(id.0).execute(&mut *conn).await.map_err(db)?;
    let data = serde_json::json!({ "message_seq": message_seq }).to_string();
    let seq = events::log(conn, conversation, "message_deleted", Some(id.0), None, Some(data), now).await?;
    Ok(ConversationEvent {
        conversation_id: parlor_core::ConversationId(conversation),
        seq,
        at: now,
        kind: EventKind::MessageDeleted { message_id: id, message_seq: parlor_core::Seq(message_seq) },
    })
}
