//! WebSocket tickets kept in Redis, so a ticket issued by one node is redeemed on any: each is
//! stored by its SHA-256 digest with the ticket lifetime as its expiry, and redeemed with
//! `GETDEL`, which hands it to exactly one caller.

use std::time::Duration;

use parlor_core::{SessionId, UserId};
use redis::RedisResult;

use super::Cluster;
use crate::auth::Holder;

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

    /// Keeps a ticket's digest for `ttl`, with its holder as `<user>` or `<user>:<session>`.
    pub async fn put(&self, digest: &[u8; 32], holder: Holder, ttl: Duration) -> RedisResult<()> {
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let value = match holder {
            (user, None) => user.0.to_string(),
            (user, Some(session)) => format!("{}:{}", user.0, session.0),
        };
        redis::cmd("SET")
            .arg(Self::key(digest))
            .arg(value)
            .arg("PX")
            .arg(ttl_ms)
            .exec_async(&mut self.cluster.redis())
            .await
    }

    /// Spends a ticket: its holder the first time within its lifetime, `None` ever after (or
    /// if what Redis holds is not a holder parlor wrote).
    pub async fn take(&self, digest: &[u8; 32]) -> RedisResult<Option<Holder>> {
        let value: Option<String> =
            redis::cmd("GETDEL").arg(Self::key(digest)).query_async(&mut self.cluster.redis()).await?;
        Ok(value.as_deref().and_then(holder))
    }
}

fn holder(value: &str) -> Option<Holder> {
    match value.split_once(':') {
        None => Some((UserId(value.parse().ok()?), None)),
        Some((user, session)) => Some((UserId(user.parse().ok()?), Some(SessionId(session.parse().ok()?)))),
    }
}
