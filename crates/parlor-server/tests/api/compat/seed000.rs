//! Seed 000's client (REST chat with files), replayed as its README documents it: create a
//! conversation with the other user's id in the path, send text and files with captions, list
//! conversations and messages, see unread counts, mark as read, download files. Every field the
//! client reads is checked: `message_type`, `attachment` (a URL), `attachment_name`,
//! `attachment_size`, `is_read`, `created_at`, `sender`, and the conversations' `other_user`,
//! `last_message` and `unread_count`.

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use super::platform::{PlatformUser, as_user, call, spawn};
use crate::attachments::{pdf, png};
use crate::helpers::TestApp;

async fn get(app: &TestApp, user: &PlatformUser, path: &str) -> Value {
    let (status, body) = call(as_user(app, Method::GET, path, user)).await;
    assert_eq!(status, 200, "GET {path}: {body}");
    body
}

async fn send_file(app: &TestApp, user: &PlatformUser, conversation: i64, bytes: Vec<u8>, name: &str) -> Value {
    let form =
        Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned())).text("caption", format!("see {name}"));
    let path = format!("/api/chat/conversations/{conversation}/send-file/");
    let (status, body) = call(as_user(app, Method::POST, &path, user).multipart(form)).await;
    assert_eq!(status, 201, "send-file: {body}");
    body
}

fn is_timestamp(v: &Value) -> bool {
    v.as_str().is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok())
}

#[tokio::test]
async fn seed_000_client_flow() {
    let (app, platform) = spawn(&["000"]).await;
    let alice = platform.user(101, "alice").await;
    let bob = platform.user(102, "bob").await;
    let carol = platform.user(103, "carol").await;
    // Bob has used the platform's chat page before: parlor knows his name.
    assert_eq!(get(&app, &bob, "/api/chat/conversations/").await["results"], json!([]));

    // POST /api/chat/conversations/<user_id>/ with the platform's user id.
    let (status, created) = call(as_user(&app, Method::POST, "/api/chat/conversations/102/", &alice)).await;
    assert_eq!(status, 201, "{created}");
    let conversation = created["id"].as_i64().unwrap();
    assert_eq!(created["other_user"]["id"], 102);
    assert_eq!(created["other_user"]["name"], "bob");
    assert_eq!(created["unread_count"], 0);
    assert_eq!(created["last_message"], Value::Null);
    let (status, again) = call(as_user(&app, Method::POST, "/api/chat/conversations/102/", &alice)).await;
    assert_eq!((status.as_u16(), &again["id"]), (200, &created["id"]), "the same conversation again");

    // Text over messages/.
    let path = format!("/api/chat/conversations/{conversation}/messages/");
    let (status, text) = call(as_user(&app, Method::POST, &path, &alice).json(&json!({"content": "Hi Bob"}))).await;
    assert_eq!(status, 201, "{text}");
    assert_eq!(text["content"], "Hi Bob");
    assert_eq!(text["message_type"], "text");
    assert_eq!(text["kind"], "text");
    assert_eq!(text["conversation"], conversation);
    assert_eq!(text["sender"]["id"], 101);
    assert_eq!(text["sender"]["name"], "alice");
    assert_eq!(text["is_read"], false);
    assert_eq!(text["attachment"], Value::Null);
    assert!(is_timestamp(&text["created_at"]), "{text}");

    // An image and a document, each with a caption.
    let image = send_file(&app, &alice, conversation, png(40, 30), "photo.png").await;
    assert_eq!(image["message_type"], "image");
    assert_eq!(image["content"], "see photo.png");
    assert_eq!(image["attachment_name"], "photo.png");
    assert_eq!(image["attachment_size"], png(40, 30).len());
    let document = send_file(&app, &alice, conversation, pdf(3000), "report.pdf").await;
    assert_eq!(document["message_type"], "file");
    assert_eq!(document["attachment_name"], "report.pdf");
    assert_eq!(document["attachment_size"], 3000);
    let url = document["attachment"].as_str().unwrap().to_owned();

    // Bob: the unread count, the conversation list, the messages, the file.
    let unread = get(&app, &bob, "/api/chat/unread-count/").await;
    assert_eq!(unread["unread_count"], 3);
    let list = get(&app, &bob, "/api/chat/conversations/").await;
    let row = &list["results"][0];
    assert_eq!(row["id"], conversation);
    assert_eq!(row["other_user"]["id"], 101);
    assert_eq!(row["other_user"]["avatar"], "https://platform.example/avatars/101.png");
    assert_eq!(row["unread_count"], 3);
    assert_eq!(row["last_message"]["message_type"], "file");
    assert!(row["last_message_preview"].as_str().unwrap().contains("report.pdf"), "{row}");
    let messages = get(&app, &bob, &path).await;
    let results = messages["results"].as_array().unwrap();
    let contents: Vec<&str> = results.iter().map(|m| m["content"].as_str().unwrap()).collect();
    assert_eq!(contents, ["Hi Bob", "see photo.png", "see report.pdf"], "oldest first");
    assert!(results.iter().all(|m| m["is_read"] == false && m["sender"]["id"] == 101));
    let (status, file) = call(as_user(&app, Method::GET, &url, &bob)).await;
    assert_eq!(status, 200, "download {url}: {file}");
    let bytes = as_user(&app, Method::GET, &url, &bob).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.to_vec(), pdf(3000));

    // mark-read/, then Alice sees her messages read.
    let (status, marked) =
        call(as_user(&app, Method::POST, &format!("/api/chat/conversations/{conversation}/mark-read/"), &bob)).await;
    assert_eq!(status, 200, "{marked}");
    assert_eq!(marked["unread_count"], 0);
    assert_eq!(get(&app, &bob, "/api/chat/unread-count/").await["unread_count"], 0);
    let seen = get(&app, &alice, &path).await;
    assert!(seen["results"].as_array().unwrap().iter().all(|m| m["is_read"] == true), "{seen}");

    // Someone else's conversation is not found; no credential is a 401.
    let (status, _) = call(as_user(&app, Method::GET, &path, &carol)).await;
    assert_eq!(status, 404);
    let (status, _) =
        call(as_user(&app, Method::POST, &format!("/api/chat/conversations/{conversation}/mark-read/"), &carol)).await;
    assert_eq!(status, 404);
    let (status, _) = call(app.http.get(app.url("/api/chat/unread-count/"))).await;
    assert_eq!(status, 401);
    // A user id the platform never had is created on reference, as "Chat with 42" is; junk is 404.
    let (status, _) = call(as_user(&app, Method::POST, "/api/chat/conversations/not%20an%20id/", &alice)).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn parlor_clients_keep_parlor_shapes_on_shared_paths() {
    let (app, platform) = spawn(&["000"]).await;
    let alice = platform.user(1, "alice").await;
    let own = app.register("dana").await;
    // A Bearer token: parlor's own answer (a cursor page), on a path seed 000 shares.
    let (status, body) = own.get("/api/chat/conversations/").await;
    assert_eq!(status, 200);
    assert!(body.get("has_more").is_some() && body.get("count").is_none(), "{body}");
    // The platform's credential: the seed's answer.
    let body = get(&app, &alice, "/api/chat/conversations/").await;
    assert!(body.get("count").is_some() && body.get("has_more").is_none(), "{body}");
    // A path parlor has with a method only the seed has, and the other way round: each router
    // reads its own path parameters (a 500 once, from the first router's left behind).
    let (status, body) = own.post("/api/chat/conversations/1/", json!({})).await;
    assert_eq!(status, 201, "dana opens the DM with the platform's user 1 the seed's way: {body}");
    assert_eq!(body["other_user"]["id"], 1, "{body}");
    let path = format!("/api/chat/conversations/{}/", body["id"]);
    let (status, body) = call(as_user(&app, Method::PATCH, &path, &alice).json(&json!({"title": "x"}))).await;
    assert_eq!((status.as_u16(), &body["code"]), (409, &json!("not_a_room")), "parlor's answer: {body}");
    // With the layer off, the seed's paths are parlor's or nothing.
    let (off, platform) = spawn(&[]).await;
    let alice = platform.user(1, "alice").await;
    let (status, _) = call(as_user(&off, Method::POST, "/api/chat/conversations/1/mark-read/", &alice)).await;
    assert_eq!(status, 404);
    let (status, body) = call(as_user(&off, Method::GET, "/api/chat/conversations/", &alice)).await;
    assert_eq!(status, 200, "the platform's credential still works on parlor's API");
    assert!(body.get("has_more").is_some(), "{body}");
}
