//! A socket's sends are pipelined: a client may write many `chat_message` frames without waiting,
//! and each is answered (`ack` or `error`) in the order it was sent, numbered in that order,
//! stored, and delivered to the other members in that order, on the unified socket and on seed
//! 001's scoped one. Frames of other kinds in a burst are answered in their place too.

use parlor_server::rate_limit::Rate;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{TestApp, TestUser, WAIT, Ws, temp_path};
use crate::observability::{sample, scrape};

/// A server whose `sends` bucket does not get in the way of bursts.
async fn unlimited() -> TestApp {
    TestApp::spawn_with(|c| c.rate_limits.sends = Rate::OFF).await
}

/// Alice and Bob on `app`, and their direct conversation.
async fn alice_and_bob(app: &TestApp) -> (TestUser, TestUser, i64) {
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    (alice, bob, conversation)
}

/// Commits the batch writer has made so far (`parlor_db_latency_seconds{op="write_batch"}`).
async fn commits(app: &TestApp) -> f64 {
    sample(&scrape(app).await, r#"parlor_db_latency_seconds_count{op="write_batch"}"#).unwrap_or(0.0)
}

/// The `client_id` of the next `ack` on a raw socket, or `None` once it stays silent for
/// [`WAIT`] or closes.
async fn next_ack(ws: &mut Ws) -> Option<String> {
    while let Ok(Some(Message::Text(text))) = tokio::time::timeout(WAIT, ws.next_raw()).await {
        let frame: Value = serde_json::from_str(&text).unwrap();
        if frame["type"] == "ack" {
            return Some(frame["client_id"].as_str().unwrap().to_owned());
        }
    }
    None
}

/// The next `n` frames of these types, in the order they came (others are skipped).
async fn frames_of(ws: &mut Ws, kinds: &[&str], n: usize) -> Vec<Value> {
    let mut found = Vec::with_capacity(n);
    while found.len() < n {
        let frame = ws.next().await;
        if kinds.iter().any(|k| frame["type"] == *k) {
            found.push(frame);
        }
    }
    found
}

/// What a socket said in answer to its frames: acks, errors and pongs, in order.
async fn answers(ws: &mut Ws, n: usize) -> Vec<Value> {
    frames_of(ws, &["ack", "error", "pong"], n).await
}

/// Every stored message of a conversation, oldest first, as its history pages say.
async fn history(user: &TestUser, conversation: i64) -> Vec<Value> {
    let mut all = Vec::new();
    let mut path = format!("/api/chat/conversations/{conversation}/messages/?limit=100");
    loop {
        let (_, page) = user.get(&path).await;
        let results = page["results"].as_array().unwrap().clone();
        let Some(oldest) = results.last().map(|m| m["seq"].as_i64().unwrap()) else { break };
        all.extend(results);
        path = format!("/api/chat/conversations/{conversation}/messages/?limit=100&before={oldest}");
    }
    all.reverse();
    all
}

fn contents(messages: &[Value]) -> Vec<String> {
    messages.iter().map(|m| m["content"].as_str().unwrap().to_owned()).collect()
}

/// `n` sends written without waiting on `sender` (scoped: without `conversation_id`), then their
/// acks read back: all in order, numbered in order, stored, and received in order by `receiver`.
async fn burst(sender: &mut Ws, receiver: &mut Ws, reader: &TestUser, conversation: i64, n: usize, scoped: bool) {
    let sent: Vec<String> = (0..n).map(|i| format!("burst {i}")).collect();
    for (i, content) in sent.iter().enumerate() {
        let mut frame = json!({"type": "chat_message", "content": content, "client_id": format!("b-{i}")});
        if !scoped {
            frame["conversation_id"] = json!(conversation);
        }
        sender.send(frame).await;
    }
    let acks = answers(sender, n).await;
    for (i, ack) in acks.iter().enumerate() {
        assert_eq!(ack["type"], "ack", "answer {i}: {ack}");
        assert_eq!(ack["client_id"], format!("b-{i}"), "answer {i} is the ack of send {i}");
        assert_eq!(ack["duplicate"], false, "answer {i}");
    }
    let message_seqs: Vec<i64> = acks.iter().map(|a| a["message_seq"].as_i64().unwrap()).collect();
    assert!(message_seqs.windows(2).all(|w| w[1] == w[0] + 1), "numbered in the order sent: {message_seqs:?}");
    let seqs: Vec<i64> = acks.iter().map(|a| a["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[1] > w[0]), "event seqs increase in the order sent: {seqs:?}");

    let received = frames_of(receiver, &["chat_message"], n).await;
    assert_eq!(contents(&received), sent, "the other member receives them in the order sent");
    let ids: Vec<&Value> = received.iter().map(|m| &m["message_id"]).collect();
    assert_eq!(ids, acks.iter().map(|a| &a["message_id"]).collect::<Vec<_>>(), "the messages acked");

    let stored = history(reader, conversation).await;
    let stored_burst: Vec<String> = contents(&stored).into_iter().filter(|c| c.starts_with("burst ")).collect();
    assert_eq!(stored_burst, sent, "all stored, in the order sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_sends_without_waiting_are_acked_stored_and_delivered_in_order() {
    let app = unlimited().await;
    let (alice, bob, conversation) = alice_and_bob(&app).await;
    let mut alice_ws = app.ws(&alice.token).await;
    let mut bob_ws = app.ws(&bob.token).await;
    let before = commits(&app).await;
    burst(&mut alice_ws, &mut bob_ws, &bob, conversation, 200, false).await;
    // One socket answered one send at a time would commit each alone: 200 commits at least.
    let made = commits(&app).await - before;
    assert!(made < 150.0, "the burst's sends shared commits: {made} commits for 200 sends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_001s_scoped_socket_pipelines_its_sends_too() {
    let app = unlimited().await;
    let (alice, bob, conversation) = alice_and_bob(&app).await;
    let mut alice_ws = app.ws_chat(&alice.token, conversation).await;
    let mut bob_ws = app.ws_chat(&bob.token, conversation).await;
    burst(&mut alice_ws, &mut bob_ws, &alice, conversation, 100, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_and_retries_in_a_burst_are_answered_in_their_place() {
    let app = unlimited().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let ab = app.dm(&alice, &bob).await;
    let bc = app.dm(&bob, &carol).await;
    let mut alice_ws = app.ws(&alice.token).await;
    let mut bob_ws = app.ws(&bob.token).await;

    let send = |content: &str, client_id: Option<&str>| {
        let mut frame = json!({"type": "chat_message", "conversation_id": ab, "content": content});
        if let Some(id) = client_id {
            frame["client_id"] = json!(id);
        }
        frame
    };
    alice_ws.send(send("m0", None)).await;
    alice_ws.send(send("m1", Some("r-1"))).await;
    alice_ws.send_text("{not json").await;
    alice_ws.send(send("m2", Some("r-2"))).await;
    // The retry right behind its first attempt, most likely in the same batch.
    alice_ws.send(send("m2", Some("r-2"))).await;
    alice_ws.send(json!({"type": "chat_message", "conversation_id": bc, "content": "not my conversation"})).await;
    alice_ws.send(send("   ", None)).await;
    // Refused when stored, not before: its error still comes in its place.
    alice_ws.send(json!({"type": "chat_message", "conversation_id": ab, "content": "x", "reply_to": 424242})).await;
    alice_ws.send(send("m1", Some("r-1"))).await;
    alice_ws.send_binary(vec![0, 1, 2]).await;
    alice_ws.send(send("m3", None)).await;

    let got = answers(&mut alice_ws, 11).await;
    let shape: Vec<(String, String)> = got
        .iter()
        .map(|f| {
            let detail = match f["type"].as_str() {
                Some("ack") => f["client_id"].as_str().unwrap_or("-").to_owned(),
                _ => f["code"].as_str().unwrap_or_default().to_owned(),
            };
            (f["type"].as_str().unwrap().to_owned(), detail)
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("ack", "-"),
        ("ack", "r-1"),
        ("error", "invalid_json"),
        ("ack", "r-2"),
        ("ack", "r-2"),
        ("error", "not_found"),
        ("error", "validation_failed"),
        ("error", "validation_failed"),
        ("ack", "r-1"),
        ("error", "invalid_json"),
        ("ack", "-"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(shape, expected, "every frame answered in the order sent: {got:#?}");

    let duplicates: Vec<bool> = got.iter().filter(|f| f["type"] == "ack").map(|f| f["duplicate"] == true).collect();
    assert_eq!(duplicates, [false, false, false, true, true, false], "the retries are acked as duplicates");
    assert_eq!(got[4]["message_id"], got[3]["message_id"], "a retry in the burst is answered with its first");
    assert_eq!(got[8]["message_id"], got[1]["message_id"], "a later retry too");

    let received = frames_of(&mut bob_ws, &["chat_message"], 4).await;
    assert_eq!(contents(&received), ["m0", "m1", "m2", "m3"], "each new message delivered once, in order");
    assert_eq!(contents(&history(&bob, ab).await), ["m0", "m1", "m2", "m3"], "stored once each");
    assert!(history(&bob, bc).await.is_empty(), "nothing reached the conversation alice is not in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mixed_burst_is_answered_in_order() {
    let app = unlimited().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let ab = app.dm(&alice, &bob).await;
    let bc = app.dm(&bob, &carol).await;
    let mut alice_ws = app.ws(&alice.token).await;
    let mut bob_ws = app.ws(&bob.token).await;

    alice_ws.send(json!({"type": "chat_message", "conversation_id": ab, "content": "first"})).await;
    let first = answers(&mut alice_ws, 1).await.remove(0);
    assert_eq!(first["type"], "ack", "{first}");
    assert_eq!(bob_ws.expect("chat_message").await["content"], "first");

    let frames = [
        json!({"type": "chat_message", "conversation_id": ab, "content": "a"}),
        json!({"type": "message_read", "conversation_id": ab}),
        json!({"type": "message_read", "conversation_id": bc}),
        json!({"type": "typing_indicator", "conversation_id": ab, "is_typing": true}),
        json!({"type": "edit_message", "message_id": first["message_id"], "content": "first, edited"}),
        json!({"type": "edit_message", "message_id": 424242, "content": "nobody's"}),
        json!({"type": "ping"}),
        json!({"type": "chat_message", "conversation_id": ab, "content": "b"}),
    ];
    for frame in frames {
        alice_ws.send(frame).await;
    }
    let got = answers(&mut alice_ws, 5).await;
    let kinds: Vec<(&str, &str)> =
        got.iter().map(|f| (f["type"].as_str().unwrap(), f["code"].as_str().unwrap_or(""))).collect();
    assert_eq!(
        kinds,
        [("ack", ""), ("error", "not_found"), ("error", "not_found"), ("pong", ""), ("ack", "")],
        "{got:#?}"
    );
    assert!(got[4]["message_seq"].as_i64() > got[0]["message_seq"].as_i64(), "b numbered after a");

    // Bob sees their effects in the order alice sent them.
    let seen = frames_of(&mut bob_ws, &["chat_message", "typing_indicator", "message_edited"], 4).await;
    let seen: Vec<(&str, &str)> = seen
        .iter()
        .map(|f| {
            (f["type"].as_str().unwrap(), f["content"].as_str().or(f["message"]["content"].as_str()).unwrap_or(""))
        })
        .collect();
    assert_eq!(seen[0], ("chat_message", "a"));
    assert_eq!(seen[1].0, "typing_indicator");
    assert_eq!(seen[2].0, "message_edited");
    assert_eq!(seen[3], ("chat_message", "b"));
    let stored = history(&bob, ab).await;
    assert_eq!(contents(&stored), ["first, edited", "a", "b"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_over_the_rate_limit_in_a_burst_are_refused_in_their_place() {
    let app = TestApp::spawn_with(|c| c.rate_limits.sends = Rate { per_minute: 1, burst: 5 }).await;
    let (alice, _bob, conversation) = alice_and_bob(&app).await;
    let mut alice_ws = app.ws(&alice.token).await;
    for i in 0..8 {
        alice_ws
            .send(json!({"type": "chat_message", "conversation_id": conversation, "content": format!("m{i}")}))
            .await;
    }
    let got = answers(&mut alice_ws, 8).await;
    let kinds: Vec<&str> = got.iter().map(|f| f["code"].as_str().unwrap_or(f["type"].as_str().unwrap())).collect();
    assert_eq!(kinds, ["ack", "ack", "ack", "ack", "ack", "rate_limited", "rate_limited", "rate_limited"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sends_in_flight_when_the_client_leaves_are_stored_and_delivered() {
    let app = unlimited().await;
    let (alice, bob, conversation) = alice_and_bob(&app).await;
    let mut bob_ws = app.ws(&bob.token).await;
    let mut alice_ws = app.ws(&alice.token).await;
    let sent: Vec<String> = (0..50).map(|i| format!("left {i}")).collect();
    for content in &sent {
        alice_ws.send(json!({"type": "chat_message", "conversation_id": conversation, "content": content})).await;
    }
    // Gone without reading a single answer (the socket stays open under the close frame, so
    // the server reads every frame before it).
    alice_ws.send_close().await;
    let received = frames_of(&mut bob_ws, &["chat_message"], sent.len()).await;
    assert_eq!(contents(&received), sent, "every send before the goodbye was stored and fanned out, in order");
    assert_eq!(contents(&history(&bob, conversation).await), sent);
    drop(alice_ws);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_in_the_middle_of_a_burst_loses_no_acknowledged_send() {
    let (_guard, data_dir) = temp_path();
    let app = TestApp::spawn_at(&data_dir, |c| c.rate_limits.sends = Rate::OFF).await;
    let (alice, bob, conversation) = alice_and_bob(&app).await;
    let mut alice_ws = app.ws(&alice.token).await;
    let sent: Vec<String> = (0..60).map(|i| format!("s-{i}")).collect();
    for id in &sent {
        alice_ws
            .send(json!({"type": "chat_message", "conversation_id": conversation, "content": id, "client_id": id}))
            .await;
    }
    // Stop once the burst is under way (one ack in), so the stop finds sends in flight.
    let mut acked = vec![next_ack(&mut alice_ws).await.expect("an ack before the stop")];
    let stopping = tokio::spawn(app.stop());
    while let Some(id) = next_ack(&mut alice_ws).await {
        acked.push(id);
    }
    stopping.await.unwrap();

    let app = TestApp::spawn_at(&data_dir, |_| {}).await;
    let stored = contents(&history(&app.signed_in(bob.id, &bob.token), conversation).await);
    assert_eq!(stored, sent[..stored.len()], "what was stored is what the server read, in order");
    assert_eq!(acked, sent[..acked.len()], "acks came in the order sent");
    assert!(acked.len() <= stored.len(), "every acknowledged send is stored: {acked:?} of {stored:?}");
    assert!(!stored.is_empty(), "the sends the server had read before stopping were stored");
}
