//! A cluster for tests: a private `redis-server` on a free port (which a test may stop and
//! start again without disturbing any other test) and several parlor nodes sharing one
//! database and one attachment directory, each on its own port.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Mutex, OnceLock};

use parlor_server::config::{Config, Secret};
use parlor_store_postgres::testing::FreshDatabase;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};

use crate::helpers::{TestApp, WAIT, eventually};

const REDIS_SERVER: &str = "/usr/bin/redis-server";

type Databases = Mutex<HashMap<PathBuf, (String, FreshDatabase)>>;

/// The PostgreSQL database of each shared directory, while the test process runs.
fn databases() -> &'static Databases {
    static DATABASES: OnceLock<Databases> = OnceLock::new();
    DATABASES.get_or_init(Databases::default)
}

/// Creates the nodes' shared PostgreSQL database for `shared`, once, when
/// `PARLOR_TEST_POSTGRES_URL` names a server (always in CI, which fails without one). Without
/// it, locally, the nodes share one SQLite file instead (its store assigns seqs inside
/// `BEGIN IMMEDIATE` transactions, so two stores on one file stay correct, just slower).
pub async fn prepare_shared(shared: &Path) {
    if databases().lock().unwrap().contains_key(shared) {
        return;
    }
    let Some(admin) = parlor_store_postgres::testing::admin_url_or_skip("several nodes on PostgreSQL") else { return };
    let (url, guard) = parlor_store_postgres::testing::fresh_database(&admin).await.expect("a test database");
    databases().lock().unwrap().insert(shared.to_path_buf(), (url, guard));
}

/// How the nodes share storage, the one place that says it: the database [`prepare_shared`]
/// made (or one SQLite file), attachments in one directory (`storage_url = file://...`), the
/// same signing key.
/// The Web Push key every node of a test's cluster shares.
pub const VAPID_PRIVATE_KEY: &str = "EkmPQJRRtzgqgzp7us2GM83R-Jj6UbEQ_h86qUjmta4";

pub fn shared_storage(config: &mut Config, shared: &Path) {
    config.data_dir = shared.to_path_buf();
    config.storage_url = format!("file://{}", shared.join("files").display());
    // Every node signs push with one key (parlor refuses several nodes without one).
    config.push.vapid_private_key = Secret::new(VAPID_PRIVATE_KEY);
    if let Some((url, _)) = databases().lock().unwrap().get(shared) {
        config.database_url = Secret::new(url.clone());
    }
}

/// A `redis-server` of the test's own, killed when dropped.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts one on a free port; `None` (with the reason printed) when redis-server is not
    /// installed, unless `CI` is set, where that fails the test.
    pub async fn start() -> Option<RedisServer> {
        if !Path::new(REDIS_SERVER).exists() {
            assert!(std::env::var_os("CI").is_none(), "{REDIS_SERVER} is required in CI");
            eprintln!("skipped: {REDIS_SERVER} is not installed");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = RedisServer { port, child: None };
        redis.restart().await;
        Some(redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills it (as a crash would) and waits until it is gone.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.unwrap();
        }
    }

    /// Starts it again on the same port, empty, and waits until it answers.
    pub async fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let child = Command::new(REDIS_SERVER)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        eventually(WAIT, &format!("redis-server answers on port {}", self.port), || self.answers()).await;
    }

    /// A connection for looking at what parlor keeps there.
    pub async fn client(&self) -> redis::aio::MultiplexedConnection {
        let client = redis::Client::open(self.url()).unwrap();
        client.get_multiplexed_async_connection().await.unwrap()
    }

    /// Refuses every client's PUBLISH (or allows it again), through the default user's ACL:
    /// envelopes are lost while subscriptions, pings and every other command go on, as when
    /// Redis drops a message without dropping a connection.
    pub async fn refuse_publish(&self, refuse: bool) {
        let rule = if refuse { "-publish" } else { "+publish" };
        let mut client = self.client().await;
        redis::cmd("ACL").arg("SETUSER").arg("default").arg(rule).query_async::<()>(&mut client).await.unwrap();
    }

    /// The ids of the connections subscribed to a channel (one per node on the bus): a node
    /// that subscribes again gets a new one.
    pub async fn subscriber_ids(&self) -> Vec<u64> {
        let mut client = self.client().await;
        let list: String =
            redis::cmd("CLIENT").arg("LIST").arg("TYPE").arg("pubsub").query_async(&mut client).await.unwrap();
        let mut ids: Vec<u64> =
            list.lines().filter_map(|l| l.strip_prefix("id=")?.split(' ').next()?.parse().ok()).collect();
        ids.sort_unstable();
        ids
    }

    async fn answers(&self) -> bool {
        let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await else { return false };
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").await.is_ok()
            && stream.read_exact(&mut reply).await.is_ok()
            && &reply == b"+PONG\r\n"
    }
}

/// Nodes sharing storage and one Redis; the shared directory lives as long as the cluster.
pub struct Cluster {
    pub redis: RedisServer,
    pub nodes: Vec<TestApp>,
    _shared: TempDir,
}

impl Cluster {
    /// `n` nodes, or `None` when redis-server is missing (see [`RedisServer::start`]).
    pub async fn start(n: usize) -> Option<Cluster> {
        let redis = RedisServer::start().await?;
        let shared = tempfile::tempdir().unwrap();
        prepare_shared(shared.path()).await;
        let mut nodes = Vec::with_capacity(n);
        for _ in 0..n {
            let url = redis.url();
            nodes.push(
                TestApp::spawn_at(shared.path(), |config| {
                    shared_storage(config, shared.path());
                    config.redis_url = Secret::new(url);
                })
                .await,
            );
        }
        let cluster = Cluster { redis, nodes, _shared: shared };
        cluster.wait_connected().await;
        Some(cluster)
    }

    /// Waits until every node is subscribed to the bus (its `parlor_bus_connected` gauge).
    pub async fn wait_connected(&self) {
        for node in &self.nodes {
            eventually(WAIT, &format!("node {} joins the bus", node.addr), || async {
                let text = node.http.get(node.url("/metrics")).send().await.unwrap().text().await.unwrap();
                text.lines().any(|l| l == "parlor_bus_connected 1")
            })
            .await;
        }
    }
}

/// A counter's value from a node's `/metrics`.
pub async fn metric(node: &TestApp, name: &str) -> u64 {
    let text = node.http.get(node.url("/metrics")).send().await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .map_or(0, |v| v.parse().unwrap())
}
