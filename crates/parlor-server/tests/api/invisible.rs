//! Invisible code points (bidi overrides, zero-width and other default-ignorable or format
//! characters) are how impersonation is done: usernames holding one are refused, display text
//! (names, room titles, file names) has them stripped. One rule, `parlor_core::invisible`.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_username_with_an_invisible_character_is_refused_naming_it() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    for (name, code_point) in [("ali\u{200B}ce", "U+200B"), ("alice\u{202E}", "U+202E"), ("\u{2066}alice", "U+2066")] {
        let (status, body) =
            app.post(None, "/api/auth/register", json!({"username": name, "password": "correct horse"})).await;
        assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("validation_failed")), "{body}");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains("invisible") && message.contains(code_point), "{message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn display_names_lose_invisible_characters() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post(
            None,
            "/api/auth/register",
            json!({"username": "mallory", "password": "correct horse", "name": "Al\u{202E}ice\u{200B}\u{FEFF}"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["name"], "Alice");
    let token = body["access"].as_str().unwrap();
    let (status, me) = app.patch(Some(token), "/api/users/me", json!({"name": "Bob\u{2066}by\u{2069}"})).await;
    assert_eq!((status, me["name"].as_str()), (StatusCode::OK, Some("Bobby")), "{me}");
    // Emoji keep the joiners and selectors they are made of.
    let (_, me) = app.patch(Some(token), "/api/users/me", json!({"name": "Dev 👩\u{200D}💻 ❤\u{FE0F}"})).await;
    assert_eq!(me["name"], "Dev 👩\u{200D}💻 ❤\u{FE0F}");
    // Nothing visible left is an empty name.
    let (status, body) = app.patch(Some(token), "/api/users/me", json!({"name": "\u{200B}\u{202E}"})).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("validation_failed")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_titles_lose_invisible_characters() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let (status, room) = alice.post("/api/chat/rooms/", json!({"title": "Pay\u{202E}roll\u{200D}"})).await;
    assert_eq!(status, StatusCode::CREATED, "{room}");
    assert_eq!(room["title"], "Payroll");
    let id = room["id"].as_i64().unwrap();
    let (status, room) = app
        .patch(Some(&alice.token), &format!("/api/chat/conversations/{id}/"), json!({"title": "\u{2067}Team\u{00AD}"}))
        .await;
    assert_eq!((status, room["title"].as_str()), (StatusCode::OK, Some("Team")), "{room}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_names_lose_invisible_characters() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    // Shown as "invoiceexe.txt" with the override; the stored name reads as it is.
    let form = Form::new().part("file", Part::bytes(b"just text".to_vec()).file_name("invoice\u{202E}txt.exe"));
    let url = app.url(&format!("/api/chat/conversations/{conversation}/attachments/"));
    let response = app.http.post(url).bearer_auth(&alice.token).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let message: serde_json::Value = response.json().await.unwrap();
    assert_eq!(message["attachment"]["name"], "invoicetxt.exe", "{message}");
}
