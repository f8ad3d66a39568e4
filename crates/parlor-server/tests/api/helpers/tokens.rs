//! Tokens as parlor issues them, forged with the test secret: expired, tampered or for users who
//! never log in.

use serde_json::{Value, json};

use super::TOKEN_SECRET;

/// Seconds since the Unix epoch, as token claims count them.
pub fn unix_now() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    i64::try_from(since.as_secs()).unwrap()
}

/// Signs `claims` with `alg` and `secret`.
pub fn sign(alg: jsonwebtoken::Algorithm, secret: &str, claims: &Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::new(alg), claims, &key).unwrap()
}

/// The claims of one of parlor's own access tokens.
pub fn own_claims(user_id: i64, exp: i64) -> Value {
    json!({"sub": user_id.to_string(), "iss": "parlor", "iat": unix_now() - 10, "exp": exp})
}

/// A token shaped like parlor's own, signed with the test secret.
pub fn forge_own(user_id: i64, exp: i64) -> String {
    sign(jsonwebtoken::Algorithm::HS256, TOKEN_SECRET, &own_claims(user_id, exp))
}

/// A valid access token for any user id, as parlor would issue it (e.g. for users the server API
/// provisioned, who never log in with a password).
pub fn token_for(user_id: i64) -> String {
    forge_own(user_id, unix_now() + 600)
}
