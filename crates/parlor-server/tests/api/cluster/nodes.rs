//! Helpers for tests with several nodes (beside `cluster::harness`, whose private
//! `redis-server` and shared storage they use): short leases, and a node on a runtime of
//! its own that can die without a goodbye, as a `kill -9` would leave things.

use std::net::SocketAddr;
use std::path::Path;

use parlor_server::Server;
use parlor_server::config::{Config, Secret};

use crate::cluster::harness::{prepare_shared, shared_storage};
use crate::helpers::{TestApp, WAIT, test_config};

/// Short leases and syncs, so tests about dead nodes take seconds.
pub const NODE_LEASE_SECS: u64 = 2;
pub const SYNC_MS: u64 = 100;
pub const GRACE_MS: u64 = 200;

pub use crate::cluster::harness::RedisServer as Redis;

/// A node's settings: the shared database, this test's Redis, short leases.
pub fn node_config(config: &mut Config, shared: &Path, redis: &Redis) {
    shared_storage(config, shared);
    config.redis_url = Secret::new(redis.url());
    config.cluster.node_lease_secs = NODE_LEASE_SECS;
    config.cluster.leader_lease_secs = NODE_LEASE_SECS;
    config.cluster.sync_ms = SYNC_MS;
    config.limits.presence_grace_ms = GRACE_MS;
}

/// A node in this process, stopped gracefully by [`TestApp::stop`].
pub async fn node(shared: &Path, redis: &Redis, tweak: impl FnOnce(&mut Config)) -> TestApp {
    prepare_shared(shared).await;
    TestApp::spawn_at(shared, |c| {
        node_config(c, shared, redis);
        tweak(c);
    })
    .await
}

/// A node on a tokio runtime of its own: [`Doomed::kill`] drops every task of it at once, so no
/// shutdown code runs (no lease dropped, no goodbye), as after `kill -9`.
pub struct Doomed {
    pub addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Doomed {
    pub async fn spawn(shared: &Path, redis: &Redis, tweak: impl FnOnce(&mut Config) + Send + 'static) -> Doomed {
        prepare_shared(shared).await;
        let mut config = test_config(shared);
        node_config(&mut config, shared, redis);
        tweak(&mut config);
        let started = tokio::task::spawn_blocking(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
            let server = runtime.block_on(Server::bind(config)).expect("doomed node starts");
            let addr = server.local_addr().unwrap();
            runtime.spawn(server.run(std::future::pending()));
            (addr, runtime)
        });
        let (addr, runtime) = tokio::time::timeout(WAIT, started).await.expect("starts in time").unwrap();
        Doomed { addr, runtime: Some(runtime) }
    }

    /// Every task of the node ends now, its sockets with them.
    pub fn kill(mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Doomed {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
