//! Several nodes behind one Redis and one database behave as one server: users on different
//! nodes chat, type, read, react and edit; a room spread over three nodes gets every message
//! once, in order; membership changes, disabled users and ended sessions reach every node; and
//! when Redis loses messages (restarted, down when an event was published, or refusing
//! publishes while every node stays subscribed) the database repairs it. Every multi-node test lives under this folder: `presence` (nodes dying with
//! their users online), `shared` (rate limits, lockouts, tickets and webhooks shared through
//! Redis), `failover`, `files`, `calls`, `transcripts` (one hash chain from two writers),
//! `push` (one VAPID key); `harness` and `nodes` start them.

mod calls;
mod failover;
mod files;
pub mod harness;
pub mod nodes;
mod presence;
mod push;
mod shared;
mod transcripts;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, WAIT, Ws, eventually};
use harness::{Cluster, metric};

/// The next frame of `kind`, skipping others (acks, system messages...). Fails after WAIT.
async fn until(ws: &mut Ws, kind: &str) -> Value {
    ws.next_matching(kind, |f| f["type"] == kind).await
}

/// The next `n` chat messages whose content starts with `prefix`, other frames skipped.
async fn messages(ws: &mut Ws, prefix: &str, n: usize) -> Vec<Value> {
    let mut found = Vec::with_capacity(n);
    while found.len() < n {
        let frame = until(ws, "chat_message").await;
        if frame["content"].as_str().is_some_and(|c| c.starts_with(prefix)) {
            found.push(frame);
        }
    }
    found
}

/// Everything that arrives within `ms` (receipts, presence and notifications aside).
async fn drain(ws: &mut Ws, ms: u64) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(ms);
    let mut frames = Vec::new();
    while let Ok(frame) = tokio::time::timeout_at(deadline, ws.next()).await {
        frames.push(frame);
    }
    frames
}

fn contents(frames: &[Value]) -> Vec<&str> {
    frames.iter().map(|f| f["content"].as_str().unwrap()).collect()
}

/// Waits until the DM message's receipt says delivered: the recipient's node has written its
/// receipt event, so no later local event can fill a gap for it (tests of repairs need the
/// repair to be the only way).
async fn wait_delivered(app: &TestApp, sender: &TestUser, message: &Value) {
    eventually(WAIT, "the message is delivered", || async {
        let (status, body) =
            app.get(Some(&sender.token), &format!("/api/chat/messages/{}/receipts/", message["id"])).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        if body["status"] != "sent" { Ok(()) } else { Err(body) }
    })
    .await;
}

async fn room(app: &TestApp, owner: &TestUser, members: &[&TestUser]) -> i64 {
    let ids: Vec<i64> = members.iter().map(|u| u.id).collect();
    let (status, body) =
        app.post(Some(&owner.token), "/api/chat/rooms/", json!({"title": "Crew", "members": ids})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["id"].as_i64().unwrap()
}

#[tokio::test]
async fn users_on_different_nodes_chat_type_read_react_and_edit() {
    let Some(cluster) = Cluster::start(2).await else { return };
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let (alice, bob) = (a.register("alice").await, b.register("bob").await);
    let dm = a.dm(&alice, &bob).await;
    let mut alice_ws = a.ws(&alice.token).await;
    let mut bob_ws = b.ws(&bob.token).await;

    // A to B over the socket, B to A over REST.
    alice_ws.send(json!({"type": "chat_message", "conversation_id": dm, "content": "hi bob", "client_id": "c1"})).await;
    let got = until(&mut bob_ws, "chat_message").await;
    assert_eq!((got["content"].as_str(), got["sender_id"].as_i64()), (Some("hi bob"), Some(alice.id)), "{got}");
    let alices = got["message_id"].clone();
    let sent = b.send_message(&bob, dm, "hi alice").await;
    let got = until(&mut alice_ws, "chat_message").await;
    if got["content"] == "hi bob" {
        // Her own message's echo came first.
        assert_eq!(until(&mut alice_ws, "chat_message").await["content"], "hi alice");
    } else {
        assert_eq!(got["content"], "hi alice", "{got}");
    }

    bob_ws.send(json!({"type": "typing_indicator", "conversation_id": dm, "is_typing": true})).await;
    assert_eq!(until(&mut alice_ws, "typing_indicator").await["user_id"], bob.id);

    alice_ws.send(json!({"type": "message_read", "conversation_id": dm, "message_ids": [sent["id"]]})).await;
    let read = until(&mut bob_ws, "messages_read").await;
    assert_eq!(read["user_id"], alice.id, "{read}");

    let (status, body) =
        b.post(Some(&bob.token), &format!("/api/chat/messages/{alices}/reactions/"), json!({"emoji": "👍"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let reacted = until(&mut alice_ws, "reaction_updated").await;
    assert_eq!((reacted["user_id"].as_i64(), reacted["emoji"].as_str()), (Some(bob.id), Some("👍")));

    let (status, body) =
        a.patch(Some(&alice.token), &format!("/api/chat/messages/{alices}/"), json!({"content": "hi Bob"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let edited = until(&mut bob_ws, "message_edited").await;
    assert_eq!((edited["message_id"].clone(), edited["content"].as_str()), (alices, Some("hi Bob")));
}

#[tokio::test]
async fn a_room_spread_over_three_nodes_gets_every_message_once_in_order() {
    let Some(cluster) = Cluster::start(3).await else { return };
    let nodes = &cluster.nodes;
    let mut users = Vec::new();
    for (i, node) in nodes.iter().enumerate() {
        users.push(node.register(&format!("user{i}")).await);
    }
    let crew = room(&nodes[0], &users[0], &[&users[1], &users[2]]).await;
    // Each socket resumes from the room's position, as the SDK does with its cursors: the order
    // guarantee starts there (protocol §5.5). Without a cursor it would start at the socket's
    // first live event, which concurrent writers may overtake.
    let (status, now) = nodes[0].get(Some(&users[0].token), &format!("/api/chat/conversations/{crew}/")).await;
    assert_eq!(status, StatusCode::OK, "{now}");
    let cursor = now["last_event_seq"].as_i64().unwrap();
    let mut sockets = Vec::new();
    for (node, user) in nodes.iter().zip(&users) {
        let mut ws = node.ws(&user.token).await;
        ws.send(json!({"type": "resume", "conversations": {crew.to_string(): cursor}})).await;
        until(&mut ws, "resumed").await;
        sockets.push(ws);
    }

    // Everyone writes at once, each from their own node.
    const EACH: usize = 6;
    let writes = nodes.iter().zip(&users).map(|(node, user)| async move {
        for i in 0..EACH {
            node.send_message(user, crew, &format!("m-{}-{i}", user.username)).await;
        }
    });
    futures_util::future::join_all(writes).await;

    for ws in &mut sockets {
        let got = messages(ws, "m-", EACH * nodes.len()).await;
        let seqs: Vec<i64> = got.iter().map(|f| f["seq"].as_i64().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "in order, once each: {seqs:?}");
        for user in &users {
            let theirs: Vec<&str> =
                contents(&got).into_iter().filter(|c| c.starts_with(&format!("m-{}-", user.username))).collect();
            let expected: Vec<String> = (0..EACH).map(|i| format!("m-{}-{i}", user.username)).collect();
            assert_eq!(theirs, expected, "every message of {}, in the order sent", user.username);
        }
        let late = drain(ws, 500).await;
        assert!(late.iter().all(|f| f["type"] != "chat_message"), "no duplicates: {late:?}");
    }
}

#[tokio::test]
async fn a_member_removed_on_another_node_stops_receiving() {
    let Some(cluster) = Cluster::start(2).await else { return };
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let (alice, bob, carol) = (a.register("alice").await, a.register("bob").await, a.register("carol").await);
    let crew = room(a, &alice, &[&bob, &carol]).await;
    let mut bob_ws = b.ws(&bob.token).await;
    let mut carol_ws = b.ws(&carol.token).await;
    a.send_message(&alice, crew, "m-hello").await;
    assert_eq!(contents(&messages(&mut bob_ws, "m-", 1).await), ["m-hello"], "node B knows the members");
    messages(&mut carol_ws, "m-", 1).await;

    let (status, body) =
        a.delete(Some(&alice.token), &format!("/api/chat/conversations/{crew}/members/{}/", bob.id)).await;
    assert!(status.is_success(), "{status} {body}");
    drain(&mut bob_ws, 300).await;

    a.send_message(&alice, crew, "m-secret").await;
    assert_eq!(contents(&messages(&mut carol_ws, "m-", 1).await), ["m-secret"]);
    let leaked = drain(&mut bob_ws, 500).await;
    assert!(leaked.iter().all(|f| f["content"] != "m-secret"), "{leaked:?}");
}

#[tokio::test]
async fn an_admin_disabling_a_user_closes_their_socket_on_another_node() {
    let Some(cluster) = Cluster::start(2).await else { return };
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let (alice, admin) = (b.register("alice").await, a.register("admin").await);
    let (status, body) =
        a.server(Method::PATCH, &format!("/api/server/accounts/{}/", admin.id), json!({"admin": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut alice_ws = b.ws(&alice.token).await;

    let (status, _) = a.post(Some(&admin.token), &format!("/api/admin/users/{}/disable/", alice.id), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let close = alice_ws.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 4003, "{close:?}");
}

#[tokio::test]
async fn a_reused_refresh_token_closes_its_sessions_sockets_on_every_node() {
    let Some(cluster) = Cluster::start(2).await else { return };
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let alice = a.register("alice").await;
    let (status, rotated) = a.post(None, "/api/auth/refresh", json!({"refresh": alice.refresh})).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let mut on_b = b.ws(rotated["access"].as_str().unwrap()).await;

    let (status, _) = a.post(None, "/api/auth/refresh", json!({"refresh": alice.refresh})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let close = on_b.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 4001, "{close:?}");
}

#[tokio::test]
async fn messages_sent_while_redis_restarts_arrive_once_in_order_without_reconnecting() {
    let Some(mut cluster) = Cluster::start(2).await else { return };
    let (alice, bob) = (cluster.nodes[0].register("alice").await, cluster.nodes[1].register("bob").await);
    let dm = cluster.nodes[0].dm(&alice, &bob).await;
    let mut bob_ws = cluster.nodes[1].ws(&bob.token).await;
    let before = cluster.nodes[0].send_message(&alice, dm, "m-before").await;
    assert_eq!(contents(&messages(&mut bob_ws, "m-", 1).await), ["m-before"]);
    wait_delivered(&cluster.nodes[0], &alice, &before).await;

    cluster.redis.stop().await;
    for i in 0..5 {
        // Stored and acknowledged while the bus is down.
        cluster.nodes[0].send_message(&alice, dm, &format!("m-during-{i}")).await;
    }
    cluster.redis.restart().await;
    cluster.wait_connected().await;
    cluster.nodes[0].send_message(&alice, dm, "m-after").await;

    let got = messages(&mut bob_ws, "m-", 6).await;
    assert_eq!(contents(&got), ["m-during-0", "m-during-1", "m-during-2", "m-during-3", "m-during-4", "m-after"]);
    let late = drain(&mut bob_ws, 500).await;
    assert!(late.iter().all(|f| f["type"] != "chat_message"), "no duplicates: {late:?}");
    assert!(metric(&cluster.nodes[1], "parlor_bus_repaired_total").await >= 1, "the log filled the gap");
}

#[tokio::test]
async fn an_event_published_while_redis_is_down_still_arrives() {
    let Some(mut cluster) = Cluster::start(2).await else { return };
    let (alice, bob) = (cluster.nodes[0].register("alice").await, cluster.nodes[1].register("bob").await);
    let dm = cluster.nodes[0].dm(&alice, &bob).await;
    let mut bob_ws = cluster.nodes[1].ws(&bob.token).await;
    let first = cluster.nodes[0].send_message(&alice, dm, "m-first").await;
    assert_eq!(contents(&messages(&mut bob_ws, "m-", 1).await), ["m-first"]);
    wait_delivered(&cluster.nodes[0], &alice, &first).await;

    // The last event of the conversation, and no later one to reveal the gap.
    cluster.redis.stop().await;
    let started = tokio::time::Instant::now();
    cluster.nodes[0].send_message(&alice, dm, "m-lost").await;
    assert_eq!(contents(&messages(&mut bob_ws, "m-", 1).await), ["m-lost"]);
    assert!(started.elapsed() < WAIT);
    let late = drain(&mut bob_ws, 300).await;
    assert!(late.iter().all(|f| f["type"] != "chat_message"), "no duplicates: {late:?}");
}

#[tokio::test]
async fn last_events_lost_while_every_node_stays_subscribed_arrive_by_the_periodic_poll() {
    let Some(cluster) = Cluster::start(2).await else { return };
    let (a, b) = (&cluster.nodes[0], &cluster.nodes[1]);
    let alice = a.register("alice").await;
    let (bob, carol) = (b.register("bob").await, b.register("carol").await);
    // Three conversations with listeners on node B, so one poll asks about all of them at once.
    let (dm_bob, dm_carol) = (a.dm(&alice, &bob).await, a.dm(&alice, &carol).await);
    let crew = room(a, &alice, &[&bob, &carol]).await;
    let mut bob_ws = b.ws(&bob.token).await;
    let mut carol_ws = b.ws(&carol.token).await;
    for conversation in [dm_bob, dm_carol, crew] {
        let first = a.send_message(&alice, conversation, "first").await;
        wait_delivered(a, &alice, &first).await;
    }
    messages(&mut bob_ws, "first", 2).await;
    messages(&mut carol_ws, "first", 2).await;
    let subscribers = cluster.redis.subscriber_ids().await;
    assert_eq!(subscribers.len(), 2, "both nodes are on the bus");
    let repaired = metric(b, "parlor_bus_repaired_total").await;

    // Each conversation's last event is lost by the bus, and no later one reveals the gap.
    cluster.redis.refuse_publish(true).await;
    for (conversation, content) in [(dm_bob, "lost-bob"), (dm_carol, "lost-carol"), (crew, "lost-crew")] {
        a.send_message(&alice, conversation, content).await;
    }
    let (to_bob, to_carol) = (messages(&mut bob_ws, "lost-", 2).await, messages(&mut carol_ws, "lost-", 2).await);
    let mut got = [contents(&to_bob), contents(&to_carol)];
    got.iter_mut().for_each(|c| c.sort_unstable());
    assert_eq!(got, [["lost-bob", "lost-crew"], ["lost-carol", "lost-crew"]], "each conversation's lost event");
    assert!(metric(b, "parlor_bus_repaired_total").await >= repaired + 3, "the log filled all three");
    assert_eq!(cluster.redis.subscriber_ids().await, subscribers, "no node subscribed again: the periodic poll did it");
    let late = drain(&mut bob_ws, 300).await;
    assert!(late.iter().all(|f| f["type"] != "chat_message"), "no duplicates: {late:?}");
    cluster.redis.refuse_publish(false).await;
}
