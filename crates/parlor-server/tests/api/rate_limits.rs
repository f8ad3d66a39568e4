//! Rate limits, the per-user socket cap and the header timeout: each test sets small limits
//! and checks the answer over the limit (429 `rate_limited` with `Retry-After`, or a socket
//! `error` frame), that it passes again once the bucket refills, and that others are not held up.

use std::time::{Duration, Instant};

use parlor_server::rate_limit::Rate;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{API_KEY, TestApp, TestUser, WAIT, Ws, eventually};

/// A bucket of `burst`, refilling one token per second.
fn per_second(burst: u32) -> Rate {
    Rate { per_minute: 60, burst }
}

/// A POST with an optional bearer token and extra headers; the status, `Retry-After` and body.
async fn post(
    app: &TestApp,
    token: Option<&str>,
    path: &str,
    body: Value,
    headers: &[(&str, &str)],
) -> (StatusCode, Option<u64>, Value) {
    let mut req = app.http.post(app.url(path)).json(&body);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let response = req.send().await.unwrap();
    let status = response.status();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
    (status, retry_after, response.json().await.unwrap_or(Value::Null))
}

fn assert_limited(status: StatusCode, retry_after: Option<u64>, body: &Value) -> u64 {
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["code"], "rate_limited", "{body}");
    let secs = retry_after.expect("a Retry-After header");
    assert!(secs >= 1, "Retry-After is at least 1 s: {secs}");
    secs
}

async fn login(app: &TestApp, username: &str, password: &str, from: &str) -> (StatusCode, Option<u64>, Value) {
    let body = json!({"username": username, "password": password});
    post(app, None, "/api/auth/token", body, &[("x-forwarded-for", from)]).await
}

#[tokio::test]
async fn rest_sends_over_the_limit_get_429_then_pass_after_the_refill() {
    let app = TestApp::spawn_with(|c| c.rate_limits.sends = per_second(3)).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    let path = format!("/api/chat/conversations/{conversation}/messages/");
    for i in 0..3 {
        let (status, _, body) = post(&app, Some(&alice.token), &path, json!({"content": format!("m{i}")}), &[]).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, retry_after, body) = post(&app, Some(&alice.token), &path, json!({"content": "one more"}), &[]).await;
    let secs = assert_limited(status, retry_after, &body);
    assert!(body["message"].as_str().unwrap().contains("retry in"), "{body}");

    // Bob's bucket is his own.
    let (status, _, _) = post(&app, Some(&bob.token), &path, json!({"content": "hi"}), &[]).await;
    assert_eq!(status, StatusCode::CREATED);
    // Reactions count as sends too.
    let (_, page) = alice.get(&format!("{path}?limit=1")).await;
    let message = page["results"][0]["id"].as_i64().unwrap();
    let react = format!("/api/chat/messages/{message}/reactions/");
    let (status, retry_after, body) = post(&app, Some(&alice.token), &react, json!({"emoji": "👍"}), &[]).await;
    assert_limited(status, retry_after, &body);

    // Waiting as told is enough.
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let (status, _, body) = post(&app, Some(&alice.token), &path, json!({"content": "later"}), &[]).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, page) = bob.get(&format!("{path}?limit=100")).await;
    assert_eq!(page["results"].as_array().unwrap().len(), 5, "refused sends stored nothing: {page}");
}

/// Sends `n` chat messages without waiting, then reads until each has its one answer.
async fn flood(ws: &mut Ws, conversation: i64, n: usize) -> (usize, usize) {
    for i in 0..n {
        ws.send(json!({"type": "chat_message", "conversation_id": conversation, "content": format!("flood {i}"), "client_id": format!("f{i}")})).await;
    }
    let (mut acks, mut limited) = (0, 0);
    while acks + limited < n {
        let frame = ws.next().await;
        match frame["type"].as_str() {
            Some("ack") => acks += 1,
            Some("error") => {
                assert_eq!(frame["code"], "rate_limited", "{frame}");
                assert!(frame["message"].as_str().unwrap().contains("retry in"), "{frame}");
                limited += 1;
            }
            // Her own messages, echoed to her socket.
            Some("chat_message") => {}
            _ => panic!("unexpected frame {frame}"),
        }
    }
    (acks, limited)
}

#[tokio::test]
async fn a_socket_flood_is_refused_frame_by_frame_and_does_not_hold_up_others() {
    // One token a minute after the burst: none refills during the test.
    let app = TestApp::spawn_with(|c| c.rate_limits.sends = Rate { per_minute: 1, burst: 10 }).await;
    let mallory = app.register("mallory").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let flooded = app.dm(&mallory, &bob).await;
    let quiet = app.dm(&carol, &bob).await;
    let mut bob_ws = app.ws(&bob.token).await;
    let mut carol_ws = app.ws(&carol.token).await;
    let mut mallory_ws = app.ws(&mallory.token).await;

    let flooding = tokio::spawn(async move {
        let answers = flood(&mut mallory_ws, flooded, 500).await;
        (answers, mallory_ws)
    });
    // Carol talks to Bob meanwhile, at the usual pace.
    let mut slowest = Duration::ZERO;
    for i in 0..10 {
        let started = Instant::now();
        carol_ws.send(json!({"type": "chat_message", "conversation_id": quiet, "content": format!("c{i}")})).await;
        let answer = carol_ws.next_matching("carol's ack", |f| f["type"] == "ack" || f["type"] == "error").await;
        assert_eq!(answer["type"], "ack", "{answer}");
        let what = "carol's message on bob's socket";
        let frame = bob_ws.next_matching(what, |f| f["type"] == "chat_message" && f["conversation_id"] == quiet).await;
        assert_eq!(frame["content"], format!("c{i}"));
        slowest = slowest.max(started.elapsed());
    }
    assert!(slowest < Duration::from_secs(2), "carol's messages reached bob in {slowest:?} at worst");

    let ((acks, limited), mut mallory_ws) = tokio::time::timeout(WAIT * 3, flooding).await.unwrap().unwrap();
    assert_eq!(acks, 10, "the burst passed");
    assert_eq!(limited, 490, "every refused chat_message got exactly one error");
    // Her socket is still open and answers.
    mallory_ws.send(json!({"type": "ping"})).await;
    mallory_ws.expect("pong").await;
    // Typing fans out to others, so it is limited too.
    mallory_ws.send(json!({"type": "typing_indicator", "conversation_id": flooded, "is_typing": true})).await;
    assert_eq!(mallory_ws.expect("error").await["code"], "rate_limited");
    // Nothing refused was stored or queued for later.
    let (_, page) = bob.get(&format!("/api/chat/conversations/{flooded}/messages/?limit=100")).await;
    assert_eq!(page["results"].as_array().unwrap().len(), 10, "{page}");
    mallory_ws.close().await;
}

#[tokio::test]
async fn login_guessing_is_limited_per_address() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limits.logins_per_ip = per_second(3);
        c.rate_limits.logins_per_username = Rate::OFF;
        c.rate_limits.client_ip_header = "x-forwarded-for".into();
    })
    .await;
    app.register("alice").await;
    for name in ["alice", "bob", "carol"] {
        let (status, _, body) = login(&app, name, "guess", "203.0.113.7").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    // Even the right password waits: the password is not checked at all.
    let (status, retry_after, body) = login(&app, "alice", "correct horse", "203.0.113.7").await;
    assert_limited(status, retry_after, &body);
    // The proxy's header names the client: another address has its own bucket.
    let (status, _, body) = login(&app, "alice", "correct horse", "10.0.0.1, 203.0.113.8").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn login_guessing_is_limited_per_username_from_anywhere() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limits.logins_per_ip = Rate::OFF;
        c.rate_limits.logins_per_username = per_second(2);
        c.rate_limits.client_ip_header = "x-forwarded-for".into();
    })
    .await;
    app.register("alice").await;
    app.register("bob").await;
    let (status, _, _) = login(&app, "alice", "guess 1", "203.0.113.1").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = login(&app, "Alice", "guess 2", "203.0.113.2").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, retry_after, body) = login(&app, "ALICE", "guess 3", "203.0.113.3").await;
    let secs = assert_limited(status, retry_after, &body);
    // Other accounts are untouched.
    let (status, _, body) = login(&app, "bob", "correct horse", "203.0.113.3").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    tokio::time::sleep(Duration::from_secs(secs)).await;
    let (status, _, body) = login(&app, "alice", "correct horse", "203.0.113.4").await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn registrations_are_limited_per_address() {
    let app = TestApp::spawn_with(|c| c.rate_limits.registrations_per_ip = per_second(2)).await;
    app.register("alice").await;
    app.register("bob").await;
    let body = json!({"username": "carol", "password": "correct horse"});
    let (status, retry_after, body) = post(&app, None, "/api/auth/register", body, &[]).await;
    assert_limited(status, retry_after, &body);
    // The header is only believed when configured.
    let body = json!({"username": "dave", "password": "correct horse"});
    let (status, _, _) = post(&app, None, "/api/auth/register", body, &[("x-forwarded-for", "10.9.9.9")]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
}

async fn upload(app: &TestApp, user: &TestUser, conversation: i64) -> reqwest::Response {
    let form = Form::new().part("file", Part::bytes(b"hello, file".to_vec()).file_name("note.txt"));
    let url = app.url(&format!("/api/chat/conversations/{conversation}/attachments/"));
    app.http.post(url).bearer_auth(&user.token).multipart(form).send().await.unwrap()
}

#[tokio::test]
async fn uploads_are_limited_per_user() {
    let app = TestApp::spawn_with(|c| c.rate_limits.uploads = per_second(2)).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    for _ in 0..2 {
        assert_eq!(upload(&app, &alice, conversation).await.status(), StatusCode::CREATED);
    }
    let refused = upload(&app, &alice, conversation).await;
    let retry_after = refused.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap());
    let status = refused.status();
    assert_limited(status, retry_after, &refused.json().await.unwrap());
    assert_eq!(upload(&app, &bob, conversation).await.status(), StatusCode::CREATED, "bob has his own bucket");
}

#[tokio::test]
async fn socket_handshakes_are_limited_per_user_and_failed_ones_per_address() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limits.connects = per_second(2);
        c.rate_limits.failed_connects_per_ip = per_second(2);
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let first = app.ws(&alice.token).await;
    let second = app.ws(&alice.token).await;
    let (status, body) = app.ws_refused(&format!("/ws/?token={}", alice.token)).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")), "{body}");
    app.ws(&bob.token).await.close().await;

    for _ in 0..2 {
        let (status, _) = app.ws_refused("/ws/?token=garbage").await;
        assert_eq!(status, 401);
    }
    let (status, body) = app.ws_refused("/ws/?token=garbage").await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")), "{body}");
    first.close().await;
    second.close().await;
}

#[tokio::test]
async fn open_sockets_per_user_are_capped() {
    let app = TestApp::spawn_with(|c| c.rate_limits.max_connections_per_user = 2).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    let first = app.ws(&alice.token).await;
    let _second = app.ws_chat(&alice.token, conversation).await;
    let (status, body) = app.ws_refused(&format!("/ws/?token={}", alice.token)).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("open connections"), "{body}");
    let _bob_ws = app.ws(&bob.token).await;

    // Closing one makes room, once the server has seen it go.
    first.close().await;
    eventually(WAIT, "a socket is let in again", || async {
        let url = format!("ws://{}/ws/?token={}", app.addr, alice.token);
        tokio_tungstenite::connect_async(url).await.map(drop)
    })
    .await;
}

/// Reads until the server closes the connection; how long that took.
async fn closed_after(stream: &mut TcpStream) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(WAIT, stream.read(&mut buf)).await.expect("closed in time") {
            Ok(0) | Err(_) => return started.elapsed(),
            Ok(_) => continue,
        }
    }
}

#[tokio::test]
async fn slow_headers_and_idle_keep_alive_connections_are_closed() {
    let app = TestApp::spawn_with(|c| c.rate_limits.header_timeout_secs = 1).await;

    // Half a request head, never finished.
    let mut slow = TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let waited = closed_after(&mut slow).await;
    assert!(waited < Duration::from_secs(5), "closed after {waited:?}");

    // A finished request, then silence on the kept-alive connection.
    let mut idle = TcpStream::connect(app.addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 1024];
    let n = tokio::time::timeout(WAIT, idle.read(&mut buf)).await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let waited = closed_after(&mut idle).await;
    assert!(waited < Duration::from_secs(5), "closed after {waited:?}");

    // Open sockets are not HTTP requests any more: the heartbeat keeps them.
    let alice = app.register("alice").await;
    let mut ws = app.ws(&alice.token).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    ws.send(json!({"type": "ping"})).await;
    ws.expect("pong").await;
}

#[tokio::test]
async fn server_api_key_guessing_is_limited_per_address_and_then_even_the_right_key_waits() {
    let app = TestApp::spawn_with(|c| {
        c.rate_limits.failed_api_keys_per_ip = Rate { per_minute: 1, burst: 3 };
        c.rate_limits.client_ip_header = "x-forwarded-for".into();
    })
    .await;
    let call = |key: &'static str, from: &'static str| {
        let req =
            app.http.get(app.url("/api/server/users/u-1")).header("x-api-key", key).header("x-forwarded-for", from);
        async move {
            let response = req.send().await.unwrap();
            let status = response.status();
            let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok()?.parse().ok());
            (status, retry_after, response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    for guess in ["guess-1", "guess-2", "guess-3"] {
        let (status, _, body) = call(guess, "203.0.113.7").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    }
    let (status, retry_after, body) = call("guess-4", "203.0.113.7").await;
    assert!(assert_limited(status, retry_after, &body) >= 30, "a bucket refilling once a minute");
    // The right key from that address is refused before it is compared: a guess learns nothing.
    let (status, retry_after, body) = call(API_KEY, "203.0.113.7").await;
    assert_limited(status, retry_after, &body);
    // The platform's backend at its own address is not held up.
    let (status, _, body) = call(API_KEY, "10.0.0.5").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "an unknown user, answered: {body}");
}
