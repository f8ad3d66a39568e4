//! The host platform's tokens (host-app mode): verified with the algorithm and key of
//! `[host_tokens]` (a shared secret, a PEM public key or the platform's JWKS), shaped as the
//! platform makes them (the user id in `sub` or another claim, a required `token_type`, `iss`,
//! `aud`), and turned into the platform user they speak for.
//!
//! **Invariant:** a token is accepted only with the one configured algorithm: an RS256
//! platform's public key can never verify an HS256 token signed with it as a secret.

mod claims;
mod jwks;
mod settings;

pub use settings::{HostAlgorithm, HostTokenSettings};

use std::sync::Arc;

use anyhow::Context;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{DecodingKey, Validation};
use parlor_core::{AvatarUrl, DisplayName, EmailAddress, ExternalId};
use parlor_protocol::ErrorCode;

use self::claims::{Claim, Claims};
use self::jwks::{Jwks, NoKey};
use self::settings::KeySource;
use crate::config::{Config, ConfigError};
use crate::error::{ApiError, ApiResult, Kind};
use crate::outbound::Outbound;

/// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.
const LEEWAY_SECS: u64 = 5;

/// Verifies the platform's tokens.
pub struct HostTokens {
    keys: Keys,
    validation: Validation,
    algorithm: HostAlgorithm,
    user_id_claim: String,
    token_type: Option<String>,
}

/// What checks a signature: one key, or the platform's key set.
enum Keys {
    One(Arc<DecodingKey>),
    Set(Jwks),
}

/// Who a valid host token speaks for, and what it says about them.
pub struct HostIdentity {
    pub external: ExternalId,
    pub name: Option<DisplayName>,
    pub avatar: Option<AvatarUrl>,
    /// The `email` claim, where mail reaches them when they are away.
    pub email: Option<EmailAddress>,
}

impl HostTokens {
    /// The verifier `config` asks for; `None` in standalone mode.
    pub fn new(config: &Config) -> anyhow::Result<Option<HostTokens>> {
        let settings = &config.host_tokens;
        let keys = match settings.key_source(&config.jwt_secret)? {
            None => return Ok(None),
            Some(KeySource::Secret(secret)) => Keys::One(Arc::new(DecodingKey::from_secret(secret.as_bytes()))),
            Some(KeySource::PublicKey(key)) => Keys::One(Arc::new(key)),
            Some(KeySource::Jwks(url)) => {
                let client = Outbound::new(&settings.outbound()).context("cannot set up JWKS fetches")?;
                // Names are checked again whenever the client connects (`crate::outbound`).
                let target = client
                    .target(url)
                    .map_err(|why| ConfigError::new(format!("invalid setting `host_tokens.jwks_url`: {why}")))?;
                Keys::Set(Jwks::new(client, target, settings.algorithm))
            }
        };
        let mut validation = Validation::new(settings.algorithm.jwt());
        validation.leeway = LEEWAY_SECS;
        // A token the platform dated in the future is not valid yet (issue 17, item 9).
        validation.validate_nbf = true;
        // The user id claim is checked below: the library's `sub` check accepts only strings, and
        // platforms often use numbers.
        let mut required = vec!["exp"];
        if !settings.issuer.is_empty() {
            validation.set_issuer(&[&settings.issuer]);
            required.push("iss");
        }
        if !settings.audience.is_empty() {
            validation.set_audience(&[&settings.audience]);
            required.push("aud");
        }
        validation.set_required_spec_claims(&required);
        Ok(Some(HostTokens {
            keys,
            validation,
            algorithm: settings.algorithm,
            user_id_claim: settings.user_id_claim.clone(),
            token_type: Some(settings.token_type.clone()).filter(|t| !t.is_empty()),
        }))
    }

    /// The platform user `token` speaks for, or why it is refused.
    pub async fn verify(&self, token: &str) -> ApiResult<HostIdentity> {
        let keys = match &self.keys {
            Keys::One(key) => vec![key.clone()],
            Keys::Set(set) => {
                // The algorithm first: a token the configured one cannot verify fetches nothing.
                let header = jsonwebtoken::decode_header(token).map_err(|e| self.refusal(e.kind()))?;
                if header.alg != self.algorithm.jwt() {
                    return Err(self.refusal(&ErrorKind::InvalidAlgorithm));
                }
                set.keys_for(header.kid.as_deref()).await.map_err(|no| match no {
                    NoKey::Unknown => ApiError::unauthorized("token key id (`kid`) is not among the platform's keys"),
                    NoKey::Unavailable => ApiError::new(
                        Kind::Unavailable,
                        ErrorCode::Unavailable,
                        "the platform's signing keys cannot be fetched; try again later",
                    ),
                })?
            }
        };
        // Several keys only for a token naming none: the one whose signature matches decides.
        for key in keys {
            match jsonwebtoken::decode::<Claims>(token, &key, &self.validation) {
                Ok(data) => return self.identity(&data.claims),
                Err(e) if *e.kind() == ErrorKind::InvalidSignature => continue,
                Err(e) => return Err(self.refusal(e.kind())),
            }
        }
        Err(self.refusal(&ErrorKind::InvalidSignature))
    }

    fn identity(&self, claims: &Claims) -> ApiResult<HostIdentity> {
        check_issued_at(claims)?;
        if let Some(expected) = &self.token_type
            && claims.text("token_type") != Some(expected.as_str())
        {
            return Err(ApiError::unauthorized(format!("token `token_type` must be `{expected}`")));
        }
        let claim = &self.user_id_claim;
        let id = match claims.get(claim) {
            Some(Claim::Text(id) | Claim::Integer(id)) => id,
            Some(Claim::Other) => {
                return Err(ApiError::unauthorized(format!("token `{claim}` must be a string or integer")));
            }
            None => return Err(ApiError::unauthorized(format!("token is missing a required claim ({claim})"))),
        };
        let external = ExternalId::parse(id).map_err(|e| ApiError::unauthorized(format!("token {e}")))?;
        Ok(HostIdentity {
            external,
            name: claims.text("name").and_then(DisplayName::lenient),
            // A bad avatar claim should not lock a platform user out: it is ignored.
            avatar: claims.text("avatar").and_then(|a| AvatarUrl::parse(a).ok()),
            // Likewise a bad address: they get no mail until the platform sends a good one.
            email: claims.text("email").and_then(|e| EmailAddress::parse(e).ok()),
        })
    }

    fn refusal(&self, kind: &ErrorKind) -> ApiError {
        ApiError::unauthorized(match kind {
            ErrorKind::ExpiredSignature => "token has expired".to_owned(),
            ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                format!("token algorithm is not accepted ({} only)", self.algorithm.name())
            }
            ErrorKind::InvalidSignature => "token signature is invalid".to_owned(),
            ErrorKind::MissingRequiredClaim(claim) => format!("token is missing a required claim ({claim})"),
            ErrorKind::InvalidIssuer => "token issuer is not accepted".to_owned(),
            ErrorKind::InvalidAudience => "token audience (`aud`) is not accepted".to_owned(),
            ErrorKind::ImmatureSignature => "token is not valid yet".to_owned(),
            _ => "token is malformed".to_owned(),
        })
    }
}

/// `iat`, when present, must be a whole number of seconds and not in the future (beyond the
/// leeway): a token "issued" later than now was made by a broken or forging signer.
fn check_issued_at(claims: &Claims) -> ApiResult<()> {
    let issued = match claims.get("iat") {
        None => return Ok(()),
        Some(Claim::Integer(iat)) => iat.parse::<i128>().ok(),
        Some(_) => None,
    };
    let Some(issued) = issued else {
        return Err(ApiError::unauthorized("token `iat` must be a whole number of seconds since 1970"));
    };
    let now = i128::from(jsonwebtoken::get_current_timestamp());
    if issued > now + i128::from(LEEWAY_SECS) {
        return Err(ApiError::unauthorized("token `iat` is in the future: it was not issued yet"));
    }
    Ok(())
}
