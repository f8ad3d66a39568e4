//! Every acknowledged message survives the server being killed; a graceful stop closes sockets
//! with "going away" and loses nothing.

use std::collections::BTreeSet;

use serde_json::json;

use crate::helpers::{Process, TestApp, Ws, temp_path};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_message_survives_kill_and_restart() {
    let (_guard, data_dir) = temp_path();
    let server = Process::start(&data_dir).await;
    let remote = server.app_view();
    let register = |name: &'static str| {
        let remote = &remote;
        async move {
            let (status, body) =
                remote.post(None, "/api/auth/register", json!({"username": name, "password": "correct horse"})).await;
            assert_eq!(status, 201, "{body}");
            (body["user"]["id"].as_i64().unwrap(), body["access"].as_str().unwrap().to_owned())
        }
    };
    let (_, alice) = register("alice").await;
    let (bob_id, _) = register("bob").await;
    let (_, dm) = remote.post(Some(&alice), "/api/chat/conversations/", json!({"user_id": bob_id})).await;
    let conversation = dm["id"].as_i64().unwrap();

    // Fire 40 sends without waiting, then collect the acknowledgements, then kill at once.
    let mut ws = Ws::connect(&format!("ws://{}/ws/?token={alice}", server.addr)).await;
    for i in 0..40 {
        ws.send(json!({"type": "chat_message", "conversation_id": conversation, "content": format!("m{i}"), "client_id": format!("c{i}")}))
            .await;
    }
    let mut acked = BTreeSet::new();
    while acked.len() < 40 {
        let frame = ws.next().await;
        if frame["type"] == "ack" {
            acked.insert(frame["message_id"].as_i64().unwrap());
        }
    }
    server.kill().await;

    let server = Process::start(&data_dir).await;
    let remote = server.app_view();
    let (status, page) =
        remote.get(&alice, &format!("/api/chat/conversations/{conversation}/messages/?limit=100")).await;
    assert_eq!(status, 200, "the old token still works after restart: {page}");
    let stored: BTreeSet<i64> = page["results"].as_array().unwrap().iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert_eq!(stored, acked, "every acknowledged message is stored, nothing else");
    let mut seqs: Vec<i64> = page["results"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=40).collect::<Vec<_>>(), "sequence numbers have no gaps");

    // Retrying one of the sends after the restart still stores nothing new.
    let (status, again) = remote
        .post(
            Some(&alice),
            &format!("/api/chat/conversations/{conversation}/messages/"),
            json!({"content": "m3", "client_id": "c3"}),
        )
        .await;
    assert_eq!(status, 200, "{again}");
    let exit = server.terminate().await;
    assert!(exit.success(), "SIGTERM stops parlor cleanly: {exit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_closes_sockets_with_going_away() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let mut ws = app.ws(&alice.token).await;
    let stopping = tokio::spawn(app.stop());
    let close = ws.closed().await.expect("a close frame");
    assert_eq!(u16::from(close.code), 1001);
    stopping.await.unwrap();
}
