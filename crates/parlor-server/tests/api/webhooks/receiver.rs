//! A webhook endpoint for the tests: a real HTTP server on 127.0.0.1 that records every request
//! (path, headers, body, the status it answered) and can be told to fail, to hang, to redirect
//! elsewhere, or to stop listening altogether and come back on the same port.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::{Notify, oneshot};

use crate::helpers::WAIT;

/// How the endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept,
    Fail,
    /// Never answers: the sender's timeout ends the attempt.
    Hang,
    /// Answers 307 to [`REDIRECTED_PATH`] on the same listener, which records and accepts.
    Redirect,
}

/// Where [`Mode::Redirect`] sends the sender; a request here means the redirect was followed.
pub const REDIRECTED_PATH: &str = "/hooks/elsewhere";

#[derive(Debug, Clone)]
pub struct Request {
    pub path: String,
    pub headers: HeaderMap,
    pub raw: Bytes,
    pub body: Value,
    pub answered: StatusCode,
}

impl Request {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    /// Checks `X-Parlor-Signature` as a receiver should: HMAC-SHA256 of `"<t>.<body>"` with the
    /// secret, and a timestamp within five minutes.
    pub fn assert_signed_with(&self, secret: &str) {
        let header = self.header("x-parlor-signature");
        let (t, v1) = header
            .split_once(',')
            .and_then(|(t, v1)| Some((t.strip_prefix("t=")?, v1.strip_prefix("v1=")?)))
            .unwrap_or_else(|| panic!("malformed signature header {header:?}"));
        let sent: i64 = t.parse().unwrap();
        let now = chrono::Utc::now().timestamp();
        assert!((now - sent).abs() <= 300, "signature timestamp {sent} is outside the replay window");
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{t}.").as_bytes());
        mac.update(&self.raw);
        let expected: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(v1, expected, "signature does not match the body");
    }
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Request>>,
    mode: Mutex<Option<Mode>>,
    arrived: Notify,
}

pub struct Receiver {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>,
}

impl Receiver {
    pub async fn start(mode: Mode) -> Receiver {
        let mut receiver = Receiver { addr: "127.0.0.1:0".parse().unwrap(), shared: Arc::default(), stop: None };
        receiver.set_mode(mode);
        receiver.listen().await;
        receiver
    }

    pub fn url(&self) -> String {
        format!("http://{}/hooks/parlor", self.addr)
    }

    pub fn set_mode(&self, mode: Mode) {
        *self.shared.mode.lock().unwrap() = Some(mode);
    }

    /// Stops listening: connections are closed and new ones refused.
    pub async fn go_away(&mut self) {
        let (stop, task) = self.stop.take().expect("receiver is listening");
        stop.send(()).ok();
        tokio::time::timeout(WAIT, task).await.expect("receiver stops in time").unwrap();
    }

    /// Listens again on the same port.
    pub async fn come_back(&mut self, mode: Mode) {
        self.set_mode(mode);
        self.listen().await;
    }

    async fn listen(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.addr).await.expect("receiver binds");
        self.addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .route("/hooks/parlor", axum::routing::post(record))
            .route(REDIRECTED_PATH, axum::routing::post(record))
            .with_state(self.shared.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    stopped.await.ok();
                })
                .await
                .unwrap();
        });
        self.stop = Some((stop, task));
    }

    pub fn requests(&self) -> Vec<Request> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// The requests answered 2xx: what the sender counts as delivered.
    pub fn delivered(&self) -> Vec<Request> {
        self.requests().into_iter().filter(|r| r.answered.is_success()).collect()
    }

    /// Waits until at least `n` requests were delivered; returns them all.
    pub async fn wait_delivered(&self, n: usize) -> Vec<Request> {
        self.wait_until(|r| r.delivered().len() >= n, &format!("{n} deliveries")).await;
        self.delivered()
    }

    /// Waits until a delivered request matches `wanted`; returns it.
    pub async fn wait_for(&self, what: &str, wanted: impl Fn(&Request) -> bool) -> Request {
        self.wait_until(|r| r.delivered().iter().any(&wanted), what).await;
        self.delivered().into_iter().find(|r| wanted(r)).expect("just seen")
    }

    /// Waits until at least `n` requests arrived, answered or not.
    pub async fn wait_requests(&self, n: usize) {
        self.wait_until(|r| r.requests().len() >= n, &format!("{n} requests")).await;
    }

    async fn wait_until(&self, done: impl Fn(&Receiver) -> bool, what: &str) {
        let wait = async {
            loop {
                let arrived = self.shared.arrived.notified();
                if done(self) {
                    return;
                }
                arrived.await;
            }
        };
        if tokio::time::timeout(WAIT, wait).await.is_err() {
            let seen: Vec<_> = self.requests().iter().map(|r| (r.answered, r.body["type"].clone())).collect();
            panic!("waited in vain for {what}; received {seen:?}");
        }
    }
}

async fn record(
    State(shared): State<Arc<Shared>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> (StatusCode, HeaderMap) {
    let mode = shared.mode.lock().unwrap().unwrap_or(Mode::Accept);
    let path = uri.path().to_owned();
    let mut answer = HeaderMap::new();
    let answered = match mode {
        Mode::Hang => std::future::pending().await,
        _ if path == REDIRECTED_PATH => StatusCode::OK,
        Mode::Accept => StatusCode::OK,
        Mode::Fail => StatusCode::SERVICE_UNAVAILABLE,
        Mode::Redirect => {
            answer.insert(axum::http::header::LOCATION, REDIRECTED_PATH.parse().unwrap());
            StatusCode::TEMPORARY_REDIRECT
        }
    };
    let body = serde_json::from_slice(&raw).unwrap_or(Value::Null);
    shared.requests.lock().unwrap().push(Request { path, headers, raw, body, answered });
    shared.arrived.notify_waiters();
    (answered, answer)
}
