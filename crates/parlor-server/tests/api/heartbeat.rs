//! The heartbeat as a client sees it: a socket busy both ways is never pinged, a quiet one is
//! pinged every interval and stays open while it answers, and a client that stopped answering
//! is dropped after three silent intervals even while the server keeps writing to it.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{TestApp, WAIT, Ws, eventually};
use crate::observability::{sample, scrape};

/// The next raw frame within `within`; `None` when none came or the socket closed.
async fn frame_within(ws: &mut Ws, within: Duration) -> Option<Message> {
    tokio::time::timeout(within, ws.next_raw()).await.ok().flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_keeps_talking_is_not_pinged_and_a_quiet_one_is() {
    let app = TestApp::spawn_with(|c| c.limits.heartbeat_secs = 1).await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let mut talking = app.ws(&alice.token).await;
    let mut quiet = app.ws(&bob.token).await;

    // Bob's client reads (and so answers pings) but never says anything of its own.
    let listening = tokio::spawn(async move {
        let (mut pings, until) = (0, Instant::now() + Duration::from_millis(3500));
        while Instant::now() < until {
            match frame_within(&mut quiet, Duration::from_millis(100)).await {
                Some(Message::Ping(_)) => pings += 1,
                Some(Message::Close(frame)) => panic!("a quiet client that answers pings was closed: {frame:?}"),
                _ => {}
            }
        }
        (pings, quiet)
    });

    // Alice's client says something every 200 ms and gets an answer each time: over three and
    // a half intervals, no ping.
    let until = Instant::now() + Duration::from_millis(3500);
    let mut pongs = 0;
    while Instant::now() < until {
        talking.send(json!({"type": "ping"})).await;
        let answered = Instant::now() + Duration::from_millis(200);
        while let Some(frame) = frame_within(&mut talking, answered.saturating_duration_since(Instant::now())).await {
            match frame {
                Message::Ping(_) => panic!("a client busy both ways was pinged"),
                Message::Text(text) if text.contains("\"pong\"") => pongs += 1,
                Message::Close(frame) => panic!("closed: {frame:?}"),
                _ => {}
            }
        }
    }
    assert!(pongs >= 10, "the server answered {pongs} times");

    let (pings, mut quiet) = listening.await.unwrap();
    assert!((2..=4).contains(&pings), "one ping per interval to the quiet client, got {pings}");
    quiet.send(json!({"type": "ping"})).await;
    assert_eq!(quiet.next().await["type"], "pong", "still open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stopped_answering_is_dropped_even_while_the_server_writes_to_it() {
    let app = TestApp::spawn_with(|c| c.limits.heartbeat_secs = 1).await;
    let (alice, bob) = (app.register("alice").await, app.register("bob").await);
    let conversation = app.dm(&alice, &bob).await;
    // Alice's client freezes after connecting: it reads nothing and so answers no ping.
    let _frozen = app.ws(&alice.token).await;
    let frozen_at = Instant::now();
    assert_eq!(sample(&scrape(&app).await, "parlor_websocket_connections"), Some(1.0));

    // Bob keeps sending her messages, which the server writes to her socket (the kernel takes
    // them: writing succeeds, and proves nothing about the peer).
    let path = format!("/api/chat/conversations/{conversation}/messages/");
    let sending = tokio::spawn(async move {
        for i in 0..40 {
            let (status, body) = bob.post(&path, json!({"content": format!("are you there? {i}")})).await;
            assert_eq!(status, 201, "{body}");
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    });
    eventually(WAIT, "the frozen socket is dropped", || async {
        let text = scrape(&app).await;
        sample(&text, "parlor_websocket_connections") == Some(0.0)
    })
    .await;
    let after = frozen_at.elapsed();
    sending.abort();
    // Three silent ticks of one second each: not before the third, and well before a fourth
    // plus slack.
    assert!(after >= Duration::from_millis(2500), "dropped after {after:?}, before three silent intervals");
    assert!(after <= Duration::from_millis(5500), "dropped after {after:?}");
}
