//! Notifications: made for messages received while offline (folded per conversation), for
//! @mentions, room invitations and connection requests; pushed live; listed, counted and marked
//! read; never for the conversation the user is looking at; muting silences messages, not
//! mentions; nobody sees or changes anyone else's.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, Ws};

async fn inbox(user: &TestUser) -> Value {
    let (status, body) = user.get("/api/notifications/").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// Waits until the user's inbox satisfies `done`: notifications are made in the background.
async fn inbox_until(user: &TestUser, done: impl Fn(&Value) -> bool) -> Value {
    crate::helpers::eventually(crate::helpers::WAIT, "the inbox gets there", || async {
        let body = inbox(user).await;
        if done(&body) { Ok(body) } else { Err(body) }
    })
    .await
}

async fn next_notification(ws: &mut Ws) -> Value {
    ws.next_matching("a notification frame", |f| f["type"] == "notification").await
}

#[tokio::test]
async fn messages_received_while_offline_become_one_notification_per_conversation() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let dm = app.dm(&alice, &bob).await;
    app.send_message(&alice, dm, "first").await;
    let second = app.send_message(&alice, dm, "second").await;

    let body = inbox_until(&bob, |b| b["results"][0]["count"] == 2).await;
    let n = &body["results"][0];
    assert_eq!(body["results"].as_array().unwrap().len(), 1, "folded into one: {body}");
    assert_eq!((n["type"].as_str(), n["conversation_id"].as_i64()), (Some("message"), Some(dm)));
    assert_eq!((n["message_id"].clone(), n["actor_id"].clone()), (second["id"].clone(), json!(alice.id)));
    assert_eq!(
        (n["preview"].as_str(), n["actor_name"].as_str(), n["is_read"].as_bool()),
        (Some("second"), Some("alice"), Some(false))
    );
    assert_eq!(body["unread_count"], 1);
    let (_, count) = bob.get("/api/notifications/unread_count/").await;
    assert_eq!(count["unread_count"], 1);
    assert_eq!(inbox(&alice).await["results"], json!([]), "the sender gets nothing");

    // Reading the conversation settles its notification.
    let (status, _) = bob.post(&format!("/api/chat/conversations/{dm}/mark_read/"), json!({})).await;
    assert!(status.is_success());
    let (_, count) = bob.get("/api/notifications/unread_count/").await;
    assert_eq!(count["unread_count"], 0);
}

#[tokio::test]
async fn online_users_get_no_message_notifications_but_mentions_are_pushed_live() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let dm = app.dm(&alice, &bob).await;
    let mut bob_ws = app.ws(&bob.token).await.watching();
    app.send_message(&alice, dm, "just chatting").await;
    assert_eq!(bob_ws.expect("chat_message").await["content"], "just chatting");

    app.send_message(&alice, dm, "hey @Bob, look").await;
    bob_ws.expect("chat_message").await;
    let pushed = next_notification(&mut bob_ws).await;
    assert_eq!(pushed["notification"]["type"], "mention", "{pushed}");
    assert_eq!(pushed["notification"]["preview"], "hey @Bob, look");
    assert_eq!(pushed["unread_count"], 1);
    let body = inbox(&bob).await;
    assert_eq!(body["results"].as_array().unwrap().len(), 1, "no message notification while online: {body}");
    // `@bobby` or an e-mail address is not bob.
    app.send_message(&alice, dm, "mail bobby@bob.example or @bobby").await;
    bob_ws.expect("chat_message").await;
    bob_ws.expect_quiet(300).await;
}

#[tokio::test]
async fn nothing_is_notified_for_the_conversation_on_screen() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let dm = app.dm(&alice, &bob).await;
    let mut bob_ws = app.ws(&bob.token).await.watching();
    bob_ws.send(json!({"type": "focus", "conversation_id": dm})).await;
    bob_ws.expect_quiet(100).await;
    app.send_message(&alice, dm, "@bob are you there?").await;
    bob_ws.expect("chat_message").await;
    bob_ws.expect_quiet(300).await;

    // Looking elsewhere again: mentions notify.
    bob_ws.send(json!({"type": "focus", "conversation_id": null})).await;
    app.send_message(&alice, dm, "@bob now?").await;
    bob_ws.expect("chat_message").await;
    assert_eq!(next_notification(&mut bob_ws).await["notification"]["type"], "mention");

    // Seed 001's socket scoped to the conversation is that conversation's window.
    let mut scoped = app.ws_chat(&bob.token, dm).await.watching();
    bob_ws.close().await;
    app.send_message(&alice, dm, "@bob scoped").await;
    scoped.expect("chat_message").await;
    scoped.expect_quiet(300).await;

    // Focus on a conversation one does not belong to is refused.
    let carol = app.register("carol").await;
    let other = app.dm(&alice, &carol).await;
    let mut ws = app.ws(&bob.token).await;
    ws.send(json!({"type": "focus", "conversation_id": other})).await;
    assert_eq!(ws.expect("error").await["code"], "not_found");
}

#[tokio::test]
async fn muting_silences_messages_but_not_mentions() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let dm = app.dm(&alice, &bob).await;
    let (status, body) = bob.post(&format!("/api/chat/conversations/{dm}/mute/"), json!({})).await;
    assert_eq!((status, &body["muted"]), (StatusCode::OK, &json!(true)), "{body}");
    let (_, conversation) = bob.get(&format!("/api/chat/conversations/{dm}/")).await;
    assert_eq!(conversation["muted"], true, "{conversation}");

    app.send_message(&alice, dm, "muted message").await;
    app.send_message(&alice, dm, "but @bob this matters").await;
    inbox_until(&bob, |b| b["unread_count"] == 1).await;
    // Notifications are made in the background: give a wrongly made one time to show up.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let body = inbox(&bob).await;
    let kinds: Vec<&str> = body["results"].as_array().unwrap().iter().map(|n| n["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["mention"], "{body}");

    let (status, body) = bob.post(&format!("/api/chat/conversations/{dm}/unmute/"), json!({})).await;
    assert_eq!((status, &body["muted"]), (StatusCode::OK, &json!(false)));
    let carol = app.register("carol").await;
    let (status, _) = carol.post(&format!("/api/chat/conversations/{dm}/mute/"), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "only members can mute");
}

#[tokio::test]
async fn room_invitations_and_connection_requests_notify() {
    let app = TestApp::spawn().await;
    let (alice, bob, carol) = (app.register("alice").await, app.register("bob").await, app.register("carol").await);
    let mut bob_ws = app.ws(&bob.token).await.watching();
    let (status, room) = alice.post("/api/chat/rooms/", json!({"title": "Team", "members": [bob.id]})).await;
    assert_eq!(status, StatusCode::CREATED, "{room}");
    let pushed = next_notification(&mut bob_ws).await;
    assert_eq!(pushed["notification"]["type"], "room_added");
    assert_eq!(
        (pushed["notification"]["conversation_id"].clone(), pushed["notification"]["actor_id"].clone()),
        (room["id"].clone(), json!(alice.id))
    );

    let path = format!("/api/chat/conversations/{}/members/", room["id"]);
    let (status, _) = alice.post(&path, json!({"user_ids": [carol.id]})).await;
    assert!(status.is_success());
    let body = inbox_until(&carol, |b| b["unread_count"] == 1).await;
    assert_eq!(body["results"][0]["type"], "room_added");

    let (status, request) = carol.post("/api/connections/", json!({"user_id": bob.id})).await;
    assert!(status.is_success(), "{request}");
    let pushed = next_notification(&mut bob_ws).await;
    assert_eq!(pushed["notification"]["type"], "connection_request");
    assert_eq!(pushed["notification"]["actor_id"], carol.id);
    assert_eq!(pushed["notification"]["connection_id"], request["id"]);
}

#[tokio::test]
async fn notifications_are_marked_read_one_or_all_and_only_by_their_owner() {
    let app = TestApp::spawn().await;
    let (alice, bob, carol) = (app.register("alice").await, app.register("bob").await, app.register("carol").await);
    let dm = app.dm(&alice, &bob).await;
    let other = app.dm(&carol, &bob).await;
    app.send_message(&alice, dm, "from alice").await;
    app.send_message(&carol, other, "from carol").await;
    let body = inbox_until(&bob, |b| b["unread_count"] == 2).await;
    let first = body["results"][0]["id"].as_i64().unwrap();

    // Someone else's id: nothing changes, and nothing says it exists.
    let (status, body) = alice.post(&format!("/api/notifications/{first}/mark_read/"), json!({})).await;
    assert_eq!((status, &body["unread_count"]), (StatusCode::OK, &json!(0)));
    assert_eq!(inbox(&bob).await["unread_count"], 2);
    assert_eq!(inbox(&alice).await["results"], json!([]), "alice never sees bob's");

    let (_, body) = bob.post(&format!("/api/notifications/{first}/mark_read/"), json!({})).await;
    assert_eq!(body["unread_count"], 1);
    let (_, unread) = bob.get("/api/notifications/?unread=true").await;
    assert_eq!(unread["results"].as_array().unwrap().len(), 1, "{unread}");
    let (_, page) = bob.get("/api/notifications/?limit=1").await;
    assert_eq!(page["results"].as_array().unwrap().len(), 1);
    let (_, older) = bob.get(&format!("/api/notifications/?limit=1&before={}", page["next_before"])).await;
    assert_ne!(older["results"][0]["id"], page["results"][0]["id"], "{older}");

    let (_, body) = bob.post("/api/notifications/mark_all_read/", json!({})).await;
    assert_eq!(body["unread_count"], 0);
    let (status, body) = bob.get("/api/notifications/?limit=lots").await;
    assert_eq!((status, &body["code"]), (StatusCode::BAD_REQUEST, &json!("invalid_body")), "{body}");
    let (status, _) = app.get(None, "/api/notifications/").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
