//! Retention end to end: who may set a conversation's own (disappearing messages), the sweeper
//! under concurrent sends, and the legal hold that keeps a conversation whole through a sweep
//! and an erasure.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::schema::Database;
use super::{delete_me, history, room};
use crate::helpers::{TestApp, TestUser, WAIT, eventually};

fn retention_path(conversation: i64) -> String {
    format!("/api/chat/conversations/{conversation}/retention")
}

async fn set_retention(user: &TestUser, conversation: i64, secs: Value) -> (StatusCode, Value) {
    user.put(&retention_path(conversation), json!({"retention_secs": secs})).await
}

/// Waits (up to [`WAIT`]) until `done` holds for the conversation's history as `user` reads it.
async fn wait_for_history(user: &TestUser, conversation: i64, done: impl Fn(&[Value]) -> bool) {
    eventually(WAIT, "the history to change", || async {
        let messages = history(user, conversation).await;
        if done(&messages) { Ok(()) } else { Err(Value::from(messages)) }
    })
    .await;
}

fn erased(m: &Value) -> bool {
    m["deleted"] == true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_and_either_side_of_a_direct_conversation_set_its_retention() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let crew = room(&alice, &[&bob]).await;
    let dm = app.dm(&alice, &bob).await;
    let mut bobs_socket = app.ws(&bob.token).await;

    let (status, body) = set_retention(&bob, crew, json!(3600)).await;
    assert_eq!((status, body["code"].as_str()), (StatusCode::FORBIDDEN, Some("forbidden")), "members may not: {body}");
    let (status, _) = set_retention(&carol, crew, json!(3600)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "outsiders see no such conversation");
    for bad in [json!(0), json!(-5), json!(10_i64 * 365 * 86_400 + 1), json!("1 day")] {
        let (status, body) = set_retention(&alice, crew, bad.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad} is refused: {body}");
    }
    let (status, body) = set_retention(&alice, crew, json!(86_400)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let notice = bobs_socket.expect("chat_message").await;
    assert_eq!(notice["system"]["action"], "retention_changed", "{notice}");
    assert_eq!(notice["content"], "alice set messages to disappear after 1 day");
    let (_, view) = bob.get(&format!("/api/chat/conversations/{crew}")).await;
    assert_eq!((view["retention_secs"].as_i64(), view["legal_hold"].as_bool()), (Some(86_400), Some(false)));

    let (status, _) = set_retention(&bob, dm, json!(7200)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "either side of a direct conversation may");
    let (status, _) = set_retention(&alice, dm, Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, view) = alice.get(&format!("/api/chat/conversations/{dm}")).await;
    assert_eq!(view["retention_secs"], Value::Null, "null goes back to the server's retention");
    let notes: Vec<String> = history(&alice, dm)
        .await
        .iter()
        .filter(|m| m["system"]["action"] == "retention_changed")
        .map(|m| m["content"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(notes, ["alice turned off disappearing messages", "bob set messages to disappear after 2 hours"]);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_under_concurrent_sends_erases_only_what_is_past_its_window() {
    const WINDOW: Duration = Duration::from_secs(2);
    let app = TestApp::spawn_with(|c| {
        c.retention.sweep_secs = 0.1;
        c.retention.batch = 5;
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let short = app.dm(&alice, &bob).await;
    let kept = app.dm(&alice, &carol).await;
    assert_eq!(set_retention(&alice, short, json!(WINDOW.as_secs())).await.0, StatusCode::NO_CONTENT);

    // Sends keep coming to both conversations while the sweeper works through the first ones.
    let started = Instant::now();
    let sender = {
        let alice = alice.clone();
        tokio::spawn(async move {
            let mut sent: Vec<(i64, i64, Instant)> = Vec::new();
            let mut n = 0;
            while started.elapsed() < WINDOW * 3 && n < 160 {
                for conversation in [short, kept] {
                    n += 1;
                    let at = Instant::now();
                    let path = format!("/api/chat/conversations/{conversation}/messages");
                    let (status, body) = alice.post(&path, json!({"content": format!("message {n}")})).await;
                    assert_eq!(status, StatusCode::CREATED, "every send succeeds during sweeps: {body}");
                    sent.push((conversation, body["id"].as_i64().unwrap(), at));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            sent
        })
    };
    let sent = sender.await.unwrap();
    assert!(sent.len() > 20, "enough sends to overlap several sweeps: {}", sent.len());
    let first_short = sent.iter().find(|(c, _, _)| *c == short).unwrap().1;
    wait_for_history(&alice, short, |ms| ms.iter().any(|m| m["id"] == first_short && erased(m))).await;

    let short_history = history(&alice, short).await;
    let looked = Instant::now();
    for (conversation, id, at) in &sent {
        if *conversation == kept {
            continue;
        }
        let message = short_history.iter().find(|m| m["id"] == *id).expect("every message keeps its place");
        if erased(message) {
            assert!(*at + WINDOW < looked, "message {id} was erased before its {WINDOW:?} were up");
        }
    }
    let kept_history = history(&alice, kept).await;
    let sent_kept = sent.iter().filter(|(c, _, _)| *c == kept).count();
    assert_eq!(kept_history.len(), sent_kept, "every message of the other conversation is there");
    assert!(kept_history.iter().all(|m| !erased(m)), "the other conversation loses nothing");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_conversation_survives_the_sweep_and_an_erasure() {
    let app = TestApp::spawn_with(|c| {
        c.retention.sweep_secs = 0.1;
        // One second, server-wide.
        c.retention.messages_days = 1.0 / 86_400.0;
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let disputed = app.dm(&alice, &bob).await;
    let ordinary = app.dm(&alice, &carol).await;
    let hold = format!("/api/server/conversations/{disputed}/legal-hold");
    assert_eq!(app.server(Method::PUT, &hold, Value::Null).await.0, StatusCode::NO_CONTENT);
    let (status, _) = app.server(Method::PUT, "/api/server/conversations/999999/legal-hold", Value::Null).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = alice.put(&hold, json!({})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "only the server API holds conversations");

    let held = app.send_message(&alice, disputed, "the agreed price was 40").await;
    let free = app.send_message(&alice, ordinary, "see you").await;
    wait_for_history(&carol, ordinary, |ms| ms.iter().any(|m| m["id"] == free["id"] && erased(m))).await;
    let messages = history(&bob, disputed).await;
    assert!(messages.iter().any(|m| m["id"] == held["id"] && !erased(m)), "the sweep passes the held one by");
    let (_, view) = bob.get(&format!("/api/chat/conversations/{disputed}")).await;
    assert_eq!(view["legal_hold"], true);

    // Alice leaves for good: the held conversation keeps her words, under "Deleted user".
    assert_eq!(delete_me(&app, &alice, Some(json!({"password": "correct horse"}))).await.0, StatusCode::NO_CONTENT);
    let messages = history(&bob, disputed).await;
    let kept = messages.iter().find(|m| m["id"] == held["id"]).unwrap();
    assert_eq!(
        (kept["content"].as_str(), kept["sender_name"].as_str()),
        (Some("the agreed price was 40"), Some("Deleted user"))
    );

    // Lifted, retention applies again.
    assert_eq!(app.server(Method::DELETE, &hold, Value::Null).await.0, StatusCode::NO_CONTENT);
    wait_for_history(&bob, disputed, |ms| ms.iter().any(|m| m["id"] == held["id"] && erased(m))).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swept_message_leaves_its_words_neither_in_search_nor_in_the_word_list() {
    const WORD: &str = "zanzibarquokka";
    let app = TestApp::spawn_with(|c| c.retention.sweep_secs = 0.1).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let short = app.dm(&alice, &bob).await;
    let search = |prefix: &'static str| {
        let app = &app;
        let alice = &alice;
        async move {
            let response = app
                .http
                .get(app.url("/api/chat/search/messages"))
                .bearer_auth(&alice.token)
                .query(&[("q", prefix)])
                .send()
                .await
                .expect("request reaches");
            assert_eq!(response.status(), StatusCode::OK);
            let body: Value = response.json().await.unwrap();
            body["results"].as_array().unwrap().len()
        }
    };
    let sent = app.send_message(&alice, short, &format!("the {WORD} is secret")).await;
    assert_eq!(search("zanzibarq").await, 1, "a prefix finds it while it lives");

    assert_eq!(set_retention(&alice, short, json!(1)).await.0, StatusCode::NO_CONTENT);
    wait_for_history(&alice, short, |ms| ms.iter().any(|m| m["id"] == sent["id"] && erased(m))).await;
    assert_eq!(search("zanzibarq").await, 0, "a prefix finds nothing once it is swept");
    let mut db = Database::open(&app.database).await;
    assert_eq!(db.rows_containing("messages_fts_words", "word", WORD).await, 0, "the word list forgot it");
    app.stop().await;
}
