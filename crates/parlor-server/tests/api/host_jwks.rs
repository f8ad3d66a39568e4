//! Host tokens verified with the platform's JSON Web Key Set (`host_tokens.jwks_url`): an RS256
//! issuer served by the test rotates its keys, fails for a while and is flooded with made-up
//! key ids; the set must be fetched once and cached, fetched again for a new key id (rarely),
//! outlive a failed fetch, and drop a withdrawn key. The outbound guard refuses a key server on
//! a private address unless allowed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use axum::extract::State;
use axum::http::StatusCode as AxumStatus;
use axum::routing::get;
use jsonwebtoken::Algorithm;
use parlor_server::auth::HostAlgorithm;
use parlor_server::config::{Config, Secret};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::helpers::eventually;
use crate::helpers::{TestApp, WAIT, unix_now};
use crate::host_tokens::{key_file, mint, who};

/// A platform's key server: the set it publishes, whether it is failing, and how often it was asked.
#[derive(Default)]
struct Issuer {
    set: Mutex<Value>,
    failing: AtomicBool,
    fetches: AtomicUsize,
}

impl Issuer {
    async fn publish(&self, kids: &[&str]) {
        let keys: Vec<Value> =
            kids.iter().map(|kid| serde_json::from_str(&key_file(&format!("rsa-{kid}.jwk.json"))).unwrap()).collect();
        *self.set.lock().await = json!({"keys": keys});
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

async fn jwks(State(issuer): State<Arc<Issuer>>) -> Result<axum::Json<Value>, AxumStatus> {
    issuer.fetches.fetch_add(1, Ordering::SeqCst);
    if issuer.failing.load(Ordering::SeqCst) {
        return Err(AxumStatus::INTERNAL_SERVER_ERROR);
    }
    Ok(axum::Json(issuer.set.lock().await.clone()))
}

/// Serves `issuer` on 127.0.0.1; returns the set's URL.
async fn serve(issuer: Arc<Issuer>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/.well-known/jwks.json", listener.local_addr().unwrap());
    let app = axum::Router::new().route("/.well-known/jwks.json", get(jwks)).with_state(issuer);
    tokio::spawn(async move { axum::serve(listener, app).await.ok() });
    url
}

fn jwks_config(url: String) -> impl FnOnce(&mut Config) {
    move |c| {
        c.host_tokens.algorithm = HostAlgorithm::RS256;
        c.host_tokens.jwks_url = url;
        c.host_tokens.allow_private_targets = true;
    }
}

fn claims(user: &str) -> Value {
    json!({"sub": user, "exp": unix_now() + 300, "name": format!("Person {user}")})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_rs256_issuer_rotates_its_keys_through_its_jwks() {
    let issuer = Arc::new(Issuer::default());
    issuer.publish(&["a"]).await;
    let app = TestApp::spawn_with(jwks_config(serve(issuer.clone()).await)).await;
    assert_eq!(issuer.fetches(), 0, "fetched on first use, not at start");

    let signed_by =
        |kid: &str, user: &str| mint(Algorithm::RS256, &format!("rsa-{kid}.key.pem"), Some(kid), &claims(user));
    assert_eq!(who(&app, &signed_by("a", "u-1")).await.unwrap()["name"], "Person u-1");
    for user in ["u-1", "u-2", "u-3"] {
        assert!(who(&app, &signed_by("a", user)).await.is_ok());
    }
    app.ws(&signed_by("a", "u-4")).await.close().await;
    assert_eq!(issuer.fetches(), 1, "the set is cached");
    // Not the configured algorithm: refused before any fetch.
    let hs = mint(Algorithm::HS256, "", Some("a"), &claims("u-1"));
    assert_eq!(who(&app, &hs).await.unwrap_err(), "token algorithm is not accepted (RS256 only)");
    assert_eq!(issuer.fetches(), 1);

    // The key server fails: an unknown key id makes parlor try it (once it may), and the keys it
    // already knows keep working.
    issuer.failing.store(true, Ordering::SeqCst);
    let unknown = signed_by("a", "u-1").replacen(&header_kid("a"), &header_kid("zz"), 1);
    eventually(WAIT, "a refetch is attempted for an unknown key id", || async {
        let why = who(&app, &unknown).await.unwrap_err();
        assert_eq!(why, "token key id (`kid`) is not among the platform's keys");
        issuer.fetches() >= 2
    })
    .await;
    assert!(who(&app, &signed_by("a", "u-1")).await.is_ok(), "known keys outlive a failed fetch");

    // Rotation: the issuer publishes b and withdraws a; a token signed with b gets through as
    // soon as parlor may fetch again, and a stops working.
    issuer.failing.store(false, Ordering::SeqCst);
    issuer.publish(&["b"]).await;
    let by_b = signed_by("b", "u-5");
    eventually(WAIT, "the new key is fetched", || async { who(&app, &by_b).await.is_ok() }).await;
    let why = who(&app, &signed_by("a", "u-1")).await.unwrap_err();
    assert_eq!(why, "token key id (`kid`) is not among the platform's keys", "a withdrawn key");
    // A token naming no key is tried against every key of the set.
    assert!(who(&app, &mint(Algorithm::RS256, "rsa-b.key.pem", None, &claims("u-6"))).await.is_ok());
    let wrong = mint(Algorithm::RS256, "rsa-a.key.pem", Some("b"), &claims("u-6"));
    assert_eq!(who(&app, &wrong).await.unwrap_err(), "token signature is invalid");

    // Made-up key ids cannot turn parlor against the key server.
    let before = issuer.fetches();
    for n in 0..20 {
        let made_up = signed_by("b", "u-1").replacen(&header_kid("b"), &header_kid(&format!("x{n}")), 1);
        assert!(who(&app, &made_up).await.is_err());
    }
    let extra = issuer.fetches() - before;
    assert!(extra <= 2, "20 unknown key ids caused {extra} fetches");
    app.stop().await;
}

/// The base64url of a JWT header naming `kid`, as `mint` writes it, to swap one kid for another
/// without re-signing (the signature then no longer matters: the kid is looked up first).
fn header_kid(kid: &str) -> String {
    use base64::Engine;
    let mut header = jsonwebtoken::Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap())
}

#[tokio::test]
async fn a_key_server_that_never_answered_is_a_503_not_a_bad_token() {
    let closed = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/jwks.json", probe.local_addr().unwrap())
    };
    let app = TestApp::spawn_with(jwks_config(closed)).await;
    let token = mint(Algorithm::RS256, "rsa-a.key.pem", Some("a"), &claims("u-1"));
    let (status, body) = app.get(Some(&token), "/api/users/me").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "unavailable");
    app.stop().await;
}

#[tokio::test]
async fn a_key_server_on_a_private_address_is_refused_unless_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::helpers::test_config(dir.path());
    jwks_config("http://127.0.0.1:9/jwks.json".into())(&mut config);
    config.host_tokens.allow_private_targets = false;
    let error = parlor_server::Server::bind(config).await.err().map(|e| format!("{e:#}")).unwrap_or_default();
    assert!(error.contains("`host_tokens.jwks_url`") && error.contains("host_tokens.allow_private_targets"), "{error}");

    let mut config = crate::helpers::test_config(dir.path());
    jwks_config("http://127.0.0.1:9/jwks.json".into())(&mut config);
    config.jwt_secret = Secret::new("a-secret-beside-a-key-set-0123456789");
    let error = parlor_server::Server::bind(config).await.err().map(|e| format!("{e:#}")).unwrap_or_default();
    assert!(error.contains("`jwt_secret`"), "{error}");
}
