//! Credentials parlor cannot check itself, asked of the platform (`auth.introspection_url`,
//! RFC 7662): a Django REST framework `Authorization: Token <key>`, the Django session cookie a
//! browser sends with a socket. parlor forwards the credential, the platform answers whether it
//! is active and whose it is, and that platform user is parlor's user (created on first sight,
//! like a host token's). Answers are cached for `auth.cache_secs`, keyed by a digest of the
//! credential, so a page of requests costs the platform one call and parlor holds no credential.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use parlor_core::{AvatarUrl, DisplayName, ExternalId, ProfileUpdate, User};
use parlor_protocol::ErrorCode;
use parlor_store::Store;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::error::{ApiError, ApiResult, Kind};
use crate::outbound::{Outbound, Target};

/// `[auth]`: credentials parlor cannot check itself (a DRF `Token`, a Django session cookie),
/// asked of the platform's RFC 7662 introspection endpoint (`crate::auth::introspection`).
#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    /// Empty: only parlor's own and host tokens are accepted.
    pub introspection_url: String,
    /// The URL may be at a loopback, private or link-local address (`crate::outbound`).
    pub allow_private_targets: bool,
    pub timeout_ms: u64,
    /// How long an answer (active or not) is reused before the platform is asked again.
    pub cache_secs: u64,
    /// The cookie a browser socket carries (Django's `SESSION_COOKIE_NAME`).
    pub session_cookie: String,
}

impl AuthSettings {
    /// The outbound guard's settings for introspection requests.
    pub fn outbound(&self) -> crate::outbound::OutboundSettings {
        crate::outbound::OutboundSettings {
            setting: "auth.allow_private_targets",
            allow_private_targets: self.allow_private_targets,
            timeout: std::time::Duration::from_millis(self.timeout_ms),
            user_agent: concat!("parlor-introspection/", env!("CARGO_PKG_VERSION")),
        }
    }

    pub(crate) fn check(&self) -> Result<(), crate::config::ConfigError> {
        if self.timeout_ms == 0 {
            return Err(crate::config::ConfigError::new("invalid setting `auth.timeout_ms`: must be at least 1"));
        }
        if self.session_cookie.is_empty() || !self.session_cookie.bytes().all(|b| b.is_ascii_graphic() && b != b'=') {
            return Err(crate::config::ConfigError::new(
                "invalid setting `auth.session_cookie`: must be a cookie name",
            ));
        }
        Ok(())
    }
}

/// Answers larger than this are not introspection answers.
const MAX_BYTES: usize = 64 * 1024;
/// Past this many cached answers, expired ones are dropped (and all, if none expired).
const MAX_CACHED: usize = 50_000;

/// A credential the platform issued, as the client presented it.
#[derive(Clone, Copy)]
pub enum Credential<'a> {
    /// `Authorization: Token <key>` (DRF), or any scheme but Bearer.
    Token(&'a str),
    /// The platform's session cookie.
    Session(&'a str),
}

impl Credential<'_> {
    fn hint(&self) -> &'static str {
        match self {
            Credential::Token(_) => "access_token",
            Credential::Session(_) => "session",
        }
    }

    fn value(&self) -> &str {
        match self {
            Credential::Token(v) | Credential::Session(v) => v,
        }
    }
}

/// The platform's user a credential belongs to.
#[derive(Clone)]
struct Identity {
    external: ExternalId,
    name: Option<DisplayName>,
    avatar: Option<AvatarUrl>,
}

/// RFC 7662's answer, with the user fields a platform adds.
#[derive(Deserialize)]
struct Answer {
    active: bool,
    #[serde(default)]
    sub: Option<IdValue>,
    #[serde(default)]
    user_id: Option<IdValue>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    avatar: Option<String>,
}

/// User ids come as strings or numbers.
#[derive(Deserialize)]
#[serde(untagged)]
enum IdValue {
    Text(String),
    Number(i64),
}

/// A digest of the credential to the answer (`None`: not active) and when it stops counting.
type Cache = HashMap<[u8; 32], (Instant, Option<Identity>)>;

pub struct Introspection {
    client: Outbound,
    target: Target,
    api_key: Option<String>,
    ttl: Duration,
    cache: Mutex<Cache>,
    store: Arc<dyn Store>,
}

impl Introspection {
    /// `None` without a URL; an error naming the setting for a URL that can never work.
    pub async fn from_config(config: &Config, store: Arc<dyn Store>) -> anyhow::Result<Option<Arc<Self>>> {
        let settings = &config.auth;
        let url = settings.introspection_url.trim();
        if url.is_empty() {
            return Ok(None);
        }
        let client = Outbound::new(&settings.outbound()).context("cannot set up introspection requests")?;
        let target =
            client.vet(url).await.map_err(|why| anyhow::anyhow!("invalid setting `auth.introspection_url`: {why}"))?;
        Ok(Some(Arc::new(Self {
            client,
            target,
            api_key: config.api_key.get().map(str::to_owned),
            ttl: Duration::from_secs(settings.cache_secs),
            cache: Mutex::new(HashMap::new()),
            store,
        })))
    }

    /// The active user `credential` speaks for; 401 when the platform says it is not active,
    /// 503 when the platform cannot be asked.
    pub async fn user(&self, credential: Credential<'_>) -> ApiResult<User> {
        let key = cache_key(credential);
        let cached = self.lookup(&key);
        let identity = match cached {
            Some(found) => found,
            None => {
                let answer = self.ask(credential).await.map_err(|why| {
                    tracing::warn!(error = %why, "the platform did not answer an introspection request");
                    ApiError::new(
                        Kind::Unavailable,
                        ErrorCode::Unavailable,
                        "the platform could not check the credential; try again",
                    )
                })?;
                self.remember(key, answer.clone());
                answer
            }
        };
        let Some(Identity { external, name, avatar }) = identity else {
            return Err(ApiError::unauthorized("the platform says this credential is not active"));
        };
        let user = match self.store.user_by_external_id(&external).await? {
            Some(user) if ProfileUpdate::from_claims(&user, name.as_ref(), avatar.as_ref()).is_none() => user,
            _ => self.store.upsert_external_user(&external, name.as_ref(), avatar.as_ref()).await?,
        };
        if user.disabled {
            return Err(ApiError::account_disabled());
        }
        Ok(user)
    }

    fn lookup(&self, key: &[u8; 32]) -> Option<Option<Identity>> {
        let cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        cache.get(key).filter(|(until, _)| *until > Instant::now()).map(|(_, identity)| identity.clone())
    }

    fn remember(&self, key: [u8; 32], identity: Option<Identity>) {
        if self.ttl.is_zero() {
            return;
        }
        let now = Instant::now();
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() >= MAX_CACHED {
            cache.retain(|_, (until, _)| *until > now);
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
        }
        cache.insert(key, (now + self.ttl, identity));
    }

    /// One POST; `Ok(None)` for an answer that says "not active" (or names no usable user).
    async fn ask(&self, credential: Credential<'_>) -> anyhow::Result<Option<Identity>> {
        let target = self.client.target(self.target.as_str())?;
        let form: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", credential.value())
            .append_pair("token_type_hint", credential.hint())
            .finish();
        let mut request = self
            .client
            .post(&target)
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form);
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        let body = Outbound::answer(request, MAX_BYTES).await.map_err(|e| anyhow::anyhow!(e))?;
        let answer: Answer = serde_json::from_slice(&body).context("not an RFC 7662 JSON answer")?;
        if !answer.active {
            return Ok(None);
        }
        let id = match answer.user_id.or(answer.sub) {
            Some(IdValue::Text(t)) => t,
            Some(IdValue::Number(n)) => n.to_string(),
            None => anyhow::bail!("an active answer without `sub` or `user_id`"),
        };
        let external = ExternalId::parse(&id).map_err(|e| anyhow::anyhow!("the answer's user id: {}", e.reason))?;
        Ok(Some(Identity {
            external,
            name: answer.name.or(answer.username).as_deref().and_then(DisplayName::lenient),
            avatar: answer.avatar.as_deref().and_then(|a| AvatarUrl::parse(a).ok()),
        }))
    }
}

fn cache_key(credential: Credential<'_>) -> [u8; 32] {
    let mut digest = Sha256::new();
    digest.update(credential.hint().as_bytes());
    digest.update([0]);
    digest.update(credential.value().as_bytes());
    digest.finalize().into()
}
