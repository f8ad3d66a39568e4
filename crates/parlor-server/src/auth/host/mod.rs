//! The host platform's tokens (host-app mode): verified with the algorithm and key of
//! `[host_tokens]` (a shared secret or a PEM public key), shaped as the
//! platform makes them (the user id in `sub` or another claim, a required `token_type`, `iss`,
//! `aud`), and turned into the platform user they speak for.
//!
//! **Invariant:** a token is accepted only with the one configured algorithm: an RS256
//! platform's public key can never verify an HS256 token signed with it as a secret.

mod claims;
mod settings;

pub use settings::{HostAlgorithm, HostTokenSettings};

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{DecodingKey, Validation};
use parlor_core::{AvatarUrl, DisplayName, ExternalId};

use self::claims::{Claim, Claims};
use self::settings::KeySource;
use crate::config::{Config, ConfigError};
use crate::error::{ApiError, ApiResult};

/// Clock skew allowed on `exp`, in seconds.
const LEEWAY_SECS: u64 = 5;

/// Verifies the platform's tokens.
pub struct HostTokens {
    key: DecodingKey,
    validation: Validation,
    algorithm: HostAlgorithm,
    user_id_claim: String,
    token_type: Option<String>,
}

/// Who a valid host token speaks for, and what it says about them.
pub struct HostIdentity {
    pub external: ExternalId,
    pub name: Option<DisplayName>,
    pub avatar: Option<AvatarUrl>,
}

impl HostTokens {
    /// The verifier `config` asks for; `None` in standalone mode.
    pub fn new(config: &Config) -> Result<Option<HostTokens>, ConfigError> {
        let settings = &config.host_tokens;
        let key = match settings.key_source(&config.jwt_secret)? {
            None => return Ok(None),
            Some(KeySource::Secret(secret)) => DecodingKey::from_secret(secret.as_bytes()),
            Some(KeySource::PublicKey(key)) => key,
        };
        let mut validation = Validation::new(settings.algorithm.jwt());
        validation.leeway = LEEWAY_SECS;
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
            key,
            validation,
            algorithm: settings.algorithm,
            user_id_claim: settings.user_id_claim.clone(),
            token_type: Some(settings.token_type.clone()).filter(|t| !t.is_empty()),
        }))
    }

    /// The platform user `token` speaks for, or why it is refused.
    pub async fn verify(&self, token: &str) -> ApiResult<HostIdentity> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.key, &self.validation)
            .map_err(|e| self.refusal(e.kind()))?
            .claims;
        self.identity(&claims)
    }

    fn identity(&self, claims: &Claims) -> ApiResult<HostIdentity> {
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
