//! Storing and reading messages. `append` runs inside the batch writer's transaction;
//! `insert` is shared with system messages (rooms) and forwarding.

use parlor_core::{
    CallRecord, ConversationEvent, ConversationId, EventKind, Message, MessageBody, MessageId, MessageKind,
    NewAttachment, NewMessage, Seq, SystemEvent, Timestamp, UserId,
};
use parlor_store::{Appended, StoreError, StoreResult};

use crate::backend::Backend;
use crate::chain;
use crate::rows::{self, MESSAGE_COLUMNS, MESSAGE_JOINS, MESSAGE_REACTIONS};
use crate::statement::{Conn, sql};

/// Runs in the batch writer, which has made sure (one writer, or the conversation's row
/// locked first) that the `client_id` check and the insert below happen as one step.
pub async fn append<B: Backend>(conn: &mut Conn<'_, B>, new: NewMessage) -> StoreResult<Appended> {
    let conversation = new.conversation_id;
    let member = sql("SELECT c.archived_at FROM members mb JOIN conversations c ON c.id = mb.conversation_id \
         WHERE mb.conversation_id = $1 AND mb.user_id = $2 AND mb.active = 1")
    .bind(conversation.0)
    .bind(new.sender_id.0)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let archived = member.get::<Option<i64>>(0)?.is_some();

    if let Some(client_id) = &new.client_id {
        let earlier = sql("SELECT id FROM messages WHERE conversation_id = $1 AND sender_id = $2 AND client_id = $3")
            .bind(conversation.0)
            .bind(new.sender_id.0)
            .bind(client_id.as_str())
            .fetch_optional(conn)
            .await?;
        if let Some(row) = earlier {
            let (message, event_seq) =
                with_event_seq(conn, MessageId(row.get(0)?)).await?.ok_or(StoreError::NotFound)?;
            let event = ConversationEvent {
                conversation_id: conversation,
                seq: event_seq,
                at: message.created_at,
                kind: EventKind::MessageCreated(message),
            };
            return Ok(Appended { event, duplicate: true });
        }
    }

    if archived {
        return Err(StoreError::Rule("archived"));
    }

    if let Some(reply_to) = new.reply_to {
        let target = sql("SELECT 1 FROM messages WHERE id = $1 AND conversation_id = $2")
            .bind(reply_to.0)
            .bind(conversation.0)
            .fetch_optional(conn)
            .await?;
        if target.is_none() {
            return Err(StoreError::InvalidReference("reply_to"));
        }
    }

    let insert = Insert {
        conversation,
        sender: new.sender_id,
        content: new.body.as_str(),
        kind: &MessageKind::Text,
        reply_to: new.reply_to,
        client_id: new.client_id.as_ref().map(|c| c.as_str()),
        forwarded: new.forwarded,
        attachment: new.attachment.as_ref(),
    };
    insert_message(conn, insert).await.map(|event| Appended { event, duplicate: false })
}

/// A message about to be stored, already checked.
pub struct Insert<'a> {
    pub conversation: ConversationId,
    pub sender: UserId,
    pub content: &'a str,
    pub kind: &'a MessageKind,
    pub reply_to: Option<MessageId>,
    pub client_id: Option<&'a str>,
    pub forwarded: bool,
    pub attachment: Option<&'a NewAttachment>,
}

/// Numbers and stores a message and its `message_created` event, and moves the sender's read
/// position to it (whoever writes has read everything before it).
pub async fn insert_message<B: Backend>(conn: &mut Conn<'_, B>, new: Insert<'_>) -> StoreResult<ConversationEvent> {
    let now = Timestamp::now().as_millis();
    let counters =
        sql("UPDATE conversations SET last_message_seq = last_message_seq + 1, last_event_seq = last_event_seq + 1, \
         last_activity_at = $1 WHERE id = $2 RETURNING last_message_seq, last_event_seq, last_event_hash")
        .bind(now)
        .bind(new.conversation.0)
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let seq: i64 = counters.get(0)?;
    let event_seq: i64 = counters.get(1)?;
    let last_hash: Option<String> = counters.get(2)?;
    let (kind, system) = match new.kind {
        MessageKind::Text => ("text", None),
        MessageKind::System(event) => ("system", Some(rows::system_json(event))),
        MessageKind::Call(record) => ("call", Some(rows::call_json(record))),
    };

    let inserted = sql(
        "INSERT INTO messages (conversation_id, seq, event_seq, sender_id, content, reply_to, client_id, created_at, \
         kind, system, forwarded) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(new.conversation.0)
    .bind(seq)
    .bind(event_seq)
    .bind(new.sender.0)
    .bind(new.content)
    .bind(new.reply_to.map(|m| m.0))
    .bind(new.client_id)
    .bind(now)
    .bind(kind)
    .bind(system)
    .bind(i64::from(new.forwarded))
    .fetch_one(conn)
    .await?;
    let id: i64 = inserted.get(0)?;
    if let Some(attachment) = new.attachment {
        crate::attachments::insert(conn, MessageId(id), new.conversation, attachment, Timestamp::from_millis(now))
            .await?;
    }

    let metadata = chain::metadata(Some(id), Some(new.sender.0), now, None);
    let link =
        chain::link(&chain::previous(last_hash.as_deref())?, event_seq, "message_created", metadata, new.content);
    sql("UPDATE conversations SET last_message_id = $1, last_event_hash = $2 WHERE id = $3")
        .bind(id)
        .bind(link.hash.as_str())
        .bind(new.conversation.0)
        .execute(conn)
        .await?;
    sql("INSERT INTO events (conversation_id, seq, kind, message_id, actor_id, created_at, content_hash, metadata, \
         hash) VALUES ($1, $2, 'message_created', $3, $4, $5, $6, $7, $8)")
    .bind(new.conversation.0)
    .bind(event_seq)
    .bind(id)
    .bind(new.sender.0)
    .bind(now)
    .bind(link.content_hash)
    .bind(link.metadata)
    .bind(link.hash)
    .execute(conn)
    .await?;
    sql(format!(
        "UPDATE members SET last_read_seq = $1, delivered_seq = {}(delivered_seq, $1) \
         WHERE conversation_id = $2 AND user_id = $3 AND last_read_seq < $1",
        B::GREATEST
    ))
    .bind(seq)
    .bind(new.conversation.0)
    .bind(new.sender.0)
    .execute(conn)
    .await?;

    let (message, _) = with_event_seq(conn, MessageId(id)).await?.ok_or(StoreError::NotFound)?;
    Ok(ConversationEvent {
        conversation_id: new.conversation,
        seq: Seq(event_seq),
        at: message.created_at,
        kind: EventKind::MessageCreated(message),
    })
}

/// Stores a system message recording `event` in the conversation.
pub async fn insert_system<B: Backend>(
    conn: &mut Conn<'_, B>,
    conversation: ConversationId,
    event: SystemEvent,
    text: &str,
) -> StoreResult<Appended> {
    let actor = event.actor_id;
    let kind = MessageKind::System(event);
    let insert = Insert {
        conversation,
        sender: actor,
        content: text,
        kind: &kind,
        reply_to: None,
        client_id: None,
        forwarded: false,
        attachment: None,
    };
    insert_message(conn, insert).await.map(|event| Appended { event, duplicate: false })
}

/// A call's record, written by its caller when it ends.
pub async fn insert_call<B: Backend>(
    conn: &mut Conn<'_, B>,
    conversation: ConversationId,
    caller: UserId,
    record: &CallRecord,
) -> StoreResult<Appended> {
    let kind = MessageKind::Call(record.clone());
    let text = record.summary();
    let insert = Insert {
        conversation,
        sender: caller,
        content: &text,
        kind: &kind,
        reply_to: None,
        client_id: None,
        forwarded: false,
        attachment: None,
    };
    insert_message(conn, insert).await.map(|event| Appended { event, duplicate: false })
}

/// The host platform's notice, written by the system user.
pub async fn insert_notice<B: Backend>(
    conn: &mut Conn<'_, B>,
    conversation: ConversationId,
    text: &MessageBody,
) -> StoreResult<Appended> {
    let event = SystemEvent { action: "notice".into(), actor_id: UserId::SYSTEM, user_ids: Vec::new(), role: None };
    insert_system(conn, conversation, event, text.as_str()).await
}

pub async fn with_event_seq<B: Backend>(conn: &mut Conn<'_, B>, id: MessageId) -> StoreResult<Option<(Message, Seq)>> {
    let text = format!("SELECT {MESSAGE_COLUMNS}, {MESSAGE_REACTIONS} FROM messages m {MESSAGE_JOINS} WHERE m.id = $1");
    let row = sql(text).bind(id.0).fetch_optional(conn).await?;
    row.as_ref().map(rows::message_with_reactions).transpose()
}

pub async fn before<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: ConversationId,
    before: Option<Seq>,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    let text = format!(
        "SELECT {MESSAGE_COLUMNS}, {MESSAGE_REACTIONS} FROM messages m {MESSAGE_JOINS} \
         WHERE m.conversation_id = $1 AND m.seq < $2 ORDER BY m.seq DESC LIMIT $3"
    );
    let found = sql(text).bind(id.0).bind(before.map_or(i64::MAX, |s| s.0)).bind(limit).fetch_all(conn).await?;
    found.iter().map(|r| rows::message_with_reactions(r).map(|(m, _)| m)).collect()
}

pub async fn after<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: ConversationId,
    after: Seq,
    limit: u32,
) -> StoreResult<Vec<Message>> {
    let text = format!(
        "SELECT {MESSAGE_COLUMNS}, {MESSAGE_REACTIONS} FROM messages m {MESSAGE_JOINS} \
         WHERE m.conversation_id = $1 AND m.seq > $2 ORDER BY m.seq LIMIT $3"
    );
    let found = sql(text).bind(id.0).bind(after.0).bind(limit).fetch_all(conn).await?;
    found.iter().map(|r| rows::message_with_reactions(r).map(|(m, _)| m)).collect()
}
