//! `[host_tokens]`: how the host platform's tokens are shaped (the claim holding the user id, a
//! required `token_type`, `iss` and `aud`) and signed (the algorithm, and the key: `jwt_secret`,
//! a PEM public key or a JWKS URL), checked at start so a wrong key fails there, by name.

use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use crate::config::{ConfigError, Secret};
use crate::outbound::OutboundSettings;

/// Longest a JWKS fetch may take, connecting included.
const JWKS_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Deserialize)]
pub struct HostTokenSettings {
    pub algorithm: HostAlgorithm,
    /// The claim holding the platform's user id: `sub`, or SimpleJWT's `user_id`.
    pub user_id_claim: String,
    /// When set, the `token_type` claim must equal it (SimpleJWT: `access`, so its refresh
    /// tokens are refused).
    pub token_type: String,
    /// When set, `iss` must equal it.
    pub issuer: String,
    /// When set, `aud` must name it; unset, tokens carrying an `aud` are refused.
    pub audience: String,
    /// A PEM public key (RS256, ES256).
    pub public_key: String,
    /// Where the platform publishes its keys (RS256, ES256), fetched through the outbound guard.
    pub jwks_url: String,
    /// The JWKS may be at a loopback, private or link-local address (`crate::outbound`).
    pub allow_private_targets: bool,
}

/// The algorithms a platform may sign with: a shared secret (HS*) or a key pair (RS256, ES256).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum HostAlgorithm {
    HS256,
    HS384,
    HS512,
    RS256,
    ES256,
}

impl HostAlgorithm {
    pub fn jwt(self) -> Algorithm {
        match self {
            HostAlgorithm::HS256 => Algorithm::HS256,
            HostAlgorithm::HS384 => Algorithm::HS384,
            HostAlgorithm::HS512 => Algorithm::HS512,
            HostAlgorithm::RS256 => Algorithm::RS256,
            HostAlgorithm::ES256 => Algorithm::ES256,
        }
    }

    pub fn is_hmac(self) -> bool {
        matches!(self, HostAlgorithm::HS256 | HostAlgorithm::HS384 | HostAlgorithm::HS512)
    }

    pub fn name(self) -> &'static str {
        match self {
            HostAlgorithm::HS256 => "HS256",
            HostAlgorithm::HS384 => "HS384",
            HostAlgorithm::HS512 => "HS512",
            HostAlgorithm::RS256 => "RS256",
            HostAlgorithm::ES256 => "ES256",
        }
    }
}

/// Where host tokens' signatures are checked against, as configured.
pub enum KeySource<'a> {
    Secret(&'a str),
    PublicKey(DecodingKey),
    Jwks(&'a str),
}

impl HostTokenSettings {
    /// The key source when host-app mode is on (`None`: standalone), or which setting is wrong.
    pub fn key_source<'a>(&'a self, jwt_secret: &'a Secret) -> Result<Option<KeySource<'a>>, ConfigError> {
        let alg = self.algorithm.name();
        let bad = |why: String| Err(ConfigError::new(why));
        let (public_key, jwks_url) = (!self.public_key.trim().is_empty(), !self.jwks_url.is_empty());
        if self.user_id_claim.is_empty() {
            return bad("invalid setting `host_tokens.user_id_claim`: name the claim holding the user id".into());
        }
        if self.algorithm.is_hmac() {
            if public_key || jwks_url {
                let key = if public_key { "public_key" } else { "jwks_url" };
                return bad(format!(
                    "invalid setting `host_tokens.{key}`: a public key verifies RS256 or ES256 tokens, but \
                     `host_tokens.algorithm` is {alg} (which uses `jwt_secret`)"
                ));
            }
            return Ok(jwt_secret.get().map(KeySource::Secret));
        }
        if jwt_secret.get().is_some() {
            return bad(format!(
                "invalid setting `jwt_secret`: {alg} tokens are verified with `host_tokens.public_key` or \
                 `host_tokens.jwks_url`, not a shared secret"
            ));
        }
        match (public_key, jwks_url) {
            (true, true) => {
                bad("invalid setting `host_tokens.jwks_url`: set it or `host_tokens.public_key`, not both".into())
            }
            (false, false) => bad(format!(
                "invalid setting `host_tokens.algorithm`: {alg} needs `host_tokens.public_key` or \
                 `host_tokens.jwks_url`"
            )),
            (false, true) => Ok(Some(KeySource::Jwks(&self.jwks_url))),
            (true, false) => {
                let pem = self.public_key.trim().as_bytes();
                let key = match self.algorithm {
                    HostAlgorithm::ES256 => DecodingKey::from_ec_pem(pem),
                    _ => DecodingKey::from_rsa_pem(pem),
                };
                key.map(|k| Some(KeySource::PublicKey(k))).or_else(|e| {
                    bad(format!("invalid setting `host_tokens.public_key`: not a PEM public key for {alg}: {e}"))
                })
            }
        }
    }

    /// The outbound guard's settings for JWKS fetches.
    pub fn outbound(&self) -> OutboundSettings {
        OutboundSettings {
            setting: "host_tokens.allow_private_targets",
            allow_private_targets: self.allow_private_targets,
            timeout: JWKS_TIMEOUT,
            user_agent: concat!("parlor-jwks/", env!("CARGO_PKG_VERSION")),
        }
    }
}
