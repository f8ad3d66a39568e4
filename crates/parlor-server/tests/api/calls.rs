//! Calls at the socket level: the server's state machine (ringing on every device, relaying
//! only to the device that answered, decline, busy, ringing timeout, the caller's socket going
//! away, three in a room), who may call (non-members and blocked users get the same 404 as for
//! a missing conversation), limits, the call's message in history and over webhooks, and the
//! ICE servers with TURN credentials. Browsers making real calls are in tests/web/calls.test.mjs.

use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, WAIT, Ws, eventually};
use crate::webhooks::receiver::{Mode, Receiver};

async fn spawn() -> TestApp {
    TestApp::spawn_with(|c| c.calls.ring_timeout_secs = 30).await
}

/// Call frames only: the call's own message and its receipts arrive on the same sockets.
async fn next_call(ws: &mut Ws) -> Value {
    ws.next_matching("a call frame", |f| f["type"].as_str().is_some_and(|t| t.starts_with("call_") || t == "error"))
        .await
}

async fn expect_call(ws: &mut Ws, kind: &str) -> Value {
    let frame = next_call(ws).await;
    assert_eq!(frame["type"], kind, "expected {kind}, got {frame}");
    frame
}

/// The newest message of a conversation, as history shows it.
async fn last_message(user: &TestUser, conversation: i64) -> Value {
    let path = format!("/api/chat/conversations/{conversation}/messages/?limit=1");
    let (status, page) = user.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["results"][0].clone()
}

/// Waits for the call's message to be stored (it is written as the call ends).
async fn call_message(user: &TestUser, conversation: i64) -> Value {
    eventually(WAIT, "the call's message", || async {
        let message = last_message(user, conversation).await;
        if message["kind"] == "call" { Ok(message) } else { Err(message) }
    })
    .await
}

async fn invite(ws: &mut Ws, conversation: i64, media: &str) -> (String, String) {
    ws.send(json!({"type": "call_invite", "conversation_id": conversation, "media": media})).await;
    let invited = expect_call(ws, "call_invited").await;
    assert_eq!(invited["conversation_id"], conversation);
    (invited["call_id"].as_str().unwrap().to_owned(), invited["peer"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn a_call_rings_every_device_and_then_talks_only_to_the_one_that_answered() {
    let app = spawn().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let dm = app.dm(&alice, &bob).await;
    let mut caller = app.ws(&alice.token).await;
    let (mut phone, mut laptop) = (app.ws(&bob.token).await, app.ws(&bob.token).await);

    let (call, caller_peer) = invite(&mut caller, dm, "video").await;
    for device in [&mut phone, &mut laptop] {
        let incoming = expect_call(device, "call_incoming").await;
        assert_eq!((incoming["call_id"].as_str(), incoming["media"].as_str()), (Some(call.as_str()), Some("video")));
        assert_eq!((incoming["caller_id"].as_i64(), incoming["caller_name"].as_str()), (Some(alice.id), Some("alice")));
    }
    phone.send(json!({"type": "call_ringing", "call_id": call})).await;
    assert_eq!(expect_call(&mut caller, "call_ringing").await["user_id"], bob.id);

    laptop.send(json!({"type": "call_accept", "call_id": call})).await;
    let stopped = expect_call(&mut phone, "call_ended").await;
    assert_eq!(stopped["reason"], "answered_elsewhere", "the other device stops ringing");
    let accepted = expect_call(&mut caller, "call_accepted").await;
    let laptop_peer = accepted["peer"].as_str().unwrap().to_owned();
    assert_eq!(accepted["user_id"], bob.id);
    assert_eq!(accepted["participants"].as_array().unwrap().len(), 2);
    assert_eq!(expect_call(&mut laptop, "call_accepted").await["peer"], laptop_peer.as_str());

    let offer = json!({"sdp": {"type": "offer", "sdp": "v=0\r\n"}});
    caller.send(json!({"type": "call_signal", "call_id": call, "to": laptop_peer, "data": offer})).await;
    let relayed = expect_call(&mut laptop, "call_signal").await;
    assert_eq!((relayed["from"].as_str(), relayed["from_user"].as_i64()), (Some(caller_peer.as_str()), Some(alice.id)));
    assert_eq!(relayed["data"], offer, "relayed as written");
    let answer = json!({"sdp": {"type": "answer", "sdp": "v=0\r\n"}});
    laptop.send(json!({"type": "call_signal", "call_id": call, "to": caller_peer, "data": answer})).await;
    assert_eq!(expect_call(&mut caller, "call_signal").await["data"], answer);
    phone.expect_quiet(200).await;

    // The phone, not in the call, can neither signal nor hang up for it.
    phone.send(json!({"type": "call_signal", "call_id": call, "to": caller_peer, "data": offer})).await;
    assert_eq!(expect_call(&mut phone, "error").await["code"], "not_found");

    laptop.send(json!({"type": "call_end", "call_id": call})).await;
    assert_eq!(expect_call(&mut laptop, "call_ended").await["reason"], "hangup");
    assert_eq!(expect_call(&mut caller, "call_ended").await["reason"], "hangup");
    let message = call_message(&bob, dm).await;
    assert_eq!(message["sender_id"], alice.id, "the caller writes the call's message");
    assert_eq!(message["call"]["media"], "video");
    assert_eq!(message["call"]["outcome"], "answered");
    assert_eq!(message["call"]["participants"], json!([alice.id, bob.id]));
    assert!(message["content"].as_str().unwrap().starts_with("📞 Video call · 0:0"), "{message}");
    let (_, unread) = bob.get("/api/chat/unread-count").await;
    assert_eq!(unread["conversations"], json!([{"conversation_id": dm, "unread_count": 1}]), "a call is unread");

    // Over: frames about it are refused.
    caller.send(json!({"type": "call_end", "call_id": call})).await;
    assert_eq!(expect_call(&mut caller, "error").await["code"], "not_found");
}

#[tokio::test]
async fn a_decline_ends_a_direct_call_and_a_busy_callee_is_told() {
    let app = spawn().await;
    let [alice, bob, carol] = [app.register("alice").await, app.register("bob").await, app.register("carol").await];
    let dm = app.dm(&alice, &bob).await;
    let (mut a, mut b) = (app.ws(&alice.token).await, app.ws(&bob.token).await);
    let (call, _) = invite(&mut a, dm, "voice").await;
    expect_call(&mut b, "call_incoming").await;
    b.send(json!({"type": "call_decline", "call_id": call})).await;
    assert_eq!(expect_call(&mut b, "call_ended").await["reason"], "declined");
    assert_eq!(expect_call(&mut a, "call_declined").await["user_id"], bob.id);
    assert_eq!(expect_call(&mut a, "call_ended").await["reason"], "declined");
    let message = call_message(&alice, dm).await;
    assert_eq!(
        (message["call"]["outcome"].as_str(), message["call"]["media"].as_str()),
        (Some("declined"), Some("voice"))
    );
    assert_eq!(message["content"], "📞 Voice call declined");

    // Bob in a call with alice; carol calling him hears busy.
    let (call, _) = invite(&mut a, dm, "voice").await;
    expect_call(&mut b, "call_incoming").await;
    b.send(json!({"type": "call_accept", "call_id": call})).await;
    expect_call(&mut a, "call_accepted").await;
    let carol_dm = app.dm(&carol, &bob).await;
    let mut c = app.ws(&carol.token).await;
    let (_, _) = invite(&mut c, carol_dm, "video").await;
    assert_eq!(expect_call(&mut c, "call_ended").await["reason"], "busy");
    let message = call_message(&carol, carol_dm).await;
    assert_eq!(message["call"]["outcome"], "busy");
    // And alice, in a call, cannot start another.
    a.send(json!({"type": "call_invite", "conversation_id": dm, "media": "voice"})).await;
    assert_eq!(expect_call(&mut a, "error").await["code"], "call_unavailable");
}

#[tokio::test]
async fn an_unanswered_call_is_missed_when_the_ringing_times_out() {
    let app = TestApp::spawn_with(|c| c.calls.ring_timeout_secs = 1).await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let dm = app.dm(&alice, &bob).await;
    let (mut a, mut b) = (app.ws(&alice.token).await, app.ws(&bob.token).await);
    let (call, _) = invite(&mut a, dm, "video").await;
    expect_call(&mut b, "call_incoming").await;
    assert_eq!(expect_call(&mut a, "call_ended").await["reason"], "missed");
    assert_eq!(expect_call(&mut b, "call_ended").await["reason"], "missed");
    let message = call_message(&bob, dm).await;
    assert_eq!(
        (message["call"]["outcome"].as_str(), message["content"].as_str()),
        (Some("missed"), Some("📞 Missed video call"))
    );
    assert_eq!(message["call"]["participants"], json!([alice.id]));
    b.send(json!({"type": "call_accept", "call_id": call})).await;
    assert_eq!(expect_call(&mut b, "error").await["code"], "not_found", "too late");
}

#[tokio::test]
async fn the_call_ends_for_everyone_when_the_callers_socket_goes() {
    let app = spawn().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let dm = app.dm(&alice, &bob).await;
    let (mut a, mut b) = (app.ws(&alice.token).await, app.ws(&bob.token).await);
    // While ringing.
    invite(&mut a, dm, "voice").await;
    expect_call(&mut b, "call_incoming").await;
    a.close().await;
    assert_eq!(expect_call(&mut b, "call_ended").await["reason"], "caller_gone");
    assert_eq!(call_message(&bob, dm).await["call"]["outcome"], "missed");
    // And in a call.
    let mut a = app.ws(&alice.token).await;
    let (call, _) = invite(&mut a, dm, "voice").await;
    expect_call(&mut b, "call_incoming").await;
    b.send(json!({"type": "call_accept", "call_id": call})).await;
    expect_call(&mut b, "call_accepted").await;
    a.close().await;
    assert_eq!(expect_call(&mut b, "call_ended").await["reason"], "caller_gone");
    eventually(WAIT, "an answered call's message", || async {
        last_message(&bob, dm).await["call"]["outcome"] == "answered"
    })
    .await;
}

#[tokio::test]
async fn three_in_a_room_and_a_room_too_large_is_refused() {
    let app = spawn().await;
    let users = [
        app.register("alice").await,
        app.register("bob").await,
        app.register("carol").await,
        app.register("dave").await,
        app.register("erin").await,
    ];
    let [alice, bob, carol, dave, erin] = &users;
    let ids = json!([bob.id, carol.id]);
    let (_, room) = alice.post("/api/chat/rooms/", json!({"title": "Job", "members": ids})).await;
    let room = room["id"].as_i64().unwrap();
    let (mut a, mut b, mut c) = (app.ws(&alice.token).await, app.ws(&bob.token).await, app.ws(&carol.token).await);
    let (call, _) = invite(&mut a, room, "video").await;
    expect_call(&mut b, "call_incoming").await;
    expect_call(&mut c, "call_incoming").await;
    b.send(json!({"type": "call_accept", "call_id": call})).await;
    expect_call(&mut a, "call_accepted").await;
    expect_call(&mut b, "call_accepted").await;
    c.send(json!({"type": "call_accept", "call_id": call})).await;
    for ws in [&mut a, &mut b, &mut c] {
        let accepted = expect_call(ws, "call_accepted").await;
        assert_eq!(
            (accepted["user_id"].as_i64(), accepted["participants"].as_array().unwrap().len()),
            (Some(carol.id), 3)
        );
    }
    // Bob hangs up: the call goes on for the other two.
    b.send(json!({"type": "call_end", "call_id": call})).await;
    expect_call(&mut b, "call_ended").await;
    assert_eq!(expect_call(&mut a, "call_left").await["user_id"], bob.id);
    assert_eq!(expect_call(&mut c, "call_left").await["user_id"], bob.id);
    c.send(json!({"type": "call_end", "call_id": call})).await;
    assert_eq!(expect_call(&mut a, "call_ended").await["reason"], "hangup");
    let message = call_message(alice, room).await;
    assert_eq!(message["call"]["participants"], json!([alice.id, bob.id, carol.id]));

    let ids = json!([bob.id, carol.id, dave.id, erin.id]);
    let (_, big) = alice.post("/api/chat/rooms/", json!({"title": "Crowd", "members": ids})).await;
    a.send(json!({"type": "call_invite", "conversation_id": big["id"], "media": "voice"})).await;
    let refused = expect_call(&mut a, "error").await;
    assert_eq!(refused["code"], "call_unavailable");
    assert!(refused["message"].as_str().unwrap().contains("SFU"), "{refused}");
}

#[tokio::test]
async fn non_members_and_blocked_users_cannot_call_or_signal() {
    let app = spawn().await;
    let [alice, bob, carol] = [app.register("alice").await, app.register("bob").await, app.register("carol").await];
    let dm = app.dm(&alice, &bob).await;
    let (mut a, mut c) = (app.ws(&alice.token).await, app.ws(&carol.token).await);
    c.send(json!({"type": "call_invite", "conversation_id": 987_654, "media": "voice"})).await;
    let missing = expect_call(&mut c, "error").await;
    c.send(json!({"type": "call_invite", "conversation_id": dm, "media": "voice"})).await;
    assert_eq!(expect_call(&mut c, "error").await, missing, "not a member: the same 404 as a missing conversation");

    let (call, peer) = invite(&mut a, dm, "voice").await;
    for frame in [
        json!({"type": "call_accept", "call_id": call}),
        json!({"type": "call_signal", "call_id": call, "to": peer, "data": {"candidate": "x"}}),
        json!({"type": "call_decline", "call_id": call}),
    ] {
        c.send(frame).await;
        assert_eq!(expect_call(&mut c, "error").await["code"], "not_found");
    }
    a.send(json!({"type": "call_end", "call_id": call})).await;
    expect_call(&mut a, "call_ended").await;

    let (status, _) = bob.post(&format!("/api/chat/users/{}/block/", alice.id), json!({})).await;
    assert!(status.is_success());
    a.send(json!({"type": "call_invite", "conversation_id": dm, "media": "voice"})).await;
    let blocked = expect_call(&mut a, "error").await;
    assert_eq!(
        (blocked["code"].as_str(), blocked["message"].as_str()),
        (missing["code"].as_str(), missing["message"].as_str())
    );

    // Bad frames are told apart.
    a.send(json!({"type": "call_invite", "conversation_id": dm, "media": "smell"})).await;
    assert_eq!(expect_call(&mut a, "error").await["code"], "validation_failed");
    a.send(json!({"type": "call_signal", "call_id": call, "to": peer})).await;
    assert_eq!(expect_call(&mut a, "error").await["code"], "invalid_body");
}

#[tokio::test]
async fn signals_are_size_limited_objects_and_invites_are_rate_limited() {
    let app = TestApp::spawn_with(|c| {
        c.calls.max_signal_bytes = 1024;
        c.rate_limits.call_invites.burst = 2;
        c.rate_limits.call_invites.per_minute = 1;
    })
    .await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let dm = app.dm(&alice, &bob).await;
    let mut a = app.ws(&alice.token).await;
    let (call, peer) = invite(&mut a, dm, "voice").await;
    let big = json!({"sdp": "x".repeat(2000)});
    a.send(json!({"type": "call_signal", "call_id": call, "to": peer, "data": big})).await;
    assert_eq!(expect_call(&mut a, "error").await["code"], "frame_too_large");
    a.send(json!({"type": "call_signal", "call_id": call, "to": peer, "data": "offer"})).await;
    assert_eq!(expect_call(&mut a, "error").await["code"], "invalid_body");
    a.send(json!({"type": "call_end", "call_id": call})).await;
    expect_call(&mut a, "call_ended").await;
    invite(&mut a, dm, "voice").await;
    a.send(json!({"type": "call_invite", "conversation_id": dm, "media": "voice"})).await;
    assert_eq!(expect_call(&mut a, "error").await["code"], "rate_limited");
}

#[tokio::test]
async fn the_call_message_goes_out_over_webhooks() {
    let app = TestApp::spawn_with(|c| {
        crate::webhooks::fast(c);
        c.calls.ring_timeout_secs = 1;
    })
    .await;
    let receiver = Receiver::start(Mode::Accept).await;
    crate::webhooks::register(&app, &receiver.url(), Some(&["message.created"])).await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let dm = app.dm(&alice, &bob).await;
    let mut a = app.ws(&alice.token).await;
    invite(&mut a, dm, "video").await;
    let delivered = receiver.wait_delivered(1).await[0].clone();
    assert_eq!(delivered.header("x-parlor-event"), "message.created");
    let data = &delivered.body["data"];
    assert_eq!((data["kind"].as_str(), data["call"]["outcome"].as_str()), (Some("call"), Some("missed")));
    assert_eq!(data["sender_id"], alice.id);
}

#[tokio::test]
async fn ice_servers_come_with_turn_credentials_minted_per_user() {
    let secret = "a-coturn-static-auth-secret-of-32-bytes";
    let app = TestApp::spawn_with(|c| {
        c.calls.ice_servers = vec!["stun:turn.example.com:3478".into(), "turn:turn.example.com:3478".into()];
        c.calls.turn_secret = parlor_server::config::Secret::new(secret);
        c.calls.turn_ttl_secs = 3600;
    })
    .await;
    let alice = app.register("alice").await;
    let (status, _) = app.get(None, "/api/calls/ice-servers").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = alice.get("/api/calls/ice-servers").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["ttl_secs"], 3600);
    let servers = body["ice_servers"].as_array().unwrap();
    assert_eq!(servers[0], json!({"urls": ["stun:turn.example.com:3478"]}), "STUN needs no credentials");
    assert_eq!(servers[1]["urls"], json!(["turn:turn.example.com:3478"]));
    let username = servers[1]["username"].as_str().unwrap();
    let (expiry, user) = username.split_once(':').unwrap();
    assert_eq!(user, alice.id.to_string());
    let left = expiry.parse::<i64>().unwrap() - crate::helpers::unix_now();
    assert!((3500..=3601).contains(&left), "valid for the ttl: {left}");
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(username.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(servers[1]["credential"], expected.as_str(), "coturn's use-auth-secret scheme");
}

#[tokio::test]
async fn an_archived_conversation_takes_no_calls_as_it_takes_no_messages() {
    let app = spawn().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let room = alice.post("/api/chat/rooms/", json!({"title": "Old job", "members": [bob.id]})).await.1;
    let room = room["id"].as_i64().unwrap();
    let (status, body) = alice.post(&format!("/api/chat/conversations/{room}/archive/"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (mut a, mut b) = (app.ws(&alice.token).await, app.ws(&bob.token).await);
    a.send(json!({"type": "call_invite", "conversation_id": room, "media": "voice"})).await;
    let refused = expect_call(&mut a, "error").await;
    assert_eq!(refused["code"], "conversation_archived", "{refused}");
    // The socket goes on: a call in an open conversation rings, and it is the first Bob hears.
    let dm = app.dm(&alice, &bob).await;
    invite(&mut a, dm, "voice").await;
    assert_eq!(expect_call(&mut b, "call_incoming").await["conversation_id"], json!(dm));
}
