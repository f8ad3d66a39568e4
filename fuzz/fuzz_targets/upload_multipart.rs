//! Fuzzes the upload path end to end: the real app (every route, auth, membership, the
//! multipart parser, the type sniffer, blob storage and the store) is built once in-process on
//! a temporary data dir, with one user and one conversation, and each input becomes a
//! `POST /api/chat/conversations/{id}/attachments/`. Input format: the first line is the
//! `content-type` header (so boundaries and parameters are fuzzed too), the rest the body.
//! Nothing may panic and no answer may be a 5xx: a client's bytes are never the server's fault.

#![no_main]

use std::sync::OnceLock;

use axum::body::Body;
use axum::http::{Request, header};
use libfuzzer_sys::fuzz_target;
use parlor_server::Server;
use parlor_server::config::{Config, SqliteDurability};
use tower::ServiceExt;
use tower_http::normalize_path::NormalizePath;

struct Fixture {
    runtime: tokio::runtime::Runtime,
    app: App,
    token: String,
    path: String,
    _dir: tempfile::TempDir,
}

type App = NormalizePath<axum::Router>;

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let dir = tempfile::Builder::new().prefix("parlor-fuzz-").tempdir().unwrap();
        let mut config = Config::defaults();
        config.bind = "127.0.0.1:0".parse().unwrap();
        config.data_dir = dir.path().to_path_buf();
        // Stored uploads need no fsync here: the fuzzer wants executions per second.
        config.sqlite_durability = SqliteDurability::Normal;
        let (app, token, path) = runtime.block_on(async {
            let server = Server::bind(config).await.expect("server starts");
            let app = server.app();
            let alice =
                call(&app, json_post("/api/auth/register", None, r#"{"username":"alice","password":"correct horse"}"#))
                    .await;
            let bob =
                call(&app, json_post("/api/auth/register", None, r#"{"username":"bob","password":"correct horse"}"#))
                    .await;
            let token = alice["access"].as_str().unwrap().to_owned();
            let bob_id = bob["user"]["id"].as_i64().unwrap();
            let dm =
                call(&app, json_post("/api/chat/conversations/", Some(&token), &format!(r#"{{"user_id":{bob_id}}}"#)))
                    .await;
            let path = format!("/api/chat/conversations/{}/attachments/", dm["id"].as_i64().unwrap());
            // The server itself is dropped: the fuzzer drives `app` directly, never the listener.
            (app, token, path)
        });
        Fixture { runtime, app, token, path, _dir: dir }
    })
}

fn json_post(path: &str, token: Option<&str>, body: &str) -> Request<Body> {
    let mut req = Request::post(path).header(header::CONTENT_TYPE, "application/json");
    if let Some(token) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    req.body(Body::from(body.to_owned())).unwrap()
}

async fn call(app: &App, req: Request<Body>) -> serde_json::Value {
    let response = app.clone().oneshot(req).await.unwrap();
    assert!(response.status().is_success(), "fixture setup failed: {}", response.status());
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fuzz_target!(|data: &[u8]| {
    let fixture = fixture();
    let (content_type, body) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (&b"multipart/form-data; boundary=X"[..], data),
    };
    let mut req =
        Request::post(fixture.path.as_str()).header(header::AUTHORIZATION, format!("Bearer {}", fixture.token));
    // A header value the HTTP layer would refuse never reaches parlor.
    if let Ok(value) = header::HeaderValue::from_bytes(content_type.strip_suffix(b"\r").unwrap_or(content_type)) {
        req = req.header(header::CONTENT_TYPE, value);
    }
    let req = req.body(Body::from(body.to_vec())).unwrap();
    let (status, answer) = fixture.runtime.block_on(async {
        let response = fixture.app.clone().oneshot(req).await.unwrap();
        let status = response.status();
        (status, axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap())
    });
    assert!(!status.is_server_error(), "upload answered {status}: {}", String::from_utf8_lossy(&answer));
});
