//! The server API: the host platform's backend, authenticated by its API key.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{API_KEY, TestApp, TestUser};

#[tokio::test]
async fn server_api_needs_the_key_compared_exactly() {
    let app = TestApp::spawn().await;
    let path = app.url("/api/server/users/host-1/");
    let body = json!({"name": "Host One"});

    let missing = app.http.put(&path).json(&body).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(missing.json::<Value>().await.unwrap()["code"], "unauthorized");
    for wrong in ["nope", &API_KEY[..API_KEY.len() - 1], &format!("{API_KEY}x")] {
        let refused = app.http.put(&path).header("x-api-key", wrong).json(&body).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "key {wrong:?}");
    }
    // A user's access token is not an API key.
    let user = app.register("mallory").await;
    let (status, _) = user.put("/api/server/users/host-1/", body.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The bearer form works as well as the header.
    let ok = app.http.put(&path).bearer_auth(API_KEY).json(&body).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn server_api_is_off_without_a_key() {
    let app = TestApp::spawn_with(|c| c.api_key = parlor_server::config::Secret::new("")).await;
    let (status, body) = app.server(Method::PUT, "/api/server/users/host-1/", json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["message"].as_str().unwrap().contains("PARLOR_API_KEY"), "{body}");
}

#[tokio::test]
async fn upserting_a_platform_user_creates_then_refreshes_it() {
    let app = TestApp::spawn().await;
    let (status, created) = app
        .server(Method::PUT, "/api/server/users/host-42/", json!({"name": "Ada", "avatar": "https://x.test/a.png"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["external_id"], "host-42");
    assert_eq!(created["name"], "Ada");
    let (_, again) = app.server(Method::PUT, "/api/server/users/host-42/", json!({"name": "Ada L."})).await;
    assert_eq!(again["id"], created["id"], "same user");
    assert_eq!(again["name"], "Ada L.");
    assert_eq!(again["avatar"], "https://x.test/a.png", "unchanged when not given");

    let (status, body) = app.server(Method::PUT, "/api/server/users/host-42/", json!({"name": ""})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = app.server(Method::PUT, "/api/server/users/host-42/", json!({"name": 5})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// Provisions a platform user and returns its parlor id and an access token for it.
/// A user the platform provisions, signed in with a token the platform issued them.
async fn platform_user(app: &TestApp, external_id: &str, name: &str) -> TestUser {
    let (status, body) =
        app.server(Method::PUT, &format!("/api/server/users/{external_id}/"), json!({"name": name})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["id"].as_i64().unwrap();
    app.signed_in(id, &crate::helpers::token_for(id))
}

#[tokio::test]
async fn the_platform_connects_users_and_opens_job_conversations_with_notices() {
    let app = TestApp::spawn_with(|c| c.dm_policy = parlor_server::config::DmPolicy::Connections).await;
    let client = platform_user(&app, "u-1", "Client").await;
    let pro = platform_user(&app, "u-2", "Plumber").await;

    let (status, connected) =
        app.server(Method::POST, "/api/server/connections/", json!({"users": ["u-1", "u-2"]})).await;
    assert_eq!(status, StatusCode::OK, "{connected}");
    assert_eq!(connected["status"], "accepted");
    let dm = connected["conversation_id"].as_i64().unwrap();
    let (_, again) = app.server(Method::POST, "/api/server/connections/", json!({"users": ["u-2", "u-1"]})).await;
    assert_eq!(again["conversation_id"], dm, "idempotent");
    // The connections policy is satisfied: they can talk.
    let (status, body) =
        client.post(&format!("/api/chat/conversations/{dm}/messages/"), json!({"content": "hi"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let path = "/api/server/conversations/by-context/job/42/";
    let body = json!({"members": ["u-1", "u-2"], "title": "Fix the kitchen sink"});
    let (status, job) = app.server(Method::PUT, path, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{job}");
    assert_eq!(job["context"]["title"], "Fix the kitchen sink");
    let (status, same) = app.server(Method::PUT, path, body).await;
    assert_eq!((status, &same["id"]), (StatusCode::OK, &job["id"]));
    let job_id = job["id"].as_i64().unwrap();

    let mut pro_ws = app.ws(&pro.token).await;
    let (status, notice) = app
        .server(Method::POST, &format!("/api/server/conversations/{job_id}/notices/"), json!({"text": "Job accepted"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{notice}");
    let live = pro_ws.expect("chat_message").await;
    assert_eq!((live["content"].as_str(), live["sender_id"].as_i64()), (Some("Job accepted"), Some(0)), "{live}");
    assert_eq!(live["sender_name"], "System", "{live}");
    let (_, history) = client.get(&format!("/api/chat/conversations/{job_id}/messages/")).await;
    assert_eq!(history["results"][0]["content"], "Job accepted");

    // Unread counts for the platform's own badge.
    let (status, unread) = app.server(Method::GET, "/api/server/users/u-2/unread/", Value::Null).await;
    assert_eq!(status, StatusCode::OK, "{unread}");
    assert_eq!(unread["user_id"], pro.id);
    assert!(unread["total"].as_i64().unwrap() >= 2, "the DM message and the notice: {unread}");
    assert!(unread["notifications"].is_i64(), "{unread}");
}

#[tokio::test]
async fn the_server_api_says_clearly_what_is_wrong() {
    let app = TestApp::spawn().await;
    platform_user(&app, "u-1", "One").await;
    let (status, body) =
        app.server(Method::POST, "/api/server/connections/", json!({"users": ["u-1", "nobody"]})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body["message"].as_str().unwrap().contains("nobody"), "{body}");
    let (status, _) = app.server(Method::POST, "/api/server/connections/", json!({"users": ["u-1"]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app.server(Method::POST, "/api/server/connections/", json!({"users": "u-1"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) =
        app.server(Method::PUT, "/api/server/conversations/by-context/job/1/", json!({"members": ["u-1"]})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a context conversation needs two people");
    let (status, _) = app.server(Method::POST, "/api/server/conversations/999/notices/", json!({"text": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.server(Method::POST, "/api/server/conversations/999/notices/", json!({"text": ""})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app.server(Method::PATCH, "/api/server/accounts/999/", json!({"admin": true})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.server(Method::PATCH, "/api/server/accounts/1/", json!({"admin": "yes"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app.server(Method::GET, "/api/server/users/nobody/unread/", Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The system user is nobody a client can reach.
    let user = app.register("alice").await;
    let (status, _) = user.post("/api/chat/conversations/", json!({"user_id": 0})).await;
    assert!(status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST, "{status}");
    let (status, _) = user.get("/api/chat/users/0/").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_platform_adds_and_removes_room_members() {
    let app = TestApp::spawn().await;
    let owner = platform_user(&app, "u-1", "Client").await;
    let pro = platform_user(&app, "u-2", "Plumber").await;
    platform_user(&app, "u-3", "Electrician").await;
    let helper = platform_user(&app, "u-4", "Helper").await;
    let body = json!({"members": ["u-1", "u-2", "u-3"], "title": "Kitchen"});
    let (_, room) = app.server(Method::PUT, "/api/server/conversations/by-context/job/7/", body).await;
    let id = room["id"].as_i64().unwrap();
    let members = format!("/api/server/conversations/{id}/members/");

    let mut helper_ws = app.ws(&helper.token).await;
    let (status, body) = app.server(Method::POST, &members, json!({"users": ["u-4"]})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let added = helper_ws.expect("chat_message").await;
    assert_eq!(added["system"]["action"], "members_added", "{added}");
    assert_eq!(
        (added["system"]["actor_id"].as_i64(), added["system"]["user_ids"][0].as_i64()),
        (Some(0), Some(helper.id))
    );
    let (status, _) = helper.get(&format!("/api/chat/conversations/{id}/")).await;
    assert_eq!(status, StatusCode::OK, "the new member sees the room");
    let (status, _) = app.server(Method::POST, &members, json!({"users": ["u-4", "u-1"]})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "members already there are no change");
    helper_ws.expect_quiet(200).await;

    let (status, body) = app.server(Method::DELETE, &format!("{members}u-2/"), Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let removed = helper_ws.expect("chat_message").await;
    assert_eq!(removed["system"]["action"], "member_removed", "{removed}");
    let send = format!("/api/chat/conversations/{id}/messages/");
    let (status, _) = pro.post(&send, json!({"content": "still here?"})).await;
    assert!(status.is_client_error(), "a removed member cannot write: {status}");
    let (status, _) = owner.post(&send, json!({"content": "welcome"})).await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, _) = app.server(Method::DELETE, &format!("{members}u-2/"), Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no longer a member");
    let (status, body) = app.server(Method::DELETE, &format!("{members}nobody/"), Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = app.server(Method::POST, &members, json!({"users": []})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = app.server(Method::POST, &members, json!({"users": ["nobody"]})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) =
        app.server(Method::POST, "/api/server/conversations/999/members/", json!({"users": ["u-4"]})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.server(Method::DELETE, "/api/server/conversations/x/members/u-4/", Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let pair = json!({"members": ["u-1", "u-2"]});
    let (_, direct) = app.server(Method::PUT, "/api/server/conversations/by-context/job/8/", pair).await;
    let path = format!("/api/server/conversations/{}/members/", direct["id"]);
    let (status, body) = app.server(Method::POST, &path, json!({"users": ["u-3"]})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::CONFLICT, Some("not_a_room")), "{body}");
}
