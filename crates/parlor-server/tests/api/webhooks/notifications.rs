//! `notification.created`: an endpoint hears of every notification parlor makes, signed like
//! every delivery, naming the recipient by the platform's id and saying whether any of their
//! devices was online, so a platform can reach people through its own mobile push or email.

use reqwest::StatusCode;
use serde_json::json;

use super::receiver::{Mode, Receiver, Request};
use super::{LOGGED, fast, register};
use crate::helpers::{TestApp, TestUser, sign, unix_now};

const PLATFORM_SECRET: &str = "platform-signing-secret-0123456789abcdef";

/// A user of the host platform (external id `id`), signed in with the platform's token.
async fn platform_user(app: &TestApp, id: &str) -> TestUser {
    let claims = json!({"sub": id, "name": "Bob Platform", "exp": unix_now() + 600});
    let token = sign(jsonwebtoken::Algorithm::HS256, PLATFORM_SECRET, &claims);
    let (status, me) = app.get(Some(&token), "/api/users/me").await;
    assert_eq!(status, StatusCode::OK, "{me}");
    app.signed_in(me["id"].as_i64().unwrap(), &token)
}

fn of_kind(kind: &'static str, to: i64) -> impl Fn(&Request) -> bool {
    move |r: &Request| r.body["data"]["kind"] == kind && r.body["data"]["recipient"]["id"] == to
}

#[tokio::test]
async fn every_notification_reaches_the_platform_with_both_ids_and_whether_they_were_online() {
    let app = TestApp::spawn_with(|c| {
        fast(c);
        c.jwt_secret = parlor_server::config::Secret::new(PLATFORM_SECRET);
    })
    .await;
    let receiver = Receiver::start(Mode::Accept).await;
    let (_, secret) = register(&app, &receiver.url(), Some(&["notification.created"])).await;
    let logged_only = Receiver::start(Mode::Accept).await;
    register(&app, &logged_only.url(), Some(LOGGED)).await;
    let alice = app.register("alice").await;
    let bob = platform_user(&app, "platform-bob").await;
    let carol = app.register("carol").await;

    // Bob has no connection: the message notifies him, and the platform hears he was away.
    let dm = app.dm(&alice, &bob).await;
    app.send_message(&alice, dm, "are you <there>?").await;
    let away = receiver.wait_for("bob's message notification", of_kind("message", bob.id)).await;
    away.assert_signed_with(&secret);
    assert_eq!(away.header("x-parlor-event"), "notification.created");
    assert_eq!(
        (away.body["type"].as_str(), away.body["conversation_id"].as_i64()),
        (Some("notification.created"), Some(dm))
    );
    assert_eq!(away.body["id"], away.header("x-parlor-delivery"));
    let data = &away.body["data"];
    assert_eq!(data["recipient"], json!({"id": bob.id, "external_id": "platform-bob", "name": "Bob Platform"}));
    assert_eq!(data["sender"], json!({"id": alice.id, "external_id": null, "name": "alice"}));
    assert_eq!((data["conversation_id"].as_i64(), data["preview"].as_str()), (Some(dm), Some("are you <there>?")));
    assert_eq!((data["online"].as_bool(), data["count"].as_i64()), (Some(false), Some(1)));
    assert!(data["notification_id"].is_i64() && data["message_id"].is_i64(), "{data}");

    // Carol is connected (not looking at the room): a mention notifies her, and she was online.
    let mut socket = app.ws(&carol.token).await;
    socket.expect_quiet(0).await;
    let (status, room) =
        app.post(Some(&alice.token), "/api/chat/rooms/", json!({"title": "Crew", "members": [carol.id]})).await;
    assert_eq!(status, StatusCode::CREATED, "{room}");
    let room = room["id"].as_i64().unwrap();
    app.send_message(&alice, room, "ping @carol").await;
    let mention = receiver.wait_for("carol's mention", of_kind("mention", carol.id)).await;
    assert_eq!(mention.body["data"]["online"], true, "{}", mention.body);
    assert_eq!(mention.body["data"]["recipient"]["external_id"], json!(null));
    assert_eq!(mention.body["conversation_id"].as_i64(), Some(room));
    let added = receiver.wait_for("carol's room_added", of_kind("room_added", carol.id)).await;
    assert_eq!(added.body["data"]["sender"]["id"].as_i64(), Some(alice.id));

    // Nothing for the sender herself, and nothing for an endpoint that did not subscribe.
    assert!(receiver.delivered().iter().all(|r| r.body["data"]["recipient"]["id"] != alice.id));
    logged_only.wait_delivered(3).await;
    assert!(
        logged_only.delivered().iter().all(|r| r.header("x-parlor-event") != "notification.created"),
        "an endpoint subscribed to logged events only gets none"
    );
}

fn preview_to(text: &'static str, to: i64) -> impl Fn(&Request) -> bool {
    move |r: &Request| r.body["data"]["preview"] == text && r.body["data"]["recipient"]["id"] == to
}

#[tokio::test]
async fn quiet_hours_and_the_conversation_on_screen_keep_the_event_back() {
    let app = TestApp::spawn_with(fast).await;
    let receiver = Receiver::start(Mode::Accept).await;
    register(&app, &receiver.url(), Some(&["notification.created"])).await;
    let (alice, bob, carol) = (app.register("alice").await, app.register("bob").await, app.register("carol").await);
    let (dm, to_carol) = (app.dm(&alice, &bob).await, app.dm(&alice, &carol).await);
    let of_bob = |receiver: &Receiver| -> Vec<String> {
        let bobs = receiver.delivered().into_iter().filter(|r| r.body["data"]["recipient"]["id"] == bob.id);
        bobs.map(|r| r.body["data"].to_string()).collect()
    };

    // Quiet hours around now (in Tokyo, whatever the time): bob's inbox fills, no event. Carol's
    // event, queued after bob's notification was made, is delivered after his would have been.
    let tokyo = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(9 * 3600).unwrap());
    let hh_mm = |t: chrono::DateTime<chrono::FixedOffset>| t.format("%H:%M").to_string();
    let quiet = json!({"start": hh_mm(tokyo - chrono::Duration::hours(1)), "end": hh_mm(tokyo + chrono::Duration::hours(1)), "time_zone": "Asia/Tokyo"});
    let settings = "/api/users/me/notification-settings";
    assert_eq!(bob.patch(settings, json!({"quiet_hours": quiet})).await.0, StatusCode::OK);
    app.send_message(&alice, dm, "in quiet hours").await;
    crate::helpers::eventually(crate::helpers::WAIT, "bob's notification", || async {
        bob.get("/api/notifications/unread_count/").await.1["unread_count"] == 1
    })
    .await;
    app.send_message(&alice, to_carol, "sentinel one").await;
    receiver.wait_for("carol's first", preview_to("sentinel one", carol.id)).await;
    assert_eq!(of_bob(&receiver), Vec::<String>::new(), "nothing for bob in his quiet hours");
    assert_eq!(bob.patch(settings, json!({"quiet_hours": null})).await.0, StatusCode::OK);

    // Bob's open app shows the room: a mention there, no event.
    let room = alice.post("/api/chat/rooms/", json!({"title": "Crew", "members": [bob.id]})).await.1;
    let room = room["id"].as_i64().unwrap();
    receiver.wait_for("bob's room_added", of_kind("room_added", bob.id)).await;
    let mut socket = app.ws(&bob.token).await;
    socket.send(json!({"type": "focus", "conversation_id": room})).await;
    socket.send(json!({"type": "ping"})).await;
    while socket.next().await["type"] != "pong" {}
    app.send_message(&alice, room, "@bob on screen").await;
    app.send_message(&alice, to_carol, "sentinel two").await;
    receiver.wait_for("carol's second", preview_to("sentinel two", carol.id)).await;
    assert!(of_bob(&receiver).iter().all(|d| !d.contains("on screen")), "{:?}", of_bob(&receiver));

    // Looking elsewhere, quiet hours over: the next mention is an event.
    socket.send(json!({"type": "focus", "conversation_id": null})).await;
    socket.send(json!({"type": "ping"})).await;
    while socket.next().await["type"] != "pong" {}
    app.send_message(&alice, room, "@bob and now?").await;
    receiver.wait_for("bob's mention", preview_to("@bob and now?", bob.id)).await;
}

#[tokio::test]
async fn a_mute_and_a_block_keep_the_event_back_but_a_mention_in_a_muted_conversation_goes() {
    let app = TestApp::spawn_with(fast).await;
    let receiver = Receiver::start(Mode::Accept).await;
    register(&app, &receiver.url(), Some(&["notification.created"])).await;
    let (alice, bob, carol) = (app.register("alice").await, app.register("bob").await, app.register("carol").await);
    let to_carol = app.dm(&alice, &carol).await;
    let room = alice.post("/api/chat/rooms/", json!({"title": "Crew", "members": [bob.id]})).await.1;
    let room = room["id"].as_i64().unwrap();
    receiver.wait_for("bob's room_added", of_kind("room_added", bob.id)).await;
    let about = |receiver: &Receiver, text: &str| {
        let bobs = receiver.delivered().into_iter().filter(|r| r.body["data"]["recipient"]["id"] == bob.id);
        bobs.filter(|r| r.body["data"]["preview"].as_str().is_some_and(|p| p.contains(text))).count()
    };

    // Muted: a plain message makes no event (carol's, queued after, proves it was not just late);
    // a mention still does.
    assert_eq!(bob.post(&format!("/api/chat/conversations/{room}/mute/"), json!({})).await.0, StatusCode::OK);
    app.send_message(&alice, room, "while muted").await;
    app.send_message(&alice, to_carol, "sentinel one").await;
    receiver.wait_for("carol's first", preview_to("sentinel one", carol.id)).await;
    assert_eq!(about(&receiver, "while muted"), 0, "nothing for bob in a muted room");
    app.send_message(&alice, room, "@bob muted but named").await;
    receiver.wait_for("bob's mention", preview_to("@bob muted but named", bob.id)).await;

    // Bob blocks alice: not even a mention of him is an event.
    assert_eq!(bob.post(&format!("/api/chat/users/{}/block/", alice.id), json!({})).await.0, StatusCode::NO_CONTENT);
    app.send_message(&alice, room, "@bob blocked").await;
    app.send_message(&alice, to_carol, "sentinel two").await;
    receiver.wait_for("carol's second", preview_to("sentinel two", carol.id)).await;
    assert_eq!(about(&receiver, "@bob blocked"), 0, "nothing for bob from someone he blocked");
}
