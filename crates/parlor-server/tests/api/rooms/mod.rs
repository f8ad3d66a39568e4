//! Group rooms end to end: creating them, who may add, remove, rename and hand out roles, what a
//! removed or departed member keeps, archiving, the direct-conversation rules, conversations
//! linked to a context on the host platform, and catching up on membership changes by resuming.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, Ws};

// --- private helpers: the harness has no DELETE or PUT -------------------------------------------

async fn respond(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = req.send().await.expect("request reaches the server");
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, body)
}

async fn delete(app: &TestApp, user: &TestUser, path: &str) -> (StatusCode, Value) {
    respond(app.http.delete(app.url(path)).bearer_auth(&user.token)).await
}

async fn put(app: &TestApp, user: &TestUser, path: &str, body: Value) -> (StatusCode, Value) {
    respond(app.http.put(app.url(path)).bearer_auth(&user.token).json(&body)).await
}

fn conv(id: i64) -> String {
    format!("/api/chat/conversations/{id}/")
}

fn member_path(room: i64, user: &TestUser) -> String {
    format!("/api/chat/conversations/{room}/members/{}/", user.id)
}

/// Creates a room owned by `owner` with `members`; returns its view.
async fn create_room(owner: &TestUser, title: &str, members: &[&TestUser]) -> Value {
    let ids: Vec<i64> = members.iter().map(|u| u.id).collect();
    let (status, body) = owner.post("/api/chat/rooms/", json!({"title": title, "members": ids})).await;
    assert_eq!(status, StatusCode::CREATED, "create room: {body}");
    body
}

fn id_of(view: &Value) -> i64 {
    view["id"].as_i64().unwrap_or_else(|| panic!("no id in {view}"))
}

/// Current members and their roles, by user id.
fn roles(view: &Value) -> BTreeMap<i64, String> {
    view["members"]
        .as_array()
        .unwrap_or_else(|| panic!("no members in {view}"))
        .iter()
        .map(|m| (m["id"].as_i64().unwrap(), m["role"].as_str().unwrap().to_owned()))
        .collect()
}

fn expected_roles(pairs: &[(&TestUser, &str)]) -> BTreeMap<i64, String> {
    pairs.iter().map(|(u, r)| (u.id, (*r).to_owned())).collect()
}

async fn view(user: &TestUser, room: i64) -> Value {
    let (status, body) = user.get(&conv(room)).await;
    assert_eq!(status, StatusCode::OK, "get conversation: {body}");
    body
}

/// The caller's history, oldest first.
async fn history(user: &TestUser, room: i64) -> Vec<Value> {
    let (status, body) = user.get(&format!("{}messages/?limit=100", conv(room))).await;
    assert_eq!(status, StatusCode::OK, "history: {body}");
    let mut messages = body["results"].as_array().unwrap().clone();
    messages.reverse();
    messages
}

#[track_caller]
fn assert_error(got: (StatusCode, Value), status: u16, code: &str, what: &str) {
    assert_eq!((got.0.as_u16(), got.1["code"].as_str()), (status, Some(code)), "{what}: {}", got.1);
}

/// The next frame must be the system message for `action` in `room`; returns its `system` part.
async fn expect_system(ws: &mut Ws, room: i64, action: &str) -> Value {
    let frame = ws.expect("chat_message").await;
    assert_eq!(frame["conversation_id"], room, "{frame}");
    assert_eq!(frame["kind"], "system", "expected a system message, got {frame}");
    assert_eq!(frame["system"]["action"], action, "{frame}");
    frame["system"].clone()
}

/// Every socket gets the same system message; returns its `system` part.
async fn all_see_system(sockets: &mut [&mut Ws], room: i64, action: &str) -> Value {
    let mut seen = Vec::new();
    for ws in sockets.iter_mut() {
        seen.push(expect_system(ws, room, action).await);
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "everyone sees the same system message: {seen:?}");
    seen.pop().unwrap()
}

/// The next frame must be `conversation_updated` for `room`.
async fn expect_updated(ws: &mut Ws, room: i64) -> Value {
    let frame = ws.expect("conversation_updated").await;
    assert_eq!(frame["conversation_id"], room, "{frame}");
    frame
}

fn system_of(actor: &TestUser, users: &[&TestUser]) -> (i64, Vec<i64>) {
    (actor.id, users.iter().map(|u| u.id).collect())
}

fn actor_and_users(system: &Value) -> (i64, Vec<i64>) {
    let users = system["user_ids"].as_array().unwrap().iter().map(|u| u.as_i64().unwrap()).collect();
    (system["actor_id"].as_i64().unwrap(), users)
}

// --- 1. creating a room ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn creating_a_room_makes_the_creator_owner_and_tells_every_member_live() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let mut alice_ws = app.ws(&alice.token).await;
    let mut bob_ws = app.ws(&bob.token).await;
    let mut carol_ws = app.ws(&carol.token).await;
    let mut dave_ws = app.ws(&dave.token).await;

    // Naming someone twice, or naming yourself, changes nothing.
    let ids = json!([bob.id, carol.id, bob.id, alice.id]);
    let (status, room) = alice.post("/api/chat/rooms/", json!({"title": "  Kitchen crew ", "members": ids})).await;
    assert_eq!(status, StatusCode::CREATED, "{room}");
    let id = id_of(&room);
    assert_eq!(room["kind"], "room");
    assert_eq!(room["title"], "Kitchen crew", "titles are trimmed");
    assert_eq!(room["role"], "owner");
    assert_eq!(room["is_member"], true);
    assert_eq!(room["archived"], false);
    assert_eq!(room["archived_at"], Value::Null);
    assert_eq!(room["context"], Value::Null);
    assert_eq!(roles(&room), expected_roles(&[(&alice, "owner"), (&bob, "member"), (&carol, "member")]));
    for member in room["members"].as_array().unwrap() {
        assert!(member["last_read_seq"].is_i64() && member["delivered_seq"].is_i64(), "{member}");
        assert!(member["name"].is_string(), "{member}");
    }
    assert_eq!(room["last_message"]["kind"], "system");
    assert_eq!(room["last_message"]["system"]["action"], "room_created");

    // Every member's socket hears of the room at once; the outsider hears nothing.
    let system = all_see_system(&mut [&mut alice_ws, &mut bob_ws, &mut carol_ws], id, "room_created").await;
    assert_eq!(actor_and_users(&system), system_of(&alice, &[&bob, &carol]));
    dave_ws.expect_quiet(200).await;

    let bobs = view(&bob, id).await;
    assert_eq!((bobs["role"].as_str(), &bobs["is_member"]), (Some("member"), &json!(true)));
    assert_eq!(bobs["title"], "Kitchen crew");

    // The room shows up in the members' lists, not in the outsider's.
    let (_, list) = carol.get("/api/chat/conversations/").await;
    assert_eq!(list["results"][0]["id"], id, "{list}");
    let (_, list) = dave.get("/api/chat/conversations/").await;
    assert_eq!(list["results"], json!([]));

    // For a non-member the room is exactly as missing as a conversation that does not exist.
    let dave_token = Some(dave.token.as_str());
    for room_id in [id, 999_999] {
        let got = app.get(dave_token, &conv(room_id)).await;
        assert_error(got, 404, "not_found", "non-member GET room");
    }
    let theirs = app.get(dave_token, &conv(id)).await;
    let missing = app.get(dave_token, &conv(999_999)).await;
    assert_eq!(theirs, missing, "a room you are not in looks missing");
    let theirs = app.get(dave_token, &format!("{}messages/", conv(id))).await;
    let missing = app.get(dave_token, &format!("{}messages/", conv(999_999))).await;
    assert_eq!(theirs.0, 404, "{}", theirs.1);
    assert_eq!(theirs, missing);
    let theirs = app.post(dave_token, &format!("{}messages/", conv(id)), json!({"content": "let me in"})).await;
    let missing = app.post(dave_token, &format!("{}messages/", conv(999_999)), json!({"content": "let me in"})).await;
    assert_eq!(theirs.0, 404, "{}", theirs.1);
    assert_eq!(theirs, missing);
    assert_eq!(history(&alice, id).await.len(), 1, "nothing the outsider tried was stored");

    // A bad title or an unknown member is refused before anything is created.
    let (status, body) = alice.post("/api/chat/rooms/", json!({"title": "   "})).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (400, Some("validation_failed")), "{body}");
    let (status, body) = alice.post("/api/chat/rooms/", json!({"title": "Ghosts", "members": [987_654]})).await;
    assert_eq!((status.as_u16(), body["code"].as_str()), (404, Some("not_found")), "{body}");
    let (_, list) = alice.get("/api/chat/conversations/").await;
    assert_eq!(list["results"].as_array().unwrap().len(), 1, "{list}");
}

// --- 2. permission matrix -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_admins_and_owners_can_do_exactly_what_their_role_allows() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let erin = app.register("erin").await;
    let room = id_of(&create_room(&alice, "Crew", &[&bob, &carol, &dave]).await);
    let mut alice_ws = app.ws(&alice.token).await;
    let mut bob_ws = app.ws(&bob.token).await;
    let mut carol_ws = app.ws(&carol.token).await;
    let mut dave_ws = app.ws(&dave.token).await;
    let mut erin_ws = app.ws(&erin.token).await;
    let members_path = format!("{}members/", conv(room));

    // A plain member may do none of it.
    let got = bob.post(&members_path, json!({"user_ids": [erin.id]})).await;
    assert_error(got, 403, "forbidden", "member adds");
    assert_error(delete(&app, &bob, &member_path(room, &carol)).await, 403, "forbidden", "member removes a member");
    assert_error(delete(&app, &bob, &member_path(room, &alice)).await, 403, "forbidden", "member removes the owner");
    let got = bob.patch(&conv(room), json!({"title": "Bob's room"})).await;
    assert_error(got, 403, "forbidden", "member renames");
    let got = bob.patch(&member_path(room, &carol), json!({"role": "admin"})).await;
    assert_error(got, 403, "forbidden", "member sets a role");
    let got = bob.patch(&member_path(room, &bob), json!({"role": "owner"})).await;
    assert_error(got, 403, "forbidden", "member promotes themself");
    let unchanged = view(&alice, room).await;
    assert_eq!(unchanged["title"], "Crew");
    assert_eq!(
        roles(&unchanged),
        expected_roles(&[(&alice, "owner"), (&bob, "member"), (&carol, "member"), (&dave, "member")])
    );
    alice_ws.expect_quiet(200).await;
    erin_ws.expect_quiet(0).await;

    // The owner makes bob an admin; every member hears of it.
    let (status, body) = alice.patch(&member_path(room, &bob), json!({"role": "admin"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(roles(&body)[&bob.id], "admin");
    let system =
        all_see_system(&mut [&mut alice_ws, &mut bob_ws, &mut carol_ws, &mut dave_ws], room, "role_changed").await;
    assert_eq!(actor_and_users(&system), system_of(&alice, &[&bob]));
    assert_eq!(system["role"], "admin");
    assert_eq!(roles(&view(&carol, room).await), roles(&body), "every member sees the new role");
    assert_eq!(view(&bob, room).await["role"], "admin");

    // An unknown role is a validation error, not a silent change.
    let got = alice.patch(&member_path(room, &carol), json!({"role": "superuser"})).await;
    assert_error(got, 400, "validation_failed", "unknown role");

    // The admin adds a member: erin, who was not in the room, hears of it on her socket too.
    let (status, body) = bob.post(&members_path, json!({"user_ids": [erin.id]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(roles(&body).get(&erin.id).map(String::as_str), Some("member"), "{body}");
    let system = all_see_system(
        &mut [&mut alice_ws, &mut bob_ws, &mut carol_ws, &mut dave_ws, &mut erin_ws],
        room,
        "members_added",
    )
    .await;
    assert_eq!(actor_and_users(&system), system_of(&bob, &[&erin]));
    let erins = view(&erin, room).await;
    assert_eq!((erins["role"].as_str(), &erins["is_member"]), (Some("member"), &json!(true)));

    // The admin renames the room: a conversation_updated frame, then the system message.
    let (status, body) = bob.patch(&conv(room), json!({"title": "Renamed by an admin"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["title"], "Renamed by an admin");
    for ws in [&mut alice_ws, &mut bob_ws, &mut carol_ws, &mut dave_ws, &mut erin_ws] {
        let updated = expect_updated(ws, room).await;
        assert_eq!((&updated["title"], &updated["archived"]), (&json!("Renamed by an admin"), &json!(false)));
        let system = expect_system(ws, room, "room_renamed").await;
        assert_eq!(actor_and_users(&system), system_of(&bob, &[]));
    }
    assert_eq!(view(&dave, room).await["title"], "Renamed by an admin");

    // The admin removes a plain member; the removed member hears of it too.
    let (status, body) = delete(&app, &bob, &member_path(room, &dave)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let system = all_see_system(
        &mut [&mut alice_ws, &mut bob_ws, &mut carol_ws, &mut erin_ws, &mut dave_ws],
        room,
        "member_removed",
    )
    .await;
    assert_eq!(actor_and_users(&system), system_of(&bob, &[&dave]));
    assert!(!roles(&view(&alice, room).await).contains_key(&dave.id));
    // Removing someone who is no longer a member finds nobody.
    assert_error(delete(&app, &bob, &member_path(room, &dave)).await, 404, "not_found", "remove twice");

    // The owner makes carol an admin too.
    let (status, body) = alice.patch(&member_path(room, &carol), json!({"role": "admin"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let system =
        all_see_system(&mut [&mut alice_ws, &mut bob_ws, &mut carol_ws, &mut erin_ws], room, "role_changed").await;
    assert_eq!((actor_and_users(&system), &system["role"]), (system_of(&alice, &[&carol]), &json!("admin")));

    // An admin cannot remove another admin or the owner, nor hand out roles.
    assert_error(delete(&app, &bob, &member_path(room, &carol)).await, 403, "forbidden", "admin removes an admin");
    assert_error(delete(&app, &bob, &member_path(room, &alice)).await, 403, "forbidden", "admin removes the owner");
    for (target, role) in [(&erin, "admin"), (&carol, "member"), (&alice, "member"), (&bob, "owner")] {
        let got = bob.patch(&member_path(room, target), json!({"role": role})).await;
        assert_error(got, 403, "forbidden", &format!("admin makes {} {role}", target.username));
    }
    assert_eq!(
        roles(&view(&alice, room).await),
        expected_roles(&[(&alice, "owner"), (&bob, "admin"), (&carol, "admin"), (&erin, "member")])
    );
    for ws in [&mut alice_ws, &mut bob_ws, &mut carol_ws, &mut erin_ws] {
        ws.expect_quiet(100).await;
    }

    // The owner can do all of it: remove an admin, promote, demote, rename.
    let (status, body) = delete(&app, &alice, &member_path(room, &carol)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let system =
        all_see_system(&mut [&mut alice_ws, &mut bob_ws, &mut erin_ws, &mut carol_ws], room, "member_removed").await;
    assert_eq!(actor_and_users(&system), system_of(&alice, &[&carol]));

    let (status, _) = alice.patch(&member_path(room, &erin), json!({"role": "admin"})).await;
    assert_eq!(status, StatusCode::OK);
    let system = all_see_system(&mut [&mut alice_ws, &mut bob_ws, &mut erin_ws], room, "role_changed").await;
    assert_eq!((actor_and_users(&system), &system["role"]), (system_of(&alice, &[&erin]), &json!("admin")));

    let (status, body) = alice.patch(&member_path(room, &bob), json!({"role": "member"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(roles(&body)[&bob.id], "member");
    let system = all_see_system(&mut [&mut alice_ws, &mut bob_ws, &mut erin_ws], room, "role_changed").await;
    assert_eq!((actor_and_users(&system), &system["role"]), (system_of(&alice, &[&bob]), &json!("member")));

    let (status, body) = alice.patch(&conv(room), json!({"title": "The owner's room"})).await;
    assert_eq!((status, &body["title"]), (StatusCode::OK, &json!("The owner's room")));
    for ws in [&mut alice_ws, &mut bob_ws, &mut erin_ws] {
        assert_eq!(expect_updated(ws, room).await["title"], "The owner's room");
        assert_eq!(expect_system(ws, room, "room_renamed").await["actor_id"], alice.id);
    }

    // Demoted, bob can no longer add anyone.
    let got = bob.post(&members_path, json!({"user_ids": [dave.id]})).await;
    assert_error(got, 403, "forbidden", "demoted admin adds");

    let last = view(&erin, room).await;
    assert_eq!(last["title"], "The owner's room");
    assert_eq!(roles(&last), expected_roles(&[(&alice, "owner"), (&bob, "member"), (&erin, "admin")]));

    // The history records every change, in order.
    let actions: Vec<String> = history(&alice, room)
        .await
        .iter()
        .filter(|m| m["kind"] == "system")
        .map(|m| m["system"]["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        actions,
        [
            "room_created",
            "role_changed",
            "members_added",
            "room_renamed",
            "member_removed",
            "role_changed",
            "member_removed",
            "role_changed",
            "role_changed",
            "room_renamed"
        ]
    );
}

// --- 3. removed members -----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_member_keeps_history_up_to_the_removal_and_nothing_after() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = id_of(&create_room(&alice, "Crew", &[&bob, &carol]).await);
    let first = app.send_message(&alice, room, "before one").await;
    app.send_message(&bob, room, "before two").await;
    let mut bob_ws = app.ws(&bob.token).await;
    let mut carol_ws = app.ws(&carol.token).await;

    let (status, body) = delete(&app, &alice, &member_path(room, &carol)).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    // Carol's own socket hears of her removal, as does everyone else's.
    let removal = carol_ws.expect("chat_message").await;
    assert_eq!((&removal["kind"], &removal["system"]["action"]), (&json!("system"), &json!("member_removed")));
    assert_eq!(actor_and_users(&removal["system"]), system_of(&alice, &[&carol]));
    expect_system(&mut bob_ws, room, "member_removed").await;

    // What is said after does not reach her.
    let after = app.send_message(&alice, room, "after the removal").await;
    assert_eq!(bob_ws.expect("chat_message").await["content"], "after the removal");
    carol_ws.expect_quiet(300).await;

    // Her history stops at the removal message, inclusive.
    let mine = history(&carol, room).await;
    let seen: Vec<(&str, &str)> =
        mine.iter().map(|m| (m["kind"].as_str().unwrap(), m["content"].as_str().unwrap_or(""))).collect();
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert_eq!(mine[0]["system"]["action"], "room_created");
    assert_eq!((seen[1].1, seen[2].1), ("before one", "before two"));
    assert_eq!(mine[3]["kind"], "system");
    assert_eq!(mine[3]["system"]["action"], "member_removed");
    assert_eq!(mine[3]["id"], removal["message_id"]);
    assert!(!mine.iter().any(|m| m["content"] == "after the removal"), "{seen:?}");
    // Paging from past the end does not reveal anything either.
    let far = after["seq"].as_i64().unwrap() + 10;
    let (status, page) = carol.get(&format!("{}messages/?before={far}", conv(room))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.to_string().contains("after the removal"), "{page}");

    // She can still open the room, as a former member with the removal as its last message.
    let hers = view(&carol, room).await;
    assert_eq!(hers["is_member"], false);
    assert_eq!(hers["last_message"]["id"], removal["message_id"]);
    assert!(!roles(&hers).contains_key(&carol.id));
    assert!(!hers.to_string().contains("after the removal"), "{hers}");
    let (_, list) = carol.get("/api/chat/conversations/").await;
    let listed = list["results"].as_array().unwrap().iter().find(|c| c["id"] == room).expect("still listed");
    assert_eq!(listed["is_member"], false);
    assert!(!listed.to_string().contains("after the removal"), "{listed}");

    // She cannot write, over REST or the socket.
    let got = carol.post(&format!("{}messages/", conv(room)), json!({"content": "hello?"})).await;
    assert_error(got, 404, "not_found", "removed member sends");
    carol_ws.send(json!({"type": "chat_message", "conversation_id": room, "content": "hello?"})).await;
    assert_eq!(carol_ws.expect("error").await["code"], "not_found");
    assert_eq!(history(&alice, room).await.len(), 5, "nothing she tried was stored");

    // A message from before her removal can be read by id; one from after cannot.
    let (status, old) = carol.get(&format!("/api/chat/messages/{}/", first["id"])).await;
    assert_eq!((status, &old["content"]), (StatusCode::OK, &json!("before one")));
    let got = carol.get(&format!("/api/chat/messages/{}/", after["id"])).await;
    assert_error(got, 404, "not_found", "read a message sent after the removal");

    // Added back, she is a member again: she sees it live, can write and read everything new.
    let (status, body) = alice.post(&format!("{}members/", conv(room)), json!({"user_ids": [carol.id]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(roles(&body).get(&carol.id).map(String::as_str), Some("member"));
    expect_system(&mut bob_ws, room, "members_added").await;
    // Her socket may first catch up on what it missed; the news of her return comes in order.
    let mut last_seq = removal["seq"].as_i64().unwrap();
    let readded = loop {
        let frame = carol_ws.next().await;
        assert_eq!(frame["conversation_id"], room, "{frame}");
        let seq = frame["seq"].as_i64().unwrap();
        assert!(seq > last_seq, "frames in order: {frame}");
        last_seq = seq;
        if frame["system"]["action"] == "members_added" {
            break frame;
        }
    };
    assert_eq!(actor_and_users(&readded["system"]), system_of(&alice, &[&carol]));
    let hers = view(&carol, room).await;
    assert_eq!((hers["is_member"].as_bool(), hers["role"].as_str()), (Some(true), Some("member")));
    app.send_message(&carol, room, "back again").await;
    assert_eq!(bob_ws.expect("chat_message").await["content"], "back again");
    let mine = history(&carol, room).await;
    assert_eq!(mine.last().unwrap()["content"], "back again");
}

// --- 4. leaving -----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_leave_but_the_last_owner_must_hand_over_first() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = id_of(&create_room(&alice, "Crew", &[&bob, &carol]).await);
    let mut alice_ws = app.ws(&alice.token).await;
    let mut bob_ws = app.ws(&bob.token).await;
    let mut carol_ws = app.ws(&carol.token).await;
    let leave = format!("{}leave/", conv(room));

    let (status, body) = bob.post(&leave, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let system = all_see_system(&mut [&mut alice_ws, &mut carol_ws, &mut bob_ws], room, "member_left").await;
    assert_eq!(actor_and_users(&system), system_of(&bob, &[&bob]));
    assert_eq!(roles(&view(&alice, room).await), expected_roles(&[(&alice, "owner"), (&carol, "member")]));
    let bobs = view(&bob, room).await;
    assert_eq!(bobs["is_member"], false);
    assert_eq!(bobs["last_message"]["system"]["action"], "member_left");
    // Leaving twice: he is no longer a member.
    assert_error(bob.post(&leave, json!({})).await, 404, "not_found", "leave twice");
    app.send_message(&alice, room, "bye bob").await;
    assert_eq!(carol_ws.expect("chat_message").await["content"], "bye bob");
    assert_eq!(alice_ws.expect("chat_message").await["content"], "bye bob");
    bob_ws.expect_quiet(200).await;

    // The only owner cannot leave, remove or demote themself.
    assert_error(alice.post(&leave, json!({})).await, 409, "last_owner", "last owner leaves");
    assert_error(delete(&app, &alice, &member_path(room, &alice)).await, 409, "last_owner", "last owner removes self");
    let got = alice.patch(&member_path(room, &alice), json!({"role": "admin"})).await;
    assert_error(got, 409, "last_owner", "last owner demotes self");
    assert_eq!(view(&alice, room).await["role"], "owner");
    alice_ws.expect_quiet(0).await;

    // Handing over ownership, then leaving, works.
    let (status, body) = alice.patch(&member_path(room, &carol), json!({"role": "owner"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(roles(&body), expected_roles(&[(&alice, "owner"), (&carol, "owner")]));
    let system = all_see_system(&mut [&mut alice_ws, &mut carol_ws], room, "role_changed").await;
    assert_eq!((actor_and_users(&system), &system["role"]), (system_of(&alice, &[&carol]), &json!("owner")));

    let (status, body) = alice.post(&leave, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let system = all_see_system(&mut [&mut carol_ws, &mut alice_ws], room, "member_left").await;
    assert_eq!(actor_and_users(&system), system_of(&alice, &[&alice]));
    let carols = view(&carol, room).await;
    assert_eq!(roles(&carols), expected_roles(&[(&carol, "owner")]));
    assert_eq!(view(&alice, room).await["is_member"], false);

    // Now carol is the last owner.
    assert_error(carol.post(&leave, json!({})).await, 409, "last_owner", "new last owner leaves");
}

mod settings;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_former_member_does_not_see_who_is_in_the_room_now() {
    let app = TestApp::spawn().await;
    let owner = app.register("owner").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = id_of(&create_room(&owner, "Team", &[&bob, &carol]).await);
    let (status, _) = delete(&app, &owner, &member_path(room, &carol)).await;
    assert_eq!(status, 204);
    let view = view(&carol, room).await;
    assert_eq!((view["is_member"].as_bool(), view["members"].as_array().map(Vec::len)), (Some(false), Some(0)));
    let (status, _) = carol.get(&format!("/api/chat/conversations/{room}/receipts/")).await;
    assert_eq!(status, 404, "receipts are for current members");
    let old = history(&carol, room).await;
    let (status, _) = carol.get(&format!("/api/chat/messages/{}/receipts/", old[0]["id"])).await;
    assert_eq!(status, 404, "so are a message's");
}
