//! Bad input gets a clear error with a stable code; the connection and the server keep working,
//! and retries never store a message twice.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_get_errors_and_the_socket_keeps_working() {
    let app = TestApp::spawn_with(|c| {
        c.limits.max_message_chars = 100;
        c.limits.max_frame_bytes = 4096;
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    let mut ws = app.ws(&alice.token).await;

    let cases: Vec<(String, &str)> = vec![
        ("{not json".into(), "invalid_json"),
        ("[1, 2]".into(), "invalid_body"),
        (json!({"content": "no type"}).to_string(), "invalid_body"),
        (json!({"type": 7}).to_string(), "invalid_body"),
        (json!({"type": "shout", "content": "hi"}).to_string(), "unknown_event"),
        (json!({"type": "chat_message", "conversation_id": conversation, "content": 5}).to_string(), "invalid_body"),
        (json!({"type": "chat_message", "conversation_id": "one", "content": "hi"}).to_string(), "invalid_body"),
        (json!({"type": "chat_message", "conversation_id": conversation}).to_string(), "invalid_body"),
        (json!({"type": "chat_message", "content": "which conversation?"}).to_string(), "conversation_required"),
        (
            json!({"type": "chat_message", "conversation_id": conversation, "content": "   "}).to_string(),
            "validation_failed",
        ),
        (
            json!({"type": "chat_message", "conversation_id": conversation, "content": "x".repeat(101)}).to_string(),
            "validation_failed",
        ),
        (
            json!({"type": "chat_message", "conversation_id": conversation, "content": "x", "client_id": "has space"})
                .to_string(),
            "validation_failed",
        ),
        (
            json!({"type": "chat_message", "conversation_id": conversation, "content": "x", "reply_to": 424242})
                .to_string(),
            "validation_failed",
        ),
        (
            json!({"type": "typing_indicator", "conversation_id": conversation, "is_typing": "yes"}).to_string(),
            "invalid_body",
        ),
        (
            json!({"type": "message_read", "conversation_id": conversation, "message_ids": "all"}).to_string(),
            "invalid_body",
        ),
        (json!({"type": "resume", "conversations": [1]}).to_string(), "invalid_body"),
        (
            json!({"type": "chat_message", "conversation_id": conversation, "content": "y".repeat(5000)}).to_string(),
            "frame_too_large",
        ),
    ];
    for (frame, code) in &cases {
        ws.send_text(frame).await;
        let got = ws.expect("error").await;
        assert_eq!(got["code"], *code, "frame {}: {got}", &frame[..frame.len().min(80)]);
        assert!(!got["message"].as_str().unwrap().is_empty());
    }
    ws.send_binary(vec![0, 1, 2]).await;
    assert_eq!(ws.expect("error").await["code"], "invalid_json");

    // The same socket still sends, and nothing from the bad frames was stored.
    ws.send(json!({"type": "chat_message", "conversation_id": conversation, "content": "still here"})).await;
    let frames = ws.take(2).await;
    assert!(frames.iter().any(|f| f["type"] == "ack"), "{frames:?}");
    let (_, history) = alice.get(&format!("/api/chat/conversations/{conversation}/messages/")).await;
    let contents: Vec<&str> =
        history["results"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
    assert_eq!(contents, ["still here"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_beyond_the_hard_limit_closes_only_that_connection() {
    let app = TestApp::spawn_with(|c| c.limits.max_frame_bytes = 4096).await;
    let alice = app.register("alice").await;
    let mut ws = app.ws(&alice.token).await;
    ws.send_text(&"z".repeat(64 * 1024)).await;
    let close = ws.closed().await.expect("a close frame, not a dropped connection");
    assert_eq!(u16::from(close.code), 1009, "{close:?}");
    // The server is fine and takes new connections.
    let mut again = app.ws(&alice.token).await;
    again.send(json!({"type": "ping"})).await;
    assert_eq!(again.expect("pong").await["type"], "pong");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_send_stores_one_message() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    let mut alice_ws = app.ws(&alice.token).await;
    let mut bob_ws = app.ws(&bob.token).await;

    let send =
        json!({"type": "chat_message", "conversation_id": conversation, "content": "once", "client_id": "retry-1"});
    alice_ws.send(send.clone()).await;
    let first: Vec<_> = alice_ws.take(2).await;
    let first_ack = first.iter().find(|f| f["type"] == "ack").unwrap().clone();
    alice_ws.send(send.clone()).await;
    let second_ack = alice_ws.expect("ack").await;
    assert_eq!(second_ack["message_id"], first_ack["message_id"]);
    assert_eq!(second_ack["seq"], first_ack["seq"]);
    assert_eq!(second_ack["duplicate"], true);

    // Over HTTP too: 201 the first time, 200 with the same message after.
    let path = format!("/api/chat/conversations/{conversation}/messages/");
    let (status, stored) = alice.post(&path, json!({"content": "once", "client_id": "retry-1"})).await;
    assert_eq!(status, 200);
    assert_eq!(stored["id"], first_ack["message_id"]);
    let (status, other) = alice.post(&path, json!({"content": "new", "client_id": "retry-2"})).await;
    assert_eq!(status, 201);

    // Bob saw each message exactly once.
    assert_eq!(bob_ws.expect("chat_message").await["content"], "once");
    assert_eq!(bob_ws.expect("chat_message").await["message_id"], other["id"]);
    bob_ws.expect_quiet(200).await;
    let (_, history) = bob.get(&path).await;
    assert_eq!(history["results"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_http_bodies_get_json_errors_with_stable_codes() {
    let app = TestApp::spawn_with(|c| c.limits.max_body_bytes = 2048).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    let t = Some(alice.token.as_str());
    let path = format!("/api/chat/conversations/{conversation}/messages/");

    let (status, body) = app.post_raw(t, &path, "{\"content\": ").await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (400, Some("invalid_json")), "{body}");
    let (status, body) = app.post(t, &path, json!({"content": ["a"]})).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (400, Some("invalid_body")), "{body}");
    let (status, body) = app.post(t, &path, json!({"content": ""})).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (400, Some("validation_failed")), "{body}");
    let (status, body) = app.post(t, &path, json!({"content": "x".repeat(4000)})).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (413, Some("payload_too_large")), "{body}");
    let (status, body) = app.post(t, "/api/chat/conversations/", json!({"user_id": alice.id})).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (400, Some("validation_failed")), "{body}");
    let (status, body) = app.get(t, &format!("{path}?limit=lots")).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (400, Some("invalid_body")), "{body}");
    let (status, body) = app.get(t, "/api/no/such/route/").await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (404, Some("not_found")), "{body}");

    // And the server still answers.
    let (status, _) = app.post(t, &path, json!({"content": "fine"})).await;
    assert_eq!(status, 201);
}
