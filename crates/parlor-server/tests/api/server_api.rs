//! The server API: the host platform's backend, authenticated by its API key.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{API_KEY, TestApp};

#[tokio::test]
async fn server_api_needs_the_key_compared_exactly() {
    let app = TestApp::spawn().await;
    let path = app.url("/api/server/users/host-1/");
    let body = json!({"name": "Host One"});

    let missing = app.http.put(&path).json(&body).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(missing.json::<Value>().await.unwrap()["code"], "unauthorized");
    for wrong in ["nope", &API_KEY[..API_KEY.len() - 1], &format!("{API_KEY}x")] {
        let refused = app.http.put(&path).header("x-api-key", wrong).json(&body).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "key {wrong:?}");
    }
    // A user's access token is not an API key.
    let user = app.register("mallory").await;
    let (status, _) = app.put(Some(&user.token), "/api/server/users/host-1/", body.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // The bearer form works as well as the header.
    let ok = app.http.put(&path).bearer_auth(API_KEY).json(&body).send().await.unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

#[tokio::test]
async fn server_api_is_off_without_a_key() {
    let app = TestApp::spawn_with(|c| c.api_key = parlor_server::config::Secret::new("")).await;
    let (status, body) = app.server(Method::PUT, "/api/server/users/host-1/", json!({})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body["message"].as_str().unwrap().contains("PARLOR_API_KEY"), "{body}");
}

#[tokio::test]
async fn upserting_a_platform_user_creates_then_refreshes_it() {
    let app = TestApp::spawn().await;
    let (status, created) = app
        .server(Method::PUT, "/api/server/users/host-42/", json!({"name": "Ada", "avatar": "https://x.test/a.png"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(created["external_id"], "host-42");
    assert_eq!(created["name"], "Ada");
    let (_, again) = app.server(Method::PUT, "/api/server/users/host-42/", json!({"name": "Ada L."})).await;
    assert_eq!(again["id"], created["id"], "same user");
    assert_eq!(again["name"], "Ada L.");
    assert_eq!(again["avatar"], "https://x.test/a.png", "unchanged when not given");

    let (status, body) = app.server(Method::PUT, "/api/server/users/host-42/", json!({"name": ""})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = app.server(Method::PUT, "/api/server/users/host-42/", json!({"name": 5})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}
