//! The test harness: `TestApp::spawn()` starts parlor in-process on 127.0.0.1:0 with a fresh
//! data dir; `Process::start()` runs the real binary for crash tests; `Ws` is a WebSocket client
//! whose every wait has a timeout.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use parlor_server::Server;
use parlor_server::config::{Config, Secret};
use parlor_store_postgres::testing::{FreshDatabase, fresh_database};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

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

#[derive(Debug, Clone)]
pub struct TestUser {
    pub id: i64,
    pub username: String,
    pub token: String,
    pub refresh: String,
}

/// Seconds since the Unix epoch, as token claims count them.
pub fn unix_now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    i64::try_from(since.as_secs()).unwrap()
}

/// Signs `claims` with `alg` and `secret`.
pub fn sign(alg: jsonwebtoken::Algorithm, secret: &str, claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::new(alg), claims, &key).unwrap()
}

/// The claims of one of parlor's own access tokens.
pub fn own_claims(user_id: i64, exp: i64) -> Value {
    json!({"sub": user_id.to_string(), "iss": "parlor", "iat": unix_now() - 10, "exp": exp})
}

/// A token shaped like parlor's own, signed with the test secret.
pub fn forge_own(user_id: i64, exp: i64) -> String {
    sign(jsonwebtoken::Algorithm::HS256, TOKEN_SECRET, &own_claims(user_id, exp))
}

/// A valid access token for any user id, as parlor would issue it (e.g. for users the server API
/// provisioned, who never log in with a password).
pub fn token_for(user_id: i64) -> String {
    forge_own(user_id, unix_now() + 600)
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
            id: body["user"]["id"].as_i64().unwrap(),
            username: username.to_owned(),
            token: body["access"].as_str().unwrap().to_owned(),
            refresh: body["refresh"].as_str().unwrap().to_owned(),
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

pub async fn ws_refused(url: &str) -> (u16, Value) {
    match tokio_tungstenite::connect_async(url).await {
        Err(tungstenite::Error::Http(response)) => {
            let body = response
                .body()
                .as_ref()
                .map(|b| serde_json::from_slice(b).unwrap_or(Value::Null))
                .unwrap_or(Value::Null);
            (response.status().as_u16(), body)
        }
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected the handshake to be refused"),
    }
}

async fn send(req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = req.send().await.expect("request reaches the server");
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

pub struct Ws {
    stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
    pub hello: Value,
    /// Frame types [`Ws::next`] and [`Ws::expect_quiet`] pass over: by default receipts and the
    /// per-user frames (presence, notifications) that arrive whenever other clients come and go.
    pub ignored: &'static [&'static str],
}

/// What most tests ignore; see [`Ws::ignored`].
pub const BACKGROUND_FRAMES: &[&str] = &["messages_delivered", "user_status_change", "notification"];

impl Ws {
    pub async fn connect(url: &str) -> Ws {
        Self::connect_request(url.into_client_request().unwrap()).await
    }

    pub async fn connect_request(request: tungstenite::handshake::client::Request) -> Ws {
        let (stream, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
            .await
            .expect("connect in time")
            .expect("handshake");
        let mut ws = Ws { stream, hello: Value::Null, ignored: BACKGROUND_FRAMES };
        ws.hello = ws.next().await;
        assert_eq!(ws.hello["type"], "connection_established", "first frame: {}", ws.hello);
        ws
    }

    /// A socket whose server says nothing first (the seeds' sockets, `compat/`).
    pub async fn connect_quiet(request: tungstenite::handshake::client::Request) -> Ws {
        let (stream, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
            .await
            .expect("connect in time")
            .expect("handshake");
        Ws { stream, hello: Value::Null, ignored: BACKGROUND_FRAMES }
    }

    pub async fn send(&mut self, frame: Value) {
        self.stream.send(Message::text(frame.to_string())).await.unwrap();
    }

    pub async fn send_text(&mut self, text: &str) {
        self.stream.send(Message::text(text.to_owned())).await.unwrap();
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.stream.send(Message::binary(bytes)).await.unwrap();
    }

    /// The next JSON frame, skipping pings and the [`Ws::ignored`] types (receipts, presence and
    /// notifications unless a test watches them; use [`Ws::next_any`] to see everything).
    /// Fails after [`WAIT`].
    pub async fn next(&mut self) -> Value {
        loop {
            let frame = self.next_any().await;
            if !self.ignores(&frame) {
                return frame;
            }
        }
    }

    /// Watches these per-user frame types too (only receipts stay ignored).
    pub fn watching(mut self) -> Self {
        self.ignored = &["messages_delivered"];
        self
    }

    fn ignores(&self, frame: &Value) -> bool {
        frame["type"].as_str().is_some_and(|t| self.ignored.contains(&t))
    }

    /// The next JSON frame of any type (pings are skipped). Fails after [`WAIT`].
    pub async fn next_any(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(WAIT, self.stream.next())
                .await
                .expect("a frame in time")
                .expect("socket open")
                .expect("frame");
            match msg {
                Message::Text(text) => return serde_json::from_str(&text).unwrap(),
                Message::Ping(_) | Message::Pong(_) => continue,
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// The next raw message, whatever it is; `None` once the connection is gone.
    pub async fn next_raw(&mut self) -> Option<Message> {
        match self.stream.next().await {
            Some(Ok(msg)) => Some(msg),
            _ => None,
        }
    }

    /// The next `n` frames.
    pub async fn take(&mut self, n: usize) -> Vec<Value> {
        let mut frames = Vec::with_capacity(n);
        for _ in 0..n {
            frames.push(self.next().await);
        }
        frames
    }

    /// The next frame, which must be of type `kind`.
    pub async fn expect(&mut self, kind: &str) -> Value {
        let frame = self.next().await;
        assert_eq!(frame["type"], kind, "expected a {kind} frame, got {frame}");
        frame
    }

    /// Asserts no text frame arrives for `ms` milliseconds. A ping round trip first makes sure
    /// everything the server already sent has been read.
    pub async fn expect_quiet(&mut self, ms: u64) {
        self.send(serde_json::json!({"type": "ping"})).await;
        let pong = self.next().await;
        assert_eq!(pong["type"], "pong", "unexpected frame before pong: {pong}");
        let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
        while let Ok(Some(Ok(msg))) = tokio::time::timeout_at(deadline, self.stream.next()).await {
            if let Message::Text(text) = msg {
                let frame: Value = serde_json::from_str(&text).unwrap();
                assert!(self.ignores(&frame), "expected no frame, got {text}");
            }
        }
    }

    /// Waits for the server to close the socket; returns the close frame.
    pub async fn closed(&mut self) -> Option<CloseFrame> {
        loop {
            match tokio::time::timeout(WAIT, self.stream.next()).await.expect("close in time") {
                Some(Ok(Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }

    pub async fn close(mut self) {
        self.stream.close(None).await.ok();
    }
}

/// The real `parlor` binary, for tests that kill it.
pub struct Process {
    child: tokio::process::Child,
    pub addr: SocketAddr,
}

impl Process {
    pub async fn start(data_dir: &Path) -> Process {
        let dir = data_dir.to_str().unwrap();
        Self::start_with(&["serve", "--bind", "127.0.0.1:0", "--data-dir", dir], &[]).await
    }

    /// Runs `parlor` with these arguments and extra environment variables.
    pub async fn start_with(args: &[&str], env: &[(&str, &str)]) -> Process {
        Self::start_logged(args, env).await.0
    }

    /// As [`Process::start_with`], also keeping every line it logs (`PARLOR_LOG` is `info`
    /// unless `env` says otherwise); text and JSON logs both work.
    pub async fn start_logged(args: &[&str], env: &[(&str, &str)]) -> (Process, Arc<Mutex<Vec<String>>>) {
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_parlor"))
            .args(args)
            .env("PARLOR_TOKEN_SECRET", TOKEN_SECRET)
            .env("PARLOR_LOG", "info")
            .envs(env.iter().copied())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("parlor binary starts");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let log = Arc::new(Mutex::new(Vec::new()));
        let addr = tokio::time::timeout(WAIT, async {
            while let Some(line) = lines.next_line().await.unwrap() {
                log.lock().unwrap().push(line.clone());
                let found = ["addr=", "\"addr\":\""].iter().find_map(|key| line.find(key).map(|at| at + key.len()));
                if let Some(at) = found {
                    let addr = line[at..].split(|c: char| c.is_whitespace() || c == '"').next().unwrap();
                    return addr.parse::<SocketAddr>().unwrap();
                }
            }
            panic!("parlor exited before listening");
        })
        .await
        .expect("parlor listens in time");
        // Keep draining the log so the child never blocks on a full pipe; bytes that are not
        // UTF-8 must not end the capture.
        let kept = log.clone();
        let mut rest = lines.into_inner();
        tokio::spawn(async move {
            let mut line = Vec::new();
            while rest.read_until(b'\n', &mut line).await.is_ok_and(|n| n > 0) {
                kept.lock().unwrap().push(String::from_utf8_lossy(&line).trim_end().to_string());
                line.clear();
            }
        });
        (Process { child, addr }, log)
    }

    /// The server process's resident memory now, in KiB (`VmRSS` in /proc/<pid>/status).
    pub fn rss_kib(&self) -> u64 {
        let pid = self.child.id().expect("the server is running");
        rss_kib_of(&format!("/proc/{pid}/status"))
    }

    /// Its peak resident memory so far, in KiB (`VmHWM`).
    pub fn peak_rss_kib(&self) -> u64 {
        let pid = self.child.id().expect("the server is running");
        status_kib(&format!("/proc/{pid}/status"), "VmHWM:")
    }

    pub fn app_view(&self) -> RemoteApp {
        RemoteApp { addr: self.addr, http: reqwest::Client::new() }
    }

    /// SIGKILL: no shutdown code runs.
    pub async fn kill(mut self) {
        self.child.kill().await.unwrap();
    }

    /// SIGTERM, then wait for a clean exit.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().unwrap();
        std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
        tokio::time::timeout(Duration::from_secs(20), self.child.wait()).await.expect("exits in time").unwrap()
    }
}

/// HTTP helpers against a server in another process.
pub struct RemoteApp {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
}

impl RemoteApp {
    pub async fn get(&self, token: &str, path: &str) -> (StatusCode, Value) {
        send(self.http.get(format!("http://{}{path}", self.addr)).bearer_auth(token)).await
    }

    pub async fn post(&self, token: Option<&str>, path: &str, body: Value) -> (StatusCode, Value) {
        let req = self.http.post(format!("http://{}{path}", self.addr)).json(&body);
        send(match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        })
        .await
    }
}

/// `VmRSS` of a /proc status file, in KiB.
pub fn rss_kib_of(status: &str) -> u64 {
    status_kib(status, "VmRSS:")
}

fn status_kib(status: &str, key: &str) -> u64 {
    let text = std::fs::read_to_string(status).expect("the process's status is readable");
    text.lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("the status file names the size")
}

pub fn temp_path() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data");
    (dir, path)
}
