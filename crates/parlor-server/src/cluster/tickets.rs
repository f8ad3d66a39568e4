//! WebSocket tickets kept in Redis, so a ticket issued by one node is redeemed on any: each is
//! stored by its SHA-256 digest with the ticket lifetime as its expiry, and redeemed with
//! `GETDEL`, which hands it to exactly one caller.

use std::time::Duration;

use parlor_core::UserId;
use redis::RedisResult;

use super::Cluster;

#[derive(Clone)]
pub struct RedisTickets {
    cluster: Cluster,
}

impl RedisTickets {
    pub fn new(cluster: Cluster) -> Self {
        Self { cluster }
    }

    fn key(digest: &[u8; 32]) -> String {
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("parlor:ticket:{hex}")
    }

    /// Keeps a ticket's digest for `ttl`.
    pub async fn put(&self, digest: &[u8; 32], user: UserId, ttl: Duration) -> RedisResult<()> {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        redis::cmd("SET")
            .arg(Self::key(digest))
            .arg(user.0)
            .arg("PX")
            .arg(ttl_ms)
            .exec_async(&mut self.cluster.redis())
            .await
    }

    /// Spends a ticket: its user the first time within its lifetime, `None` ever after.
    pub async fn take(&self, digest: &[u8; 32]) -> RedisResult<Option<UserId>> {
        let user: Option<i64> =
            redis::cmd("GETDEL").arg(Self::key(digest)).query_async(&mut self.cluster.redis()).await?;
        Ok(user.map(UserId))
    }
}
