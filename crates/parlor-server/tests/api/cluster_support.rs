//! Helpers for tests with several nodes: a private `redis-server` per test, nodes that share
//! one database ([`share_database`], the one place that says how), and a node on a runtime of
//! its own that can die without a goodbye, as a `kill -9` would leave things.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use parlor_server::Server;
use parlor_server::config::{Config, Secret};

use crate::helpers::{TestApp, WAIT, test_config};

const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// Short leases and syncs, so tests about dead nodes take seconds.
pub const NODE_LEASE_SECS: u64 = 2;
pub const SYNC_MS: u64 = 100;
pub const GRACE_MS: u64 = 200;

/// A `redis-server` of this test's own on a free port, killed when dropped.
pub struct Redis {
    child: std::process::Child,
    pub url: String,
}

impl Redis {
    /// `None` (with the reason printed) when redis-server is not installed, unless `CI` is set:
    /// then that fails the test.
    pub async fn start() -> Option<Redis> {
        if !Path::new(REDIS_SERVER).exists() {
            assert!(std::env::var_os("CI").is_none(), "{REDIS_SERVER} is missing, and CI needs these tests");
            eprintln!("skipped: {REDIS_SERVER} is not installed");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new(REDIS_SERVER)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let redis = Redis { child, url: format!("redis://127.0.0.1:{port}/0") };
        let deadline = tokio::time::Instant::now() + WAIT;
        while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
            assert!(tokio::time::Instant::now() < deadline, "redis-server never listened on {port}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Some(redis)
    }

    /// A connection for looking at what parlor keeps there.
    pub async fn client(&self) -> redis::aio::MultiplexedConnection {
        let client = redis::Client::open(self.url.as_str()).unwrap();
        client.get_multiplexed_async_connection().await.unwrap()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// How the nodes of a test share one database: today the same SQLite file under one data
/// directory (two stores on one file are correct, just slower). Switch to PostgreSQL here.
pub fn share_database(config: &mut Config, shared: &Path) {
    config.data_dir = shared.to_path_buf();
}

/// A node's settings: the shared database, this test's Redis, short leases.
pub fn node_config(config: &mut Config, shared: &Path, redis: &Redis) {
    share_database(config, shared);
    config.redis_url = Secret::new(&redis.url);
    config.cluster.node_lease_secs = NODE_LEASE_SECS;
    config.cluster.leader_lease_secs = NODE_LEASE_SECS;
    config.cluster.sync_ms = SYNC_MS;
    config.limits.presence_grace_ms = GRACE_MS;
}

/// A node in this process, stopped gracefully by [`TestApp::stop`].
pub async fn node(shared: &Path, redis: &Redis, tweak: impl FnOnce(&mut Config)) -> TestApp {
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

/// Waits until `check` holds, polling; fails with `what` after `within`.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "never happened within {within:?}: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
