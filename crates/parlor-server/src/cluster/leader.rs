//! One node at a time does a job (webhook delivery): the one holding the job's lease key in
//! Redis (`SET NX PX`, the value naming the node, renewed every third of
//! `cluster.leader_lease_secs`, deleted on shutdown). When the holder dies, the key expires and
//! another node takes the job within the lease time.
//!
//! **Invariant:** two nodes never do the job at once. The holder stops the job as soon as one
//! renewal fails or finds the key gone, which is well inside the lease (a third of it, plus one
//! Redis timeout and the job's own stopping time, must stay below the whole lease).

use std::future::Future;
use std::time::Duration;

use redis::Script;
use tokio_util::sync::CancellationToken;

use super::Cluster;

/// KEYS: the lease. ARGV: me, ttl in ms. 1 when this node holds the lease (taken or renewed).
const ACQUIRE: &str = r#"
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"#;

/// KEYS: the lease. ARGV: me. Deletes the lease if this node holds it.
const RELEASE: &str = r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#;

/// A job's lease.
pub struct Leadership {
    cluster: Cluster,
    /// e.g. `parlor:leader:webhooks`.
    key: String,
    acquire: Script,
    release: Script,
}

impl Leadership {
    /// The lease of the job called `job`.
    pub fn new(cluster: Cluster, job: &str) -> Self {
        Leadership {
            cluster,
            key: format!("parlor:leader:{job}"),
            acquire: Script::new(ACQUIRE),
            release: Script::new(RELEASE),
        }
    }

    fn ttl(&self) -> Duration {
        Duration::from_secs(self.cluster.settings().leader_lease_secs)
    }

    /// Takes or renews the lease; true while this node holds it.
    async fn hold(&self) -> redis::RedisResult<bool> {
        let ttl_ms = u64::try_from(self.ttl().as_millis()).unwrap_or(u64::MAX);
        let mut redis = self.cluster.redis();
        self.acquire.key(&self.key).arg(self.cluster.node_id()).arg(ttl_ms).invoke_async(&mut redis).await
    }

    /// Runs `job` whenever this node holds the lease, until shutdown; the job gets a token that
    /// is cancelled when the lease is lost, and must return soon after.
    pub async fn run<F, Fut>(self, job: F, shutdown: CancellationToken)
    where
        F: Fn(CancellationToken) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let every = self.ttl() / 3;
        let node = self.cluster.node_id().to_owned();
        loop {
            let held = self.hold().await.unwrap_or_else(|e| {
                tracing::debug!(error = %e, key = %self.key, "lease not checked");
                false
            });
            if !held {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(every) => continue,
                }
            }
            tracing::info!(node_id = %node, key = %self.key, "this node now runs the job");
            let stop = shutdown.child_token();
            let mut task = tokio::spawn(job(stop.clone()));
            let ended_itself = loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break false,
                    _ = &mut task => break true,
                    _ = tokio::time::sleep(every) => {}
                }
                match self.hold().await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(node_id = %node, key = %self.key, "lease taken by another node; stopping the job");
                        break false;
                    }
                    Err(e) => {
                        tracing::warn!(node_id = %node, key = %self.key, error = %e, "lease not renewed; stopping the job");
                        break false;
                    }
                }
            };
            stop.cancel();
            if !ended_itself {
                task.await.ok();
            }
            if shutdown.is_cancelled() || ended_itself {
                let mut redis = self.cluster.redis();
                let released: redis::RedisResult<i64> =
                    self.release.key(&self.key).arg(&node).invoke_async(&mut redis).await;
                if let Err(e) = released {
                    tracing::warn!(error = %e, key = %self.key, "lease not released; it will expire");
                }
                return;
            }
        }
    }
}
