//! `parlor migrate`: a single-node SQLite deployment moves to PostgreSQL with nothing lost. The
//! same server, restarted on the migrated database, answers every read exactly as before (and
//! keeps counting where it stopped); migrating into a database that holds data is refused.

use std::path::Path;

use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

/// Everything the users and the platform can read, as they read it, from `app`: the same users
/// read the SQLite server and then the PostgreSQL one, so each request names its server.
async fn snapshot(app: &TestApp, users: &[&TestUser]) -> Value {
    let mut seen = serde_json::Map::new();
    for user in users {
        let token = Some(user.token.as_str());
        let (_, conversations) = app.get(token, "/api/chat/conversations/").await;
        let mut histories = Vec::new();
        for conversation in conversations["results"].as_array().unwrap() {
            let id = &conversation["id"];
            let (_, page) = app.get(token, &format!("/api/chat/conversations/{id}/messages/?limit=100")).await;
            histories.push(page);
        }
        let (_, notifications) = app.get(token, "/api/notifications/").await;
        let (_, found) = app.get(token, "/api/chat/search/messages/?q=hello").await;
        // Relevance ranking is each engine's own (FTS5's bm25, PostgreSQL's ts_rank): compare the
        // hits, not their order.
        let mut found = found["results"].as_array().unwrap().clone();
        found.sort_by_key(|hit| hit["message"]["id"].as_i64());
        let (_, connections) = app.get(token, "/api/connections/").await;
        let (_, me) = app.get(token, "/api/users/me/").await;
        let view = json!({"conversations": conversations, "histories": histories, "notifications": notifications,
                          "search": found, "connections": connections, "me": me});
        seen.insert(user.username.clone(), view);
    }
    let (_, hooks) = app.server(Method::GET, "/api/server/webhooks", Value::Null).await;
    seen.insert("webhooks".into(), hooks);
    Value::Object(seen)
}

/// The first place where two JSON documents differ, as a path and both values.
fn difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| difference(&x[k], y.get(k).unwrap_or(&Value::Null), &format!("{at}.{k}")))
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            x.iter().zip(y).enumerate().find_map(|(i, (x, y))| difference(x, y, &format!("{at}[{i}]")))
        }
        _ => (a != b).then(|| format!("{at}: {a} became {b}")),
    }
}

fn migrate(dir: &Path, to: &str) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
        .args(["migrate", "--from", &format!("sqlite:{}", dir.display()), "--to", to])
        .env_remove("PARLOR_DATABASE_URL")
        .output()
        .expect("parlor migrate runs")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_deployment_moves_to_postgres_with_nothing_lost() {
    let Some(admin) = parlor_store_postgres::testing::admin_url_or_skip("migrate") else { return };
    let (url, _database) = parlor_store_postgres::testing::fresh_database(&admin).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Explicitly SQLite, whatever the suite's store is.
    let sqlite = |c: &mut parlor_server::config::Config| {
        c.database_url = Default::default();
        // The endpoint is a loopback address nobody listens on.
        c.webhooks.allow_private_targets = true;
    };

    let app = TestApp::spawn_at(dir.path(), sqlite).await;
    let (alice, bob, carol) = (app.register("alice").await, app.register("bob").await, app.register("carol").await);
    let (_, hook) = app.server(Method::POST, "/api/server/webhooks", json!({"url": "http://127.0.0.1:9/hook"})).await;
    assert!(hook["id"].is_i64(), "{hook}");
    let dm = app.dm(&alice, &bob).await;
    let first = app.send_message(&alice, dm, "hello Bob").await;
    let reply = bob
        .post(
            &format!("/api/chat/conversations/{dm}/messages/"),
            json!({"content": "hello you", "reply_to": first["id"]}),
        )
        .await
        .1;
    alice.patch(&format!("/api/chat/messages/{}/", first["id"]), json!({"content": "hello Bob!"})).await;
    alice.post(&format!("/api/chat/messages/{}/reactions/", reply["id"]), json!({"emoji": "👍"})).await;
    let gone = app.send_message(&bob, dm, "oops").await;
    bob.delete(&format!("/api/chat/messages/{}/", gone["id"])).await;
    let (_, room) = alice.post("/api/chat/rooms/", json!({"title": "Crew", "members": [bob.id, carol.id]})).await;
    let room = room["id"].as_i64().unwrap();
    app.send_message(&carol, room, "hello @alice and everyone").await;
    bob.post(&format!("/api/chat/conversations/{room}/mark_read/"), json!({})).await;
    let document = Part::bytes(b"%PDF-1.4\nnot much of a document".to_vec()).file_name("notes.pdf");
    let url_upload = app.url(&format!("/api/chat/conversations/{dm}/attachments/"));
    let uploaded = app
        .http
        .post(url_upload)
        .bearer_auth(&alice.token)
        .multipart(Form::new().part("file", document))
        .send()
        .await
        .unwrap();
    assert_eq!(uploaded.status(), 201);
    carol.post("/api/connections/", json!({"user_id": alice.id})).await;
    // Notifications are made in the background: wait for the mention to be stored.
    crate::helpers::eventually(crate::helpers::WAIT, "the mention is notified", || async {
        alice.get("/api/notifications/").await.1["results"].as_array().is_some_and(|n| !n.is_empty())
    })
    .await;
    // Reading history records delivery in the background: read until two reads 300 ms apart
    // agree.
    let last = std::cell::RefCell::new(snapshot(&app, &[&alice, &bob, &carol]).await);
    let before = crate::helpers::eventually(crate::helpers::WAIT, "the snapshots stop changing", || async {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let again = snapshot(&app, &[&alice, &bob, &carol]).await;
        let previous = last.replace(again.clone());
        (again == previous).then_some(again)
    })
    .await;
    app.stop().await;

    let moved = migrate(dir.path(), &url);
    let printed = String::from_utf8_lossy(&moved.stdout);
    assert!(moved.status.success(), "migrate failed: {printed}{}", String::from_utf8_lossy(&moved.stderr));
    assert!(printed.contains("messages") && printed.contains("moved"), "{printed}");

    let on_postgres =
        |c: &mut parlor_server::config::Config| c.database_url = parlor_server::config::Secret::new(url.clone());
    let app = TestApp::spawn_at(dir.path(), on_postgres).await;
    let after = snapshot(&app, &[&alice, &bob, &carol]).await;
    assert_eq!(difference(&before, &after, "$"), None, "PostgreSQL answers exactly as SQLite did");

    // Passwords, sessions and counters carry over: log in, send, register.
    let (status, login) =
        app.post(None, "/api/auth/token", json!({"username": "carol", "password": "correct horse"})).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{login}");
    assert!(login["access"].is_string(), "{login}");
    let next = app.send_message(&bob, dm, "still here").await;
    let last_seq = before["bob"]["histories"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|h| h["results"].as_array().unwrap().clone())
        .filter(|m| m["conversation_id"] == json!(dm))
        .filter_map(|m| m["seq"].as_i64())
        .max()
        .unwrap();
    assert_eq!(next["seq"].as_i64(), Some(last_seq + 1), "sequences continue: {next}");
    let dave = app.register("dave").await;
    assert!(dave.id > carol.id, "ids continue after the copied ones");
    app.stop().await;

    let again = migrate(dir.path(), &url);
    assert!(!again.status.success(), "a database holding data is refused");
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(said.contains("already holds data"), "{said}");
}
