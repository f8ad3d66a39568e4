//! The write check (issue 17, item 2): every action that reaches another person is refused
//! across a block, either way, and, in a direct conversation under `dm_policy = "connections"`,
//! without a connection: reactions (REST and socket), forwarding into, @mentions, connection
//! requests, adding to a room, typing, and read receipts shown to the other.

use parlor_server::config::DmPolicy;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, WAIT, eventually};

async fn react(user: &TestUser, message: &Value) -> (StatusCode, Value) {
    let path = format!("/api/chat/messages/{}/reactions/", message["id"]);
    user.post(&path, json!({"emoji": "👍"})).await
}

fn refused(got: (StatusCode, Value), code: &str) {
    assert_eq!((got.0, &got.1["code"]), (StatusCode::FORBIDDEN, &json!(code)), "{}", got.1);
}

async fn room(owner: &TestUser, members: &[&TestUser]) -> i64 {
    let ids: Vec<i64> = members.iter().map(|m| m.id).collect();
    let (status, body) = owner.post("/api/chat/rooms/", json!({"title": "Room", "members": ids})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap()
}

/// The user's notifications once `done` holds (they are made in the background).
async fn inbox_until(user: &TestUser, done: impl Fn(&Value) -> bool) -> Value {
    eventually(WAIT, "the inbox gets there", || async {
        let (status, body) = user.get("/api/notifications/").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if done(&body) { Ok(body) } else { Err(body) }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_reaches_across_a_block() {
    let app = TestApp::spawn().await;
    let (alice, bob, carol) = (app.register("alice").await, app.register("bob").await, app.register("carol").await);
    let dm = app.dm(&alice, &bob).await;
    let shared = room(&alice, &[&bob, &carol]).await;
    let in_dm = app.send_message(&alice, dm, "hello bob").await;
    let in_room = app.send_message(&alice, shared, "hello room").await;
    let bobs_own = app.send_message(&bob, shared, "mine").await;
    let (status, _) = alice.post(&format!("/api/chat/users/{}/block/", bob.id), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let mut alice_ws = app.ws(&alice.token).await;
    let mut bob_ws = app.ws(&bob.token).await;

    // Reactions, over REST and the socket, to her messages in the DM and in the room they share.
    refused(react(&bob, &in_dm).await, "blocked");
    refused(react(&bob, &in_room).await, "blocked");
    refused(react(&alice, &bobs_own).await, "blocked");
    bob_ws.send(json!({"type": "react", "message_id": in_room["id"], "emoji": "👍"})).await;
    assert_eq!(bob_ws.expect("error").await["code"], "blocked");
    // Typing in the DM.
    bob_ws.send(json!({"type": "typing_indicator", "conversation_id": dm, "is_typing": true})).await;
    assert_eq!(bob_ws.expect("error").await["code"], "blocked");
    // Forwarding into the DM.
    let path = format!("/api/chat/messages/{}/forward/", bobs_own["id"]);
    refused(bob.post(&path, json!({"conversation_id": dm})).await, "blocked");
    // Asking to connect, and putting her in a room of his.
    refused(bob.post("/api/connections/", json!({"user_id": alice.id})).await, "blocked");
    let his = room(&bob, &[&carol]).await;
    let path = format!("/api/chat/conversations/{his}/members/");
    refused(bob.post(&path, json!({"user_ids": [alice.id]})).await, "blocked");
    // Reading the DM is his own business, but she does not hear of it, and neither sees the
    // other's positions.
    let (status, body) = bob.post(&format!("/api/chat/conversations/{dm}/mark_read/"), json!({})).await;
    assert!(status.is_success(), "{body}");
    let (_, positions) = alice.get(&format!("/api/chat/conversations/{dm}/receipts/")).await;
    assert_eq!(positions["members"].as_array().unwrap().len(), 1, "{positions}");
    assert_eq!(positions["members"][0]["user_id"], alice.id, "{positions}");
    let (_, seen) = alice.get(&format!("/api/chat/messages/{}/receipts/", in_dm["id"])).await;
    assert_eq!(seen["read_by"], json!([]), "{seen}");
    // None of it reached her socket.
    alice_ws.expect_quiet(300).await;

    // An @mention in the room they share notifies carol, not her.
    app.send_message(&bob, shared, "@alice @carol look").await;
    assert_eq!(alice_ws.expect("chat_message").await["content"], "@alice @carol look");
    inbox_until(&carol, |b| b["results"].as_array().unwrap().iter().any(|n| n["type"] == "mention")).await;
    let (_, hers) = alice.get("/api/notifications/").await;
    let from_bob: Vec<&Value> =
        hers["results"].as_array().unwrap().iter().filter(|n| n["actor_id"] == bob.id).collect();
    assert!(from_bob.iter().all(|n| n["type"] != "mention" && n["preview"] == "mine"), "only from before: {hers}");

    // Unblocked, the same reaction and typing reach her.
    let (status, _) = alice.delete(&format!("/api/chat/users/{}/block/", bob.id)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = react(&bob, &in_dm).await;
    assert!(status.is_success(), "{body}");
    assert_eq!(alice_ws.expect("reaction_updated").await["message_id"], in_dm["id"]);
    bob_ws.send(json!({"type": "typing_indicator", "conversation_id": dm, "is_typing": true})).await;
    assert_eq!(alice_ws.expect("typing_indicator").await["user_id"], bob.id);
    app.send_message(&alice, dm, "welcome back").await;
    assert_eq!(alice_ws.expect("chat_message").await["content"], "welcome back");
    let (status, _) = bob.post(&format!("/api/chat/conversations/{dm}/mark_read/"), json!({})).await;
    assert!(status.is_success());
    assert_eq!(alice_ws.expect("messages_read").await["user_id"], bob.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_connections_policy_a_removed_connection_reaches_nobody_directly() {
    let app = TestApp::spawn_with(|c| c.dm_policy = DmPolicy::Connections).await;
    let (alice, bob, carol) = (app.register("alice").await, app.register("bob").await, app.register("carol").await);
    let (_, asked) = alice.post("/api/connections/", json!({"user_id": bob.id})).await;
    let (status, accepted) = bob.post(&format!("/api/connections/{}/accept/", asked["id"]), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    let dm = accepted["conversation_id"].as_i64().unwrap();
    let first = app.send_message(&alice, dm, "hello bob").await;
    let (status, body) = react(&bob, &first).await;
    assert!(status.is_success(), "connected, reactions pass: {body}");
    let (status, _) = alice.delete(&format!("/api/connections/{}/", asked["id"])).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let his = room(&bob, &[]).await;
    let own = app.send_message(&bob, his, "to forward").await;
    let mut alice_ws = app.ws(&alice.token).await;
    let mut bob_ws = app.ws(&bob.token).await;

    refused(react(&bob, &first).await, "connection_required");
    bob_ws.send(json!({"type": "react", "message_id": first["id"], "emoji": "🎉"})).await;
    assert_eq!(bob_ws.expect("error").await["code"], "connection_required");
    bob_ws.send(json!({"type": "typing_indicator", "conversation_id": dm, "is_typing": true})).await;
    assert_eq!(bob_ws.expect("error").await["code"], "connection_required");
    let path = format!("/api/chat/messages/{}/forward/", own["id"]);
    refused(bob.post(&path, json!({"conversation_id": dm})).await, "connection_required");
    let path = format!("/api/chat/conversations/{his}/members/");
    refused(bob.post(&path, json!({"user_ids": [alice.id]})).await, "connection_required");
    bob_ws.send(json!({"type": "message_read", "conversation_id": dm})).await;
    bob_ws.send(json!({"type": "ping"})).await;
    bob_ws.expect("pong").await;
    let (_, positions) = alice.get(&format!("/api/chat/conversations/{dm}/receipts/")).await;
    assert_eq!(positions["members"].as_array().unwrap().len(), 1, "{positions}");
    alice_ws.expect_quiet(300).await;
    // Asking again is how a connection starts: the policy does not refuse it.
    let (status, body) = bob.post("/api/connections/", json!({"user_id": alice.id})).await;
    assert!(status.is_success(), "{body}");
    // A room is shared space: strangers in one may react to each other there.
    let (_, c_asked) = bob.post("/api/connections/", json!({"user_id": carol.id})).await;
    carol.post(&format!("/api/connections/{}/accept/", c_asked["id"]), json!({})).await;
    let (_, a_asked) = alice.post("/api/connections/", json!({"user_id": carol.id})).await;
    carol.post(&format!("/api/connections/{}/accept/", a_asked["id"]), json!({})).await;
    let shared = room(&carol, &[&alice, &bob]).await;
    let hers = app.send_message(&alice, shared, "in the room").await;
    let (status, body) = react(&bob, &hers).await;
    assert!(status.is_success(), "{body}");
}
