//! Only members can read, send to or subscribe to a conversation. Everyone else gets exactly the
//! answer a conversation that does not exist gets, on every path.

use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

/// Every REST path that names a conversation or message, with its method and body.
async fn rest_answers(app: &TestApp, who: &TestUser, conversation: i64, message: i64) -> Vec<(String, u16, Value)> {
    let t = Some(who.token.as_str());
    let mut out = Vec::new();
    let mut record =
        |path: String, (status, body): (reqwest::StatusCode, Value)| out.push((path, status.as_u16(), body));
    let c = format!("/api/chat/conversations/{conversation}/");
    record(c.clone(), app.get(t, &c).await);
    let p = format!("{c}messages/");
    record(format!("GET {p}"), app.get(t, &p).await);
    record(format!("POST {p}"), app.post(t, &p, json!({"content": "let me in"})).await);
    let p = format!("{c}mark_read/");
    record(p.clone(), app.post(t, &p, json!({})).await);
    record(
        "POST /api/chat/messages/".into(),
        app.post(t, "/api/chat/messages/", json!({"conversation": conversation, "content": "x"})).await,
    );
    let p = format!("/api/chat/messages/{message}/");
    record(p.clone(), app.get(t, &p).await);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_user_gets_404_on_every_path_of_a_conversation_that_is_not_theirs() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let conversation = app.dm(&alice, &bob).await;
    let message = app.send_message(&alice, conversation, "private").await["id"].as_i64().unwrap();

    let theirs = rest_answers(&app, &carol, conversation, message).await;
    let missing = rest_answers(&app, &carol, 999_999, 999_999).await;
    for ((path, status, body), (_, missing_status, missing_body)) in theirs.iter().zip(&missing) {
        assert_eq!(*status, 404, "{path}: {body}");
        assert_eq!(body["code"], "not_found", "{path}");
        assert_eq!(
            (status, body),
            (missing_status, missing_body),
            "{path} must not differ from a missing conversation"
        );
        assert!(!body.to_string().contains("private"), "{path} leaks content");
    }

    // The scoped socket refuses the handshake with the same 404.
    let (status, body) = app.ws_refused(&format!("/ws/chat/{conversation}/?token={}", carol.token)).await;
    let (missing_status, missing_body) = app.ws_refused(&format!("/ws/chat/999999/?token={}", carol.token)).await;
    assert_eq!((status, &body), (404, &missing_body));
    assert_eq!(missing_status, 404);

    // On the unified socket every frame naming the conversation gets the same not_found error,
    // and the connection keeps working.
    let mut ws = app.ws(&carol.token).await;
    let frames = [
        json!({"type": "chat_message", "conversation_id": conversation, "content": "hi"}),
        json!({"type": "typing_indicator", "conversation_id": conversation, "is_typing": true}),
        json!({"type": "message_read", "conversation_id": conversation, "message_ids": [message]}),
    ];
    for frame in frames {
        ws.send(frame.clone()).await;
        let got = ws.expect("error").await;
        assert_eq!(got["code"], "not_found", "{frame}");
    }
    ws.send(json!({"type": "resume", "conversations": {conversation.to_string(): 0}})).await;
    assert_eq!(ws.expect("error").await["code"], "not_found");
    assert_eq!(ws.expect("resumed").await["replayed"], 0);

    // Carol never sees the members' events, and nothing she tried was stored.
    let mut alice_ws = app.ws(&alice.token).await;
    app.send_message(&bob, conversation, "still private").await;
    alice_ws.expect("chat_message").await;
    ws.expect_quiet(200).await;
    let (_, history) = alice.get(&format!("/api/chat/conversations/{conversation}/messages/")).await;
    assert_eq!(history["results"].as_array().unwrap().len(), 2);

    // Carol's list does not show it, and her unread count is untouched.
    let (_, list) = carol.get("/api/chat/conversations/").await;
    assert_eq!(list["results"], json!([]));
    let (_, unread) = carol.get("/api/chat/unread-count/").await;
    assert_eq!(unread["total"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scoped_socket_refuses_frames_for_other_conversations() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let with_bob = app.dm(&alice, &bob).await;
    let with_carol = app.dm(&alice, &carol).await;

    let mut ws = app.ws_chat(&alice.token, with_bob).await;
    ws.send(json!({"type": "chat_message", "conversation_id": with_carol, "content": "wrong socket"})).await;
    assert_eq!(ws.expect("error").await["code"], "not_found");

    // Events of her other conversation do not leak into this socket either.
    app.send_message(&carol, with_carol, "for the other conversation").await;
    ws.expect_quiet(200).await;
}
