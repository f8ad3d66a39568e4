//! Full-text search over messages (the GIN index of migration 0002, which PostgreSQL keeps
//! current in the statement that changes a message) and finding a user's conversations by name.

use std::cmp::Reverse;
use std::collections::HashMap;

use parlor_core::{AttachmentFilter, ConversationId, ConversationOverview, MessageHit, SearchQuery, UserId};
use parlor_store::{MessageSearch, StoreResult};
use sqlx::{PgConnection, Postgres, QueryBuilder};

use crate::conversations::assemble;
use crate::reactions;
use crate::rows::{self, CONVERSATION_COLUMNS, MEMBERSHIP_COLUMNS, MESSAGE_COLUMNS, MESSAGE_JOINS, db};

/// Words a snippet of a long message keeps (PostgreSQL's `ts_headline` `MaxWords`).
const SNIPPET_WORDS: u32 = 24;

/// The tsquery of a search, built by PostgreSQL from the user's text, never parsed as syntax:
/// each term goes through `phraseto_tsquery` (plain text to a phrase of its words, by the same
/// parser, unaccenting and case folding as the index), the last word of a term of three or more
/// characters becomes a prefix (`:*`), a shorter term matches whole words only (a one- or
/// two-letter prefix would match a large part of the vocabulary), and all terms are required.
/// Terms with no word in them (`"`, `(`) are left out; with none left, nothing matches.
const QUERY: &str = "SELECT string_agg('(' || p.phrase || CASE WHEN char_length(t.term) >= 3 THEN ':*' ELSE '' END \
     || ')', ' & ')::tsquery AS tsq FROM q, unnest(q.terms) AS t(term), \
     LATERAL (SELECT phraseto_tsquery('parlor_search', regexp_replace(t.term, '[^[:alnum:]]', ' ', 'g'))::text AS phrase) p WHERE p.phrase <> ''";

/// The GIN-indexed document of a message (`migrations/0002_search.sql`): the same expression
/// and predicate as the index, so the planner uses it.
const DOCUMENT: &str = "to_tsvector('parlor_search', regexp_replace(m.content, '[^[:alnum:]]', ' ', 'g'))";

/// The text the index reads: each character that is not a letter or digit made a space.
const WORDS_ONLY: &str = "regexp_replace(m.content, '[^[:alnum:]]', ' ', 'g')";

/// Ranks in the database and loads the page; snippets come from `ts_headline` for the page
/// only, then are marked as cut where they do not reach the message's start or end.
pub(crate) async fn messages(conn: &mut PgConnection, search: &MessageSearch) -> StoreResult<Vec<MessageHit>> {
    let found = message_query(search).build().fetch_all(&mut *conn).await.map_err(db)?;
    let mut page = Vec::with_capacity(found.len());
    let mut snippets = Vec::with_capacity(found.len());
    for row in &found {
        let (message, _) = rows::message(row)?;
        let headline: String = rows::get(row, "s_snippet")?;
        snippets.push(ellipsize(&restore(&headline, &message.content), &message.content));
        page.push(message);
    }
    reactions::attach(conn, &mut page).await?;
    Ok(page.into_iter().zip(snippets).map(|(message, snippet)| MessageHit { message, snippet }).collect())
}

/// The headline with the message's own characters put back: it was made from the text with
/// punctuation turned into spaces, one character for one, so its characters (markers aside)
/// are a stretch of that text, found here and replaced by the same stretch of `content`.
fn restore(headline: &str, content: &str) -> String {
    let is_marker = |c: &char| *c == MessageHit::MATCH_START || *c == MessageHit::MATCH_END;
    let words_only: Vec<char> = content.chars().map(|c| if c.is_alphanumeric() { c } else { ' ' }).collect();
    let stretch: Vec<char> = headline.chars().filter(|c| !is_marker(c)).collect();
    let original: Vec<char> = content.chars().collect();
    let found = (0..=words_only.len().saturating_sub(stretch.len())).find(|&at| words_only[at..].starts_with(&stretch));
    // Should PostgreSQL and Rust ever disagree on what a letter is, the excerpt stays as
    // PostgreSQL made it.
    let Some(mut at) = found else { return headline.to_owned() };
    let mut out = String::with_capacity(headline.len());
    for c in headline.chars() {
        if is_marker(&c) {
            out.push(c);
        } else {
            out.push(original.get(at).copied().unwrap_or(c));
            at += 1;
        }
    }
    out
}

/// Adds "…" where the headline starts after the message's start or ends before its end.
fn ellipsize(headline: &str, content: &str) -> String {
    let plain: String =
        headline.chars().filter(|c| *c != MessageHit::MATCH_START && *c != MessageHit::MATCH_END).collect();
    let plain = plain.trim();
    let content = content.trim();
    let mut out = String::with_capacity(headline.len() + 6);
    if !content.starts_with(plain) {
        out.push('…');
    }
    out.push_str(headline.trim());
    if !content.ends_with(plain) {
        out.push('…');
    }
    out
}

fn message_query(search: &MessageSearch) -> QueryBuilder<'_, Postgres> {
    let terms: Vec<String> = search.query.terms().to_vec();
    let mut q: QueryBuilder<Postgres> = QueryBuilder::new("WITH q AS (SELECT ");
    q.push_bind(terms);
    q.push(format!(
        "::text[] AS terms), query AS MATERIALIZED ({QUERY}), \
         page AS MATERIALIZED (SELECT m.id AS id, ts_rank({DOCUMENT}, query.tsq) AS score, m.created_at AS created_at \
         FROM query, messages m JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = "
    ));
    q.push_bind(search.user.0);
    q.push(format!(" WHERE {DOCUMENT} @@ query.tsq"));
    // The index's predicate, and the rule history uses: former members read up to their departure.
    q.push(
        " AND m.deleted_at IS NULL AND m.kind <> 'system' \
         AND (mb.active = 1 OR m.seq <= mb.visible_message_seq)",
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
    q.push(" ORDER BY score DESC, m.created_at DESC, m.id DESC LIMIT ").push_bind(i64::from(search.limit));
    q.push(" OFFSET ").push_bind(i64::from(search.offset));
    q.push(format!(") SELECT {MESSAGE_COLUMNS}, ts_headline('parlor_search', {WORDS_ONLY}, query.tsq, "));
    q.push_bind(format!(
        "StartSel={}, StopSel={}, ShortWord=0, MaxWords={SNIPPET_WORDS}, MinWords={}",
        MessageHit::MATCH_START,
        MessageHit::MATCH_END,
        SNIPPET_WORDS / 2
    ));
    q.push(format!(
        ") AS s_snippet FROM query, page JOIN messages m ON m.id = page.id {MESSAGE_JOINS} \
         ORDER BY page.score DESC, page.created_at DESC, page.id DESC"
    ));
    q
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
/// folding is Rust's Unicode folding (as the SQLite store's), and only the best `limit` are
/// loaded as overviews.
pub(crate) async fn conversations(
    conn: &mut PgConnection,
    user: UserId,
    query: &SearchQuery,
    limit: u32,
) -> StoreResult<Vec<ConversationOverview>> {
    let candidates = sqlx::query(
        "SELECT c.id, c.title, c.context_title, u.display_name, u.username, c.last_activity_at \
         FROM members mb JOIN conversations c ON c.id = mb.conversation_id \
         LEFT JOIN members o ON c.kind = 'direct' AND o.conversation_id = c.id AND o.user_id <> mb.user_id \
         LEFT JOIN users u ON u.id = o.user_id \
         WHERE mb.user_id = $1",
    )
    .bind(user.0)
    .fetch_all(&mut *conn)
    .await
    .map_err(db)?;
    let needle = query.as_str().to_lowercase();
    let mut ranked: Vec<(u8, Reverse<i64>, Reverse<i64>)> = Vec::new();
    for row in &candidates {
        let names: [Option<String>; 4] =
            [rows::get(row, 1)?, rows::get(row, 2)?, rows::get(row, 3)?, rows::get(row, 4)?];
        if let Some(rank) = names.iter().flatten().filter_map(|n| name_rank(n, &needle)).min() {
            ranked.push((rank, Reverse(rows::get(row, 5)?), Reverse(rows::get(row, 0)?)));
        }
    }
    ranked.sort_unstable();
    ranked.truncate(limit as usize);
    if ranked.is_empty() {
        return Ok(Vec::new());
    }

    let mut q: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "SELECT {CONVERSATION_COLUMNS}, {MEMBERSHIP_COLUMNS}, mb.last_read_seq AS mb_last_read_seq \
         FROM conversations c JOIN members mb ON mb.conversation_id = c.id AND mb.user_id = "
    ));
    q.push_bind(user.0).push(" WHERE c.id IN (");
    let mut list = q.separated(", ");
    for (_, _, Reverse(id)) in &ranked {
        list.push_bind(*id);
    }
    q.push(")");
    let found = q.build().fetch_all(&mut *conn).await.map_err(db)?;
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

    #[test]
    fn excerpts_show_the_text_as_written() {
        let (s, e) = (MessageHit::MATCH_START, MessageHit::MATCH_END);
        let content = "<script>alert('sink')</script>";
        let headline = format!(" script {s}alert{e}  sink    script ");
        assert_eq!(restore(&headline, content), format!("<script>{s}alert{e}('sink')</script>"));
        assert_eq!(restore("no such text", content), "no such text", "unmatched: left as it was");
    }

    #[test]
    fn snippets_say_where_they_were_cut() {
        let (s, e) = (MessageHit::MATCH_START, MessageHit::MATCH_END);
        assert_eq!(ellipsize(&format!("a {s}b{e} c"), "a b c"), format!("a {s}b{e} c"));
        assert_eq!(ellipsize(&format!("{s}b{e} c"), "a b c"), format!("…{s}b{e} c"));
        assert_eq!(ellipsize(&format!("a {s}b{e}"), "a b c"), format!("a {s}b{e}…"));
    }
}
