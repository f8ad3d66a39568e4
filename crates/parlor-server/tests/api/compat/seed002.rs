//! Seed 002's client (`chatService.js` over a DRF `ChatViewSet` and `DirectChatConsumer`),
//! replayed as its README documents it: messages to a receiver over REST (JSON and with a
//! file) and over the socket, `history/?user_id=`, edits, deletes, replies, typing and read
//! receipts both ways with the seed's field names, unread counts, the global `mark_read/`, the
//! cross-conversation list and `GET /api/rooms/`.

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use super::platform::{PlatformUser, as_user, call, socket, socket_with_cookie, spawn};
use crate::attachments::png;
use crate::helpers::TestApp;

async fn get(app: &TestApp, user: &PlatformUser, path: &str) -> Value {
    let (status, body) = call(as_user(app, Method::GET, path, user)).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

fn is_timestamp(v: &Value) -> bool {
    v.as_str().is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok())
}

#[tokio::test]
async fn seed_002_client_flow() {
    let (app, platform) = spawn(&["002"]).await;
    let alice = platform.user(201, "alice").await;
    let bob = platform.user(202, "bob").await;
    assert_eq!(get(&app, &bob, "/api/chat/unread_count/").await["unread_count"], 0);
    // chatService.connect(currentUserId, ...): Bob with his token, Alice from a page (cookie).
    let mut bob_ws = socket(&app, "/ws/chat/", &bob).await;
    let mut alice_ws = socket_with_cookie(&app, "/ws/chat/", &alice).await;

    // sendMessageAPI(receiverId, text): POST /api/chat/ addressed by receiver.
    let (status, sent) = call(
        as_user(&app, Method::POST, "/api/chat/", &alice)
            .json(&json!({"receiver": 202, "message": "Hello!", "message_type": "text"})),
    )
    .await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!((sent["sender_id"].as_i64(), sent["receiver_id"].as_i64()), (Some(201), Some(202)));
    assert_eq!(sent["message"], "Hello!");
    assert_eq!(sent["message_type"], "text");
    assert_eq!(sent["is_read"], false);
    assert!(is_timestamp(&sent["timestamp"]), "{sent}");
    let first = sent["id"].as_i64().unwrap();

    // Server -> client `message`, in the seed's names.
    let frame = bob_ws.expect("message").await;
    assert_eq!(frame["id"], first);
    assert_eq!((frame["sender_id"].as_i64(), frame["receiver_id"].as_i64()), (Some(201), Some(202)));
    assert_eq!(frame["message"], "Hello!");
    assert_eq!(frame["message_type"], "text");
    assert!(is_timestamp(&frame["timestamp"]), "{frame}");
    assert_eq!(alice_ws.expect("message").await["id"], first, "the sender's other tabs see it too");

    // Client -> server `message` with a reply, `typing`, `read_receipt`.
    bob_ws
        .send(json!({"type": "message", "message": "Hi Alice", "message_type": "text", "receiver_id": 201, "reply_to_id": first}))
        .await;
    let reply = alice_ws.expect("message").await;
    assert_eq!(reply["message"], "Hi Alice");
    assert_eq!(reply["reply_to_id"], first);
    assert_eq!(reply["sender_id"], 202);
    assert_eq!(bob_ws.expect("message").await["id"], reply["id"]);
    bob_ws.send(json!({"type": "typing", "is_typing": true, "receiver_id": 201})).await;
    let typing = alice_ws.expect("typing").await;
    assert_eq!((typing["user_id"].as_i64(), &typing["is_typing"]), (Some(202), &json!(true)));
    alice_ws.send(json!({"type": "read_receipt", "message_ids": [reply["id"]]})).await;
    let receipt = bob_ws.expect("read_receipt").await;
    assert_eq!(receipt["user_id"], 201);
    assert_eq!(receipt["message_ids"], json!([reply["id"]]));
    assert_eq!(alice_ws.expect("read_receipt").await["user_id"], 201, "the reader's own tabs learn it too");
    // Bad frames get an error and the socket stays up.
    bob_ws.send(json!({"type": "message", "message": "to nobody"})).await;
    let error = bob_ws.expect("error").await;
    assert!(error["message"].as_str().unwrap().contains("receiver_id"), "{error}");
    bob_ws.send_text("{not json").await;
    bob_ws.expect("error").await;

    // A file: multipart with the receiver first, then the file, the text its caption.
    let form = Form::new()
        .text("receiver", "202")
        .text("message", "Check this file!")
        .part("file", Part::bytes(png(20, 20)).file_name("pic.png"));
    let (status, file) = call(as_user(&app, Method::POST, "/api/chat/", &alice).multipart(form)).await;
    assert_eq!(status, 201, "{file}");
    assert_eq!(file["message_type"], "image");
    assert_eq!(file["message"], "Check this file!");
    assert_eq!(file["file_name"], "pic.png");
    assert_eq!(file["file_size"], png(20, 20).len());
    let (status, _) = call(as_user(&app, Method::GET, file["file_url"].as_str().unwrap(), &bob)).await;
    assert_eq!(status, 200);
    assert_eq!(bob_ws.expect("message").await["message_type"], "image");
    assert_eq!(alice_ws.expect("message").await["id"], file["id"]);

    // history/?user_id=, oldest first, with the reply.
    let history = get(&app, &alice, "/api/chat/history/?user_id=202").await;
    let results = history["results"].as_array().unwrap();
    let texts: Vec<&str> = results.iter().map(|m| m["message"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Hello!", "Hi Alice", "Check this file!"]);
    assert_eq!(results[1]["reply_to_id"], first);
    assert_eq!(results[1]["is_read"], true, "Alice read Bob's reply");

    // edit_message/ and delete_message/: the sender only.
    let path = format!("/api/chat/{first}/edit_message/");
    let (status, edited) =
        call(as_user(&app, Method::PATCH, &path, &alice).json(&json!({"message": "Hello again"}))).await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!((edited["message"].as_str(), &edited["is_edited"]), (Some("Hello again"), &json!(true)));
    let frame = bob_ws.expect("message_edited").await;
    assert_eq!((frame["id"].as_i64(), frame["message"].as_str()), (Some(first), Some("Hello again")));
    let (status, _) = call(as_user(&app, Method::PATCH, &path, &bob).json(&json!({"message": "hijack"}))).await;
    assert!(status.is_client_error(), "Bob cannot edit Alice's message: {status}");
    let (status, _) = call(as_user(&app, Method::DELETE, &format!("/api/chat/{first}/delete_message/"), &alice)).await;
    assert_eq!(status, 204);
    assert_eq!(bob_ws.expect("message_deleted").await["id"], first);
    let history = get(&app, &bob, "/api/chat/history/?user_id=201").await;
    assert_eq!(history["results"][0]["is_deleted"], true);
    // Both pages were timed like parlor's own history route.
    let metrics = crate::observability::scrape(&app).await;
    let timed = crate::observability::sample(&metrics, "parlor_history_page_seconds_count");
    assert_eq!(timed, Some(2.0), "{metrics}");

    // unread_count/ and the global mark_read/.
    assert_eq!(get(&app, &bob, "/api/chat/unread_count/").await["unread_count"], 1);
    let (status, marked) = call(as_user(&app, Method::POST, "/api/chat/mark_read/", &bob)).await;
    assert_eq!((status.as_u16(), &marked["unread_count"]), (200, &json!(0)), "{marked}");
    assert_eq!(get(&app, &bob, "/api/chat/unread_count/").await["unread_count"], 0);

    // GET /api/chat/: the newest messages across conversations, newest first.
    let all = get(&app, &bob, "/api/chat/").await;
    let ids: Vec<i64> = all["results"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert_eq!(ids.first(), file["id"].as_i64().as_ref());
    assert_eq!(ids.len(), 3);

    // GET /api/rooms/: a room made with parlor's API shows with its members.
    let (status, room) =
        call(as_user(&app, Method::POST, "/api/chat/rooms/", &alice).json(&json!({"title": "Front desk"}))).await;
    assert_eq!(status, 201, "{room}");
    let rooms = get(&app, &alice, "/api/rooms/").await;
    assert_eq!(rooms["results"][0]["name"], "Front desk");
    assert_eq!(rooms["results"][0]["members"][0]["id"], 201);
    assert_eq!(get(&app, &bob, "/api/rooms/").await["results"], json!([]));
}
