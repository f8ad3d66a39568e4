//! A former member sees the conversation as it was when they left (issue 17, item 3; protocol
//! §10.1): later edits, deletes and reactions of the messages they still see, and the room's
//! later title, picture and archived flag, reach them by no path: the conversation and its
//! list, history, one message, reply quotes, search, and events resumed over the socket.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

async fn ok(got: (StatusCode, Value)) -> Value {
    assert!(got.0.is_success(), "{} {}", got.0, got.1);
    got.1
}

async fn history(user: &TestUser, room: i64) -> Vec<Value> {
    let body = ok(user.get(&format!("/api/chat/conversations/{room}/messages/?limit=50")).await).await;
    let mut page = body["results"].as_array().unwrap().clone();
    page.reverse();
    page
}

fn find<'a>(messages: &'a [Value], id: &Value) -> &'a Value {
    messages.iter().find(|m| m["id"] == *id).unwrap_or_else(|| panic!("{id} not in {messages:?}"))
}

async fn search(user: &TestUser, what: &str, q: &str) -> Vec<Value> {
    let body = ok(user.get(&format!("/api/chat/search/{what}/?q={q}")).await).await;
    body["results"].as_array().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_former_member_sees_the_room_as_it_was_when_they_left() {
    let app = TestApp::spawn().await;
    let (alice, bob, carol) = (app.register("alice").await, app.register("bob").await, app.register("carol").await);
    let (status, room) = app
        .post(
            Some(&alice.token),
            "/api/chat/rooms/",
            json!({"title": "Team", "avatar": "https://cdn.example/team.png", "members": [bob.id, carol.id]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{room}");
    let room = room["id"].as_i64().unwrap();
    let messages = format!("/api/chat/conversations/{room}/messages/");
    let draft = app.send_message(&alice, room, "first draft for @carol").await;
    let doomed = app.send_message(&alice, room, "soon gone").await;
    let liked = app.send_message(&alice, room, "react to me").await;
    let quoting = ok(bob.post(&messages, json!({"content": "quoting you", "reply_to": draft["id"]})).await).await;
    let react = |user: &TestUser, message: &Value, emoji: &str| {
        let path = format!("/api/chat/messages/{}/reactions/", message["id"]);
        let (token, body) = (user.token.clone(), json!({"emoji": emoji}));
        let app = &app;
        async move { ok(app.post(Some(&token), &path, body).await).await }
    };
    react(&bob, &liked, "👍").await;
    react(&alice, &draft, "👀").await;
    ok(carol.post(&format!("/api/chat/conversations/{room}/leave/"), json!({})).await).await;

    // After she left: an edit, a delete, reactions taken back and added, a new name and picture,
    // and the archive.
    let path = format!("/api/chat/messages/{}/", draft["id"]);
    ok(alice.patch(&path, json!({"content": "second draft"})).await).await;
    let (status, _) = alice.delete(&format!("/api/chat/messages/{}/", doomed["id"])).await;
    assert!(status.is_success());
    react(&bob, &liked, "👍").await;
    react(&alice, &liked, "🎉").await;
    let conversation = format!("/api/chat/conversations/{room}/");
    let patch = json!({"title": "Renamed", "avatar": "https://cdn.example/new.png"});
    ok(alice.patch(&conversation, patch).await).await;
    ok(alice.post(&format!("{conversation}archive/"), json!({})).await).await;

    // The members see it all.
    let now = ok(alice.get(&conversation).await).await;
    assert_eq!((now["title"].as_str(), now["archived"].as_bool()), (Some("Renamed"), Some(true)), "{now}");
    let theirs = history(&alice, room).await;
    assert_eq!(find(&theirs, &draft["id"])["content"], "second draft");
    assert_eq!(find(&theirs, &doomed["id"])["deleted"], true);
    assert_eq!(find(&theirs, &liked["id"])["reactions"][0]["emoji"], "🎉");

    // She sees the room as she left it: its name, picture and flag...
    let hers = ok(carol.get(&conversation).await).await;
    assert_eq!(hers["is_member"], false);
    assert_eq!(
        (hers["title"].as_str(), hers["avatar"].as_str(), hers["archived"].as_bool(), &hers["archived_at"]),
        (Some("Team"), Some("https://cdn.example/team.png"), Some(false), &Value::Null),
        "{hers}"
    );
    assert_eq!(hers["last_message"]["system"]["action"], "member_left", "{hers}");
    for field in ["last_message_seq", "last_activity_at"] {
        assert_eq!(hers[field], hers["last_message"][if field == "last_message_seq" { "seq" } else { "created_at" }]);
    }
    assert!(hers["last_event_seq"].as_i64() < now["last_event_seq"].as_i64(), "{hers}");
    let (_, list) = carol.get("/api/chat/conversations/").await;
    let listed = list["results"].as_array().unwrap().iter().find(|c| c["id"] == room).expect("still listed");
    assert_eq!((listed["title"].as_str(), listed["archived"].as_bool()), (Some("Team"), Some(false)), "{listed}");
    for seen in [&hers, listed] {
        let text = seen.to_string();
        assert!(!text.contains("Renamed") && !text.contains("new.png") && !text.contains("second draft"), "{text}");
    }
    // ...its messages as they were: text, edit and delete marks, reactions, quotes...
    let mine = history(&carol, room).await;
    let (was_draft, was_doomed, was_liked) =
        (find(&mine, &draft["id"]), find(&mine, &doomed["id"]), find(&mine, &liked["id"]));
    assert_eq!(
        (was_draft["content"].as_str(), &was_draft["edited_at"]),
        (Some("first draft for @carol"), &Value::Null)
    );
    assert_eq!(was_draft["reactions"], json!([{"emoji": "👀", "count": 1, "user_ids": [alice.id]}]));
    assert_eq!((was_doomed["content"].as_str(), was_doomed["deleted"].as_bool()), (Some("soon gone"), Some(false)));
    assert_eq!(was_liked["reactions"], json!([{"emoji": "👍", "count": 1, "user_ids": [bob.id]}]));
    assert_eq!(find(&mine, &quoting["id"])["reply_to"]["content"], "first draft for @carol");
    let text = serde_json::to_string(&mine).unwrap();
    assert!(!text.contains("second draft") && !text.contains("🎉") && !text.contains("Renamed"), "{text}");
    let one = ok(carol.get(&path).await).await;
    assert_eq!(one["content"], "first draft for @carol");
    // Her notification about it quotes it as it was too.
    let inbox = crate::helpers::eventually(crate::helpers::WAIT, "carol's mention", || async {
        let inbox = ok(carol.get("/api/notifications/").await).await;
        let mentioned = inbox["results"].as_array().unwrap().iter().any(|n| n["type"] == "mention");
        if mentioned { Ok(inbox) } else { Err(inbox) }
    })
    .await;
    let text = inbox.to_string();
    assert!(text.contains("first draft") && !text.contains("second draft"), "{text}");

    // ...search over that only...
    assert!(search(&carol, "messages", "second").await.is_empty(), "a later edit is not found");
    let hits = search(&carol, "messages", "react").await;
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["message"]["reactions"][0]["emoji"], "👍", "{hits:?}");
    assert!(search(&carol, "conversations", "renamed").await.is_empty(), "nor the room's new name");
    let by_name = search(&carol, "conversations", "team").await;
    assert_eq!((by_name.len(), by_name[0]["title"].as_str()), (1, Some("Team")), "{by_name:?}");
    assert_eq!(search(&alice, "conversations", "renamed").await.len(), 1, "members find it by its name");

    // ...and over the socket, replaying from the start, the same.
    let mut ws = app.ws(&carol.token).await;
    ws.send(json!({"type": "resume", "conversations": {room.to_string(): 0}})).await;
    let mut replayed = Vec::new();
    loop {
        let frame = ws.next().await;
        if frame["type"] == "resumed" {
            break;
        }
        replayed.push(frame);
    }
    let text = serde_json::to_string(&replayed).unwrap();
    assert!(text.contains("first draft") && text.contains("soon gone"), "{text}");
    assert!(!text.contains("second draft") && !text.contains("🎉") && !text.contains("Renamed"), "{text}");
    let reacted: Vec<&Value> = replayed.iter().filter(|f| f["type"] == "reaction_updated").collect();
    assert!(!reacted.is_empty(), "{text}");
    for frame in reacted {
        assert!(!frame.to_string().contains("🎉"), "{frame}");
    }
}
