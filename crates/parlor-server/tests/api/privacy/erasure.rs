//! Erasing an account: by the person (password required) or the host platform; what is left in
//! the database (every table, found by reading the schema), in blob storage and in search; what
//! the others see.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::json;

use super::schema::{Database, documented, documented_tables};
use super::{by_id, delete_me, history, room};
use crate::attachments::pdf;
use crate::helpers::{TestApp, WAIT, eventually, temp_path};
use parlor_server::rate_limit::Rate;

/// In every name, text and file of the erased person, so any trace of them is found by it.
const MARK: &str = "quokka";

/// Where an erased user's id may still appear: their emptied row's id is what these point at
/// ("Deleted user"), and nothing about them is attached to it.
const KEPT_REFERENCES: [(&str, &str); 3] = [("messages", "sender_id"), ("events", "actor_id"), ("members", "user_id")];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_account_leaves_no_trace_in_any_table_and_others_keep_their_history() {
    leaves_no_trace(None).await;
}

/// The same on PostgreSQL (`PARLOR_TEST_POSTGRES_URL`, always set in CI), whatever backend the
/// rest of the suite runs on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_account_leaves_no_trace_on_postgres_either() {
    let test = "an_erased_account_leaves_no_trace_on_postgres_either";
    let Some(admin) = parlor_store_postgres::testing::admin_url_or_skip(test) else { return };
    let (url, _database) = parlor_store_postgres::testing::fresh_database(&admin).await.expect("a test database");
    leaves_no_trace(Some(url)).await;
}

/// Erases a person who did a bit of everything, on SQLite or (with a URL) on PostgreSQL.
async fn leaves_no_trace(postgres: Option<String>) {
    let (_guard, data_dir) = temp_path();
    let on = postgres.clone();
    let app = TestApp::spawn_at(&data_dir, move |c| {
        c.push.allow_private_targets = true;
        c.webhooks.allow_private_targets = true;
        if let Some(url) = on {
            c.database_url = parlor_server::config::Secret::new(url);
        }
    })
    .await;
    let database = postgres.unwrap_or_else(|| app.database.clone());
    // A webhook endpoint that is down (nothing listens on the discard port): everything queued
    // for it stays in the outbox, and what is about her must go with the erasure.
    let (status, body) =
        app.server(reqwest::Method::POST, "/api/server/webhooks", json!({"url": "http://127.0.0.1:9/hooks"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let erin = app.register("quokkafan").await;
    let profile = json!({"name": "Quokka Fan", "email": "quokka@example.com"});
    let (status, body) = erin.patch("/api/users/me", profile).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Her browser's push subscription (a P-256 point: the curve's generator) and her settings.
    let subscription = json!({"endpoint": "http://127.0.0.1:9/push/quokka", "keys": {
        "p256dh": "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU",
        "auth": "AAECAwQFBgcICQoLDA0ODw"}});
    let (status, body) = erin.post("/api/push/subscriptions", subscription).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let quiet = json!({"quiet_hours": {"start": "22:00", "end": "07:00", "time_zone": "Europe/Berlin"}});
    let (status, body) = erin.patch("/api/users/me/notification-settings", quiet).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let crew = room(&erin, &[&bob, &carol]).await;
    let dm = app.dm(&erin, &bob).await;

    let hers = app.send_message(&erin, crew, "quokka plans for friday").await;
    let edited = app.send_message(&erin, dm, "first draft").await;
    let path = format!("/api/chat/messages/{}", edited["id"]);
    let (status, _) = erin.patch(&path, json!({"content": "quokka final words"})).await;
    assert_eq!(status, StatusCode::OK);
    let form = Form::new().part("file", Part::bytes(pdf(2000)).file_name("quokka-notes.pdf"));
    let upload = app.url(&format!("/api/chat/conversations/{dm}/attachments"));
    let sent = app.http.post(upload).bearer_auth(&erin.token).multipart(form).send().await.unwrap();
    assert_eq!(sent.status(), StatusCode::CREATED);
    let file: serde_json::Value = sent.json().await.unwrap();
    let (status, reply) = bob
        .post(&format!("/api/chat/conversations/{crew}/messages"), json!({"content": "on it", "reply_to": hers["id"]}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let react = format!("/api/chat/messages/{}/reactions", reply["id"]);
    assert_eq!(erin.post(&react, json!({"emoji": "👍"})).await.0, StatusCode::OK);
    let react = format!("/api/chat/messages/{}/reactions", hers["id"]);
    assert_eq!(bob.post(&react, json!({"emoji": "🎉"})).await.0, StatusCode::OK);
    let (status, _) = erin.post("/api/connections", json!({"user_id": carol.id})).await;
    assert!(status.is_success(), "connection request: {status}");
    let (status, _) = erin.post(&format!("/api/chat/users/{}/block", carol.id), json!({})).await;
    assert!(status.is_success(), "block: {status}");
    app.send_message(&bob, dm, "did you see it?").await;
    erin.post(&format!("/api/chat/conversations/{dm}/mark_read"), json!({})).await;
    let (status, _) = bob.post(&format!("/api/chat/messages/{}/report", hers["id"]), json!({"reason": "spam"})).await;
    assert!(status.is_success(), "report: {status}");

    // An export of hers, ready: its row and its archive go too.
    let (status, export) = erin.post("/api/users/me/export", json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{export}");
    let path = format!("/api/users/me/exports/{}", export["id"]);
    eventually(WAIT, "her export is ready", || async {
        let (_, job) = erin.get(&path).await;
        if job["status"] == "ready" { Ok(()) } else { Err(job) }
    })
    .await;
    assert!(!walk(&data_dir.join("files/exports")).is_empty(), "her archive is in blob storage");

    // Notifications to her and from her wait in the outbox, with her name and her words.
    eventually(WAIT, "notifications about her queued for the endpoint that is down", || {
        let database = database.clone();
        async move { Database::open(&database).await.rows_containing("webhook_outbox", "payload", MARK).await > 0 }
    })
    .await;

    let mut erins_socket = app.ws(&erin.token).await;
    let mut bobs_socket = app.ws(&bob.token).await;

    // The password is asked for, and checked.
    let (status, body) = delete_me(&app, &erin, None).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::BAD_REQUEST, Some("validation_failed")), "{body}");
    let (status, body) = delete_me(&app, &erin, Some(json!({"password": "wrong horse"}))).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("invalid_credentials")), "{body}");
    let (status, body) = delete_me(&app, &erin, Some(json!({"password": "correct horse", "extra": 1}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "unknown fields are refused: {body}");
    let (status, body) = delete_me(&app, &erin, Some(json!({"password": "correct horse"}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    // Her sockets close; her tokens and password open nothing.
    assert!(erins_socket.closed().await.is_some(), "the erased user's socket is closed");
    let (status, _) = erin.get("/api/users/me").await;
    assert!(matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN), "her token is refused: {status}");
    let (status, _) =
        app.post(None, "/api/auth/token", json!({"username": "quokkafan", "password": "correct horse"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "her password is refused");
    let (status, _) = app.post(None, "/api/auth/refresh", json!({"refresh": erin.refresh})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "her refresh token is gone");

    // Bob is told, live, and keeps a coherent history.
    let mut deleted = Vec::new();
    while deleted.len() < 3 {
        let frame = bobs_socket.expect("message_deleted").await;
        deleted.push(frame["message_id"].clone());
    }
    for id in [&hers["id"], &edited["id"], &file["id"]] {
        assert!(deleted.contains(id), "bob hears {id} was deleted: {deleted:?}");
    }
    let room_history = history(&bob, crew).await;
    let tombstone = by_id(&room_history, &hers["id"]);
    assert_eq!((tombstone["content"].as_str(), tombstone["deleted"].as_bool()), (Some(""), Some(true)));
    assert_eq!(tombstone["sender_name"], "Deleted user");
    let quoted = by_id(&room_history, &reply["id"]);
    assert_eq!((quoted["content"].as_str(), quoted["reply_to"]["deleted"].as_bool()), (Some("on it"), Some(true)));
    assert_eq!(quoted["reactions"], json!([]), "her reaction is gone from bob's message");
    let dm_history = history(&bob, dm).await;
    assert!(dm_history.iter().any(|m| m["content"] == "did you see it?"), "bob's own messages stay");
    let (status, conversation) = bob.get(&format!("/api/chat/conversations/{crew}")).await;
    assert_eq!(status, StatusCode::OK);
    let members: Vec<(i64, &str)> = conversation["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["user"]["id"].as_i64().or(m["id"].as_i64()).unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert!(!members.iter().any(|(id, _)| *id == erin.id), "she left the room: {members:?}");
    assert!(members.contains(&(bob.id, "owner")), "the room was handed to bob: {members:?}");
    let (status, found) = bob.get("/api/chat/search/messages?q=quokka").await;
    assert_eq!((status, found["results"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "{found}");
    let (status, _) = bob.get(&format!("/api/chat/attachments/{}", file["attachment"]["id"])).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "her file is gone");
    let files = walk(&data_dir.join("files"));
    assert!(files.is_empty(), "her file's bytes are gone from blob storage: {files:?}");
    let (status, _) = app.server(reqwest::Method::DELETE, "/api/server/users/quokkafan", serde_json::Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no platform user by that id");

    // Every table, as the schema has it now: each is accounted for in docs/privacy.md, and none
    // holds her name, words or file name, or points at her but the emptied row's references.
    let mut db = Database::open(&database).await;
    let tables = db.tables().await;
    let listed = documented_tables();
    let missing: Vec<&String> = tables.keys().filter(|t| !documented(&listed, t)).collect();
    assert!(missing.is_empty(), "tables not accounted for in docs/privacy.md's table: {missing:?}");
    for (table, columns) in &tables {
        for column in columns {
            let found = db.rows_containing(table, column, MARK).await;
            assert_eq!(found, 0, "{table}.{column} still holds {MARK:?} after the erasure");
        }
    }
    for (table, column) in db.user_references().await {
        let rows = db.rows_with(&table, &column, erin.id).await;
        let kept = KEPT_REFERENCES.contains(&(table.as_str(), column.as_str()));
        assert!(rows == 0 || kept, "{table}.{column} still points at the erased user ({rows} rows)");
    }
    let room_rows = db
        .number(
            "SELECT COUNT(*) FROM members mb JOIN conversations c ON c.id = mb.conversation_id \
             WHERE mb.user_id = $1 AND c.kind <> 'direct'",
            erin.id,
        )
        .await;
    assert_eq!(room_rows, 0, "only her direct conversations keep her (as \"Deleted user\")");
    app.stop().await;
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_platform_erases_its_users_who_need_no_password() {
    let app = TestApp::spawn().await;
    let (status, user) =
        app.server(reqwest::Method::PUT, "/api/server/users/quokka-42", json!({"name": "Quokka Platform"})).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    let id = user["id"].as_i64().unwrap();
    let quokka = app.signed_in(id, &crate::helpers::token_for(id));
    let bob = app.register("bob").await;
    let (status, dm) = quokka.post("/api/chat/conversations", json!({"user_id": bob.id})).await;
    assert!(status.is_success(), "{dm}");
    let dm = dm["id"].as_i64().unwrap();
    let path = format!("/api/chat/conversations/{dm}/messages");
    assert_eq!(quokka.post(&path, json!({"content": "quokka hello"})).await.0, StatusCode::CREATED);

    let (status, _) = app.server(reqwest::Method::DELETE, "/api/server/users/quokka-42", serde_json::Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.server(reqwest::Method::GET, "/api/server/users/quokka-42", serde_json::Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the platform's id is forgotten");
    let (status, _) = app.server(reqwest::Method::DELETE, "/api/server/users/quokka-42", serde_json::Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "erasing twice is a 404");
    let messages = history(&bob, dm).await;
    assert!(messages.iter().all(|m| m["content"] == "" && m["sender_name"] == "Deleted user"), "{messages:?}");
    let (status, _) = app.delete(None, "/api/server/users/quokka-42").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the server API needs its key");

    // A host-token user erases themselves with their token alone.
    let (_, other) = app.server(reqwest::Method::PUT, "/api/server/users/quokka-43", json!({"name": "Q"})).await;
    let other = app.signed_in(other["id"].as_i64().unwrap(), &crate::helpers::token_for(other["id"].as_i64().unwrap()));
    assert_eq!(delete_me(&app, &other, None).await.0, StatusCode::NO_CONTENT);
    app.stop().await;
}

#[tokio::test]
async fn guessing_the_password_through_erasure_is_rate_limited_like_login() {
    // A refill of one a minute: nothing comes back during the test.
    let app = TestApp::spawn_with(|c| {
        c.rate_limits.logins_per_ip = Rate { per_minute: 1, burst: 10 };
        c.rate_limits.logins_per_username = Rate { per_minute: 1, burst: 3 };
    })
    .await;
    let alice = app.register("alice").await;
    for guess in ["guess 1", "guess 2", "guess 3"] {
        let (status, body) = delete_me(&app, &alice, Some(json!({"password": guess}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["code"], "invalid_credentials", "{body}");
    }
    // Even the right password waits: it is not checked at all.
    let response = app
        .http
        .delete(app.url("/api/users/me"))
        .bearer_auth(&alice.token)
        .json(&json!({"password": "correct horse"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    assert!(retry_after.is_some_and(|secs| secs >= 1), "a Retry-After header: {retry_after:?}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "rate_limited", "{body}");
    assert!(body["message"].as_str().unwrap().contains("too many password attempts"), "{body}");
    // The account is still there, and the bucket is the login's: logging in waits too.
    let (status, me) = alice.get("/api/users/me").await;
    assert_eq!((status, me["id"].as_i64()), (StatusCode::OK, Some(alice.id)), "{me}");
    let (status, body) =
        app.post(None, "/api/auth/token", json!({"username": "alice", "password": "correct horse"})).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    app.stop().await;
}

/// `privacy.erasure = "anonymize"`: what they wrote stays for the others, under "Deleted user";
/// who they were (profile, email, push subscriptions, sessions) goes as in the delete mode.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymizing_keeps_the_words_under_deleted_user_and_nothing_of_the_person() {
    let app = TestApp::spawn_with(|c| {
        c.push.allow_private_targets = true;
        c.privacy.erasure = parlor_server::service::ErasureSetting::Anonymize;
    })
    .await;
    let erin = app.register("quokkafan").await;
    let profile = json!({"name": "Quokka Fan", "email": "quokka@example.com"});
    let (status, body) = erin.patch("/api/users/me", profile).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let subscription = json!({"endpoint": "http://127.0.0.1:9/push/quokka", "keys": {
        "p256dh": "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU",
        "auth": "AAECAwQFBgcICQoLDA0ODw"}});
    let (status, body) = erin.post("/api/push/subscriptions", subscription).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let crew = room(&erin, &[&bob, &carol]).await;
    let dm = app.dm(&erin, &bob).await;
    let in_room = app.send_message(&erin, crew, "the plan for friday").await;
    let in_dm = app.send_message(&erin, dm, "see you there").await;
    app.send_message(&bob, dm, "great").await;

    let (status, body) = delete_me(&app, &erin, Some(json!({"password": "correct horse"}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    // The words stay, not deleted, under "Deleted user", in the room and the direct conversation.
    for (conversation, sent, text) in [(crew, &in_room, "the plan for friday"), (dm, &in_dm, "see you there")] {
        let kept = by_id(&history(&bob, conversation).await, &sent["id"]);
        assert_eq!(kept["content"], text, "{kept}");
        assert_ne!(kept["deleted"], true, "{kept}");
        assert_eq!(kept["sender_name"], "Deleted user", "{kept}");
        assert_eq!(kept["sender_id"], erin.id, "{kept}");
    }
    // Who she was is gone: the profile others see, her sign-in, her sessions.
    let (status, seen) = bob.get(&format!("/api/chat/users/{}", erin.id)).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["name"], "Deleted user", "{seen}");
    assert!(!seen.to_string().to_lowercase().contains(MARK), "nothing of her profile: {seen}");
    let (status, _) = erin.get("/api/users/me").await;
    assert!(matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN), "her token is refused: {status}");
    let (status, _) = app.post(None, "/api/auth/refresh", json!({"refresh": erin.refresh})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "her refresh token is gone");
    let (status, _) =
        app.post(None, "/api/auth/token", json!({"username": "quokkafan", "password": "correct horse"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "her password is refused");
    // Her email and push subscription, which no endpoint shows to others: in the database.
    let mut db = Database::open(&app.database).await;
    for (table, column) in [("users", "email"), ("users", "display_name"), ("users", "username")] {
        assert_eq!(db.rows_containing(table, column, MARK).await, 0, "{table}.{column} still holds her");
    }
    let subscriptions = db.number("SELECT COUNT(*) FROM push_subscriptions WHERE user_id = $1", erin.id).await;
    assert_eq!(subscriptions, 0, "her push subscription is gone");
    let sessions = db.number("SELECT COUNT(*) FROM refresh_tokens WHERE user_id = $1", erin.id).await;
    assert_eq!(sessions, 0, "her sessions are gone");
    app.stop().await;
}
