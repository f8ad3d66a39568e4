//! Moderation: blocking (no DMs from a blocked user, either way), reporting messages, and what
//! server admins may do: list reports, delete any message, disable a user at once.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, TestUser};

async fn make_admin(app: &TestApp, user: &TestUser) {
    let (status, body) =
        app.server(Method::PATCH, &format!("/api/server/accounts/{}/", user.id), json!({"admin": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_blocked_user_cannot_open_a_dm_or_write_in_one() {
    let app = TestApp::spawn().await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let dm = app.dm(&alice, &bob).await;
    let (status, room) = alice.post("/api/chat/rooms/", json!({"title": "T", "members": [bob.id]})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = alice.post(&format!("/api/chat/users/{}/block/", bob.id), json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, blocked) = alice.get("/api/chat/blocks/").await;
    assert_eq!(blocked["results"][0]["id"], bob.id, "{blocked}");

    for (who, other) in [(&bob, &alice), (&alice, &bob)] {
        let (status, body) = who.post("/api/chat/conversations/", json!({"user_id": other.id})).await;
        assert_eq!((status, &body["code"]), (StatusCode::FORBIDDEN, &json!("blocked")), "{body}");
        let path = format!("/api/chat/conversations/{dm}/messages/");
        let (status, body) = who.post(&path, json!({"content": "hello?"})).await;
        assert_eq!((status, &body["code"]), (StatusCode::FORBIDDEN, &json!("blocked")), "{body}");
    }
    let mut ws = app.ws(&bob.token).await;
    ws.send(json!({"type": "chat_message", "conversation_id": dm, "content": "over the socket"})).await;
    assert_eq!(ws.expect("error").await["code"], "blocked");
    let (status, body) = bob.post("/api/connections/", json!({"user_id": alice.id})).await;
    assert_eq!((status, &body["code"]), (StatusCode::FORBIDDEN, &json!("blocked")), "{body}");

    // Files count as writing too.
    let file = reqwest::multipart::Part::bytes(b"hello".to_vec()).file_name("a.txt");
    let response = app
        .http
        .post(app.url(&format!("/api/chat/conversations/{dm}/attachments/")))
        .bearer_auth(&bob.token)
        .multipart(reqwest::multipart::Form::new().part("file", file))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // A room they already share keeps working, but neither can pull the other into a new one.
    app.send_message(&bob, room["id"].as_i64().unwrap(), "in the room").await;
    let (status, body) = bob.post("/api/chat/rooms/", json!({"title": "U", "members": [alice.id]})).await;
    assert_eq!((status, &body["code"]), (StatusCode::FORBIDDEN, &json!("blocked")), "{body}");

    let (status, _) = alice.delete(&format!("/api/chat/users/{}/block/", bob.id)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    app.send_message(&bob, dm, "thanks for unblocking").await;

    let (status, body) = alice.post(&format!("/api/chat/users/{}/block/", alice.id), json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = alice.post("/api/chat/users/999999/block/", json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn members_report_messages_and_admins_read_the_reports() {
    let app = TestApp::spawn().await;
    let (alice, bob, carol) = (app.register("alice").await, app.register("bob").await, app.register("carol").await);
    let dm = app.dm(&alice, &bob).await;
    let rude = app.send_message(&alice, dm, "something rude").await;
    let path = format!("/api/chat/messages/{}/report/", rude["id"]);

    let (status, report) = bob.post(&path, json!({"reason": "harassment"})).await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    let (status, body) = bob.post(&path, json!({"reason": "again"})).await;
    assert_eq!((status, &body["code"]), (StatusCode::CONFLICT, &json!("already_reported")));
    let (status, _) = carol.post(&path, json!({"reason": "nosy"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "only people who can read it report it");
    let (status, body) = bob.post(&path, json!({"reason": "  "})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, _) = bob.post(&path, json!({"reason": 5})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let (status, _) = bob.get("/api/admin/reports/").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "admins only");
    make_admin(&app, &carol).await;
    let (status, reports) = carol.get("/api/admin/reports/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(reports["results"][0]["message_id"], rude["id"], "{reports}");
    assert_eq!(reports["results"][0]["reason"], "harassment");
}

#[tokio::test]
async fn an_admin_deletes_any_message_and_disables_a_user_at_once() {
    let app = TestApp::spawn().await;
    let (alice, bob, admin) = (app.register("alice").await, app.register("bob").await, app.register("admin").await);
    make_admin(&app, &admin).await;
    let dm = app.dm(&alice, &bob).await;
    let message = app.send_message(&alice, dm, "spam spam").await;
    let mut bob_ws = app.ws(&bob.token).await;

    let (status, _) = bob.delete(&format!("/api/admin/messages/{}/", message["id"])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = admin.delete(&format!("/api/admin/messages/{}/", message["id"])).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(bob_ws.expect("message_deleted").await["message_id"], message["id"]);
    let (_, history) = bob.get(&format!("/api/chat/conversations/{dm}/messages/")).await;
    assert_eq!(history["results"][0]["content"], "", "{history}");

    let (status, _) = bob.post(&format!("/api/admin/users/{}/disable/", alice.id), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mut alice_ws = app.ws(&alice.token).await;
    let (status, _) = admin.post(&format!("/api/admin/users/{}/disable/", alice.id), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let close = alice_ws.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 4003, "{close:?}");
    let (status, body) = alice.get("/api/users/me/").await;
    assert_eq!((status, &body["code"]), (StatusCode::FORBIDDEN, &json!("account_disabled")), "{body}");
    let (status, _) = app.post(None, "/api/auth/refresh/", json!({"refresh": alice.refresh})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "sessions ended");
    let (status, _) =
        app.post(None, "/api/auth/token/", json!({"username": "alice", "password": "correct horse"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "cannot log in again");
    assert_eq!(app.ws_refused(&format!("/ws/?token={}", alice.token)).await.0, 403);

    let (status, _) = admin.post(&format!("/api/admin/users/{}/enable/", alice.id), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    // Her sessions ended with the disable: enabled again, she signs in again.
    let (status, body) = alice.get("/api/users/me/").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, session) =
        app.post(None, "/api/auth/token/", json!({"username": "alice", "password": "correct horse"})).await;
    assert_eq!(status, StatusCode::OK);
    let access = session["access"].as_str().unwrap();
    let (status, _) = app.get(Some(access), "/api/users/me/").await;
    assert_eq!(status, StatusCode::OK);
    let mut back = app.ws(access).await;
    back.expect_quiet(200).await;
    let (status, _) = admin.post(&format!("/api/admin/users/{}/disable/", admin.id), json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "not oneself");
}

#[tokio::test]
async fn under_the_connections_policy_only_connections_can_be_added_to_rooms() {
    let app = TestApp::spawn_with(|c| c.dm_policy = parlor_server::config::DmPolicy::Connections).await;
    let (alice, bob, carol) = (app.register("alice").await, app.register("bob").await, app.register("carol").await);
    let (status, body) = alice.post("/api/chat/rooms/", json!({"title": "T", "members": [bob.id]})).await;
    assert_eq!((status, &body["code"]), (StatusCode::FORBIDDEN, &json!("connection_required")), "{body}");

    let (_, request) = alice.post("/api/connections/", json!({"user_id": bob.id})).await;
    let (status, _) = bob.post(&format!("/api/connections/{}/accept/", request["id"]), json!({})).await;
    assert!(status.is_success());
    let (status, room) = alice.post("/api/chat/rooms/", json!({"title": "T", "members": [bob.id]})).await;
    assert_eq!(status, StatusCode::CREATED, "{room}");
    let path = format!("/api/chat/conversations/{}/members/", room["id"]);
    let (status, body) = alice.post(&path, json!({"user_ids": [carol.id]})).await;
    assert_eq!((status, &body["code"]), (StatusCode::FORBIDDEN, &json!("connection_required")), "{body}");
}
