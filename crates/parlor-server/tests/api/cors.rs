//! CORS (`http.cors_allowed_origins`): the headers a preflight and an actual request get from an
//! allowed and a refused origin, and the same in a real browser (`tests/web/cors.test.mjs`:
//! pages on two other ports calling two servers with fetch).

use std::time::Duration;

use parlor_server::rate_limit::Rate;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::helpers::{API_KEY, TestApp};
use crate::web_client::{missing_browser_tools, run_browser_tests};

const PLATFORM: &str = "https://platform.example";

async fn preflight(app: &TestApp, origin: &str, path: &str) -> (StatusCode, HeaderMap) {
    let response = app
        .http
        .request(reqwest::Method::OPTIONS, app.url(path))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization,content-type")
        .send()
        .await
        .unwrap();
    (response.status(), response.headers().clone())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

#[tokio::test]
async fn listed_origins_get_cors_headers_and_others_none() {
    let app = TestApp::spawn_with(|c| c.http.cors_allowed_origins = vec![PLATFORM.into()]).await;

    let (status, allowed) = preflight(&app, PLATFORM, "/api/chat/conversations/7/messages/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(header(&allowed, "access-control-allow-origin"), PLATFORM);
    assert!(header(&allowed, "access-control-allow-methods").contains("POST"), "{allowed:?}");
    let headers = header(&allowed, "access-control-allow-headers").to_ascii_lowercase();
    assert!(headers.contains("authorization") && headers.contains("content-type"), "{headers}");
    assert_eq!(header(&allowed, "access-control-max-age"), "3600");
    assert_eq!(header(&allowed, "access-control-allow-credentials"), "", "credentials are off by default");

    let (_, refused) = preflight(&app, "https://elsewhere.example", "/api/chat/conversations/7/messages/").await;
    assert_eq!(header(&refused, "access-control-allow-origin"), "");

    // Actual requests: errors carry the headers too, so a page can read why it was refused.
    let answer = app.http.get(app.url("/api/users/me")).header("origin", PLATFORM).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(header(answer.headers(), "access-control-allow-origin"), PLATFORM);
    let exposed = header(answer.headers(), "access-control-expose-headers").to_ascii_lowercase();
    assert!(exposed.contains("retry-after") && exposed.contains("content-disposition"), "{exposed}");
    assert!(header(answer.headers(), "vary").to_ascii_lowercase().contains("origin"));
    let other = app.http.get(app.url("/api/users/me")).header("origin", "https://elsewhere.example").send().await;
    assert_eq!(header(other.unwrap().headers(), "access-control-allow-origin"), "");
    app.stop().await;

    // Not configured: no CORS at all, and OPTIONS is not a route.
    let plain = TestApp::spawn().await;
    let (status, headers) = preflight(&plain, PLATFORM, "/api/chat/conversations/").await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&headers, "access-control-allow-origin"), "");
    plain.stop().await;
}

#[tokio::test]
async fn any_origin_is_answered_with_a_star_and_credentials_when_listed() {
    let app = TestApp::spawn_with(|c| c.http.cors_allowed_origins = vec!["*".into()]).await;
    let (_, headers) = preflight(&app, "https://anyone.example", "/api/auth/register").await;
    assert_eq!(header(&headers, "access-control-allow-origin"), "*");
    app.stop().await;

    let app = TestApp::spawn_with(|c| {
        c.http.cors_allowed_origins = vec!["HTTPS://Platform.example".into()];
        c.http.cors_allow_credentials = true;
    })
    .await;
    let (_, headers) = preflight(&app, PLATFORM, "/api/auth/register").await;
    assert_eq!(header(&headers, "access-control-allow-origin"), PLATFORM, "origins match in any case");
    assert_eq!(header(&headers, "access-control-allow-credentials"), "true");
    app.stop().await;
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_on_other_origins_in_a_real_browser() {
    if let Some(why) = missing_browser_tools() {
        assert!(std::env::var_os("CI").is_none(), "the CORS browser tests must run in CI: {why}");
        eprintln!("SKIPPED pages_on_other_origins_in_a_real_browser: {why}");
        return;
    }
    let (allowed_port, refused_port) = (free_port(), free_port());
    let allowed = format!("http://127.0.0.1:{allowed_port}");
    let app = TestApp::spawn_with(|c| {
        c.http.cors_allowed_origins = vec![allowed.clone()];
        c.http.cors_allow_credentials = true;
        c.websocket.allowed_origins = vec![allowed.clone()];
        c.rate_limits.uploads = Rate { per_minute: 1, burst: 1 };
    })
    .await;
    let open = TestApp::spawn_with(|c| c.http.cors_allowed_origins = vec!["*".into()]).await;
    let env = [
        ("OPEN_URL", open.url("")),
        ("ALLOWED_PORT", allowed_port.to_string()),
        ("REFUSED_PORT", refused_port.to_string()),
        ("API_KEY", API_KEY.to_string()),
    ];
    let stdout = run_browser_tests(&app, &["cors.test.mjs"], &env, Duration::from_secs(120)).await;
    eprintln!("{stdout}");
    app.stop().await;
    open.stop().await;
}
