//! Seed 003's client (a Django template app: session cookie, one socket at `/ws/chat/` for
//! messages, typing and online status, an offline queue that re-sends over the socket):
//! `start_conversation/`, `add_message/`, the conversation with its messages, the users with
//! their online status, and the socket's frames both ways.

use reqwest::Method;
use serde_json::{Value, json};

use super::platform::{PlatformUser, call, socket_with_cookie, spawn_with};
use crate::helpers::TestApp;

/// The seed's pages call the API with the session cookie, not a token.
async fn request(app: &TestApp, method: Method, path: &str, user: &PlatformUser, body: Option<Value>) -> (u16, Value) {
    // As a Django page's fetch does: the session cookie, and the CSRF token in a header.
    let mut request =
        app.http.request(method, app.url(path)).header("cookie", user.cookie()).header("x-csrftoken", "x");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let (status, body) = call(request).await;
    (status.as_u16(), body)
}

#[tokio::test]
async fn seed_003_client_flow() {
    let (app, platform) = spawn_with(&["003"], |c| c.limits.presence_grace_ms = 100).await;
    let alice = platform.user(301, "alice").await;
    let bob = platform.user(302, "Bob van Dyke").await;
    let mut bob_ws = socket_with_cookie(&app, "/ws/chat/", &bob).await;

    // The "Chat with" button: start_conversation/, new then existing.
    let start = Some(json!({"user_id": 302}));
    let (status, started) =
        request(&app, Method::POST, "/api/chat/conversations/start_conversation/", &alice, start.clone()).await;
    assert_eq!(status, 201, "{started}");
    let id = started["id"].as_i64().unwrap();
    assert_eq!(started["other_participant"]["id"], 302);
    assert_eq!(started["participants"].as_array().unwrap().len(), 2);
    assert_eq!(started["messages"], json!([]));
    let (status, again) =
        request(&app, Method::POST, "/api/chat/conversations/start_conversation/", &alice, start).await;
    assert_eq!((status, &again["id"]), (200, &started["id"]));

    // The users list and status: Bob's socket is open, Alice was never seen.
    let bob_seen = user_in_list(&app, &alice, 302).await;
    assert_eq!((&bob_seen["first_name"], &bob_seen["last_name"]), (&json!("Bob"), &json!("van Dyke")));
    assert_eq!((&bob_seen["chat_status"]["is_online"], &bob_seen["is_online"]), (&json!(true), &json!(true)));
    let alice_seen = user_in_list(&app, &bob, 301).await;
    assert_eq!(alice_seen["first_name"], "alice");
    assert_eq!(
        (&alice_seen["chat_status"]["is_online"], &alice_seen["chat_status"]["last_active"]),
        (&json!(false), &Value::Null)
    );
    assert_eq!(status_of(&app, &bob, 301).await, json!({"user_id": 301, "is_online": false, "last_active": null}));
    assert_eq!(status_of(&app, &alice, 302).await["is_online"], true);

    // add_message/ reaches Bob's socket.
    let path = format!("/api/chat/conversations/{id}/add_message/");
    let (status, added) = request(&app, Method::POST, &path, &alice, Some(json!({"content": "Hello Bob"}))).await;
    assert_eq!(status, 201, "{added}");
    assert_eq!((added["content"].as_str(), added["sender"]["id"].as_i64()), (Some("Hello Bob"), Some(301)));
    let frame = bob_ws.expect("message").await;
    assert_eq!((frame["conversation_id"].as_i64(), frame["content"].as_str()), (Some(id), Some("Hello Bob")));
    assert_eq!(frame["sender"]["name"], "alice");

    // Online status: Alice's page opens its socket, Bob sees her online, then offline.
    let mut alice_ws = socket_with_cookie(&app, "/ws/chat/", &alice).await;
    alice_ws.ignored = &["user_status"];
    let online = bob_ws.expect("user_status").await;
    assert_eq!((online["user_id"].as_i64(), &online["is_online"]), (Some(301), &json!(true)));
    assert_eq!(user_in_list(&app, &bob, 301).await["chat_status"]["is_online"], true);
    assert_eq!(status_of(&app, &bob, 301).await["is_online"], true);

    // Typing and a message by conversation id over the socket (the offline queue re-sends these).
    bob_ws.send(json!({"type": "typing", "conversation_id": id, "is_typing": true})).await;
    let typing = alice_ws.expect("typing").await;
    assert_eq!((typing["conversation_id"].as_i64(), typing["user_id"].as_i64()), (Some(id), Some(302)));
    bob_ws.send(json!({"type": "message", "conversation_id": id, "message": "Hi Alice"})).await;
    let reply = alice_ws.expect("message").await;
    assert_eq!((reply["content"].as_str(), reply["sender_id"].as_i64()), (Some("Hi Alice"), Some(302)));
    bob_ws.expect("message").await;

    // The conversation with its messages; read over the socket.
    let (status, detail) = request(&app, Method::GET, &format!("/api/chat/conversations/{id}/"), &alice, None).await;
    assert_eq!(status, 200, "{detail}");
    let texts: Vec<&str> =
        detail["messages"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Hello Bob", "Hi Alice"]);
    assert_eq!(detail["unread_count"], 1);
    alice_ws.send(json!({"type": "read_receipt", "conversation_id": id})).await;
    let receipt = bob_ws.expect("read_receipt").await;
    assert_eq!(receipt["user_id"], 301);
    let (_, list) = request(&app, Method::GET, "/api/chat/conversations/", &alice, None).await;
    assert_eq!(list["results"][0]["unread_count"], 0);
    assert_eq!(list["results"][0]["last_message"]["content"], "Hi Alice");

    alice_ws.close().await;
    let offline = bob_ws.expect("user_status").await;
    assert_eq!((offline["user_id"].as_i64(), &offline["is_online"]), (Some(301), &json!(false)));
    // Offline now, and seen: "Last seen ... ago".
    let alice_seen = user_in_list(&app, &bob, 301).await;
    assert_eq!(alice_seen["chat_status"]["is_online"], false);
    let last_active = alice_seen["chat_status"]["last_active"].as_str().expect("last_active once seen");
    assert!(chrono::DateTime::parse_from_rfc3339(last_active).is_ok(), "{last_active}");
    assert_eq!(alice_seen["last_active"], last_active);
    let status = status_of(&app, &bob, 301).await;
    assert_eq!((&status["is_online"], &status["last_active"]), (&json!(false), &json!(last_active)));
    // Alice hides her last-seen time: Bob sees only "Offline".
    let hide = Some(json!({"hide_last_seen": true}));
    let (code, body) = request(&app, Method::PATCH, "/api/users/me/", &alice, hide).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(user_in_list(&app, &bob, 301).await["chat_status"]["last_active"], Value::Null);
    assert_eq!(status_of(&app, &bob, 301).await["last_active"], Value::Null);

    // Another user's conversation is not found, over REST and the socket.
    let carol = platform.user(303, "carol").await;
    // Carol shares nothing with Alice: not in her list, and Alice's status is the unknown 404.
    let (status, list) = request(&app, Method::GET, "/api/chat/users/", &carol, None).await;
    assert_eq!((status, &list["results"]), (200, &json!([])), "{list}");
    let (status, _) = request(&app, Method::GET, "/api/chat/users/301/status/", &carol, None).await;
    assert_eq!(status, 404);
    let (status, _) = request(&app, Method::GET, "/api/chat/users/999/status/", &carol, None).await;
    assert_eq!(status, 404);
    let ids: Vec<i64> = request(&app, Method::GET, "/api/chat/users/", &alice, None).await.1["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [302], "only the people Alice talks to");
    let (status, _) = request(&app, Method::POST, &path, &carol, Some(json!({"content": "x"}))).await;
    assert_eq!(status, 404);
    let mut carol_ws = socket_with_cookie(&app, "/ws/chat/", &carol).await;
    carol_ws.send(json!({"type": "message", "conversation_id": id, "message": "let me in"})).await;
    assert!(carol_ws.expect("error").await["message"].as_str().unwrap().contains("not found"));
    // A write with the cookie but no CSRF header (a form another site posts) is refused.
    let forged = app.http.post(app.url(&path)).header("cookie", alice.cookie()).json(&json!({"content": "forged"}));
    let (status, body) = call(forged).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["message"].as_str().unwrap().contains("X-CSRFToken"), "{body}");
    let (_, detail) = request(&app, Method::GET, &format!("/api/chat/conversations/{id}/"), &bob, None).await;
    assert!(detail["messages"].as_array().unwrap().iter().all(|m| m["content"] != "forged"));
    // Without a session the socket is refused before the upgrade.
    let (status, _) = crate::helpers::ws_refused(&format!("ws://{}/ws/chat/", app.addr)).await;
    assert_eq!(status, 401);
}

/// `user` in the caller's `GET /api/chat/users/`, as the seed's templates read one.
async fn user_in_list(app: &TestApp, caller: &PlatformUser, user: i64) -> Value {
    let (status, list) = request(app, Method::GET, "/api/chat/users/", caller, None).await;
    assert_eq!(status, 200, "{list}");
    let found = list["results"].as_array().unwrap().iter().find(|u| u["id"] == user).cloned();
    let found = found.unwrap_or_else(|| panic!("{user} not in {list}"));
    assert!(found["username"].is_string(), "{found}");
    found
}

/// `GET /api/chat/users/<id>/status/`.
async fn status_of(app: &TestApp, caller: &PlatformUser, user: i64) -> Value {
    let (status, body) = request(app, Method::GET, &format!("/api/chat/users/{user}/status/"), caller, None).await;
    assert_eq!(status, 200, "{body}");
    body
}
