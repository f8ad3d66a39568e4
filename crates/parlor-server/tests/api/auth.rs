//! Registering, logging in and refreshing; and every kind of bad token (missing, expired,
//! tampered, wrong algorithm, `alg: none`, wrong secret) refused with 401 over HTTP and on the
//! WebSocket handshake. Host-app mode: the platform's tokens create and update users, and
//! parlor's own tokens keep working beside them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;
use parlor_server::config::Secret;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::helpers::{TOKEN_SECRET, TestApp, Ws, forge_own, own_claims, sign, unix_now as now};

const HOST_SECRET: &str = "host-secret-for-tests-0123456789abcdef";
const PASSWORD: &str = "correct horse";

fn host_token(claims: &Value) -> String {
    sign(Algorithm::HS256, HOST_SECRET, claims)
}

async fn host_app() -> TestApp {
    TestApp::spawn_with(|c| c.jwt_secret = Secret::new(HOST_SECRET)).await
}

/// Asserts an error body: the status and the stable `code`; returns the message.
fn assert_error(status: StatusCode, body: &Value, expected_status: StatusCode, code: &str) -> String {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    let message = body["message"].as_str().unwrap_or_else(|| panic!("error body without a message: {body}"));
    assert!(!message.is_empty(), "{body}");
    message.to_owned()
}

/// Asserts `token` is refused on REST (`GET /api/users/me`) and on the WebSocket handshake, both
/// by query string and by `Authorization` header, with 401 `unauthorized` and a message that
/// does not echo the token. Returns the REST message.
async fn assert_token_refused(app: &TestApp, token: &str) -> String {
    let (status, body) = app.get(Some(token), "/api/users/me").await;
    let message = assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    assert!(!message.contains(token), "the error echoes the token: {message}");

    let (ws_status, ws_body) = app.ws_refused(&format!("/ws/?token={token}")).await;
    assert_eq!(ws_status, 401, "ws ?token=: {ws_body}");
    assert_eq!(ws_body["code"], "unauthorized", "ws ?token=: {ws_body}");

    let (ws_status, ws_body) = ws_refused_with_header(app, token).await;
    assert_eq!(ws_status, 401, "ws Authorization header: {ws_body}");
    assert_eq!(ws_body["code"], "unauthorized", "ws Authorization header: {ws_body}");
    message
}

/// A handshake on `/ws/` carrying the token in `Authorization: Bearer`.
fn ws_request_with_header(app: &TestApp, token: &str) -> tungstenite::handshake::client::Request {
    let mut request = format!("ws://{}/ws/", app.addr).into_client_request().unwrap();
    request.headers_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

async fn ws_refused_with_header(app: &TestApp, token: &str) -> (u16, Value) {
    match tokio_tungstenite::connect_async(ws_request_with_header(app, token)).await {
        Err(tungstenite::Error::Http(response)) => {
            let body = response.body().as_ref().map(|b| serde_json::from_slice(b).unwrap_or(Value::Null));
            (response.status().as_u16(), body.unwrap_or(Value::Null))
        }
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("expected the handshake to be refused"),
    }
}

async fn me(app: &TestApp, token: &str) -> Value {
    let (status, body) = app.get(Some(token), "/api/users/me").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn login(app: &TestApp, username: &str, password: &str) -> (StatusCode, Value) {
    app.post(None, "/api/auth/token", json!({"username": username, "password": password})).await
}

/// Replaces the character at `at` with a different base64url character.
fn flip_char(token: &str, at: usize) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

// --- registering ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_returns_201_with_a_token_pair_and_the_user() {
    let app = TestApp::spawn().await;
    let (status, body) = app.post(None, "/api/auth/register", json!({"username": "alice", "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["access"].as_str().is_some_and(|t| t.split('.').count() == 3), "access is a JWT: {body}");
    assert!(body["refresh"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
    assert_ne!(body["access"], body["refresh"]);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900, "the configured access token lifetime: {body}");
    assert!(body["user"]["id"].as_i64().is_some_and(|id| id > 0), "{body}");
    assert_eq!(body["user"]["username"], "alice");
    assert_eq!(body["user"]["name"], "alice", "the name defaults to the username");
    assert!(body.get("password").is_none() && body["user"].get("password").is_none(), "{body}");

    // The access token works straight away.
    let profile = me(&app, body["access"].as_str().unwrap()).await;
    assert_eq!(profile["id"], body["user"]["id"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_accepts_a_display_name() {
    let app = TestApp::spawn().await;
    let (status, body) = app
        .post(None, "/api/auth/register", json!({"username": "alice", "password": PASSWORD, "name": "Alice A"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["name"], "Alice A");

    let (status, body) = app
        .post(None, "/api/auth/register", json!({"username": "bob", "password": PASSWORD, "display_name": "Bob B"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["name"], "Bob B");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_username_is_taken_whatever_its_case() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    for taken in ["alice", "ALICE", "Alice"] {
        let (status, body) =
            app.post(None, "/api/auth/register", json!({"username": taken, "password": PASSWORD})).await;
        assert_error(status, &body, StatusCode::CONFLICT, "username_taken");
    }
    // The first account is untouched.
    let (status, body) = login(&app, "alice", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_refuses_a_short_password() {
    let app = TestApp::spawn().await;
    for password in ["", "short", "7chars!"] {
        let (status, body) =
            app.post(None, "/api/auth/register", json!({"username": "alice", "password": password})).await;
        let message = assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
        assert!(message.contains("password"), "{message}");
    }
    // Nothing was created: the name is still free.
    app.register("alice").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_refuses_a_bad_username() {
    let app = TestApp::spawn().await;
    let too_long = "a".repeat(33);
    for username in ["", "al", "al ice", "alice!", "<script>", "ålice", too_long.as_str()] {
        let (status, body) =
            app.post(None, "/api/auth/register", json!({"username": username, "password": PASSWORD})).await;
        let message = assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
        assert!(message.contains("username"), "{username:?}: {message}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_with_missing_fields_is_an_invalid_body() {
    let app = TestApp::spawn().await;
    let (status, body) = app.post(None, "/api/auth/register", json!({"username": "alice"})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_body");
    let (status, body) = app.post(None, "/api/auth/register", json!({"username": 5, "password": PASSWORD})).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_body");
}

// --- logging in ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_the_right_password_returns_working_tokens() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let (status, body) = login(&app, "alice", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["id"], alice.id);
    assert_eq!(body["user"]["username"], "alice");
    assert!(body["refresh"].as_str().is_some_and(|r| !r.is_empty() && r != alice.refresh), "a fresh refresh token");

    let profile = me(&app, body["access"].as_str().unwrap()).await;
    assert_eq!(profile["id"], alice.id);
    assert_eq!(profile["username"], "alice");

    // The login's refresh token is a real one too.
    let (status, refreshed) = app.post(None, "/api/auth/refresh", json!({"refresh": body["refresh"]})).await;
    assert_eq!(status, StatusCode::OK, "{refreshed}");
    assert_eq!(refreshed["user"]["id"], alice.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_and_unknown_user_get_the_same_invalid_credentials_answer() {
    let app = TestApp::spawn().await;
    app.register("alice").await;

    let (status, wrong) = login(&app, "alice", "not the password").await;
    let wrong_message = assert_error(status, &wrong, StatusCode::UNAUTHORIZED, "invalid_credentials");

    let (status, unknown) = login(&app, "nobody", PASSWORD).await;
    let unknown_message = assert_error(status, &unknown, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(wrong_message, unknown_message, "the answer must not reveal which usernames exist");

    // A password too short to be anyone's is just wrong, not a validation error.
    let (status, short) = login(&app, "alice", "x").await;
    let short_message = assert_error(status, &short, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(short_message, wrong_message);
}

// --- refreshing ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_returns_a_new_pair_and_each_refresh_token_works_once() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;

    let (status, first) = app.post(None, "/api/auth/refresh", json!({"refresh": alice.refresh})).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["token_type"], "Bearer");
    assert_eq!(first["user"]["id"], alice.id);
    let new_refresh = first["refresh"].as_str().unwrap();
    assert_ne!(new_refresh, alice.refresh, "refresh tokens rotate");
    assert_eq!(me(&app, first["access"].as_str().unwrap()).await["id"], alice.id);

    // The new one works, and the one after it: a session goes on refresh after refresh.
    let (status, second) = app.post(None, "/api/auth/refresh", json!({"refresh": new_refresh})).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let (status, third) = app.post(None, "/api/auth/refresh", json!({"refresh": second["refresh"]})).await;
    assert_eq!(status, StatusCode::OK, "{third}");
    assert_eq!(me(&app, third["access"].as_str().unwrap()).await["id"], alice.id);
    // A spent token is refused (and ends the session: see the next test).
    let (status, body) = app.post(None, "/api/auth/refresh", json!({"refresh": new_refresh})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_refresh_token_ends_its_session_everywhere_and_only_that_session() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    // A second session of hers (another device), which must live on.
    let (status, laptop) =
        app.post(None, "/api/auth/token", json!({"username": "alice", "password": "correct horse"})).await;
    assert_eq!(status, StatusCode::OK, "{laptop}");
    let laptop_access = laptop["access"].as_str().unwrap();

    // The thief copied the phone's refresh token; the phone refreshes first.
    let stolen = alice.refresh.clone();
    let (status, rotated) = app.post(None, "/api/auth/refresh", json!({"refresh": stolen})).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let (phone_access, phone_refresh) = (rotated["access"].as_str().unwrap(), rotated["refresh"].as_str().unwrap());
    let mut phone_ws = app.ws(phone_access).await;
    let (_, ticket) = app.post(Some(phone_access), "/api/auth/ws-ticket", json!({})).await;
    let mut phone_ticket_ws =
        Ws::connect(&format!("ws://{}/ws/?ticket={}", app.addr, ticket["ticket"].as_str().unwrap())).await;
    let mut laptop_ws = app.ws(laptop_access).await;

    // The thief presents the spent token: refused, and the whole session with it.
    let (status, body) = app.post(None, "/api/auth/refresh", json!({"refresh": stolen})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    for ws in [&mut phone_ws, &mut phone_ticket_ws] {
        let close = ws.closed().await.expect("a close frame");
        assert_eq!(u16::from(close.code), 4001, "{close:?}");
    }
    let (status, body) = app.post(None, "/api/auth/refresh", json!({"refresh": phone_refresh})).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    for access in [alice.token.as_str(), phone_access] {
        let (status, body) = app.get(Some(access), "/api/users/me").await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
        assert!(body["message"].as_str().unwrap().contains("session has ended"), "{body}");
        let (status, _) = app.ws_refused(&format!("/ws/?token={access}")).await;
        assert_eq!(status, 401);
    }

    // Her other session never noticed.
    laptop_ws.expect_quiet(200).await;
    assert_eq!(me(&app, laptop_access).await["id"], alice.id);
    let (status, body) = app.post(None, "/api/auth/refresh", json!({"refresh": laptop["refresh"]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // And signing in again starts a new session.
    let (status, again) =
        app.post(None, "/api/auth/token", json!({"username": "alice", "password": "correct horse"})).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(me(&app, again["access"].as_str().unwrap()).await["id"], alice.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_redeemed_twice_at_once_works_only_once() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let body = json!({"refresh": alice.refresh});
    let ((s1, b1), (s2, b2)) =
        tokio::join!(app.post(None, "/api/auth/refresh", body.clone()), app.post(None, "/api/auth/refresh", body));
    let ok = [s1, s2].iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(ok, 1, "exactly one redemption succeeds: {s1} {b1} / {s2} {b2}");
    assert!([s1, s2].contains(&StatusCode::UNAUTHORIZED), "{s1} {b1} / {s2} {b2}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_refresh_token_is_refused() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    for garbage in ["", "garbage", "not-a-real-refresh-token-0123456789abcdefghij", alice.token.as_str()] {
        let (status, body) = app.post(None, "/api/auth/refresh", json!({"refresh": garbage})).await;
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    }
    // An access token is not a refresh token, and failed attempts spend nothing.
    let (status, body) = app.post(None, "/api/auth/refresh", json!({"refresh": alice.refresh})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

// --- bad credentials on REST and the WebSocket ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_credentials_get_a_401_json_error() {
    let app = TestApp::spawn().await;
    let (status, body) = app.get(None, "/api/users/me").await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");

    // An Authorization header of another scheme, or an empty bearer, is no credential either.
    for header in ["Basic YWxpY2U6Y29ycmVjdCBob3JzZQ==", "Bearer", "Bearer ", "Token abc"] {
        let response = app.http.get(app.url("/api/users/me")).header("authorization", header).send().await.unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthorized");
    }

    let (status, body) = app.ws_refused("/ws/").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "unauthorized", "{body}");
    let (status, body) = app.ws_refused("/ws/?token=").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["code"], "unauthorized", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_token_with_the_right_secret_is_accepted() {
    // The control for the tests below: the forging helpers produce what the server accepts, so
    // each refusal there is down to the one thing that test changes.
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let token = forge_own(alice.id, now() + 300);
    assert_eq!(me(&app, &token).await["id"], alice.id);
    let ws = app.ws(&token).await;
    assert_eq!(ws.hello["user_id"], alice.id);
    ws.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refused_and_says_so() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let token = forge_own(alice.id, now() - 120);
    let message = assert_token_refused(&app, &token).await;
    assert!(message.contains("expired"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_token_is_refused() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let parts: Vec<&str> = bob.token.split('.').collect();
    assert_eq!(parts.len(), 3);

    // A character flipped in the middle of the signature.
    let signature_start = parts[0].len() + parts[1].len() + 2;
    let flipped = flip_char(&bob.token, signature_start + parts[2].len() / 2);
    assert_ne!(flipped, bob.token);
    assert_token_refused(&app, &flipped).await;

    // A character flipped in the payload.
    let flipped = flip_char(&bob.token, parts[0].len() + 1 + parts[1].len() / 2);
    assert_token_refused(&app, &flipped).await;

    // Bob's signature on a payload rewritten to say he is Alice.
    let payload = URL_SAFE_NO_PAD.encode(own_claims(alice.id, now() + 300).to_string());
    let impersonation = format!("{}.{payload}.{}", parts[0], parts[2]);
    assert_token_refused(&app, &impersonation).await;

    // A truncated token and plain garbage.
    assert_token_refused(&app, &bob.token[..bob.token.len() - 5]).await;
    assert_token_refused(&app, "not.a.jwt").await;
    assert_token_refused(&app, "garbage").await;

    // Bob's real token still works.
    assert_eq!(me(&app, &bob.token).await["id"], bob.id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_signed_with_another_algorithm_is_refused() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let claims = own_claims(alice.id, now() + 300);
    for alg in [Algorithm::HS512, Algorithm::HS384] {
        let token = sign(alg, TOKEN_SECRET, &claims);
        assert_token_refused(&app, &token).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_alg_none_token_is_refused() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let payload = URL_SAFE_NO_PAD.encode(own_claims(alice.id, now() + 300).to_string());
    for header in [json!({"alg": "none", "typ": "JWT"}), json!({"alg": "None", "typ": "JWT"})] {
        let header = URL_SAFE_NO_PAD.encode(header.to_string());
        assert_token_refused(&app, &format!("{header}.{payload}.")).await;
        // The same with a valid HS256 signature glued on: the header still says `none`.
        let real_signature = alice.token.rsplit('.').next().unwrap();
        assert_token_refused(&app, &format!("{header}.{payload}.{real_signature}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_signed_with_another_secret_is_refused() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let token = sign(Algorithm::HS256, "some-other-secret-0123456789abcdef", &own_claims(alice.id, now() + 300));
    assert_token_refused(&app, &token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_well_signed_token_with_a_bad_issuer_subject_or_user_is_refused() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let exp = now() + 300;
    let cases = [
        json!({"sub": alice.id.to_string(), "iss": "someone-else", "iat": now(), "exp": exp}),
        json!({"sub": alice.id.to_string(), "iat": now(), "exp": exp}),
        json!({"sub": alice.id.to_string(), "iss": "parlor", "iat": now()}),
        json!({"sub": "alice", "iss": "parlor", "iat": now(), "exp": exp}),
        json!({"iss": "parlor", "iat": now(), "exp": exp}),
        // A user that does not exist.
        json!({"sub": "987654", "iss": "parlor", "iat": now(), "exp": exp}),
    ];
    for claims in &cases {
        let token = sign(Algorithm::HS256, TOKEN_SECRET, claims);
        assert_token_refused(&app, &token).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_websocket_accepts_a_token_in_the_authorization_header() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let ws = Ws::connect_request(ws_request_with_header(&app, &alice.token)).await;
    assert_eq!(ws.hello["user_id"], alice.id, "{}", ws.hello);
    ws.close().await;

    // And by query string, as the harness connects.
    let ws = app.ws(&alice.token).await;
    assert_eq!(ws.hello["user_id"], alice.id, "{}", ws.hello);
    ws.close().await;
}

// --- host-app mode ---

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_token_creates_a_user_with_the_claimed_profile() {
    let app = host_app().await;
    let claims = json!({
        "sub": "ext-42",
        "name": "Host User",
        "avatar": "https://cdn.example/a.png",
        "exp": now() + 3600,
    });
    let token = host_token(&claims);
    let user = me(&app, &token).await;
    assert!(user["id"].as_i64().is_some_and(|id| id > 0), "{user}");
    assert_eq!(user["name"], "Host User");
    assert_eq!(user["avatar"], "https://cdn.example/a.png");
    assert_eq!(user["username"], Value::Null, "host users have no parlor username: {user}");

    // The same platform user is the same parlor user.
    let again = me(&app, &host_token(&claims)).await;
    assert_eq!(again["id"], user["id"]);

    // The socket takes the platform's token too.
    let ws = app.ws(&token).await;
    assert_eq!(ws.hello["user_id"], user["id"]);
    ws.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_name_claim_updates_the_host_user() {
    let app = host_app().await;
    let first = me(&app, &host_token(&json!({"sub": "ext-42", "name": "Host User", "exp": now() + 3600}))).await;
    let renamed = me(&app, &host_token(&json!({"sub": "ext-42", "name": "Renamed User", "exp": now() + 3600}))).await;
    assert_eq!(renamed["id"], first["id"]);
    assert_eq!(renamed["name"], "Renamed User");

    // Others see the new name too.
    let bob = app.register("bob").await;
    let path = format!("/api/chat/users/{}/", first["id"]);
    let (status, seen) = bob.get(&path).await;
    assert_eq!(status, StatusCode::OK, "{seen}");
    assert_eq!(seen["name"], "Renamed User");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_numeric_host_subject_works() {
    let app = host_app().await;
    let named = me(&app, &host_token(&json!({"sub": "ext-42", "name": "Host User", "exp": now() + 3600}))).await;
    let numeric = me(&app, &host_token(&json!({"sub": 42, "name": "Number User", "exp": now() + 3600}))).await;
    assert!(numeric["id"].as_i64().is_some(), "{numeric}");
    assert_ne!(numeric["id"], named["id"], "a different platform user");
    assert_eq!(numeric["name"], "Number User");
    assert_eq!(numeric["username"], Value::Null);
    let again = me(&app, &host_token(&json!({"sub": 42, "exp": now() + 3600}))).await;
    assert_eq!(again["id"], numeric["id"]);
    assert_eq!(again["name"], "Number User", "no name claim keeps the name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_token_without_exp_is_refused() {
    let app = host_app().await;
    let token = host_token(&json!({"sub": "ext-42", "name": "Host User"}));
    assert_token_refused(&app, &token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_host_token_is_refused_and_says_so() {
    let app = host_app().await;
    let token = host_token(&json!({"sub": "ext-42", "name": "Host User", "exp": now() - 120}));
    let message = assert_token_refused(&app, &token).await;
    assert!(message.contains("expired"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_token_signed_with_the_wrong_secret_or_algorithm_is_refused() {
    let app = host_app().await;
    let claims = json!({"sub": "ext-42", "name": "Host User", "exp": now() + 3600});
    assert_token_refused(&app, &sign(Algorithm::HS256, "not-the-host-secret-0123456789abcdef", &claims)).await;
    assert_token_refused(&app, &sign(Algorithm::HS512, HOST_SECRET, &claims)).await;
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT"}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    assert_token_refused(&app, &format!("{header}.{payload}.")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_token_with_an_unusable_subject_is_refused() {
    let app = host_app().await;
    let exp = now() + 3600;
    for sub in [json!(""), json!("has space"), json!(null), json!(["ext-42"]), json!({"id": 42})] {
        let token = host_token(&json!({"sub": sub, "exp": exp}));
        assert_token_refused(&app, &token).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_tokens_still_work_in_host_mode() {
    let app = host_app().await;
    let alice = app.register("alice").await;
    let profile = me(&app, &alice.token).await;
    assert_eq!(profile["id"], alice.id);
    assert_eq!(profile["username"], alice.username.as_str());

    let (status, body) = login(&app, "alice", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app.post(None, "/api/auth/refresh", json!({"refresh": alice.refresh})).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let ws = app.ws(&alice.token).await;
    assert_eq!(ws.hello["user_id"], alice.id);
    ws.close().await;

    // Own tokens are still checked: a forged-but-expired one is refused.
    assert_token_refused(&app, &forge_own(alice.id, now() - 120)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_tokens_are_refused_in_standalone_mode() {
    let app = TestApp::spawn().await;
    let token = host_token(&json!({"sub": "ext-42", "name": "Host User", "exp": now() + 3600}));
    assert_token_refused(&app, &token).await;
}
