//! Several parlor nodes on one PostgreSQL database: each holds its own `PostgresStore` (its own
//! pool and batch writer). Their writes into the same conversation must be numbered gap-free
//! in commit order, and a webhook dispatcher walking the outbox must never skip an entry that
//! committed late; of two mailers claiming one mail, one wins. Needs `PARLOR_TEST_POSTGRES_URL`
//! (skipped without it, except under `CI`).

#![allow(clippy::expect_used, reason = "tests fail loudly")]

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use parlor_core::{
    ClientId, ConversationId, DirectPair, DisplayName, Emoji, EventKind, MessageBody, NewMessage, NewUser, OutboxId,
    Seq, Timestamp, User, Username, WebhookSecret, WebhookUrl,
};
use parlor_store::{MailMark, NewWebhook, ReadUpTo, Store};
use parlor_store_postgres::testing::{FreshDatabase, admin_url_or_skip, fresh_database};
use parlor_store_postgres::{Options, PostgresStore};
use sqlx::Connection;

const TASKS_PER_NODE: usize = 6;
const MESSAGES_PER_TASK: usize = 40;

async fn two_nodes(test: &str) -> Option<(Arc<PostgresStore>, Arc<PostgresStore>, String, FreshDatabase)> {
    let admin = admin_url_or_skip(test)?;
    let (url, guard) = fresh_database(&admin).await.expect("create a test database");
    let a = parlor_store_postgres::connect(&url, Options::default()).await.expect("node a connects");
    let b = parlor_store_postgres::connect(&url, Options::default()).await.expect("node b connects");
    Some((Arc::new(a), Arc::new(b), url, guard))
}

async fn user(store: &dyn Store, name: &str) -> User {
    let new = NewUser {
        username: Username::parse(name).expect("valid username"),
        name: DisplayName::parse(name).expect("valid name"),
        password_hash: "x".into(),
    };
    store.create_user(new).await.expect("create_user")
}

fn message(conversation: ConversationId, sender: &User, text: &str, client_id: Option<&str>) -> NewMessage {
    NewMessage {
        conversation_id: conversation,
        sender_id: sender.id,
        body: MessageBody::parse(text.to_owned(), 4000).expect("valid body"),
        reply_to: None,
        client_id: client_id.map(|c| ClientId::parse(c).expect("valid client id")),
        forwarded: false,
        attachment: None,
    }
}

async fn webhook(store: &dyn Store) {
    let new = NewWebhook {
        url: WebhookUrl::parse("https://hooks.example/parlor").expect("valid url"),
        events: None,
        secret: WebhookSecret::parse("0123456789abcdef0123").expect("valid secret"),
    };
    store.create_webhook(new).await.expect("create_webhook");
}

/// Walks the outbox as a dispatcher does until `done` and the outbox is drained; returns every
/// (conversation, seq) it saw, in the order it saw them.
async fn dispatch(store: Arc<PostgresStore>, done: Arc<AtomicBool>) -> Vec<(i64, i64)> {
    let mut cursor = OutboxId(0);
    let mut seen = Vec::new();
    loop {
        let finished = done.load(Ordering::SeqCst);
        let page = store.outbox_after(cursor, 50).await.expect("outbox_after");
        for entry in &page {
            assert!(entry.id > cursor, "entries come after the cursor, ascending");
            cursor = entry.id;
            let parlor_store::OutboxItem::Event(event) = &entry.item else { panic!("only logged events here") };
            seen.push((event.conversation_id.0, event.seq.0));
        }
        if page.is_empty() {
            if finished {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_append_into_one_conversation_gap_free_in_commit_order() {
    let Some((a, b, _url, _guard)) = two_nodes("two_nodes_append_into_one_conversation").await else { return };
    let alice = user(a.as_ref(), "alice").await;
    let bob = user(b.as_ref(), "bob").await;
    let pair = DirectPair::new(alice.id, bob.id).expect("distinct users");
    // Both nodes create the same conversation at once: one of them creates it.
    let (made_a, made_b) = tokio::join!(a.get_or_create_direct(pair), b.get_or_create_direct(pair));
    let (made_a, made_b) = (made_a.expect("direct on a"), made_b.expect("direct on b"));
    assert_eq!(made_a.0, made_b.0, "one conversation per pair, across nodes");
    assert!(made_a.1 ^ made_b.1, "exactly one node created it");
    let conversation = made_a.0;
    webhook(a.as_ref()).await;

    let done = Arc::new(AtomicBool::new(false));
    let dispatcher = tokio::spawn(dispatch(a.clone(), done.clone()));

    let mut tasks = Vec::new();
    for (node_name, node) in [("a", a.clone()), ("b", b.clone())] {
        for task in 0..TASKS_PER_NODE {
            let (node, sender, reader) = (node.clone(), alice.clone(), bob.clone());
            tasks.push(tokio::spawn(async move {
                let mut seqs = Vec::new();
                for i in 0..MESSAGES_PER_TASK {
                    let text = format!("node {node_name} task {task} message {i}");
                    let appended = node.append_message(message(conversation, &sender, &text, None)).await;
                    let appended = appended.expect("append_message");
                    let stored = appended.message().expect("a message event").clone();
                    seqs.push(stored.seq);
                    // Events beside the messages: reactions and read receipts, also from both nodes.
                    if i % 5 == 0 {
                        let emoji = Emoji::parse("👍").expect("valid emoji");
                        node.toggle_reaction(stored.id, reader.id, &emoji).await.expect("toggle_reaction");
                    }
                    if i % 7 == 0 {
                        node.mark_read(conversation, reader.id, ReadUpTo::Latest, true).await.expect("mark_read");
                    }
                }
                seqs
            }));
        }
    }
    let mut acknowledged = Vec::new();
    for task in tasks {
        let seqs = task.await.expect("writer task");
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "a message sent after another was stored gets a later seq");
        acknowledged.extend(seqs);
    }
    let total = 2 * TASKS_PER_NODE * MESSAGES_PER_TASK;
    let unique: HashSet<Seq> = acknowledged.iter().copied().collect();
    assert_eq!(unique.len(), total, "no two acknowledged messages share a seq");

    let stored = a.messages_after(conversation, Seq::ZERO, 10_000).await.expect("messages_after");
    let seqs: Vec<i64> = stored.iter().map(|m| m.seq.0).collect();
    assert_eq!(seqs, (1..=total as i64).collect::<Vec<_>>(), "message seqs are 1..=n without gaps");

    let events = b.events_after(conversation, Seq::ZERO, 100_000).await.expect("events_after");
    let last = a.last_event_seqs(&[conversation]).await.expect("last_event_seqs")[&conversation];
    let event_seqs: Vec<i64> = events.iter().map(|e| e.seq.0).collect();
    assert_eq!(event_seqs, (1..=last.0).collect::<Vec<_>>(), "event seqs are 1..=n without gaps");
    let created: Vec<i64> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::MessageCreated(m) => Some(m.seq.0),
            _ => None,
        })
        .collect();
    assert_eq!(created, seqs, "messages are numbered in the order their events are: commit order");
    let reactions = events.iter().filter(|e| matches!(e.kind, EventKind::ReactionChanged { .. })).count();
    assert_eq!(reactions, 2 * TASKS_PER_NODE * MESSAGES_PER_TASK.div_ceil(5), "every reaction is logged");

    done.store(true, Ordering::SeqCst);
    let delivered = dispatcher.await.expect("dispatcher task");
    let expected: Vec<(i64, i64)> = events
        .iter()
        .filter(|e| !matches!(e.kind, EventKind::MessagesRead { .. } | EventKind::MessagesDelivered { .. }))
        .map(|e| (conversation.0, e.seq.0))
        .collect();
    assert_eq!(delivered, expected, "the dispatcher saw every outbox entry once, in commit order");
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_same_client_id_on_two_nodes_is_stored_once() {
    let Some((a, b, _url, _guard)) = two_nodes("the_same_client_id_on_two_nodes_is_stored_once").await else { return };
    let alice = user(a.as_ref(), "alice").await;
    let bob = user(a.as_ref(), "bob").await;
    let pair = DirectPair::new(alice.id, bob.id).expect("distinct users");
    let (conversation, _) = a.get_or_create_direct(pair).await.expect("direct");
    for round in 0..20 {
        let id = format!("retry-{round}");
        let (x, y) = tokio::join!(
            a.append_message(message(conversation, &alice, "once", Some(&id))),
            b.append_message(message(conversation, &alice, "once", Some(&id)))
        );
        let (x, y) = (x.expect("append on a"), y.expect("append on b"));
        assert_eq!(x.message().map(|m| m.id), y.message().map(|m| m.id), "both nodes answer with the one message");
        assert!(x.duplicate ^ y.duplicate, "exactly one of them stored it");
    }
    let stored = b.messages_after(conversation, Seq::ZERO, 100).await.expect("messages_after");
    assert_eq!(stored.len(), 20);
    a.close().await;
    b.close().await;
}

/// Two nodes' mailers claim the same mail at once, from no mark and from a mark: exactly one
/// wins each time, so exactly one of them sends it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_claiming_the_same_mail_one_wins() {
    let Some((a, b, _url, _guard)) = two_nodes("two_nodes_claiming_the_same_mail_one_wins").await else { return };
    let alice = user(a.as_ref(), "alice").await;
    let bob = user(a.as_ref(), "bob").await;
    let pair = DirectPair::new(alice.id, bob.id).expect("distinct users");
    let (conversation, _) = a.get_or_create_direct(pair).await.expect("direct");
    let mut mark: Option<MailMark> = None;
    for round in 1..=20 {
        let claim = |node: i64| MailMark { through_id: round, at: Timestamp::from_millis(round * 1000 + node) };
        let (x, y) = tokio::join!(
            a.swap_mail_mark(bob.id, conversation, mark, Some(claim(1))),
            b.swap_mail_mark(bob.id, conversation, mark, Some(claim(2)))
        );
        let (x, y) = (x.expect("claim on a"), y.expect("claim on b"));
        assert!(x ^ y, "round {round}: exactly one node claims the mail ({x}, {y})");
        mark = Some(claim(if x { 1 } else { 2 }));
    }
    a.close().await;
    b.close().await;
}

/// Two transactions log events; the one that wrote its outbox row first commits last. A
/// dispatcher that read in between still gets it, after the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outbox_entry_that_commits_late_is_not_skipped() {
    let Some((a, _b, url, _guard)) = two_nodes("an_outbox_entry_that_commits_late_is_not_skipped").await else {
        return;
    };
    let alice = user(a.as_ref(), "alice").await;
    let bob = user(a.as_ref(), "bob").await;
    let carol = user(a.as_ref(), "carol").await;
    let (first, _) = a.get_or_create_direct(DirectPair::new(alice.id, bob.id).expect("pair")).await.expect("direct");
    let (second, _) = a.get_or_create_direct(DirectPair::new(alice.id, carol.id).expect("pair")).await.expect("direct");
    webhook(a.as_ref()).await;
    let start = a.webhooks().await.expect("webhooks")[0].cursor;

    // Two other "nodes" writing by hand, so the test decides who commits when.
    let mut early = sqlx::PgConnection::connect(&url).await.expect("connection");
    let mut late = sqlx::PgConnection::connect(&url).await.expect("connection");
    let mut slow = early.begin().await.expect("begin");
    log_event(&mut slow, first.0).await;
    let mut quick = late.begin().await.expect("begin");
    log_event(&mut quick, second.0).await;
    quick.commit().await.expect("the later writer commits first");

    let page = a.outbox_after(start, 10).await.expect("outbox_after");
    assert_eq!(conversations(&page), [second.0], "only the committed entry is visible");
    let cursor = page[0].id;

    slow.commit().await.expect("the earlier writer commits last");
    let page = a.outbox_after(cursor, 10).await.expect("outbox_after");
    assert_eq!(conversations(&page), [first.0], "the entry that committed late comes after the cursor");
    assert!(page[0].id > cursor);
    a.close().await;
}

fn conversations(page: &[parlor_store::OutboxEntry]) -> Vec<i64> {
    page.iter().map(|e| e.item.conversation_id().0).collect()
}

/// Logs a `conversation_updated` event as the store does: the counter first, then the row.
async fn log_event(conn: &mut sqlx::PgConnection, conversation: i64) {
    let seq: (i64,) = sqlx::query_as(
        "UPDATE conversations SET last_event_seq = last_event_seq + 1 WHERE id = $1 RETURNING last_event_seq",
    )
    .bind(conversation)
    .fetch_one(&mut *conn)
    .await
    .expect("counter");
    sqlx::query(
        "INSERT INTO events (conversation_id, seq, kind, data, created_at) \
         VALUES ($1, $2, 'conversation_updated', '{\"title\":null,\"avatar\":null,\"archived\":false}', 0)",
    )
    .bind(conversation)
    .bind(seq.0)
    .execute(&mut *conn)
    .await
    .expect("event");
}
