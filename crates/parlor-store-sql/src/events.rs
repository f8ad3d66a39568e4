//! The per-conversation event log: appending entries, and reading them back for clients that
//! resume after a disconnect.

use std::collections::HashMap;

use parlor_core::{ConversationEvent, ConversationId, EventKind, MessageId, Seq, Timestamp, UserId};
use parlor_store::{StoreError, StoreResult};

use crate::backend::Backend;
use crate::chain;
use crate::rows::{self, MESSAGE_COLUMNS, MESSAGE_JOINS, MESSAGE_REACTIONS, corrupt};
use crate::statement::{Conn, Row, sql};

/// Appends an entry that is not a new message, numbering and chaining it; returns its seq.
pub async fn log<B: Backend>(
    conn: &mut Conn<'_, B>,
    conversation: i64,
    kind: &str,
    message_id: Option<i64>,
    actor: Option<i64>,
    data: Option<String>,
    at: Timestamp,
) -> StoreResult<Seq> {
    log_with_content(conn, conversation, kind, message_id, actor, data, "", at).await
}

/// [`log`] for an entry that carries content (an edit's new text), which its hash commits to.
#[expect(clippy::too_many_arguments, reason = "an event row's columns, each named at the call")]
pub async fn log_with_content<B: Backend>(
    conn: &mut Conn<'_, B>,
    conversation: i64,
    kind: &str,
    message_id: Option<i64>,
    actor: Option<i64>,
    data: Option<String>,
    content: &str,
    at: Timestamp,
) -> StoreResult<Seq> {
    let counter = sql("UPDATE conversations SET last_event_seq = last_event_seq + 1 WHERE id = $1 \
         RETURNING last_event_seq, last_event_hash")
    .bind(conversation)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let seq: i64 = counter.get(0)?;
    let last: Option<String> = counter.get(1)?;
    let metadata = chain::metadata(message_id, actor, at.as_millis(), data.as_deref());
    let link = chain::link(&chain::previous(last.as_deref())?, seq, kind, metadata, content);
    sql("UPDATE conversations SET last_event_hash = $1 WHERE id = $2")
        .bind(link.hash.as_str())
        .bind(conversation)
        .execute(conn)
        .await?;
    sql("INSERT INTO events (conversation_id, seq, kind, message_id, actor_id, data, created_at, content_hash, \
         metadata, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
    .bind(conversation)
    .bind(seq)
    .bind(kind)
    .bind(message_id)
    .bind(actor)
    .bind(data)
    .bind(at.as_millis())
    .bind(link.content_hash)
    .bind(link.metadata)
    .bind(link.hash)
    .execute(conn)
    .await?;
    Ok(Seq(seq))
}

pub async fn after<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: ConversationId,
    after: Seq,
    limit: u32,
) -> StoreResult<Vec<ConversationEvent>> {
    let text = format!(
        "SELECT e.seq AS e_seq, e.kind AS e_kind, e.actor_id AS e_actor_id, e.data AS e_data, e.created_at AS e_created_at, \
         e.message_id AS e_message_id, {MESSAGE_COLUMNS}, {MESSAGE_REACTIONS} FROM events e LEFT JOIN messages m ON m.id = e.message_id {} \
         WHERE e.conversation_id = $1 AND e.seq > $2 ORDER BY e.seq LIMIT $3",
        // The message joins must be LEFT here: most events are not messages.
        MESSAGE_JOINS.replacen("JOIN users su", "LEFT JOIN users su", 1)
    );
    let found = sql(text).bind(id.0).bind(after.0).bind(limit).fetch_all(conn).await?;
    // Messages and reaction changes carry the message's reactions as they are now.
    found.iter().map(|row| event(id, row)).collect()
}

fn event<B: Backend>(conversation_id: ConversationId, row: &Row<B>) -> StoreResult<ConversationEvent> {
    let kind: String = row.get("e_kind")?;
    let data = || -> StoreResult<serde_json::Value> {
        let raw: Option<String> = row.get("e_data")?;
        serde_json::from_str(raw.as_deref().unwrap_or("{}")).map_err(|e| corrupt(e.to_string()))
    };
    let actor = || -> StoreResult<UserId> { Ok(UserId(row.get("e_actor_id")?)) };
    let kind = match kind.as_str() {
        "message_created" => EventKind::MessageCreated(rows::message_with_reactions(row)?.0),
        "message_edited" => EventKind::MessageEdited(rows::message_with_reactions(row)?.0),
        "message_deleted" => {
            let d = data()?;
            EventKind::MessageDeleted {
                message_id: MessageId(row.get("e_message_id")?),
                message_seq: Seq(d["message_seq"].as_i64().unwrap_or_default()),
            }
        }
        "reaction_changed" => {
            let d = data()?;
            EventKind::ReactionChanged {
                message_id: MessageId(row.get("e_message_id")?),
                user_id: actor()?,
                emoji: d["emoji"].as_str().unwrap_or_default().to_owned(),
                added: d["added"].as_bool().unwrap_or_default(),
                reactions: rows::reactions(row)?,
            }
        }
        "messages_read" => {
            let d = data()?;
            EventKind::MessagesRead {
                user_id: actor()?,
                up_to: Seq(d["up_to"].as_i64().unwrap_or_default()),
                message_ids: d["message_ids"]
                    .as_array()
                    .map(|ids| ids.iter().filter_map(serde_json::Value::as_i64).map(MessageId).collect())
                    .unwrap_or_default(),
            }
        }
        "messages_delivered" => EventKind::MessagesDelivered {
            user_id: actor()?,
            up_to: Seq(data()?["up_to"].as_i64().unwrap_or_default()),
        },
        "conversation_updated" => {
            let d = data()?;
            EventKind::ConversationUpdated {
                title: d["title"].as_str().map(str::to_owned),
                avatar: d["avatar"].as_str().map(str::to_owned),
                archived: d["archived"].as_bool().unwrap_or_default(),
            }
        }
        other => return Err(corrupt(format!("unknown event kind {other:?}"))),
    };
    Ok(ConversationEvent {
        conversation_id,
        seq: Seq(row.get("e_seq")?),
        at: Timestamp::from_millis(row.get("e_created_at")?),
        kind,
    })
}

/// The newest event seq of each existing conversation of `ids` (see `Store::last_event_seqs`).
pub async fn last_seqs<B: Backend>(
    conn: &mut Conn<'_, B>,
    ids: &[ConversationId],
) -> StoreResult<HashMap<ConversationId, Seq>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut q = sql("SELECT id, last_event_seq FROM conversations WHERE id IN (");
    q.push_list(ids.iter().map(|id| id.0)).push(")");
    let found = q.fetch_all(conn).await?;
    found.iter().map(|r| Ok((ConversationId(r.get(0)?), Seq(r.get(1)?)))).collect()
}
