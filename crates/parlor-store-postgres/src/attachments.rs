//! Attachment rows: stored with their message, looked up for downloads, removed with a deleted
//! message, and expired by the retention policy.

use parlor_core::{
    Attachment, AttachmentId, AttachmentKind, ConversationId, MessageId, NewAttachment, StoredAttachment, Timestamp,
};
use parlor_store::StoreResult;
use sqlx::PgConnection;
use sqlx::postgres::PgRow;

use crate::rows::{self, corrupt, db};

/// The attachment part of a message row, selected with [`crate::rows::MESSAGE_COLUMNS`].
pub(crate) fn from_message_row(row: &PgRow) -> StoreResult<Option<Attachment>> {
    let Some(id) = rows::get::<Option<i64>, _>(row, "a_id")? else { return Ok(None) };
    let kind: String = rows::get(row, "a_kind")?;
    Ok(Some(Attachment {
        id: AttachmentId(id),
        kind: AttachmentKind::parse(&kind).ok_or_else(|| corrupt(format!("unknown attachment kind {kind:?}")))?,
        file_name: rows::get(row, "a_file_name")?,
        content_type: rows::get(row, "a_content_type")?,
        size: rows::get(row, "a_size")?,
        width: rows::get(row, "a_width")?,
        height: rows::get(row, "a_height")?,
        has_thumbnail: rows::get::<Option<String>, _>(row, "a_thumbnail_key")?.is_some(),
        expired: rows::get::<Option<i64>, _>(row, "a_expired_at")?.is_some(),
    }))
}

const COLUMNS: &str = "a.id AS a_id, a.kind AS a_kind, a.file_name AS a_file_name, a.content_type AS a_content_type, \
     a.size AS a_size, a.width AS a_width, a.height AS a_height, a.thumbnail_key AS a_thumbnail_key, \
     a.expired_at AS a_expired_at, a.message_id AS a_message_id, a.conversation_id AS a_conversation_id, \
     a.blob_key AS a_blob_key, a.sha256 AS a_sha256, a.created_at AS a_created_at";

fn stored(row: &PgRow) -> StoreResult<StoredAttachment> {
    let attachment = from_message_row(row)?.ok_or_else(|| corrupt("attachment row without id".into()))?;
    Ok(StoredAttachment {
        attachment,
        message_id: MessageId(rows::get(row, "a_message_id")?),
        conversation_id: ConversationId(rows::get(row, "a_conversation_id")?),
        blob_key: rows::get(row, "a_blob_key")?,
        thumbnail_key: rows::get(row, "a_thumbnail_key")?,
        sha256: rows::get(row, "a_sha256")?,
        created_at: Timestamp::from_millis(rows::get(row, "a_created_at")?),
    })
}

pub(crate) async fn insert(
    conn: &mut PgConnection,
    message: MessageId,
    conversation: ConversationId,
    new: &NewAttachment,
    at: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO attachments (message_id, conversation_id, kind, file_name, content_type, size, width, height, \
         blob_key, thumbnail_key, sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(message.0)
    .bind(conversation.0)
    .bind(new.kind.as_str())
    .bind(&new.file_name)
    .bind(&new.content_type)
    .bind(new.size)
    .bind(new.width)
    .bind(new.height)
    .bind(&new.blob_key)
    .bind(new.thumbnail_key.as_deref())
    .bind(&new.sha256)
    .bind(at.as_millis())
    .execute(conn)
    .await
    .map_err(db)?;
    Ok(())
}

pub(crate) async fn by_id(conn: &mut PgConnection, id: AttachmentId) -> StoreResult<Option<StoredAttachment>> {
    let sql = format!("SELECT {COLUMNS} FROM attachments a WHERE a.id = $1");
    let row = sqlx::query(&sql).bind(id.0).fetch_optional(conn).await.map_err(db)?;
    row.as_ref().map(stored).transpose()
}

pub(crate) async fn of_message(conn: &mut PgConnection, id: MessageId) -> StoreResult<Option<StoredAttachment>> {
    let sql = format!("SELECT {COLUMNS} FROM attachments a WHERE a.message_id = $1");
    let row = sqlx::query(&sql).bind(id.0).fetch_optional(conn).await.map_err(db)?;
    row.as_ref().map(stored).transpose()
}

/// Marks up to `limit` attachments older than `before` expired and returns them, so their
/// files can be removed.
pub(crate) async fn expire(
    conn: &mut PgConnection,
    before: Timestamp,
    limit: u32,
) -> StoreResult<Vec<StoredAttachment>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM attachments a WHERE a.expired_at IS NULL AND a.created_at < $1 ORDER BY a.created_at LIMIT $2"
    );
    let found =
        sqlx::query(&sql).bind(before.as_millis()).bind(i64::from(limit)).fetch_all(&mut *conn).await.map_err(db)?;
    let now = Timestamp::now().as_millis();
    let mut expired = Vec::with_capacity(found.len());
    for row in &found {
        let mut attachment = stored(row)?;
        sqlx::query("UPDATE attachments SET expired_at = $1 WHERE id = $2")
            .bind(now)
            .bind(attachment.attachment.id.0)
            .execute(&mut *conn)
            .await
            .map_err(db)?;
        attachment.attachment.expired = true;
        expired.push(attachment);
    }
    Ok(expired)
}
