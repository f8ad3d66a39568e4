//! Reactions: loading them for a page of messages in one query, and toggling one.

use std::collections::HashMap;

use parlor_core::{ConversationEvent, Emoji, EventKind, Message, MessageId, Reaction, Timestamp, UserId};
use parlor_store::{StoreError, StoreResult};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::rows::{self, db};

/// Fills in `reactions` for every message, emoji by emoji in the order first used.
pub(crate) async fn attach(conn: &mut PgConnection, messages: &mut [Message]) -> StoreResult<()> {
    if messages.is_empty() {
        return Ok(());
    }
    let mut q: QueryBuilder<Postgres> =
        QueryBuilder::new("SELECT message_id, emoji, user_id FROM reactions WHERE message_id IN (");
    let mut list = q.separated(", ");
    for m in messages.iter() {
        list.push_bind(m.id.0);
    }
    q.push(") ORDER BY message_id, created_at, user_id");
    let mut by_message: HashMap<i64, Vec<Reaction>> = HashMap::new();
    for row in q.build().fetch_all(conn).await.map_err(db)? {
        let emoji: String = rows::get(&row, 1)?;
        let user = UserId(rows::get(&row, 2)?);
        let list = by_message.entry(rows::get(&row, 0)?).or_default();
        match list.iter_mut().find(|r| r.emoji == emoji) {
            Some(reaction) => reaction.user_ids.push(user),
            None => list.push(Reaction { emoji, user_ids: vec![user] }),
        }
    }
    for m in messages.iter_mut() {
        m.reactions = by_message.remove(&m.id.0).unwrap_or_default();
    }
    Ok(())
}

pub(crate) async fn toggle(
    conn: &mut PgConnection,
    id: MessageId,
    user: UserId,
    emoji: &Emoji,
) -> StoreResult<ConversationEvent> {
    let row = sqlx::query(
        "SELECT m.conversation_id, m.deleted_at, c.archived_at FROM messages m \
         JOIN conversations c ON c.id = m.conversation_id WHERE m.id = $1",
    )
    .bind(id.0)
    .fetch_optional(&mut *conn)
    .await
    .map_err(db)?
    .ok_or(StoreError::NotFound)?;
    let conversation: i64 = rows::get(&row, 0)?;
    crate::lock_conversations(conn, &[conversation]).await?;
    if rows::get::<Option<i64>, _>(&row, 1)?.is_some() {
        return Err(StoreError::NotFound);
    }
    if rows::get::<Option<i64>, _>(&row, 2)?.is_some() {
        return Err(StoreError::Rule("archived"));
    }
    let removed = sqlx::query("DELETE FROM reactions WHERE message_id = $1 AND emoji = $2 AND user_id = $3")
        .bind(id.0)
        .bind(emoji.as_str())
        .bind(user.0)
        .execute(&mut *conn)
        .await
        .map_err(db)?
        .rows_affected();
    let now = Timestamp::now();
    let added = removed == 0;
    if added {
        sqlx::query("INSERT INTO reactions (message_id, emoji, user_id, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id.0)
            .bind(emoji.as_str())
            .bind(user.0)
            .bind(now.as_millis())
            .execute(&mut *conn)
            .await
            .map_err(db)?;
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
