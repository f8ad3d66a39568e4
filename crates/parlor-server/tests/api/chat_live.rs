//! Two users chat live, each on two devices: every message reaches every open connection of
//! every member, the sender's other device included, and the sender gets an acknowledgement.

use serde_json::{Value, json};

use crate::helpers::TestApp;

fn by_type<'a>(frames: &'a [Value], kind: &str) -> &'a Value {
    frames.iter().find(|f| f["type"] == kind).unwrap_or_else(|| panic!("no {kind} frame in {frames:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_chat_live_on_two_devices_each() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;

    let mut alice_phone = app.ws(&alice.token).await;
    let mut alice_laptop = app.ws(&alice.token).await;
    let mut bob_phone = app.ws(&bob.token).await;
    // Bob's second device speaks seed 001's conversation-scoped protocol.
    let mut bob_laptop = app.ws_chat(&bob.token, conversation).await;
    assert_eq!(alice_phone.hello["user_id"], alice.id);
    assert_eq!(bob_laptop.hello["conversation_id"], conversation);

    alice_phone
        .send(
            json!({"type": "chat_message", "conversation_id": conversation, "content": "Hi Bob!", "client_id": "a-1"}),
        )
        .await;
    let sent = alice_phone.take(2).await;
    let ack = by_type(&sent, "ack");
    let echo = by_type(&sent, "chat_message");
    assert_eq!(ack["client_id"], "a-1");
    assert_eq!(ack["duplicate"], false);
    assert_eq!(ack["message_id"], echo["message_id"]);

    for ws in [&mut alice_laptop, &mut bob_phone, &mut bob_laptop] {
        let got = ws.expect("chat_message").await;
        assert_eq!(got["content"], "Hi Bob!");
        assert_eq!(got["conversation_id"], conversation);
        assert_eq!(got["sender_id"], alice.id);
        assert_eq!(got["sender_name"], "alice");
        assert_eq!(got["message_id"], ack["message_id"]);
        assert_eq!(got["message_seq"], 1);
        assert_eq!(got["seq"], ack["seq"]);
        assert!(got["created_at"].as_str().unwrap().ends_with('Z'));
    }

    // Bob answers from the scoped socket without naming the conversation, as seed 001's client does.
    bob_laptop.send(json!({"type": "chat_message", "content": "Hello Alice"})).await;
    let sent = bob_laptop.take(2).await;
    assert_eq!(by_type(&sent, "ack")["message_seq"], 2);
    for ws in [&mut alice_phone, &mut alice_laptop, &mut bob_phone] {
        let got = ws.expect("chat_message").await;
        assert_eq!(got["content"], "Hello Alice");
        assert_eq!(got["sender_id"], bob.id);
        assert_eq!(got["message_seq"], 2);
    }

    // Typing reaches the other member's devices, not the typist's own.
    bob_phone.send(json!({"type": "typing_indicator", "conversation_id": conversation, "is_typing": true})).await;
    for ws in [&mut alice_phone, &mut alice_laptop] {
        let got = ws.expect("typing_indicator").await;
        assert_eq!(got["user_id"], bob.id);
        assert_eq!(got["user_name"], "bob");
        assert_eq!(got["is_typing"], true);
    }
    bob_laptop.expect_quiet(200).await;

    // Alice reads Bob's message; everyone in the conversation hears of it.
    let bobs_message = ack_id(&sent);
    alice_laptop
        .send(json!({"type": "message_read", "conversation_id": conversation, "message_ids": [bobs_message]}))
        .await;
    for ws in [&mut alice_phone, &mut alice_laptop, &mut bob_phone, &mut bob_laptop] {
        let got = ws.expect("messages_read").await;
        assert_eq!(got["user_id"], alice.id);
        assert_eq!(got["message_ids"], json!([bobs_message]));
        assert_eq!(got["up_to_seq"], 2);
    }
    let (_, unread) = alice.get("/api/chat/unread-count/").await;
    assert_eq!(unread["total"], 0);
}

fn ack_id(frames: &[Value]) -> i64 {
    by_type(frames, "ack")["message_id"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_001_client_flow_works_unchanged() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;

    let mut a = app.ws_chat(&alice.token, conversation).await;
    assert_eq!(a.hello["message"], "Connected to chat");
    let mut b = app.ws_chat(&bob.token, conversation).await;

    a.send(json!({"type": "chat_message", "content": "Hello!"})).await;
    let got = b.expect("chat_message").await;
    for field in ["message_id", "sender_id", "sender_name", "sender_avatar", "content", "created_at"] {
        assert!(got.get(field).is_some(), "seed 001 field {field} missing from {got}");
    }
    assert_eq!(got["content"], "Hello!");

    let own = a.take(2).await;
    assert!(own.iter().any(|f| f["type"] == "chat_message") && own.iter().any(|f| f["type"] == "ack"));

    b.send(json!({"type": "typing_indicator", "is_typing": true})).await;
    assert_eq!(a.expect("typing_indicator").await["user_name"], "bob");

    b.send(json!({"type": "message_read", "message_ids": [got["message_id"]]})).await;
    let read = a.expect("messages_read").await;
    assert_eq!(read["user_id"], bob.id);
    assert!(read["read_at"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_over_http_is_pushed_like_one_sent_over_the_socket() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    let mut bob_ws = app.ws(&bob.token).await;
    let mut alice_ws = app.ws(&alice.token).await;

    let (status, stored) = app
        .post(Some(&alice.token), "/api/chat/messages/", json!({"conversation": conversation, "content": "via REST"}))
        .await;
    assert_eq!(status, 201, "{stored}");
    for ws in [&mut bob_ws, &mut alice_ws] {
        let got = ws.expect("chat_message").await;
        assert_eq!(got["message_id"], stored["id"]);
        assert_eq!(got["content"], "via REST");
    }

    let (status, fetched) = bob.get(&format!("/api/chat/messages/{}/", stored["id"])).await;
    assert_eq!(status, 200);
    assert_eq!(fetched["content"], "via REST");
    assert_eq!(fetched["seq"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_carry_the_quoted_message() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    let first = app.send_message(&alice, conversation, "Lunch at noon?").await;
    let mut alice_ws = app.ws(&alice.token).await;

    let mut bob_ws = app.ws(&bob.token).await;
    bob_ws.send(json!({"type": "chat_message", "conversation_id": conversation, "content": "Yes!", "reply_to": first["id"]})).await;
    let got = alice_ws.expect("chat_message").await;
    assert_eq!(got["reply_to"]["id"], first["id"]);
    assert_eq!(got["reply_to"]["content"], "Lunch at noon?");
    assert_eq!(got["reply_to"]["sender_id"], alice.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_client_never_delays_anyone_else() {
    let app = TestApp::spawn_with(|c| {
        c.limits.send_queue = 8;
        c.limits.max_message_chars = 60_000;
        c.limits.max_body_bytes = 128 * 1024;
        c.limits.heartbeat_secs = 2;
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    // Bob connects and never reads again.
    let mut bob_ws = app.ws(&bob.token).await;
    let mut alice_ws = app.ws(&alice.token).await;

    // ~24 MB of events: far more than socket buffers plus Bob's queue can hold.
    let big = "x".repeat(59_990);
    let path = format!("/api/chat/conversations/{conversation}/messages/");
    for i in 0..400 {
        let (status, _) = alice.post(&path, json!({"content": format!("{i}{big}")})).await;
        assert_eq!(status, 201);
        // Alice's own device keeps receiving every message, in order, while Bob stalls.
        let got = alice_ws.expect("chat_message").await;
        assert_eq!(got["message_seq"], i + 1);
    }

    // Bob's connection was cut rather than waited for; he reconnects and resumes.
    let close = loop {
        match tokio::time::timeout(std::time::Duration::from_secs(10), bob_ws.next_raw()).await.expect("closed in time")
        {
            Some(frame) if frame.is_close() => break Some(frame),
            Some(_) => continue,
            None => break None,
        }
    };
    if let Some(tokio_tungstenite::tungstenite::Message::Close(Some(frame))) = close {
        assert_eq!(u16::from(frame.code), 4008);
    }
    let mut bob_again = app.ws(&bob.token).await;
    let (_, now) = bob.get(&format!("/api/chat/conversations/{conversation}/")).await;
    let latest = now["last_event_seq"].as_i64().unwrap();
    bob_again.send(json!({"type": "resume", "conversations": {conversation.to_string(): latest - 10}})).await;
    let mut seqs = Vec::new();
    let mut newest_message = 0;
    loop {
        let frame = bob_again.next_any().await;
        if frame["type"] == "resumed" {
            break;
        }
        seqs.push(frame["seq"].as_i64().unwrap());
        newest_message = newest_message.max(frame["message_seq"].as_i64().unwrap_or_default());
    }
    assert_eq!(seqs, (latest - 9..=latest).collect::<Vec<_>>());
    assert_eq!(newest_message, 400);
}
