//! Credentials only the platform can check (`auth.introspection_url`): a DRF `Token` and the
//! Django session cookie are forwarded to the platform's RFC 7662 endpoint (a real HTTP server
//! the test runs), answers are cached for `auth.cache_secs`, a revoked credential stops
//! working once its answer expires, a platform that fails is a 503 rather than a refusal, and
//! the outbound-address guard refuses a private URL unless allowed.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use parlor_server::Server;
use reqwest::Method;

use super::platform::{Platform, as_user, call, serve, spawn};
use crate::helpers::{API_KEY, TestApp, WAIT, eventually, test_config};

#[tokio::test]
async fn platform_credentials_are_asked_of_the_platform_and_cached() {
    let (app, platform) = spawn(&["000"]).await;
    let alice = platform.user(7, "alice").await;

    let (status, me) = call(as_user(&app, Method::GET, "/api/users/me", &alice)).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["name"], "alice");
    assert_eq!(me["avatar"], "https://platform.example/avatars/7.png");
    let (auth, form) = platform.last.lock().await.clone().unwrap();
    assert_eq!(auth, format!("Bearer {API_KEY}"), "parlor says who it is with its api_key");
    assert_eq!(form, format!("token={}&token_type_hint=access_token", alice.token));

    // The same user by the session cookie, on parlor's own API: one more question, then cached.
    let by_cookie = app.http.get(app.url("/api/users/me")).header("cookie", alice.cookie());
    let (status, same) = call(by_cookie).await;
    assert_eq!((status.as_u16(), &same["id"]), (200, &me["id"]));
    let (_, form) = platform.last.lock().await.clone().unwrap();
    assert_eq!(form, format!("token={}&token_type_hint=session", alice.session));
    let asked = platform.asked();
    assert_eq!(asked, 2);
    for _ in 0..5 {
        let (status, _) = call(as_user(&app, Method::GET, "/api/chat/unread-count/", &alice)).await;
        assert_eq!(status, 200);
    }
    assert_eq!(platform.asked(), asked, "answers are cached");

    // Not active: 401 with a reason; a Bearer token is never sent to the platform.
    let (status, body) =
        call(app.http.get(app.url("/api/users/me")).header("authorization", "Token made-up-key")).await;
    assert_eq!(status, 401, "{body}");
    assert!(body["message"].as_str().unwrap().contains("not active"), "{body}");
    let asked = platform.asked();
    let (status, _) = app.get(Some("not-a-jwt"), "/api/users/me").await;
    assert_eq!(status, 401);
    assert_eq!(platform.asked(), asked);

    // The platform down: 503, and the server keeps serving.
    platform.failing.store(true, Ordering::SeqCst);
    let stranger = platform.user(8, "bob").await;
    let (status, body) = call(as_user(&app, Method::GET, "/api/users/me", &stranger)).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["code"], "unavailable");
    platform.failing.store(false, Ordering::SeqCst);
    let (status, _) = call(as_user(&app, Method::GET, "/api/users/me", &stranger)).await;
    assert_eq!(status, 200, "a failure is not remembered");
}

#[tokio::test]
async fn a_revoked_credential_stops_working_when_its_answer_expires() {
    let platform = Arc::new(Platform::default());
    let url = serve(platform.clone()).await;
    let app = TestApp::spawn_with(move |c| {
        c.auth.introspection_url = url;
        c.auth.allow_private_targets = true;
        c.auth.cache_secs = 1;
    })
    .await;
    let alice = platform.user(9, "alice").await;
    let (status, _) = call(as_user(&app, Method::GET, "/api/users/me", &alice)).await;
    assert_eq!(status, 200);
    platform.revoke(&alice.token).await;
    let started = Instant::now();
    eventually(WAIT, "the revoked credential is refused", || async {
        call(as_user(&app, Method::GET, "/api/users/me", &alice)).await.0 == 401
    })
    .await;
    assert!(started.elapsed() >= Duration::from_millis(500), "the cached answer was used first");
}

#[tokio::test]
async fn a_private_introspection_url_needs_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.auth.introspection_url = "http://127.0.0.1:9/introspect".into();
    let refused = Server::bind(config.clone()).await.err().expect("refused at start").to_string();
    assert!(refused.contains("auth.introspection_url") && refused.contains("auth.allow_private_targets"), "{refused}");
    config.auth.allow_private_targets = true;
    assert!(Server::bind(config).await.is_ok());
}
