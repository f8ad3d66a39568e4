//! Access tokens (HS256 JWTs), refresh tokens (random, stored hashed, single use, rotated in
//! families: one per session), and the host platform's tokens in host-app mode.
//!
//! A refresh token presented twice means two parties hold it (the OAuth 2.0 security BCP's
//! reuse detection): the store revokes its whole family, the session's access tokens stop
//! working (they carry the session as `sid`, checked on every use), and the caller closes the
//! session's sockets.

use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use parlor_core::{EmailAddress, ProfileUpdate, SessionId, Timestamp, User, UserId};
use parlor_store::{Rotation, Store};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::host::{HostIdentity, HostTokens};
use super::introspection::{Credential, Introspection};
use crate::config::Config;
use crate::error::{ApiError, ApiResult};

const ISSUER: &str = "parlor";

#[derive(Clone)]
pub struct Tokens {
    own_encode: EncodingKey,
    own_decode: DecodingKey,
    /// The key above, from which keys for other signatures are derived ([`Tokens::derived_key`]).
    own_secret: Arc<[u8]>,
    /// Set in host-app mode.
    host: Option<Arc<HostTokens>>,
    /// Set with `auth.introspection_url`: the platform checks its own credentials.
    introspection: Option<Arc<Introspection>>,
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
    /// The session (refresh token family) a token was issued to; none for the operator's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<i64>,
}

/// What presenting a refresh token came to.
pub enum Redeemed {
    /// A new refresh token of the same session.
    Rotated { user: UserId, session: SessionId, refresh: String },
    /// The token had been used before: the session is revoked.
    Reused { user: UserId, session: SessionId },
    /// Unknown or expired.
    Invalid,
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
            own_secret: own_secret.into(),
            host: HostTokens::new(config)?.map(Arc::new),
            introspection: None,
            access_ttl_secs: config.access_token_ttl_secs,
            refresh_ttl_secs: config.refresh_token_ttl_secs,
            store,
        })
    }

    /// A key for `purpose` derived from the token key (HMAC-SHA256 of the purpose): as stable
    /// as the token key, shared by every node that shares `token_secret`, and useless for
    /// signing tokens.
    pub fn derived_key(&self, purpose: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(&self.own_secret) else {
            unreachable!("an HMAC key of any length is accepted")
        };
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Asks the platform about credentials parlor cannot check (`auth.introspection_url`).
    pub fn with_introspection(mut self, introspection: Option<Arc<Introspection>>) -> Self {
        self.introspection = introspection;
        self
    }

    /// The user a platform credential speaks for, as the platform says; without an
    /// introspection URL no such credential is accepted.
    pub async fn authenticate_platform(&self, credential: Credential<'_>) -> ApiResult<User> {
        match &self.introspection {
            Some(introspection) => introspection.user(credential).await,
            None => Err(ApiError::unauthorized(
                "this credential is checked by the platform, and `auth.introspection_url` is not set: \
                 send `Authorization: Bearer <token>`",
            )),
        }
    }

    /// Whether the host platform's tokens are accepted (host-app mode).
    /// So is asking the platform about its credentials: either way the platform names users.
    pub fn host_app(&self) -> bool {
        self.host.is_some() || self.introspection.is_some()
    }

    pub fn access_ttl_secs(&self) -> i64 {
        self.access_ttl_secs
    }

    /// An access token of a session.
    pub fn issue_access(&self, user: UserId, session: SessionId) -> ApiResult<String> {
        self.sign(user, self.access_ttl_secs, Some(session))
    }

    /// An access token living `ttl_secs` (the operator's tokens, `parlor admin issue-token`),
    /// of no session.
    pub fn issue_access_for(&self, user: UserId, ttl_secs: i64) -> ApiResult<String> {
        self.sign(user, ttl_secs, None)
    }

    fn sign(&self, user: UserId, ttl_secs: i64, session: Option<SessionId>) -> ApiResult<String> {
        let now = Timestamp::now().as_secs();
        let claims = AccessClaims {
            sub: user.to_string(),
            iss: ISSUER.to_owned(),
            iat: now,
            exp: now + ttl_secs,
            sid: session.map(|s| s.0),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.own_encode).map_err(|e| {
            tracing::error!(error = %e, "signing an access token failed");
            ApiError::internal()
        })
    }

    /// A new session (a login): its id and first refresh token.
    pub async fn start_session(&self, user: UserId) -> ApiResult<(SessionId, String)> {
        // Random and never 0 (the family of tokens from before sessions).
        let session = SessionId(i64::try_from(rand::rng().next_u64() >> 1).unwrap_or(1).max(1));
        let token = new_refresh_token();
        let expires = Timestamp::now().plus_secs(self.refresh_ttl_secs);
        self.store.insert_refresh_token(&digest(&token), user, session, expires).await?;
        Ok((session, token))
    }

    /// Spends a refresh token for the next of its session; a token used before revokes the
    /// session instead.
    pub async fn redeem_refresh(&self, token: &str) -> ApiResult<Redeemed> {
        let next = new_refresh_token();
        let now = Timestamp::now();
        let expires = now.plus_secs(self.refresh_ttl_secs);
        Ok(match self.store.rotate_refresh_token(&digest(token), &digest(&next), now, expires).await? {
            Rotation::Rotated { user, session } => Redeemed::Rotated { user, session, refresh: next },
            Rotation::Reused { user, session } => Redeemed::Reused { user, session },
            Rotation::Invalid => Redeemed::Invalid,
        })
    }

    /// The user a bearer token speaks for: one of parlor's own access tokens, or in host-app
    /// mode one of the platform's (creating or refreshing that user).
    /// Disabled users are refused whichever token they bring.
    pub async fn authenticate(&self, token: &str) -> ApiResult<User> {
        Ok(self.authenticate_session(token).await?.0)
    }

    /// As [`Tokens::authenticate`], with the session the token belongs to (`None` for the
    /// operator's and the platform's tokens). A token of a revoked session is refused.
    pub async fn authenticate_session(&self, token: &str) -> ApiResult<(User, Option<SessionId>)> {
        let (user, session) = self.token_user(token).await?;
        let user = refuse_disabled(user)?;
        self.check_session(user.id, session).await?;
        Ok((user, session))
    }

    /// The user a credential checked elsewhere (a WebSocket ticket) speaks for, as
    /// [`Tokens::authenticate`] would give it: a user disabled since is refused.
    /// A session revoked since is refused too.
    pub async fn active_user(&self, id: UserId, session: Option<SessionId>) -> ApiResult<User> {
        let user = self.store.user(id).await?.ok_or_else(|| ApiError::unauthorized("the user no longer exists"))?;
        let user = refuse_disabled(user)?;
        self.check_session(user.id, session).await?;
        Ok(user)
    }

    async fn check_session(&self, user: UserId, session: Option<SessionId>) -> ApiResult<()> {
        match session {
            Some(session) if !self.store.session_live(user, session).await? => {
                Err(ApiError::unauthorized("this session has ended: sign in again"))
            }
            _ => Ok(()),
        }
    }

    async fn token_user(&self, token: &str) -> ApiResult<(User, Option<SessionId>)> {
        let mut own = Validation::new(Algorithm::HS256);
        own.set_issuer(&[ISSUER]);
        own.set_required_spec_claims(&["exp", "sub", "iss"]);
        own.leeway = 5;
        let own_error = match jsonwebtoken::decode::<AccessClaims>(token, &self.own_decode, &own) {
            Ok(data) => {
                let id = data.claims.sub.parse::<i64>().map_err(|_| ApiError::unauthorized("invalid token"))?;
                let user = self
                    .store
                    .user(UserId(id))
                    .await?
                    .ok_or_else(|| ApiError::unauthorized("token's user no longer exists"))?;
                return Ok((user, data.claims.sid.map(SessionId)));
            }
            Err(e) => e,
        };
        // Our signature checked out, so the token is ours: report its own problem (e.g. expiry).
        let ours = matches!(own_error.kind(), ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature);
        let Some(host) = self.host.as_ref().filter(|_| !ours) else {
            return Err(token_error(own_error.kind()));
        };
        let HostIdentity { external, name, avatar, email } = host.verify(token).await?;
        // Read first: nearly every request is from a user the server knows, with the name and
        // avatar it already has, and the upsert is a transaction on the one write connection
        // (a reconnect storm of 19,000 host-app clients took 28 s through it).
        let user = match self.store.user_by_external_id(&external).await? {
            Some(user) if ProfileUpdate::from_claims(&user, name.as_ref(), avatar.as_ref()).is_none() => user,
            _ => self.store.upsert_external_user(&external, name.as_ref(), avatar.as_ref()).await?,
        };
        Ok((self.with_claimed_email(user, email).await?, None))
    }

    /// The `email` claim kept as the user's address; written only when it changed (a token
    /// without the claim leaves the address as it is).
    async fn with_claimed_email(&self, mut user: User, email: Option<EmailAddress>) -> ApiResult<User> {
        if let Some(email) = email
            && user.email.as_deref() != Some(email.as_str())
        {
            self.store.set_email(user.id, Some(&email)).await?;
            user.email = Some(email.as_str().to_owned());
        }
        Ok(user)
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

fn new_refresh_token() -> String {
    let mut raw = [0u8; 32];
    rand::rng().fill_bytes(&mut raw);
    URL_SAFE_NO_PAD.encode(raw)
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
