//! Turning SQLite rows into domain values. The SELECT fragments live beside their mappers so a
//! column added to one is added to the other.

use parlor_core::{
    Conversation, ConversationId, ConversationKind, Message, MessageId, ReplyPreview, Seq, Timestamp, User, UserId,
};
use parlor_store::{StoreError, StoreResult};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

pub(crate) const USER_COLUMNS: &str = "u.id AS u_id, u.username AS u_username, u.external_id AS u_external_id, \
     u.display_name AS u_name, u.avatar_url AS u_avatar, u.created_at AS u_created_at";

pub(crate) fn user(row: &SqliteRow) -> StoreResult<User> {
    Ok(User {
        id: UserId(get(row, "u_id")?),
        username: get(row, "u_username")?,
        external_id: get(row, "u_external_id")?,
        name: get(row, "u_name")?,
        avatar: get(row, "u_avatar")?,
        created_at: Timestamp::from_millis(get(row, "u_created_at")?),
    })
}

/// A message with its sender and the message it replies to. Use with [`MESSAGE_JOINS`].
pub(crate) const MESSAGE_COLUMNS: &str = "m.id AS m_id, m.conversation_id AS m_conversation_id, m.seq AS m_seq, m.event_seq AS m_event_seq, \
     m.sender_id AS m_sender_id, su.display_name AS m_sender_name, su.avatar_url AS m_sender_avatar, \
     m.content AS m_content, m.client_id AS m_client_id, m.created_at AS m_created_at, \
     r.id AS r_id, r.sender_id AS r_sender_id, ru.display_name AS r_sender_name, r.content AS r_content";

pub(crate) const MESSAGE_JOINS: &str = "JOIN users su ON su.id = m.sender_id \
     LEFT JOIN messages r ON r.id = m.reply_to \
     LEFT JOIN users ru ON ru.id = r.sender_id";

/// The message and the event seq of its creation.
pub(crate) fn message(row: &SqliteRow) -> StoreResult<(Message, Seq)> {
    let reply_to = match get::<Option<i64>, _>(row, "r_id")? {
        Some(id) => Some(ReplyPreview {
            id: MessageId(id),
            sender_id: UserId(get(row, "r_sender_id")?),
            sender_name: get(row, "r_sender_name")?,
            content: ReplyPreview::excerpt(&get::<String, _>(row, "r_content")?),
        }),
        None => None,
    };
    let message = Message {
        id: MessageId(get(row, "m_id")?),
        conversation_id: ConversationId(get(row, "m_conversation_id")?),
        seq: Seq(get(row, "m_seq")?),
        sender_id: UserId(get(row, "m_sender_id")?),
        sender_name: get(row, "m_sender_name")?,
        sender_avatar: get(row, "m_sender_avatar")?,
        content: get(row, "m_content")?,
        reply_to,
        client_id: get(row, "m_client_id")?,
        created_at: Timestamp::from_millis(get(row, "m_created_at")?),
    };
    Ok((message, Seq(get(row, "m_event_seq")?)))
}

pub(crate) const CONVERSATION_COLUMNS: &str = "c.id AS c_id, c.kind AS c_kind, c.title AS c_title, c.created_at AS c_created_at, \
     c.last_activity_at AS c_last_activity_at, c.last_message_id AS c_last_message_id, \
     c.last_message_seq AS c_last_message_seq, c.last_event_seq AS c_last_event_seq";

pub(crate) fn conversation(row: &SqliteRow) -> StoreResult<Conversation> {
    let kind: String = get(row, "c_kind")?;
    Ok(Conversation {
        id: ConversationId(get(row, "c_id")?),
        kind: ConversationKind::parse(&kind).ok_or_else(|| corrupt(format!("unknown conversation kind {kind:?}")))?,
        title: get(row, "c_title")?,
        created_at: Timestamp::from_millis(get(row, "c_created_at")?),
        last_activity_at: Timestamp::from_millis(get(row, "c_last_activity_at")?),
        last_message_seq: Seq(get(row, "c_last_message_seq")?),
        last_event_seq: Seq(get(row, "c_last_event_seq")?),
    })
}

pub(crate) fn get<'r, T, I>(row: &'r SqliteRow, column: I) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
    I: sqlx::ColumnIndex<SqliteRow>,
{
    row.try_get(column).map_err(StoreError::backend)
}

pub(crate) fn corrupt(what: String) -> StoreError {
    StoreError::Backend(what.into())
}

/// Maps a database error, turning a unique-constraint violation into `Conflict(field)`.
pub(crate) fn conflict_or_backend(field: &'static str) -> impl Fn(sqlx::Error) -> StoreError {
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(field),
        _ => StoreError::backend(e),
    }
}

pub(crate) fn db(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::PoolClosed => StoreError::Unavailable,
        other => StoreError::backend(other),
    }
}
