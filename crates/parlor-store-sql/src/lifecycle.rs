//! Editing, deleting and erasing messages. Earlier contents go to `message_versions`
//! (moderation only), except when a message is erased: then they go too.

use parlor_core::{ConversationEvent, EventKind, MessageBody, MessageId, StoredAttachment, Timestamp};
use parlor_store::{StoreError, StoreResult};

use crate::backend::Backend;
use crate::statement::{Conn, sql};
use crate::{attachments, events, messages};

/// Moves the current content into the versions table; returns (conversation, message seq).
async fn keep_version<B: Backend>(conn: &mut Conn<'_, B>, id: MessageId, now: Timestamp) -> StoreResult<(i64, i64)> {
    // The conversation's lock before the message's row, the order every writer keeps; then
    // the message as it is once no other writer can change it (a concurrent delete wins once).
    B::lock_conversation_of(conn, id).await?;
    let row = sql("SELECT m.conversation_id, m.seq, m.content, c.archived_at FROM messages m \
         JOIN conversations c ON c.id = m.conversation_id WHERE m.id = $1 AND m.deleted_at IS NULL")
    .bind(id.0)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    if row.get::<Option<i64>>(3)?.is_some() {
        return Err(StoreError::Rule("archived"));
    }
    let (conversation, seq, content): (i64, i64, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
    sql("INSERT INTO message_versions (message_id, version, content, replaced_at) \
         VALUES ($1, (SELECT COUNT(*) + 1 FROM message_versions WHERE message_id = $1), $2, $3)")
    .bind(id.0)
    .bind(content)
    .bind(now.as_millis())
    .execute(conn)
    .await?;
    Ok((conversation, seq))
}

pub async fn edit<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: MessageId,
    body: &MessageBody,
) -> StoreResult<ConversationEvent> {
    let now = Timestamp::now();
    let (conversation, _) = keep_version(conn, id, now).await?;
    sql("UPDATE messages SET content = $1, edited_at = $2 WHERE id = $3")
        .bind(body.as_str())
        .bind(now.as_millis())
        .bind(id.0)
        .execute(conn)
        .await?;
    let seq =
        events::log_with_content(conn, conversation, "message_edited", Some(id.0), None, None, body.as_str(), now)
            .await?;
    let (message, _) = messages::with_event_seq(conn, id).await?.ok_or(StoreError::NotFound)?;
    Ok(ConversationEvent {
        conversation_id: message.conversation_id,
        seq,
        at: now,
        kind: EventKind::MessageEdited(message),
    })
}

pub async fn delete<B: Backend>(conn: &mut Conn<'_, B>, id: MessageId) -> StoreResult<ConversationEvent> {
    let now = Timestamp::now();
    let (conversation, message_seq) = keep_version(conn, id, now).await?;
    sql("UPDATE messages SET content = '', deleted_at = $1 WHERE id = $2")
        .bind(now.as_millis())
        .bind(id.0)
        .execute(conn)
        .await?;
    sql("DELETE FROM reactions WHERE message_id = $1").bind(id.0).execute(conn).await?;
    // The file goes with the message; the caller removes its bytes from blob storage.
    sql("DELETE FROM attachments WHERE message_id = $1").bind(id.0).execute(conn).await?;
    let data = serde_json::json!({ "message_seq": message_seq }).to_string();
    let seq = events::log(conn, conversation, "message_deleted", Some(id.0), None, Some(data), now).await?;
    Ok(ConversationEvent {
        conversation_id: parlor_core::ConversationId(conversation),
        seq,
        at: now,
        kind: EventKind::MessageDeleted { message_id: id, message_seq: parlor_core::Seq(message_seq) },
    })
}

/// Erases a message for good (retention, an erased account): unlike [`delete`], no version is
/// kept for moderation, and its earlier versions go too. Returns its `MessageDeleted` event and
/// the attachment whose file the caller removes; `None` when it was already deleted. The caller
/// holds the conversation's lock.
pub async fn erase<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: MessageId,
    now: Timestamp,
) -> StoreResult<Option<(ConversationEvent, Option<StoredAttachment>)>> {
    let Some(row) = sql("SELECT conversation_id, seq FROM messages WHERE id = $1 AND deleted_at IS NULL")
        .bind(id.0)
        .fetch_optional(conn)
        .await?
    else {
        return Ok(None);
    };
    let (conversation, message_seq): (i64, i64) = (row.get(0)?, row.get(1)?);
    sql("UPDATE messages SET content = '', client_id = NULL, deleted_at = $1 WHERE id = $2")
        .bind(now.as_millis())
        .bind(id.0)
        .execute(conn)
        .await?;
    sql("DELETE FROM message_versions WHERE message_id = $1").bind(id.0).execute(conn).await?;
    sql("DELETE FROM reactions WHERE message_id = $1").bind(id.0).execute(conn).await?;
    let file = attachments::of_message(conn, id).await?;
    sql("DELETE FROM attachments WHERE message_id = $1").bind(id.0).execute(conn).await?;
    // `erased`: why the text went, kept in the chained log for transcripts (`withheld: erased`).
    let data = serde_json::json!({ "message_seq": message_seq, "erased": true }).to_string();
    let seq = events::log(conn, conversation, "message_deleted", Some(id.0), None, Some(data), now).await?;
    let event = ConversationEvent {
        conversation_id: parlor_core::ConversationId(conversation),
        seq,
        at: now,
        kind: EventKind::MessageDeleted { message_id: id, message_seq: parlor_core::Seq(message_seq) },
    };
    Ok(Some((event, file)))
}
