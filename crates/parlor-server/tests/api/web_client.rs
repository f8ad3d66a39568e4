//! The web client: served by the binary (headers, caching, embedding policy), and driven end to
//! end in headless Chromium by `tests/web/e2e.test.mjs` (two browser contexts as two people,
//! plus a host page embedding the "Chat with X" button). The browser suite needs Node.js,
//! `npm ci` in `tests/web` and Debian's `chromium`, which `.ci/run` installs; without them a
//! local `cargo test` says so loudly and skips that one test, and CI fails instead.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{API_KEY, TestApp};

pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";

#[tokio::test]
async fn the_client_is_served_with_a_strict_policy_and_revalidated_caching() {
    let app = TestApp::spawn_with(|c| c.web.embed_origins = vec!["https://platform.example".into()]).await;
    let page = app.http.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'self' https://platform.example"), "{csp}");
    assert!(page.text().await.unwrap().contains("/app/js/main.js"));

    let script = app.http.get(app.url("/app/js/main.js")).send().await.unwrap();
    assert_eq!(script.headers()["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(script.headers()["cache-control"], "no-cache");
    let etag = script.headers()["etag"].clone();
    let again = app.http.get(app.url("/app/js/main.js")).header("if-none-match", etag).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);

    let embed = app.http.get(app.url("/embed.js")).send().await.unwrap();
    assert_eq!(embed.status(), StatusCode::OK);
    assert!(embed.text().await.unwrap().contains("data-parlor-chat-with"));
    for missing in ["/app/js/missing.js", "/app/../Cargo.toml", "/app/index.html"] {
        let (status, body) = app.get(None, missing).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        assert_eq!(body["code"], "not_found");
    }
    app.stop().await;

    let off = TestApp::spawn_with(|c| c.web.enabled = false).await;
    assert_eq!(off.get(None, "/").await.0, StatusCode::NOT_FOUND);
    off.stop().await;
}

#[tokio::test]
async fn a_client_finds_the_host_platforms_user_by_its_id() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let (status, _) = app.get(Some(&alice.token), "/api/chat/users/by-external/u-7").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, made) = app.server(reqwest::Method::PUT, "/api/server/users/u-7", json!({"name": "Hana"})).await;
    let (status, found) = app.get(Some(&alice.token), "/api/chat/users/by-external/u-7").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((found["id"].clone(), found["name"].clone()), (made["id"].clone(), json!("Hana")));
    app.stop().await;
}

pub(crate) fn web_tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/web")
}

/// Why the browser suite cannot run here, if it cannot.
pub(crate) fn missing_browser_tools() -> Option<String> {
    let node = std::process::Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Some("node is not installed".into());
    }
    if !web_tests_dir().join("node_modules/playwright-core").exists() {
        return Some("playwright-core is not installed (run `npm ci` in crates/parlor-server/tests/web)".into());
    }
    if !Path::new(CHROMIUM).exists() {
        return Some(format!("{CHROMIUM} is missing (apt-get install chromium)"));
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_chat_in_real_browsers() {
    if let Some(why) = missing_browser_tools() {
        assert!(std::env::var_os("CI").is_none(), "the web client's browser tests must run in CI: {why}");
        eprintln!("SKIPPED two_people_chat_in_real_browsers: {why}");
        return;
    }
    // The host page of the embed test runs on its own origin, which parlor must allow to frame it.
    let host_port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let host_origin = format!("http://127.0.0.1:{host_port}");
    let app = TestApp::spawn_with(|c| {
        c.jwt_secret = parlor_server::config::Secret::new("host-app-secret");
        c.web.embed_origins = vec![host_origin.clone()];
        c.limits.presence_grace_ms = 500;
    })
    .await;
    let screenshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots");
    let run = tokio::process::Command::new("node")
        .args(["--test", "--test-reporter=spec", "e2e.test.mjs"])
        .current_dir(web_tests_dir())
        .env("PARLOR_URL", app.url(""))
        .env("HOST_PORT", host_port.to_string())
        .env("JWT_SECRET", "host-app-secret")
        .env("API_KEY", API_KEY)
        .env("SCREENSHOT_DIR", &screenshots)
        .env("CHROMIUM", CHROMIUM)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    let output =
        tokio::time::timeout(Duration::from_secs(300), run).await.expect("browser tests finish in 5 minutes").unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "browser tests failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    eprintln!("{stdout}");
    app.stop().await;
}
