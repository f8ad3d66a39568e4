//! Attachments in S3-compatible object storage (the `storage_url = "s3://..."` setting), against
//! a real S3 API served locally by moto. Needs `moto_server` on PATH (`pip install
//! 'moto[server]'`, which `.ci/run` does); without it the test says so loudly, and fails in CI.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{Process, Ws, temp_path};

struct Moto {
    _child: tokio::process::Child,
    endpoint: String,
}

async fn start_moto() -> Option<Moto> {
    let Ok(path) = which("moto_server") else {
        assert!(std::env::var_os("CI").is_none(), "moto_server is required in CI for the S3 storage test");
        eprintln!("SKIPPING S3 storage test: moto_server not on PATH (pip install 'moto[server]')");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = tokio::process::Command::new(path)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("moto_server starts");
    let endpoint = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..100 {
        if client.get(&endpoint).send().await.is_ok() {
            return Some(Moto { _child: child, endpoint });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("moto_server did not start");
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join(name)).find(|p| p.is_file()))
        .ok_or(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_live_in_s3_compatible_storage_when_configured() {
    let Some(moto) = start_moto().await else { return };
    let http = reqwest::Client::new();
    assert!(http.put(format!("{}/chat-files", moto.endpoint)).send().await.unwrap().status().is_success());

    let (_guard, data_dir) = temp_path();
    let env = [
        ("PARLOR_STORAGE_URL", "s3://chat-files/tenant-a"),
        ("AWS_ENDPOINT", moto.endpoint.as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ];
    let dir = data_dir.to_str().unwrap();
    let server = Process::start_with(&["serve", "--bind", "127.0.0.1:0", "--data-dir", dir], &env).await;
    let remote = server.app_view();
    let mut tokens = Vec::new();
    for name in ["alice", "bob"] {
        let (status, body) =
            remote.post(None, "/api/auth/register", json!({"username": name, "password": "correct horse"})).await;
        assert_eq!(status, 201);
        tokens.push((body["user"]["id"].as_i64().unwrap(), body["access"].as_str().unwrap().to_owned()));
    }
    let (alice, bob) = (&tokens[0].1, &tokens[1].1);
    let (_, dm) = remote.post(Some(alice), "/api/chat/conversations/", json!({"user_id": tokens[1].0})).await;
    let conversation = dm["id"].as_i64().unwrap();
    let mut bob_ws = Ws::connect(&format!("ws://{}/ws/?token={bob}", server.addr)).await;

    // Larger than one 5 MiB part, so the upload really streams in several parts.
    let document: Vec<u8> = b"%PDF-1.4\n".iter().copied().chain((0..6_000_000u32).map(|i| (i % 253) as u8)).collect();
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(document.clone()).file_name("big.pdf"))
        .text("caption", "the spec");
    let url = format!("http://{}/api/chat/conversations/{conversation}/attachments/", server.addr);
    let response = http.post(url).bearer_auth(alice).multipart(form).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let message: serde_json::Value = response.json().await.unwrap();
    assert_eq!(bob_ws.expect("chat_message").await["attachment"]["name"], "big.pdf");

    // The object is in the bucket under the configured prefix, not on the node's disk.
    let listing =
        http.get(format!("{}/chat-files?list-type=2", moto.endpoint)).send().await.unwrap().text().await.unwrap();
    assert!(listing.contains("<Key>tenant-a/attachments/"), "{listing}");
    assert!(!data_dir.join("files").exists(), "nothing stored locally");

    let download = format!("http://{}{}", server.addr, message["attachment"]["url"].as_str().unwrap());
    let got = http.get(&download).bearer_auth(bob).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().len(), document.len());
    let part = http.get(&download).bearer_auth(bob).header("range", "bytes=5999990-6000008").send().await.unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap().as_ref(), &document[5_999_990..=6_000_008]);

    // Deleting the message deletes the object.
    let deleted = http
        .delete(format!("http://{}/api/chat/messages/{}/", server.addr, message["id"]))
        .bearer_auth(alice)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    let listing =
        http.get(format!("{}/chat-files?list-type=2", moto.endpoint)).send().await.unwrap().text().await.unwrap();
    assert!(!listing.contains("<Key>tenant-a/attachments/"), "{listing}");
    assert!(server.terminate().await.success());
}
