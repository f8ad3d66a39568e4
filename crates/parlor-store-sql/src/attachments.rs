//! Attachment rows: stored with their message, looked up for downloads, removed with a deleted
//! message, and expired by the retention policy.

use parlor_core::{AttachmentId, ConversationId, MessageId, NewAttachment, StoredAttachment, Timestamp};
use parlor_store::StoreResult;

use crate::backend::Backend;
use crate::statement::{Conn, Row, sql};

use crate::rows::{self, corrupt};

const COLUMNS: &str = "a.id AS a_id, a.kind AS a_kind, a.file_name AS a_file_name, a.content_type AS a_content_type, \
     a.size AS a_size, a.width AS a_width, a.height AS a_height, a.thumbnail_key AS a_thumbnail_key, \
     a.expired_at AS a_expired_at, a.message_id AS a_message_id, a.conversation_id AS a_conversation_id, \
     a.blob_key AS a_blob_key, a.sha256 AS a_sha256, a.created_at AS a_created_at";

fn stored<B: Backend>(row: &Row<B>) -> StoreResult<StoredAttachment> {
    let attachment = rows::attachment(row)?.ok_or_else(|| corrupt("attachment row without id".into()))?;
    Ok(StoredAttachment {
        attachment,
        message_id: MessageId(row.get("a_message_id")?),
        conversation_id: ConversationId(row.get("a_conversation_id")?),
        blob_key: row.get("a_blob_key")?,
        thumbnail_key: row.get("a_thumbnail_key")?,
        sha256: row.get("a_sha256")?,
        created_at: Timestamp::from_millis(row.get("a_created_at")?),
    })
}

pub async fn insert<B: Backend>(
    conn: &mut Conn<'_, B>,
    message: MessageId,
    conversation: ConversationId,
    new: &NewAttachment,
    at: Timestamp,
) -> StoreResult<()> {
    sql("INSERT INTO attachments (message_id, conversation_id, kind, file_name, content_type, size, width, height, \
         blob_key, thumbnail_key, sha256, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
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
    .await?;
    Ok(())
}

pub async fn by_id<B: Backend>(conn: &mut Conn<'_, B>, id: AttachmentId) -> StoreResult<Option<StoredAttachment>> {
    let text = format!("SELECT {COLUMNS} FROM attachments a WHERE a.id = $1");
    let row = sql(text).bind(id.0).fetch_optional(conn).await?;
    row.as_ref().map(stored).transpose()
}

pub async fn of_message<B: Backend>(conn: &mut Conn<'_, B>, id: MessageId) -> StoreResult<Option<StoredAttachment>> {
    let text = format!("SELECT {COLUMNS} FROM attachments a WHERE a.message_id = $1");
    let row = sql(text).bind(id.0).fetch_optional(conn).await?;
    row.as_ref().map(stored).transpose()
}

/// Marks up to `limit` attachments older than `before` expired and returns them, so their
/// files can be removed.
pub async fn expire<B: Backend>(
    conn: &mut Conn<'_, B>,
    before: Timestamp,
    limit: u32,
) -> StoreResult<Vec<StoredAttachment>> {
    let text = format!(
        "SELECT {COLUMNS} FROM attachments a WHERE a.expired_at IS NULL AND a.created_at < $1 ORDER BY a.created_at LIMIT $2"
    );
    let found = sql(text).bind(before.as_millis()).bind(limit).fetch_all(conn).await?;
    let now = Timestamp::now().as_millis();
    let mut expired = Vec::with_capacity(found.len());
    for row in &found {
        let mut attachment = stored(row)?;
        sql("UPDATE attachments SET expired_at = $1 WHERE id = $2")
            .bind(now)
            .bind(attachment.attachment.id.0)
            .execute(conn)
            .await?;
        attachment.attachment.expired = true;
        expired.push(attachment);
    }
    Ok(expired)
}
