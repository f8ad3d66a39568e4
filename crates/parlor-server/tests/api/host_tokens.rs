//! Host tokens shaped like the platform's (`[host_tokens]`): the user id in another claim and a
//! required `token_type` (SimpleJWT's shape), `iss` and `aud`, HS384/HS512, and key pairs (RS256
//! and ES256 with a PEM public key), each accepted on REST and on the socket handshake and
//! refused with a message saying why. Tokens minted by SimpleJWT itself are tested in the Python
//! SDK's suite (`clients/python/tests/test_simplejwt.py`); the JWKS in `host_jwks.rs`.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use parlor_server::auth::HostAlgorithm;
use parlor_server::config::{Config, Secret};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, unix_now};

const SECRET: &str = "platform-signing-secret-0123456789abcdef";

pub fn key_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/api/keys").join(name);
    std::fs::read_to_string(path).unwrap()
}

/// `claims` signed with `alg` by the key in `keys/<private>` (or [`SECRET`] for HS*), naming `kid`.
pub fn mint(alg: Algorithm, private: &str, kid: Option<&str>, claims: &Value) -> String {
    let key = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(key_file(private).as_bytes()).unwrap(),
        Algorithm::ES256 => EncodingKey::from_ec_pem(key_file(private).as_bytes()).unwrap(),
        _ => EncodingKey::from_secret(SECRET.as_bytes()),
    };
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

/// The user a token opens `/api/users/me` as, or the refusal's message.
pub async fn who(app: &TestApp, token: &str) -> Result<Value, String> {
    let (status, body) = app.get(Some(token), "/api/users/me").await;
    match status {
        StatusCode::OK => Ok(body),
        StatusCode::UNAUTHORIZED => {
            assert_eq!(body["code"], "unauthorized", "{body}");
            Err(body["message"].as_str().unwrap().to_owned())
        }
        other => panic!("unexpected {other}: {body}"),
    }
}

fn simplejwt_shaped(config: &mut Config) {
    config.jwt_secret = Secret::new(SECRET);
    config.host_tokens.user_id_claim = "user_id".into();
    config.host_tokens.token_type = "access".into();
}

#[tokio::test]
async fn simplejwt_shaped_tokens_name_the_user_in_user_id_and_must_be_access_tokens() {
    let app = TestApp::spawn_with(simplejwt_shaped).await;
    let exp = unix_now() + 300;
    let access = json!({"token_type": "access", "exp": exp, "iat": unix_now(), "jti": "1f0e", "user_id": 42});
    let user = who(&app, &mint(Algorithm::HS256, "", None, &access)).await.unwrap();
    assert_eq!(user["name"], "User 42");
    // The same user again, by the server API's name for them.
    let (_, provisioned) = app.server(reqwest::Method::PUT, "/api/server/users/42", json!({"name": "Ada"})).await;
    assert_eq!(provisioned["id"], user["id"]);
    // On the socket handshake too.
    let ws = app.ws(&mint(Algorithm::HS256, "", None, &access)).await;
    ws.close().await;

    let refresh = json!({"token_type": "refresh", "exp": exp, "user_id": 42});
    let why = who(&app, &mint(Algorithm::HS256, "", None, &refresh)).await.unwrap_err();
    assert_eq!(why, "token `token_type` must be `access`");
    let untyped = json!({"exp": exp, "user_id": 42});
    assert_eq!(who(&app, &mint(Algorithm::HS256, "", None, &untyped)).await.unwrap_err(), why);
    let in_sub = json!({"token_type": "access", "exp": exp, "sub": "42"});
    let why = who(&app, &mint(Algorithm::HS256, "", None, &in_sub)).await.unwrap_err();
    assert_eq!(why, "token is missing a required claim (user_id)");
    for bad in [json!(4.5), json!(true), json!([42]), json!({"id": 42})] {
        let claims = json!({"token_type": "access", "exp": exp, "user_id": bad});
        let why = who(&app, &mint(Algorithm::HS256, "", None, &claims)).await.unwrap_err();
        assert_eq!(why, "token `user_id` must be a string or integer", "{bad}");
    }
    let (status, body) = app.get(Some(&app_token_named_twice(exp)), "/api/users/me").await;
    assert_eq!((status, body["message"].as_str()), (StatusCode::UNAUTHORIZED, Some("token is malformed")));
    app.stop().await;
}

/// A token whose payload names `user_id` twice: which one counts would depend on the reader.
fn app_token_named_twice(exp: i64) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let head = b64(r#"{"alg":"HS256","typ":"JWT"}"#);
    let body = b64(&format!(r#"{{"token_type":"access","exp":{exp},"user_id":1,"user_id":2}}"#));
    let signing_input = format!("{head}.{body}");
    let signature = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS256,
    )
    .unwrap();
    format!("{signing_input}.{signature}")
}

#[tokio::test]
async fn issuer_and_audience_are_checked_when_configured_and_a_foreign_audience_always() {
    let app = TestApp::spawn_with(|c| {
        c.jwt_secret = Secret::new(SECRET);
        c.host_tokens.issuer = "https://platform.example".into();
        c.host_tokens.audience = "parlor".into();
    })
    .await;
    let exp = unix_now() + 300;
    let token = |claims: Value| mint(Algorithm::HS256, "", None, &claims);
    let good = json!({"sub": "u-1", "exp": exp, "iss": "https://platform.example", "aud": "parlor"});
    assert!(who(&app, &token(good)).await.is_ok());
    let among = json!({"sub": "u-1", "exp": exp, "iss": "https://platform.example", "aud": ["shop", "parlor"]});
    assert!(who(&app, &token(among)).await.is_ok(), "an audience list naming parlor");
    let cases = [
        (
            json!({"sub": "u-1", "exp": exp, "iss": "https://evil.example", "aud": "parlor"}),
            "token issuer is not accepted",
        ),
        (json!({"sub": "u-1", "exp": exp, "aud": "parlor"}), "token is missing a required claim (iss)"),
        (
            json!({"sub": "u-1", "exp": exp, "iss": "https://platform.example", "aud": "shop"}),
            "token audience (`aud`) is not accepted",
        ),
        (
            json!({"sub": "u-1", "exp": exp, "iss": "https://platform.example"}),
            "token is missing a required claim (aud)",
        ),
    ];
    for (claims, expected) in cases {
        assert_eq!(who(&app, &token(claims.clone())).await.unwrap_err(), expected, "{claims}");
    }
    app.stop().await;

    // Unconfigured, `iss` is not checked, but a token meant for another audience is refused.
    let app = TestApp::spawn_with(|c| c.jwt_secret = Secret::new(SECRET)).await;
    assert!(who(&app, &token(json!({"sub": "u-1", "exp": exp, "iss": "anyone"}))).await.is_ok());
    let why = who(&app, &token(json!({"sub": "u-1", "exp": exp, "aud": "shop"}))).await.unwrap_err();
    assert_eq!(why, "token audience (`aud`) is not accepted");
    app.stop().await;
}

#[tokio::test]
async fn hs512_platforms_are_accepted_and_only_with_their_algorithm() {
    let app = TestApp::spawn_with(|c| {
        c.jwt_secret = Secret::new(SECRET);
        c.host_tokens.algorithm = HostAlgorithm::HS512;
    })
    .await;
    let claims = json!({"sub": "u-9", "exp": unix_now() + 300, "name": "Nine"});
    assert_eq!(who(&app, &mint(Algorithm::HS512, "", None, &claims)).await.unwrap()["name"], "Nine");
    for other in [Algorithm::HS256, Algorithm::HS384] {
        let why = who(&app, &mint(other, "", None, &claims)).await.unwrap_err();
        assert_eq!(why, "token algorithm is not accepted (HS512 only)");
    }
    app.stop().await;

    let app = TestApp::spawn_with(|c| {
        c.jwt_secret = Secret::new(SECRET);
        c.host_tokens.algorithm = HostAlgorithm::HS384;
    })
    .await;
    assert!(who(&app, &mint(Algorithm::HS384, "", None, &claims)).await.is_ok());
    app.stop().await;
}

#[tokio::test]
async fn key_pair_platforms_are_verified_with_their_public_key() {
    let app = TestApp::spawn_with(|c| {
        c.host_tokens.algorithm = HostAlgorithm::RS256;
        c.host_tokens.public_key = key_file("rsa-a.pub.pem");
    })
    .await;
    let claims = json!({"sub": "u-5", "exp": unix_now() + 300, "name": "Five"});
    let user = who(&app, &mint(Algorithm::RS256, "rsa-a.key.pem", None, &claims)).await.unwrap();
    assert_eq!(user["name"], "Five");
    let ws = app.ws(&mint(Algorithm::RS256, "rsa-a.key.pem", None, &claims)).await;
    ws.close().await;
    let why = who(&app, &mint(Algorithm::RS256, "rsa-b.key.pem", None, &claims)).await.unwrap_err();
    assert_eq!(why, "token signature is invalid", "another key pair");
    // Algorithm confusion: the public key, which is no secret, used as an HMAC secret.
    let public = key_file("rsa-a.pub.pem");
    let confused =
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(public.as_bytes()))
            .unwrap();
    assert_eq!(who(&app, &confused).await.unwrap_err(), "token algorithm is not accepted (RS256 only)");
    // parlor's own tokens still work beside the platform's.
    let own = app.register("alice").await;
    assert_eq!(who(&app, &own.token).await.unwrap()["username"], "alice");
    app.stop().await;

    let app = TestApp::spawn_with(|c| {
        c.host_tokens.algorithm = HostAlgorithm::ES256;
        c.host_tokens.public_key = key_file("ec.pub.pem");
    })
    .await;
    assert_eq!(who(&app, &mint(Algorithm::ES256, "ec.key.pem", None, &claims)).await.unwrap()["name"], "Five");
    let why = who(&app, &mint(Algorithm::RS256, "rsa-a.key.pem", None, &claims)).await.unwrap_err();
    assert_eq!(why, "token algorithm is not accepted (ES256 only)");
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_key_setting_stops_the_server_at_start_naming_it() {
    type Case = (&'static str, fn(&mut Config));
    let cases: [Case; 5] = [
        ("host_tokens.public_key", |c| {
            c.jwt_secret = Secret::new(SECRET);
            c.host_tokens.public_key = key_file("rsa-a.pub.pem");
        }),
        ("jwt_secret", |c| {
            c.jwt_secret = Secret::new(SECRET);
            c.host_tokens.algorithm = HostAlgorithm::RS256;
        }),
        ("host_tokens.algorithm", |c| c.host_tokens.algorithm = HostAlgorithm::ES256),
        ("host_tokens.public_key", |c| {
            c.host_tokens.algorithm = HostAlgorithm::ES256;
            c.host_tokens.public_key = key_file("rsa-a.pub.pem");
        }),
        ("host_tokens.public_key", |c| {
            c.host_tokens.algorithm = HostAlgorithm::RS256;
            c.host_tokens.public_key = "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----".into();
        }),
    ];
    for (key, tweak) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut config = crate::helpers::test_config(dir.path());
        tweak(&mut config);
        let error = parlor_server::Server::bind(config).await.err().map(|e| format!("{e:#}")).unwrap_or_default();
        assert!(error.contains(&format!("`{key}`")), "expected an error naming `{key}`: {error}");
    }
}

#[tokio::test]
async fn a_token_not_valid_yet_or_issued_in_the_future_is_refused() {
    let app = TestApp::spawn_with(|c| c.jwt_secret = Secret::new(SECRET)).await;
    let now = unix_now();
    let token = |extra: Value| {
        let mut claims = json!({"sub": "u-9", "exp": now + 600});
        claims.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        mint(Algorithm::HS256, "", None, &claims)
    };
    // Well inside the 5 s leeway either way: accepted.
    for fine in [json!({}), json!({"nbf": now - 60, "iat": now - 60}), json!({"nbf": now + 2, "iat": now + 2})] {
        assert!(who(&app, &token(fine.clone())).await.is_ok(), "{fine}");
    }
    let refused = [
        (json!({"nbf": now + 120}), "not valid yet"),
        (json!({"iat": now + 120}), "`iat` is in the future"),
        (json!({"iat": "yesterday"}), "`iat` must be a whole number"),
        (json!({"iat": 1.5}), "`iat` must be a whole number"),
    ];
    for (claims, why) in refused {
        let message = who(&app, &token(claims.clone())).await.unwrap_err();
        assert!(message.contains(why), "{claims}: {message}");
    }
    // The socket handshake takes the same token the same way.
    let (status, body) = app.ws_refused(&format!("/ws/?token={}", token(json!({"nbf": now + 120})))).await;
    assert_eq!(status, 401, "{body}");
}
