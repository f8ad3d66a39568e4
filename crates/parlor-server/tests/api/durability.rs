//! Every acknowledged message survives the server being killed under load, exactly once, and
//! retries after the restart store nothing twice; a graceful stop closes sockets with "going
//! away" and loses nothing.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{Process, RemoteApp, TestApp, WAIT, temp_path};

/// How long the clients send before the server is killed in the middle of it.
const LOAD_FOR: Duration = Duration::from_millis(1500);
/// Sends a socket client keeps in flight (sent, not yet acknowledged).
const IN_FLIGHT: usize = 16;

/// What one client did: every `client_id` it sent, and those the server acknowledged.
#[derive(Default)]
struct Sent {
    attempted: Vec<String>,
    acked: BTreeSet<String>,
}

/// Sends over a socket continuously, `IN_FLIGHT` at a time, until the server goes away.
async fn socket_client(addr: SocketAddr, token: String, conversation: i64, name: String) -> Sent {
    let mut sent = Sent::default();
    let url = format!("ws://{addr}/ws/?token={token}");
    let (ws, _) = tokio_tungstenite::connect_async(url).await.expect("socket connects");
    let (mut tx, mut rx) = ws.split();
    let mut in_flight = 0usize;
    loop {
        while in_flight < IN_FLIGHT {
            let client_id = format!("{name}-{}", sent.attempted.len());
            let frame = json!({"type": "chat_message", "conversation_id": conversation, "content": client_id, "client_id": client_id});
            if tx.send(Message::text(frame.to_string())).await.is_err() {
                return sent;
            }
            sent.attempted.push(client_id);
            in_flight += 1;
        }
        let Ok(Some(Ok(Message::Text(text)))) = tokio::time::timeout(WAIT, rx.next()).await else {
            // Killed: the socket ends (or breaks). Pings and closes end nothing here.
            return sent;
        };
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["type"] == "ack" {
            sent.acked.insert(frame["client_id"].as_str().unwrap().to_owned());
            in_flight -= 1;
        }
        assert_ne!(frame["type"], "error", "no send fails under load: {frame}");
    }
}

/// Sends over REST one after another until the server goes away.
async fn rest_client(addr: SocketAddr, token: String, conversation: i64, name: String) -> Sent {
    let mut sent = Sent::default();
    let http = reqwest::Client::new();
    let url = format!("http://{addr}/api/chat/conversations/{conversation}/messages/");
    loop {
        let client_id = format!("{name}-{}", sent.attempted.len());
        sent.attempted.push(client_id.clone());
        let body = json!({"content": client_id, "client_id": client_id});
        match http.post(&url).bearer_auth(&token).json(&body).send().await {
            Ok(r) if r.status() == 201 => drop(sent.acked.insert(client_id)),
            Ok(r) => panic!("a send under load answered {}", r.status()),
            Err(_) => return sent,
        }
    }
}

/// Every message of the conversation as (client_id, seq), paging back through history.
async fn all_messages(remote: &RemoteApp, token: &str, conversation: i64) -> Vec<(String, i64)> {
    let mut all = Vec::new();
    let mut before = String::new();
    loop {
        let path = format!("/api/chat/conversations/{conversation}/messages/?limit=100{before}");
        let (status, page) = remote.get(token, &path).await;
        assert_eq!(status, 200, "{page}");
        let results = page["results"].as_array().unwrap();
        all.extend(results.iter().map(|m| (m["client_id"].as_str().unwrap().to_owned(), m["seq"].as_i64().unwrap())));
        let Some(oldest) = results.iter().map(|m| m["seq"].as_i64().unwrap()).min() else { break };
        if page["has_more"] != true {
            break;
        }
        before = format!("&before={oldest}");
    }
    all.sort_by_key(|(_, seq)| *seq);
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_message_survives_kill_under_load_exactly_once() {
    let (_guard, data_dir) = temp_path();
    // No send limit: the clients send as fast as the server acknowledges (over the default
    // burst within the load), and a refused send is not what this test is about.
    let dir = data_dir.to_str().unwrap();
    let server = Process::start_with(
        &["serve", "--bind", "127.0.0.1:0", "--data-dir", dir],
        &[("PARLOR_RATE_LIMITS__SENDS__PER_MINUTE", "0")],
    )
    .await;
    let remote = server.app_view();
    let register = |name: &'static str| {
        let remote = &remote;
        async move {
            let (status, body) =
                remote.post(None, "/api/auth/register", json!({"username": name, "password": "correct horse"})).await;
            assert_eq!(status, 201, "{body}");
            (body["user"]["id"].as_i64().unwrap(), body["access"].as_str().unwrap().to_owned())
        }
    };
    let (_, alice) = register("alice").await;
    let (bob_id, bob) = register("bob").await;
    let (_, dm) = remote.post(Some(&alice), "/api/chat/conversations/", json!({"user_id": bob_id})).await;
    let conversation = dm["id"].as_i64().unwrap();

    // Both users send at once over two sockets each and REST, then the server is killed while
    // every client still has sends in flight.
    let mut clients = Vec::new();
    for (user, token) in [("alice", &alice), ("bob", &bob)] {
        for n in 0..2 {
            let name = format!("{user}-ws{n}");
            clients.push((token.clone(), tokio::spawn(socket_client(server.addr, token.clone(), conversation, name))));
        }
        let name = format!("{user}-rest");
        clients.push((token.clone(), tokio::spawn(rest_client(server.addr, token.clone(), conversation, name))));
    }
    tokio::time::sleep(LOAD_FOR).await;
    server.kill().await;
    let mut sent = Vec::new();
    for (token, client) in clients {
        sent.push((token, tokio::time::timeout(WAIT, client).await.expect("clients stop").unwrap()));
    }
    let acked: BTreeSet<String> = sent.iter().flat_map(|(_, s)| s.acked.iter().cloned()).collect();
    let attempted: BTreeSet<String> = sent.iter().flat_map(|(_, s)| s.attempted.iter().cloned()).collect();
    assert!(acked.len() >= 100, "the load was real: only {} sends were acknowledged", acked.len());
    assert!(attempted.len() > acked.len(), "the kill came mid-stream: every send was acknowledged");

    let server = Process::start(&data_dir).await;
    let remote = server.app_view();
    let stored = all_messages(&remote, &alice, conversation).await;
    let ids: Vec<&String> = stored.iter().map(|(id, _)| id).collect();
    let unique: BTreeSet<String> = ids.iter().map(|id| (*id).clone()).collect();
    assert_eq!(unique.len(), stored.len(), "no message is stored twice");
    assert!(acked.is_subset(&unique), "every acknowledged message is stored: missing {:?}", acked.difference(&unique));
    assert!(unique.is_subset(&attempted), "nothing is stored that was not sent");
    let seqs: Vec<i64> = stored.iter().map(|(_, seq)| *seq).collect();
    assert_eq!(seqs, (1..=i64::try_from(stored.len()).unwrap()).collect::<Vec<_>>(), "sequence numbers have no gaps");

    // Clients retry what they never heard back about, and (as a lost answer would make them)
    // a few acknowledged ones, with the same client_ids: a stored one is a duplicate (200),
    // a lost one is stored now (201), and still nothing is there twice.
    let path = format!("/api/chat/conversations/{conversation}/messages/");
    for (token, s) in &sent {
        let unacked = s.attempted.iter().filter(|id| !s.acked.contains(*id));
        for client_id in unacked.chain(s.acked.iter().take(3)) {
            let (status, body) =
                remote.post(Some(token), &path, json!({"content": client_id, "client_id": client_id})).await;
            let expected = if unique.contains(client_id) { 200 } else { 201 };
            assert_eq!(status, expected, "retry of {client_id}: {body}");
        }
    }
    let after = all_messages(&remote, &alice, conversation).await;
    let after_ids: BTreeSet<String> = after.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(after_ids.len(), after.len(), "no message is stored twice after the retries");
    assert_eq!(after_ids, attempted, "after the retries every send is stored exactly once");
    let seqs: Vec<i64> = after.iter().map(|(_, seq)| *seq).collect();
    assert_eq!(seqs, (1..=i64::try_from(after.len()).unwrap()).collect::<Vec<_>>(), "still no gaps");

    let exit = server.terminate().await;
    assert!(exit.success(), "SIGTERM stops parlor cleanly: {exit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_closes_sockets_with_going_away() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let mut ws = app.ws(&alice.token).await;
    let stopping = tokio::spawn(app.stop());
    let close = ws.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 1001);
    stopping.await.unwrap();
}
