//! Message lifecycle, continued: sent, delivered and read receipts, catching up on edits, deletes
//! and reactions after a reconnect, and what an archived conversation refuses.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receipts_go_from_sent_to_delivered_to_read() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    let mut alice_ws = app.ws(&alice.token).await;

    // Bob is offline: sent, nothing more.
    let first = app.send_message(&alice, conversation, "are you there?").await;
    alice_ws.expect("chat_message").await;
    let status = receipts(&alice, &first["id"]).await;
    assert_eq!(status["message_id"], first["id"]);
    assert_eq!(status["message_seq"], first["seq"]);
    assert_eq!(status["status"], "sent", "{status}");
    assert_eq!(status["recipient_count"], 1);
    assert_eq!(status["delivered_count"], 0);
    assert_eq!(status["read_count"], 0);
    assert_eq!(status["delivered_to"], json!([]));
    assert_eq!(status["read_by"], json!([]));
    // Bob may see the receipts of a message in his conversation too.
    let bobs_view = receipts(&bob, &first["id"]).await;
    assert_eq!(bobs_view["status"], "sent");

    // Connecting alone delivers nothing: a socket receives only new events.
    let mut bob_ws = app.ws(&bob.token).await;
    bob_ws.expect_quiet(400).await;
    assert_eq!(receipts(&alice, &first["id"]).await["status"], "sent");

    // Fetching history delivers.
    let (status, history) = bob.get(&history_path(conversation)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(history["results"][0]["id"], first["id"]);
    let delivered = wait_for_status(&alice, &first["id"], "delivered").await;
    assert_eq!(user_ids(&delivered["delivered_to"]), [bob.id]);
    assert_eq!(delivered["delivered_count"], 1);
    assert_eq!(delivered["read_count"], 0);
    let frame = expect_delivered(&mut alice_ws, &bob, 1).await;
    assert_eq!(frame["conversation_id"], conversation);
    assert_eq!(frame["up_to_seq"], 1);

    // A live message to Bob's socket delivers too.
    let second = app.send_message(&alice, conversation, "hello again").await;
    let got = bob_ws.expect("chat_message").await;
    assert_eq!(got["message_id"], second["id"]);
    let delivered = wait_for_status(&alice, &second["id"], "delivered").await;
    assert_eq!(user_ids(&delivered["delivered_to"]), [bob.id]);
    let frame = expect_delivered(&mut alice_ws, &bob, 2).await;
    assert_eq!(frame["up_to_seq"], 2);

    // Reading.
    let (status, body) = bob.post(&format!("/api/chat/conversations/{conversation}/mark_read/"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let read = wait_for_status(&alice, &second["id"], "read").await;
    assert_eq!(user_ids(&read["read_by"]), [bob.id]);
    assert_eq!(read["read_count"], 1);
    assert_eq!(read["delivered_count"], 1);
    assert_eq!(receipts(&alice, &first["id"]).await["status"], "read");
    let frame = alice_ws.expect("messages_read").await;
    assert_eq!(frame["user_id"], bob.id);
    assert_eq!(frame["up_to_seq"], 2);

    let (status, positions) = alice.get(&format!("/api/chat/conversations/{conversation}/receipts/")).await;
    assert_eq!(status, StatusCode::OK, "{positions}");
    assert_eq!(positions["conversation_id"], conversation);
    let members = positions["members"].as_array().unwrap();
    assert_eq!(members.len(), 2, "{positions}");
    let bobs = members.iter().find(|m| m["user_id"] == bob.id).unwrap();
    assert_eq!(bobs["last_read_seq"], 2);
    assert_eq!(bobs["delivered_seq"], 2);
    let alices = members.iter().find(|m| m["user_id"] == alice.id).unwrap();
    assert_eq!(alices["last_read_seq"], 2, "sending reads up to one's own message");

    // Outsiders see no receipts.
    let carol = app.register("carol").await;
    let (status, _) = carol.get(&format!("/api/chat/messages/{}/receipts/", first["id"])).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = carol.get(&format!("/api/chat/conversations/{conversation}/receipts/")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetching_the_conversation_list_or_one_conversation_delivers_its_newest_message() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    let first = app.send_message(&alice, conversation, "are you there?").await;
    assert_eq!(receipts(&alice, &first["id"]).await["status"], "sent");

    // Bob's client loads its list (as at start, or a reload) without opening the chat.
    let (status, list) = bob.get("/api/chat/conversations/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["results"][0]["last_message"]["id"], first["id"]);
    let delivered = wait_for_status(&alice, &first["id"], "delivered").await;
    assert_eq!(user_ids(&delivered["delivered_to"]), [bob.id]);

    // Fetching the one conversation (a client learning of a new one) delivers as well.
    let second = app.send_message(&alice, conversation, "hello?").await;
    let (status, _) = bob.get(&format!("/api/chat/conversations/{conversation}/")).await;
    assert_eq!(status, StatusCode::OK);
    wait_for_status(&alice, &second["id"], "delivered").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_room_over_the_receipt_limit_deliveries_are_kept_as_positions_without_events() {
    let app = TestApp::spawn_with(|c| c.limits.receipt_events_max_members = 2).await;
    let (alice, bob, carol) = (app.register("alice").await, app.register("bob").await, app.register("carol").await);
    let (status, room) = alice.post("/api/chat/rooms/", json!({"title": "Crew", "members": [bob.id, carol.id]})).await;
    assert!(status.is_success(), "{status} {room}");
    let room = room["id"].as_i64().unwrap();
    let mut alice_ws = app.ws(&alice.token).await;
    let mut bob_ws = app.ws(&bob.token).await;
    let mut carol_ws = app.ws(&carol.token).await;

    let sent = app.send_message(&alice, room, "hello crew").await;
    for ws in [&mut bob_ws, &mut carol_ws] {
        assert_eq!(ws.expect("chat_message").await["message_id"], sent["id"]);
    }
    let delivered = wait_for_status(&alice, &sent["id"], "delivered").await;
    assert_eq!(user_ids(&delivered["delivered_to"]), [bob.id, carol.id], "{delivered}");
    let (status, positions) = alice.get(&format!("/api/chat/conversations/{room}/receipts/")).await;
    assert_eq!(status, StatusCode::OK, "{positions}");
    for member in [&bob, &carol] {
        let position = positions["members"].as_array().unwrap().iter().find(|m| m["user_id"] == member.id).unwrap();
        assert_eq!(position["delivered_seq"], sent["seq"], "{positions}");
    }
    // Positions only: nobody is sent a `messages_delivered` event for it.
    alice_ws.ignored = &["user_status_change", "notification"];
    alice_ws.expect("chat_message").await;
    alice_ws.expect_quiet(600).await;
}

/// Over the receipt limit, positions are written every few seconds (`QUIET_INTERVAL`), not every
/// tick; a graceful stop writes the ones still held, so a restart finds them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_rooms_held_delivery_positions_are_written_when_the_server_stops() {
    let dir = tempfile::tempdir().unwrap();
    let limit = |c: &mut parlor_server::config::Config| c.limits.receipt_events_max_members = 2;
    let app = TestApp::spawn_at(dir.path(), limit).await;
    let (alice, bob, carol) = (app.register("alice").await, app.register("bob").await, app.register("carol").await);
    let (status, room) = alice.post("/api/chat/rooms/", json!({"title": "Crew", "members": [bob.id, carol.id]})).await;
    assert!(status.is_success(), "{status} {room}");
    let room = room["id"].as_i64().unwrap();
    let (mut bob_ws, mut carol_ws) = (app.ws(&bob.token).await, app.ws(&carol.token).await);
    let sent = app.send_message(&alice, room, "hello crew").await;
    for ws in [&mut bob_ws, &mut carol_ws] {
        assert_eq!(ws.expect("chat_message").await["message_id"], sent["id"]);
    }
    app.stop().await;

    let app = TestApp::spawn_at(dir.path(), limit).await;
    let alice = app.signed_in(alice.id, &alice.token);
    let (status, positions) = alice.get(&format!("/api/chat/conversations/{room}/receipts/")).await;
    assert_eq!(status, StatusCode::OK, "{positions}");
    for member in [&bob, &carol] {
        let position = positions["members"].as_array().unwrap().iter().find(|m| m["user_id"] == member.id).unwrap();
        assert_eq!(position["delivered_seq"], sent["seq"], "{positions}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_room_a_message_is_read_only_once_every_recipient_read_it() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let (status, room) = app
        .post(Some(&alice.token), "/api/chat/rooms/", json!({"title": "Team", "members": [bob.id, carol.id, dave.id]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{room}");
    let room = room["id"].as_i64().unwrap();

    let sent = app.send_message(&alice, room, "standup in 5").await;
    let initial = receipts(&alice, &sent["id"]).await;
    assert_eq!(initial["recipient_count"], 3, "{initial}");
    assert_eq!(initial["read_count"], 0);
    assert_eq!(initial["status"], "sent");

    for reader in [&bob, &carol] {
        let (status, body) = app
            .post(
                Some(&reader.token),
                &format!("/api/chat/conversations/{room}/mark_read/"),
                json!({"message_id": sent["id"]}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let after = receipts(&alice, &sent["id"]).await;
    assert_eq!(after["read_count"], 2, "{after}");
    assert_eq!(after["recipient_count"], 3);
    assert_eq!(user_ids(&after["read_by"]), [bob.id, carol.id]);
    assert!(after["delivered_count"].as_i64().unwrap() >= 2, "reading implies receiving: {after}");
    assert!(after["status"] == "sent" || after["status"] == "delivered", "not read by everyone yet: {after}");

    // The third reads: now it is read.
    dave.post(&format!("/api/chat/conversations/{room}/mark_read/"), json!({})).await;
    let done = receipts(&alice, &sent["id"]).await;
    assert_eq!(done["status"], "read", "{done}");
    assert_eq!(done["read_count"], 3);
    assert_eq!(done["delivered_count"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnecting_client_catches_up_on_edits_deletes_and_reactions() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;

    let mut alice_ws = app.ws(&alice.token).await;
    let keep = app.send_message(&bob, conversation, "keep me").await;
    let gone = app.send_message(&bob, conversation, "drop me").await;
    let mut last_seen = 0;
    for _ in 0..2 {
        last_seen = alice_ws.expect("chat_message").await["seq"].as_i64().unwrap();
    }
    alice_ws.close().await;

    let (status, _) = edit(&bob, &keep["id"], "keep me (edited)").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = delete(&app, &bob, &gone["id"]).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = react(&bob, &keep["id"], "❤️").await;
    assert_eq!(status, StatusCode::OK);

    let mut alice_ws = app.ws(&alice.token).await;
    alice_ws.send(json!({"type": "resume", "conversations": {conversation.to_string(): last_seen}})).await;
    let mut replayed = Vec::new();
    loop {
        let frame = alice_ws.next().await;
        if frame["type"] == "resumed" {
            break;
        }
        replayed.push(frame);
    }
    let kinds: Vec<&str> = replayed.iter().map(|f| f["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["message_edited", "message_deleted", "reaction_updated"], "{replayed:?}");
    let seqs: Vec<i64> = replayed.iter().map(|f| f["seq"].as_i64().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]) && seqs[0] > last_seen, "in order, after the cursor: {seqs:?}");
    assert_eq!(replayed[0]["message_id"], keep["id"]);
    assert_eq!(replayed[0]["content"], "keep me (edited)");
    assert!(replayed[0]["edited_at"].is_string());
    assert_eq!(replayed[1]["message_id"], gone["id"]);
    assert_eq!(replayed[1]["message_seq"], gone["seq"]);
    assert_eq!(replayed[2]["message_id"], keep["id"]);
    assert_eq!(replayed[2]["user_id"], bob.id);
    assert_eq!(replayed[2]["emoji"], "❤️");
    assert_eq!(replayed[2]["added"], true);

    // Live events follow, without repeats.
    let (status, _) = edit(&bob, &keep["id"], "keep me (again)").await;
    assert_eq!(status, StatusCode::OK);
    let live = alice_ws.expect("message_edited").await;
    assert_eq!(live["content"], "keep me (again)");
    assert!(live["seq"].as_i64().unwrap() > *seqs.last().unwrap());
    alice_ws.expect_quiet(300).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archived_conversation_refuses_edits_deletes_reactions_and_forwards() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let (status, room) = alice.post("/api/chat/rooms/", json!({"title": "Old project", "members": [bob.id]})).await;
    assert_eq!(status, StatusCode::CREATED, "{room}");
    let room = room["id"].as_i64().unwrap();
    let sent = app.send_message(&alice, room, "final notes").await;
    let dm = app.dm(&alice, &bob).await;
    let elsewhere = app.send_message(&bob, dm, "worth sharing").await;
    let (status, body) = alice.post(&format!("/api/chat/conversations/{room}/archive/"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = edit(&alice, &sent["id"], "changed").await;
    assert_error(status, &body, StatusCode::CONFLICT, "conversation_archived");
    let (status, body) = delete(&app, &alice, &sent["id"]).await;
    assert_error(status, &body, StatusCode::CONFLICT, "conversation_archived");
    let (status, body) = react(&bob, &sent["id"], "👍").await;
    assert_error(status, &body, StatusCode::CONFLICT, "conversation_archived");
    let forward = format!("/api/chat/messages/{}/forward/", elsewhere["id"]);
    let (status, body) = alice.post(&forward, json!({"conversation_id": room})).await;
    assert_error(status, &body, StatusCode::CONFLICT, "conversation_archived");

    // Still readable, unchanged; and a message from the archive may be forwarded out of it.
    let (status, fetched) = bob.get(&message_path(&sent["id"])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched["content"], "final notes");
    assert_eq!(fetched["reactions"], json!([]));
    let out = format!("/api/chat/messages/{}/forward/", sent["id"]);
    let (status, copy) = alice.post(&out, json!({"conversation_id": dm})).await;
    assert_eq!(status, StatusCode::CREATED, "{copy}");
    assert_eq!(copy["content"], "final notes");
    assert_eq!(copy["forwarded"], true);
}
