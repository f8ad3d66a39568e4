//! Webhooks and the outbound-address guard: by default an endpoint inside parlor's network
//! (loopback, private, link-local..., in any spelling, or a name resolving there) is refused at
//! registration, every delivery checks the address again, and redirects are never followed.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::receiver::{Mode, REDIRECTED_PATH, Receiver};
use super::{LOGGED, deliveries, fast, register, wait_logged};
use crate::helpers::{TestApp, WAIT, eventually};

const SETTING: &str = "webhooks.allow_private_targets";

#[tokio::test]
async fn endpoints_inside_the_network_are_refused_by_default_in_every_spelling() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(Mode::Accept).await;
    let port = receiver.addr.port();
    let inside = [
        receiver.url(),
        format!("http://localhost:{port}/hooks/parlor"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[::1]/in".to_owned(),
        "http://[::ffff:127.0.0.1]/in".to_owned(),
        "http://[::ffff:7f00:1]/in".to_owned(),
        "http://2130706433/in".to_owned(),
        "http://0x7f000001/in".to_owned(),
        "http://0x7f.1/in".to_owned(),
        "http://0177.0.0.1/in".to_owned(),
        "http://127.1/in".to_owned(),
        "http://127.0.0.1./in".to_owned(),
        "http://0.0.0.0/in".to_owned(),
        "http://10.0.0.5/in".to_owned(),
        "http://172.16.3.4/in".to_owned(),
        "http://192.168.0.1/in".to_owned(),
        "http://100.64.0.1/in".to_owned(),
        "http://224.0.0.1/in".to_owned(),
        "http://[fd00::1]/in".to_owned(),
        "http://[fe80::1]/in".to_owned(),
        "http://[::]/in".to_owned(),
        "https://user:pass@127.0.0.1:8443/in".to_owned(),
    ];
    for url in &inside {
        let (status, error) = app.server(Method::POST, "/api/server/webhooks", json!({"url": url})).await;
        assert_eq!((status, error["code"].as_str()), (StatusCode::BAD_REQUEST, Some("validation_failed")), "{url}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("url") && message.contains(SETTING), "{url}: {message}");
    }
    let (status, listed) = app.server(Method::GET, "/api/server/webhooks", Value::Null).await;
    assert_eq!((status, listed["results"].as_array().map(Vec::len)), (StatusCode::OK, Some(0)), "{listed}");

    // Public addresses are fine (nothing is sent until an event happens).
    for url in ["http://93.184.215.14/in", "http://[2606:4700::1111]/in", "https://example.com/in"] {
        let (status, created) = app.server(Method::POST, "/api/server/webhooks", json!({"url": url})).await;
        assert_eq!(status, StatusCode::CREATED, "{url}: {created}");
    }
    assert!(receiver.requests().is_empty(), "the listener was never called");
}

#[tokio::test]
async fn every_delivery_checks_the_address_again() {
    let dir = tempfile::tempdir().unwrap();
    let by_address = Receiver::start(Mode::Accept).await;
    let by_name = Receiver::start(Mode::Accept).await;
    let named = format!("http://localhost:{}/hooks/parlor", by_name.addr.port());
    // Registered while private targets were allowed...
    let app = TestApp::spawn_at(dir.path(), fast).await;
    let (address_hook, _) = register(&app, &by_address.url(), Some(LOGGED)).await;
    let (name_hook, _) = register(&app, &named, Some(LOGGED)).await;
    let [alice, bob] = [app.register("alice").await, app.register("bob").await];
    let dm = app.dm(&alice, &bob).await;
    app.send_message(&alice, dm, "while allowed").await;
    let before =
        [delivered_up_to(&by_address, "while allowed").await, delivered_up_to(&by_name, "while allowed").await];
    app.stop().await;

    // ...and delivered after a restart that no longer allows them: the literal address is
    // refused before connecting, the name (localhost) when it resolves at connect time.
    let app = TestApp::spawn_at(dir.path(), |c| {
        fast(c);
        c.webhooks.allow_private_targets = false;
    })
    .await;
    app.send_message(&alice, dm, "after the restart").await;
    for hook in [address_hook, name_hook] {
        let refused = |d: &Value| {
            d["ok"] == false && d["status"].is_null() && d["error"].as_str().is_some_and(|e| e.contains("loopback"))
        };
        wait_logged(&app, hook, "a refused attempt", refused).await;
    }
    let after = [by_address.requests().len(), by_name.requests().len()];
    assert_eq!(after, before, "nothing more reached the literal address, nor the name");
    let logged = deliveries(&app, name_hook).await;
    let error = logged[0]["error"].as_str().unwrap();
    assert!(error.contains(SETTING), "the log says which setting would allow it: {error}");
}

#[tokio::test]
async fn redirects_are_never_followed() {
    let app = TestApp::spawn_with(fast).await;
    let receiver = Receiver::start(Mode::Redirect).await;
    let (hook, _) = register(&app, &receiver.url(), Some(LOGGED)).await;
    let [alice, bob] = [app.register("alice").await, app.register("bob").await];
    let dm = app.dm(&alice, &bob).await;
    app.send_message(&alice, dm, "hello").await;

    wait_logged(&app, hook, "the 307 as a failed attempt", |d| d["status"] == 307 && d["ok"] == false).await;
    receiver.set_mode(Mode::Accept);
    receiver.wait_delivered(1).await;
    let paths: Vec<String> = receiver.requests().iter().map(|r| r.path.clone()).collect();
    assert!(paths.iter().all(|p| p == "/hooks/parlor"), "the redirect was followed: {paths:?}");
    assert!(!paths.iter().any(|p| p == REDIRECTED_PATH));
}

/// Waits until the message with `content` was delivered; returns how many requests arrived.
async fn delivered_up_to(receiver: &Receiver, content: &str) -> usize {
    eventually(WAIT, &format!("{content:?} is delivered"), || async {
        receiver.delivered().iter().any(|r| r.body["data"]["content"] == content)
    })
    .await;
    receiver.requests().len()
}
