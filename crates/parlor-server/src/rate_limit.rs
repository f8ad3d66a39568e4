//! Rate limits: token buckets that keep one flooding client from slowing anyone else down.
//! Buckets are kept per user (sends, uploads, socket connections) and per client address or
//! username where there is no user yet (logins, registrations, failed socket handshakes).
//! Over a limit the caller gets `rate_limited`: HTTP 429 with `Retry-After`, or a socket `error`
//! frame. Also the cap on open sockets per user, and counters of refusals for metrics.
//!
//! [`RateLimits`] asks a [`Limiter`] for tokens and lockouts; [`LocalLimiter`] keeps them in
//! this process (governor's keyed GCRA limiters), `cluster::limiter` in Redis for every node.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota};
use parlor_core::UserId;
use parlor_protocol::ErrorCode;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;

use crate::config::ConfigError;
use crate::error::{ApiError, ApiResult, Kind};
use crate::observability::Metrics;
use crate::state::AppState;

/// What is being limited. Each kind has its own buckets and its own setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucket {
    /// Messages sent (REST and socket), edits, deletes, reactions, forwards, and socket typing
    /// and read frames; per user.
    Sends,
    /// Attachment uploads; per user.
    Uploads,
    /// Authenticated socket handshakes; per user.
    Connects,
    /// Socket handshakes that failed authentication; per client address.
    FailedConnects,
    /// Login attempts; per client address.
    Logins,
    /// Login attempts; per username, so guessing one account's password is slow from anywhere.
    LoginsPerUsername,
    /// Registrations; per client address.
    Registrations,
    /// Requests to the server API with a wrong key; per client address. Once empty, every
    /// request from that address is refused until it refills, the right key too.
    FailedApiKeys,
    /// Calls started (`call_invite`); per user, so nobody can ring others without pause.
    CallInvites,
}

impl Bucket {
    pub const ALL: [Bucket; 9] = [
        Bucket::Sends,
        Bucket::Uploads,
        Bucket::Connects,
        Bucket::FailedConnects,
        Bucket::Logins,
        Bucket::LoginsPerUsername,
        Bucket::Registrations,
        Bucket::FailedApiKeys,
        Bucket::CallInvites,
    ];

    /// A stable name, e.g. for a metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Sends => "sends",
            Bucket::Uploads => "uploads",
            Bucket::Connects => "connects",
            Bucket::FailedConnects => "failed_connects",
            Bucket::Logins => "logins",
            Bucket::LoginsPerUsername => "logins_per_username",
            Bucket::Registrations => "registrations",
            Bucket::FailedApiKeys => "failed_api_keys",
            Bucket::CallInvites => "call_invites",
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn noun(self) -> &'static str {
        match self {
            Bucket::Sends => "messages",
            Bucket::Uploads => "uploads",
            Bucket::Connects | Bucket::FailedConnects => "connection attempts",
            // Logins and the password asked before erasing an account share these.
            Bucket::Logins | Bucket::LoginsPerUsername => "password attempts",
            Bucket::Registrations => "registrations",
            Bucket::FailedApiKeys => "attempts with a wrong API key",
            Bucket::CallInvites => "calls",
        }
    }
}

/// Whose bucket: a user, a client address, or a username (logins).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    User(UserId),
    Ip(IpAddr),
    Username(Box<str>),
}

impl Key {
    /// Usernames as typed, folded and cut so that variants share a bucket and keys stay small.
    pub fn username(name: &str) -> Key {
        Key::Username(name.trim().chars().take(64).flat_map(char::to_lowercase).collect::<String>().into())
    }
}

/// One bucket's setting: a burst of `burst` at once, refilled at `per_minute`; 0 disables it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct Rate {
    pub per_minute: u32,
    pub burst: u32,
}

impl Rate {
    pub const OFF: Rate = Rate { per_minute: 0, burst: 0 };

    fn quota(self) -> Option<Quota> {
        let per_minute = NonZeroU32::new(self.per_minute)?;
        let burst = NonZeroU32::new(self.burst.max(1))?;
        Some(Quota::per_minute(per_minute).allow_burst(burst))
    }
}

/// Where the tokens are kept. A shared backend (Redis) implements this to make limits hold
/// across nodes.
#[async_trait::async_trait]
pub trait Limiter: Send + Sync {
    /// Takes one token from `key`'s bucket of `bucket`; when it is empty, how long until the
    /// next token.
    async fn take(&self, bucket: Bucket, key: &Key) -> Result<(), Duration>;

    /// Locks `key` out of `bucket` for `wait`: a run of failures emptied its bucket.
    async fn lock(&self, bucket: Bucket, key: &Key, wait: Duration);

    /// How much longer `key` is locked out of `bucket`, if it is.
    async fn locked(&self, bucket: Bucket, key: &Key) -> Option<Duration>;

    /// Forgets buckets that have refilled completely, so memory follows recent activity only.
    fn prune(&self);

    /// How many buckets are kept now.
    fn tracked(&self) -> usize;
}

/// Buckets in this process's memory.
pub struct LocalLimiter {
    /// One keyed limiter per [`Bucket`], by its index; `None` when disabled.
    buckets: Vec<Option<DefaultKeyedRateLimiter<Key>>>,
    /// Keys locked out of a bucket, by the bucket's index, and until when.
    locked: Mutex<HashMap<(usize, Key), Instant>>,
}

impl LocalLimiter {
    pub fn new(settings: &RateLimitSettings) -> Self {
        let buckets =
            Bucket::ALL.iter().map(|b| settings.rate(*b).quota().map(DefaultKeyedRateLimiter::keyed)).collect();
        LocalLimiter { buckets, locked: Mutex::default() }
    }
}

#[async_trait::async_trait]
impl Limiter for LocalLimiter {
    async fn take(&self, bucket: Bucket, key: &Key) -> Result<(), Duration> {
        let Some(Some(limiter)) = self.buckets.get(bucket.index()) else { return Ok(()) };
        limiter.check_key(key).map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
    }

    async fn lock(&self, bucket: Bucket, key: &Key, wait: Duration) {
        if let Ok(mut locked) = self.locked.lock() {
            locked.insert((bucket.index(), key.clone()), Instant::now() + wait);
        }
    }

    async fn locked(&self, bucket: Bucket, key: &Key) -> Option<Duration> {
        let until = self.locked.lock().ok()?.get(&(bucket.index(), key.clone())).copied()?;
        until.checked_duration_since(Instant::now()).filter(|left| !left.is_zero())
    }

    fn prune(&self) {
        for limiter in self.buckets.iter().flatten() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        let now = Instant::now();
        if let Ok(mut locked) = self.locked.lock() {
            locked.retain(|_, until| *until > now);
        }
    }

    fn tracked(&self) -> usize {
        self.buckets.iter().flatten().map(|l| l.len()).sum()
    }
}

/// Refusals so far, per bucket kind: cheap to bump, read by whoever exports metrics.
#[derive(Default)]
pub struct Hits {
    counts: [AtomicU64; Bucket::ALL.len()],
}

impl Hits {
    fn bump(&self, bucket: Bucket) {
        self.counts[bucket.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self, bucket: Bucket) -> u64 {
        self.counts[bucket.index()].load(Ordering::Relaxed)
    }
}

/// The rate limits of this server, cloned into handlers and connections.
#[derive(Clone)]
pub struct RateLimits {
    limiter: Arc<dyn Limiter>,
    hits: Arc<Hits>,
    max_connections_per_user: usize,
    /// Where refusals are reported as `parlor_rate_limited_total{kind}`.
    metrics: Option<Metrics>,
}

impl RateLimits {
    pub fn new(settings: &RateLimitSettings) -> Self {
        Self::with_limiter(settings, Arc::new(LocalLimiter::new(settings)))
    }

    pub fn with_limiter(settings: &RateLimitSettings, limiter: Arc<dyn Limiter>) -> Self {
        RateLimits {
            limiter,
            hits: Arc::default(),
            max_connections_per_user: settings.max_connections_per_user,
            metrics: None,
        }
    }

    /// Reports every refusal to `metrics` too.
    pub fn reporting_to(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    fn refused(&self, bucket: Bucket) {
        self.hits.bump(bucket);
        if let Some(metrics) = &self.metrics {
            metrics.rate_limited(bucket.as_str());
        }
    }

    /// Takes a token, or refuses with `rate_limited` saying when to retry.
    pub async fn check(&self, bucket: Bucket, key: Key) -> ApiResult<()> {
        match self.limiter.take(bucket, &key).await {
            Ok(()) => Ok(()),
            Err(wait) => {
                self.refused(bucket);
                tracing::debug!(bucket = bucket.as_str(), "rate limited");
                Err(ApiError::rate_limited(wait, format!("too many {}", bucket.noun())))
            }
        }
    }

    /// Takes `n` tokens, one at a time, or refuses at the first missing one (those taken stay
    /// spent: the work asked for was refused, the asking was not free).
    pub async fn check_n(&self, bucket: Bucket, key: Key, n: usize) -> ApiResult<()> {
        for _ in 0..n {
            self.check(bucket, key.clone()).await?;
        }
        Ok(())
    }

    /// Refuses `key` while a run of failures has locked it out of `bucket` (see
    /// [`RateLimits::failed`]). Asked before a secret is compared, so that a guess made while
    /// locked out learns nothing, even when it is right.
    pub async fn check_locked(&self, bucket: Bucket, key: &Key) -> ApiResult<()> {
        match self.limiter.locked(bucket, key).await {
            Some(left) => {
                self.refused(bucket);
                Err(ApiError::rate_limited(left, format!("too many {}", bucket.noun())))
            }
            None => Ok(()),
        }
    }

    /// Counts one failure of `key` (a wrong secret) against `bucket`; when the bucket is empty,
    /// refuses it and locks `key` out until the bucket has a token again.
    pub async fn failed(&self, bucket: Bucket, key: Key) -> ApiResult<()> {
        let Err(wait) = self.limiter.take(bucket, &key).await else { return Ok(()) };
        self.limiter.lock(bucket, &key, wait).await;
        self.refused(bucket);
        tracing::warn!(bucket = bucket.as_str(), "repeated failures: locked out");
        Err(ApiError::rate_limited(wait, format!("too many {}", bucket.noun())))
    }

    /// Refuses one more socket for a user who has `open` already (0 in the setting: no cap).
    pub fn check_connections(&self, open: usize, retry_after: Duration) -> ApiResult<()> {
        let max = self.max_connections_per_user;
        if max == 0 || open < max {
            return Ok(());
        }
        self.refused(Bucket::Connects);
        Err(ApiError::rate_limited(retry_after, format!("too many open connections ({max}); close one first")))
    }

    /// Refusals so far, per bucket kind (a refused socket over the per-user cap counts under
    /// `connects`).
    pub fn hits(&self) -> &Hits {
        &self.hits
    }

    /// Buckets kept in memory now.
    pub fn tracked(&self) -> usize {
        self.limiter.tracked()
    }

    /// Prunes refilled buckets every `every` until shutdown.
    pub async fn prune_every(self, every: Duration, shutdown: CancellationToken) {
        let mut ticker = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = ticker.tick() => self.limiter.prune(),
            }
        }
    }
}

/// Rate limits, the per-user socket cap and connection timeouts (`crate::rate_limit`).
#[derive(Debug, Clone, Deserialize)]
pub struct RateLimitSettings {
    pub sends: Rate,
    pub uploads: Rate,
    pub connects: Rate,
    pub failed_connects_per_ip: Rate,
    pub logins_per_ip: Rate,
    pub logins_per_username: Rate,
    pub registrations_per_ip: Rate,
    pub failed_api_keys_per_ip: Rate,
    pub call_invites: Rate,
    /// Open sockets per user on this node; 0: no cap.
    pub max_connections_per_user: usize,
    /// A header holding the client's address, set by a reverse proxy (e.g. "x-forwarded-for");
    /// empty: the peer address.
    pub client_ip_header: String,
    /// Seconds a connection may take to send a complete request head, from opening or from its
    /// previous response (so idle keep-alive connections close too); 0: no limit.
    pub header_timeout_secs: u64,
}

impl RateLimitSettings {
    /// The setting of one bucket kind.
    pub fn rate(&self, bucket: Bucket) -> Rate {
        match bucket {
            Bucket::Sends => self.sends,
            Bucket::Uploads => self.uploads,
            Bucket::Connects => self.connects,
            Bucket::FailedConnects => self.failed_connects_per_ip,
            Bucket::Logins => self.logins_per_ip,
            Bucket::LoginsPerUsername => self.logins_per_username,
            Bucket::Registrations => self.registrations_per_ip,
            Bucket::FailedApiKeys => self.failed_api_keys_per_ip,
            Bucket::CallInvites => self.call_invites,
        }
    }

    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        let header_ok = self.client_ip_header.is_empty()
            || axum::http::HeaderName::from_bytes(self.client_ip_header.as_bytes()).is_ok();
        if !header_ok {
            return Err(ConfigError::new("invalid setting `rate_limits.client_ip_header`: not a header name"));
        }
        match Bucket::ALL.iter().find(|b| self.rate(**b).per_minute > 0 && self.rate(**b).burst == 0) {
            Some(b) => Err(ConfigError::new(format!(
                "invalid setting `rate_limits.{}`: burst must be at least 1 (per_minute = 0 disables it)",
                setting_name(*b)
            ))),
            None => Ok(()),
        }
    }
}

/// The key of a bucket kind's setting under `[rate_limits]`.
fn setting_name(bucket: Bucket) -> &'static str {
    match bucket {
        Bucket::Sends => "sends",
        Bucket::Uploads => "uploads",
        Bucket::Connects => "connects",
        Bucket::FailedConnects => "failed_connects_per_ip",
        Bucket::Logins => "logins_per_ip",
        Bucket::LoginsPerUsername => "logins_per_username",
        Bucket::Registrations => "registrations_per_ip",
        Bucket::FailedApiKeys => "failed_api_keys_per_ip",
        Bucket::CallInvites => "call_invites",
    }
}

impl ApiError {
    /// 429 `rate_limited`; the wait becomes `Retry-After` (whole seconds, at least 1).
    pub fn rate_limited(wait: Duration, what: String) -> Self {
        let secs = retry_after_secs(wait);
        let mut e = ApiError::new(Kind::RateLimited, ErrorCode::RateLimited, format!("{what}; retry in {secs} s"));
        e.retry_after = Some(secs);
        e
    }
}

fn retry_after_secs(wait: Duration) -> u64 {
    wait.as_secs().saturating_add(u64::from(wait.subsec_nanos() > 0)).max(1)
}

/// The client's address: the peer, or with `rate_limits.client_ip_header` set (behind a proxy),
/// the last address in that header, which the proxy wrote.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = state.config.rate_limits.client_ip_header.as_str();
        let forwarded = (!header.is_empty())
            .then(|| parts.headers.get_all(header).iter().next_back())
            .flatten()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        Ok(ClientIp(forwarded.or(peer).unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(10)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(3)), 3);
    }

    #[tokio::test]
    async fn refusals_are_counted_per_bucket_and_full_buckets_pruned() {
        let mut settings = crate::config::Config::defaults().rate_limits;
        settings.sends = Rate { per_minute: 60_000, burst: 1 };
        settings.uploads = Rate::OFF;
        let limits = RateLimits::new(&settings);
        let alice = Key::User(UserId(1));
        assert!(limits.check(Bucket::Sends, alice.clone()).await.is_ok());
        let refused = limits.check(Bucket::Sends, alice.clone()).await.err().map(|e| (e.code, e.retry_after));
        assert_eq!(refused, Some((ErrorCode::RateLimited, Some(1))));
        for _ in 0..3 {
            assert!(limits.check(Bucket::Uploads, alice.clone()).await.is_ok(), "a disabled bucket never refuses");
        }
        assert_eq!((limits.hits().get(Bucket::Sends), limits.hits().get(Bucket::Uploads)), (1, 0));
        assert_eq!(limits.tracked(), 1);
        // One token per millisecond: full again almost at once, and then forgotten.
        tokio::time::sleep(Duration::from_millis(20)).await;
        limits.limiter.prune();
        assert_eq!(limits.tracked(), 0);
    }

    #[test]
    fn usernames_share_a_bucket_whatever_the_case() {
        assert_eq!(Key::username(" Alice "), Key::username("alice"));
    }
}
