//! Reactions: loading them for a page of messages in one query, and toggling one.

use std::collections::HashMap;

use parlor_core::{ConversationEvent, Emoji, EventKind, Message, MessageId, Reaction, Timestamp, UserId};
use parlor_store::{StoreError, StoreResult};

use crate::backend::Backend;
use crate::statement::{Conn, sql};

/// Fills in `reactions` for every message, emoji by emoji in the order first used.
pub async fn attach<B: Backend>(conn: &mut Conn<'_, B>, messages: &mut [Message]) -> StoreResult<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let mut q = sql("SELECT message_id, emoji, user_id FROM reactions WHERE message_id IN (");
    q.push_list(messages.iter().map(|m| m.id.0)).push(") ORDER BY message_id, created_at, user_id, emoji");
    let mut by_message: HashMap<i64, Vec<Reaction>> = HashMap::new();
    for row in q.fetch_all(conn).await? {
        add(by_message.entry(row.get(0)?).or_default(), row.get(1)?, UserId(row.get(2)?));
    }
    for m in messages.iter_mut() {
        m.reactions = by_message.remove(&m.id.0).unwrap_or_default();
    }
    Ok(())
}

/// The reactions of [`crate::rows::MESSAGE_REACTIONS`]' column: `emoji user emoji user ...`.
pub fn parse(column: &str) -> StoreResult<Vec<Reaction>> {
    let mut list = Vec::new();
    let mut words = column.split(' ');
    while let (Some(emoji), Some(user)) = (words.next(), words.next()) {
        let user = user.parse().map_err(|_| crate::rows::corrupt(format!("a reaction's user {user:?}")))?;
        add(&mut list, emoji.to_owned(), UserId(user));
    }
    Ok(list)
}

/// Adds one user's reaction to a message's list, emoji by emoji in the order first used.
fn add(list: &mut Vec<Reaction>, emoji: String, user: UserId) {
    match list.iter_mut().find(|r| r.emoji == emoji) {
        Some(reaction) => reaction.user_ids.push(user),
        None => list.push(Reaction { emoji, user_ids: vec![user] }),
    }
}

pub async fn toggle<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: MessageId,
    user: UserId,
    emoji: &Emoji,
) -> StoreResult<ConversationEvent> {
    let row = sql("SELECT m.conversation_id, m.deleted_at, c.archived_at FROM messages m \
         JOIN conversations c ON c.id = m.conversation_id WHERE m.id = $1")
    .bind(id.0)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let conversation: i64 = row.get(0)?;
    B::lock_conversations(conn, &[conversation]).await?;
    if row.get::<Option<i64>>(1)?.is_some() {
        return Err(StoreError::NotFound);
    }
    if row.get::<Option<i64>>(2)?.is_some() {
        return Err(StoreError::Rule("archived"));
    }
    let removed = sql("DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3")
        .bind(id.0)
        .bind(emoji.as_str())
        .bind(user.0)
        .execute(conn)
        .await?;
    let now = Timestamp::now();
    let added = removed == 0;
    if added {
        sql("INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id.0)
            .bind(emoji.as_str())
            .bind(user.0)
            .bind(now.as_millis())
            .execute(conn)
            .await?;
    }
    let data = serde_json::json!({ "emoji": emoji.as_str(), "added": added }).to_string();
    let seq =
        crate::events::log(conn, conversation, "reaction_changed", Some(id.0), Some(user.0), Some(data), now).await?;
    let mut message = crate::messages::with_event_seq(conn, id).await?.ok_or(StoreError::NotFound)?.0;
    Ok(ConversationEvent {
        conversation_id: message.conversation_id,
        seq,
        at: now,
        kind: EventKind::ReactionChanged {
            message_id: id,
            user_id: user,
            emoji: emoji.as_str().to_owned(),
            added,
            reactions: std::mem::take(&mut message.reactions),
        },
    })
}
