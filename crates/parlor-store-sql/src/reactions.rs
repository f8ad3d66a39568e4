//! Reactions: reading them from a message row's reactions column, and toggling one.

use parlor_core::{ConversationEvent, Emoji, EventKind, MessageId, Reaction, Timestamp, UserId};
use parlor_store::{StoreError, StoreResult};

use crate::backend::Backend;
use crate::statement::{Conn, sql};

/// The reactions of [`crate::rows::MESSAGE_REACTIONS`]' column (`emoji user emoji user ...`, in
/// the order they were made): emoji by emoji in the order first used.
pub fn parse(column: &str) -> StoreResult<Vec<Reaction>> {
    let mut list: Vec<Reaction> = Vec::new();
    let mut words = column.split(' ');
    while let (Some(emoji), Some(user)) = (words.next(), words.next()) {
        let user = UserId(user.parse().map_err(|_| crate::rows::corrupt(format!("a reaction's user {user:?}")))?);
        match list.iter_mut().find(|r| r.emoji == emoji) {
            Some(reaction) => reaction.user_ids.push(user),
            None => list.push(Reaction { emoji: emoji.to_owned(), user_ids: vec![user] }),
        }
    }
    Ok(list)
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
