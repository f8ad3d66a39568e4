//! What nodes sharing Redis share besides presence: rate-limit buckets (a burst spent on one
//! node is spent on all) and lockouts, WebSocket tickets (issued on one node, redeemed once on any) and
//! webhook delivery (one node at a time delivers, each event once; another takes over when it
//! dies).

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::cluster::nodes::{Doomed, NODE_LEASE_SECS, Redis, node};
use crate::helpers::{API_KEY, TestApp, Ws, eventually};
use crate::webhooks::receiver::{Mode, Receiver};
use parlor_server::rate_limit::Rate;

/// Sends a message; the status and `Retry-After`.
async fn send(app: &TestApp, token: &str, conversation: i64, content: &str) -> (StatusCode, Option<u64>) {
    let response = app
        .http
        .post(app.url(&format!("/api/chat/conversations/{conversation}/messages/")))
        .bearer_auth(token)
        .json(&json!({"content": content}))
        .send()
        .await
        .unwrap();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap());
    (response.status(), retry_after)
}

#[tokio::test]
async fn a_burst_spent_on_one_node_is_spent_on_every_node() {
    let Some(redis) = Redis::start().await else { return };
    let shared = tempfile::tempdir().unwrap();
    let slow = |c: &mut parlor_server::config::Config| c.rate_limits.sends = Rate { per_minute: 2, burst: 3 };
    let a = node(shared.path(), &redis, slow).await;
    let b = node(shared.path(), &redis, slow).await;
    let (alice, bob) = (a.register("alice").await, a.register("bob").await);
    let dm = a.dm(&alice, &bob).await;

    for n in 0..3 {
        let on = if n % 2 == 0 { &a } else { &b };
        assert_eq!(send(on, &alice.token, dm, "burst").await.0, StatusCode::CREATED, "message {n}");
    }
    for on in [&a, &b] {
        let (status, retry_after) = send(on, &alice.token, dm, "one too many").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "refused on {}", on.addr);
        let secs = retry_after.expect("a Retry-After header");
        assert!((1..=30).contains(&secs), "a token comes back every 30 s: Retry-After {secs}");
    }
    // Bob's bucket is his own.
    assert_eq!(send(&b, &bob.token, dm, "hi").await.0, StatusCode::CREATED);
}

#[tokio::test]
async fn an_address_locked_out_for_wrong_api_keys_on_one_node_is_locked_out_on_every_node() {
    let Some(redis) = Redis::start().await else { return };
    let shared = tempfile::tempdir().unwrap();
    let strict = |c: &mut parlor_server::config::Config| {
        c.rate_limits.failed_api_keys_per_ip = Rate { per_minute: 1, burst: 2 };
        c.rate_limits.client_ip_header = "x-forwarded-for".into();
    };
    let a = node(shared.path(), &redis, strict).await;
    let b = node(shared.path(), &redis, strict).await;
    let call = |on: &TestApp, key: &str, from: &str| {
        let request =
            on.http.get(on.url("/api/server/users/u-1")).header("x-api-key", key).header("x-forwarded-for", from);
        async move { request.send().await.unwrap().status() }
    };
    for guess in ["guess-1", "guess-2"] {
        assert_eq!(call(&a, guess, "203.0.113.7").await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(call(&a, "guess-3", "203.0.113.7").await, StatusCode::TOO_MANY_REQUESTS, "locked out on A");
    // The next guess goes to B, and happens to be right: refused before it is compared.
    assert_eq!(call(&b, API_KEY, "203.0.113.7").await, StatusCode::TOO_MANY_REQUESTS, "locked out on B too");
    assert_eq!(call(&b, API_KEY, "10.0.0.5").await, StatusCode::NOT_FOUND, "another address is served");
}

#[tokio::test]
async fn rate_limits_fall_back_to_the_node_when_redis_is_gone() {
    let Some(redis) = Redis::start().await else { return };
    let shared = tempfile::tempdir().unwrap();
    let a = node(shared.path(), &redis, |c| c.rate_limits.sends = Rate { per_minute: 2, burst: 2 }).await;
    let (alice, bob) = (a.register("alice").await, a.register("bob").await);
    let dm = a.dm(&alice, &bob).await;
    drop(redis);
    // Not everyone refused: this node's own buckets take over, and still limit.
    assert_eq!(send(&a, &alice.token, dm, "one").await.0, StatusCode::CREATED);
    assert_eq!(send(&a, &alice.token, dm, "two").await.0, StatusCode::CREATED);
    assert_eq!(send(&a, &alice.token, dm, "three").await.0, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_ticket_from_one_node_opens_a_socket_on_another_once() {
    let Some(redis) = Redis::start().await else { return };
    let shared = tempfile::tempdir().unwrap();
    let a = node(shared.path(), &redis, |_| {}).await;
    let b = node(shared.path(), &redis, |_| {}).await;
    let alice = a.register("alice").await;

    let (status, body) = a.post(Some(&alice.token), "/api/auth/ws-ticket", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ticket = body["ticket"].as_str().unwrap().to_owned();
    let ws = Ws::connect(&format!("ws://{}/ws/?ticket={ticket}", b.addr)).await;
    assert_eq!(ws.hello["user_id"], alice.id);
    for (name, app) in [("b", &b), ("a", &a)] {
        let (status, body) = app.ws_refused(&format!("/ws/?ticket={ticket}")).await;
        assert_eq!(status, 401, "second use on {name}: {body}");
    }
    // Tickets still expire.
    let (_, body) = a.post(Some(&alice.token), "/api/auth/ws-ticket", json!({})).await;
    let mut conn = redis.client().await;
    let ttl_ms: i64 = redis::cmd("PTTL")
        .arg(format!("parlor:ticket:{}", sha256_hex(body["ticket"].as_str().unwrap())))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((1..=30_000).contains(&ttl_ms), "kept at most websocket.ticket_ttl_secs: {ttl_ms} ms");
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn fast_webhooks(c: &mut parlor_server::config::Config) {
    c.webhooks.allow_private_targets = true;
    c.webhooks.retry_initial_ms = 20;
    c.webhooks.retry_max_ms = 100;
    c.webhooks.poll_ms = 100;
}

#[tokio::test]
async fn one_node_delivers_each_webhook_event_once_and_another_takes_over_when_it_dies() {
    let Some(redis) = Redis::start().await else { return };
    let shared = tempfile::tempdir().unwrap();
    // The doomed node starts first, so it holds the delivery lease.
    let leader = Doomed::spawn(shared.path(), &redis, fast_webhooks).await;
    let conn = redis.client().await;
    let holder = || {
        let mut conn = conn.clone();
        async move {
            let holder: Option<String> =
                redis::cmd("GET").arg("parlor:leader:webhooks").query_async(&mut conn).await.unwrap();
            holder
        }
    };
    eventually(Duration::from_secs(5), "a node holds the webhook lease", || async { holder().await.is_some() }).await;
    let first_holder = holder().await;
    let a = node(shared.path(), &redis, fast_webhooks).await;
    let b = node(shared.path(), &redis, fast_webhooks).await;
    let receiver = Receiver::start(Mode::Accept).await;
    let (status, created) = a
        .server(Method::POST, "/api/server/webhooks", json!({"url": receiver.url(), "events": ["message.created"]}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (alice, bob) = (a.register("alice").await, a.register("bob").await);
    let dm = a.dm(&alice, &bob).await;
    for n in 0..6 {
        let on = if n % 2 == 0 { &a } else { &b };
        on.send_message(&alice, dm, &format!("before {n}")).await;
    }
    receiver.wait_delivered(6).await;
    // Recorded too (a crash between the answer and the record would send the last one again,
    // which is at-least-once delivery working, not two nodes delivering).
    let hook = created["id"].as_i64().unwrap();
    eventually(Duration::from_secs(5), "six deliveries recorded", || async {
        let (_, log) =
            a.server(Method::GET, &format!("/api/server/webhooks/{hook}/deliveries?limit=100"), json!(null)).await;
        log["results"].as_array().is_some_and(|r| r.len() >= 6)
    })
    .await;

    let killed = Instant::now();
    leader.kill();
    for n in 0..4 {
        let on = if n % 2 == 0 { &b } else { &a };
        on.send_message(&alice, dm, &format!("after {n}")).await;
    }
    let delivered = receiver.wait_delivered(10).await;
    let took = killed.elapsed();
    assert!(
        took < Duration::from_secs(NODE_LEASE_SECS) + Duration::from_secs(3),
        "another node took over within the lease: {took:?}"
    );
    // Two more nodes delivering at once would show as repeats; give them the chance.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let all = receiver.requests();
    let ids: Vec<i64> = all.iter().map(|r| r.header("x-parlor-delivery").parse().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "each event once, in order: {ids:?}");
    assert_eq!(delivered.len(), 10, "{ids:?}");
    let new_holder = holder().await;
    assert!(new_holder.is_some() && new_holder != first_holder, "the lease moved to a live node");
}
