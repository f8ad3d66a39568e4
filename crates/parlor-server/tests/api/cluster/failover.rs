//! Real `parlor` processes on one PostgreSQL database and one Redis: a node killed with
//! SIGKILL in the middle of a conversation costs nobody a message. Its sender retries on
//! another node; listeners on the surviving nodes get every message exactly once, in order.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::harness::RedisServer;
use crate::helpers::{Process, RemoteApp, WAIT, Ws, eventually};

/// Acknowledged sends before the sender's node is killed (with more in flight).
const ACKED_BEFORE_KILL: usize = 100;
/// Sends in flight at once (sent, not yet acknowledged).
const IN_FLIGHT: usize = 16;

async fn start_node(shared: &std::path::Path, database: &str, redis: &str) -> Process {
    let dir = shared.to_str().unwrap();
    let files = format!("file://{}", shared.join("files").display());
    let env = [
        ("PARLOR_DATABASE_URL", database),
        ("PARLOR_REDIS_URL", redis),
        ("PARLOR_STORAGE_URL", files.as_str()),
        ("PARLOR_PUSH__VAPID_PRIVATE_KEY", crate::cluster::harness::VAPID_PRIVATE_KEY),
        ("PARLOR_RATE_LIMITS__SENDS__PER_MINUTE", "0"),
        ("PARLOR_CLUSTER__NODE_LEASE_SECS", "2"),
    ];
    Process::start_with(&["serve", "--bind", "127.0.0.1:0", "--data-dir", dir], &env).await
}

/// What the sender's socket saw before its node died.
struct Sent {
    attempted: Vec<String>,
    acked: BTreeSet<String>,
    /// The messages that came back on the socket (her own, as every member's device gets
    /// them), and the last event seq among them: her resume cursor.
    echoed: BTreeSet<String>,
    cursor: i64,
}

/// Sends over one socket, `IN_FLIGHT` at a time, until the node goes away.
async fn send_until_killed(addr: SocketAddr, token: &str, room: i64, progress: Arc<AtomicUsize>) -> Sent {
    let mut sent = Sent { attempted: Vec::new(), acked: BTreeSet::new(), echoed: BTreeSet::new(), cursor: 0 };
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/ws/?token={token}")).await.unwrap();
    let (mut tx, mut rx) = ws.split();
    let mut in_flight = 0;
    loop {
        while in_flight < IN_FLIGHT {
            let id = format!("m-{}", sent.attempted.len());
            let frame = json!({"type": "chat_message", "conversation_id": room, "content": id, "client_id": id});
            if tx.send(Message::text(frame.to_string())).await.is_err() {
                return sent;
            }
            sent.attempted.push(id);
            in_flight += 1;
        }
        let Ok(Some(Ok(Message::Text(text)))) = tokio::time::timeout(WAIT, rx.next()).await else {
            return sent;
        };
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["type"] == "ack" {
            sent.acked.insert(frame["client_id"].as_str().unwrap().to_owned());
            progress.store(sent.acked.len(), Ordering::Relaxed);
            in_flight -= 1;
        }
        if frame["type"] == "chat_message" && frame["conversation_id"] == room {
            let seq = frame["seq"].as_i64().unwrap();
            assert!(seq > sent.cursor, "the sender's own socket got events in order");
            sent.cursor = seq;
            if let Some(id) = frame["client_id"].as_str() {
                sent.echoed.insert(id.to_owned());
            }
        }
    }
}

/// Reads a listener's `chat_message` frames until it has seen `expected` distinct messages;
/// fails on a duplicate or a frame out of order.
async fn listen_for(ws: &mut Ws, who: &str, expected: usize) -> BTreeSet<String> {
    let (mut seen, mut last_seq) = (BTreeSet::new(), 0);
    while seen.len() < expected {
        let frame = ws.next().await;
        if frame["type"] != "chat_message" {
            continue;
        }
        let seq = frame["seq"].as_i64().unwrap();
        assert!(seq > last_seq, "{who} got event {seq} after {last_seq}: out of order or twice");
        last_seq = seq;
        if let Some(id) = frame["client_id"].as_str() {
            assert!(seen.insert(id.to_owned()), "{who} got {id} twice");
        }
    }
    seen
}

/// Every message of the conversation as (client_id, seq), oldest first, paging back.
async fn history(remote: &RemoteApp, token: &str, room: i64) -> Vec<(Option<String>, i64)> {
    let (mut all, mut before) = (Vec::new(), String::new());
    loop {
        let (status, page) =
            remote.get(token, &format!("/api/chat/conversations/{room}/messages/?limit=100{before}")).await;
        assert_eq!(status, 200, "{page}");
        let results = page["results"].as_array().unwrap();
        all.extend(results.iter().map(|m| (m["client_id"].as_str().map(str::to_owned), m["seq"].as_i64().unwrap())));
        let Some(oldest) = results.iter().filter_map(|m| m["seq"].as_i64()).min() else { break };
        if page["has_more"] != true {
            break;
        }
        before = format!("&before={oldest}");
    }
    all.sort_by_key(|(_, seq)| *seq);
    all
}

async fn register(remote: &RemoteApp, name: &str) -> (i64, String) {
    let (status, body) =
        remote.post(None, "/api/auth/register", json!({"username": name, "password": "correct horse"})).await;
    assert_eq!(status, 201, "{body}");
    (body["user"]["id"].as_i64().unwrap(), body["access"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_conversation_loses_nothing_and_duplicates_nothing() {
    let Some(admin) = parlor_store_postgres::testing::admin_url_or_skip("failover") else { return };
    let Some(redis) = RedisServer::start().await else { return };
    let (database, _guard) = parlor_store_postgres::testing::fresh_database(&admin).await.unwrap();
    let shared = tempfile::tempdir().unwrap();
    let a = start_node(shared.path(), &database, &redis.url()).await;
    let b = start_node(shared.path(), &database, &redis.url()).await;
    let c = start_node(shared.path(), &database, &redis.url()).await;
    let (on_a, on_b, on_c) = (a.app_view(), b.app_view(), c.app_view());

    let (_, alice) = register(&on_a, "alice").await;
    let (bob_id, bob) = register(&on_b, "bob").await;
    let (carol_id, carol) = register(&on_c, "carol").await;
    let (status, room) =
        on_a.post(Some(&alice), "/api/chat/rooms/", json!({"title": "Crew", "members": [bob_id, carol_id]})).await;
    assert_eq!(status, 201, "{room}");
    let room = room["id"].as_i64().unwrap();
    let mut bob_ws = Ws::connect(&format!("ws://{}/ws/?token={bob}", b.addr)).await.watching();
    let mut carol_ws = Ws::connect(&format!("ws://{}/ws/?token={carol}", c.addr)).await.watching();

    // Alice writes on node A, which dies with sends in flight.
    let progress = Arc::new(AtomicUsize::new(0));
    let sender = tokio::spawn({
        let (addr, alice, progress) = (a.addr, alice.clone(), progress.clone());
        async move { send_until_killed(addr, &alice, room, progress).await }
    });
    eventually(WAIT, "the sender gets going", || async { progress.load(Ordering::Relaxed) >= ACKED_BEFORE_KILL }).await;
    a.kill().await;
    let sent = tokio::time::timeout(WAIT, sender).await.expect("the sender stops").unwrap();
    let (attempted, acked) = (&sent.attempted, &sent.acked);
    assert!(acked.len() >= ACKED_BEFORE_KILL, "the load was real: {} acknowledged", acked.len());
    assert!(attempted.len() > acked.len(), "the kill came mid-stream");

    // Her client reconnects elsewhere (node C) and retries what was never acknowledged, with
    // the same client ids: what node A stored before dying is not stored again.
    let url = format!("http://{}/api/chat/conversations/{room}/messages/", c.addr);
    let http = reqwest::Client::new();
    for id in attempted.iter().filter(|id| !acked.contains(id.as_str())) {
        let sent =
            http.post(&url).bearer_auth(&alice).json(&json!({"content": id, "client_id": id})).send().await.unwrap();
        assert!(sent.status().is_success(), "retry of {id}: {}", sent.status());
    }

    let everything: BTreeSet<String> = attempted.iter().cloned().collect();
    assert_eq!(listen_for(&mut bob_ws, "bob on B", everything.len()).await, everything);
    assert_eq!(listen_for(&mut carol_ws, "carol on C", everything.len()).await, everything);

    // Her socket reconnects to node C and resumes from the last event it saw on A: the replay
    // holds exactly what it had not seen, in order.
    let mut alice_ws = Ws::connect(&format!("ws://{}/ws/?token={alice}", c.addr)).await.watching();
    alice_ws.send(json!({"type": "resume", "conversations": {room.to_string(): sent.cursor}})).await;
    let mut replayed = BTreeSet::new();
    let mut last = sent.cursor;
    loop {
        let frame = alice_ws.next().await;
        match frame["type"].as_str() {
            Some("resumed") => break,
            Some("chat_message") => {
                let seq = frame["seq"].as_i64().unwrap();
                assert!(seq > last, "replay in order, from after the cursor: {seq} after {last}");
                last = seq;
                let id = frame["client_id"].as_str().unwrap().to_owned();
                assert!(!sent.echoed.contains(&id), "{id} was seen on A and replayed again");
                assert!(replayed.insert(id), "replayed twice");
            }
            _ => {}
        }
    }
    let seen: BTreeSet<String> = sent.echoed.union(&replayed).cloned().collect();
    assert_eq!(seen, everything, "her devices end up with every message once");

    // The log itself: every message once, numbered without a gap.
    let messages = history(&on_b, &bob, room).await;
    let seqs: Vec<i64> = messages.iter().map(|(_, seq)| *seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "message seqs are gap-free");
    let stored: Vec<&String> = messages.iter().filter_map(|(id, _)| id.as_ref()).collect();
    assert_eq!(stored.len(), everything.len(), "nothing stored twice");
    drop((b, c));
}
