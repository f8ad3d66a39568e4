//! What the SQL backends share to turn rows into domain values: the SELECT fragments (the
//! backends use the same table and column names) and the row mappers, stamped for each
//! backend's row type by [`sql_row_mappers!`] (one function generic over sqlx's `Row` would need
//! a decoding bound for every column type it reads). Error mapping stays with each backend.

use parlor_core::{MessageKind, SystemEvent, UserId};

use crate::{StoreError, StoreResult};

pub const USER_COLUMNS: &str = "u.id AS u_id, u.username AS u_username, u.external_id AS u_external_id, \
     u.display_name AS u_name, u.avatar_url AS u_avatar, u.created_at AS u_created_at, \
     u.last_seen_at AS u_last_seen_at, u.hide_last_seen AS u_hide_last_seen, u.is_admin AS u_is_admin, \
     u.disabled_at AS u_disabled_at";

/// A message with its sender and the message it replies to. Use with [`MESSAGE_JOINS`].
pub const MESSAGE_COLUMNS: &str = "m.id AS m_id, m.conversation_id AS m_conversation_id, m.seq AS m_seq, m.event_seq AS m_event_seq, \
     m.sender_id AS m_sender_id, su.display_name AS m_sender_name, su.avatar_url AS m_sender_avatar, \
     m.content AS m_content, m.client_id AS m_client_id, m.created_at AS m_created_at, \
     m.kind AS m_kind, m.system AS m_system, m.edited_at AS m_edited_at, m.deleted_at AS m_deleted_at, \
     m.forwarded AS m_forwarded, \
     r.id AS r_id, r.sender_id AS r_sender_id, ru.display_name AS r_sender_name, r.content AS r_content, \
     r.deleted_at AS r_deleted_at, \
     a.id AS a_id, a.kind AS a_kind, a.file_name AS a_file_name, a.content_type AS a_content_type, \
     a.size AS a_size, a.width AS a_width, a.height AS a_height, a.thumbnail_key AS a_thumbnail_key, \
     a.expired_at AS a_expired_at";

pub const MESSAGE_JOINS: &str = "JOIN users su ON su.id = m.sender_id \
     LEFT JOIN messages r ON r.id = m.reply_to \
     LEFT JOIN users ru ON ru.id = r.sender_id \
     LEFT JOIN attachments a ON a.message_id = m.id";

pub const CONVERSATION_COLUMNS: &str = "c.id AS c_id, c.kind AS c_kind, c.title AS c_title, c.created_at AS c_created_at, \
     c.avatar_url AS c_avatar, c.context_type AS c_context_type, c.context_id AS c_context_id, \
     c.context_title AS c_context_title, c.archived_at AS c_archived_at, \
     c.last_activity_at AS c_last_activity_at, c.last_message_id AS c_last_message_id, \
     c.last_message_seq AS c_last_message_seq, c.last_event_seq AS c_last_event_seq";

/// A membership from `mb.role`, `mb.active`, `mb.visible_message_seq`, `mb.visible_event_seq`
/// selected as `mb_role`, `mb_active`, `mb_visible_message_seq`, `mb_visible_event_seq`.
pub const MEMBERSHIP_COLUMNS: &str = "mb.role AS mb_role, mb.active AS mb_active, \
     mb.visible_message_seq AS mb_visible_message_seq, mb.visible_event_seq AS mb_visible_event_seq, \
     mb.muted AS mb_muted";

pub fn message_kind(kind: String, system: Option<String>) -> StoreResult<MessageKind> {
    match (kind.as_str(), system) {
        ("text", _) => Ok(MessageKind::Text),
        ("system", Some(json)) => {
            let v: serde_json::Value = serde_json::from_str(&json).map_err(|e| corrupt(e.to_string()))?;
            Ok(MessageKind::System(SystemEvent {
                action: v["action"].as_str().unwrap_or_default().to_owned(),
                actor_id: UserId(v["actor_id"].as_i64().unwrap_or_default()),
                user_ids: v["user_ids"]
                    .as_array()
                    .map(|ids| ids.iter().filter_map(serde_json::Value::as_i64).map(UserId).collect())
                    .unwrap_or_default(),
                role: v["role"].as_str().map(str::to_owned),
            }))
        }
        (other, _) => Err(corrupt(format!("unknown message kind {other:?}"))),
    }
}

/// The JSON stored for a system message.
pub fn system_json(event: &SystemEvent) -> String {
    serde_json::json!({
        "action": event.action,
        "actor_id": event.actor_id.0,
        "user_ids": event.user_ids.iter().map(|u| u.0).collect::<Vec<_>>(),
        "role": event.role,
    })
    .to_string()
}

pub fn corrupt(what: String) -> StoreError {
    StoreError::Backend(what.into())
}

/// The row mappers `user`, `message`, `conversation`, `membership` and the column reader `get`
/// for one backend: `sql_row_mappers!(sqlx::sqlite::SqliteRow, sqlx::Sqlite, attachments::from_message_row)`,
/// the last naming the backend's mapper of a message row's attachment columns. The calling crate
/// depends on sqlx.
#[macro_export]
macro_rules! sql_row_mappers {
    ($row:ty, $db:ty, $attachment:path) => {
        mod mappers {
            use ::parlor_core::{
                Context, Conversation, ConversationId, ConversationKind, Membership, Message, MessageId, ReplyPreview,
                Role, Seq, Timestamp, User, UserId,
            };
            use ::parlor_store::sql_rows::{corrupt, message_kind};
            use ::parlor_store::{StoreError, StoreResult};
            use ::sqlx::Row as _;

            type DbRow = $row;

            pub(crate) fn user(row: &DbRow) -> StoreResult<User> {
                Ok(User {
                    id: UserId(get(row, "u_id")?),
                    username: get(row, "u_username")?,
                    external_id: get(row, "u_external_id")?,
                    name: get(row, "u_name")?,
                    avatar: get(row, "u_avatar")?,
                    created_at: Timestamp::from_millis(get(row, "u_created_at")?),
                    last_seen_at: get::<Option<i64>, _>(row, "u_last_seen_at")?.map(Timestamp::from_millis),
                    hide_last_seen: get::<i64, _>(row, "u_hide_last_seen")? != 0,
                    is_admin: get::<i64, _>(row, "u_is_admin")? != 0,
                    disabled: get::<Option<i64>, _>(row, "u_disabled_at")?.is_some(),
                })
            }

            /// The message and the event seq of its creation.
            pub(crate) fn message(row: &DbRow) -> StoreResult<(Message, Seq)> {
                let reply_to = match get::<Option<i64>, _>(row, "r_id")? {
                    Some(id) => Some(ReplyPreview {
                        id: MessageId(id),
                        sender_id: UserId(get(row, "r_sender_id")?),
                        sender_name: get(row, "r_sender_name")?,
                        content: ReplyPreview::excerpt(&get::<String, _>(row, "r_content")?),
                        deleted: get::<Option<i64>, _>(row, "r_deleted_at")?.is_some(),
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
                    kind: message_kind(get(row, "m_kind")?, get(row, "m_system")?)?,
                    edited_at: get::<Option<i64>, _>(row, "m_edited_at")?.map(Timestamp::from_millis),
                    deleted_at: get::<Option<i64>, _>(row, "m_deleted_at")?.map(Timestamp::from_millis),
                    forwarded: get::<i64, _>(row, "m_forwarded")? != 0,
                    // Filled in by `reactions::attach`, which loads them for a whole page at once.
                    reactions: Vec::new(),
                    attachment: $attachment(row)?,
                };
                Ok((message, Seq(get(row, "m_event_seq")?)))
            }

            pub(crate) fn conversation(row: &DbRow) -> StoreResult<Conversation> {
                let kind: String = get(row, "c_kind")?;
                Ok(Conversation {
                    id: ConversationId(get(row, "c_id")?),
                    kind: ConversationKind::parse(&kind)
                        .ok_or_else(|| corrupt(format!("unknown conversation kind {kind:?}")))?,
                    title: get(row, "c_title")?,
                    avatar: get(row, "c_avatar")?,
                    context: match (
                        get::<Option<String>, _>(row, "c_context_type")?,
                        get::<Option<String>, _>(row, "c_context_id")?,
                    ) {
                        (Some(kind), Some(external_id)) => {
                            Some(Context { kind, external_id, title: get(row, "c_context_title")? })
                        }
                        _ => None,
                    },
                    archived_at: get::<Option<i64>, _>(row, "c_archived_at")?.map(Timestamp::from_millis),
                    created_at: Timestamp::from_millis(get(row, "c_created_at")?),
                    last_activity_at: Timestamp::from_millis(get(row, "c_last_activity_at")?),
                    last_message_seq: Seq(get(row, "c_last_message_seq")?),
                    last_event_seq: Seq(get(row, "c_last_event_seq")?),
                })
            }

            pub(crate) fn membership(row: &DbRow) -> StoreResult<Membership> {
                let role: String = get(row, "mb_role")?;
                let visible_message: Option<i64> = get(row, "mb_visible_message_seq")?;
                let visible_event: Option<i64> = get(row, "mb_visible_event_seq")?;
                Ok(Membership {
                    role: Role::parse(&role).map_err(|e| corrupt(e.to_string()))?,
                    active: get::<i64, _>(row, "mb_active")? != 0,
                    visible_until: visible_message.zip(visible_event).map(|(m, e)| (Seq(m), Seq(e))),
                    muted: get::<i64, _>(row, "mb_muted")? != 0,
                })
            }

            pub(crate) fn get<'r, T, I>(row: &'r DbRow, column: I) -> StoreResult<T>
            where
                T: ::sqlx::Decode<'r, $db> + ::sqlx::Type<$db>,
                I: ::sqlx::ColumnIndex<DbRow>,
            {
                row.try_get(column).map_err(StoreError::backend)
            }
        }
        pub(crate) use mappers::{conversation, get, membership, message, user};
    };
}
