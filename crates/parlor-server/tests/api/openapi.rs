//! The OpenAPI document at `/api/openapi.json`: served without a token, OpenAPI 3, and listing
//! every REST route the router registers, so an endpoint added without annotations fails here.
//! Plus the fixes for what schemathesis (`.ci/schemathesis`) found.

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::TestApp;

/// The router's sources, read at compile time: the routes are whatever they register.
const ROUTER_SOURCES: [&str; 2] =
    [include_str!("../../src/http/mod.rs"), include_str!("../../src/http/server_api/mod.rs")];

/// Routes that are not REST (sockets, the web client, the health check, the document itself).
fn documented(path: &str) -> bool {
    !(path == "/"
        || path.starts_with("/ws")
        || path.starts_with("/app")
        || path == "/embed.js"
        || path == "/healthz"
        || path == "/api/openapi.json")
}

/// `(path, method)` of every `.route(...)` call in `source`.
fn routes(source: &str) -> BTreeSet<(String, String)> {
    let mut found = BTreeSet::new();
    for (start, _) in source.match_indices(".route(") {
        let call = &source[start + ".route(".len()..];
        let mut depth = 1;
        let end = call
            .char_indices()
            .find(|&(_, c)| {
                depth += match c {
                    '(' => 1,
                    ')' => -1,
                    _ => 0,
                };
                depth == 0
            })
            .map(|(i, _)| i)
            .expect("the .route( call closes");
        let call = &call[..end];
        let path = call.split('"').nth(1).expect("a route's path is a string literal").to_owned();
        let mut methods = 0;
        for method in ["get", "post", "put", "patch", "delete"] {
            let called = call
                .match_indices(&format!("{method}("))
                .any(|(i, _)| i == 0 || !call[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_'));
            if called {
                found.insert((path.clone(), method.to_owned()));
                methods += 1;
            }
        }
        assert!(methods > 0 || !documented(&path), "no method found for the route {path}: {call}");
    }
    found
}

async fn document(app: &TestApp) -> Value {
    let response = app.http.get(app.url("/api/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the document needs no token");
    let content_type = response.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(content_type.starts_with("application/json"), "{content_type}");
    response.json().await.unwrap()
}

#[tokio::test]
async fn the_document_lists_every_rest_route_and_nothing_else() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "OpenAPI 3.x: {}", doc["openapi"]);

    let registered: BTreeSet<_> =
        ROUTER_SOURCES.iter().flat_map(|source| routes(source)).filter(|(path, _)| documented(path)).collect();
    assert!(registered.len() > 60, "the route parser found too few routes: {registered:?}");
    assert!(registered.contains(&("/api/server/webhooks".to_owned(), "post".to_owned())));

    let paths = doc["paths"].as_object().unwrap();
    let in_document: BTreeSet<_> = paths
        .iter()
        .flat_map(|(path, item)| {
            let methods = item.as_object().unwrap().keys().filter(|k| k.as_str() != "parameters");
            methods.map(|m| (path.clone(), m.clone())).collect::<Vec<_>>()
        })
        .collect();
    let undocumented: Vec<_> = registered.difference(&in_document).collect();
    assert!(undocumented.is_empty(), "routes without #[utoipa::path] (add them to http/openapi.rs): {undocumented:?}");
    let stale: Vec<_> = in_document.difference(&registered).collect();
    assert!(stale.is_empty(), "documented operations the router does not have: {stale:?}");
}

#[tokio::test]
async fn operations_name_their_security_and_errors() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["api_key"]["name"], "X-Api-Key");

    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap_or_default().to_owned();
            assert!(ids.insert(id.clone()), "operationId {id:?} of {method} {path} is not unique");
            let security = &operation["security"];
            if path.starts_with("/api/server/") {
                assert!(security[0].get("api_key").is_some(), "{method} {path}: {security}");
            } else if (path.starts_with("/api/auth/") && path != "/api/auth/ws-ticket")
                // A mail's unsubscribe link: its own signed token is the credential.
                || path == "/api/email/unsubscribe"
            {
                assert_eq!(security, &serde_json::json!([{}]), "{method} {path} needs no token");
            } else {
                assert!(security.is_null(), "{method} {path} uses the document's bearer default: {security}");
                assert!(operation["responses"].get("401").is_some(), "{method} {path} documents its 401");
            }
            // Every operation touches the database, which may be locked (503 `unavailable`).
            let unavailable = &operation["responses"]["503"]["$ref"];
            assert_eq!(unavailable, "#/components/responses/Unavailable", "{method} {path} documents its 503");
            if path.starts_with("/api/server/") {
                assert!(operation["responses"].get("429").is_some(), "{method} {path}: a locked-out address gets 429");
            }
        }
    }
    assert_eq!(doc["security"], serde_json::json!([{"bearer": []}]));
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    let unavailable = &doc["components"]["responses"]["Unavailable"];
    assert!(unavailable["description"].as_str().unwrap().contains("`unavailable`"), "{unavailable}");
    assert_eq!(unavailable["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody");
}

/// Found by schemathesis: axum's own multipart rejection answered in plain text.
#[tokio::test]
async fn an_upload_that_is_not_multipart_gets_a_json_error() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let conversation = app.dm(&alice, &bob).await;
    for content_type in [None, Some("multipart/form-data"), Some("application/json")] {
        let mut request = app
            .http
            .post(app.url(&format!("/api/chat/conversations/{conversation}/attachments/")))
            .bearer_auth(&alice.token)
            .body("file=hello");
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{content_type:?}");
        let body: Value = response.json().await.expect("a JSON error body");
        assert_eq!(body["code"], "invalid_body", "{content_type:?}: {body}");
    }
}
