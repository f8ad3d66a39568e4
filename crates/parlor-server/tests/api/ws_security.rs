//! WebSocket security (issue #9): the `Origin` allow-list against cross-site WebSocket
//! hijacking, one-time tickets that keep the access token out of the socket's URL, and
//! authorization re-checked per event: a member removed from a room, or who leaves it, stops
//! receiving it at once on sockets that are already open.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, handshake::client::Request};

use crate::helpers::{TestApp, TestUser, Ws};

fn with_origin(url: &str, origin: &str) -> Request {
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert("origin", origin.parse().unwrap());
    request
}

/// The status and JSON body a handshake is refused with.
async fn refused(request: Request) -> (u16, Value) {
    match tokio_tungstenite::connect_async(request).await {
        Err(tungstenite::Error::Http(response)) => {
            let body = response.body().as_ref().map(|b| serde_json::from_slice(b).unwrap_or(Value::Null));
            (response.status().as_u16(), body.unwrap_or(Value::Null))
        }
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected the handshake to be refused"),
    }
}

async fn ticket(user: &TestUser) -> String {
    let (status, body) = user.post("/api/auth/ws-ticket/", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["ticket"].as_str().unwrap_or_else(|| panic!("no ticket in {body}")).to_owned()
}

// --- Origin ------------------------------------------------------------------------------------

#[tokio::test]
async fn a_page_from_another_site_cannot_open_a_socket() {
    let app = TestApp::spawn_with(|c| c.websocket.allowed_origins = vec!["https://platform.example".into()]).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let dm = app.dm(&alice, &bob).await;
    let unified = format!("ws://{}/ws/?token={}", app.addr, alice.token);
    let scoped = format!("ws://{}/ws/chat/{dm}/?token={}", app.addr, alice.token);

    for url in [&unified, &scoped] {
        let (status, body) = refused(with_origin(url, "https://evil.example")).await;
        assert_eq!((status, &body["code"]), (403, &json!("forbidden")), "{body}");
        assert_eq!(body["message"], "origin https://evil.example is not allowed", "{body}");
    }
    // The same host on another port, or a sandboxed page, is another origin.
    let elsewhere = format!("http://127.0.0.1:{}", app.addr.port().wrapping_add(1));
    assert_eq!(refused(with_origin(&unified, &elsewhere)).await.0, 403);
    assert_eq!(refused(with_origin(&unified, "null")).await.0, 403);

    // Refused before the credentials are looked at: the ticket is not spent.
    let t = ticket(&alice).await;
    let by_ticket = format!("ws://{}/ws/?ticket={t}", app.addr);
    assert_eq!(refused(with_origin(&by_ticket, "https://evil.example")).await.0, 403);
    let ws = Ws::connect(&by_ticket).await;
    assert_eq!(ws.hello["user_id"], alice.id);
}

#[tokio::test]
async fn parlors_own_pages_listed_origins_and_clients_without_origin_connect() {
    let app = TestApp::spawn_with(|c| c.websocket.allowed_origins = vec!["https://platform.example".into()]).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let dm = app.dm(&alice, &bob).await;
    let unified = format!("ws://{}/ws/?token={}", app.addr, alice.token);
    let scoped = format!("ws://{}/ws/chat/{dm}/?token={}", app.addr, alice.token);

    // The built-in web client: its origin is the host the request goes to.
    let own = format!("http://{}", app.addr);
    for url in [&unified, &scoped] {
        let ws = Ws::connect_request(with_origin(url, &own)).await;
        assert_eq!(ws.hello["user_id"], alice.id);
        Ws::connect_request(with_origin(url, "https://platform.example")).await;
        Ws::connect_request(with_origin(url, "HTTPS://Platform.Example")).await;
        // Native apps and servers send no Origin.
        Ws::connect(url).await;
    }
}

#[tokio::test]
async fn a_star_allows_any_origin() {
    let app = TestApp::spawn_with(|c| c.websocket.allowed_origins = vec!["*".into()]).await;
    let alice = app.register("alice").await;
    let url = format!("ws://{}/ws/?token={}", app.addr, alice.token);
    Ws::connect_request(with_origin(&url, "https://anywhere.example")).await;
}

// --- tickets -----------------------------------------------------------------------------------

#[tokio::test]
async fn a_ticket_opens_one_socket_once() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let dm = app.dm(&alice, &bob).await;

    let (status, body) = app.post(None, "/api/auth/ws-ticket/", json!({})).await;
    assert_eq!((status, &body["code"]), (StatusCode::UNAUTHORIZED, &json!("unauthorized")), "{body}");
    let (status, body) = alice.post("/api/auth/ws-ticket", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["expires_in"], 30, "{body}");
    let first = body["ticket"].as_str().unwrap().to_owned();
    assert!(first.len() >= 43, "256 bits: {first}");
    let second = ticket(&alice).await;
    assert_ne!(first, second);

    let mut ws = Ws::connect(&format!("ws://{}/ws/?ticket={first}", app.addr)).await;
    assert_eq!(ws.hello["user_id"], alice.id);
    let (status, body) = app.ws_refused(&format!("/ws/?ticket={first}")).await;
    assert_eq!((status, &body["code"]), (401, &json!("unauthorized")), "second use: {body}");
    assert_eq!(body["message"], "ticket is invalid, expired or already used", "{body}");
    // The socket it opened works.
    app.send_message(&bob, dm, "hi").await;
    assert_eq!(ws.expect("chat_message").await["content"], "hi");

    // The scoped endpoint takes them too, once.
    let scoped = format!("/ws/chat/{dm}/?ticket={second}");
    let ws = Ws::connect(&format!("ws://{}{scoped}", app.addr)).await;
    assert_eq!(ws.hello["conversation_id"], dm);
    assert_eq!(app.ws_refused(&scoped).await.0, 401);

    assert_eq!(app.ws_refused("/ws/?ticket=made-up").await.0, 401);
    // A ticket wins over a token: a spent ticket is not rescued by one.
    assert_eq!(app.ws_refused(&format!("/ws/?ticket={first}&token={}", alice.token)).await.0, 401);
    // And tokens still work (seed 001's clients).
    Ws::connect(&format!("ws://{}/ws/?token={}", app.addr, alice.token)).await;
}

#[tokio::test]
async fn an_expired_ticket_is_refused() {
    let app = TestApp::spawn_with(|c| c.websocket.ticket_ttl_secs = 1).await;
    let alice = app.register("alice").await;
    let (_, body) = alice.post("/api/auth/ws-ticket/", json!({})).await;
    assert_eq!(body["expires_in"], 1, "{body}");
    let fresh = ticket(&alice).await;
    let stale = ticket(&alice).await;
    Ws::connect(&format!("ws://{}/ws/?ticket={fresh}", app.addr)).await;

    // Nothing to wait for but the clock.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = app.ws_refused(&format!("/ws/?ticket={stale}")).await;
    assert_eq!((status, &body["code"]), (401, &json!("unauthorized")), "{body}");
}

#[tokio::test]
async fn a_ticket_of_a_user_disabled_since_is_refused() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let admin = app.register("admin").await;
    let (status, body) =
        app.server(Method::PATCH, &format!("/api/server/accounts/{}/", admin.id), json!({"admin": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let t = ticket(&alice).await;

    let (status, _) = admin.post(&format!("/api/admin/users/{}/disable/", alice.id), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app.ws_refused(&format!("/ws/?ticket={t}")).await;
    assert_eq!((status, &body["code"]), (403, &json!("account_disabled")), "{body}");
    let (status, body) = alice.post("/api/auth/ws-ticket/", json!({})).await;
    assert_eq!((status, &body["code"]), (StatusCode::FORBIDDEN, &json!("account_disabled")), "{body}");
}

// --- authorization per event -------------------------------------------------------------------

/// What Carol's sockets pass over: frames about people, not the room. Receipts are watched.
const PERSONAL_FRAMES: &[&str] = &["user_status_change", "notification"];

struct Room {
    app: TestApp,
    alice: TestUser,
    bob: TestUser,
    carol: TestUser,
    id: i64,
    /// Bob's socket: he types and reads.
    bob_ws: Ws,
    /// Alice's socket: once it has an event, Carol's would have had it too.
    alice_ws: Ws,
    carol_unified: Ws,
    carol_scoped: Ws,
}

/// A room of Alice (owner), Bob and Carol, with Carol on a unified and a scoped socket that
/// watch everything (receipts included) but presence and notifications.
async fn room() -> Room {
    let app = TestApp::spawn().await;
    let (alice, bob, carol) = (app.register("alice").await, app.register("bob").await, app.register("carol").await);
    let (status, body) = alice.post("/api/chat/rooms/", json!({"title": "Crew", "members": [bob.id, carol.id]})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_i64().unwrap();
    let bob_ws = app.ws(&bob.token).await;
    let alice_ws = app.ws(&alice.token).await;
    let mut carol_unified = app.ws(&carol.token).await;
    let mut carol_scoped = app.ws_chat(&carol.token, id).await;
    carol_unified.ignored = PERSONAL_FRAMES;
    carol_scoped.ignored = PERSONAL_FRAMES;
    Room { app, alice, bob, carol, id, bob_ws, alice_ws, carol_unified, carol_scoped }
}

impl Room {
    /// Bob types, Alice writes, Bob reads it and reacts; returns once Alice has seen it all.
    async fn chatter(&mut self, text: &str) {
        let id = self.id;
        self.bob_ws.send(json!({"type": "typing_indicator", "conversation_id": id, "is_typing": true})).await;
        assert_eq!(self.alice_ws.expect("typing_indicator").await["user_id"], self.bob.id);
        let message = self.app.send_message(&self.alice, id, text).await;
        self.alice_ws.expect("chat_message").await;
        self.bob_ws.send(json!({"type": "message_read", "conversation_id": id, "message_ids": [message["id"]]})).await;
        self.alice_ws.expect("messages_read").await;
        let path = format!("/api/chat/messages/{}/reactions/", message["id"]);
        let (status, body) = self.bob.post(&path, json!({"emoji": "👍"})).await;
        assert!(status.is_success(), "{body}");
        self.alice_ws.expect("reaction_updated").await;
    }

    /// What Carol's socket received of one round of [`Room::chatter`].
    async fn seen(ws: &mut Ws) -> Vec<String> {
        let mut kinds = Vec::new();
        while kinds.last().map(String::as_str) != Some("reaction_updated") {
            kinds.push(ws.next().await["type"].as_str().unwrap().to_owned());
        }
        kinds
    }

    /// Carol's sockets saw all of one round: the positive control for [`Room::carol_hears_nothing`].
    async fn carol_hears_everything(&mut self) {
        for ws in [&mut self.carol_unified, &mut self.carol_scoped] {
            let kinds = Room::seen(ws).await;
            for kind in ["typing_indicator", "chat_message", "messages_read", "reaction_updated"] {
                assert!(kinds.iter().any(|k| k == kind), "{kind} missing from {kinds:?}");
            }
        }
    }

    /// Her own departure reaches both sockets (after any delivery receipt of the last round).
    async fn carol_hears_of_departure(&mut self, action: &str) {
        for ws in [&mut self.carol_unified, &mut self.carol_scoped] {
            let frame = ws.next_matching("carol's departure", |f| f["type"] != "messages_delivered").await;
            assert_eq!(frame["system"]["action"], action, "{frame}");
        }
        self.alice_ws.expect("chat_message").await;
    }

    async fn carol_hears_nothing(&mut self) {
        self.carol_unified.expect_quiet(300).await;
        self.carol_scoped.expect_quiet(300).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_member_stops_receiving_the_room_on_open_sockets() {
    let mut room = room().await;
    room.chatter("before").await;
    room.carol_hears_everything().await;

    let path = format!("/api/chat/conversations/{}/members/{}/", room.id, room.carol.id);
    let (status, body) = room.alice.delete(&path).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    room.carol_hears_of_departure("member_removed").await;

    room.chatter("after").await;
    room.carol_hears_nothing().await;
    // Nor can she take part from the sockets she still has.
    let scoped = &mut room.carol_scoped;
    scoped.send(json!({"type": "typing_indicator", "is_typing": true})).await;
    assert_eq!(scoped.expect("error").await["code"], "not_found");
    room.alice_ws.expect_quiet(200).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_who_leaves_stops_receiving_the_room_on_open_sockets() {
    let mut room = room().await;
    room.chatter("before").await;
    room.carol_hears_everything().await;

    let path = format!("/api/chat/conversations/{}/leave/", room.id);
    let (status, body) = room.carol.post(&path, json!({})).await;
    assert!(status.is_success(), "{body}");
    room.carol_hears_of_departure("member_left").await;

    room.chatter("after").await;
    room.carol_hears_nothing().await;
}
