//! Health checks, Prometheus metrics and logs, as an operator sees them: `/readyz` through a
//! shutdown, `/metrics` numbers that move with real traffic, the metrics token, and JSON logs of
//! the real binary that never carry a secret or a message's content.

use serde_json::{Value, json};

use crate::helpers::{Process, TestApp, WAIT, Ws, eventually, temp_path};

/// The value of one sample (`name` with its labels exactly as exposed), if present.
pub(crate) fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.split(' ').next()?.parse().ok())
}

pub(crate) async fn scrape(app: &TestApp) -> String {
    let response = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let kind = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("application/openmetrics-text"), "content type {kind}");
    response.text().await.unwrap()
}

/// Scrapes until `series` has `want`, failing after [`WAIT`] with what it had.
async fn until(app: &TestApp, series: &str, want: f64) -> String {
    eventually(WAIT, &format!("{series} becomes {want}"), || async {
        let text = scrape(app).await;
        if sample(&text, series) == Some(want) { Ok(text) } else { Err(text) }
    })
    .await
}

#[tokio::test]
async fn readyz_is_ready_then_refuses_traffic_before_shutdown_closes_sockets() {
    let app = TestApp::spawn_with(|c| c.observability.shutdown_delay_ms = 1500).await;
    let (status, body) = app.get(None, "/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({"status": "ready"}));

    let alice = app.register("alice").await;
    let mut ws = app.ws(&alice.token).await;
    let (url, http) = (app.url("/readyz"), app.http.clone());
    let stopping = tokio::spawn(app.stop());

    // Not ready at once, while still serving: open sockets and new requests keep working.
    let body = eventually(WAIT, "readyz turns 503", || async {
        let response = http.get(&url).send().await.unwrap();
        if response.status() == 503 { Some(response.json::<Value>().await.unwrap()) } else { None }
    })
    .await;
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["reasons"], json!(["shutting_down"]));
    ws.send(json!({"type": "ping"})).await;
    assert_eq!(ws.next().await["type"], "pong", "the socket stays open while the balancer drains");

    // Then the server goes: the socket is told so.
    let close = ws.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 1001);
    stopping.await.unwrap();
}

#[tokio::test]
async fn metrics_move_with_connections_frames_and_deliveries() {
    let app = TestApp::spawn().await;
    let text = scrape(&app).await;
    for family in [
        "parlor_websocket_connections",
        "parlor_connected_users",
        "parlor_events_in",
        "parlor_events_out",
        "parlor_delivery_latency_seconds",
        "parlor_db_latency_seconds",
        "parlor_send_queue_depth",
        "parlor_send_queue_depth_max",
        "parlor_write_queue_depth",
        "parlor_slow_consumers_dropped",
    ] {
        assert!(text.contains(&format!("# HELP {family} ")), "no HELP for {family}:\n{text}");
    }
    assert_eq!(sample(&text, "parlor_websocket_connections"), Some(0.0));
    assert_eq!(sample(&text, "parlor_delivery_latency_seconds_count"), Some(0.0));

    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    let mut alice_ws = app.ws(&alice.token).await;
    let mut bob_ws = app.ws(&bob.token).await;
    let text = until(&app, "parlor_websocket_connections", 2.0).await;
    assert_eq!(sample(&text, "parlor_connected_users"), Some(2.0));
    let out_before = sample(&text, "parlor_events_out_total").unwrap();
    let commits_before = sample(&text, r#"parlor_db_latency_seconds_count{op="write_batch"}"#).unwrap();

    alice_ws
        .send(json!({"type": "chat_message", "conversation_id": conversation, "content": "hi", "client_id": "c1"}))
        .await;
    alice_ws.send_text("not json").await;
    bob_ws.expect("chat_message").await;

    // Alice's ack and echo and Bob's copy; each device's copy is one delivery.
    let text = until(&app, "parlor_delivery_latency_seconds_count", 2.0).await;
    assert_eq!(sample(&text, r#"parlor_events_in_total{type="chat_message"}"#), Some(1.0), "{text}");
    assert_eq!(sample(&text, r#"parlor_events_in_total{type="invalid"}"#), Some(1.0), "{text}");
    assert_eq!(sample(&text, r#"parlor_events_in_total{type="ping"}"#), Some(0.0), "{text}");
    assert!(sample(&text, "parlor_events_out_total").unwrap() >= out_before + 3.0, "{text}");
    assert_eq!(sample(&text, r#"parlor_delivery_latency_seconds_bucket{le="+Inf"}"#), Some(2.0), "{text}");
    assert!(sample(&text, r#"parlor_db_latency_seconds_count{op="write_batch"}"#).unwrap() > commits_before);
    let registered = sample(&text, r#"parlor_http_requests_total{route="/api/auth/register",status="2xx"}"#);
    assert_eq!(registered, Some(2.0), "{text}");
    assert!(text.contains("# HELP parlor_http_requests "), "{text}");
    let upgrades = sample(&text, r#"parlor_http_requests_total{route="/ws",status="1xx"}"#);
    assert_eq!(upgrades, Some(2.0), "{text}");

    app.get(None, "/api/users/me").await;
    app.get(None, "/no/such/route").await;
    let text = scrape(&app).await;
    assert_eq!(sample(&text, r#"parlor_http_requests_total{route="/api/users/me",status="4xx"}"#), Some(1.0));
    assert_eq!(sample(&text, r#"parlor_http_requests_total{route="unmatched",status="4xx"}"#), Some(1.0));

    bob_ws.close().await;
    let text = until(&app, "parlor_websocket_connections", 1.0).await;
    assert_eq!(sample(&text, "parlor_connected_users"), Some(1.0));
    alice_ws.close().await;
}

#[tokio::test]
async fn history_pages_are_timed_in_the_server() {
    let app = TestApp::spawn().await;
    let text = scrape(&app).await;
    assert!(text.contains("# HELP parlor_history_page_seconds "), "{text}");
    assert_eq!(sample(&text, "parlor_history_page_seconds_count"), Some(0.0), "{text}");
    // Buckets fine enough to read a 1 ms p99 off an edge.
    for le in ["0.0001", "0.0009", "0.001", "0.1"] {
        let series = format!(r#"parlor_history_page_seconds_bucket{{le="{le}"}}"#);
        assert_eq!(sample(&text, &series), Some(0.0), "{series} in\n{text}");
    }

    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let conversation = app.dm(&alice, &bob).await;
    app.send_message(&alice, conversation, "hello").await;
    let path = format!("/api/chat/conversations/{conversation}/messages");
    let (status, page) = bob.get(&format!("{path}/?limit=50")).await;
    assert_eq!(status, 200, "{page}");
    let (status, page) = alice.get(&format!("{path}?before=2")).await;
    assert_eq!(status, 200, "{page}");
    // Not pages: a refusal, and a send to the same route.
    assert_eq!(carol.get(&path).await.0, 404);
    assert_eq!(alice.post(&path, json!({"content": "again"})).await.0, 201);

    let text = until(&app, "parlor_history_page_seconds_count", 2.0).await;
    assert_eq!(sample(&text, r#"parlor_history_page_seconds_bucket{le="+Inf"}"#), Some(2.0), "{text}");
    let sum = sample(&text, "parlor_history_page_seconds_sum").unwrap();
    assert!(sum > 0.0 && sum < 10.0, "two pages took {sum} s in all:\n{text}");
}

#[tokio::test]
async fn a_slow_consumer_cut_off_is_counted() {
    let app = TestApp::spawn_with(|c| c.limits.send_queue = 8).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    // A connection takes no live events until its first frame or half a second: Bob's queue
    // fills while he says nothing, from messages sent together (so they commit in a few batches).
    let mut bob_ws = app.ws(&bob.token).await;
    let path = format!("/api/chat/conversations/{conversation}/messages/");
    let sends = (0..20).map(|i| alice.post(&path, json!({"content": format!("m{i}")})));
    for (status, body) in futures_util::future::join_all(sends).await {
        assert_eq!(status, 201, "{body}");
    }
    let close = bob_ws.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 4008);
    until(&app, "parlor_slow_consumers_dropped_total", 1.0).await;
}

#[tokio::test]
async fn the_metrics_token_is_required_when_set_and_metrics_can_be_off() {
    let app =
        TestApp::spawn_with(|c| c.observability.metrics_token = parlor_server::config::Secret::new("scrape-me")).await;
    let get = |token: Option<&'static str>| {
        let req = app.http.get(app.url("/metrics"));
        let req = match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        async move { req.send().await.unwrap() }
    };
    let missing = get(None).await;
    assert_eq!(missing.status(), 401);
    let body: Value = missing.json().await.unwrap();
    assert_eq!(body["code"], "unauthorized", "{body}");
    assert_eq!(get(Some("scrape-you")).await.status(), 401);
    let ok = get(Some("scrape-me")).await;
    assert_eq!(ok.status(), 200);
    assert!(ok.text().await.unwrap().contains("# HELP parlor_websocket_connections "));
    // The token guards metrics only; health checks stay open to the balancer.
    assert_eq!(app.get(None, "/readyz").await.0, 200);

    let off = TestApp::spawn_with(|c| c.observability.metrics = false).await;
    assert_eq!(off.get(None, "/metrics").await.0, 404);
    assert_eq!(off.get(None, "/healthz").await.0, 200);
}

#[tokio::test]
async fn json_logs_at_debug_never_carry_secrets_or_message_contents() {
    let (_dir, data) = temp_path();
    let dir = data.to_str().unwrap();
    let env = [("PARLOR_LOG", "debug"), ("PARLOR_OBSERVABILITY__LOG_FORMAT", "json")];
    let (server, log) = Process::start_logged(&["serve", "--bind", "127.0.0.1:0", "--data-dir", dir], &env).await;
    let app = server.app_view();
    let password = "pw-Vq8zLr3mXt0K";
    let content = "content-9fJ2kQ7wZx4B";

    let (status, registered) =
        app.post(None, "/api/auth/register", json!({"username": "alice", "password": password})).await;
    assert_eq!(status, 201, "{registered}");
    let (status, bob) = app.post(None, "/api/auth/register", json!({"username": "bob", "password": password})).await;
    assert_eq!(status, 201, "{bob}");
    let (status, login) = app.post(None, "/api/auth/token", json!({"username": "alice", "password": password})).await;
    assert_eq!(status, 200, "{login}");
    let (status, refreshed) = app.post(None, "/api/auth/refresh", json!({"refresh": login["refresh"]})).await;
    assert_eq!(status, 200, "{refreshed}");
    let access = refreshed["access"].as_str().unwrap();
    let (status, dm) = app.post(Some(access), "/api/chat/conversations/", json!({"user_id": bob["user"]["id"]})).await;
    assert!(status.is_success(), "{dm}");

    let bob_token = bob["access"].as_str().unwrap();
    let mut bob_ws = Ws::connect(&format!("ws://{}/ws/?token={bob_token}", server.addr)).await;
    let path = format!("/api/chat/conversations/{}/messages/", dm["id"]);
    let (status, sent) = app.post(Some(access), &path, json!({"content": content})).await;
    assert_eq!(status, 201, "{sent}");
    assert_eq!(bob_ws.expect("chat_message").await["content"], content);
    let (status, _) = app.get(access, &path).await;
    assert_eq!(status, 200);
    // A spent refresh token presented again ends its session, and the log says so.
    let (status, _) = app.post(None, "/api/auth/refresh", json!({"refresh": login["refresh"]})).await;
    assert_eq!(status, 401);
    bob_ws.close().await;
    assert!(server.terminate().await.success());

    // The process has exited; its last lines may still be in the pipe on a busy machine.
    eventually(3 * WAIT, "a `stopped` line", || async {
        log.lock().unwrap().iter().any(|l| l.contains("\"stopped\""))
    })
    .await;
    let lines = log.lock().unwrap().clone();
    assert!(lines.len() > 20, "debug logging is on: {} lines", lines.len());
    assert!(lines.iter().any(|l| l.contains("/api/auth/token")), "requests are logged by path");
    let reuse = lines.iter().find(|l| l.contains("refresh token reused: session revoked")).expect("reuse is logged");
    assert!(reuse.contains("WARN") && reuse.contains("\"user_id\""), "a warning naming the user: {reuse}");
    let secrets = [
        ("the password", password),
        ("the message content", content),
        ("registration's access token", registered["access"].as_str().unwrap()),
        ("registration's refresh token", registered["refresh"].as_str().unwrap()),
        ("the login's refresh token", login["refresh"].as_str().unwrap()),
        ("the refreshed access token", access),
        ("the refreshed refresh token", refreshed["refresh"].as_str().unwrap()),
        ("the socket's token", bob_token),
    ];
    for line in &lines {
        let parsed: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(parsed["level"].is_string() && parsed["timestamp"].is_string(), "{line}");
        for (what, secret) in secrets {
            assert!(!line.contains(secret), "{what} was logged: {line}");
        }
    }
}
