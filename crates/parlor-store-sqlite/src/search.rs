//! Full-text search over messages: the FTS5 index of migration 0005, kept current here and by
//! its triggers.
//!
//! **Invariant:** the index never lags a commit: every write transaction indexes the messages it
//! stored (`index_pending`, run before every commit of `SqlStore`'s transactions and by the
//! writer for every batch holding an append; receipt-only batches skip it), and triggers apply
//! edits and deletes in the statement that makes them.

use parlor_core::{Message, MessageHit, MessageId, SearchQuery};
use parlor_store::{MessageSearch, StoreResult};
use parlor_store_sql::rows::{MESSAGE_COLUMNS, MESSAGE_JOINS, MESSAGE_REACTIONS};
use parlor_store_sql::search::push_message_filters;
use parlor_store_sql::search_page::{Candidate, by_rank};
use parlor_store_sql::{Conn, Statement, sql};
use sqlx::{Row as _, SqliteConnection};

use crate::SqliteBackend;
use crate::rows::db;

/// Words of context a snippet keeps around the matches.
const SNIPPET_TOKENS: u32 = 24;

/// Most indexed words a prefix is turned into; a prefix starting more words is left to FTS5.
const MOST_WORDS: usize = 64;

/// Indexes the messages this transaction stored, and learns the words of what it indexed
/// (edits too, queued by their trigger) for [`prefix_words`]. Every write transaction calls it
/// before committing, so a search never misses a committed message.
pub(crate) async fn index_pending(conn: &mut SqliteConnection) -> StoreResult<()> {
    let indexed = sqlx::query(
        "INSERT INTO messages_fts (rowid, content) SELECT m.id, m.content FROM messages_fts_pending p \
         JOIN messages m ON m.id = p.message_id",
    )
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    if indexed.rows_affected() > 0 {
        sqlx::query(
            "INSERT INTO messages_fts_words_pending (rowid, content) SELECT m.id, m.content \
             FROM messages_fts_pending p JOIN messages m ON m.id = p.message_id",
        )
        .execute(&mut *conn)
        .await
        .map_err(db)?;
        sqlx::query("DELETE FROM messages_fts_pending").execute(&mut *conn).await.map_err(db)?;
    }
    let learnt = sqlx::query(
        "INSERT OR IGNORE INTO messages_fts_words (word) SELECT term FROM messages_fts_words_pending_vocab",
    )
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    // Emptying the queue rewrites its structure record: only when something was queued.
    if indexed.rows_affected() > 0 || learnt.rows_affected() > 0 || has_queued_words(conn).await? {
        sqlx::query("INSERT INTO messages_fts_words_pending (messages_fts_words_pending) VALUES ('delete-all')")
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    Ok(())
}

async fn has_queued_words(conn: &mut SqliteConnection) -> StoreResult<bool> {
    let row = sqlx::query("SELECT EXISTS (SELECT 1 FROM messages_fts_words_pending_vocab)")
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    row.try_get::<bool, _>(0).map_err(db)
}

/// Rewrites the index into one segment, leaving out every deleted entry: FTS5 deletes only mark
/// an entry, and its words stay in the segments until a merge rewrites them. Then forgets the
/// words the index no longer holds. An erasure calls it so that the erased words leave the
/// database file. (FTS5's `secure-delete` option would do it per delete, but on SQLite 3.46.0
/// it corrupts the index when a row is deleted and indexed again in one transaction, as every
/// edit does: `changes_before_the_queue_drains_leave_the_index_exact` fails with it.) Its cost
/// grows with the index, so it is for rare operations only.
pub(crate) async fn scrub(conn: &mut SqliteConnection) -> StoreResult<()> {
    sqlx::query("INSERT INTO messages_fts (messages_fts) VALUES ('optimize')").execute(&mut *conn).await.map_err(db)?;
    forget_unindexed_words(conn).await
}

/// Forgets the words [`prefix_words`] knows that no indexed message holds any more: an erasure
/// and a retention sweep call it, so an erased message's words do not outlive it. One pass
/// over the index's terms, so not for every delete.
pub(crate) async fn forget_unindexed_words(conn: &mut SqliteConnection) -> StoreResult<()> {
    sqlx::query("DELETE FROM messages_fts_words WHERE word NOT IN (SELECT term FROM messages_fts_vocab)")
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    Ok(())
}

/// A term as FTS5 text: a quoted phrase (quotes doubled, so nothing the user types is read as
/// FTS5 syntax).
fn phrase(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// The FTS5 expression for a query, all terms required; `None` when a term can match nothing.
/// A term under three characters matches whole words. From three on, its last word matches as
/// a prefix, and the prefix is turned into the indexed words it starts (`"kaka" OR "kakas"`):
/// FTS5 reads those lazily, newest first, where a prefix query (`"kaka"*`) would first merge
/// the entries of all of them, in the whole index, into one list. A term that is not plain
/// ASCII, whose words this code cannot fold as the tokenizer does, or a prefix of more than
/// [`MOST_WORDS`] words, stays an FTS5 prefix query.
async fn match_expression(conn: &mut SqliteConnection, query: &SearchQuery) -> StoreResult<Option<String>> {
    let mut parts = Vec::with_capacity(query.terms().len());
    for term in query.terms() {
        match term_expression(conn, term).await? {
            Some(part) => parts.push(part),
            None => return Ok(None),
        }
    }
    // FTS5 reads `(a OR b) (c)` as an error, not as AND.
    Ok(Some(parts.join(" AND ")))
}

async fn term_expression(conn: &mut SqliteConnection, term: &str) -> StoreResult<Option<String>> {
    if term.chars().count() < 3 {
        return Ok(Some(phrase(term)));
    }
    let words: Vec<String> = if term.is_ascii() {
        term.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect()
    } else {
        Vec::new()
    };
    let Some((last, lead)) = words.split_last() else { return Ok(Some(format!("{}*", phrase(term)))) };
    let starting = prefix_words(conn, last).await?;
    if starting.is_empty() {
        return Ok(None);
    }
    if starting.len() > MOST_WORDS {
        return Ok(Some(format!("{}*", phrase(term))));
    }
    let lead: String = lead.iter().map(|w| format!("{w} ")).collect();
    let alternatives: Vec<String> = starting.iter().map(|w| phrase(&format!("{lead}{w}"))).collect();
    Ok(Some(format!("({})", alternatives.join(" OR "))))
}

/// Up to one more than [`MOST_WORDS`] indexed words starting with `prefix` (lower-case ASCII
/// letters and digits, so the word after it in byte order ends the range).
async fn prefix_words(conn: &mut SqliteConnection, prefix: &str) -> StoreResult<Vec<String>> {
    let mut end = prefix.to_owned();
    if let Some(last) = end.pop() {
        end.push(char::from(last as u8 + 1));
    }
    let rows = sqlx::query("SELECT word FROM messages_fts_words WHERE word >= ? AND word < ? ORDER BY word LIMIT ?")
        .bind(prefix)
        .bind(end)
        .bind(i64::try_from(MOST_WORDS + 1).unwrap_or(i64::MAX))
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    rows.iter().map(|r| r.try_get::<String, _>(0).map_err(db)).collect()
}

/// The newest `n` matches the user may read, found the cheaper of two ways (see [`Source`]).
/// The excerpt is made here too: once per candidate is cheaper than finding the page's rows in
/// the index again.
pub(crate) async fn candidates(
    conn: &mut Conn<'_, SqliteBackend>,
    search: &MessageSearch,
    n: usize,
) -> StoreResult<Vec<Candidate>> {
    let Some(expression) = match_expression(conn.raw(), &search.query).await? else { return Ok(Vec::new()) };
    let source = Source::choose(conn, search, n).await?;
    let found = match source {
        Source::Index => candidate_query("", source, search, expression, n).fetch_all(conn).await?,
        Source::Own => {
            let found = match index_own(conn, search).await {
                Ok(()) => candidate_query("", source, search, expression, n).fetch_all(conn).await,
                Err(e) => Err(e),
            };
            // Emptied whatever happened, so no text outlives the search on the connection.
            forget_own(conn).await?;
            found?
        }
    };
    found
        .iter()
        .map(|row| {
            Ok(Candidate {
                id: MessageId(row.get("id")?),
                created_at: row.get("created_at")?,
                score: row.get::<i64>("matches")? as f64,
                length: row.get::<i64>("length")? as f64,
                snippet: Some(row.get("snippet")?),
            })
        })
        .collect()
}

/// Where a search's candidates are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The whole server's index, newest first (`ORDER BY rowid DESC`, which FTS5 answers
    /// without sorting), narrowed first (`CROSS JOIN` keeps SQLite from starting anywhere
    /// else); each match is checked against the caller's membership row by primary key, and
    /// the read stops at `n`. Its cost follows `n` over the caller's share of the matches:
    /// small for a rare word, or for a common one when the caller may read much.
    Index,
    /// A throwaway index of the messages the caller may search (`search_own`, on the
    /// connection's temporary database), when they are so few that indexing them costs less
    /// than visiting the server's matches of a common word until `n` of them are theirs (a
    /// searcher in one conversation of a busy server, or a search within one conversation).
    /// Its cost follows the caller's messages, whatever the words.
    Own,
}

/// Most messages [`Source::Own`] indexes (about 12 µs each, so at most ~50 ms).
const MOST_OWN: i64 = 4096;

impl Source {
    /// [`Source::Own`] when the caller's messages `r` are fewer than [`MOST_OWN`] and cost less to
    /// index (~12 µs each) than the index read costs for a common word: `n` over the caller's
    /// share `r / total` of the server's messages, ~0.7 µs each. So `r * r * 16 < n * total`.
    async fn choose(conn: &mut Conn<'_, SqliteBackend>, search: &MessageSearch, n: usize) -> StoreResult<Source> {
        // An upper bound: sequence numbers count deleted messages too.
        let mut q = sql(
            "SELECT COALESCE(SUM(CASE WHEN mb.active = 1 THEN c.last_message_seq ELSE mb.visible_message_seq END), 0), \
             (SELECT COALESCE(MAX(id), 0) FROM messages) \
             FROM members mb JOIN conversations c ON c.id = mb.conversation_id WHERE mb.user_id = ",
        );
        q.push_bind(search.user.0);
        if let Some(id) = search.conversation {
            q.push(" AND mb.conversation_id = ").push_bind(id.0);
        }
        let row = q.fetch_one(conn).await?;
        let (own, total): (i64, i64) = (row.get(0)?, row.get(1)?);
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        let cheaper = own.saturating_mul(own).saturating_mul(16) < n.saturating_mul(total);
        Ok(if own <= MOST_OWN && cheaper { Source::Own } else { Source::Index })
    }

    /// The FTS5 table the candidates are read from.
    fn table(self) -> &'static str {
        match self {
            Source::Index => "messages_fts",
            Source::Own => "search_own",
        }
    }
}

/// Fills [`Source::Own`]'s throwaway index with the messages the caller may find (the same
/// conditions as the candidates', so the index holds no one else's text). Its tables live on
/// the connection's temporary database, which a read-only connection may write; created on a
/// connection's first such search, emptied after each.
async fn index_own(conn: &mut Conn<'_, SqliteBackend>, search: &MessageSearch) -> StoreResult<()> {
    sql("CREATE TEMP TABLE IF NOT EXISTS search_own_rows (id INTEGER PRIMARY KEY, content TEXT NOT NULL)")
        .execute(conn)
        .await?;
    // The tokenizer is `messages_fts`' (migration 0005), so a word matches as it would there.
    sql("CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_own USING fts5(content, content = 'search_own_rows', \
         content_rowid = 'id', tokenize = 'unicode61 remove_diacritics 2')")
    .execute(conn)
    .await?;
    forget_own(conn).await?;
    let mut q = sql("INSERT INTO search_own_rows (id, content) SELECT m.id, m.content FROM members mb \
         CROSS JOIN messages m ON m.conversation_id = mb.conversation_id WHERE mb.user_id = ");
    q.push_bind(search.user.0);
    if let Some(below) = search.below {
        q.push(" AND m.id < ").push_bind(below.0);
    }
    push_message_filters(&mut q, search);
    q.execute(conn).await?;
    sql("INSERT INTO search_own (search_own) VALUES ('rebuild')").execute(conn).await?;
    Ok(())
}

/// Empties [`Source::Own`]'s throwaway index, so no text outlives the search on the connection.
async fn forget_own(conn: &mut Conn<'_, SqliteBackend>) -> StoreResult<()> {
    sql("DELETE FROM search_own_rows").execute(conn).await?;
    sql("INSERT INTO search_own (search_own) VALUES ('delete-all')").execute(conn).await?;
    Ok(())
}

/// The candidates' SQL after `prefix` (the tests' `EXPLAIN QUERY PLAN`).
fn candidate_query<'a>(
    prefix: &str,
    source: Source,
    search: &'a MessageSearch,
    expression: String,
    n: usize,
) -> Statement<'a> {
    let fts = source.table();
    // `highlight` marks each match: the characters it adds count the matches.
    let mut q = sql(format!(
        "{prefix}SELECT {fts}.rowid AS id, m.created_at AS created_at, \
         length(highlight({fts}, 0, char(2), '')) - length(m.content) AS matches, \
         length(m.content) AS length, snippet({fts}, 0, "
    ));
    q.push_bind(MessageHit::MATCH_START.to_string()).push(", ").push_bind(MessageHit::MATCH_END.to_string());
    q.push(format!(
        ", '…', {SNIPPET_TOKENS}) AS snippet FROM {fts} CROSS JOIN messages m ON m.id = {fts}.rowid \
         CROSS JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = "
    ));
    q.push_bind(search.user.0);
    q.push(format!(" WHERE {fts} MATCH ")).push_bind(expression);
    if let Some(below) = search.below {
        q.push(format!(" AND {fts}.rowid < ")).push_bind(below.0);
    }
    push_message_filters(&mut q, search);
    q.push(format!(" ORDER BY {fts}.rowid DESC LIMIT ")).push_bind(i64::try_from(n).unwrap_or(i64::MAX));
    q
}

/// BM25's weighting of a word's occurrences against the message's length, with the window's
/// mean length (no word's rarity: every candidate has every term, and counting a common
/// word's messages is the pass over the index a window avoids).
pub(crate) fn rank_window(window: &mut [Candidate]) {
    const K1: f64 = 1.2;
    const B: f64 = 0.75;
    let mean = window.iter().map(|c| c.length).sum::<f64>() / window.len().max(1) as f64;
    for c in window.iter_mut() {
        let matches = c.score.max(1.0);
        let norm = if mean > 0.0 { c.length / mean } else { 1.0 };
        c.score = matches * (K1 + 1.0) / (matches + K1 * (1.0 - B + B * norm));
    }
    window.sort_by(by_rank);
}

/// The page's messages, with the excerpts made while finding them.
pub(crate) async fn hits(conn: &mut Conn<'_, SqliteBackend>, page: Vec<Candidate>) -> StoreResult<Vec<MessageHit>> {
    let mut q =
        sql(format!("SELECT {MESSAGE_COLUMNS}, {MESSAGE_REACTIONS} FROM messages m {MESSAGE_JOINS} WHERE m.id IN ("));
    // Deleted since it was found stays unfound, whatever the caller's transaction.
    q.push_list(page.iter().map(|c| c.id.0)).push(") AND m.deleted_at IS NULL");
    let rows = q.fetch_all(conn).await?;
    let mut messages = Vec::with_capacity(rows.len());
    for row in &rows {
        messages.push(parlor_store_sql::rows::message_with_reactions(row)?.0);
    }
    let mut by_id: std::collections::HashMap<MessageId, Message> = messages.into_iter().map(|m| (m.id, m)).collect();
    Ok(page
        .into_iter()
        .filter_map(|c| Some(MessageHit { message: by_id.remove(&c.id)?, snippet: c.snippet.unwrap_or_default() }))
        .collect())
}

#[cfg(test)]
mod tests {
    use parlor_core::{AttachmentFilter, AttachmentKind, ConversationId, Timestamp, UserId};
    use sqlx::{Acquire, Row as _};

    use super::*;

    #[tokio::test]
    async fn an_index_is_read_newest_first_and_membership_is_a_key_lookup() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = crate::open(&dir.path().join("plan.db")).await.expect("open");
        let mut conn = store.backend().read.acquire().await.expect("connection");
        let everything = MessageSearch {
            user: UserId(1),
            query: SearchQuery::parse("kitchen sink").expect("query"),
            conversation: Some(ConversationId(7)),
            sender: Some(UserId(2)),
            after: Some(Timestamp::from_millis(1)),
            before: Some(Timestamp::now()),
            has: Some(AttachmentFilter::Kind(AttachmentKind::Image)),
            limit: 20,
            offset: 0,
            below: Some(MessageId(1000)),
            window: MessageSearch::WINDOW,
        };
        let plain = MessageSearch {
            conversation: None,
            sender: None,
            after: None,
            before: None,
            has: None,
            below: None,
            ..everything.clone()
        };
        let mut conn = Conn::<SqliteBackend>::new(&mut conn);
        // The throwaway index exists once a search on the connection used it.
        index_own(&mut conn, &plain).await.expect("own index");
        for (source, search) in [Source::Index, Source::Own].into_iter().flat_map(|s| [(s, &plain), (s, &everything)]) {
            let expression = r#"("kitchen" OR "kitchens") AND "sink""#.to_owned();
            let plan = candidate_query("EXPLAIN QUERY PLAN ", source, search, expression, 201)
                .fetch_all(&mut conn)
                .await
                .expect("plan");
            let steps: Vec<String> =
                plan.iter().map(|r| r.get::<String>("detail")).collect::<Result<_, _>>().expect("detail");
            let scans: Vec<&String> = steps.iter().filter(|s| s.starts_with("SCAN ")).collect();
            let read_first = format!("SCAN {} VIRTUAL TABLE INDEX ", source.table());
            assert!(
                scans.first().is_some_and(|s| s.starts_with(&read_first) && s.contains(":M")),
                "the full-text index is read first: {steps:#?}"
            );
            assert_eq!(scans.len(), 1, "nothing but the index is scanned: {steps:#?}");
            assert!(
                !steps.iter().any(|s| s.contains("TEMP B-TREE")),
                "the index gives the order, so the read stops at the limit: {steps:#?}"
            );
            assert!(
                steps.iter().any(|s| s.starts_with("SEARCH mb USING PRIMARY KEY (conversation_id=? AND user_id=?)")),
                "membership is a primary-key lookup: {steps:#?}"
            );
        }
    }

    /// Messages written and changed within one transaction, before the queue drains, end up
    /// indexed exactly as stored: FTS5's own check compares the index with `messages`.
    #[tokio::test]
    async fn changes_before_the_queue_drains_leave_the_index_exact() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = crate::open(&dir.path().join("queue.db")).await.expect("open");
        let mut conn = store.backend().write.acquire().await.expect("connection");
        let run = |sql: &'static str| sqlx::query(sql);
        run("INSERT INTO users (id, display_name, created_at) VALUES (1, 'A', 0)")
            .execute(&mut *conn)
            .await
            .expect("user");
        run("INSERT INTO conversations (id, kind, created_at, last_activity_at) VALUES (1, 'direct', 0, 0)")
            .execute(&mut *conn)
            .await
            .expect("conversation");
        let mut tx = conn.begin().await.expect("begin");
        for sql in [
            "INSERT INTO messages (id, conversation_id, seq, event_seq, sender_id, content, created_at) \
             VALUES (1, 1, 1, 1, 1, 'queued words', 0), (2, 1, 2, 2, 1, 'doomed words', 0)",
            "UPDATE messages SET content = 'edited before indexing' WHERE id = 1",
            "DELETE FROM messages WHERE id = 2",
        ] {
            sqlx::query(sql).execute(&mut *tx).await.expect(sql);
        }
        index_pending(&mut tx).await.expect("index");
        tx.commit().await.expect("commit");
        let mut tx = conn.begin().await.expect("begin");
        run("UPDATE messages SET content = 'edited after indexing' WHERE id = 1")
            .execute(&mut *tx)
            .await
            .expect("edit");
        index_pending(&mut tx).await.expect("index");
        tx.commit().await.expect("commit");

        run("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
            .execute(&mut *conn)
            .await
            .expect("the index matches the messages table");
        for (word, expected) in [("after", vec![1_i64]), ("before", vec![]), ("queued", vec![]), ("doomed", vec![])] {
            let found = sqlx::query("SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?")
                .bind(word)
                .fetch_all(&mut *conn)
                .await
                .expect("match");
            let ids: Vec<i64> = found.iter().map(|r| r.try_get(0)).collect::<Result<_, _>>().expect("ids");
            assert_eq!(ids, expected, "{word}");
        }
        let pending = run("SELECT COUNT(*) FROM messages_fts_pending").fetch_one(&mut *conn).await.expect("count");
        assert_eq!(pending.try_get::<i64, _>(0).expect("count"), 0, "the queue is empty after each transaction");
    }

    #[tokio::test]
    async fn user_text_becomes_quoted_phrases_and_prefixes_become_words() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = crate::open(&dir.path().join("words.db")).await.expect("open");
        let mut conn = store.backend().write.acquire().await.expect("connection");
        sqlx::query(
            "INSERT INTO messages_fts_words (word) VALUES ('kitchen'), ('kitchens'), ('kitchenette2'), ('kitten'), \
             ('sink'), ('orchid'), ('apple'), ('near'), ('ok')",
        )
        .execute(&mut *conn)
        .await
        .expect("words");
        async fn run(conn: &mut SqliteConnection, text: &str) -> Option<String> {
            let query = SearchQuery::parse(text).expect("query");
            match_expression(conn, &query).await.expect("expression")
        }
        assert_eq!(
            run(&mut conn, r#"KITCHEN "sink OR* NEAR(a b) ok"#).await.as_deref(),
            Some(
                r#"("kitchen" OR "kitchenette2" OR "kitchens") AND ("sink") AND ("orchid") AND ("near apple") AND "b)" AND "ok""#
            ),
            "each word as the index has it; under three characters, whole words"
        );
        assert_eq!(run(&mut conn, "café").await.as_deref(), Some(r#""café"*"#), "not ASCII: FTS5 folds it");
        assert_eq!(run(&mut conn, r#"é"x"#).await.as_deref(), Some(r#""é""x"*"#), "quotes are doubled");
        assert_eq!(run(&mut conn, "(((").await.as_deref(), Some(r#""((("*"#), "no word: as FTS5 reads it");
        assert_eq!(run(&mut conn, "kitchen zebra").await, None, "no indexed word starts with zebra: nothing matches");
    }
}
