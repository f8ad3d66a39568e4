//! The web client: served by the binary (headers, caching, embedding policy, the service
//! worker), the API the embed needs (platform users by reference and by lookup), and driven end
//! to end in headless Chromium by the suite in `tests/web/` (`e2e`: chatting; `layout`: what
//! people see at 390 and 1280 px, axe-core, screenshots; `people`: profiles, connections, rooms;
//! `media`: voice notes, players, offline; `embed`: a host page on another origin). The browser
//! suite needs Node.js, `npm ci` in `tests/web` and Debian's `chromium`, which `.ci/run`
//! installs; without them a local `cargo test` says so loudly and skips that one test, and CI
//! fails instead.

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
    // The service worker is served at the root (its scope is the app) with the list it caches.
    let worker = app.http.get(app.url("/sw.js")).send().await.unwrap();
    assert_eq!(worker.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(worker.text().await.unwrap().contains("addEventListener('fetch'"));
    let (status, listed) = app.get(None, "/app/assets.json").await;
    assert_eq!(status, StatusCode::OK);
    let listed: Vec<&str> = listed.as_array().unwrap().iter().filter_map(|p| p.as_str()).collect();
    assert!(listed.contains(&"js/main.js") && listed.contains(&"manifest.webmanifest"), "{listed:?}");
    // The SDK's modules the client is built on are listed by their own paths.
    assert!(listed.contains(&"/sdk/parlor.js") && listed.contains(&"/sdk/connection.js"), "{listed:?}");
    for path in &listed {
        let url = if path.starts_with('/') { path.to_string() } else { format!("/app/{path}") };
        assert_eq!(app.get(None, &url).await.0, StatusCode::OK, "{path} is listed but not served");
    }
    let manifest = app.http.get(app.url("/app/manifest.webmanifest")).send().await.unwrap();
    assert_eq!(manifest.headers()["content-type"], "application/manifest+json");
    for missing in ["/app/js/missing.js", "/app/../Cargo.toml", "/app/index.html", "/app/sw.js"] {
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
async fn the_js_sdk_is_served_with_its_types_whether_or_not_the_client_is() {
    let app = TestApp::spawn_with(|c| {
        c.web.enabled = false;
        c.http.cors_allowed_origins = vec!["https://platform.example".into()];
    })
    .await;
    // A page on the platform's origin imports it as a module: a CORS request.
    let sdk =
        app.http.get(app.url("/sdk/parlor.js")).header("origin", "https://platform.example").send().await.unwrap();
    assert_eq!(sdk.status(), StatusCode::OK);
    assert_eq!(sdk.headers()["content-type"], "text/javascript; charset=utf-8");
    assert_eq!(sdk.headers()["access-control-allow-origin"], "https://platform.example");
    let text = sdk.text().await.unwrap();
    assert!(text.contains("export function createClient"), "{text}");
    let types = app.http.get(app.url("/sdk/parlor.d.ts")).send().await.unwrap();
    assert_eq!(types.status(), StatusCode::OK);
    assert!(
        types.text().await.unwrap().contains("export function createClient(options: ClientOptions): ParlorClient;")
    );
    let generated = app.http.get(app.url("/sdk/endpoints.js")).send().await.unwrap().text().await.unwrap();
    assert!(generated.contains("conversationsList: [\"GET\", \"/api/chat/conversations\"]"), "{generated}");
    for missing in ["/sdk/missing.js", "/sdk/..%2FCargo.toml", "/sdk/"] {
        assert_eq!(app.get(None, missing).await.0, StatusCode::NOT_FOUND, "{missing}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_client_finds_the_host_platforms_user_by_its_id() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let (status, _) = alice.get("/api/chat/users/by-external/u-7").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, made) = app.server(reqwest::Method::PUT, "/api/server/users/u-7", json!({"name": "Hana"})).await;
    let (status, found) = alice.get("/api/chat/users/by-external/u-7").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!((found["id"].clone(), found["name"].clone()), (made["id"].clone(), json!("Hana")));
    app.stop().await;
}

#[tokio::test]
async fn the_server_api_looks_up_a_platform_user() {
    let app = TestApp::spawn().await;
    let (status, body) = app.server(reqwest::Method::GET, "/api/server/users/u-9", json!(null)).await;
    assert_eq!((status, body["code"].clone()), (StatusCode::NOT_FOUND, json!("not_found")));
    let (_, made) = app.server(reqwest::Method::PUT, "/api/server/users/u-9", json!({"name": "Ines"})).await;
    let (status, found) = app.server(reqwest::Method::GET, "/api/server/users/u-9", json!(null)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found, made);
    assert_eq!(found["external_id"], "u-9");
    // Only with the key.
    let anonymous = app.http.get(app.url("/api/server/users/u-9")).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

fn host_token(sub: &str, name: Option<&str>) -> String {
    let mut claims = json!({"sub": sub, "exp": crate::helpers::unix_now() + 600});
    if let Some(name) = name {
        claims["name"] = json!(name);
    }
    crate::helpers::sign(jsonwebtoken::Algorithm::HS256, "host-app-secret-0123456789abcdef0123456789", &claims)
}

#[tokio::test]
async fn chat_with_a_platform_user_parlor_never_saw_creates_them_and_names_them_later() {
    let app = TestApp::spawn_with(|c| {
        c.jwt_secret = parlor_server::config::Secret::new("host-app-secret-0123456789abcdef0123456789")
    })
    .await;
    let ian = host_token("u-1", Some("Ian Host"));
    let (status, conversation) = app.post(Some(&ian), "/api/chat/conversations/", json!({"external_id": "u-42"})).await;
    assert_eq!(status, StatusCode::CREATED, "{conversation}");
    let other = |c: &serde_json::Value| {
        c["members"].as_array().unwrap().iter().find(|m| m["name"] != "Ian Host").cloned().unwrap()
    };
    assert_eq!(other(&conversation)["name"], "User u-42");
    // The same reference again is the same conversation, and the platform can look them up.
    let (status, again) = app.post(Some(&ian), "/api/chat/conversations/", json!({"external_id": "u-42"})).await;
    assert_eq!((status, again["id"].clone()), (StatusCode::OK, conversation["id"].clone()));
    let (status, known) = app.server(reqwest::Method::GET, "/api/server/users/u-42", json!(null)).await;
    assert_eq!((status, known["name"].clone()), (StatusCode::OK, json!("User u-42")));

    // Named as soon as the platform tells parlor: a server-API upsert...
    app.server(reqwest::Method::PUT, "/api/server/users/u-42", json!({"name": "Zoe Platform"})).await;
    let path = format!("/api/chat/conversations/{}/", conversation["id"]);
    assert_eq!(other(&app.get(Some(&ian), &path).await.1)["name"], "Zoe Platform");
    // ...or their own first token.
    let (_, second) = app.post(Some(&ian), "/api/chat/conversations/", json!({"external_id": "u-43"})).await;
    let (status, _) = app.get(Some(&host_token("u-43", Some("Yann First"))), "/api/users/me/").await;
    assert_eq!(status, StatusCode::OK);
    let path = format!("/api/chat/conversations/{}/", second["id"]);
    assert_eq!(other(&app.get(Some(&ian), &path).await.1)["name"], "Yann First");

    // One of the two, never both or neither; a malformed id is a plain 404.
    for body in [json!({}), json!({"user_id": 1, "external_id": "u-42"})] {
        let (status, answer) = app.post(Some(&ian), "/api/chat/conversations/", body).await;
        assert_eq!((status, answer["code"].clone()), (StatusCode::BAD_REQUEST, json!("validation_failed")), "{answer}");
    }
    let (status, _) = app.post(Some(&ian), "/api/chat/conversations/", json!({"external_id": "has space"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    app.stop().await;
}

/// The platform's user-info endpoint, as a test server: who u-55 is; an error for anyone else.
async fn user_info_server() -> std::net::SocketAddr {
    use axum::extract::Path;
    use axum::http::HeaderMap;
    let app = axum::Router::new().route(
        "/users/{id}",
        axum::routing::get(|Path(id): Path<String>, headers: HeaderMap| async move {
            let authorized = headers.get("authorization").is_some_and(|v| v == format!("Bearer {API_KEY}").as_str());
            match (authorized, id.as_str()) {
                (true, "u-55") => {
                    (StatusCode::OK, axum::Json(json!({"name": "Nadia Info", "avatar": "https://cdn.example/n.png"})))
                }
                (false, _) => (StatusCode::UNAUTHORIZED, axum::Json(json!({}))),
                _ => (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({}))),
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

#[tokio::test]
async fn a_user_named_by_reference_is_named_by_the_platforms_user_info_url() {
    let addr = user_info_server().await;
    let app = TestApp::spawn_with(|c| {
        c.jwt_secret = parlor_server::config::Secret::new("host-app-secret-0123456789abcdef0123456789");
        c.host_users.user_info_url = format!("http://{addr}/users/{{external_id}}");
        c.host_users.allow_private_targets = true;
    })
    .await;
    let ian = host_token("u-1", Some("Ian Host"));
    let other = |c: &serde_json::Value| {
        c["members"].as_array().unwrap().iter().find(|m| m["name"] != "Ian Host").cloned().unwrap()
    };
    let (status, known) = app.post(Some(&ian), "/api/chat/conversations/", json!({"external_id": "u-55"})).await;
    assert_eq!(status, StatusCode::CREATED, "{known}");
    assert_eq!(other(&known)["name"], "Nadia Info");
    assert_eq!(other(&known)["avatar"], "https://cdn.example/n.png");
    // The platform failing to answer leaves the placeholder; the chat opens all the same.
    let (status, unknown) = app.post(Some(&ian), "/api/chat/conversations/", json!({"external_id": "u-56"})).await;
    assert_eq!(status, StatusCode::CREATED, "{unknown}");
    assert_eq!(other(&unknown)["name"], "User u-56");
    app.stop().await;
}

#[tokio::test]
async fn a_user_info_url_that_cannot_work_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let start = |tweak: &dyn Fn(&mut parlor_server::config::Config)| {
        let mut config = crate::helpers::test_config(dir.path());
        config.jwt_secret = parlor_server::config::Secret::new("host-app-secret-0123456789abcdef0123456789");
        tweak(&mut config);
        async move { parlor_server::Server::bind(config).await.err().map(|e| format!("{e:#}")).unwrap_or_default() }
    };
    let private = start(&|c| c.host_users.user_info_url = "http://127.0.0.1:9/users/{external_id}".into()).await;
    assert!(
        private.contains("`host_users.user_info_url`") && private.contains("host_users.allow_private_targets"),
        "{private}"
    );
    let no_placeholder = start(&|c| c.host_users.user_info_url = "https://platform.example/users".into()).await;
    assert!(no_placeholder.contains("{external_id}"), "{no_placeholder}");
    let not_http = start(&|c| c.host_users.user_info_url = "ftp://platform.example/{external_id}".into()).await;
    assert!(not_http.contains("`host_users.user_info_url`"), "{not_http}");
}

#[tokio::test]
async fn without_host_tokens_a_platform_reference_finds_only_known_users() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let (status, body) = alice.post("/api/chat/conversations/", json!({"external_id": "u-7"})).await;
    assert_eq!((status, body["code"].clone()), (StatusCode::NOT_FOUND, json!("not_found")));
    assert_eq!(app.server(reqwest::Method::GET, "/api/server/users/u-7", json!(null)).await.0, StatusCode::NOT_FOUND);
    app.server(reqwest::Method::PUT, "/api/server/users/u-7", json!({"name": "Hana"})).await;
    let (status, body) = alice.post("/api/chat/conversations/", json!({"external_id": "u-7"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app.stop().await;
}

pub(crate) fn web_tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/web")
}

/// Where the browser suites write the screenshots the docs show.
pub(crate) fn screenshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
}

/// Runs `files` of `tests/web` one at a time (each drives its own Chromium on a two-core
/// machine) against `app`, with `env` added; fails with their output unless all pass within
/// `limit`. Returns what they printed.
pub(crate) async fn run_browser_tests(
    app: &TestApp,
    files: &[&str],
    env: &[(&str, String)],
    limit: Duration,
) -> String {
    let mut command = tokio::process::Command::new("node");
    command
        .args(["--test", "--test-concurrency=1", "--test-reporter=spec"])
        .args(files)
        .current_dir(web_tests_dir())
        .env("PARLOR_URL", app.url(""))
        .env("CHROMIUM", CHROMIUM)
        .env_remove("SCREENSHOT_DIR")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let output = tokio::time::timeout(limit, command.output())
        .await
        .unwrap_or_else(|_| panic!("browser tests {files:?} finish within {limit:?}"))
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "browser tests {files:?} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    stdout.into_owned()
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
        c.jwt_secret = parlor_server::config::Secret::new("host-app-secret-0123456789abcdef0123456789");
        c.web.embed_origins = vec![host_origin.clone()];
        c.limits.presence_grace_ms = 500;
    })
    .await;
    let files =
        ["e2e.test.mjs", "layout.test.mjs", "people.test.mjs", "media.test.mjs", "embed.test.mjs", "privacy.test.mjs"];
    let env = [
        ("HOST_PORT", host_port.to_string()),
        ("JWT_SECRET", "host-app-secret-0123456789abcdef0123456789".to_owned()),
        ("API_KEY", API_KEY.to_owned()),
        ("SCREENSHOT_DIR", screenshot_dir().display().to_string()),
    ];
    eprintln!("{}", run_browser_tests(&app, &files, &env, Duration::from_secs(900)).await);
    app.stop().await;
}

/// Web Push in Chromium (`tests/web/push.test.mjs`): the panel's switch, the settings dialog,
/// the service worker's push handler (through the DevTools protocol) and sign-out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_in_a_real_browser() {
    if let Some(why) = missing_browser_tools() {
        assert!(std::env::var_os("CI").is_none(), "the web client's browser tests must run in CI: {why}");
        eprintln!("SKIPPED push_in_a_real_browser: {why}");
        return;
    }
    let app = TestApp::spawn_with(|c| c.push.allow_private_targets = true).await;
    run_browser_tests(&app, &["push.test.mjs"], &[], Duration::from_secs(300)).await;
    app.stop().await;
}
