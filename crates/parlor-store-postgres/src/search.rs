//! Full-text search over messages: the GIN index of migration 0002, which PostgreSQL keeps
//! current in the statement that changes a message.

use std::collections::HashMap;

use parlor_core::{Message, MessageHit, MessageId};
use parlor_store::{MessageSearch, StoreResult};
use parlor_store_sql::rows::{MESSAGE_COLUMNS, MESSAGE_JOINS, MESSAGE_REACTIONS};
use parlor_store_sql::search::push_message_filters;
use parlor_store_sql::search_page::Candidate;
use parlor_store_sql::{Conn, Statement, sql};

use crate::PostgresBackend;

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

/// The newest `n` matches the user may read, each with its `ts_rank` (normalization 1: divided
/// by 1 + the log of the message's length; it weighs only the message itself, so a window is
/// ranked on its own). `ORDER BY m.id DESC LIMIT` lets the
/// planner walk the messages newest first and stop, where the matches are many, or read the
/// GIN index and sort what it found, where they are few.
pub(crate) async fn candidates(
    conn: &mut Conn<'_, PostgresBackend>,
    search: &MessageSearch,
    n: usize,
) -> StoreResult<Vec<Candidate>> {
    let mut q = with_query(search);
    q.push(format!(
        " SELECT m.id AS id, m.created_at AS created_at, round(ts_rank({DOCUMENT}, query.tsq, 1) * 1e6)::int8 AS score \
         FROM query, messages m JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = "
    ));
    q.push_bind(search.user.0);
    q.push(format!(" WHERE {DOCUMENT} @@ query.tsq"));
    if let Some(below) = search.below {
        q.push(" AND m.id < ").push_bind(below.0);
    }
    // The index's predicate is among the filters (no deleted or system messages).
    push_message_filters(&mut q, search);
    q.push(" ORDER BY m.id DESC LIMIT ").push_bind(i64::try_from(n).unwrap_or(i64::MAX));
    let found = q.fetch_all(conn).await?;
    found
        .iter()
        .map(|row| {
            Ok(Candidate {
                id: MessageId(row.get("id")?),
                created_at: row.get("created_at")?,
                score: row.get::<i64>("score")? as f64,
                length: 0.0,
                snippet: None,
            })
        })
        .collect()
}

/// The page's messages; snippets come from `ts_headline` for the page only, then are marked as
/// cut where they do not reach the message's start or end.
pub(crate) async fn hits(
    conn: &mut Conn<'_, PostgresBackend>,
    search: &MessageSearch,
    page: Vec<Candidate>,
) -> StoreResult<Vec<MessageHit>> {
    let mut q = with_query(search);
    q.push(format!(
        " SELECT {MESSAGE_COLUMNS}, {MESSAGE_REACTIONS}, ts_headline('parlor_search', {WORDS_ONLY}, query.tsq, "
    ));
    q.push_bind(format!(
        "StartSel={}, StopSel={}, ShortWord=0, MaxWords={SNIPPET_WORDS}, MinWords={}",
        MessageHit::MATCH_START,
        MessageHit::MATCH_END,
        SNIPPET_WORDS / 2
    ));
    q.push(format!(") AS s_snippet FROM query, messages m {MESSAGE_JOINS} WHERE m.id IN ("));
    // Deleted since it was found stays unfound, whatever the caller's transaction.
    q.push_list(page.iter().map(|c| c.id.0)).push(") AND m.deleted_at IS NULL");
    let found = q.fetch_all(conn).await?;
    let mut messages = Vec::with_capacity(found.len());
    let mut snippets = HashMap::with_capacity(found.len());
    for row in &found {
        let (message, _) = parlor_store_sql::rows::message_with_reactions(row)?;
        let headline: String = row.get("s_snippet")?;
        snippets.insert(message.id, ellipsize(&restore(&headline, &message.content), &message.content));
        messages.push(message);
    }
    let mut by_id: HashMap<MessageId, Message> = messages.into_iter().map(|m| (m.id, m)).collect();
    Ok(page
        .iter()
        .filter_map(|c| {
            Some(MessageHit { message: by_id.remove(&c.id)?, snippet: snippets.remove(&c.id).unwrap_or_default() })
        })
        .collect())
}

/// `WITH` the search's terms and its tsquery, made once.
fn with_query(search: &MessageSearch) -> Statement<'_> {
    let mut q = sql("WITH q AS (SELECT ARRAY[");
    q.push_list(search.query.terms().iter().map(String::as_str));
    q.push(format!("]::text[] AS terms), query AS MATERIALIZED ({QUERY})"));
    q
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

#[cfg(test)]
mod tests {
    use super::*;

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
