//! What a former member sees: the conversation as it was when they left. Their reads already
//! stop at their departure (`visible_message_seq`, `visible_event_seq`); this undoes what
//! happened after it to the messages they still see and to the room, from the event log and the
//! versions kept of every edit and delete: text, edit and delete marks, reactions, reply
//! quotes, and the room's title, picture and archived flag. (A file deleted since is gone: its
//! message shows as it was, without it.)

use std::collections::HashMap;

use parlor_core::{ConversationId, Message, MessageId, Reaction, ReplyPreview, Seq, Timestamp, UserId};
use parlor_store::{RoomLook, StoreResult};

use crate::backend::Backend;
use crate::statement::{Conn, sql};

/// What one message was at the cutoff, where something changed it since.
#[derive(Default)]
struct Then {
    /// Edits and deletes logged up to the cutoff, and after it.
    changes_before: usize,
    changed_after: bool,
    /// Reaction events up to the cutoff, in order: (user, emoji, added).
    reactions: Vec<(UserId, String, bool)>,
    reacted_after: bool,
}

/// Rewrites `messages` (all of conversation `id`) as they were at event `cutoff`.
pub async fn messages_as_of<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: ConversationId,
    cutoff: Seq,
    messages: &mut [Message],
) -> StoreResult<()> {
    let mut ids: Vec<i64> =
        messages.iter().flat_map(|m| std::iter::once(m.id.0).chain(m.reply_to.as_ref().map(|r| r.id.0))).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(());
    }
    let mut q = sql("SELECT message_id, seq, kind, actor_id, data FROM events WHERE conversation_id = $1 \
         AND kind IN ('message_edited', 'message_deleted', 'reaction_changed') AND message_id IN (")
    .bind(id.0);
    q.push_list(ids.iter().copied()).push(") ORDER BY seq");
    let mut then: HashMap<i64, Then> = HashMap::new();
    for row in q.fetch_all(conn).await? {
        let (message, seq, kind): (i64, i64, String) = (row.get(0)?, row.get(1)?, row.get(2)?);
        let entry = then.entry(message).or_default();
        let before = seq <= cutoff.0;
        if kind == "reaction_changed" {
            if before {
                let data: Option<String> = row.get(4)?;
                let data: serde_json::Value = serde_json::from_str(data.as_deref().unwrap_or("{}")).unwrap_or_default();
                let emoji = data["emoji"].as_str().unwrap_or_default().to_owned();
                entry.reactions.push((UserId(row.get(3)?), emoji, data["added"].as_bool().unwrap_or_default()));
            } else {
                entry.reacted_after = true;
            }
        } else if before {
            entry.changes_before += 1;
        } else {
            entry.changed_after = true;
        }
    }
    then.retain(|_, t| t.changed_after || t.reacted_after);
    if then.is_empty() {
        return Ok(());
    }
    // The text each changed message had then: the version its next change replaced (version
    // n+1 after n changes), and when the last change before the cutoff was made.
    let changed: Vec<i64> = then.iter().filter(|(_, t)| t.changed_after).map(|(id, _)| *id).collect();
    let mut versions: HashMap<(i64, i64), (String, i64)> = HashMap::new();
    if !changed.is_empty() {
        let mut q = sql("SELECT message_id, version, content, replaced_at FROM message_versions WHERE message_id IN (");
        q.push_list(changed.iter().copied()).push(")");
        for row in q.fetch_all(conn).await? {
            versions.insert((row.get(0)?, row.get(1)?), (row.get(2)?, row.get(3)?));
        }
    }
    let text_then = |id: MessageId| -> Option<(String, Option<Timestamp>)> {
        let t = then.get(&id.0).filter(|t| t.changed_after)?;
        let n = i64::try_from(t.changes_before).unwrap_or(i64::MAX);
        let (content, _) = versions.get(&(id.0, n + 1))?;
        let edited = versions.get(&(id.0, n)).map(|(_, at)| Timestamp::from_millis(*at));
        Some((content.clone(), edited))
    };
    for message in messages.iter_mut() {
        if let Some((content, edited_at)) = text_then(message.id) {
            message.content = content;
            message.edited_at = edited_at;
            message.deleted_at = None;
        }
        if let Some(t) = then.get(&message.id.0).filter(|t| t.reacted_after || t.changed_after) {
            message.reactions = replay(&t.reactions);
        }
        if let Some(reply) = message.reply_to.as_mut()
            && let Some((content, _)) = text_then(reply.id)
        {
            reply.content = content.chars().take(ReplyPreview::MAX_CHARS).collect();
            reply.deleted = false;
        }
    }
    Ok(())
}

/// Reactions as the events up to the cutoff left them, emoji by emoji in the order first used.
fn replay(events: &[(UserId, String, bool)]) -> Vec<Reaction> {
    let mut reactions: Vec<Reaction> = Vec::new();
    for (user, emoji, added) in events {
        match (reactions.iter_mut().find(|r| &r.emoji == emoji), added) {
            (Some(r), true) if !r.user_ids.contains(user) => r.user_ids.push(*user),
            (Some(r), false) => r.user_ids.retain(|u| u != user),
            (None, true) => reactions.push(Reaction { emoji: emoji.clone(), user_ids: vec![*user] }),
            _ => {}
        }
    }
    reactions.retain(|r| !r.user_ids.is_empty());
    reactions
}

/// The room's title, picture and archived flag at event `cutoff`, if they changed since.
pub async fn look_as_of<B: Backend>(
    conn: &mut Conn<'_, B>,
    id: ConversationId,
    cutoff: Seq,
) -> StoreResult<Option<RoomLook>> {
    // The last change up to the cutoff says what they were; the first after it says what they
    // were before it (`before`, logged since issue 17; older entries lack it).
    let after = sql("SELECT data FROM events WHERE conversation_id = $1 AND kind = 'conversation_updated' \
                     AND seq > $2 ORDER BY seq LIMIT 1")
    .bind(id.0)
    .bind(cutoff.0)
    .fetch_optional(conn)
    .await?;
    let Some(after) = after else { return Ok(None) };
    let last_before =
        sql("SELECT data, created_at FROM events WHERE conversation_id = $1 AND kind = 'conversation_updated' \
                           AND seq <= $2 ORDER BY seq DESC LIMIT 1")
        .bind(id.0)
        .bind(cutoff.0)
        .fetch_optional(conn)
        .await?;
    let parse = |raw: Option<String>| -> serde_json::Value {
        serde_json::from_str(raw.as_deref().unwrap_or("{}")).unwrap_or_default()
    };
    let (state, since) = match last_before {
        Some(row) => (parse(row.get(0)?), Some(Timestamp::from_millis(row.get(1)?))),
        None => (parse(after.get(0)?)["before"].clone(), None),
    };
    if !state.is_object() {
        // Logged before `before` was: nothing to go back to.
        return Ok(None);
    }
    Ok(Some(RoomLook {
        title: state["title"].as_str().map(str::to_owned),
        avatar: state["avatar"].as_str().map(str::to_owned),
        archived: state["archived"].as_bool().unwrap_or_default(),
        since,
    }))
}
