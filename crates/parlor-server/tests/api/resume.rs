//! Nothing missed: a client that reconnects says what it last saw and receives exactly what it
//! missed, in order, with no gaps or duplicates, or an explicit `resync_required`.

use parlor_server::rate_limit::Rate;
use serde_json::{Map, Value, json};

use crate::helpers::{TestApp, Ws};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_and_resume_receives_exactly_the_missed_events() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;

    let mut alice_ws = app.ws(&alice.token).await;
    for i in 0..3 {
        app.send_message(&bob, conversation, &format!("before {i}")).await;
    }
    let mut last_seen = 0;
    for _ in 0..3 {
        last_seen = alice_ws.expect("chat_message").await["seq"].as_i64().unwrap();
    }
    alice_ws.close().await;

    // While this socket is away: four messages, Alice reading them on another device, one more.
    let mut missed = Vec::new();
    for i in 0..4 {
        missed.push(app.send_message(&bob, conversation, &format!("missed {i}")).await);
    }
    alice.post(&format!("/api/chat/conversations/{conversation}/mark_read/"), json!({})).await;
    app.send_message(&bob, conversation, "missed last").await;
    let (_, now) = alice.get(&format!("/api/chat/conversations/{conversation}/")).await;
    let latest = now["last_event_seq"].as_i64().unwrap();

    let mut alice_ws = app.ws(&alice.token).await;
    alice_ws.send(json!({"type": "resume", "conversations": {conversation.to_string(): last_seen}})).await;
    let mut replayed = Vec::new();
    loop {
        let frame = alice_ws.next_any().await;
        if frame["type"] == "resumed" {
            assert_eq!(frame["replayed"], replayed.len());
            break;
        }
        replayed.push(frame);
    }
    // Every missed event once, in order; receipts from Alice's devices are events too. The fetch
    // that read `latest` counts as delivery to Alice, and that receipt is written on the next
    // receipt tick: it may follow `latest` in the log, as a delivery receipt and nothing else.
    let seqs: Vec<i64> = replayed.iter().map(|f| f["seq"].as_i64().unwrap()).collect();
    let newest = seqs.last().copied().unwrap_or(last_seen).max(latest);
    assert_eq!(seqs, (last_seen + 1..=newest).collect::<Vec<_>>(), "every missed event once, in order");
    for frame in replayed.iter().filter(|f| f["seq"].as_i64() > Some(latest)) {
        assert_eq!(frame["type"], "messages_delivered", "only the fetch's own receipt follows: {frame}");
    }
    let contents: Vec<&str> = replayed.iter().filter_map(|f| f["content"].as_str()).collect();
    assert_eq!(contents, ["missed 0", "missed 1", "missed 2", "missed 3", "missed last"]);
    let kinds: Vec<&str> =
        replayed.iter().map(|f| f["type"].as_str().unwrap()).filter(|t| *t != "messages_delivered").collect();
    assert_eq!(
        kinds,
        ["chat_message", "chat_message", "chat_message", "chat_message", "messages_read", "chat_message"]
    );
    assert_eq!(replayed.iter().find(|f| f["type"] == "chat_message").unwrap()["message_id"], missed[0]["id"]);

    // Live events continue from there, without repeats.
    app.send_message(&bob, conversation, "live again").await;
    let live = alice_ws.expect("chat_message").await;
    assert!(live["seq"].as_i64() > Some(newest), "{live}");
    assert_eq!(live["content"], "live again");
    alice_ws.expect_quiet(300).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_from_zero_replays_the_whole_log_and_up_to_date_replays_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    app.send_message(&bob, conversation, "one").await;
    app.send_message(&alice, conversation, "two").await;

    let mut ws = app.ws(&alice.token).await;
    ws.send(json!({"type": "resume", "conversations": {conversation.to_string(): 0}})).await;
    assert_eq!(ws.expect("chat_message").await["content"], "one");
    assert_eq!(ws.expect("chat_message").await["content"], "two");
    assert_eq!(ws.expect("resumed").await["replayed"], 2);

    ws.send(json!({"type": "resume", "conversations": {conversation.to_string(): 2}})).await;
    assert_eq!(ws.expect("resumed").await["replayed"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_too_far_behind_gets_an_explicit_resync_signal() {
    let app = TestApp::spawn_with(|c| c.limits.replay_max = 5).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    for i in 0..8 {
        app.send_message(&bob, conversation, &format!("m{i}")).await;
    }

    let mut ws = app.ws(&alice.token).await;
    ws.send(json!({"type": "resume", "conversations": {conversation.to_string(): 1}})).await;
    let signal = ws.expect("resync_required").await;
    assert_eq!(signal["conversation_id"], conversation);
    assert_eq!(signal["latest_seq"], 8);
    assert_eq!(ws.expect("resumed").await["replayed"], 0);

    // After the resync the connection carries on live from the latest position.
    app.send_message(&bob, conversation, "after resync").await;
    let live = ws.expect("chat_message").await;
    assert_eq!(live["seq"], 9);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_that_arrived_live_before_resume_are_not_sent_twice() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    app.send_message(&bob, conversation, "old 1").await;
    app.send_message(&bob, conversation, "old 2").await;

    let mut ws = app.ws(&alice.token).await;
    app.send_message(&bob, conversation, "live 3").await;
    assert_eq!(ws.expect("chat_message").await["seq"], 3);
    ws.send(json!({"type": "resume", "conversations": {conversation.to_string(): 0}})).await;
    let mut messages = Vec::new();
    loop {
        let frame = ws.next().await;
        match frame["type"].as_str() {
            Some("resumed") => break,
            Some("chat_message") => messages.push(frame["message_seq"].as_i64().unwrap()),
            _ => {}
        }
    }
    assert_eq!(messages, [1, 2], "the two it never had, not the live one again");
    app.send_message(&bob, conversation, "live 4").await;
    let live = ws.expect("chat_message").await;
    assert_eq!((live["content"].as_str(), live["message_seq"].as_i64()), (Some("live 4"), Some(4)));
    ws.expect_quiet(300).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_listeners_get_every_concurrent_message_exactly_once() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let mut listeners = Vec::new();
    for n in 0..30 {
        let friend = app.register(&format!("friend{n}")).await;
        let conversation = app.dm(&alice, &friend).await;
        listeners.push((conversation, app.ws(&friend.token).await));
    }
    let mut senders = [app.ws(&alice.token).await, app.ws(&alice.token).await, app.ws(&alice.token).await];
    // Several sockets fire without waiting: commits share batches and publish in any order, so
    // a listener's first event may be overtaken by the next.
    for round in 0..4 {
        for (conversation, _) in &listeners {
            for ws in senders.iter_mut() {
                ws.send(
                    json!({"type": "chat_message", "conversation_id": conversation, "content": format!("r{round}")}),
                )
                .await;
            }
        }
    }
    // The senders get every message back, their acks and the listeners' receipts (~500 frames
    // each): left unread they would be cut off as slow consumers, with sends still unprocessed.
    let drains: Vec<_> =
        senders.into_iter().map(|mut ws| tokio::spawn(async move { while ws.next_raw().await.is_some() {} })).collect();
    for (conversation, listener) in listeners.iter_mut() {
        let mut seen = std::collections::BTreeSet::new();
        while seen.len() < 12 {
            let frame = listener.expect("chat_message").await;
            assert!(seen.insert(frame["message_seq"].as_i64().unwrap()), "duplicate in {conversation}: {frame}");
        }
        assert_eq!(seen.into_iter().collect::<Vec<_>>(), (1..=12).collect::<Vec<_>>(), "conversation {conversation}");
    }
    for drain in drains {
        drain.abort();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_sent_right_after_connecting_comes_before_live_events() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    app.send_message(&bob, conversation, "while offline").await;
    let mut ws = app.ws(&alice.token).await;
    app.send_message(&bob, conversation, "right after connecting").await;
    ws.send(json!({"type": "resume", "conversations": {conversation.to_string(): 0}})).await;
    let mut order = Vec::new();
    while order.len() < 2 {
        let frame = ws.next().await;
        if frame["type"] == "chat_message" {
            order.push(frame["seq"].as_i64().unwrap());
        }
    }
    assert_eq!(order, [1, 2], "replayed history first, then live, each once");
    assert_eq!(ws.expect("resumed").await["replayed"], 2);
    ws.expect_quiet(300).await;
}

/// A `resume` naming conversations `ids`, each from seq 0.
fn resume(ids: impl IntoIterator<Item = i64>) -> Value {
    let conversations: Map<String, Value> = ids.into_iter().map(|id| (id.to_string(), json!(0))).collect();
    json!({"type": "resume", "conversations": conversations})
}

/// Sends `frame`, then reads until `resumed` or an `error` (not counting per-conversation
/// `not_found` errors), which is returned.
async fn resume_with(ws: &mut Ws, frame: Value) -> Value {
    ws.send(frame).await;
    loop {
        let frame = ws.next().await;
        let per_conversation = frame["type"] == "error" && frame["code"] == "not_found";
        if frame["type"] == "resumed" || (frame["type"] == "error" && !per_conversation) {
            return frame;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_is_bounded_per_frame_and_paid_from_the_senders_rate_limit() {
    let app = TestApp::spawn_with(|c| c.rate_limits.sends = Rate { per_minute: 1, burst: 6 }).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    let mut ws = app.ws(&alice.token).await;

    // Over the bound: an error naming the limit, nothing replayed, the socket still works.
    let refused = resume_with(&mut ws, resume(1_000_000..1_000_501)).await;
    assert_eq!(refused["code"], "validation_failed", "{refused}");
    assert!(refused["message"].as_str().unwrap().contains("the limit is 500"), "{refused}");

    // 250 conversations cost 5 tokens (one per 50) of the 6; one more frame takes the last.
    let big = resume_with(&mut ws, resume((1_000_000..1_000_249).chain([conversation]))).await;
    assert_eq!(big["type"], "resumed", "{big}");
    let small = resume_with(&mut ws, resume([conversation])).await;
    assert_eq!(small["type"], "resumed", "{small}");
    let limited = resume_with(&mut ws, resume([conversation])).await;
    assert_eq!(limited["code"], "rate_limited", "{limited}");
    // The same bucket as the sender's messages: resuming spent what sending would have.
    let (status, body) = app
        .post(
            Some(&alice.token),
            &format!("/api/chat/conversations/{conversation}/messages/"),
            json!({"content": "hi"}),
        )
        .await;
    assert_eq!(status, 429, "{body}");
    ws.send(json!({"type": "ping"})).await;
    ws.expect("pong").await;
}
