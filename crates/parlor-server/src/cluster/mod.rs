//! Several parlor nodes behind one load balancer, sharing Redis (`redis_url`). Each piece here
//! backs something that is per node otherwise: `presence` (who is online on any node, with node
//! leases so a crashed node's users go offline), `limiter` (rate-limit buckets shared by all
//! nodes), `tickets` (WebSocket tickets redeemable on any node) and `leader` (one node at a time
//! runs webhook delivery). Cross-node event fan-out is the bus's concern (`crate::bus`).
//!
//! **Invariant:** with `redis_url` empty nothing here exists and no code path touches Redis.
//! Hot paths (a message's fan-out and notification checks) never wait for Redis: they read
//! copies in memory that background tasks refresh.

pub mod leader;
pub mod limiter;
pub mod presence;
pub mod tickets;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use rand::RngCore;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use crate::config::ClusterSettings;

/// This node's handle on the cluster: its id and one multiplexed Redis connection that every
/// cluster piece clones (clones share the connection).
#[derive(Clone)]
pub struct Cluster {
    /// Random per start: a restarted node is a new node, and its predecessor's lease simply
    /// expires like a crashed node's.
    node: Arc<str>,
    redis: ConnectionManager,
    settings: ClusterSettings,
}

impl Cluster {
    /// Connects to Redis (failing start-up if it cannot) and picks this node's id.
    pub async fn connect(url: &str, settings: &ClusterSettings) -> anyhow::Result<Cluster> {
        let client = redis::Client::open(url).context("invalid redis_url")?;
        let timeout = Duration::from_millis(settings.redis_timeout_ms);
        let config = ConnectionManagerConfig::new()
            .set_response_timeout(Some(timeout))
            .set_connection_timeout(Some(timeout))
            .set_number_of_retries(2);
        let redis = ConnectionManager::new_with_config(client, config).await.context("cannot connect to Redis")?;
        let mut raw = [0u8; 8];
        rand::rng().fill_bytes(&mut raw);
        let node: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        tracing::info!(node_id = %node, "joined the cluster through Redis");
        Ok(Cluster { node: node.into(), redis, settings: settings.clone() })
    }

    /// This node's id in Redis keys and logs.
    pub fn node_id(&self) -> &str {
        &self.node
    }

    pub fn settings(&self) -> &ClusterSettings {
        &self.settings
    }

    /// A handle on the shared connection (cheap: clones multiplex one socket).
    fn redis(&self) -> ConnectionManager {
        self.redis.clone()
    }
}
