//! Full-text search over messages: the FTS5 index of migration 0005, kept current here and by
//! its triggers.
//!
//! **Invariant:** the index never lags a commit: every write transaction indexes the messages it
//! stored (`index_pending`, run before every commit of `SqlStore`'s transactions and by the
//! writer for every batch holding an append; receipt-only batches skip it), and triggers apply
//! edits and deletes in the statement that makes them.

use parlor_core::{MessageHit, SearchQuery};
use parlor_store::{MessageSearch, StoreResult};
use parlor_store_sql::rows::{MESSAGE_COLUMNS, MESSAGE_JOINS};
use parlor_store_sql::search::push_message_filters;
use parlor_store_sql::{Conn, Statement, reactions, sql};
use sqlx::SqliteConnection;

use crate::SqliteBackend;
use crate::rows::db;

/// Words of context a snippet keeps around the matches.
const SNIPPET_TOKENS: u32 = 24;

/// Indexes the messages this transaction stored. Every write transaction calls it before
/// committing, so a search never misses a committed message.
pub(crate) async fn index_pending(conn: &mut SqliteConnection) -> StoreResult<()> {
    let indexed = sqlx::query(
        "INSERT INTO messages_fts (rowid, content) SELECT m.id, m.content FROM messages_fts_pending p \
         JOIN messages m ON m.id = p.message_id",
    )
    .execute(&mut *conn)
    .await
    .map_err(db)?;
    if indexed.rows_affected() > 0 {
        sqlx::query("DELETE FROM messages_fts_pending").execute(&mut *conn).await.map_err(db)?;
    }
    Ok(())
}

/// Rewrites the index into one segment, leaving out every deleted entry: FTS5 deletes only mark
/// an entry, and its words stay in the segments until a merge rewrites them. An erasure calls
/// it so that the erased words leave the database file. (FTS5's `secure-delete` option would
/// do it per delete, but on SQLite 3.46.0 it corrupts the index when a row is deleted and
/// indexed again in one transaction, as every edit does:
/// `changes_before_the_queue_drains_leave_the_index_exact` fails with it.) Its cost grows with
/// the index, so it is for rare operations only.
pub(crate) async fn scrub(conn: &mut SqliteConnection) -> StoreResult<()> {
    sqlx::query("INSERT INTO messages_fts (messages_fts) VALUES ('optimize')").execute(&mut *conn).await.map_err(db)?;
    Ok(())
}

/// The FTS5 expression for a query: each term a quoted phrase (quotes doubled, so nothing the
/// user types is read as FTS5 syntax), all of them required. A term's last word matches as a
/// prefix from three characters on; a shorter one matches whole words only, since a one- or
/// two-letter prefix would merge the entries of a large part of the vocabulary on every search.
fn match_expression(query: &SearchQuery) -> String {
    let phrase = |t: &String| {
        let star = if t.chars().count() >= 3 { "*" } else { "" };
        format!("\"{}\"{star}", t.replace('"', "\"\""))
    };
    query.terms().iter().map(phrase).collect::<Vec<_>>().join(" ")
}

/// The index narrows first (`CROSS JOIN` keeps SQLite from starting anywhere else), then each
/// candidate is checked against the caller's membership row by primary key, so the cost follows
/// the number of matches, never the number of messages. Snippets and message rows are built
/// only for the page.
pub(crate) async fn messages(
    conn: &mut Conn<'_, SqliteBackend>,
    search: &MessageSearch,
) -> StoreResult<Vec<MessageHit>> {
    let found = message_query("", search).fetch_all(conn).await?;
    let mut page = Vec::with_capacity(found.len());
    let mut snippets = Vec::with_capacity(found.len());
    for row in found {
        page.push(parlor_store_sql::rows::message(&row)?.0);
        snippets.push(row.get::<String>("s_snippet")?);
    }
    reactions::attach(conn, &mut page).await?;
    Ok(page.into_iter().zip(snippets).map(|(message, snippet)| MessageHit { message, snippet }).collect())
}

/// The search's SQL after `prefix` (the tests' `EXPLAIN QUERY PLAN`).
fn message_query<'a>(prefix: &str, search: &'a MessageSearch) -> Statement<'a> {
    let expression = match_expression(&search.query);
    let mut q = sql(format!(
        "{prefix}WITH page AS MATERIALIZED (SELECT m.id AS id, bm25(messages_fts) AS score, m.created_at AS created_at \
         FROM messages_fts CROSS JOIN messages m ON m.id = messages_fts.rowid \
         CROSS JOIN members mb ON mb.conversation_id = m.conversation_id AND mb.user_id = "
    ));
    q.push_bind(search.user.0);
    q.push(" WHERE messages_fts MATCH ").push_bind(expression.clone());
    push_message_filters(&mut q, search);
    q.push(" ORDER BY score, m.created_at DESC, m.id DESC LIMIT ").push_bind(search.limit);
    q.push(" OFFSET ").push_bind(search.offset);
    q.push(format!(") SELECT {MESSAGE_COLUMNS}, snippet(messages_fts, 0, "));
    q.push_bind(MessageHit::MATCH_START.to_string()).push(", ").push_bind(MessageHit::MATCH_END.to_string());
    q.push(format!(
        ", '…', {SNIPPET_TOKENS}) AS s_snippet FROM messages_fts \
         CROSS JOIN page ON page.id = messages_fts.rowid \
         CROSS JOIN messages m ON m.id = page.id {MESSAGE_JOINS} WHERE messages_fts MATCH "
    ));
    q.push_bind(expression);
    q.push(" ORDER BY page.score, page.created_at DESC, page.id DESC");
    q
}

#[cfg(test)]
mod tests {
    use parlor_core::{AttachmentFilter, AttachmentKind, ConversationId, Timestamp, UserId};
    use sqlx::{Acquire, Row as _};

    use super::*;

    #[tokio::test]
    async fn the_index_narrows_first_and_membership_is_a_key_lookup() {
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
        };
        let plain = MessageSearch {
            conversation: None,
            sender: None,
            after: None,
            before: None,
            has: None,
            ..everything.clone()
        };
        for search in [plain, everything] {
            let plan = message_query("EXPLAIN QUERY PLAN ", &search)
                .fetch_all(&mut Conn::<SqliteBackend>::new(&mut conn))
                .await
                .expect("plan");
            let steps: Vec<String> =
                plan.iter().map(|r| r.get::<String>("detail")).collect::<Result<_, _>>().expect("detail");
            let scans: Vec<&String> = steps.iter().filter(|s| s.starts_with("SCAN ")).collect();
            assert!(
                scans.first().is_some_and(|s| s.starts_with("SCAN messages_fts VIRTUAL TABLE INDEX 0:M")),
                "the full-text index is read first: {steps:#?}"
            );
            assert!(
                scans.iter().all(|s| s.starts_with("SCAN messages_fts ") || *s == "SCAN page"),
                "nothing but the index (and the page of hits) is scanned: {steps:#?}"
            );
            // A rowid constraint (`0:=M1`) would run the whole full-text query again for each hit.
            assert!(
                scans.iter().filter(|s| s.starts_with("SCAN messages_fts ")).all(|s| s.ends_with("INDEX 0:M1")),
                "each full-text lookup runs once, not once per hit: {steps:#?}"
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

    #[test]
    fn user_text_becomes_quoted_prefix_phrases() {
        let q = SearchQuery::parse(r#"kitchen "sink OR* NEAR(a b) ok"#).map(|q| match_expression(&q));
        assert_eq!(q.as_deref(), Ok(r#""kitchen"* """sink"* "OR*"* "NEAR(a"* "b)" "ok""#));
    }
}
