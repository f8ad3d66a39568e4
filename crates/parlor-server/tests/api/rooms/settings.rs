//! Rooms, continued: archiving, the rules of direct conversations, conversations linked to a
//! context on the host platform, and catching up on membership and settings changes by resuming.

use super::*;

// --- 5. archiving ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archived_conversation_is_readable_but_refuses_messages_until_unarchived() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = id_of(&create_room(&alice, "Crew", &[&bob, &carol]).await);
    let (status, _) = alice.patch(&member_path(room, &bob), json!({"role": "admin"})).await;
    assert_eq!(status, StatusCode::OK);
    app.send_message(&alice, room, "before the archive").await;
    let mut alice_ws = app.ws(&alice.token).await;
    let mut carol_ws = app.ws(&carol.token).await;

    // A plain member may not archive a room.
    let got = carol.post(&format!("{}archive/", conv(room)), json!({})).await;
    assert_error(got, 403, "forbidden", "member archives a room");
    assert_eq!(view(&carol, room).await["archived"], false);
    carol_ws.expect_quiet(100).await;

    // An admin may.
    let (status, body) = bob.post(&format!("{}archive/", conv(room)), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["archived"], true);
    assert!(body["archived_at"].is_i64() || body["archived_at"].is_string(), "{body}");
    for ws in [&mut alice_ws, &mut carol_ws] {
        let updated = expect_updated(ws, room).await;
        assert_eq!((&updated["archived"], &updated["title"]), (&json!(true), &json!("Crew")));
        assert_eq!(expect_system(ws, room, "archived").await["actor_id"], bob.id);
    }
    assert_eq!(view(&carol, room).await["archived"], true);

    // Sending fails over REST and over the socket, which keeps working.
    let messages = format!("{}messages/", conv(room));
    let got = carol.post(&messages, json!({"content": "anyone?"})).await;
    assert_error(got, 409, "conversation_archived", "send to an archived room");
    carol_ws.send(json!({"type": "chat_message", "conversation_id": room, "content": "anyone?"})).await;
    assert_eq!(carol_ws.expect("error").await["code"], "conversation_archived");
    carol_ws.expect_quiet(100).await;
    alice_ws.expect_quiet(0).await;

    // History stays readable.
    let mine = history(&carol, room).await;
    assert!(mine.iter().any(|m| m["content"] == "before the archive"));
    assert_eq!(mine.last().unwrap()["system"]["action"], "archived");
    assert!(!mine.iter().any(|m| m["content"] == "anyone?"));

    // Unarchived, it takes messages again.
    let (status, body) = bob.post(&format!("{}unarchive/", conv(room)), json!({})).await;
    assert_eq!((status, &body["archived"], &body["archived_at"]), (StatusCode::OK, &json!(false), &Value::Null));
    for ws in [&mut alice_ws, &mut carol_ws] {
        assert_eq!(expect_updated(ws, room).await["archived"], false);
        assert_eq!(expect_system(ws, room, "unarchived").await["actor_id"], bob.id);
    }
    carol_ws.send(json!({"type": "chat_message", "conversation_id": room, "content": "back in business"})).await;
    assert_eq!(carol_ws.expect("ack").await["conversation_id"], room);
    assert_eq!(alice_ws.expect("chat_message").await["content"], "back in business");
    app.send_message(&carol, room, "over REST too").await;
    assert_eq!(alice_ws.expect("chat_message").await["content"], "over REST too");

    // In a direct conversation either member may archive.
    let dm = app.dm(&alice, &bob).await;
    let (status, body) = bob.post(&format!("{}archive/", conv(dm)), json!({})).await;
    assert_eq!((status, &body["archived"]), (StatusCode::OK, &json!(true)), "{body}");
    assert_eq!(expect_updated(&mut alice_ws, dm).await["archived"], true);
    assert_eq!(expect_system(&mut alice_ws, dm, "archived").await["actor_id"], bob.id);
    let got = alice.post(&format!("{}messages/", conv(dm)), json!({"content": "hm"})).await;
    assert_error(got, 409, "conversation_archived", "send to an archived dm");
    alice_ws.send(json!({"type": "chat_message", "conversation_id": dm, "content": "hm"})).await;
    assert_eq!(alice_ws.expect("error").await["code"], "conversation_archived");
    assert_eq!(view(&alice, dm).await["archived"], true);

    let (status, body) = alice.post(&format!("{}unarchive/", conv(dm)), json!({})).await;
    assert_eq!((status, &body["archived"]), (StatusCode::OK, &json!(false)), "{body}");
    assert_eq!(expect_updated(&mut alice_ws, dm).await["archived"], false);
    expect_system(&mut alice_ws, dm, "unarchived").await;
    app.send_message(&bob, dm, "talking again").await;
    assert_eq!(alice_ws.expect("chat_message").await["content"], "talking again");
}

// --- 6. direct-conversation rules -----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_conversations_cannot_be_renamed_or_grown() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dm = app.dm(&alice, &bob).await;
    let mut bob_ws = app.ws(&bob.token).await;

    let got = alice.patch(&conv(dm), json!({"title": "Our chat"})).await;
    assert_error(got, 409, "not_a_room", "rename a dm");
    let got = alice.patch(&conv(dm), json!({"avatar": "https://example.com/a.png"})).await;
    assert_error(got, 409, "not_a_room", "re-picture a dm");
    let got = alice.post(&format!("{}leave/", conv(dm)), json!({})).await;
    assert_error(got, 409, "not_a_room", "leave a dm");
    let added = alice.post(&format!("{}members/", conv(dm)), json!({"user_ids": [carol.id]})).await;

    // Nothing changed, nobody heard of anything, carol is still outside.
    let unchanged = view(&alice, dm).await;
    assert_eq!((unchanged["kind"].as_str(), &unchanged["title"]), (Some("direct"), &Value::Null));
    assert_eq!(unchanged["avatar"], Value::Null);
    let mut pair = vec![alice.id, bob.id];
    pair.sort_unstable();
    assert_eq!(roles(&unchanged).keys().copied().collect::<Vec<_>>(), pair);
    let (status, _) = carol.get(&conv(dm)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    bob_ws.expect_quiet(200).await;

    // Only rooms have changing members: the answer says so, whoever asks.
    assert_error(added, 409, "not_a_room", "add a member to a dm");
}

// --- 7. context conversations ---------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_context_conversation_is_created_once_per_context_and_participants() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let job42 = "/api/chat/conversations/by-context/job/42/";

    let (status, first) = put(&app, &alice, job42, json!({"members": [bob.id], "title": "Fix the kitchen sink"})).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let id = id_of(&first);
    assert_eq!(first["kind"], "direct");
    assert_eq!(first["context"], json!({"type": "job", "id": "42", "title": "Fix the kitchen sink"}));
    let members: Vec<i64> = roles(&first).keys().copied().collect();
    assert!(members.len() == 2 && members.contains(&alice.id) && members.contains(&bob.id), "{first}");
    assert_eq!(first["is_member"], true);

    // Asking again, from either side, finds the same conversation.
    let (status, again) = put(&app, &alice, job42, json!({"members": [bob.id], "title": "Fix the kitchen sink"})).await;
    assert_eq!((status, id_of(&again)), (StatusCode::OK, id), "{again}");
    let (status, again) = put(&app, &bob, job42, json!({"members": [alice.id]})).await;
    assert_eq!((status, id_of(&again)), (StatusCode::OK, id), "{again}");
    assert_eq!(again["context"]["title"], "Fix the kitchen sink");

    // Another job is another conversation; so is the plain DM between the same two.
    let (status, other_job) =
        put(&app, &alice, "/api/chat/conversations/by-context/job/7/", json!({"members": [bob.id]})).await;
    assert_eq!(status, StatusCode::CREATED, "{other_job}");
    assert_ne!(id_of(&other_job), id);
    assert_eq!(other_job["context"], json!({"type": "job", "id": "7", "title": null}));
    let plain = app.dm(&alice, &bob).await;
    assert!(plain != id && plain != id_of(&other_job));
    assert_eq!(view(&alice, plain).await["context"], Value::Null);

    // Three participants make a room the caller owns, titled after the context.
    let (status, room) = put(
        &app,
        &alice,
        "/api/chat/conversations/by-context/job/99/",
        json!({"members": [bob.id, carol.id], "title": "Paint the fence"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{room}");
    assert_eq!(room["kind"], "room");
    assert_eq!(room["title"], "Paint the fence");
    assert_eq!(room["context"], json!({"type": "job", "id": "99", "title": "Paint the fence"}));
    assert_eq!(roles(&room), expected_roles(&[(&alice, "owner"), (&bob, "member"), (&carol, "member")]));
    let (status, again) =
        put(&app, &carol, "/api/chat/conversations/by-context/job/99/", json!({"members": [alice.id, bob.id]})).await;
    assert_eq!((status, id_of(&again)), (StatusCode::OK, id_of(&room)), "{again}");

    // Messages flow in a context conversation like in any other.
    app.send_message(&bob, id, "I can come on Tuesday").await;

    // Filtering the list by context finds exactly that one, with its context.
    let (status, list) = alice.get("/api/chat/conversations/?context_type=job&context_id=42").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let results = list["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{list}");
    assert_eq!(results[0]["id"], id);
    assert_eq!(results[0]["context"], json!({"type": "job", "id": "42", "title": "Fix the kitchen sink"}));
    assert_eq!(results[0]["last_message"]["content"], "I can come on Tuesday");
    let (_, list) = bob.get("/api/chat/conversations/?context_type=job&context_id=42").await;
    let ids: Vec<&Value> = list["results"].as_array().unwrap().iter().map(|c| &c["id"]).collect();
    assert_eq!(ids, [&json!(id)]);
    let (_, list) = carol.get("/api/chat/conversations/?context_type=job&context_id=42").await;
    assert_eq!(list["results"], json!([]), "carol is not in job 42's conversation");
    let (_, list) = alice.get("/api/chat/conversations/?context_type=job").await;
    assert_eq!(list["results"].as_array().unwrap().len(), 3, "{list}");

    // The unfiltered list carries the context too.
    let (_, list) = alice.get("/api/chat/conversations/").await;
    let listed = list["results"].as_array().unwrap().iter().find(|c| c["id"] == id).expect("listed");
    assert_eq!(listed["context"]["type"], "job");
    assert_eq!(listed["context"]["id"], "42");

    // Bad requests.
    let got =
        put(&app, &alice, "/api/chat/conversations/by-context/job%20type/42/", json!({"members": [bob.id]})).await;
    assert_error(got, 400, "validation_failed", "context type with a space");
    let got = put(&app, &alice, "/api/chat/conversations/by-context/job/43/", json!({"members": [alice.id]})).await;
    assert_error(got, 400, "validation_failed", "only yourself");
    let got = put(&app, &alice, "/api/chat/conversations/by-context/job/43/", json!({"members": []})).await;
    assert_error(got, 400, "validation_failed", "nobody");
    let (_, list) = alice.get("/api/chat/conversations/?context_type=job&context_id=43").await;
    assert_eq!(list["results"], json!([]), "nothing was created by the bad requests");
}

// --- 8. resume ------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_replays_membership_and_settings_changes_in_order() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let room = id_of(&create_room(&alice, "Crew", &[&carol]).await);

    let mut carol_ws = app.ws(&carol.token).await;
    app.send_message(&alice, room, "hello").await;
    let hello = carol_ws.expect("chat_message").await;
    assert_eq!(hello["content"], "hello");
    let cursor = hello["seq"].as_i64().unwrap();
    carol_ws.close().await;

    // While carol is away: dave joins and the room is renamed.
    let (status, _) = alice.post(&format!("{}members/", conv(room)), json!({"user_ids": [dave.id]})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = alice.patch(&conv(room), json!({"title": "Crew and dave"})).await;
    assert_eq!(status, StatusCode::OK);

    let mut carol_ws = app.ws(&carol.token).await;
    carol_ws.send(json!({"type": "resume", "conversations": {room.to_string(): cursor}})).await;
    let added = carol_ws.expect("chat_message").await;
    assert_eq!((&added["kind"], &added["system"]["action"]), (&json!("system"), &json!("members_added")), "{added}");
    assert_eq!(actor_and_users(&added["system"]), system_of(&alice, &[&dave]));
    let updated = expect_updated(&mut carol_ws, room).await;
    assert_eq!((&updated["title"], &updated["archived"]), (&json!("Crew and dave"), &json!(false)));
    let renamed = carol_ws.expect("chat_message").await;
    assert_eq!(renamed["system"]["action"], "room_renamed", "{renamed}");
    let seqs: Vec<i64> = [&added, &updated, &renamed].iter().map(|f| f["seq"].as_i64().unwrap()).collect();
    assert!(cursor < seqs[0] && seqs[0] < seqs[1] && seqs[1] < seqs[2], "in log order: {seqs:?}");
    let resumed = carol_ws.expect("resumed").await;
    assert!(resumed["replayed"].as_u64().unwrap() >= 3, "{resumed}");

    // Nothing is replayed twice, and live events carry on after the replay.
    carol_ws.expect_quiet(100).await;
    app.send_message(&dave, room, "hi all").await;
    let live = carol_ws.expect("chat_message").await;
    assert_eq!(live["content"], "hi all");
    assert!(live["seq"].as_i64().unwrap() > seqs[2]);
    assert_eq!(view(&carol, room).await["title"], "Crew and dave");
}
