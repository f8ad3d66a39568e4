//! Connections between users (seed 001): one asks, the other accepts, declines or ignores; the
//! asker may cancel; either may remove an accepted one. Under the `connections` DM policy a
//! direct conversation needs an accepted connection, to open and to write in.

use parlor_server::config::DmPolicy;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

async fn request(from: &TestUser, to: &TestUser) -> (StatusCode, Value) {
    from.post("/api/connections/", json!({"user_id": to.id})).await
}

/// `accept`, `decline` or `cancel`.
async fn act(user: &TestUser, id: &Value, action: &str) -> (StatusCode, Value) {
    user.post(&format!("/api/connections/{id}/{action}/"), json!({})).await
}

async fn remove(app: &TestApp, user: &TestUser, id: &Value) -> (StatusCode, Value) {
    let response = app
        .http
        .delete(app.url(&format!("/api/connections/{id}/")))
        .bearer_auth(&user.token)
        .send()
        .await
        .expect("request reaches the server");
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn open_dm(from: &TestUser, to: &TestUser) -> (StatusCode, Value) {
    from.post("/api/chat/conversations/", json!({"user_id": to.id})).await
}

async fn list(user: &TestUser) -> Vec<Value> {
    let (status, body) = user.get("/api/connections/").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["results"].as_array().unwrap().clone()
}

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["code"], code, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_pending_until_the_addressee_accepts_it() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;

    let (status, asked) = request(&alice, &bob).await;
    assert_eq!(status, StatusCode::CREATED, "{asked}");
    assert_eq!(asked["status"], "pending");
    assert_eq!(asked["direction"], "outgoing");
    assert_eq!(asked["user"]["id"], bob.id);
    assert_eq!(asked["user"]["username"], "bob");
    assert!(asked.get("conversation_id").is_none_or(Value::is_null), "{asked}");
    let id = asked["id"].clone();

    let alices = list(&alice).await;
    assert_eq!(alices.len(), 1, "{alices:?}");
    assert_eq!(alices[0]["id"], id);
    assert_eq!(alices[0]["status"], "pending");
    assert_eq!(alices[0]["direction"], "outgoing");
    assert_eq!(alices[0]["user"]["id"], bob.id);
    let bobs = list(&bob).await;
    assert_eq!(bobs.len(), 1, "{bobs:?}");
    assert_eq!(bobs[0]["id"], id);
    assert_eq!(bobs[0]["status"], "pending");
    assert_eq!(bobs[0]["direction"], "incoming");
    assert_eq!(bobs[0]["user"]["id"], alice.id);
    assert!(list(&carol).await.is_empty());

    // Asking twice is a conflict.
    let (status, body) = request(&alice, &bob).await;
    assert_error(status, &body, StatusCode::CONFLICT, "connection_exists");

    // The asker cannot accept their own request; a stranger cannot touch it at all.
    let (status, body) = act(&alice, &id, "accept").await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    for action in ["accept", "decline", "cancel"] {
        let (status, body) = act(&carol, &id, action).await;
        assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    }
    let (status, body) = remove(&app, &carol, &id).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = act(&bob, &json!(999_999), "accept").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");

    // Bob accepts: the connection comes with their direct conversation.
    let (status, accepted) = act(&bob, &id, "accept").await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(accepted["id"], id);
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["direction"], "incoming");
    assert_eq!(accepted["user"]["id"], alice.id);
    let conversation = accepted["conversation_id"].as_i64().expect("accepting gives the conversation");
    assert_eq!(app.dm(&alice, &bob).await, conversation);
    assert_eq!(app.dm(&bob, &alice).await, conversation);
    let (status, dm) = alice.get(&format!("/api/chat/conversations/{conversation}/")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(dm["kind"], "direct");

    for (user, direction) in [(&alice, "outgoing"), (&bob, "incoming")] {
        let found = list(user).await;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0]["status"], "accepted");
        assert_eq!(found[0]["direction"], direction);
    }

    // Once accepted: nothing more to accept, decline or cancel, and no new request either way.
    let (status, body) = act(&bob, &id, "accept").await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = act(&bob, &id, "decline").await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = act(&alice, &id, "cancel").await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = request(&alice, &bob).await;
    assert_error(status, &body, StatusCode::CONFLICT, "connection_exists");
    let (status, body) = request(&bob, &alice).await;
    assert_error(status, &body, StatusCode::CONFLICT, "connection_exists");

    // Either side may remove it; it is gone for both.
    let (status, body) = remove(&app, &alice, &id).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(list(&alice).await.is_empty());
    assert!(list(&bob).await.is_empty());
    let (status, body) = remove(&app, &bob, &id).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");

    // Removing does not delete the conversation under the open policy.
    let (status, _) = bob.get(&format!("/api/chat/conversations/{conversation}/")).await;
    assert_eq!(status, StatusCode::OK);

    // A new request is possible again, and the addressee may remove the accepted connection too.
    let (status, again) = request(&bob, &alice).await;
    assert_eq!(status, StatusCode::CREATED, "{again}");
    assert_eq!(again["direction"], "outgoing");
    assert_eq!(again["status"], "pending");
    let (status, accepted) = act(&alice, &again["id"], "accept").await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    assert_eq!(accepted["conversation_id"], conversation, "the same direct conversation is reused");
    let (status, _) = remove(&app, &alice, &again["id"]).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(list(&bob).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_addressee_declines_and_the_requester_cancels() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    // Declining is the addressee's.
    let (_, asked) = request(&alice, &bob).await;
    let id = asked["id"].clone();
    let (status, body) = act(&alice, &id, "decline").await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = act(&bob, &id, "cancel").await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    // A pending request is declined or cancelled, not removed.
    let (status, body) = remove(&app, &bob, &id).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(list(&bob).await.len(), 1);
    let (status, body) = act(&bob, &id, "decline").await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(list(&alice).await.is_empty());
    assert!(list(&bob).await.is_empty());
    let (status, body) = act(&bob, &id, "accept").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");

    // Cancelling is the requester's.
    let (status, asked) = request(&alice, &bob).await;
    assert_eq!(status, StatusCode::CREATED, "asking again after a decline: {asked}");
    let id = asked["id"].clone();
    let (status, body) = act(&bob, &id, "cancel").await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = act(&alice, &id, "cancel").await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert!(list(&alice).await.is_empty());
    assert!(list(&bob).await.is_empty());
    let (status, body) = act(&alice, &id, "cancel").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = act(&bob, &id, "accept").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn asking_someone_who_already_asked_you_accepts_at_once() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    let (status, asked) = request(&alice, &bob).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, back) = request(&bob, &alice).await;
    assert!(status.is_success(), "{status} {back}");
    assert_eq!(back["id"], asked["id"], "the same connection, now accepted");
    assert_eq!(back["status"], "accepted");
    assert_eq!(back["user"]["id"], alice.id);
    let conversation = back["conversation_id"].as_i64().expect("accepting gives the conversation");
    assert_eq!(app.dm(&alice, &bob).await, conversation);

    for user in [&alice, &bob] {
        let found = list(user).await;
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0]["status"], "accepted");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_to_nobody_or_to_oneself_are_refused() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;

    let (status, body) = alice.post("/api/connections/", json!({"user_id": 999_999})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = request(&alice, &alice).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = app.post(None, "/api/connections/", json!({"user_id": alice.id})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(list(&alice).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_connections_policy_a_dm_needs_an_accepted_connection() {
    let app = TestApp::spawn_with(|config| config.dm_policy = DmPolicy::Connections).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    let (status, body) = open_dm(&alice, &bob).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "connection_required");

    // A pending request is not enough.
    let (_, asked) = request(&alice, &bob).await;
    let (status, body) = open_dm(&alice, &bob).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "connection_required");
    let (status, body) = open_dm(&bob, &alice).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "connection_required");

    // Accepted: the DM opens, from either side, and messages flow.
    let (status, accepted) = act(&bob, &asked["id"], "accept").await;
    assert_eq!(status, StatusCode::OK, "{accepted}");
    let conversation = accepted["conversation_id"].as_i64().unwrap();
    let (status, dm) = open_dm(&alice, &bob).await;
    assert!(status.is_success(), "{status} {dm}");
    assert_eq!(dm["id"], conversation);
    let (status, dm) = open_dm(&bob, &alice).await;
    assert!(status.is_success(), "{status} {dm}");
    assert_eq!(dm["id"], conversation);
    let path = format!("/api/chat/conversations/{conversation}/messages/");
    let (status, body) = alice.post(&path, json!({"content": "hi, connection"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let mut bob_ws = app.ws(&bob.token).await;
    bob_ws.send(json!({"type": "chat_message", "conversation_id": conversation, "content": "hi back"})).await;
    let mut kinds: Vec<Value> = bob_ws.take(2).await.into_iter().map(|f| f["type"].clone()).collect();
    kinds.sort_by_key(ToString::to_string);
    assert_eq!(kinds, ["ack", "chat_message"]);

    // Removed: the conversation stays readable, but nobody may write in it or reopen it.
    let (status, _) = remove(&app, &alice, &asked["id"]).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for user in [&alice, &bob] {
        let (status, body) = user.post(&path, json!({"content": "still there?"})).await;
        assert_error(status, &body, StatusCode::FORBIDDEN, "connection_required");
    }
    let (status, body) = open_dm(&alice, &bob).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "connection_required");
    bob_ws.send(json!({"type": "chat_message", "conversation_id": conversation, "content": "hello?"})).await;
    let error = bob_ws.expect("error").await;
    assert_eq!(error["code"], "connection_required", "{error}");
    let (status, history) = bob.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    let contents: Vec<&str> =
        history["results"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
    assert_eq!(contents, ["hi back", "hi, connection"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_open_policy_dms_need_no_connection() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    let (status, dm) = alice.post("/api/chat/conversations/", json!({"user_id": bob.id})).await;
    assert_eq!(status, StatusCode::CREATED, "{dm}");
    let conversation = dm["id"].as_i64().unwrap();
    let sent = app.send_message(&alice, conversation, "no introduction needed").await;
    assert_eq!(sent["seq"], 1);
    app.send_message(&bob, conversation, "fine by me").await;
    assert!(list(&alice).await.is_empty());
}
