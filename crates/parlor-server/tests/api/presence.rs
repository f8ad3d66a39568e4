//! Presence: contacts (and only contacts) see a user come online and go offline; a reload within
//! the grace period does not flicker; a client that vanishes without closing is found by the
//! heartbeat; last seen can be hidden; a block hides presence both ways.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, Ws};

const GRACE_MS: u64 = 300;

async fn app() -> TestApp {
    TestApp::spawn_with(|c| c.limits.presence_grace_ms = GRACE_MS).await
}

/// The next `user_status_change` about `user`, skipping everything else.
async fn status_change(ws: &mut Ws, user: i64) -> serde_json::Value {
    let what = format!("a user_status_change about user {user}");
    ws.next_matching(&what, |f| f["type"] == "user_status_change" && f["user_id"] == user).await
}

#[tokio::test]
async fn contacts_see_a_user_come_online_and_go_offline_after_the_grace_period() {
    let app = app().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    app.dm(&alice, &bob).await;
    let mut bob_ws = app.ws(&bob.token).await.watching();

    let alice_ws = app.ws(&alice.token).await.watching();
    let online = status_change(&mut bob_ws, alice.id).await;
    assert_eq!(online["is_online"], true, "{online}");
    assert!(online.get("last_seen").is_none(), "no last_seen while online: {online}");
    let (status, body) = bob.get(&format!("/api/chat/users/{}/status/", alice.id)).await;
    assert_eq!((status, &body["is_online"]), (StatusCode::OK, &json!(true)), "{body}");
    assert_eq!(body["last_seen"], json!(null), "no last_seen while online: {body}");

    // A reload: closed and reopened within the grace period. Nobody hears of it.
    alice_ws.close().await;
    let alice_ws = app.ws(&alice.token).await.watching();
    bob_ws.expect_quiet(GRACE_MS * 2).await;

    let closed_at = Instant::now();
    alice_ws.close().await;
    let offline = status_change(&mut bob_ws, alice.id).await;
    assert_eq!(offline["is_online"], false, "{offline}");
    assert!(offline["last_seen"].is_string(), "last_seen given when going offline: {offline}");
    assert!(closed_at.elapsed() >= Duration::from_millis(GRACE_MS), "not before the grace period");
    let (_, body) = bob.get(&format!("/api/chat/users/{}/status/", alice.id)).await;
    assert_eq!(body["is_online"], false, "{body}");
    assert_eq!(body["last_seen"], offline["last_seen"], "{body}");

    // Another device keeps a user online while one closes.
    let phone = app.ws(&alice.token).await.watching();
    assert_eq!(status_change(&mut bob_ws, alice.id).await["is_online"], true);
    let laptop = app.ws(&alice.token).await.watching();
    phone.close().await;
    bob_ws.expect_quiet(GRACE_MS * 2).await;
    laptop.close().await;
    assert_eq!(status_change(&mut bob_ws, alice.id).await["is_online"], false);
}

#[tokio::test]
async fn a_client_that_vanishes_without_closing_goes_offline_within_the_heartbeat_bound() {
    let app = TestApp::spawn_with(|c| {
        c.limits.presence_grace_ms = GRACE_MS;
        c.limits.heartbeat_secs = 1;
    })
    .await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    app.dm(&alice, &bob).await;
    let mut bob_ws = app.ws(&bob.token).await.watching();
    // Alice's client freezes: the socket stays open but nothing reads it or answers pings.
    let _frozen = app.ws(&alice.token).await.watching();
    assert_eq!(status_change(&mut bob_ws, alice.id).await["is_online"], true);
    let frozen_at = Instant::now();

    let offline = status_change(&mut bob_ws, alice.id).await;
    assert_eq!(offline["is_online"], false);
    // The documented bound: 4 x heartbeat_secs + presence_grace_ms (plus scheduling slack).
    let bound = Duration::from_secs(4) + Duration::from_millis(GRACE_MS) + Duration::from_millis(1500);
    assert!(frozen_at.elapsed() <= bound, "offline after {:?}, bound {bound:?}", frozen_at.elapsed());
}

#[tokio::test]
async fn presence_is_told_only_to_people_who_share_a_conversation() {
    let app = app().await;
    let (alice, bob, carol) = (app.register("alice").await, app.register("bob").await, app.register("carol").await);
    app.dm(&alice, &bob).await;
    let mut carol_ws = app.ws(&carol.token).await.watching();
    let mut bob_ws = app.ws(&bob.token).await.watching();
    let _alice_ws = app.ws(&alice.token).await.watching();
    assert_eq!(status_change(&mut bob_ws, alice.id).await["is_online"], true);
    carol_ws.expect_quiet(300).await;

    let status_path = format!("/api/chat/users/{}/status/", alice.id);
    let (status, body) = carol.get(&status_path).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "strangers cannot see presence: {body}");
    let (status, _) = alice.get(&status_path).await;
    assert_eq!(status, StatusCode::OK, "everyone sees their own");

    // The user directory carries presence for contacts only.
    let (_, found) = carol.get("/api/chat/users/?q=alice").await;
    assert!(found["results"][0].get("is_online").is_none(), "{found}");
    let (_, found) = bob.get("/api/chat/users/?q=alice").await;
    assert_eq!(found["results"][0]["is_online"], true, "{found}");
    let (_, one) = bob.get(&format!("/api/chat/users/{}/", alice.id)).await;
    assert_eq!(one["is_online"], true, "{one}");

    // Seed 004's presence list: contacts only.
    let (_, list) = bob.get("/api/chat/presence/").await;
    let ids: Vec<i64> = list["results"].as_array().unwrap().iter().map(|s| s["user_id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![alice.id], "{list}");
    let (_, list) = carol.get("/api/chat/presence/").await;
    assert_eq!(list["results"], json!([]), "{list}");
}

#[tokio::test]
async fn last_seen_can_be_hidden() {
    let app = app().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    app.dm(&alice, &bob).await;
    let (status, me) = alice.patch("/api/users/me/", json!({"hide_last_seen": true})).await;
    assert_eq!((status, &me["hide_last_seen"]), (StatusCode::OK, &json!(true)), "{me}");
    let (_, bad) = alice.patch("/api/users/me/", json!({"hide_last_seen": "yes"})).await;
    assert_eq!(bad["code"], "invalid_body", "{bad}");

    let mut bob_ws = app.ws(&bob.token).await.watching();
    app.ws(&alice.token).await.watching().close().await;
    status_change(&mut bob_ws, alice.id).await;
    let offline = status_change(&mut bob_ws, alice.id).await;
    assert_eq!(offline["is_online"], false);
    assert!(offline.get("last_seen").is_none(), "hidden: {offline}");
    let path = format!("/api/chat/users/{}/status/", alice.id);
    let (_, seen_by_bob) = bob.get(&path).await;
    assert_eq!(seen_by_bob["last_seen"], json!(null), "{seen_by_bob}");
    let (_, seen_by_self) = alice.get(&path).await;
    assert!(seen_by_self["last_seen"].is_string(), "the user still sees their own: {seen_by_self}");
}

#[tokio::test]
async fn a_block_hides_presence_both_ways() {
    let app = app().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    app.dm(&alice, &bob).await;
    let (status, _) = alice.post(&format!("/api/chat/users/{}/block/", bob.id), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let mut bob_ws = app.ws(&bob.token).await.watching();
    let mut alice_ws = app.ws(&alice.token).await.watching();
    bob_ws.expect_quiet(300).await;
    alice_ws.expect_quiet(300).await;
    for (viewer, target) in [(&bob, &alice), (&alice, &bob)] {
        let (status, _) = viewer.get(&format!("/api/chat/users/{}/status/", target.id)).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn rooms_over_the_presence_limit_are_not_told_but_can_ask() {
    let app = TestApp::spawn_with(|c| {
        c.limits.presence_grace_ms = GRACE_MS;
        c.limits.presence_events_max_members = 2;
    })
    .await;
    let (alice, bob, carol) = (app.register("alice").await, app.register("bob").await, app.register("carol").await);
    let (status, body) = alice.post("/api/chat/rooms/", json!({"title": "Big", "members": [bob.id, carol.id]})).await;
    assert!(status.is_success(), "{status} {body}");
    let mut carol_ws = app.ws(&carol.token).await.watching();
    carol_ws.ignored = &["messages_delivered", "notification"];
    let mut bob_ws = app.ws(&bob.token).await.watching();

    // Alice shares only a 3-member room with carol: over the limit of 2, carol hears nothing.
    // Bob also has a direct conversation with her, which is within it.
    app.dm(&alice, &bob).await;
    let _alice_ws = app.ws(&alice.token).await.watching();
    assert_eq!(status_change(&mut bob_ws, alice.id).await["is_online"], true);
    carol_ws.expect_quiet(300).await;

    // Asking still works: carol may see alice's presence, she shares a conversation with her.
    let (status, body) = carol.get(&format!("/api/chat/users/{}/status/", alice.id)).await;
    assert_eq!((status, &body["is_online"]), (StatusCode::OK, &json!(true)), "{body}");
}
