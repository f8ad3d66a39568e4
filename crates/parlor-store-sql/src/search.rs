//! Finding a user's conversations by name, and what every message search asks besides its
//! words. (Matching the words is each backend's own: SQLite's FTS5 index, PostgreSQL's text
//! search.)

use std::cmp::Reverse;
use std::collections::HashMap;

use parlor_core::{AttachmentFilter, ConversationId, ConversationOverview, SearchQuery, Seq, UserId};
use parlor_store::{MessageSearch, StoreResult};

use crate::backend::Backend;
use crate::conversations::assemble;
use crate::rows::{CONVERSATION_COLUMNS, MEMBERSHIP_COLUMNS};
use crate::statement::{Conn, Statement, sql};

/// The conditions of a message search past its words, on `m` (the message) and `mb` (the
/// searcher's membership): the rule history uses (every message of a conversation they are in,
/// of one they left those up to their departure, unchanged since), never a deleted or system
/// message, then the search's own filters.
pub fn push_message_filters(q: &mut Statement<'_>, search: &MessageSearch) {
    // A former member's search covers the messages as they were when they left: one edited
    // since is not found by its new text (nor, the index holding no other, by its old one).
    q.push(
        " AND m.deleted_at IS NULL AND m.kind <> 'system' AND (mb.active = 1 OR (m.seq <= mb.visible_message_seq \
         AND NOT EXISTS (SELECT 1 FROM events e WHERE e.conversation_id = m.conversation_id \
         AND e.seq > mb.visible_event_seq AND e.message_id = m.id AND e.kind = 'message_edited')))",
    );
    if let Some(id) = search.conversation {
        q.push(" AND m.conversation_id = ").push_bind(id.0);
    }
    if let Some(sender) = search.sender {
        q.push(" AND m.sender_id = ").push_bind(sender.0);
    }
    if let Some(after) = search.after {
        q.push(" AND m.created_at > ").push_bind(after.as_millis());
    }
    if let Some(before) = search.before {
        q.push(" AND m.created_at < ").push_bind(before.as_millis());
    }
    match search.has {
        None => {}
        Some(AttachmentFilter::Any) => {
            q.push(" AND EXISTS (SELECT 1 FROM attachments x WHERE x.message_id = m.id)");
        }
        Some(AttachmentFilter::Kind(kind)) => {
            q.push(" AND EXISTS (SELECT 1 FROM attachments x WHERE x.message_id = m.id AND x.kind = ")
                .push_bind(kind.as_str())
                .push(")");
        }
    }
}

/// How well a name matches, at its best occurrence; lower is better.
fn name_rank(name: &str, query: &str) -> Option<u8> {
    let name = name.to_lowercase();
    let rank = |at: usize| match (at, name.len() == query.len()) {
        (0, true) => 0,
        (0, false) => 1,
        _ if name[..at].chars().next_back().is_some_and(|c| !c.is_alphanumeric()) => 2,
        _ => 3,
    };
    name.match_indices(query).map(|(at, _)| rank(at)).min()
}

/// A user has tens to thousands of conversations: their names are compared here, where case
/// folding is Rust's (Unicode; SQLite's `LIKE` folds ASCII only), and only the best `limit` are
/// loaded as overviews.
pub async fn conversations<B: Backend>(
    conn: &mut Conn<'_, B>,
    user: UserId,
    query: &SearchQuery,
    limit: u32,
) -> StoreResult<Vec<ConversationOverview>> {
    let candidates = sql("SELECT c.id, c.title, c.context_title, u.display_name, u.username, c.last_activity_at, \
         mb.visible_event_seq FROM members mb JOIN conversations c ON c.id = mb.conversation_id \
         LEFT JOIN members o ON c.kind = 'direct' AND o.conversation_id = c.id AND o.user_id <> mb.user_id \
         LEFT JOIN users u ON u.id = o.user_id \
         WHERE mb.user_id = $1")
    .bind(user.0)
    .fetch_all(conn)
    .await?;
    let needle = query.as_str().to_lowercase();
    let mut ranked: Vec<(u8, Reverse<i64>, Reverse<i64>)> = Vec::new();
    for row in &candidates {
        let mut names: [Option<String>; 4] = [row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?];
        // A room someone left is found by the name it had then (a later one would tell them).
        if let Some(cutoff) = row.get::<Option<i64>>(6)?
            && let Some(then) = crate::former::look_as_of(conn, ConversationId(row.get(0)?), Seq(cutoff)).await?
        {
            names[0] = then.title;
        }
        if let Some(rank) = names.iter().flatten().filter_map(|n| name_rank(n, &needle)).min() {
            ranked.push((rank, Reverse(row.get(5)?), Reverse(row.get(0)?)));
        }
    }
    ranked.sort_unstable();
    ranked.truncate(limit as usize);
    if ranked.is_empty() {
        return Ok(Vec::new());
    }

    let mut q = sql(format!(
        "SELECT {CONVERSATION_COLUMNS}, {MEMBERSHIP_COLUMNS}, mb.last_read_seq AS mb_last_read_seq \
         FROM conversations c JOIN members mb ON mb.conversation_id = c.id AND mb.user_id = "
    ));
    q.push_bind(user.0).push(" WHERE c.id IN (").push_list(ranked.iter().map(|(_, _, Reverse(id))| *id)).push(")");
    let found = q.fetch_all(conn).await?;
    let order: HashMap<ConversationId, usize> =
        ranked.iter().enumerate().map(|(i, (_, _, Reverse(id)))| (ConversationId(*id), i)).collect();
    let mut overviews = assemble(conn, &found).await?;
    overviews.sort_by_key(|o| order.get(&o.conversation.id).copied().unwrap_or(usize::MAX));
    Ok(overviews)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_names_beat_prefixes_beat_word_starts_beat_substrings() {
        assert_eq!(name_rank("Kitchen", "kitchen"), Some(0));
        assert_eq!(name_rank("Kitchen crew", "kitchen"), Some(1));
        assert_eq!(name_rank("The kitchen", "kitchen"), Some(2));
        assert_eq!(name_rank("Bigkitchen", "kitchen"), Some(3));
        assert_eq!(name_rank("Bigkitchen kitchen", "kitchen"), Some(2), "the best occurrence counts");
        assert_eq!(name_rank("Émile", "émile"), Some(0), "case folding is Unicode's");
        assert_eq!(name_rank("Bathroom", "kitchen"), None);
    }
}
