//! A small platform for the compat tests: an RFC 7662 introspection endpoint over the tokens
//! and session cookies it issued, counting how often it is asked.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{API_KEY, TestApp};

/// The credentials the platform gave one of its users.
#[derive(Clone, Debug)]
pub struct PlatformUser {
    /// For `Authorization: Token <key>`.
    pub token: String,
    /// The `sessionid` cookie's value.
    pub session: String,
}

impl PlatformUser {
    pub fn auth(&self) -> String {
        format!("Token {}", self.token)
    }

    pub fn cookie(&self) -> String {
        format!("csrftoken=x; sessionid={}", self.session)
    }
}

#[derive(Default)]
pub struct Platform {
    /// Credential to user id.
    credentials: Mutex<HashMap<String, (i64, String)>>,
    pub asked: AtomicUsize,
    pub failing: AtomicBool,
    /// The last request's `Authorization` and form, to check what parlor forwards.
    pub last: Mutex<Option<(String, String)>>,
}

impl Platform {
    pub async fn user(&self, id: i64, name: &str) -> PlatformUser {
        let user = PlatformUser {
            token: format!("drf-token-{id}-0123456789abcdef"),
            session: format!("session{id}abcdefghij"),
        };
        let mut credentials = self.credentials.lock().await;
        credentials.insert(user.token.clone(), (id, name.to_owned()));
        credentials.insert(user.session.clone(), (id, name.to_owned()));
        user
    }

    pub async fn revoke(&self, credential: &str) {
        self.credentials.lock().await.remove(credential);
    }

    pub fn asked(&self) -> usize {
        self.asked.load(Ordering::SeqCst)
    }
}

async fn introspect(
    State(platform): State<Arc<Platform>>,
    headers: HeaderMap,
    body: String,
) -> Result<axum::Json<Value>, AxumStatus> {
    platform.asked.fetch_add(1, Ordering::SeqCst);
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    *platform.last.lock().await = Some((auth.clone(), body.clone()));
    if platform.failing.load(Ordering::SeqCst) {
        return Err(AxumStatus::BAD_GATEWAY);
    }
    if auth != format!("Bearer {API_KEY}") {
        return Err(AxumStatus::UNAUTHORIZED);
    }
    let form: HashMap<String, String> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let token = form.get("token").cloned().unwrap_or_default();
    let answer = match platform.credentials.lock().await.get(&token) {
        Some((id, name)) => json!({"active": true, "sub": id.to_string(), "username": name, "name": name,
                                   "avatar": format!("https://platform.example/avatars/{id}.png")}),
        None => json!({"active": false}),
    };
    Ok(axum::Json(answer))
}

/// Serves `platform`; returns its introspection URL.
pub async fn serve(platform: Arc<Platform>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/internal/introspect", listener.local_addr().unwrap());
    let app = axum::Router::new().route("/internal/introspect", post(introspect)).with_state(platform);
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    url
}

/// A parlor asking `platform` about credentials, with the given seeds on.
pub async fn spawn(seeds: &[&str]) -> (TestApp, Arc<Platform>) {
    spawn_with(seeds, |_| {}).await
}

/// As [`spawn`], with other settings changed too.
pub async fn spawn_with(
    seeds: &[&str],
    tweak: impl FnOnce(&mut parlor_server::config::Config) + Send + 'static,
) -> (TestApp, Arc<Platform>) {
    let platform = Arc::new(Platform::default());
    let url = serve(platform.clone()).await;
    let seeds: Vec<String> = seeds.iter().map(|s| (*s).to_owned()).collect();
    let app = TestApp::spawn_with(move |c| {
        c.auth.introspection_url = url;
        c.auth.allow_private_targets = true;
        c.compat.seeds = seeds;
        tweak(c);
    })
    .await;
    (app, platform)
}

/// A request with the platform's credential.
pub fn as_user(app: &TestApp, method: reqwest::Method, path: &str, user: &PlatformUser) -> reqwest::RequestBuilder {
    app.http.request(method, app.url(path)).header("authorization", user.auth())
}

/// Sends and reads the JSON answer.
pub async fn call(request: reqwest::RequestBuilder) -> (reqwest::StatusCode, Value) {
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// A seed's socket at `path`, with the platform's token in the query (`?token=`).
pub async fn socket(app: &TestApp, path: &str, user: &PlatformUser) -> crate::helpers::Ws {
    let url = format!("ws://{}{path}?token={}", app.addr, user.token);
    crate::helpers::Ws::connect_quiet(url.into_client_request().unwrap()).await
}

/// A seed's socket opened by a page of the platform: its session cookie, as Django Channels'
/// `AuthMiddlewareStack` reads it.
pub async fn socket_with_cookie(app: &TestApp, path: &str, user: &PlatformUser) -> crate::helpers::Ws {
    let mut request = format!("ws://{}{path}", app.addr).into_client_request().unwrap();
    request.headers_mut().insert("cookie", user.cookie().parse().unwrap());
    crate::helpers::Ws::connect_quiet(request).await
}
