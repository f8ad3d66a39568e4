//! Direct conversations, history pages, read state and unread counts over REST.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_a_dm_twice_returns_the_same_conversation() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    let (status, first) = alice.post("/api/chat/conversations/", json!({"user_id": bob.id})).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["kind"], "direct");
    let members: Vec<i64> = first["members"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert_eq!(members.len(), 2);
    assert!(members.contains(&alice.id) && members.contains(&bob.id));
    assert_eq!(first["members"][0]["name"], "alice");

    let (status, again) = alice.post("/api/chat/conversations/", json!({"user_id": bob.id})).await;
    assert_eq!((status.as_u16(), &again["id"]), (200, &first["id"]));
    let (status, reverse) = bob.post("/api/chat/conversations/", json!({"user_id": alice.id})).await;
    assert_eq!((status.as_u16(), &reverse["id"]), (200, &first["id"]));

    let (status, body) = alice.post("/api/chat/conversations/", json!({"user_id": 98765})).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (404, Some("not_found")));

    let (status, detail) = bob.get(&format!("/api/chat/conversations/{}/", first["id"])).await;
    assert_eq!(status, 200);
    assert_eq!(detail["id"], first["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_list_is_ordered_by_activity_with_previews_and_unread_counts() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let with_bob = app.dm(&alice, &bob).await;
    let with_carol = app.dm(&alice, &carol).await;

    app.send_message(&bob, with_bob, "from bob 1").await;
    app.send_message(&bob, with_bob, "from bob 2").await;
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    app.send_message(&carol, with_carol, "from carol").await;

    let (_, list) = alice.get("/api/chat/conversations/").await;
    let results = list["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["id"], with_carol, "most recent activity first");
    assert_eq!(results[0]["last_message"]["content"], "from carol");
    assert_eq!(results[0]["unread_count"], 1);
    assert_eq!(results[1]["unread_count"], 2);
    assert_eq!(results[1]["last_message"]["content"], "from bob 2");

    let (_, unread) = alice.get("/api/chat/unread-count/").await;
    assert_eq!(unread["total"], 3);
    let per: Vec<(i64, i64)> = unread["conversations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["conversation_id"].as_i64().unwrap(), c["unread_count"].as_i64().unwrap()))
        .collect();
    assert!(per.contains(&(with_bob, 2)) && per.contains(&(with_carol, 1)), "{per:?}");

    // The sender's own messages are never unread.
    let (_, bobs) = bob.get("/api/chat/unread-count/").await;
    assert_eq!(bobs["total"], 0);

    // Replying moves the list again.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    app.send_message(&alice, with_bob, "reply").await;
    let (_, list) = alice.get("/api/chat/conversations/").await;
    assert_eq!(list["results"][0]["id"], with_bob);
    assert_eq!(list["results"][0]["unread_count"], 0, "writing marks everything before it read");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mark_read_moves_forward_only_up_to_the_named_message() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(app.send_message(&bob, conversation, &format!("m{i}")).await["id"].clone());
    }
    let path = format!("/api/chat/conversations/{conversation}/mark_read/");

    let (status, body) = alice.post(&path, json!({"message_id": ids[1]})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!((body["last_read_seq"].as_i64(), body["unread_count"].as_i64()), (Some(2), Some(2)));

    let (_, body) = alice.post(&path, json!({"message_ids": [ids[0]]})).await;
    assert_eq!(body["last_read_seq"], 2, "never moves back");

    // No body at all: everything.
    let response = app.http.post(app.url(&path)).bearer_auth(&alice.token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!((body["last_read_seq"].as_i64(), body["unread_count"].as_i64()), (Some(4), Some(0)));
    let (_, unread) = alice.get("/api/chat/unread-count/").await;
    assert_eq!(unread, json!({"total": 0, "conversations": []}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_pages_are_newest_first_capped_and_stable_while_messages_arrive() {
    let app = TestApp::spawn_with(|c| c.limits.page_size_max = 5).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    for i in 1..=7 {
        app.send_message(if i % 2 == 0 { &alice } else { &bob }, conversation, &format!("m{i}")).await;
    }
    let base = format!("/api/chat/conversations/{conversation}/messages/");
    let contents = |page: &serde_json::Value| -> Vec<String> {
        page["results"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap().to_owned()).collect()
    };

    let (_, page1) = alice.get(&format!("{base}?limit=3")).await;
    assert_eq!(contents(&page1), ["m7", "m6", "m5"]);
    assert_eq!(page1["has_more"], true);

    // New messages arrive between page loads; the cursor still continues where it was.
    app.send_message(&bob, conversation, "m8").await;
    let (_, page2) = alice.get(&format!("{base}?limit=3&before={}", page1["next_cursor"])).await;
    assert_eq!(contents(&page2), ["m4", "m3", "m2"]);
    let (_, page3) = alice.get(&format!("{base}?limit=3&before={}", page2["next_cursor"])).await;
    assert_eq!(contents(&page3), ["m1"]);
    assert_eq!(page3["has_more"], false);
    assert_eq!(page3["next_cursor"], serde_json::Value::Null);

    let (_, capped) = alice.get(&format!("{base}?limit=1000")).await;
    assert_eq!(capped["results"].as_array().unwrap().len(), 5, "limit is capped by page_size_max");
    let seqs: Vec<i64> = capped["results"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [8, 7, 6, 5, 4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conversation_list_comes_a_page_at_a_time_with_a_cursor() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let mut opened = Vec::new();
    for name in ["bob", "carol", "dave", "erin", "frank"] {
        let other = app.register(name).await;
        let id = app.dm(&alice, &other).await;
        app.send_message(&other, id, "hi").await;
        opened.push(id);
    }
    // Most recent activity first: the last one opened.
    opened.reverse();

    let (status, first) = alice.get("/api/chat/conversations/?limit=2").await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["has_more"], true, "{first}");
    let mut seen = ids(&first);
    let mut cursor = first["next_cursor"].as_str().expect("a cursor while more follow").to_owned();
    loop {
        let (status, page) = alice.get(&format!("/api/chat/conversations/?limit=2&after={cursor}")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(ids(&page));
        if page["has_more"] == false {
            assert_eq!(page["next_cursor"], Value::Null, "{page}");
            break;
        }
        cursor = page["next_cursor"].as_str().unwrap().to_owned();
    }
    assert_eq!(seen, opened, "every conversation once, in order");

    let (_, all) = alice.get("/api/chat/conversations/").await;
    assert_eq!((ids(&all), &all["has_more"]), (opened.clone(), &json!(false)), "the default page holds them all");

    // A made-up cursor is refused with a reason; out-of-range limits are clamped.
    for bad in ["nonsense", "1.x", "12"] {
        let (status, body) = alice.get(&format!("/api/chat/conversations/?after={bad}")).await;
        assert_eq!((status, &body["code"]), (StatusCode::BAD_REQUEST, &json!("validation_failed")), "{body}");
    }
    let (status, one) = alice.get("/api/chat/conversations/?limit=0").await;
    assert_eq!((status, ids(&one).len()), (StatusCode::OK, 1), "{one}");
}

fn ids(page: &Value) -> Vec<i64> {
    page["results"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect()
}
