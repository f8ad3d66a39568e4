//! Access tokens (HS256 JWTs), refresh tokens (random, stored hashed, single use), and the host
//! platform's tokens in host-app mode.

use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use parlor_core::{ProfileUpdate, Timestamp, User, UserId};
use parlor_store::Store;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::host::{HostIdentity, HostTokens};
use crate::config::Config;
use crate::error::{ApiError, ApiResult};

const ISSUER: &str = "parlor";

#[derive(Clone)]
pub struct Tokens {
    own_encode: EncodingKey,
    own_decode: DecodingKey,
    /// Set in host-app mode.
    host: Option<Arc<HostTokens>>,
    access_ttl_secs: i64,
    refresh_ttl_secs: i64,
    store: Arc<dyn Store>,
}

#[derive(Serialize, Deserialize)]
struct AccessClaims {
    sub: String,
    iss: String,
    iat: i64,
    exp: i64,
}

impl Tokens {
    pub fn new(config: &Config, store: Arc<dyn Store>) -> anyhow::Result<Self> {
        let own_secret = match config.token_secret.get() {
            Some(s) => s.as_bytes().to_vec(),
            None => load_or_create_key(&config.data_dir.join("token.key"))?,
        };
        Ok(Self {
            own_encode: EncodingKey::from_secret(&own_secret),
            own_decode: DecodingKey::from_secret(&own_secret),
            host: HostTokens::new(config)?.map(Arc::new),
            access_ttl_secs: config.access_token_ttl_secs,
            refresh_ttl_secs: config.refresh_token_ttl_secs,
            store,
        })
    }

    /// Whether the host platform's tokens are accepted (host-app mode).
    pub fn host_app(&self) -> bool {
        self.host.is_some()
    }

    pub fn access_ttl_secs(&self) -> i64 {
        self.access_ttl_secs
    }

    pub fn issue_access(&self, user: UserId) -> ApiResult<String> {
        self.issue_access_for(user, self.access_ttl_secs)
    }

    /// An access token living `ttl_secs` (the operator's tokens, `parlor admin issue-token`).
    pub fn issue_access_for(&self, user: UserId, ttl_secs: i64) -> ApiResult<String> {
        let now = Timestamp::now().as_secs();
        let claims = AccessClaims { sub: user.to_string(), iss: ISSUER.to_owned(), iat: now, exp: now + ttl_secs };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.own_encode).map_err(|e| {
            tracing::error!(error = %e, "signing an access token failed");
            ApiError::internal()
        })
    }

    pub async fn issue_refresh(&self, user: UserId) -> ApiResult<String> {
        let mut raw = [0u8; 32];
        rand::rng().fill_bytes(&mut raw);
        let token = URL_SAFE_NO_PAD.encode(raw);
        let expires = Timestamp::now().plus_secs(self.refresh_ttl_secs);
        self.store.insert_refresh_token(&digest(&token), user, expires).await?;
        Ok(token)
    }

    /// Spends a refresh token: valid once, then gone.
    pub async fn redeem_refresh(&self, token: &str) -> ApiResult<UserId> {
        let invalid = || ApiError::unauthorized("refresh token is invalid, expired or already used");
        let (user, expires) = self.store.take_refresh_token(&digest(token)).await?.ok_or_else(invalid)?;
        if expires <= Timestamp::now() {
            return Err(invalid());
        }
        Ok(user)
    }

    /// The user a bearer token speaks for: one of parlor's own access tokens, or in host-app
    /// mode one of the platform's (creating or refreshing that user).
    /// Disabled users are refused whichever token they bring.
    pub async fn authenticate(&self, token: &str) -> ApiResult<User> {
        refuse_disabled(self.token_user(token).await?)
    }

    /// The user a credential checked elsewhere (a WebSocket ticket) speaks for, as
    /// [`Tokens::authenticate`] would give it: a user disabled since is refused.
    pub async fn active_user(&self, id: UserId) -> ApiResult<User> {
        let user = self.store.user(id).await?.ok_or_else(|| ApiError::unauthorized("the user no longer exists"))?;
        refuse_disabled(user)
    }

    async fn token_user(&self, token: &str) -> ApiResult<User> {
        let mut own = Validation::new(Algorithm::HS256);
        own.set_issuer(&[ISSUER]);
        own.set_required_spec_claims(&["exp", "sub", "iss"]);
        own.leeway = 5;
        let own_error = match jsonwebtoken::decode::<AccessClaims>(token, &self.own_decode, &own) {
            Ok(data) => {
                let id = data.claims.sub.parse::<i64>().map_err(|_| ApiError::unauthorized("invalid token"))?;
                return self
                    .store
                    .user(UserId(id))
                    .await?
                    .ok_or_else(|| ApiError::unauthorized("token's user no longer exists"));
            }
            Err(e) => e,
        };
        // Our signature checked out, so the token is ours: report its own problem (e.g. expiry).
        let ours = matches!(own_error.kind(), ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature);
        let Some(host) = self.host.as_ref().filter(|_| !ours) else {
            return Err(token_error(own_error.kind()));
        };
        let HostIdentity { external, name, avatar } = host.verify(token).await?;
        // Read first: nearly every request is from a user the server knows, with the name and
        // avatar it already has, and the upsert is a transaction on the one write connection
        // (a reconnect storm of 19,000 host-app clients took 28 s through it).
        if let Some(user) = self.store.user_by_external_id(&external).await?
            && ProfileUpdate::from_claims(&user, name.as_ref(), avatar.as_ref()).is_none()
        {
            return Ok(user);
        }
        Ok(self.store.upsert_external_user(&external, name.as_ref(), avatar.as_ref()).await?)
    }
}

fn refuse_disabled(user: User) -> ApiResult<User> {
    if user.disabled {
        return Err(ApiError::account_disabled());
    }
    Ok(user)
}

fn token_error(kind: &ErrorKind) -> ApiError {
    ApiError::unauthorized(match kind {
        ErrorKind::ExpiredSignature => "token has expired",
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => "token algorithm is not accepted (HS256 only)",
        ErrorKind::InvalidSignature => "token signature is invalid",
        ErrorKind::MissingRequiredClaim(_) => "token is missing a required claim (exp, sub)",
        ErrorKind::InvalidIssuer => "token issuer is not accepted",
        _ => "token is malformed",
    })
}

fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The signing key for parlor's own tokens, made on first start and kept owner-readable only.
fn load_or_create_key(path: &Path) -> anyhow::Result<Vec<u8>> {
    if let Ok(key) = std::fs::read(path)
        && key.len() >= 32
    {
        return Ok(key);
    }
    let mut key = vec![0u8; 32];
    rand::rng().fill_bytes(&mut key);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    std::io::Write::write_all(&mut options.open(path)?, &key)?;
    Ok(key)
}
