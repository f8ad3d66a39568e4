//! The test harness: `TestApp::spawn()` starts parlor in-process on 127.0.0.1:0 with a fresh
//! data dir; `Process::start()` (`process.rs`) runs the real binary for crash tests; `Ws`
//! (`ws.rs`) is a WebSocket client whose every wait has a timeout; `tokens.rs` forges tokens;
//! `eventually.rs` waits for background work.

mod eventually;
mod process;
mod tokens;
mod ws;

pub use eventually::eventually;
pub use process::{Process, RemoteApp};
pub use tokens::{forge_own, own_claims, sign, token_for, unix_now};
pub use ws::{Ws, ws_refused};

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use parlor_server::Server;
use parlor_server::config::{Config, Secret};
use parlor_store_postgres::testing::{FreshDatabase, fresh_database};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;

/// The secret tests use for parlor's own tokens, so they can forge expired or tampered ones.
pub const TOKEN_SECRET: &str = "test-token-secret-0123456789abcdef";
/// The server API key every test server is started with.
pub const API_KEY: &str = "test-api-key-0123456789abcdef0123456789";
/// How long any single wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

pub struct TestApp {
    pub addr: SocketAddr,
    /// The store's database, for tests that look inside it: `sqlite://...` or `postgres://...`.
    pub database: String,
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _dir: Option<TempDir>,
}

/// Someone signed in to a [`TestApp`]: their requests carry their token (`alice.get(path)`).
#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i64,
    pub username: String,
    pub token: String,
    pub refresh: String,
    /// The server they signed in to, e.g. `http://127.0.0.1:4711`.
    base: String,
    http: reqwest::Client,
}

impl TestUser {
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.post(self.url(path)).json(&body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.patch(self.url(path)).json(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.http.put(self.url(path)).json(&body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.http.delete(self.url(path))).await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        send(req.bearer_auth(&self.token)).await
    }
}

pub fn test_config(dir: &Path) -> Config {
    let mut config = Config::defaults();
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.data_dir = dir.to_path_buf();
    config.token_secret = Secret::new(TOKEN_SECRET);
    config.api_key = Secret::new(API_KEY);
    config
}

/// The env var that runs the API suite on PostgreSQL (an admin URL: a database per data dir is
/// created next to the one it names). Unset: SQLite, as always.
pub const API_POSTGRES_VAR: &str = "PARLOR_TEST_API_POSTGRES_URL";

/// The PostgreSQL database of the data directory `dir`, created on first use, when the suite
/// runs on PostgreSQL. The databases live as long as the test process (a restart must find its
/// data); the next run drops them (`fresh_database` sweeps those of ended processes).
async fn postgres_for(dir: &Path) -> Option<String> {
    type Databases = Mutex<HashMap<PathBuf, (String, FreshDatabase)>>;
    static DATABASES: OnceLock<Databases> = OnceLock::new();
    let admin = std::env::var(API_POSTGRES_VAR).ok().filter(|u| !u.is_empty())?;
    let databases = DATABASES.get_or_init(Databases::default);
    if let Some((url, _)) = databases.lock().unwrap().get(dir) {
        return Some(url.clone());
    }
    let (url, guard) = fresh_database(&admin).await.expect("create a PostgreSQL database for the test");
    databases.lock().unwrap().insert(dir.to_path_buf(), (url.clone(), guard));
    Some(url)
}

/// True (with a line saying why) when the suite runs on PostgreSQL and the calling test is about
/// the SQLite file itself (backups, vacuum, its lock, its disk): it then has nothing to test.
pub fn sqlite_only(test: &str) -> bool {
    let on_postgres = std::env::var(API_POSTGRES_VAR).is_ok_and(|u| !u.is_empty());
    if on_postgres {
        eprintln!("{test}: skipped: it tests the SQLite file, and {API_POSTGRES_VAR} runs the suite on PostgreSQL");
    }
    on_postgres
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut app = Self::spawn_at(dir.path(), tweak).await;
        app._dir = Some(dir);
        app
    }

    /// A server on an existing data directory (e.g. to restart one), which the caller keeps.
    /// With `PARLOR_TEST_API_POSTGRES_URL` set, its store is a PostgreSQL database of its own
    /// instead, one per data directory, so a restart finds its data again.
    pub async fn spawn_at(dir: &Path, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = test_config(dir);
        let database = match postgres_for(dir).await {
            Some(url) => {
                config.database_url = Secret::new(url.clone());
                url
            }
            None => format!("sqlite://{}", dir.join("parlor.db").display()),
        };
        tweak(&mut config);
        let server = Server::bind(config).await.expect("server starts");
        let addr = server.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(async move {
            stopped.await.ok();
        }));
        TestApp { addr, database, http: reqwest::Client::new(), stop: Some(stop), task: Some(task), _dir: None }
    }

    /// Graceful shutdown, as on SIGTERM; returns once the server has stopped.
    pub async fn stop(mut self) {
        self.stop.take().unwrap().send(()).ok();
        let task = self.task.take().unwrap();
        tokio::time::timeout(Duration::from_secs(20), task).await.expect("server stops in time").unwrap().unwrap();
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub async fn register(&self, username: &str) -> TestUser {
        let (status, body) =
            self.post(None, "/api/auth/register", json!({"username": username, "password": "correct horse"})).await;
        assert_eq!(status, StatusCode::CREATED, "register {username}: {body}");
        TestUser {
            refresh: body["refresh"].as_str().unwrap().to_owned(),
            username: username.to_owned(),
            ..self.signed_in(body["user"]["id"].as_i64().unwrap(), body["access"].as_str().unwrap())
        }
    }

    /// Someone signed in with `token` (a host-app token, or [`token_for`] a provisioned user).
    pub fn signed_in(&self, id: i64, token: &str) -> TestUser {
        TestUser {
            id,
            username: String::new(),
            token: token.to_owned(),
            refresh: String::new(),
            base: self.url(""),
            http: self.http.clone(),
        }
    }

    /// The direct conversation between two users.
    pub async fn dm(&self, a: &TestUser, b: &TestUser) -> i64 {
        let (status, body) = self.post(Some(&a.token), "/api/chat/conversations/", json!({"user_id": b.id})).await;
        assert!(status.is_success(), "open dm: {status} {body}");
        body["id"].as_i64().unwrap()
    }

    pub async fn get(&self, token: Option<&str>, path: &str) -> (StatusCode, Value) {
        send(self.with_auth(self.http.get(self.url(path)), token)).await
    }

    pub async fn post(&self, token: Option<&str>, path: &str, body: Value) -> (StatusCode, Value) {
        send(self.with_auth(self.http.post(self.url(path)).json(&body), token)).await
    }

    pub async fn patch(&self, token: Option<&str>, path: &str, body: Value) -> (StatusCode, Value) {
        send(self.with_auth(self.http.patch(self.url(path)).json(&body), token)).await
    }

    pub async fn put(&self, token: Option<&str>, path: &str, body: Value) -> (StatusCode, Value) {
        send(self.with_auth(self.http.put(self.url(path)).json(&body), token)).await
    }

    pub async fn delete(&self, token: Option<&str>, path: &str) -> (StatusCode, Value) {
        send(self.with_auth(self.http.delete(self.url(path)), token)).await
    }

    /// A call to the server API (`/api/server/...`) with [`API_KEY`]; `body` is sent as JSON
    /// unless it is `Value::Null`.
    pub async fn server(&self, method: reqwest::Method, path: &str, body: Value) -> (StatusCode, Value) {
        let req = self.http.request(method, self.url(path)).header("x-api-key", API_KEY);
        send(if body.is_null() { req } else { req.json(&body) }).await
    }

    /// A POST with a raw body and content type.
    pub async fn post_raw(&self, token: Option<&str>, path: &str, body: &str) -> (StatusCode, Value) {
        let req = self.http.post(self.url(path)).header("content-type", "application/json").body(body.to_owned());
        send(self.with_auth(req, token)).await
    }

    pub async fn send_message(&self, user: &TestUser, conversation: i64, content: &str) -> Value {
        let path = format!("/api/chat/conversations/{conversation}/messages/");
        let (status, body) = self.post(Some(&user.token), &path, json!({"content": content})).await;
        assert_eq!(status, StatusCode::CREATED, "send: {body}");
        body
    }

    fn with_auth(&self, req: reqwest::RequestBuilder, token: Option<&str>) -> reqwest::RequestBuilder {
        match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        }
    }

    /// The unified socket, past `connection_established`.
    pub async fn ws(&self, token: &str) -> Ws {
        Ws::connect(&format!("ws://{}/ws/?token={token}", self.addr)).await
    }

    /// Seed 001's socket scoped to one conversation, past `connection_established`.
    pub async fn ws_chat(&self, token: &str, conversation: i64) -> Ws {
        Ws::connect(&format!("ws://{}/ws/chat/{conversation}/?token={token}", self.addr)).await
    }

    /// The HTTP status a WebSocket handshake is refused with.
    pub async fn ws_refused(&self, path: &str) -> (u16, Value) {
        ws_refused(&format!("ws://{}{path}", self.addr)).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
    }
}

pub(crate) async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = req.send().await.expect("request reaches the server");
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

pub fn temp_path() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    (dir, path)
}
