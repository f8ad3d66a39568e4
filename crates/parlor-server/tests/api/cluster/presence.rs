//! Presence across nodes sharing Redis: a user connected to one node is online on every node
//! (and not notified of messages there); they go offline everywhere after their last socket
//! closes; a node that dies without a goodbye takes its users offline within the lease bound.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cluster::nodes::{Doomed, GRACE_MS, NODE_LEASE_SECS, Redis, SYNC_MS, node};
use crate::helpers::{TestApp, TestUser, Ws, eventually};

/// `viewer`'s view of `target`'s status on `app`.
async fn status(app: &TestApp, viewer: &TestUser, target: &TestUser) -> Value {
    let (status, body) = app.get(Some(&viewer.token), &format!("/api/chat/users/{}/status/", target.id)).await;
    assert!(status.is_success(), "{status} {body}");
    body
}

async fn wait_online(app: &TestApp, viewer: &TestUser, target: &TestUser, online: bool, within: Duration) -> Value {
    let what = format!("{} seen as online={online} from {}", target.username, app.addr);
    eventually(within, &what, || async { status(app, viewer, target).await["is_online"] == online }).await;
    status(app, viewer, target).await
}

/// The next `user_status_change` about `user`, skipping everything else.
async fn status_change(ws: &mut Ws, user: i64) -> Value {
    let what = format!("a user_status_change about user {user}");
    ws.next_matching(&what, |f| f["type"] == "user_status_change" && f["user_id"] == user).await
}

#[tokio::test]
async fn a_user_on_one_node_is_online_on_every_node_until_their_last_socket_closes() {
    let Some(redis) = Redis::start().await else { return };
    let shared = tempfile::tempdir().unwrap();
    let a = node(shared.path(), &redis, |_| {}).await;
    let b = node(shared.path(), &redis, |_| {}).await;
    let (alice, bob) = (a.register("alice").await, a.register("bob").await);
    let dm = a.dm(&alice, &bob).await;
    assert_eq!(status(&a, &alice, &bob).await["is_online"], false);

    // Alice watches on node B, where bob connects: B announces him, once.
    let mut alice_ws = b.ws(&alice.token).await.watching();
    let bob_ws = b.ws(&bob.token).await;
    assert_eq!(status_change(&mut alice_ws, bob.id).await["is_online"], true);
    let within = Duration::from_secs(5);
    wait_online(&a, &alice, &bob, true, within).await;
    assert_eq!(status(&b, &alice, &bob).await["last_seen"], Value::Null);

    // Node A does not notify bob of a message while he is online on B.
    a.send_message(&alice, dm, "while you are here").await;

    // His last socket closes: offline everywhere after the grace period, announced once.
    let closed = Instant::now();
    bob_ws.close().await;
    let offline = status_change(&mut alice_ws, bob.id).await;
    assert_eq!(offline["is_online"], false, "{offline}");
    assert!(closed.elapsed() >= Duration::from_millis(GRACE_MS), "not before the grace period");
    let seen = wait_online(&a, &alice, &bob, false, within).await;
    assert!(seen["last_seen"].is_string(), "{seen}");
    alice_ws.expect_quiet(GRACE_MS + 3 * SYNC_MS).await;

    // Now a message notifies him: the first one did not (the folded count says one message).
    a.send_message(&alice, dm, "while you are away").await;
    eventually(within, "a notification for bob", || async {
        let inbox = a.get(Some(&bob.token), "/api/notifications/").await.1;
        inbox["results"].as_array().is_some_and(|r| !r.is_empty())
    })
    .await;
    let inbox = a.get(Some(&bob.token), "/api/notifications/").await.1;
    let n = &inbox["results"][0];
    assert_eq!((n["count"].clone(), n["preview"].clone()), (json!(1), json!("while you are away")), "{inbox}");
}

#[tokio::test]
async fn a_reconnect_to_another_node_within_the_grace_period_does_not_flicker() {
    let Some(redis) = Redis::start().await else { return };
    let shared = tempfile::tempdir().unwrap();
    let a = node(shared.path(), &redis, |_| {}).await;
    let b = node(shared.path(), &redis, |_| {}).await;
    let (alice, bob) = (a.register("alice").await, a.register("bob").await);
    a.dm(&alice, &bob).await;
    let mut alice_ws = a.ws(&alice.token).await.watching();
    let bob_on_a = a.ws(&bob.token).await;
    assert_eq!(status_change(&mut alice_ws, bob.id).await["is_online"], true);

    // The load balancer sends his reconnect to B: neither node announces anything.
    bob_on_a.close().await;
    let bob_on_b = b.ws(&bob.token).await;
    alice_ws.expect_quiet(GRACE_MS * 2 + 3 * SYNC_MS).await;
    assert_eq!(status(&a, &alice, &bob).await["is_online"], true);
    drop(bob_on_b);
}

#[tokio::test]
async fn a_node_that_dies_without_a_goodbye_takes_its_users_offline_within_the_lease() {
    let Some(redis) = Redis::start().await else { return };
    let shared = tempfile::tempdir().unwrap();
    let a = node(shared.path(), &redis, |_| {}).await;
    let doomed = Doomed::spawn(shared.path(), &redis, |_| {}).await;
    let (alice, bob) = (a.register("alice").await, a.register("bob").await);
    a.dm(&alice, &bob).await;
    let mut alice_ws = a.ws(&alice.token).await.watching();
    let _bob_ws = Ws::connect(&format!("ws://{}/ws/?token={}", doomed.addr, bob.token)).await;
    wait_online(&a, &alice, &bob, true, Duration::from_secs(5)).await;

    let killed = Instant::now();
    doomed.kill();
    // Lease, plus a sync to notice, plus a sync for the copy, plus slack for a loaded machine.
    let bound = Duration::from_secs(NODE_LEASE_SECS) + Duration::from_millis(2 * SYNC_MS) + Duration::from_secs(2);
    let seen = wait_online(&a, &alice, &bob, false, bound).await;
    assert!(seen["last_seen"].is_string(), "{seen}");
    // Node A cleaned up after it and told bob's contacts (alice is on A, so no bus is needed;
    // with it, the dead node's earlier `online` comes first).
    while status_change(&mut alice_ws, bob.id).await["is_online"] != false {}
    assert!(killed.elapsed() < bound, "offline after {:?}", killed.elapsed());
    assert!(
        killed.elapsed() >= Duration::from_millis(NODE_LEASE_SECS * 1000 * 2 / 3),
        "not before the lease could have run out"
    );
}

#[tokio::test]
async fn a_node_that_lost_its_lease_while_alive_puts_its_users_back() {
    let Some(redis) = Redis::start().await else { return };
    let shared = tempfile::tempdir().unwrap();
    let a = node(shared.path(), &redis, |_| {}).await;
    let b = node(shared.path(), &redis, |_| {}).await;
    let (alice, bob) = (a.register("alice").await, a.register("bob").await);
    a.dm(&alice, &bob).await;
    let _bob_ws = b.ws(&bob.token).await;
    wait_online(&a, &alice, &bob, true, Duration::from_secs(5)).await;

    // Wipe node B from Redis as a cleanup after a lease that ran out would (B was unreachable
    // for too long, say). B finds out at its next renewal and writes its sets again.
    let mut conn = redis.client().await;
    let nodes: Vec<String> = redis::cmd("SMEMBERS").arg("{parlor}:nodes").query_async(&mut conn).await.unwrap();
    let mut b_id = None;
    for id in nodes {
        let holds: bool = redis::cmd("SISMEMBER")
            .arg(format!("{{parlor}}:node:{id}:held"))
            .arg(bob.id)
            .query_async(&mut conn)
            .await
            .unwrap();
        if holds {
            b_id = Some(id);
        }
    }
    let b_id = b_id.expect("a node holds bob");
    let _: () = redis::pipe()
        .cmd("DEL")
        .arg(format!("{{parlor}}:node:{b_id}"))
        .arg(format!("{{parlor}}:node:{b_id}:held"))
        .arg(format!("{{parlor}}:node:{b_id}:conn"))
        .cmd("SREM")
        .arg("{parlor}:nodes")
        .arg(&b_id)
        .query_async(&mut conn)
        .await
        .unwrap();
    let held_again = || {
        let mut conn = conn.clone();
        let key = format!("{{parlor}}:node:{b_id}:held");
        async move {
            let held: bool = redis::cmd("SISMEMBER").arg(key).arg(bob.id).query_async(&mut conn).await.unwrap();
            held
        }
    };
    let within = Duration::from_secs(NODE_LEASE_SECS) + Duration::from_secs(2);
    eventually(within, "node B holds bob again", held_again).await;
    wait_online(&a, &alice, &bob, true, Duration::from_secs(2)).await;
}

/// Needs per-user frames to cross nodes (the Redis bus of the scale-out issue): a contact on
/// node A hears exactly once of a user who comes and goes on node B.
#[tokio::test]
async fn contacts_on_other_nodes_hear_each_transition_exactly_once() {
    let Some(redis) = Redis::start().await else { return };
    let shared = tempfile::tempdir().unwrap();
    let a = node(shared.path(), &redis, |_| {}).await;
    let b = node(shared.path(), &redis, |_| {}).await;
    let (alice, bob) = (a.register("alice").await, a.register("bob").await);
    a.dm(&alice, &bob).await;
    let mut alice_ws = a.ws(&alice.token).await.watching();
    let bob_ws = b.ws(&bob.token).await;
    assert_eq!(status_change(&mut alice_ws, bob.id).await["is_online"], true);
    bob_ws.close().await;
    assert_eq!(status_change(&mut alice_ws, bob.id).await["is_online"], false);
    alice_ws.expect_quiet(GRACE_MS + 3 * SYNC_MS).await;
}
