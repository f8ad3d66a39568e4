//! A measurement, not a test: fills a SQLite store with 100,000 messages through the batch
//! writer, reports the append rate, then times message searches. Ignored by default; run with
//!
//! ```sh
//! cargo test --release -p parlor-store-sqlite --test search_bench -- --ignored --nocapture
//! ```
//!
//! Figures go to `docs/benchmarks.md`.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "a benchmark fails loudly")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parlor_core::{
    ConversationId, DirectPair, DisplayName, MessageBody, NewMessage, NewUser, SearchQuery, UserId, Username,
};
use parlor_store::{MessageSearch, Store};
use parlor_store_sqlite::{Durability, Options, SqliteStore};
use sqlx::Connection;

const USERS: usize = 200;
const CONVERSATIONS: usize = 1_000;
const MESSAGES: usize = 100_000;
/// Senders in flight at once, so the writer commits in batches as it does under load.
const SENDERS: usize = 64;
/// Timed runs of each search.
const RUNS: usize = 30;

/// A deterministic generator, so every run indexes the same text.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// Roughly Zipf-distributed word ranks: a few words are everywhere, most are rare.
    fn word_rank(&mut self, vocabulary: usize) -> usize {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        ((vocabulary as f64).powf(u) as usize).saturating_sub(1).min(vocabulary - 1)
    }
}

fn vocabulary() -> Vec<String> {
    const SYLLABLES: [&str; 24] = [
        "ka", "lo", "mi", "ren", "sa", "tor", "vel", "un", "de", "bra", "qui", "zo", "pa", "ne", "gil", "mo", "ash",
        "ter", "fi", "ol", "wen", "cha", "di", "rus",
    ];
    let mut words = Vec::new();
    for a in SYLLABLES {
        for b in SYLLABLES {
            for c in ["", "n", "s", "ta"] {
                words.push(format!("{a}{b}{c}"));
            }
        }
    }
    words
}

fn sentence(rng: &mut Lcg, words: &[String]) -> String {
    let len = 6 + rng.below(15);
    (0..len).map(|_| words[rng.word_rank(words.len())].as_str()).collect::<Vec<_>>().join(" ")
}

struct Fixture {
    store: Arc<SqliteStore>,
    /// The user who searches; a member of about 5% of the conversations.
    searcher: UserId,
    /// One of the searcher's conversations.
    own: ConversationId,
    words: Vec<String>,
    _dir: tempfile::TempDir,
}

async fn fill() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(
        parlor_store_sqlite::open_with(
            &dir.path().join("bench.db"),
            Options { durability: Durability::Normal, ..Options::default() },
        )
        .await
        .unwrap(),
    );
    let mut users = Vec::with_capacity(USERS);
    for n in 0..USERS {
        let new = NewUser {
            username: Username::parse(&format!("user{n}")).unwrap(),
            name: DisplayName::parse(&format!("User {n}")).unwrap(),
            password_hash: String::new(),
        };
        users.push(store.create_user(new).await.unwrap().id);
    }
    let mut rng = Lcg(7);
    let mut conversations: Vec<(ConversationId, [UserId; 2])> = Vec::with_capacity(CONVERSATIONS);
    while conversations.len() < CONVERSATIONS {
        // User 0 is in every twentieth conversation.
        let a = if conversations.len().is_multiple_of(20) { 0 } else { rng.below(USERS) };
        let b = rng.below(USERS);
        let Ok(pair) = DirectPair::new(users[a], users[b]) else { continue };
        let (id, created) = store.get_or_create_direct(pair).await.unwrap();
        if created {
            conversations.push((id, pair.users()));
        }
    }

    let words = vocabulary();
    let plan: Vec<(ConversationId, UserId, String)> = (0..MESSAGES)
        .map(|_| {
            let (id, pair) = conversations[rng.below(CONVERSATIONS)];
            (id, pair[rng.below(2)], sentence(&mut rng, &words))
        })
        .collect();
    let plan = Arc::new(plan);
    let next = Arc::new(AtomicUsize::new(0));
    let cpu_before = cpu_secs();
    let started = Instant::now();
    let mut senders = Vec::new();
    for _ in 0..SENDERS {
        let (store, plan, next) = (store.clone(), plan.clone(), next.clone());
        senders.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((id, sender, text)) = plan.get(i) else { break };
                let new = NewMessage {
                    conversation_id: *id,
                    sender_id: *sender,
                    body: MessageBody::parse(text.clone(), 4000).unwrap(),
                    reply_to: None,
                    client_id: None,
                    forwarded: false,
                    attachment: None,
                };
                store.append_message(new).await.unwrap();
            }
        }));
    }
    for s in senders {
        s.await.unwrap();
    }
    let elapsed = started.elapsed();
    println!(
        "appended {MESSAGES} messages in {:.2} s: {:.0} messages/s, {:.0} µs of CPU each ({SENDERS} senders, \
         durability normal)",
        elapsed.as_secs_f64(),
        MESSAGES as f64 / elapsed.as_secs_f64(),
        (cpu_secs() - cpu_before) * 1e6 / MESSAGES as f64,
    );
    let path = dir.path().join("bench.db");
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    let index: (i64,) =
        sqlx::query_as("SELECT SUM(LENGTH(block)) FROM messages_fts_data").fetch_one(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    let mib = |b: f64| b / f64::from(1 << 20);
    println!(
        "database file: {:.1} MiB, of which the full-text index {:.1} MiB",
        mib(bytes as f64),
        mib(index.0 as f64)
    );
    Fixture { store, searcher: users[0], own: conversations[0].0, words, _dir: dir }
}

/// User and system CPU time of this process so far (Linux), which a busy machine disturbs less
/// than wall time.
fn cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return 0.0 };
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

/// Median and worst of `runs` timings.
fn summarise(mut timings: Vec<Duration>) -> (Duration, Duration) {
    timings.sort();
    (timings[timings.len() / 2], timings[timings.len() - 1])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run it with --ignored --nocapture, in release mode"]
async fn search_over_100k_messages() {
    let fixture = fill().await;
    let words = &fixture.words;
    let cases = [
        ("a common word", words[0].clone(), None),
        ("a rare word", words[1500].clone(), None),
        ("two words", format!("{} {}", words[3], words[40]), None),
        ("a three-letter prefix", "kak".to_owned(), None),
        ("a common word, one conversation", words[0].clone(), Some(fixture.own)),
    ];
    for (what, text, conversation) in cases {
        let search = MessageSearch {
            user: fixture.searcher,
            query: SearchQuery::parse(&text).unwrap(),
            conversation,
            sender: None,
            after: None,
            before: None,
            has: None,
            limit: 20,
            offset: 0,
            below: None,
            window: MessageSearch::WINDOW,
        };
        let visible =
            fixture.store.search_messages(&MessageSearch { limit: u32::MAX, ..search.clone() }).await.unwrap();
        let mut timings = Vec::new();
        for _ in 0..RUNS {
            let started = Instant::now();
            fixture.store.search_messages(&search).await.unwrap();
            timings.push(started.elapsed());
        }
        let (median, worst) = summarise(timings);
        println!(
            "{what} ({text:?}): {} visible matches; first page of 20 in {:.2} ms median, {:.2} ms worst of {RUNS}",
            visible.len(),
            median.as_secs_f64() * 1e3,
            worst.as_secs_f64() * 1e3,
        );
    }
    fixture.store.close().await;
}
