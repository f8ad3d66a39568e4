//! A message's life after it is sent: the sender edits or deletes it, members react to it,
//! forward it and see who has received and read it; all of it reaches every member live, and a
//! client that was away catches up on it in order.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, Ws};

fn message_path(id: &Value) -> String {
    format!("/api/chat/messages/{id}/")
}

fn history_path(conversation: i64) -> String {
    format!("/api/chat/conversations/{conversation}/messages/")
}

async fn edit(user: &TestUser, id: &Value, content: &str) -> (StatusCode, Value) {
    user.patch(&message_path(id), json!({"content": content})).await
}

async fn delete(app: &TestApp, user: &TestUser, id: &Value) -> (StatusCode, Value) {
    let response =
        app.http.delete(app.url(&message_path(id))).bearer_auth(&user.token).send().await.expect("request reaches");
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

async fn react(user: &TestUser, id: &Value, emoji: &str) -> (StatusCode, Value) {
    user.post(&format!("/api/chat/messages/{id}/reactions/"), json!({"emoji": emoji})).await
}

async fn receipts(user: &TestUser, id: &Value) -> Value {
    let (status, body) = user.get(&format!("/api/chat/messages/{id}/receipts/")).await;
    assert_eq!(status, StatusCode::OK, "receipts: {body}");
    body
}

/// Polls the message's receipts every 100 ms until its status is `status`; fails after 5 s.
async fn wait_for_status(user: &TestUser, id: &Value, status: &str) -> Value {
    crate::helpers::eventually(crate::helpers::WAIT, &format!("status {status}"), || async {
        let body = receipts(user, id).await;
        if body["status"] == status { Ok(body) } else { Err(body) }
    })
    .await
}

/// Skips frames until a `messages_delivered` for `user` covering `up_to` message seq.
async fn expect_delivered(ws: &mut Ws, user: &TestUser, up_to: i64) -> Value {
    loop {
        let frame = ws.next_any().await;
        if frame["type"] == "messages_delivered"
            && frame["user_id"] == user.id
            && frame["up_to_seq"].as_i64() >= Some(up_to)
        {
            return frame;
        }
    }
}

fn assert_error(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["code"], code, "{body}");
}

fn user_ids(users: &Value) -> Vec<i64> {
    let mut found: Vec<i64> = users.as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()).collect();
    found.sort_unstable();
    found
}

fn reaction<'a>(reactions: &'a Value, emoji: &str) -> Option<&'a Value> {
    reactions.as_array().unwrap().iter().find(|r| r["emoji"] == emoji)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sender_edits_a_message_and_every_member_sees_it() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let conversation = app.dm(&alice, &bob).await;
    let mut alice_ws = app.ws(&alice.token).await;
    let mut bob_ws = app.ws(&bob.token).await;

    let sent = app.send_message(&alice, conversation, "Lunch at 12?").await;
    let id = sent["id"].clone();
    assert!(sent["edited_at"].is_null(), "{sent}");
    for ws in [&mut alice_ws, &mut bob_ws] {
        ws.expect("chat_message").await;
    }

    // Over REST.
    let (status, edited) = edit(&alice, &id, "Lunch at 1?").await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(edited["id"], id);
    assert_eq!(edited["content"], "Lunch at 1?");
    assert!(edited["edited_at"].is_string(), "{edited}");
    assert_eq!(edited["seq"], sent["seq"]);
    for ws in [&mut alice_ws, &mut bob_ws] {
        let got = ws.expect("message_edited").await;
        assert_eq!(got["message_id"], id);
        assert_eq!(got["conversation_id"], conversation);
        assert_eq!(got["message_seq"], sent["seq"]);
        assert_eq!(got["content"], "Lunch at 1?");
        assert!(got["edited_at"].is_string(), "{got}");
    }

    // Over the socket: no reply to the editor beyond the event itself.
    alice_ws.send(json!({"type": "edit_message", "message_id": id, "content": "Lunch at 2?"})).await;
    for ws in [&mut alice_ws, &mut bob_ws] {
        let got = ws.expect("message_edited").await;
        assert_eq!(got["message_id"], id);
        assert_eq!(got["content"], "Lunch at 2?");
        assert!(got["edited_at"].is_string(), "{got}");
    }

    let (status, fetched) = bob.get(&message_path(&id)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched["content"], "Lunch at 2?");
    assert!(fetched["edited_at"].is_string(), "{fetched}");
    assert_eq!(fetched["deleted"], false);
    let (_, history) = bob.get(&history_path(conversation)).await;
    assert_eq!(history["results"][0]["content"], "Lunch at 2?");
    assert_eq!(history["results"].as_array().unwrap().len(), 1, "an edit is not a new message: {history}");

    // Only the sender may edit; outsiders cannot even see the message; the content must be real.
    let (status, body) = edit(&bob, &id, "Bob was here").await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = edit(&carol, &id, "Carol was here").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = edit(&alice, &id, "").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    let (status, body) = edit(&alice, &id, "   ").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    let (status, body) = edit(&alice, &json!(999_999), "nothing there").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");

    // The other member editing over the socket gets an error frame, and nothing changes.
    bob_ws.send(json!({"type": "edit_message", "message_id": id, "content": "sneaky"})).await;
    let error = bob_ws.expect("error").await;
    assert_eq!(error["code"], "forbidden", "{error}");
    alice_ws.expect_quiet(200).await;
    let (_, fetched) = alice.get(&message_path(&id)).await;
    assert_eq!(fetched["content"], "Lunch at 2?");

    // A deleted message cannot be edited.
    let (status, _) = delete(&app, &alice, &id).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = edit(&alice, &id, "back from the dead").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (_, fetched) = alice.get(&message_path(&id)).await;
    assert_eq!(fetched["content"], "");
    assert_eq!(fetched["deleted"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_message_keeps_its_place_as_an_empty_tombstone() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let conversation = app.dm(&alice, &bob).await;
    let mut alice_ws = app.ws(&alice.token).await;
    let mut bob_ws = app.ws(&bob.token).await;

    let first = app.send_message(&alice, conversation, "first").await;
    let doomed = app.send_message(&alice, conversation, "I regret this").await;
    let path = history_path(conversation);
    let (status, reply) = bob.post(&path, json!({"content": "what?", "reply_to": doomed["id"]})).await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert_eq!(reply["reply_to"]["content"], "I regret this");
    let last = app.send_message(&alice, conversation, "last").await;
    let (status, _) = react(&bob, &doomed["id"], "😮").await;
    assert_eq!(status, StatusCode::OK);
    for ws in [&mut alice_ws, &mut bob_ws] {
        let kinds: Vec<Value> = ws.take(5).await.into_iter().map(|f| f["type"].clone()).collect();
        assert_eq!(kinds, ["chat_message", "chat_message", "chat_message", "chat_message", "reaction_updated"]);
    }

    // Others may not delete it; outsiders do not see it.
    let (status, body) = delete(&app, &bob, &doomed["id"]).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = delete(&app, &carol, &doomed["id"]).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");

    // Over REST.
    let (status, body) = delete(&app, &alice, &doomed["id"]).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for ws in [&mut alice_ws, &mut bob_ws] {
        let got = ws.expect("message_deleted").await;
        assert_eq!(got["message_id"], doomed["id"]);
        assert_eq!(got["message_seq"], doomed["seq"]);
        assert_eq!(got["conversation_id"], conversation);
    }
    let (status, body) = delete(&app, &alice, &doomed["id"]).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");

    // Over the socket.
    alice_ws.send(json!({"type": "delete_message", "message_id": first["id"]})).await;
    for ws in [&mut alice_ws, &mut bob_ws] {
        let got = ws.expect("message_deleted").await;
        assert_eq!(got["message_id"], first["id"]);
        assert_eq!(got["message_seq"], first["seq"]);
    }
    // Deleting it again over the socket is an error frame, not a second event.
    alice_ws.send(json!({"type": "delete_message", "message_id": first["id"]})).await;
    assert_eq!(alice_ws.expect("error").await["code"], "not_found");
    bob_ws.send(json!({"type": "delete_message", "message_id": last["id"]})).await;
    assert_eq!(bob_ws.expect("error").await["code"], "forbidden");
    bob_ws.expect_quiet(200).await;

    // History keeps every message at its seq, in order; the deleted ones are empty.
    let (status, history) = bob.get(&path).await;
    assert_eq!(status, StatusCode::OK);
    let results = history["results"].as_array().unwrap();
    let seqs: Vec<i64> = results.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [4, 3, 2, 1], "newest first, seqs unchanged");
    let ids: Vec<&Value> = results.iter().map(|m| &m["id"]).collect();
    assert_eq!(ids, [&last["id"], &reply["id"], &doomed["id"], &first["id"]]);
    for (m, content, deleted) in
        [(&results[0], "last", false), (&results[1], "what?", false), (&results[2], "", true), (&results[3], "", true)]
    {
        assert_eq!(m["content"], content, "{m}");
        assert_eq!(m["deleted"], deleted, "{m}");
    }
    // Its reactions went with it.
    assert_eq!(results[2]["reactions"], json!([]), "{}", results[2]);
    let (_, fetched) = alice.get(&message_path(&doomed["id"])).await;
    assert_eq!(fetched["deleted"], true);
    assert_eq!(fetched["content"], "");
    assert_eq!(fetched["reactions"], json!([]));
    // And no new ones can be added.
    let (status, body) = react(&bob, &doomed["id"], "👍").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");

    // A reply quoting it shows the quote as deleted, without its text.
    let quoted = &results[1]["reply_to"];
    assert_eq!(quoted["id"], doomed["id"]);
    assert_eq!(quoted["deleted"], true, "{quoted}");
    assert_eq!(quoted["content"], "", "{quoted}");
    let (_, fetched) = alice.get(&message_path(&reply["id"])).await;
    assert_eq!(fetched["reply_to"]["deleted"], true);
    assert_eq!(fetched["reply_to"]["content"], "");

    // Sending goes on after the tombstones, numbered after them.
    let next = app.send_message(&bob, conversation, "ok then").await;
    assert_eq!(next["seq"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_forbids_edits_refuses_edit_and_delete() {
    let app = TestApp::spawn_with(|config| config.allow_edit_delete = false).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    let sent = app.send_message(&alice, conversation, "set in stone").await;
    let id = &sent["id"];

    let (status, body) = edit(&alice, id, "changed").await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "editing_disabled");
    let (status, body) = delete(&app, &alice, id).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "editing_disabled");

    let mut alice_ws = app.ws(&alice.token).await;
    alice_ws.send(json!({"type": "edit_message", "message_id": id, "content": "changed"})).await;
    assert_eq!(alice_ws.expect("error").await["code"], "editing_disabled");
    alice_ws.send(json!({"type": "delete_message", "message_id": id})).await;
    assert_eq!(alice_ws.expect("error").await["code"], "editing_disabled");

    let (_, fetched) = bob.get(&message_path(id)).await;
    assert_eq!(fetched["content"], "set in stone");
    assert!(fetched["edited_at"].is_null());
    assert_eq!(fetched["deleted"], false);

    // Reactions are not edits: they still work.
    let (status, body) = react(&bob, id, "👍").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reactions_toggle_and_reach_every_member_live() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let conversation = app.dm(&alice, &bob).await;
    let mut alice_ws = app.ws(&alice.token).await;
    let mut bob_ws = app.ws(&bob.token).await;
    let sent = app.send_message(&alice, conversation, "Ship it?").await;
    let id = sent["id"].clone();
    assert_eq!(sent["reactions"], json!([]));
    for ws in [&mut alice_ws, &mut bob_ws] {
        ws.expect("chat_message").await;
    }

    // Alice over REST.
    let (status, message) = react(&alice, &id, "👍").await;
    assert_eq!(status, StatusCode::OK, "{message}");
    assert_eq!(message["id"], id);
    assert_eq!(message["reactions"], json!([{"emoji": "👍", "count": 1, "user_ids": [alice.id]}]));
    for ws in [&mut alice_ws, &mut bob_ws] {
        let got = ws.expect("reaction_updated").await;
        assert_eq!(got["message_id"], id);
        assert_eq!(got["conversation_id"], conversation);
        assert_eq!(got["user_id"], alice.id);
        assert_eq!(got["emoji"], "👍");
        assert_eq!(got["added"], true);
        assert_eq!(got["reactions"], message["reactions"]);
    }

    // Bob over the socket, the same emoji.
    bob_ws.send(json!({"type": "react", "message_id": id, "emoji": "👍"})).await;
    for ws in [&mut alice_ws, &mut bob_ws] {
        let got = ws.expect("reaction_updated").await;
        assert_eq!(got["user_id"], bob.id);
        assert_eq!(got["added"], true);
        assert_eq!(got["reactions"], json!([{"emoji": "👍", "count": 2, "user_ids": [alice.id, bob.id]}]));
    }

    // Bob adds a second emoji over REST.
    let (status, message) = react(&bob, &id, "🎉").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(message["reactions"].as_array().unwrap().len(), 2, "{message}");
    assert_eq!(reaction(&message["reactions"], "🎉").unwrap()["user_ids"], json!([bob.id]));
    for ws in [&mut alice_ws, &mut bob_ws] {
        let got = ws.expect("reaction_updated").await;
        assert_eq!(got["emoji"], "🎉");
        assert_eq!(got["added"], true);
    }

    // Alice takes hers back over REST: a toggle.
    let (status, message) = react(&alice, &id, "👍").await;
    assert_eq!(status, StatusCode::OK);
    let thumbs = reaction(&message["reactions"], "👍").unwrap();
    assert_eq!(thumbs["count"], 1);
    assert_eq!(thumbs["user_ids"], json!([bob.id]));
    for ws in [&mut alice_ws, &mut bob_ws] {
        let got = ws.expect("reaction_updated").await;
        assert_eq!(got["user_id"], alice.id);
        assert_eq!(got["emoji"], "👍");
        assert_eq!(got["added"], false);
        assert_eq!(got["reactions"], message["reactions"]);
    }

    // Bob takes both back over the socket: an emoji nobody uses disappears.
    bob_ws.send(json!({"type": "react", "message_id": id, "emoji": "👍"})).await;
    bob_ws.send(json!({"type": "react", "message_id": id, "emoji": "🎉"})).await;
    for ws in [&mut alice_ws, &mut bob_ws] {
        let first = ws.expect("reaction_updated").await;
        assert_eq!((first["emoji"].as_str(), first["added"].as_bool()), (Some("👍"), Some(false)));
        assert_eq!(first["reactions"], json!([{"emoji": "🎉", "count": 1, "user_ids": [bob.id]}]));
        let second = ws.expect("reaction_updated").await;
        assert_eq!((second["emoji"].as_str(), second["added"].as_bool()), (Some("🎉"), Some(false)));
        assert_eq!(second["reactions"], json!([]));
    }
    let (_, fetched) = alice.get(&message_path(&id)).await;
    assert_eq!(fetched["reactions"], json!([]));

    // An outsider cannot react; a reaction must be an emoji.
    let (status, body) = react(&carol, &id, "👍").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    for bad in ["abc", "", "👍 👍"] {
        let (status, body) = react(&alice, &id, bad).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    }
    let (status, body) = react(&alice, &json!(999_999), "👍").await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    alice_ws.send(json!({"type": "react", "message_id": id, "emoji": "abc"})).await;
    assert_eq!(alice_ws.expect("error").await["code"], "validation_failed");
    let mut carol_ws = app.ws(&carol.token).await;
    carol_ws.send(json!({"type": "react", "message_id": id, "emoji": "👍"})).await;
    assert_eq!(carol_ws.expect("error").await["code"], "not_found");
    bob_ws.expect_quiet(200).await;
    let (_, fetched) = alice.get(&message_path(&id)).await;
    assert_eq!(fetched["reactions"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_message_arrives_as_a_copy_marked_forwarded() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let with_bob = app.dm(&alice, &bob).await;
    let with_carol = app.dm(&alice, &carol).await;
    let bob_and_carol = app.dm(&bob, &carol).await;
    let original = app.send_message(&bob, with_bob, "The code is 4711").await;
    let mut carol_ws = app.ws(&carol.token).await;

    let path = format!("/api/chat/messages/{}/forward/", original["id"]);
    let (status, copy) = alice.post(&path, json!({"conversation_id": with_carol})).await;
    assert_eq!(status, StatusCode::CREATED, "{copy}");
    assert_eq!(copy["forwarded"], true);
    assert_eq!(copy["content"], "The code is 4711");
    assert_eq!(copy["conversation_id"], with_carol);
    assert_eq!(copy["sender_id"], alice.id);
    assert_ne!(copy["id"], original["id"]);
    assert_eq!(copy["seq"], 1);

    let got = carol_ws.expect("chat_message").await;
    assert_eq!(got["message_id"], copy["id"]);
    assert_eq!(got["conversation_id"], with_carol);
    assert_eq!(got["forwarded"], true);
    assert_eq!(got["content"], "The code is 4711");
    assert_eq!(got["sender_id"], alice.id);

    // The original is untouched.
    let (_, fetched) = bob.get(&message_path(&original["id"])).await;
    assert_eq!(fetched["forwarded"], false);

    // Not into a conversation Alice is not in, nor one that does not exist.
    let (status, body) = alice.post(&path, json!({"conversation_id": bob_and_carol})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = alice.post(&path, json!({"conversation_id": 999_999})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");

    // Not a message Alice cannot read, even into her own conversation.
    let secret = app.send_message(&carol, bob_and_carol, "just between us").await;
    let secret_path = format!("/api/chat/messages/{}/forward/", secret["id"]);
    let (status, body) = alice.post(&secret_path, json!({"conversation_id": with_carol})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = alice.post(&secret_path, json!({"conversation_id": with_bob})).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");

    // Carol saw only the one forwarded copy (and her own secret message).
    let got = carol_ws.expect("chat_message").await;
    assert_eq!(got["message_id"], secret["id"]);
    carol_ws.expect_quiet(200).await;
    let (_, history) = alice.get(&history_path(with_carol)).await;
    assert_eq!(history["results"].as_array().unwrap().len(), 1, "{history}");
}

mod receipts;
