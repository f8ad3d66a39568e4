//! Turning rows into domain values: the SELECT fragments (both backends use the same table
//! and column names) and the mappers that read what they select.

use parlor_core::{
    Attachment, AttachmentId, AttachmentKind, CallMedia, CallOutcome, CallRecord, Context, Conversation,
    ConversationId, ConversationKind, Membership, Message, MessageId, MessageKind, Reaction, ReplyPreview, Role, Seq,
    SystemEvent, Timestamp, User, UserId,
};
use parlor_store::{StoreError, StoreResult};

use crate::backend::Backend;
use crate::statement::Row;

pub const USER_COLUMNS: &str = "u.id AS u_id, u.username AS u_username, u.external_id AS u_external_id, \
     u.display_name AS u_name, u.avatar_url AS u_avatar, u.created_at AS u_created_at, \
     u.last_seen_at AS u_last_seen_at, u.hide_last_seen AS u_hide_last_seen, u.is_admin AS u_is_admin, \
     u.disabled_at AS u_disabled_at, u.email AS u_email";

/// A message with its sender, the message it replies to and its attachment. Use with
/// [`MESSAGE_JOINS`].
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

/// A message's reactions as one column, `emoji user emoji user ...` in the order they were made
/// (an emoji holds no whitespace), so a message and its reactions are one statement's row,
/// however many messages it reads. Read by [`message_with_reactions`] and [`reactions`].
pub const MESSAGE_REACTIONS: &str = "(SELECT string_agg(x.emoji || ' ' || x.user_id, ' ' ORDER BY x.created_at, x.user_id, x.emoji) \
     FROM reactions x WHERE x.message_id = m.id) AS m_reactions";

pub const CONVERSATION_COLUMNS: &str = "c.id AS c_id, c.kind AS c_kind, c.title AS c_title, c.created_at AS c_created_at, \
     c.avatar_url AS c_avatar, c.context_type AS c_context_type, c.context_id AS c_context_id, \
     c.context_title AS c_context_title, c.archived_at AS c_archived_at, \
     c.last_activity_at AS c_last_activity_at, c.last_message_id AS c_last_message_id, \
     c.last_message_seq AS c_last_message_seq, c.last_event_seq AS c_last_event_seq, \
     c.retention_secs AS c_retention_secs, c.legal_hold_at AS c_legal_hold_at";

/// A membership from `mb.role`, `mb.active`, `mb.visible_message_seq`, `mb.visible_event_seq`
/// and `mb.muted`.
pub const MEMBERSHIP_COLUMNS: &str = "mb.role AS mb_role, mb.active AS mb_active, \
     mb.visible_message_seq AS mb_visible_message_seq, mb.visible_event_seq AS mb_visible_event_seq, \
     mb.muted AS mb_muted";

pub fn user<B: Backend>(row: &Row<B>) -> StoreResult<User> {
    Ok(User {
        id: UserId(row.get("u_id")?),
        username: row.get("u_username")?,
        external_id: row.get("u_external_id")?,
        name: row.get("u_name")?,
        avatar: row.get("u_avatar")?,
        created_at: Timestamp::from_millis(row.get("u_created_at")?),
        last_seen_at: row.get::<Option<i64>>("u_last_seen_at")?.map(Timestamp::from_millis),
        hide_last_seen: row.get::<i64>("u_hide_last_seen")? != 0,
        is_admin: row.get::<i64>("u_is_admin")? != 0,
        disabled: row.get::<Option<i64>>("u_disabled_at")?.is_some(),
        email: row.get("u_email")?,
    })
}

/// The message and the event seq of its creation.
pub fn message<B: Backend>(row: &Row<B>) -> StoreResult<(Message, Seq)> {
    let reply_to = match row.get::<Option<i64>>("r_id")? {
        Some(id) => Some(ReplyPreview {
            id: MessageId(id),
            sender_id: UserId(row.get("r_sender_id")?),
            sender_name: row.get("r_sender_name")?,
            content: ReplyPreview::excerpt(&row.get::<String>("r_content")?),
            deleted: row.get::<Option<i64>>("r_deleted_at")?.is_some(),
        }),
        None => None,
    };
    let message = Message {
        id: MessageId(row.get("m_id")?),
        conversation_id: ConversationId(row.get("m_conversation_id")?),
        seq: Seq(row.get("m_seq")?),
        sender_id: UserId(row.get("m_sender_id")?),
        sender_name: row.get("m_sender_name")?,
        sender_avatar: row.get("m_sender_avatar")?,
        content: row.get("m_content")?,
        reply_to,
        client_id: row.get("m_client_id")?,
        created_at: Timestamp::from_millis(row.get("m_created_at")?),
        kind: message_kind(row.get("m_kind")?, row.get("m_system")?)?,
        edited_at: row.get::<Option<i64>>("m_edited_at")?.map(Timestamp::from_millis),
        deleted_at: row.get::<Option<i64>>("m_deleted_at")?.map(Timestamp::from_millis),
        forwarded: row.get::<i64>("m_forwarded")? != 0,
        // Read by `message_with_reactions`, from the statements that select them.
        reactions: Vec::new(),
        attachment: attachment(row)?,
    };
    Ok((message, Seq(row.get("m_event_seq")?)))
}

/// As [`message`], for a row that has [`MESSAGE_REACTIONS`] too.
pub fn message_with_reactions<B: Backend>(row: &Row<B>) -> StoreResult<(Message, Seq)> {
    let (mut message, seq) = message(row)?;
    message.reactions = reactions(row)?;
    Ok((message, seq))
}

/// The reactions of a row's [`MESSAGE_REACTIONS`] column (none for a row without a message).
pub fn reactions<B: Backend>(row: &Row<B>) -> StoreResult<Vec<Reaction>> {
    match row.get::<Option<String>>("m_reactions")? {
        Some(column) => crate::reactions::parse(&column),
        None => Ok(Vec::new()),
    }
}

/// The attachment columns of a message row (or of [`crate::attachments`]' own selects).
pub fn attachment<B: Backend>(row: &Row<B>) -> StoreResult<Option<Attachment>> {
    let Some(id) = row.get::<Option<i64>>("a_id")? else { return Ok(None) };
    let kind: String = row.get("a_kind")?;
    Ok(Some(Attachment {
        id: AttachmentId(id),
        kind: AttachmentKind::parse(&kind).ok_or_else(|| corrupt(format!("unknown attachment kind {kind:?}")))?,
        file_name: row.get("a_file_name")?,
        content_type: row.get("a_content_type")?,
        size: row.get("a_size")?,
        width: row.get("a_width")?,
        height: row.get("a_height")?,
        has_thumbnail: row.get::<Option<String>>("a_thumbnail_key")?.is_some(),
        expired: row.get::<Option<i64>>("a_expired_at")?.is_some(),
    }))
}

pub fn conversation<B: Backend>(row: &Row<B>) -> StoreResult<Conversation> {
    let kind: String = row.get("c_kind")?;
    Ok(Conversation {
        id: ConversationId(row.get("c_id")?),
        kind: ConversationKind::parse(&kind).ok_or_else(|| corrupt(format!("unknown conversation kind {kind:?}")))?,
        title: row.get("c_title")?,
        avatar: row.get("c_avatar")?,
        context: match (row.get::<Option<String>>("c_context_type")?, row.get::<Option<String>>("c_context_id")?) {
            (Some(kind), Some(external_id)) => Some(Context { kind, external_id, title: row.get("c_context_title")? }),
            _ => None,
        },
        archived_at: row.get::<Option<i64>>("c_archived_at")?.map(Timestamp::from_millis),
        created_at: Timestamp::from_millis(row.get("c_created_at")?),
        last_activity_at: Timestamp::from_millis(row.get("c_last_activity_at")?),
        last_message_seq: Seq(row.get("c_last_message_seq")?),
        last_event_seq: Seq(row.get("c_last_event_seq")?),
        retention_secs: row.get("c_retention_secs")?,
        legal_hold: row.get::<Option<i64>>("c_legal_hold_at")?.is_some(),
    })
}

pub fn membership<B: Backend>(row: &Row<B>) -> StoreResult<Membership> {
    let role: String = row.get("mb_role")?;
    let visible_message: Option<i64> = row.get("mb_visible_message_seq")?;
    let visible_event: Option<i64> = row.get("mb_visible_event_seq")?;
    Ok(Membership {
        role: Role::parse(&role).map_err(|e| corrupt(e.to_string()))?,
        active: row.get::<i64>("mb_active")? != 0,
        visible_until: visible_message.zip(visible_event).map(|(m, e)| (Seq(m), Seq(e))),
        muted: row.get::<i64>("mb_muted")? != 0,
    })
}

/// A user id in the first column.
pub fn user_id<B: Backend>(row: &Row<B>) -> StoreResult<UserId> {
    row.get(0).map(UserId)
}

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
        ("call", Some(json)) => {
            let v: serde_json::Value = serde_json::from_str(&json).map_err(|e| corrupt(e.to_string()))?;
            let media = v["media"].as_str().and_then(CallMedia::parse).ok_or_else(|| corrupt("call media".into()))?;
            let outcome =
                v["outcome"].as_str().and_then(CallOutcome::parse).ok_or_else(|| corrupt("call outcome".into()))?;
            Ok(MessageKind::Call(CallRecord {
                media,
                outcome,
                duration_secs: v["duration_secs"].as_u64().unwrap_or_default(),
                participants: v["participants"]
                    .as_array()
                    .map(|ids| ids.iter().filter_map(serde_json::Value::as_i64).map(UserId).collect())
                    .unwrap_or_default(),
            }))
        }
        (other, _) => Err(corrupt(format!("unknown message kind {other:?}"))),
    }
}

/// The JSON stored for a call message (in the `system` column, which holds each non-text
/// kind's details).
pub fn call_json(record: &CallRecord) -> String {
    serde_json::json!({
        "media": record.media.as_str(),
        "outcome": record.outcome.as_str(),
        "duration_secs": record.duration_secs,
        "participants": record.participants.iter().map(|u| u.0).collect::<Vec<_>>(),
    })
    .to_string()
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

/// Data the store cannot read back: a bug or a hand-edited database.
pub fn corrupt(what: String) -> StoreError {
    StoreError::Backend(what.into())
}
