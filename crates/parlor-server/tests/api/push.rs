//! Web Push against a real push service (`push/push_service.py`, Python's `http_ece` and
//! `cryptography`, not parlor's code): subscriptions, the payload decrypted with the browser's
//! private key, the VAPID token (ES256, audience, expiry, subject), the headers, folding and
//! delay, 410 removing a subscription, retries, and every rule that keeps a push back.

use std::process::Stdio;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::helpers::{TestApp, TestUser, WAIT, unix_now};

const SUBJECT: &str = "mailto:ops@parlor.test";

/// The push service (and the browser's keys) of `push/push_service.py`.
struct PushService {
    _child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    port: u16,
    p256dh: String,
    auth: String,
}

impl PushService {
    async fn start() -> PushService {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/push/push_service.py");
        let mut child = Command::new("python3")
            .arg(script)
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs the push service (pip install http_ece cryptography)");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(WAIT, lines.next_line()).await.expect("push service starts").unwrap();
        let hello: Value = serde_json::from_str(&first.expect("a first line")).unwrap();
        PushService {
            _child: child,
            lines,
            port: u16::try_from(hello["port"].as_u64().unwrap()).unwrap(),
            p256dh: hello["p256dh"].as_str().unwrap().to_owned(),
            auth: hello["auth"].as_str().unwrap().to_owned(),
        }
    }

    fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.origin())
    }

    /// The next push received, as the service reported it.
    async fn next(&mut self) -> Value {
        let line = tokio::time::timeout(WAIT, self.lines.next_line()).await.expect("a push arrives in time").unwrap();
        serde_json::from_str(&line.expect("the push service is running")).unwrap()
    }

    async fn subscribe(&self, user: &TestUser, path: &str) -> i64 {
        let body = json!({"endpoint": self.endpoint(path), "expirationTime": null,
                          "keys": {"p256dh": self.p256dh, "auth": self.auth}});
        let (status, created) = user.post("/api/push/subscriptions", body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created["id"].as_i64().unwrap()
    }
}

async fn app_with_push(delay_ms: u64) -> TestApp {
    TestApp::spawn_with(|c| {
        c.push.allow_private_targets = true;
        c.push.subject = SUBJECT.into();
        c.push.delay_ms = delay_ms;
        c.push.retry_initial_ms = 20;
        c.push.retry_max_ms = 40;
    })
    .await
}

async fn subscriptions(user: &TestUser) -> Vec<Value> {
    let (status, body) = user.get("/api/push/subscriptions").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["results"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_message_to_someone_away_is_pushed_encrypted_and_signed() {
    let mut service = PushService::start().await;
    let app = app_with_push(0).await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let (_, config) = bob.get("/api/push/config").await;
    let vapid_key = config["vapid_public_key"].as_str().unwrap().to_owned();
    service.subscribe(&bob, "/bob-laptop").await;
    let dm = app.dm(&alice, &bob).await;

    app.send_message(&alice, dm, "are you free on Tuesday?").await;
    let push = service.next().await;
    assert_eq!(push["path"], "/bob-laptop");
    assert!(push.get("decrypt_error").is_none(), "{push}");
    let payload = &push["payload"];
    assert_eq!(
        (payload["title"].as_str(), payload["body"].as_str(), payload["type"].as_str()),
        (Some("alice"), Some("are you free on Tuesday?"), Some("message")),
        "{payload}"
    );
    assert_eq!(payload["conversation_id"], json!(dm));
    assert_eq!(payload["url"], json!(format!("/#/c/{dm}")));
    assert_eq!(payload["tag"], json!(format!("parlor-c{dm}")));
    assert_eq!(payload["unread_count"], json!(1));

    // VAPID (RFC 8292): ES256, signed by the key browsers subscribed with, for this origin.
    assert_eq!(push["jwt_valid"], json!(true), "{push}");
    assert_eq!(push["jwt_header"]["alg"], "ES256");
    assert_eq!(push["k"], json!(vapid_key));
    let claims = &push["claims"];
    assert_eq!((claims["aud"].as_str(), claims["sub"].as_str()), (Some(service.origin().as_str()), Some(SUBJECT)));
    let exp = claims["exp"].as_i64().unwrap();
    assert!(exp > unix_now() && exp <= unix_now() + 24 * 3600, "exp within 24 h: {claims}");

    let headers = &push["headers"];
    assert_eq!(headers["content-encoding"], "aes128gcm");
    assert_eq!(headers["ttl"], "86400");
    assert_eq!(headers["urgency"], "normal");
    assert_eq!(headers["topic"], json!(format!("parlor-c{dm}")), "folded per conversation by the push service");

    // A second message folds into the same notification: the push says so.
    app.send_message(&alice, dm, "or Wednesday").await;
    let push = service.next().await;
    assert_eq!(
        (push["payload"]["title"].as_str(), push["payload"]["body"].as_str()),
        (Some("alice (2 new messages)"), Some("or Wednesday"))
    );
    assert_eq!(push["headers"]["topic"], json!(format!("parlor-c{dm}")));

    // A mention is urgent.
    let room = alice.post("/api/chat/rooms/", json!({"title": "Team", "members": [bob.id]})).await.1;
    let room = room["id"].as_i64().unwrap();
    app.send_message(&alice, room, "@bob can you check this").await;
    let push = loop {
        let push = service.next().await;
        if push["payload"]["conversation_id"] == json!(room) && push["payload"]["type"] == "mention" {
            break push;
        }
    };
    assert_eq!(push["payload"]["title"], "alice mentioned you");
    assert_eq!(push["headers"]["urgency"], "high");
}

#[tokio::test]
async fn without_content_the_push_says_new_message() {
    let mut service = PushService::start().await;
    let app = TestApp::spawn_with(|c| {
        c.push.allow_private_targets = true;
        c.push.include_content = false;
    })
    .await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    service.subscribe(&bob, "/bob").await;
    let dm = app.dm(&alice, &bob).await;
    app.send_message(&alice, dm, "the door code is 4711").await;
    let push = service.next().await;
    assert_eq!(push["payload"]["body"], "New message");
    assert!(!push.to_string().contains("4711"));
}

#[tokio::test]
async fn subscriptions_are_the_users_own_and_an_endpoint_registers_once() {
    let service = PushService::start().await;
    let app = app_with_push(0).await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let (status, config) = alice.get("/api/push/config").await;
    assert_eq!(status, StatusCode::OK);
    let key = config["vapid_public_key"].as_str().unwrap();
    assert_eq!(key.len(), 87, "base64url of a 65-byte uncompressed point: {key}");

    let first = service.subscribe(&alice, "/a").await;
    let again = service.subscribe(&alice, "/a").await;
    assert_ne!(first, again);
    let listed = subscriptions(&alice).await;
    assert_eq!(listed.len(), 1, "the same endpoint replaces the old row: {listed:?}");
    assert_eq!(
        (listed[0]["id"].as_i64(), listed[0]["endpoint"].as_str()),
        (Some(again), Some(service.endpoint("/a").as_str()))
    );
    assert!(listed[0].get("keys").is_none() && listed[0].get("auth").is_none(), "keys are not shown again");
    assert!(subscriptions(&bob).await.is_empty());

    let (status, _) = bob.delete(&format!("/api/push/subscriptions/{again}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "not bob's");
    let (status, _) = alice.delete(&format!("/api/push/subscriptions/{again}")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(subscriptions(&alice).await.is_empty());
    assert_eq!(app.get(None, "/api/push/subscriptions").await.0, StatusCode::UNAUTHORIZED);

    for (body, field) in [
        (
            json!({"endpoint": "ftp://push.example/x", "keys": {"p256dh": service.p256dh, "auth": service.auth}}),
            "endpoint",
        ),
        (json!({"endpoint": service.endpoint("/x"), "keys": {"p256dh": "AAAA", "auth": service.auth}}), "keys.p256dh"),
        (
            json!({"endpoint": service.endpoint("/x"), "keys": {"p256dh": service.p256dh, "auth": "c2hvcnQ"}}),
            "keys.auth",
        ),
    ] {
        let (status, answer) = alice.post("/api/push/subscriptions", body).await;
        assert_eq!((status, answer["code"].as_str()), (StatusCode::BAD_REQUEST, Some("validation_failed")), "{answer}");
        assert!(answer["message"].as_str().unwrap().starts_with(field), "{answer}");
    }
    let (status, answer) = alice.post("/api/push/subscriptions", json!({"endpoint": 5})).await;
    assert_eq!((status, answer["code"].as_str()), (StatusCode::BAD_REQUEST, Some("invalid_body")));
}

#[tokio::test]
async fn endpoints_at_private_addresses_are_refused_unless_allowed() {
    let service = PushService::start().await;
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let body = json!({"endpoint": service.endpoint("/a"), "keys": {"p256dh": service.p256dh, "auth": service.auth}});
    let (status, answer) = alice.post("/api/push/subscriptions", body).await;
    assert_eq!((status, answer["code"].as_str()), (StatusCode::BAD_REQUEST, Some("validation_failed")), "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(message.contains("loopback") && message.contains("push.allow_private_targets"), "{message}");
    assert!(!message.contains("127.0.0.1"), "the address is not echoed: {message}");

    let off = TestApp::spawn_with(|c| c.push.enabled = false).await;
    let bob = off.register("bob").await;
    assert_eq!(off.get(Some(&bob.token), "/api/push/config").await.0, StatusCode::NOT_FOUND);
    assert_eq!(off.get(Some(&bob.token), "/api/push/subscriptions").await.0, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn gone_and_unknown_subscriptions_are_deleted_and_a_busy_or_failing_service_is_retried() {
    let mut service = PushService::start().await;
    let app = app_with_push(0).await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    for path in ["/gone/old-phone", "/unknown/tablet", "/flaky/laptop", "/busy/desktop"] {
        service.subscribe(&bob, path).await;
    }
    let dm = app.dm(&alice, &bob).await;
    app.send_message(&alice, dm, "hello").await;

    let mut answered: Vec<(String, u64)> = Vec::new();
    while answered.len() < 6 {
        let push = service.next().await;
        assert_eq!(push["payload"]["body"], "hello", "every attempt decrypts: {push}");
        answered.push((push["path"].as_str().unwrap().to_owned(), push["answered"].as_u64().unwrap()));
    }
    answered.sort();
    assert_eq!(
        answered,
        [
            ("/busy/desktop".into(), 201),
            ("/busy/desktop".into(), 429),
            ("/flaky/laptop".into(), 201),
            ("/flaky/laptop".into(), 503),
            ("/gone/old-phone".into(), 410),
            ("/unknown/tablet".into(), 404),
        ],
        "429 and 503 retried, 404 and 410 not"
    );
    let left = crate::helpers::eventually(WAIT, "the gone and unknown subscriptions are deleted", || async {
        let left = subscriptions(&bob).await;
        if left.len() == 2 { Ok(left) } else { Err(json!(left)) }
    })
    .await;
    let mut endpoints: Vec<&str> = left.iter().map(|s| s["endpoint"].as_str().unwrap()).collect();
    endpoints.sort_unstable();
    assert_eq!(endpoints, [service.endpoint("/busy/desktop"), service.endpoint("/flaky/laptop")]);
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains(r#"parlor_push_deliveries_total{outcome="removed"} 2"#), "{metrics}");
    assert!(metrics.contains(r#"parlor_push_deliveries_total{outcome="sent"} 2"#), "{metrics}");
}

#[tokio::test]
async fn the_vapid_key_is_kept_across_restarts() {
    let (_guard, data_dir) = crate::helpers::temp_path();
    let key_of = |app: &TestApp, user: &TestUser| {
        let (base, user) = (app.url(""), user.clone());
        async move {
            let (status, config) = user.get("/api/push/config").await;
            assert_eq!(status, StatusCode::OK, "{base}: {config}");
            config["vapid_public_key"].as_str().unwrap().to_owned()
        }
    };
    let app = TestApp::spawn_at(&data_dir, |_| {}).await;
    let alice = app.register("alice").await;
    let generated = key_of(&app, &alice).await;
    assert_eq!(generated.len(), 87, "an uncompressed P-256 point, base64url: {generated}");
    app.stop().await;
    let app = TestApp::spawn_at(&data_dir, |_| {}).await;
    let alice = app.signed_in(alice.id, &alice.token);
    assert_eq!(key_of(&app, &alice).await, generated, "made once, then read back from the data dir");
    app.stop().await;
}

#[tokio::test]
async fn a_push_service_that_never_answers_delays_no_message_and_what_does_not_fit_is_dropped() {
    // A push service that takes connections and never says a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let app = TestApp::spawn_with(|c| {
        c.push.allow_private_targets = true;
        c.push.subject = SUBJECT.into();
        c.push.timeout_ms = 120_000;
        c.push.concurrency = 1;
        c.push.queue = 1;
        c.push.max_attempts = 1;
    })
    .await;
    let (alice, bob, carol) = (app.register("alice").await, app.register("bob").await, app.register("carol").await);
    // A browser's keys (from the real service's script), pointed at the silent one.
    let keys = PushService::start().await;
    let body = json!({"endpoint": format!("http://127.0.0.1:{port}/stuck"), "expirationTime": null,
                      "keys": {"p256dh": keys.p256dh, "auth": keys.auth}});
    assert_eq!(bob.post("/api/push/subscriptions", body).await.0, StatusCode::CREATED);
    let room = alice.post("/api/chat/rooms/", json!({"title": "Team", "members": [bob.id, carol.id]})).await.1;
    let room = room["id"].as_i64().unwrap();
    let mut carols = app.ws_chat(&carol.token, room).await;

    // Bob is away: every message is a push waiting on the silent service, and none of them
    // holds up the message itself.
    for n in 0..12 {
        app.send_message(&alice, room, &format!("note {n}")).await;
        let frame = carols.next_matching("carol's chat_message", |f| f["type"] == "chat_message").await;
        assert_eq!(frame["content"], format!("note {n}"), "{frame}");
    }
    // One delivery runs, one notice waits, the rest are dropped and counted.
    crate::helpers::eventually(WAIT, "pushes that do not fit are dropped and counted", || async {
        let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
        let dropped = metrics
            .lines()
            .find_map(|l| l.strip_prefix(r#"parlor_push_deliveries_total{outcome="dropped"} "#))
            .and_then(|v| v.parse::<u64>().ok());
        if dropped.is_some_and(|n| n >= 1) { Ok(()) } else { Err(metrics) }
    })
    .await;
}

/// Sends `content` from `from` in `conversation`, then a message to carol, whose push must be the
/// next one the service sees: bob's would have come first had it not been kept back.
async fn kept_back(
    app: &TestApp,
    service: &mut PushService,
    from: &TestUser,
    conversation: i64,
    content: &str,
    carols: i64,
) {
    app.send_message(from, conversation, content).await;
    app.send_message(from, carols, "sentinel").await;
    let push = service.next().await;
    assert_eq!(push["path"], "/carol", "{content:?} should not have been pushed to bob: {push}");
}

#[tokio::test]
async fn preferences_quiet_hours_mute_block_and_focus_keep_pushes_back() {
    let mut service = PushService::start().await;
    let app = app_with_push(0).await;
    let (alice, bob, carol) = (app.register("alice").await, app.register("bob").await, app.register("carol").await);
    service.subscribe(&bob, "/bob").await;
    service.subscribe(&carol, "/carol").await;
    let (dm, carols) = (app.dm(&alice, &bob).await, app.dm(&alice, &carol).await);
    let settings = "/api/users/me/notification-settings";

    // Push turned off.
    bob.patch(settings, json!({"push": false})).await;
    kept_back(&app, &mut service, &alice, dm, "push is off", carols).await;
    bob.patch(settings, json!({"push": true})).await;

    // Quiet hours around now (in Tokyo, whatever the time): the inbox fills, nothing is pushed.
    let tokyo = chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(9 * 3600).unwrap());
    let hh_mm = |t: chrono::DateTime<chrono::FixedOffset>| t.format("%H:%M").to_string();
    let quiet = json!({"start": hh_mm(tokyo - chrono::Duration::hours(1)), "end": hh_mm(tokyo + chrono::Duration::hours(1)), "time_zone": "Asia/Tokyo"});
    let (status, _) = bob.patch(settings, json!({"quiet_hours": quiet})).await;
    assert_eq!(status, StatusCode::OK);
    kept_back(&app, &mut service, &alice, dm, "in quiet hours", carols).await;
    let (_, inbox) = bob.get("/api/notifications/").await;
    assert!(inbox["unread_count"].as_i64().unwrap() >= 1, "the inbox still fills: {inbox}");
    bob.patch(settings, json!({"quiet_hours": null})).await;
    bob.post(&format!("/api/chat/conversations/{dm}/mark_read/"), json!({})).await;

    // Muted.
    bob.post(&format!("/api/chat/conversations/{dm}/mute/"), json!({})).await;
    kept_back(&app, &mut service, &alice, dm, "while muted", carols).await;
    bob.post(&format!("/api/chat/conversations/{dm}/unmute/"), json!({})).await;

    // Looking at the conversation (focus) in an open tab; a mention elsewhere still goes out.
    let room = alice.post("/api/chat/rooms/", json!({"title": "Team", "members": [bob.id]})).await.1;
    let room = room["id"].as_i64().unwrap();
    let mut bob_ws = app.ws(&bob.token).await;
    bob_ws.send(json!({"type": "focus", "conversation_id": room})).await;
    bob_ws.send(json!({"type": "ping"})).await;
    bob_ws.expect("pong").await;
    kept_back(&app, &mut service, &alice, room, "@bob look here", carols).await;
    bob_ws.send(json!({"type": "focus", "conversation_id": null})).await;
    bob_ws.send(json!({"type": "ping"})).await;
    while bob_ws.next().await["type"] != "pong" {}
    app.send_message(&alice, room, "@bob and now?").await;
    let push = service.next().await;
    assert_eq!((push["path"].as_str(), push["payload"]["type"].as_str()), (Some("/bob"), Some("mention")), "{push}");
    bob_ws.close().await;

    // Blocked.
    bob.post(&format!("/api/chat/users/{}/block/", alice.id), json!({})).await;
    kept_back(&app, &mut service, &alice, room, "@bob blocked", carols).await;
}

#[tokio::test]
async fn a_delayed_push_folds_the_conversation_and_a_read_cancels_it() {
    let mut service = PushService::start().await;
    let app = app_with_push(1500).await;
    let (alice, bob, carol) = (app.register("alice").await, app.register("bob").await, app.register("carol").await);
    service.subscribe(&bob, "/bob").await;
    service.subscribe(&carol, "/carol").await;
    let (dm, carols) = (app.dm(&alice, &bob).await, app.dm(&alice, &carol).await);

    app.send_message(&alice, dm, "one").await;
    app.send_message(&alice, dm, "two").await;
    let push = service.next().await;
    assert_eq!((push["path"].as_str(), push["payload"]["body"].as_str()), (Some("/bob"), Some("two")), "{push}");
    assert_eq!(push["payload"]["title"], "alice (2 new messages)", "one push for both");

    bob.post(&format!("/api/chat/conversations/{dm}/mark_read/"), json!({})).await;
    app.send_message(&alice, dm, "three").await;
    // Read once its notification exists (they are made in the background), within the delay.
    crate::helpers::eventually(WAIT, "a notification for \"three\"", || async {
        bob.get("/api/notifications/unread_count/").await.1["unread_count"] == 1
    })
    .await;
    let (status, _) = bob.post(&format!("/api/chat/conversations/{dm}/mark_read/"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    app.send_message(&alice, carols, "sentinel").await;
    let push = service.next().await;
    assert_eq!(push["path"], "/carol", "bob read it within the delay: no push: {push}");
}

/// The next push of `kind` (`payload.type`), skipping others; `None` when none comes within `ms`.
async fn push_of(service: &mut PushService, kind: &str, ms: u64) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(ms);
    loop {
        let line = tokio::time::timeout_at(deadline, service.lines.next_line()).await.ok()?.unwrap()?;
        let push: Value = serde_json::from_str(&line).unwrap();
        if push["payload"]["type"] == kind {
            return Some(push);
        }
    }
}

/// The next frame of `kind` on a socket, skipping others (acks, the call's message).
async fn frame(ws: &mut crate::helpers::Ws, kind: &str) -> Value {
    ws.next_matching(kind, |f| f["type"] == kind).await
}

#[tokio::test]
async fn an_incoming_call_rings_through_push_only_for_a_callee_without_an_open_app() {
    let mut service = PushService::start().await;
    let app = TestApp::spawn_with(|c| {
        c.push.allow_private_targets = true;
        c.calls.ring_timeout_secs = 30;
    })
    .await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    service.subscribe(&bob, "/bob-phone").await;
    let dm = app.dm(&alice, &bob).await;
    let mut caller = app.ws(&alice.token).await;
    let call = |media: &str| json!({"type": "call_invite", "conversation_id": dm, "media": media});

    // Bob has no tab open: his phone rings, urgently, for as long as the call rings.
    caller.send(call("video")).await;
    let invited = frame(&mut caller, "call_invited").await;
    let push = push_of(&mut service, "call", WAIT.as_millis() as u64).await.expect("the call rings through push");
    assert!(push.get("decrypt_error").is_none(), "{push}");
    let payload = &push["payload"];
    assert_eq!(
        (payload["title"].as_str(), payload["body"].as_str()),
        (Some("alice is calling"), Some("Incoming video call")),
        "{payload}"
    );
    assert_eq!((&payload["conversation_id"], &payload["call_id"]), (&json!(dm), &invited["call_id"]));
    assert_eq!(payload["url"], json!(format!("/#/c/{dm}")));
    assert_eq!(push["jwt_valid"], json!(true), "{push}");
    let headers = &push["headers"];
    assert_eq!((headers["urgency"].as_str(), headers["ttl"].as_str()), (Some("high"), Some("30")));
    assert_eq!(headers["topic"], json!(format!("parlor-call{dm}")));
    caller.send(json!({"type": "call_end", "call_id": invited["call_id"]})).await;
    frame(&mut caller, "call_ended").await;

    // With the app open, the app rings; no push.
    let mut bob_ws = app.ws(&bob.token).await;
    caller.send(call("voice")).await;
    let invited = frame(&mut caller, "call_invited").await;
    frame(&mut bob_ws, "call_incoming").await;
    assert_eq!(push_of(&mut service, "call", 1500).await, None, "rung in the open app, not pushed");
    caller.send(json!({"type": "call_end", "call_id": invited["call_id"]})).await;
    frame(&mut caller, "call_ended").await;
    drop(bob_ws);

    // Push turned off: nothing rings outside the app.
    let (status, body) = bob.patch("/api/users/me/notification-settings", json!({"push": false})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    caller.send(call("voice")).await;
    frame(&mut caller, "call_invited").await;
    assert_eq!(push_of(&mut service, "call", 1500).await, None, "push is off");
}
