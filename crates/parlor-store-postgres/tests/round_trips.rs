//! Round trips per write batch on PostgreSQL, counted: every statement sqlx logs (one
//! `sqlx::query` event each, `COMMIT` included; `BEGIN` is sent without one, so each batch
//! adds one round trip to the count) while bursts of writes are committed, against the batches
//! the writer reports committing. The count per
//! batch must not grow with the batch's size (ARCHITECTURE.md states it; docs/benchmarks.md
//! quotes this test's output). Needs `PARLOR_TEST_POSTGRES_URL` (skipped without it, except
//! under `CI`).

#![allow(clippy::expect_used, reason = "tests fail loudly")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::future::join_all;
use parlor_core::{
    AttachmentKind, ClientId, DirectPair, DisplayName, MessageBody, NewAttachment, NewMessage, NewUser, Seq, User,
    Username,
};
use parlor_store::{DeliveredUpTo, Store};
use parlor_store_postgres::Options;
use parlor_store_postgres::testing::{admin_url_or_skip, fresh_database};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};

/// Counts the statements sqlx sends.
struct Statements(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn message(conversation: parlor_core::ConversationId, sender: &User, text: &str) -> NewMessage {
    NewMessage {
        conversation_id: conversation,
        sender_id: sender.id,
        body: MessageBody::parse(text.to_owned(), 4000).expect("body"),
        reply_to: None,
        client_id: None,
        forwarded: false,
        attachment: None,
    }
}

/// Statements and batches while `burst` runs, and their ratio.
struct Counted {
    statements: usize,
    batches: usize,
}

impl Counted {
    /// The statements logged and each batch's `BEGIN`.
    fn round_trips(&self) -> usize {
        self.statements + self.batches
    }

    fn per_batch(&self) -> f64 {
        self.round_trips() as f64 / self.batches.max(1) as f64
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_costs_a_fixed_number_of_round_trips() {
    let Some(admin) = admin_url_or_skip("a_batch_costs_a_fixed_number_of_round_trips") else { return };
    let statements = Arc::new(AtomicUsize::new(0));
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(Statements(statements.clone())))
        .expect("the only subscriber of this test binary");
    let (url, _database) = fresh_database(&admin).await.expect("create a test database");
    let batches = Arc::new(AtomicUsize::new(0));
    let counter = batches.clone();
    let on_commit = Arc::new(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    let store = parlor_store_postgres::connect_observed(&url, Options::default(), on_commit).await.expect("connect");

    let mut users = Vec::new();
    for n in 0..100 {
        let new = NewUser {
            username: Username::parse(&format!("user{n}")).expect("username"),
            name: DisplayName::parse(&format!("User {n}")).expect("name"),
            password_hash: "hash".into(),
        };
        users.push(store.create_user(new).await.expect("create_user"));
    }
    let mut conversations = Vec::new();
    for pair in users.chunks(2) {
        let direct = DirectPair::new(pair[0].id, pair[1].id).expect("pair");
        conversations.push((store.get_or_create_direct(direct).await.expect("direct").0, pair));
    }

    // 1. Plain messages: 500 over 50 conversations, all queued at once.
    let (s0, b0) = (statements.load(Ordering::SeqCst), batches.load(Ordering::SeqCst));
    let sends = (0..500).map(|n| {
        let (id, pair) = &conversations[n % conversations.len()];
        store.append_message(message(*id, &pair[n % 2], &format!("message {n}")))
    });
    for sent in join_all(sends).await {
        sent.expect("append_message");
    }
    let plain =
        Counted { statements: statements.load(Ordering::SeqCst) - s0, batches: batches.load(Ordering::SeqCst) - b0 };
    println!(
        "plain: 500 messages in {} batches, {} round trips: {:.2} per batch, {:.3} per message",
        plain.batches,
        plain.round_trips(),
        plain.per_batch(),
        plain.round_trips() as f64 / 500.0
    );
    assert!(plain.batches < 500, "the messages were batched ({} batches)", plain.batches);
    assert!(
        plain.round_trips() == 6 * plain.batches,
        "BEGIN, lock, check, write, read back, COMMIT: 6 per batch, got {:.2}",
        plain.per_batch()
    );

    // 2. Mixed: replies, files, retries (stored before and within the batch), non-members.
    let (first_id, first_pair) = &conversations[0];
    let target = store.append_message(message(*first_id, &first_pair[0], "target")).await.expect("append");
    let target = target.message().expect("message").id;
    let mut retried = message(*first_id, &first_pair[0], "retried");
    retried.client_id = Some(ClientId::parse("retry").expect("client id"));
    store.append_message(retried.clone()).await.expect("append");
    let (s0, b0) = (statements.load(Ordering::SeqCst), batches.load(Ordering::SeqCst));
    let sends = (0..400).map(|n| {
        let (id, pair) = &conversations[n % conversations.len()];
        let mut new = message(*id, &pair[n % 2], &format!("mixed {n}"));
        match n % 8 {
            0 => {
                new = message(*first_id, &first_pair[n % 2], &format!("reply {n}"));
                new.reply_to = Some(target);
            }
            1 => {
                new.attachment = Some(NewAttachment {
                    kind: AttachmentKind::File,
                    file_name: "f.txt".into(),
                    content_type: "text/plain".into(),
                    size: 1,
                    width: None,
                    height: None,
                    blob_key: format!("attachments/{n}"),
                    thumbnail_key: None,
                    sha256: "00".into(),
                })
            }
            2 => new.client_id = Some(ClientId::parse(&format!("c{}", n / 16)).expect("client id")),
            3 => new = retried.clone(),
            4 => new.sender_id = users[(n + 3) % users.len()].id,
            _ => {}
        }
        store.append_message(new)
    });
    let answers = join_all(sends).await;
    let refused = answers.iter().filter(|a| a.is_err()).count();
    let mixed =
        Counted { statements: statements.load(Ordering::SeqCst) - s0, batches: batches.load(Ordering::SeqCst) - b0 };
    println!(
        "mixed: 400 writes ({refused} refused) in {} batches, {} round trips: {:.2} per batch",
        mixed.batches,
        mixed.round_trips(),
        mixed.per_batch()
    );
    assert!(refused > 0, "non-members were refused");
    assert!(
        mixed.round_trips() <= 7 * mixed.batches,
        "a mixed batch adds at most the retried messages' reactions: 7 per batch, got {:.2}",
        mixed.per_batch()
    );

    // 3. Delivery receipts, logged (direct conversations'), 50 of them as one write.
    let receipts: Vec<DeliveredUpTo> = conversations
        .iter()
        .map(|(id, pair)| DeliveredUpTo { conversation: *id, user: pair[1].id, up_to: Seq(i64::MAX), log: true })
        .collect();
    let (s0, b0) = (statements.load(Ordering::SeqCst), batches.load(Ordering::SeqCst));
    let logged = store.mark_delivered_many(&receipts).await.expect("mark_delivered_many");
    let delivered =
        Counted { statements: statements.load(Ordering::SeqCst) - s0, batches: batches.load(Ordering::SeqCst) - b0 };
    println!(
        "receipts: {} logged in {} batches, {} round trips",
        logged.len(),
        delivered.batches,
        delivered.round_trips()
    );
    assert!(!logged.is_empty(), "the receipts were logged");
    assert_eq!(
        (delivered.batches, delivered.round_trips()),
        (1, 5),
        "BEGIN, lock, read positions, write positions and events, COMMIT"
    );
    store.close().await;
}
