//! The `ServerKey` extractor: handlers of the server API (the host platform's backend calling
//! parlor) take one, and run only for a request carrying the configured `api_key`. Wrong keys
//! are counted per client address (`rate_limits.failed_api_keys_per_ip`), which is then locked out.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::bearer_token;
use crate::error::ApiError;
use crate::rate_limit::{Bucket, ClientIp, Key};
use crate::state::AppState;

/// Proof that the request came from the host platform's backend.
pub struct ServerKey;

impl FromRequestParts<AppState> for ServerKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(expected) = state.config.api_key.get() else {
            return Err(ApiError::forbidden("the server API is disabled: set `api_key` (PARLOR_API_KEY)"));
        };
        let Ok(ClientIp(ip)) = ClientIp::from_request_parts(parts, state).await;
        // Before comparing: while an address is locked out, even the right key is refused.
        state.rate_limits.check_locked(Bucket::FailedApiKeys, &Key::Ip(ip)).await?;
        let given = parts
            .headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .or_else(|| bearer_token(&parts.headers))
            .ok_or_else(|| ApiError::unauthorized("missing API key: send `X-Api-Key` or `Authorization: Bearer`"))?;
        // Hashing first makes the comparison constant-time in the key's length too.
        let matches: bool = Sha256::digest(given.as_bytes()).ct_eq(&Sha256::digest(expected.as_bytes())).into();
        if !matches {
            state.rate_limits.failed(Bucket::FailedApiKeys, Key::Ip(ip)).await?;
            return Err(ApiError::unauthorized("invalid API key"));
        }
        // The audit trail records this call (`http::server_api::audited`).
        if let Some(used) = parts.extensions.get::<crate::http::KeyUsed>() {
            used.mark();
        }
        Ok(ServerKey)
    }
}
