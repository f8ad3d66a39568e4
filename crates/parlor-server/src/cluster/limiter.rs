//! Rate-limit buckets shared by every node: the same GCRA as governor's (a burst of `burst`,
//! one token back every `60 s / per_minute`), kept in Redis as each bucket's theoretical
//! arrival time and checked by one Lua script, so a check is one round trip. A client spreading
//! its requests over nodes gets the same limits as on one node.
//!
//! Lockouts (a run of wrong API keys) are keys of their own that expire when the lockout ends,
//! so an address locked out on one node is locked out on all.
//!
//! If Redis cannot answer, checks fall back to this node's own buckets ([`LocalLimiter`]): limits
//! then hold per node, as before scale-out, rather than refusing everyone. The switch is logged
//! once each way.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::Script;

use super::Cluster;
use crate::config::RateLimitSettings;
use crate::rate_limit::{Bucket, Key, Limiter, LocalLimiter};

/// KEYS: the bucket. ARGV: emission interval in µs, burst. 0 when a token was taken; else how
/// many µs until the next one. Time is Redis's own, so nodes' clocks need not agree.
const GCRA: &str = r#"
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local wait = new_tat - now - interval * burst
if wait > 0 then return wait end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
return 0
"#;

/// Buckets in Redis, with this node's own as the fallback.
pub struct RedisLimiter {
    cluster: Cluster,
    script: Script,
    /// Per [`Bucket`], by its index: (emission interval in µs, burst); `None` when disabled.
    rates: Vec<Option<(u64, u32)>>,
    fallback: LocalLimiter,
    /// Redis is failing now and the fallback is in use.
    degraded: AtomicBool,
}

impl RedisLimiter {
    pub fn new(cluster: Cluster, settings: &RateLimitSettings) -> Self {
        let rates = Bucket::ALL
            .iter()
            .map(|b| {
                let rate = settings.rate(*b);
                (rate.per_minute > 0).then(|| (60_000_000 / u64::from(rate.per_minute), rate.burst.max(1)))
            })
            .collect();
        RedisLimiter {
            cluster,
            script: Script::new(GCRA),
            rates,
            fallback: LocalLimiter::new(settings),
            degraded: AtomicBool::new(false),
        }
    }
}

/// The Redis key of one bucket, e.g. `parlor:rl:sends:u:42`.
fn redis_key(bucket: Bucket, key: &Key) -> String {
    match key {
        Key::User(user) => format!("parlor:rl:{}:u:{}", bucket.as_str(), user.0),
        Key::Ip(ip) => format!("parlor:rl:{}:ip:{ip}", bucket.as_str()),
        Key::Username(name) => format!("parlor:rl:{}:n:{name}", bucket.as_str()),
    }
}

/// The Redis key of one lockout, e.g. `parlor:lock:failed_api_keys:ip:203.0.113.7`.
fn lock_key(bucket: Bucket, key: &Key) -> String {
    redis_key(bucket, key).replacen("parlor:rl:", "parlor:lock:", 1)
}

impl RedisLimiter {
    /// Notes whether Redis answered, logging each switch once.
    fn answered<T>(&self, result: &redis::RedisResult<T>) {
        match result {
            Ok(_) => {
                if self.degraded.swap(false, Ordering::Relaxed) {
                    tracing::info!("rate limits shared through Redis again");
                }
            }
            Err(e) => {
                if !self.degraded.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "rate limits cannot reach Redis; using this node's own buckets");
                }
            }
        }
    }
}

#[async_trait::async_trait]
impl Limiter for RedisLimiter {
    async fn take(&self, bucket: Bucket, key: &Key) -> Result<(), Duration> {
        let Some(Some((interval, burst))) = self.rates.get(bucket as usize) else { return Ok(()) };
        let mut redis = self.cluster.redis();
        let result: redis::RedisResult<u64> =
            self.script.key(redis_key(bucket, key)).arg(*interval).arg(*burst).invoke_async(&mut redis).await;
        self.answered(&result);
        match result {
            Ok(0) => Ok(()),
            Ok(wait) => Err(Duration::from_micros(wait)),
            Err(_) => self.fallback.take(bucket, key).await,
        }
    }

    async fn lock(&self, bucket: Bucket, key: &Key, wait: Duration) {
        // Kept here too, so the lockout holds on this node should Redis go away.
        self.fallback.lock(bucket, key, wait).await;
        let millis = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX).max(1);
        let result: redis::RedisResult<()> = redis::cmd("SET")
            .arg(lock_key(bucket, key))
            .arg(1)
            .arg("PX")
            .arg(millis)
            .query_async(&mut self.cluster.redis())
            .await;
        self.answered(&result);
    }

    async fn locked(&self, bucket: Bucket, key: &Key) -> Option<Duration> {
        let result: redis::RedisResult<i64> =
            redis::cmd("PTTL").arg(lock_key(bucket, key)).query_async(&mut self.cluster.redis()).await;
        self.answered(&result);
        match result {
            // -2: no such key, -1: no expiry (never set so).
            Ok(millis) if millis > 0 => Some(Duration::from_millis(millis.unsigned_abs())),
            Ok(_) => None,
            Err(_) => self.fallback.locked(bucket, key).await,
        }
    }

    fn prune(&self) {
        // Redis expires full buckets itself; only the fallback's need pruning.
        self.fallback.prune();
    }

    fn tracked(&self) -> usize {
        self.fallback.tracked()
    }
}
