//! Seed 004's client (WorkConnect: job-linked conversations, a presence socket, a Next.js
//! client that parses ids as UUIDs): a conversation created for a job, `send_message` /
//! `mark_as_read` / `typing_start` / `typing_stop` on `/ws/chat/{uuid}/`, `message_received`
//! with a nested `sender`, `messages_read`, `typing_indicator`, `user_status_change` on
//! `/ws/presence/`, the REST fallbacks, and ids that are UUID-shaped, stable and unguessable.

use reqwest::Method;
use serde_json::{Value, json};

use super::platform::{PlatformUser, as_user, call, socket, socket_with_cookie, spawn};
use crate::helpers::{TestApp, ws_refused};

fn uuid_shaped(v: &Value) -> bool {
    let Some(s) = v.as_str() else { return false };
    let b = s.as_bytes();
    b.len() == 36
        && b.iter()
            .enumerate()
            .all(|(i, c)| if [8, 13, 18, 23].contains(&i) { *c == b'-' } else { c.is_ascii_hexdigit() })
        && b[14] == b'4'
}

async fn get(app: &TestApp, user: &PlatformUser, path: &str) -> Value {
    let (status, body) = call(as_user(app, Method::GET, path, user)).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

#[tokio::test]
async fn seed_004_client_flow() {
    let (app, platform) = spawn(&["004"]).await;
    let client = platform.user(401, "Dana Client").await;
    let worker = platform.user(402, "Wes Worker").await;
    get(&app, &worker, "/api/chat/conversations/").await;

    // A conversation about job 77, from the job's bids page.
    let body = json!({"participant_id": 402, "job": 77});
    let (status, created) = call(as_user(&app, Method::POST, "/api/chat/conversations/", &client).json(&body)).await;
    assert_eq!(status, 201, "{created}");
    assert!(uuid_shaped(&created["id"]), "{created}");
    assert_eq!(created["job"], "77");
    let id = created["id"].as_str().unwrap().to_owned();
    let (status, again) = call(as_user(&app, Method::POST, "/api/chat/conversations/", &client).json(&body)).await;
    assert_eq!((status.as_u16(), &again["id"]), (200, &created["id"]), "stable: the same id again");

    // The worker watches presence; the client's page opens the conversation's socket.
    let mut presence = socket(&app, "/ws/presence/", &worker).await.watching();
    let mut client_ws = socket(&app, &format!("/ws/chat/{id}/"), &client).await;
    client_ws.ignored = &["user_status_change"];
    let status_change = presence.expect("user_status_change").await;
    assert_eq!((status_change["user_id"].as_i64(), &status_change["is_online"]), (Some(401), &json!(true)));
    let mut worker_ws = socket_with_cookie(&app, &format!("/ws/chat/{id}/"), &worker).await;
    worker_ws.ignored = &["user_status_change"];

    // send_message -> message_received with a nested sender.
    client_ws.send(json!({"type": "send_message", "content": "Hello!", "message_type": "text"})).await;
    let received = worker_ws.expect("message_received").await;
    let message = &received["message"];
    assert!(uuid_shaped(&message["id"]), "{received}");
    assert_eq!(message["content"], "Hello!");
    assert_eq!(message["sender"]["id"], 401);
    assert_eq!(message["sender"]["name"], "Dana Client");
    assert!(chrono::DateTime::parse_from_rfc3339(message["created_at"].as_str().unwrap()).is_ok());
    assert_eq!(client_ws.expect("message_received").await["message"]["id"], message["id"]);

    // typing_start / typing_stop -> typing_indicator.
    worker_ws.send(json!({"type": "typing_start"})).await;
    let typing = client_ws.expect("typing_indicator").await;
    assert_eq!(typing["user_id"], 402);
    assert_eq!(typing["user_name"], "Wes Worker");
    assert_eq!(typing["is_typing"], true);
    worker_ws.send(json!({"type": "typing_stop"})).await;
    assert_eq!(client_ws.expect("typing_indicator").await["is_typing"], false);

    // mark_as_read with the UUIDs -> messages_read with the reader.
    worker_ws.send(json!({"type": "mark_as_read", "message_ids": [message["id"]]})).await;
    let read = client_ws.expect("messages_read").await;
    assert_eq!(read["message_ids"], json!([message["id"]]));
    assert_eq!(read["reader_id"], 402);
    assert_eq!(worker_ws.expect("messages_read").await["reader_id"], 402, "and the reader's other devices");

    // REST: messages, the send_message fallback, mark_as_read (PATCH), the conversation.
    let messages = get(&app, &worker, &format!("/api/chat/conversations/{id}/messages/")).await;
    assert_eq!(messages["results"][0]["id"], message["id"]);
    assert_eq!(messages["results"][0]["sender"]["id"], 401);
    let path = format!("/api/chat/conversations/{id}/send_message/");
    let (status, sent) =
        call(as_user(&app, Method::POST, &path, &client).json(&json!({"content": "Still there?"}))).await;
    assert_eq!(status, 201, "{sent}");
    assert!(uuid_shaped(&sent["id"]));
    assert_eq!(worker_ws.expect("message_received").await["message"]["id"], sent["id"]);
    let one = get(&app, &worker, &format!("/api/chat/conversations/{id}/")).await;
    assert_eq!((one["id"].as_str(), one["unread_count"].as_i64()), (Some(id.as_str()), Some(1)));
    assert_eq!(one["last_message"]["id"], sent["id"]);
    let path = format!("/api/chat/conversations/{id}/mark_as_read/");
    let (status, marked) = call(as_user(&app, Method::PATCH, &path, &worker)).await;
    assert_eq!((status.as_u16(), &marked["unread_count"]), (200, &json!(0)), "{marked}");
    let list = get(&app, &worker, "/api/chat/conversations/").await;
    assert_eq!(list["results"][0]["id"], id.as_str());
    let recent = get(&app, &worker, "/api/chat/messages/").await;
    assert!(recent["results"].as_array().unwrap().iter().all(|m| uuid_shaped(&m["id"])), "{recent}");

    // Unguessable: a made-up or altered UUID is the same 404 as someone else's conversation.
    let mut altered = id.clone().into_bytes();
    altered[0] = if altered[0] == b'a' { b'b' } else { b'a' };
    let altered = String::from_utf8(altered).unwrap();
    for bad in [altered.as_str(), "6f1c0b8e-2d4a-4c3b-9e8f-0a1b2c3d4e5f"] {
        let (status, _) = call(as_user(&app, Method::GET, &format!("/api/chat/conversations/{bad}/"), &client)).await;
        assert_eq!(status, 404, "{bad}");
    }
    let stranger = platform.user(403, "Sam").await;
    let (status, _) = call(as_user(&app, Method::GET, &format!("/api/chat/conversations/{id}/"), &stranger)).await;
    assert_eq!(status, 404);
    let (status, _) = ws_refused(&format!("ws://{}/ws/chat/{id}/?token={}", app.addr, stranger.token)).await;
    assert_eq!(status, 404);
}
