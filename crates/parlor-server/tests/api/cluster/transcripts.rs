//! Verifiable transcripts on two nodes: with PostgreSQL shared, both nodes append to one
//! conversation at once and the chain stays one; nodes sharing a data directory sign with one key.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, temp_path};
use crate::transcripts::{id_of, server_key, transcript_over_http, verify_written};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_postgres_keep_one_chain() {
    let Some(admin) = parlor_store_postgres::testing::admin_url_or_skip("two_nodes_on_postgres_keep_one_chain") else {
        return;
    };
    let (url, _db) = parlor_store_postgres::testing::fresh_database(&admin).await.expect("a test database");
    let (_guard, shared) = temp_path();
    let on_db =
        |c: &mut parlor_server::config::Config| c.database_url = parlor_server::config::Secret::new(url.clone());
    let a = TestApp::spawn_at(&shared, on_db).await;
    let b = TestApp::spawn_at(&shared, on_db).await;
    let (alice, bob) = (a.register("alice").await, a.register("bob").await);
    let dm = a.dm(&alice, &bob).await;
    // Both nodes append to the one conversation at once.
    let sends = (0..30).map(|n| {
        let (node, user) = if n % 2 == 0 { (&a, &alice) } else { (&b, &bob) };
        async move { node.send_message(user, dm, &format!("from both {n}")).await }
    });
    let sent = futures_util::future::join_all(sends).await;
    let path = format!("/api/chat/messages/{}/", id_of(&sent[0]));
    let (status, body) = b.patch(Some(&alice.token), &path, json!({"content": "edited on the other node"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let key = server_key(&a).await;
    assert_eq!(server_key(&b).await, key, "one key for the nodes sharing a data directory");
    let transcript = transcript_over_http(&b, dm).await;
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().to_path_buf();
    let verdict = verify_written(&dir, "cluster.jsonl", &transcript, Some(&key)).await;
    assert!(verdict.ok, "{}", verdict.out);
    assert!(verdict.out.contains("31 events"), "{}", verdict.out);
    assert!(verdict.out.contains("\"edited on the other node\""), "{}", verdict.out);
    a.stop().await;
    b.stop().await;
}
