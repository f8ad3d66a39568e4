//! The `load` mode: N users in rooms of K members, each on one WebSocket; messages sent
//! open-loop at a fixed rate, round-robin over the users; every delivery's end-to-end latency
//! (send to receipt, same clock) recorded in an HDR histogram.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use futures_util::{SinkExt, StreamExt, stream};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use crate::{Protocol, Target, fixture, server};

pub struct Settings {
    pub rooms: usize,
    pub room_size: usize,
    pub rate: f64,
    pub duration: u64,
    pub payload: usize,
    pub protocol: Protocol,
}

#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    backlogged: AtomicU64,
    acked: AtomicU64,
    delivered: AtomicU64,
    errors: AtomicU64,
}

struct Client {
    conversation: i64,
    outbox: mpsc::Sender<String>,
}

fn now_nanos() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

pub async fn run(target: &Target, s: Settings) -> anyhow::Result<()> {
    anyhow::ensure!(s.room_size >= 2 && s.rooms >= 1 && s.rate > 0.0, "need rooms >= 1, room_size >= 2, rate > 0");
    let http = reqwest::Client::new();
    let users = s.rooms * s.room_size;
    let tokens: Vec<String> = (0..users).map(|i| fixture::token(target, i)).collect::<anyhow::Result<_>>()?;
    let ids: Vec<i64> = stream::iter(tokens.iter().map(|t| fixture::user_id(&http, target, t)))
        .buffered(32)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<anyhow::Result<_>>()?;
    let mut conversations = Vec::with_capacity(s.rooms);
    for r in 0..s.rooms {
        let members = &ids[r * s.room_size + 1..(r + 1) * s.room_size];
        conversations.push(fixture::conversation(&http, target, &tokens[r * s.room_size], members, r).await?);
    }
    eprintln!("fixture: {users} users in {} conversations of {}", s.rooms, s.room_size);

    let counters = Arc::new(Counters::default());
    let histograms: Histograms = Arc::default();
    let base = fixture::ws_base(&target.url);
    let connected = stream::iter((0..users).map(|i| {
        let conversation = conversations[i / s.room_size];
        let url = match s.protocol {
            Protocol::Parlor => format!("{base}/ws/?token={}", tokens[i]),
            Protocol::Seed001 => format!("{base}/ws/chat/{conversation}/?token={}", tokens[i]),
        };
        let (counters, histograms) = (counters.clone(), histograms.clone());
        async move { connect(&url, conversation, counters, histograms).await }
    }))
    .buffer_unordered(64)
    .collect::<Vec<_>>()
    .await;
    let mut clients = Vec::with_capacity(users);
    let mut readers = Vec::with_capacity(users);
    for c in connected {
        let (client, reader) = c?;
        clients.push(client);
        readers.push(reader);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    eprintln!("connected: {users} sockets; sending {} msg/s for {} s", s.rate, s.duration);

    let before = server::sample(target.server_pid);
    let total = (s.rate * s.duration as f64).round() as u64;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / s.rate));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let padding = "x".repeat(s.payload.saturating_sub(21));
    let started = Instant::now();
    // Client ids are per sender and conversation: a run against a server that kept an earlier
    // run's data must not repeat them, or its sends are (rightly) taken as retries and not pushed.
    let run = now_nanos();
    for i in 0..total {
        ticker.tick().await;
        let client = &clients[(i as usize * s.room_size + i as usize / s.rooms) % users];
        let content = format!("{:020}|{padding}", now_nanos());
        let frame = match s.protocol {
            Protocol::Parlor => {
                json!({"type": "chat_message", "conversation_id": client.conversation, "content": content, "client_id": format!("b{run}-{i}")})
            }
            Protocol::Seed001 => json!({"type": "chat_message", "content": content}),
        };
        match client.outbox.try_send(frame.to_string()) {
            Ok(()) => counters.sent.fetch_add(1, Ordering::Relaxed),
            Err(_) => counters.backlogged.fetch_add(1, Ordering::Relaxed),
        };
    }
    let send_secs = started.elapsed().as_secs_f64();

    // Drain: wait until every delivery arrived, or give up after 10 s.
    let expected = |c: &Counters| {
        let base = if s.protocol == Protocol::Parlor {
            c.acked.load(Ordering::Relaxed)
        } else {
            c.sent.load(Ordering::Relaxed)
        };
        base * s.room_size as u64
    };
    let drain_until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < drain_until
        && (counters.delivered.load(Ordering::Relaxed) < expected(&counters)
            || (s.protocol == Protocol::Parlor
                && counters.acked.load(Ordering::Relaxed) < counters.sent.load(Ordering::Relaxed)))
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = server::sample(target.server_pid);
    drop(clients);
    // Let every reader hand over its last histogram before stopping them.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for reader in readers {
        reader.abort();
    }
    let mut latency = Histogram::<u64>::new(3)?;
    for h in histograms.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default() {
        latency.add(h).ok();
    }

    let c = &counters;
    let (sent, delivered) = (c.sent.load(Ordering::Relaxed), c.delivered.load(Ordering::Relaxed));
    let expected = expected(c);
    println!("protocol: {}", if s.protocol == Protocol::Parlor { "parlor /ws/" } else { "seed 001 /ws/chat/{id}/" });
    println!("conversations: {} x {} members, {} sockets, payload {} B", s.rooms, s.room_size, users, s.payload);
    println!("target rate: {} msg/s for {} s (sent in {:.2} s)", s.rate, s.duration, send_secs);
    println!(
        "sent: {sent}  backlogged: {}  acknowledged: {}  errors: {}",
        c.backlogged.load(Ordering::Relaxed),
        c.acked.load(Ordering::Relaxed),
        c.errors.load(Ordering::Relaxed)
    );
    println!("delivered: {delivered} of {expected} expected  lost: {}", expected.saturating_sub(delivered));
    println!("deliveries/s: {:.0}", delivered as f64 / elapsed);
    println!(
        "latency ms: p50 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        latency.value_at_quantile(0.5) as f64 / 1000.0,
        latency.value_at_quantile(0.99) as f64 / 1000.0,
        latency.value_at_quantile(0.999) as f64 / 1000.0,
        latency.max() as f64 / 1000.0
    );
    println!("{}", server::describe(before, after));
    Ok(())
}

/// Per-connection histograms, handed over every 200 ms and merged at the end, so the hot path
/// takes no shared lock.
type Histograms = Arc<std::sync::Mutex<Vec<Histogram<u64>>>>;

async fn connect(
    url: &str,
    conversation: i64,
    counters: Arc<Counters>,
    histograms: Histograms,
) -> anyhow::Result<(Client, tokio::task::JoinHandle<()>)> {
    let (socket, _) = tokio_tungstenite::connect_async(url).await.with_context(|| format!("connecting {url}"))?;
    let (mut sink, mut source) = socket.split();
    let (outbox, mut queue) = mpsc::channel::<String>(1024);
    tokio::spawn(async move {
        while let Some(frame) = queue.recv().await {
            if sink.send(Message::text(frame)).await.is_err() {
                break;
            }
        }
        sink.close().await.ok();
    });
    let reader = tokio::spawn(async move {
        let mut latency = Histogram::<u64>::new(3).unwrap_or_else(|_| unreachable!("3 significant figures is valid"));
        let mut flush = tokio::time::interval(Duration::from_millis(200));
        loop {
            tokio::select! {
                msg = source.next() => match msg {
                    Some(Ok(Message::Text(text))) => {
                        let Ok(frame) = serde_json::from_str::<Value>(&text) else { continue };
                        match frame["type"].as_str() {
                            Some("chat_message") => {
                                if let Some(sent) = frame["content"].as_str().and_then(|c| c.get(..20)).and_then(|t| t.parse::<u64>().ok()) {
                                    latency.record(now_nanos().saturating_sub(sent) / 1000).ok();
                                    counters.delivered.fetch_add(1, Ordering::Relaxed);
                                }
                            }
                            Some("ack") => { counters.acked.fetch_add(1, Ordering::Relaxed); }
                            Some("error") => { counters.errors.fetch_add(1, Ordering::Relaxed); }
                            _ => {}
                        }
                    }
                    Some(Ok(_)) => {}
                    _ => break,
                },
                _ = flush.tick() => {
                    if !latency.is_empty() && let Ok(mut all) = histograms.lock() {
                        let fresh = Histogram::new_from(&latency);
                        all.push(std::mem::replace(&mut latency, fresh));
                    }
                }
            }
        }
    });
    Ok((Client { conversation, outbox }, reader))
}
