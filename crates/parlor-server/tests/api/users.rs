//! The caller's own profile (`/api/users/me`: read, change, validation) and the user directory
//! (`/api/chat/users/`: search and lookup by id).

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser};

/// Asserts an error status and stable code.
fn assert_error(status: StatusCode, body: &Value, expected_status: StatusCode, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

async fn me(user: &TestUser) -> Value {
    let (status, body) = user.get("/api/users/me").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn register_named(app: &TestApp, username: &str, name: &str) -> i64 {
    let body = json!({"username": username, "password": "correct horse", "name": name});
    let (status, body) = app.post(None, "/api/auth/register", body).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["user"]["id"].as_i64().unwrap()
}

async fn search(user: &TestUser, query: &str) -> Vec<i64> {
    let (status, body) = user.get(&format!("/api/chat/users/?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body["results"].as_array().unwrap_or_else(|| panic!("no `results` array: {body}"));
    results.iter().map(|u| u["id"].as_i64().unwrap()).collect()
}

// --- /api/users/me ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_returns_the_callers_profile() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    app.register("bob").await;
    let body = me(&alice).await;
    assert_eq!(body["id"], alice.id);
    assert_eq!(body["username"], alice.username.as_str());
    assert_eq!(body["name"], "alice");
    assert_eq!(body["avatar"], Value::Null);
    assert!(body.get("password").is_none() && body.get("password_hash").is_none(), "{body}");

    // Without the trailing slash and with it, as seed 001 writes paths.
    let (status, slashed) = alice.get("/api/users/me/").await;
    assert_eq!(status, StatusCode::OK, "{slashed}");
    assert_eq!(slashed["id"], alice.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn me_without_a_token_is_unauthorized() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get(None, "/api/users/me").await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    let (status, body) = app.patch(None, "/api/users/me", json!({"name": "Nobody"})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_me_changes_name_and_avatar() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let (status, body) = app
        .patch(Some(&alice.token), "/api/users/me", json!({"name": "Alice A", "avatar": "https://x.example/a.png"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], alice.id);
    assert_eq!(body["username"], "alice", "the username does not change");
    assert_eq!(body["name"], "Alice A");
    assert_eq!(body["avatar"], "https://x.example/a.png");

    // Stored: the caller and everyone else see it.
    let stored = me(&alice).await;
    assert_eq!(stored["name"], "Alice A");
    assert_eq!(stored["avatar"], "https://x.example/a.png");
    let (status, seen) = bob.get(&format!("/api/chat/users/{}/", alice.id)).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["name"], "Alice A");
    assert_eq!(seen["avatar"], "https://x.example/a.png");

    // Bob is untouched.
    assert_eq!(me(&bob).await["name"], "bob");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_me_changes_only_the_fields_sent() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let (status, body) = alice.patch("/api/users/me", json!({"avatar": "https://x.example/a.png"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "alice");
    assert_eq!(body["avatar"], "https://x.example/a.png");

    let (status, body) = alice.patch("/api/users/me", json!({"name": "  Alice A  "})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Alice A", "the name is trimmed");
    assert_eq!(body["avatar"], "https://x.example/a.png", "an absent avatar stays as it is");

    let (status, body) = alice.patch("/api/users/me", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Alice A");
    assert_eq!(body["avatar"], "https://x.example/a.png");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_me_accepts_the_display_name_and_avatar_url_aliases() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let (status, body) = app
        .patch(
            Some(&alice.token),
            "/api/users/me",
            json!({"display_name": "Alice Alias", "avatar_url": "https://x.example/alias.png"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["name"], "Alice Alias");
    assert_eq!(body["avatar"], "https://x.example/alias.png");
    let stored = me(&alice).await;
    assert_eq!(stored["name"], "Alice Alias");
    assert_eq!(stored["avatar"], "https://x.example/alias.png");

    // `avatar_url: null` clears, like `avatar: null`.
    let (status, body) = alice.patch("/api/users/me", json!({"avatar_url": null})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["avatar"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_me_with_a_null_avatar_clears_it() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let (status, body) = app
        .patch(Some(&alice.token), "/api/users/me", json!({"name": "Alice A", "avatar": "https://x.example/a.png"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let (status, body) = alice.patch("/api/users/me", json!({"avatar": null})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["avatar"], Value::Null);
    assert_eq!(body["name"], "Alice A", "clearing the avatar leaves the name");
    assert_eq!(me(&alice).await["avatar"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_me_refuses_invalid_values_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let (status, body) = app
        .patch(Some(&alice.token), "/api/users/me", json!({"name": "Alice A", "avatar": "https://x.example/a.png"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let too_long_name = "n".repeat(65);
    let too_long_avatar = format!("https://x.example/{}", "a".repeat(2048));
    let cases = [
        json!({"name": ""}),
        json!({"name": "   "}),
        json!({"name": too_long_name}),
        json!({"name": "bell\u{7}"}),
        json!({"avatar": "javascript:alert(1)"}),
        json!({"avatar": "data:image/png;base64,AAAA"}),
        json!({"avatar": "ftp://x.example/a.png"}),
        json!({"avatar": "https://x.example/a b.png"}),
        json!({"avatar": too_long_avatar}),
        json!({"avatar": ""}),
        // One bad field spoils the whole patch.
        json!({"name": "Good Name", "avatar": "javascript:alert(1)"}),
    ];
    for patch in &cases {
        let (status, body) = alice.patch("/api/users/me", patch.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{patch}: {body}");
        assert_eq!(body["code"], "validation_failed", "{patch}: {body}");
    }
    let stored = me(&alice).await;
    assert_eq!(stored["name"], "Alice A");
    assert_eq!(stored["avatar"], "https://x.example/a.png");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn patch_me_with_wrong_types_is_an_invalid_body() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    for patch in [
        json!({"name": 5}),
        json!({"name": ["Alice"]}),
        json!({"avatar": 7}),
        json!({"avatar": {"url": "https://x.example/a.png"}}),
        json!("name"),
    ] {
        let (status, body) = alice.patch("/api/users/me", patch.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{patch}: {body}");
        assert_eq!(body["code"], "invalid_body", "{patch}: {body}");
    }
    let stored = me(&alice).await;
    assert_eq!(stored["name"], "alice");
    assert_eq!(stored["avatar"], Value::Null);
}

// --- /api/chat/users/ ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_users_by_username_or_name_ignoring_case() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let kalina = register_named(&app, "zed", "Kalina").await;

    let (status, body) = bob.get("/api/chat/users/?q=ali").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let results = body["results"].as_array().unwrap_or_else(|| panic!("{body}"));
    let alice_view = results.iter().find(|u| u["id"] == alice.id).unwrap_or_else(|| panic!("alice found: {body}"));
    assert_eq!(alice_view["username"], "alice");
    assert_eq!(alice_view["name"], "alice");
    assert!(alice_view.get("password").is_none() && alice_view.get("password_hash").is_none(), "{body}");

    let mut found = search(&bob, "q=ali").await;
    found.sort_unstable();
    let mut expected = vec![alice.id, kalina];
    expected.sort_unstable();
    assert_eq!(found, expected, "alice by username, Kalina by name, not bob");

    for query in ["q=ALI", "q=Ali", "q=aLI"] {
        let mut found = search(&bob, query).await;
        found.sort_unstable();
        assert_eq!(found, expected, "{query}");
    }

    // Alice's new display name is searchable too.
    let (status, body) = alice.patch("/api/users/me", json!({"name": "Wonderland"})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(search(&bob, "q=wonder").await, vec![alice.id]);
    assert!(search(&bob, "q=nobody-has-this").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_treats_wildcards_literally() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    app.register("bob").await;
    let underscored = register_named(&app, "carol_c", "Carol").await;
    // `%` and `_` are SQL LIKE wildcards; here they only match themselves.
    assert!(search(&alice, "q=%25%25").await.is_empty());
    assert_eq!(search(&alice, "q=l_").await, vec![underscored]);
    assert!(search(&alice, "q=a%25e").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_respects_the_limit() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    for name in ["user1", "user2", "user3"] {
        app.register(name).await;
    }
    assert_eq!(search(&alice, "q=user").await.len(), 3);
    assert_eq!(search(&alice, "q=user&limit=2").await.len(), 2);
    let (status, body) = alice.get("/api/chat/users/?q=user&limit=lots").await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_body");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_needs_two_characters_and_answers_at_most_twenty() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    for q in ["", "a", "%20a%20", "%20%20%20", "%C3%A9"] {
        let (status, body) = alice.get(&format!("/api/chat/users/?q={q}")).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
        assert!(body["message"].as_str().unwrap().contains("2 characters"), "{body}");
    }
    let (status, _) = alice.get("/api/chat/users/").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "no query lists nobody");
    // Two characters, any script: two letters of Cyrillic are a query.
    register_named(&app, "yuri", "Юрий").await;
    assert_eq!(search(&alice, "q=%D0%AE%D1%80").await.len(), 1);
    for n in 0..25 {
        let (status, body) = app
            .server(reqwest::Method::PUT, &format!("/api/server/users/m{n}/"), json!({"name": format!("Member {n}")}))
            .await;
        assert!(status.is_success(), "{body}");
    }
    assert_eq!(search(&alice, "q=member").await.len(), 20, "twenty by default");
    assert_eq!(search(&alice, "q=member&limit=100").await.len(), 20, "and twenty at most");
    assert_eq!(search(&alice, "q=member&limit=3").await.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_the_connections_policy_the_directory_lists_only_contacts_and_exact_usernames() {
    let app = TestApp::spawn_with(|c| c.dm_policy = parlor_server::config::DmPolicy::Connections).await;
    let alice = app.register("alice").await;
    let bob = register_named(&app, "bob", "Bob Smith").await;
    let carol = register_named(&app, "carol", "Carol Smith").await;
    let (_, dave) = app
        .post(
            None,
            "/api/auth/register",
            json!({"username": "dave", "password": "correct horse", "name": "Dave Smith"}),
        )
        .await;
    let dave_token = dave["access"].as_str().unwrap();
    assert!(search(&alice, "q=smith").await.is_empty(), "strangers are not listed");
    assert_eq!(search(&alice, "q=CAROL").await, vec![carol], "a username typed in full finds its owner");
    assert!(search(&alice, "q=caro").await.is_empty(), "but only in full");

    // A request either way, or a conversation shared now, makes someone findable.
    let (status, _) = alice.post("/api/connections/", json!({"user_id": bob})).await;
    assert!(status.is_success());
    let (status, _) = app.post(Some(dave_token), "/api/connections/", json!({"user_id": alice.id})).await;
    assert!(status.is_success());
    let dave_id = dave["user"]["id"].as_i64().unwrap();
    assert_eq!(search(&alice, "q=smith").await, vec![bob, dave_id]);
    assert!(search(&alice, "q=carol%20s").await.is_empty());

    // Without the policy, the directory lists everyone who matches.
    let open = TestApp::spawn().await;
    let alice = open.register("alice").await;
    register_named(&open, "bob", "Bob Smith").await;
    register_named(&open, "carol", "Carol Smith").await;
    assert_eq!(search(&alice, "q=smith").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_without_a_token_is_unauthorized() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    let (status, body) = app.get(None, "/api/chat/users/?q=ali").await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_can_be_looked_up_by_id() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    for path in [format!("/api/chat/users/{}/", alice.id), format!("/api/chat/users/{}", alice.id)] {
        let (status, body) = bob.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert_eq!(body["id"], alice.id);
        assert_eq!(body["username"], "alice");
        assert_eq!(body["name"], "alice");
        assert_eq!(body["avatar"], Value::Null);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_or_non_numeric_user_id_is_not_found() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    for path in [
        "/api/chat/users/987654/",
        "/api/chat/users/0/",
        "/api/chat/users/-1/",
        "/api/chat/users/abc/",
        "/api/chat/users/1.5/",
        "/api/chat/users/99999999999999999999999/",
    ] {
        let (status, body) = alice.get(path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["code"], "not_found", "{path}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn looking_up_a_user_without_a_token_is_unauthorized() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let (status, body) = app.get(None, &format!("/api/chat/users/{}/", alice.id)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    let (status, body) = app.get(Some("garbage"), &format!("/api/chat/users/{}/", alice.id)).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
}
