//! Webhooks end to end: endpoints registered over the server API receive signed events from a
//! real parlor, in order and once each, also after being down for a while and after parlor
//! restarts; the delivery log tells what happened; sending never waits for an endpoint.

mod addresses;
mod notifications;
pub(crate) mod receiver;
mod user_deleted;

use std::path::Path;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use self::receiver::{Mode, Receiver, Request};
use crate::helpers::{API_KEY, TestApp, TestUser, WAIT};

/// Fast retries; a poll interval so long that only wake-ups on new events can explain a prompt
/// delivery; the receiver listens on 127.0.0.1, which only `allow_private_targets` lets parlor
/// call (`addresses.rs` tests the default).
pub(crate) fn fast(config: &mut parlor_server::config::Config) {
    config.webhooks.allow_private_targets = true;
    config.webhooks.retry_initial_ms = 20;
    config.webhooks.retry_max_ms = 100;
    config.webhooks.timeout_ms = 2000;
    config.webhooks.poll_ms = 60_000;
}

/// Every type of logged event: what the tests counting events subscribe to, so the
/// `notification.created` deliveries of their offline recipients do not interleave.
pub(crate) const LOGGED: &[&str] = &[
    "message.created",
    "message.edited",
    "message.deleted",
    "reaction.changed",
    "conversation.created",
    "conversation.updated",
    "member.added",
    "member.removed",
    "member.left",
    "member.role_changed",
];

async fn spawn() -> TestApp {
    TestApp::spawn_with(fast).await
}

/// Registers an endpoint; returns its id and secret.
pub(crate) async fn register(app: &TestApp, url: &str, events: Option<&[&str]>) -> (i64, String) {
    let body = match events {
        Some(types) => json!({"url": url, "events": types}),
        None => json!({"url": url}),
    };
    let (status, created) = app.server(Method::POST, "/api/server/webhooks", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    (created["id"].as_i64().unwrap(), created["secret"].as_str().unwrap().to_owned())
}

pub(crate) async fn deliveries(app: &TestApp, hook: i64) -> Vec<Value> {
    let (status, log) =
        app.server(Method::GET, &format!("/api/server/webhooks/{hook}/deliveries?limit=1000"), Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{log}");
    log["results"].as_array().unwrap().clone()
}

/// Waits until the delivery log has an entry matching `wanted`.
pub(crate) async fn wait_logged(app: &TestApp, hook: i64, what: &str, wanted: impl Fn(&Value) -> bool) {
    let what = format!("the delivery log shows {what}");
    crate::helpers::eventually(WAIT, &what, || async { deliveries(app, hook).await.iter().any(&wanted) }).await;
}

/// The contents of delivered `message.created` events, in arrival order.
fn contents(requests: &[Request]) -> Vec<String> {
    requests.iter().map(|r| r.body["data"]["content"].as_str().unwrap_or_default().to_owned()).collect()
}

/// Every delivery id once, increasing: in order, no duplicates.
fn assert_once_in_order(requests: &[Request]) {
    let ids: Vec<i64> = requests.iter().map(|r| r.header("x-parlor-delivery").parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "deliveries out of order or repeated: {ids:?}");
}

async fn send_all(app: &TestApp, user: &TestUser, conversation: i64, texts: &[&str]) {
    for text in texts {
        app.send_message(user, conversation, text).await;
    }
}

#[tokio::test]
async fn events_arrive_signed_with_their_types_and_payloads() {
    let app = spawn().await;
    let receiver = Receiver::start(Mode::Accept).await;
    let (_, secret) = register(&app, &receiver.url(), Some(LOGGED)).await;
    assert_eq!(secret.len(), 64, "a generated secret is 32 random bytes in hex");
    let [alice, bob, carol] = [app.register("alice").await, app.register("bob").await, app.register("carol").await];
    let dm = app.dm(&alice, &bob).await;

    let sent = app.send_message(&alice, dm, "hello").await;
    let message_id = sent["id"].as_i64().unwrap();
    let created = receiver.wait_delivered(1).await[0].clone();
    let (status, _) =
        alice.patch(&format!("/api/chat/messages/{message_id}/"), json!({"content": "hello again"})).await;
    assert_eq!(status, StatusCode::OK);
    let edited = receiver.wait_delivered(2).await[1].clone();
    let (status, _) = alice.delete(&format!("/api/chat/messages/{message_id}/")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let deleted = receiver.wait_delivered(3).await[2].clone();
    let (status, room) = alice.post("/api/chat/rooms/", json!({"title": "Crew", "members": [bob.id]})).await;
    assert_eq!(status, StatusCode::CREATED, "{room}");
    let room_id = room["id"].as_i64().unwrap();
    let opened = receiver.wait_delivered(4).await[3].clone();
    let members = format!("/api/chat/conversations/{room_id}/members/");
    let (status, _) = alice.post(&members, json!({"user_ids": [carol.id]})).await;
    assert_eq!(status, StatusCode::OK);
    let added = receiver.wait_delivered(5).await[4].clone();

    let all = [&created, &edited, &deleted, &opened, &added];
    let types: Vec<&str> = all.iter().map(|r| r.header("x-parlor-event")).collect();
    assert_eq!(types, ["message.created", "message.edited", "message.deleted", "conversation.created", "member.added"]);
    for request in all {
        request.assert_signed_with(&secret);
        assert_eq!(request.body["type"], request.header("x-parlor-event"), "the body names the type too");
        assert_eq!(request.body["id"], request.header("x-parlor-delivery"), "the body's id is the delivery id");
        assert_eq!(request.header("content-type"), "application/json");
        assert!(request.body["created_at"].as_str().unwrap().ends_with('Z'), "{}", request.body);
    }
    assert_once_in_order(&receiver.delivered());

    let data = &created.body["data"];
    assert_eq!((created.body["conversation_id"].as_i64(), data["type"].as_str()), (Some(dm), Some("chat_message")));
    assert_eq!((data["message_id"].as_i64(), data["content"].as_str()), (Some(message_id), Some("hello")));
    assert_eq!(data["sender_id"].as_i64(), Some(alice.id), "the data is the socket's chat_message frame");
    assert_eq!(edited.body["data"]["content"], "hello again");
    assert_eq!(
        (deleted.body["data"]["type"].as_str(), deleted.body["data"]["message_id"].as_i64()),
        (Some("message_deleted"), Some(message_id))
    );
    assert_eq!(opened.body["conversation_id"].as_i64(), Some(room_id));
    let system = &added.body["data"]["system"];
    assert_eq!((system["action"].as_str(), system["user_ids"].clone()), (Some("members_added"), json!([carol.id])));
}

#[tokio::test]
async fn an_endpoint_that_was_down_gets_every_event_once_in_order_when_it_is_back() {
    let app = spawn().await;
    let mut receiver = Receiver::start(Mode::Fail).await;
    let (hook, secret) = register(&app, &receiver.url(), Some(LOGGED)).await;
    let [alice, bob] = [app.register("alice").await, app.register("bob").await];
    let dm = app.dm(&alice, &bob).await;

    send_all(&app, &alice, dm, &["1", "2", "3"]).await;
    receiver.wait_requests(3).await;
    wait_logged(&app, hook, "a 503", |d| d["status"] == 503 && d["ok"] == false).await;
    receiver.go_away().await;
    send_all(&app, &bob, dm, &["4", "5", "6"]).await;
    wait_logged(&app, hook, "a refused connection", |d| d["status"].is_null() && d["error"].as_str().is_some()).await;

    receiver.come_back(Mode::Accept).await;
    app.send_message(&alice, dm, "7").await;
    // In order: once 7 is in, anything sent twice would have come before it.
    let delivered = receiver.wait_delivered(7).await;
    assert_eq!(contents(&delivered), ["1", "2", "3", "4", "5", "6", "7"], "every event, once, in order");
    assert_once_in_order(&delivered);
    delivered.iter().for_each(|r| r.assert_signed_with(&secret));
    assert!(receiver.requests().len() > 7, "the first attempts failed");

    let log = deliveries(&app, hook).await;
    let first_id = delivered[0].header("x-parlor-delivery");
    let first: Vec<&Value> = log.iter().filter(|d| d["event_id"] == first_id).collect();
    assert!(first.len() >= 3, "failed attempts and the success are logged: {first:?}");
    assert_eq!(
        (first[0]["ok"].as_bool(), first[0]["status"].as_u64()),
        (Some(true), Some(200)),
        "newest first: success"
    );
    assert!(first[0]["attempt"].as_u64().unwrap() >= 3, "the success counts the attempts before it");
    assert!(first[1..].iter().all(|d| d["ok"] == false), "the earlier attempts failed");
    let error = log.iter().find_map(|d| d["error"].as_str()).unwrap();
    assert!(error.starts_with("connection failed"), "{error}");
    assert!(log.iter().all(|d| d["event_type"] == "message.created" && d["duration_ms"].is_u64()));
}

#[tokio::test]
async fn events_survive_a_parlor_restart_while_the_endpoint_is_down() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_at(dir.path(), fast).await;
    let receiver = Receiver::start(Mode::Fail).await;
    let (hook, secret) = register(&app, &receiver.url(), Some(LOGGED)).await;
    let [alice, bob] = [app.register("alice").await, app.register("bob").await];
    let dm = app.dm(&alice, &bob).await;
    send_all(&app, &alice, dm, &["before 1", "before 2", "before 3"]).await;
    receiver.wait_requests(2).await;
    app.stop().await;

    let app = restart(dir.path()).await;
    send_all(&app, &bob, dm, &["after 1", "after 2"]).await;
    receiver.set_mode(Mode::Accept);
    let delivered = receiver.wait_delivered(5).await;
    assert_eq!(contents(&delivered), ["before 1", "before 2", "before 3", "after 1", "after 2"]);
    assert_once_in_order(&delivered);
    delivered.iter().for_each(|r| r.assert_signed_with(&secret));

    // Delivered before a second restart: nothing is sent again after it.
    app.stop().await;
    let app = restart(dir.path()).await;
    app.send_message(&alice, dm, "after 3").await;
    let delivered = receiver.wait_delivered(6).await;
    assert_eq!(contents(&delivered)[5], "after 3");
    assert_once_in_order(&delivered);
    assert!(deliveries(&app, hook).await.iter().any(|d| d["status"] == 503), "the log survives restarts too");
}

async fn restart(dir: &Path) -> TestApp {
    TestApp::spawn_at(dir, fast).await
}

#[tokio::test]
async fn endpoints_get_only_the_event_types_they_asked_for_until_deleted() {
    let app = spawn().await;
    let everything = Receiver::start(Mode::Accept).await;
    let members_only = Receiver::start(Mode::Accept).await;
    register(&app, &everything.url(), Some(LOGGED)).await;
    let (filtered, _) = register(&app, &members_only.url(), Some(&["member.added", "member.added"])).await;
    let (_, listed) = app.server(Method::GET, "/api/server/webhooks", Value::Null).await;
    let entry = listed["results"].as_array().unwrap().iter().find(|h| h["id"] == filtered).unwrap().clone();
    assert_eq!(entry["events"], json!(["member.added"]), "{listed}");
    assert_eq!(entry["url"], members_only.url());
    assert!(entry.get("secret").is_none(), "the secret is shown once, at creation");

    let [alice, bob, carol, dave, erin] = [
        app.register("alice").await,
        app.register("bob").await,
        app.register("carol").await,
        app.register("dave").await,
        app.register("erin").await,
    ];
    let dm = app.dm(&alice, &bob).await;
    app.send_message(&alice, dm, "not for the filtered endpoint").await;
    let (_, room) = alice.post("/api/chat/rooms/", json!({"title": "Crew", "members": [bob.id]})).await;
    let members = format!("/api/chat/conversations/{}/members/", room["id"]);
    for user in [&carol, &dave] {
        let (status, _) = alice.post(&members, json!({"user_ids": [user.id]})).await;
        assert_eq!(status, StatusCode::OK);
    }
    everything.wait_delivered(4).await;
    let got = members_only.wait_delivered(2).await;
    let types: Vec<&str> = got.iter().map(|r| r.header("x-parlor-event")).collect();
    assert_eq!(types, ["member.added", "member.added"], "only the subscribed type, and nothing before it");

    let (status, _) = app.server(Method::DELETE, &format!("/api/server/webhooks/{filtered}"), Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    alice.post(&members, json!({"user_ids": [erin.id]})).await;
    everything.wait_delivered(5).await;
    assert_eq!(members_only.requests().len(), 2, "a deleted endpoint receives nothing more");
    let (status, _) = app.server(Method::DELETE, &format!("/api/server/webhooks/{filtered}"), Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn sending_never_waits_for_a_hanging_endpoint() {
    let app = TestApp::spawn_with(|c| {
        fast(c);
        c.webhooks.timeout_ms = 200;
    })
    .await;
    let receiver = Receiver::start(Mode::Hang).await;
    register(&app, &receiver.url(), Some(LOGGED)).await;
    let [alice, bob] = [app.register("alice").await, app.register("bob").await];
    let dm = app.dm(&alice, &bob).await;

    let texts: Vec<String> = (1..=10).map(|n| format!("m{n}")).collect();
    for text in &texts {
        app.send_message(&alice, dm, text).await;
    }
    let mut ws = app.ws(&bob.token).await;
    ws.send(json!({"type": "chat_message", "conversation_id": dm, "content": "m11", "client_id": "c-11"})).await;
    let ack = ws.next_matching("the ack of m11", |f| f["type"] == "ack").await;
    assert_eq!(ack["duplicate"], false, "the socket's send is acknowledged while the endpoint hangs");

    receiver.set_mode(Mode::Accept);
    let delivered = receiver.wait_delivered(11).await;
    let mut expected = texts.clone();
    expected.push("m11".into());
    assert_eq!(contents(&delivered), expected);
    assert_once_in_order(&delivered);
}

#[tokio::test]
async fn bad_webhook_requests_get_clear_errors() {
    let app = spawn().await;
    let refused = |body: Value, wanted: &'static str| {
        let app = &app;
        async move {
            let (status, error) = app.server(Method::POST, "/api/server/webhooks", body.clone()).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {error}");
            let message = error["message"].as_str().unwrap();
            assert!(message.contains(wanted), "{body}: {message:?} should mention {wanted:?}");
            error["code"].as_str().unwrap().to_owned()
        }
    };
    for url in ["ftp://example.com/in", "example.com/in", "http://", "http://exa mple.com/"] {
        assert_eq!(refused(json!({"url": url}), "url").await, "validation_failed");
    }
    let unknown = json!({"url": "https://example.com/in", "events": ["message.created", "message.exploded"]});
    assert_eq!(refused(unknown, "message.exploded").await, "validation_failed");
    assert_eq!(refused(json!({"url": "https://example.com/in", "events": []}), "events").await, "validation_failed");
    assert_eq!(
        refused(json!({"url": "https://example.com/in", "secret": "short"}), "secret").await,
        "validation_failed"
    );
    assert_eq!(refused(json!({"events": ["message.created"]}), "url").await, "invalid_body");
    assert_eq!(refused(json!({"url": "https://example.com/in", "colour": "red"}), "colour").await, "invalid_body");

    let given = "a-secret-of-my-own-choosing";
    let (status, created) = app
        .server(Method::POST, "/api/server/webhooks", json!({"url": "https://example.com/in", "secret": given}))
        .await;
    assert_eq!((status, created["secret"].as_str()), (StatusCode::CREATED, Some(given)), "{created}");
    assert_eq!(created["events"], Value::Null, "no filter: every type");

    let id = created["id"].as_i64().unwrap();
    for (method, path) in [
        (Method::POST, "/api/server/webhooks".to_owned()),
        (Method::GET, "/api/server/webhooks".to_owned()),
        (Method::DELETE, format!("/api/server/webhooks/{id}")),
        (Method::GET, format!("/api/server/webhooks/{id}/deliveries")),
    ] {
        let response = app
            .http
            .request(method.clone(), app.url(&path))
            .json(&json!({"url": "https://x.test"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{method} {path} without a key");
        let wrong = app
            .http
            .request(method.clone(), app.url(&path))
            .header("x-api-key", format!("{API_KEY}!"))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "{method} {path} with a wrong key");
    }
    for path in ["/api/server/webhooks/987654/deliveries", "/api/server/webhooks/abc/deliveries"] {
        let (status, body) = app.server(Method::GET, path, Value::Null).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::NOT_FOUND, Some("not_found")), "{path}");
    }
    let (status, body) =
        app.server(Method::GET, &format!("/api/server/webhooks/{id}/deliveries?limit=lots"), Value::Null).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_body")));
    let (status, body) = app.server(Method::GET, &format!("/api/server/webhooks/{id}/deliveries"), Value::Null).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"results": []})));
}
