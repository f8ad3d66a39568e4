//! `user.deleted`: erasing an account, by its owner or through the server API, tells the
//! platform once, signed like every delivery, with parlor's id, the platform's id, the erasure
//! mode and who asked.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::receiver::{Mode, Receiver, Request};
use super::{fast, register};
use crate::helpers::{TestApp, token_for};

fn deleted(user: i64) -> impl Fn(&Request) -> bool {
    move |r: &Request| r.body["type"] == "user.deleted" && r.body["data"]["user_id"] == user
}

#[tokio::test]
async fn erasing_an_account_tells_the_platform_once() {
    let app = TestApp::spawn_with(|c| {
        fast(c);
        c.privacy.erasure = parlor_server::service::ErasureSetting::Anonymize;
    })
    .await;
    let receiver = Receiver::start(Mode::Accept).await;
    let (_, secret) = register(&app, &receiver.url(), Some(&["user.deleted"])).await;
    let everything = Receiver::start(Mode::Accept).await;
    register(&app, &everything.url(), None).await;

    // A platform user, erased through the server API.
    let (status, platform) = app.server(Method::PUT, "/api/server/users/ext-77", json!({"name": "Pat"})).await;
    assert_eq!(status, StatusCode::OK, "{platform}");
    let pat = platform["id"].as_i64().unwrap();
    assert_eq!(app.server(Method::DELETE, "/api/server/users/ext-77", Value::Null).await.0, StatusCode::NO_CONTENT);
    let hook = receiver.wait_for("pat's user.deleted", deleted(pat)).await;
    hook.assert_signed_with(&secret);
    assert_eq!(hook.header("x-parlor-event"), "user.deleted");
    assert_eq!(hook.body["id"], hook.header("x-parlor-delivery"));
    assert_eq!(hook.body["conversation_id"], 0);
    assert!(hook.body["created_at"].is_string(), "{}", hook.body);
    assert_eq!(
        hook.body["data"],
        json!({"user_id": pat, "external_id": "ext-77", "mode": "anonymize", "by": "api_key"})
    );

    // A person erasing their own account (a host-token user: their token is enough).
    let (_, own) = app.server(Method::PUT, "/api/server/users/ext-78", json!({"name": "Quinn"})).await;
    let quinn = own["id"].as_i64().unwrap();
    let (status, _) = app.delete(Some(&token_for(quinn)), "/api/users/me").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let hook = receiver.wait_for("quinn's user.deleted", deleted(quinn)).await;
    assert_eq!(
        hook.body["data"],
        json!({"user_id": quinn, "external_id": "ext-78", "mode": "anonymize", "by": "user"})
    );

    // Once each, to each endpoint that wants it; a second erasure is a 404 and tells no one.
    assert_eq!(app.server(Method::DELETE, "/api/server/users/ext-77", Value::Null).await.0, StatusCode::NOT_FOUND);
    everything.wait_for("quinn's, to the endpoint taking everything", deleted(quinn)).await;
    for (r, who) in [(&receiver, "receiver"), (&everything, "everything")] {
        let seen: Vec<Value> = r
            .delivered()
            .iter()
            .filter(|d| d.body["type"] == "user.deleted")
            .map(|d| d.body["data"]["user_id"].clone())
            .collect();
        assert_eq!(seen, [json!(pat), json!(quinn)], "{who}: each erasure once, in order");
    }
    app.stop().await;
}
