//! Presence across nodes. Each node keeps two sets in Redis: the users it *holds* (connected
//! here, or within the grace period after their last connection here closed) and the users
//! *connected* here now. A user is online while some node holds them; each node's lease key,
//! renewed every third of `cluster.node_lease_secs`, says it is alive.
//!
//! Every change runs as one Lua script, so "did this make the user online (or offline)
//! cluster-wide?" has exactly one yes per real transition, on the node where it happened; that
//! node alone tells the user's contacts. Nodes look for expired leases every `cluster.sync_ms`;
//! the script that removes a dead node's sets returns the users no other node holds, so exactly
//! one node (whichever runs it first) announces them offline.
//!
//! A node that lost its lease while alive (Redis unreachable for a while) rewrites its sets from
//! memory when it renews again (`reconcile`), announcing whatever changed meanwhile.

use std::collections::HashSet;
use std::time::Duration;

use parlor_core::UserId;
use redis::{RedisResult, Script};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::Cluster;

/// Set of every node id that has joined and not yet been cleaned up.
const NODES: &str = "{parlor}:nodes";

/// `held_elsewhere(nodes_key, me, user)`: does a node other than `me` hold `user`?
macro_rules! held_elsewhere {
    () => {
        r#"
local function held_elsewhere(nodes_key, me, user)
  for _, node in ipairs(redis.call('SMEMBERS', nodes_key)) do
    if node ~= me and redis.call('SISMEMBER', '{parlor}:node:' .. node .. ':held', user) == 1 then
      return true
    end
  end
  return false
end
"#
    };
}

/// KEYS: nodes. ARGV: me, user. 1 when the user was held nowhere before.
const HOLD: &str = concat!(
    held_elsewhere!(),
    r#"
if redis.call('SADD', '{parlor}:node:' .. ARGV[1] .. ':held', ARGV[2]) == 0 then return 0 end
if held_elsewhere(KEYS[1], ARGV[1], ARGV[2]) then return 0 end
return 1
"#
);

/// KEYS: nodes. ARGV: me, user. 1 when no node holds the user any more.
const RELEASE: &str = concat!(
    held_elsewhere!(),
    r#"
if redis.call('SREM', '{parlor}:node:' .. ARGV[1] .. ':held', ARGV[2]) == 0 then return 0 end
if held_elsewhere(KEYS[1], ARGV[1], ARGV[2]) then return 0 end
return 1
"#
);

/// KEYS: nodes. ARGV: me, user. 1 when some node (this one included) holds the user.
const HELD_ANYWHERE: &str = concat!(
    held_elsewhere!(),
    r#"
if redis.call('SISMEMBER', '{parlor}:node:' .. ARGV[1] .. ':held', ARGV[2]) == 1 then return 1 end
if held_elsewhere(KEYS[1], ARGV[1], ARGV[2]) then return 1 end
return 0
"#
);

/// KEYS: nodes. ARGV: me, n, n held users, then the connected users. Replaces this node's sets;
/// returns {users now online cluster-wide, users now offline cluster-wide}.
const RECONCILE: &str = concat!(
    held_elsewhere!(),
    r#"
local me = ARGV[1]
local held_key = '{parlor}:node:' .. me .. ':held'
local conn_key = '{parlor}:node:' .. me .. ':conn'
local n = tonumber(ARGV[2])
local want = {}
for i = 3, 2 + n do want[ARGV[i]] = true end
local online, offline = {}, {}
for _, user in ipairs(redis.call('SMEMBERS', held_key)) do
  if not want[user] then
    redis.call('SREM', held_key, user)
    if not held_elsewhere(KEYS[1], me, user) then table.insert(offline, user) end
  end
end
for user in pairs(want) do
  if redis.call('SADD', held_key, user) == 1 and not held_elsewhere(KEYS[1], me, user) then
    table.insert(online, user)
  end
end
redis.call('DEL', conn_key)
for i = 3 + n, #ARGV do redis.call('SADD', conn_key, ARGV[i]) end
return {online, offline}
"#
);

/// KEYS: nodes. ARGV: me. Removes every other node whose lease expired, with its sets; returns
/// the users that leaves held nowhere. Atomic: a second node running it finds nothing left.
const REAP: &str = concat!(
    held_elsewhere!(),
    r#"
local gone = {}
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if node ~= ARGV[1] and redis.call('EXISTS', '{parlor}:node:' .. node) == 0 then
    table.insert(gone, node)
  end
end
local offline = {}
for _, node in ipairs(gone) do
  redis.call('SREM', KEYS[1], node)
  local held_key = '{parlor}:node:' .. node .. ':held'
  local users = redis.call('SMEMBERS', held_key)
  redis.call('DEL', held_key, '{parlor}:node:' .. node .. ':conn')
  for _, user in ipairs(users) do
    if not held_elsewhere(KEYS[1], node, user) then table.insert(offline, user) end
  end
end
return offline
"#
);

/// KEYS: nodes. {users connected on any node, users held by any node}.
const SNAPSHOT: &str = r#"
local conn, held = {}, {}
for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  table.insert(conn, '{parlor}:node:' .. node .. ':conn')
  table.insert(held, '{parlor}:node:' .. node .. ':held')
end
if #conn == 0 then return {{}, {}} end
return {redis.call('SUNION', unpack(conn)), redis.call('SUNION', unpack(held))}
"#;

/// KEYS: lease, nodes. ARGV: ttl in ms, me. 1 when renewed; 0 when the lease had run out and
/// was taken afresh (this node may have been cleaned up as dead meanwhile).
const RENEW: &str = r#"
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 1 then return 1 end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return 0
"#;

/// Users whose cluster-wide presence changed in one step.
#[derive(Debug, Default)]
pub struct Changes {
    pub online: Vec<UserId>,
    pub offline: Vec<UserId>,
}

/// Who is online across nodes, and this node's lease.
#[derive(Clone)]
pub struct ClusterPresence {
    cluster: Cluster,
    scripts: std::sync::Arc<Scripts>,
}

struct Scripts {
    hold: Script,
    release: Script,
    held_anywhere: Script,
    reconcile: Script,
    reap: Script,
    snapshot: Script,
    renew: Script,
}

impl ClusterPresence {
    pub fn new(cluster: Cluster) -> Self {
        let scripts = Scripts {
            hold: Script::new(HOLD),
            release: Script::new(RELEASE),
            held_anywhere: Script::new(HELD_ANYWHERE),
            reconcile: Script::new(RECONCILE),
            reap: Script::new(REAP),
            snapshot: Script::new(SNAPSHOT),
            renew: Script::new(RENEW),
        };
        Self { cluster, scripts: std::sync::Arc::new(scripts) }
    }

    fn me(&self) -> &str {
        self.cluster.node_id()
    }

    fn key(&self, suffix: &str) -> String {
        format!("{{parlor}}:node:{}{suffix}", self.me())
    }

    /// How often to look for dead nodes and refresh the copies in memory.
    pub fn sync_every(&self) -> Duration {
        Duration::from_millis(self.cluster.settings().sync_ms)
    }

    /// The user's first connection on this node opened.
    pub async fn connected(&self, user: UserId) -> RedisResult<()> {
        redis::cmd("SADD").arg(self.key(":conn")).arg(user.0).exec_async(&mut self.cluster.redis()).await
    }

    /// The user's last connection on this node closed.
    pub async fn disconnected(&self, user: UserId) -> RedisResult<()> {
        redis::cmd("SREM").arg(self.key(":conn")).arg(user.0).exec_async(&mut self.cluster.redis()).await
    }

    /// This node holds the user now; true when that made them online cluster-wide.
    pub async fn hold(&self, user: UserId) -> RedisResult<bool> {
        let mut redis = self.cluster.redis();
        self.scripts.hold.key(NODES).arg(self.me()).arg(user.0).invoke_async(&mut redis).await
    }

    /// This node no longer holds the user; true when that made them offline cluster-wide.
    pub async fn release(&self, user: UserId) -> RedisResult<bool> {
        let mut redis = self.cluster.redis();
        self.scripts.release.key(NODES).arg(self.me()).arg(user.0).invoke_async(&mut redis).await
    }

    /// Whether some node holds the user right now (asked of Redis, not the copy).
    pub async fn held_anywhere(&self, user: UserId) -> RedisResult<bool> {
        let mut redis = self.cluster.redis();
        self.scripts.held_anywhere.key(NODES).arg(self.me()).arg(user.0).invoke_async(&mut redis).await
    }

    /// Replaces this node's sets with what it knows in memory.
    pub async fn reconcile(&self, held: &[UserId], connected: &[UserId]) -> RedisResult<Changes> {
        let mut redis = self.cluster.redis();
        let mut call = self.scripts.reconcile.key(NODES);
        call.arg(self.me()).arg(held.len());
        for user in held.iter().chain(connected) {
            call.arg(user.0);
        }
        let (online, offline): (Vec<i64>, Vec<i64>) = call.invoke_async(&mut redis).await?;
        Ok(Changes { online: ids(online), offline: ids(offline) })
    }

    /// Cleans up nodes whose lease ran out; the users that left offline everywhere.
    pub async fn reap(&self) -> RedisResult<Vec<UserId>> {
        let mut redis = self.cluster.redis();
        let offline: Vec<i64> = self.scripts.reap.key(NODES).arg(self.me()).invoke_async(&mut redis).await?;
        Ok(ids(offline))
    }

    /// Users connected on any node, and users held by any node.
    pub async fn snapshot(&self) -> RedisResult<(HashSet<UserId>, HashSet<UserId>)> {
        let mut redis = self.cluster.redis();
        let (connected, held): (Vec<i64>, Vec<i64>) = self.scripts.snapshot.key(NODES).invoke_async(&mut redis).await?;
        Ok((connected.into_iter().map(UserId).collect(), held.into_iter().map(UserId).collect()))
    }

    /// Renews the lease; false when it had run out (the caller must `reconcile`).
    async fn renew(&self, ttl: Duration) -> RedisResult<bool> {
        let mut redis = self.cluster.redis();
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        self.scripts.renew.key(self.key("")).key(NODES).arg(ttl_ms).arg(self.me()).invoke_async(&mut redis).await
    }

    /// Takes this node's lease now; false as [`ClusterPresence::renew`] (always, on a first join).
    pub async fn join(&self) -> RedisResult<bool> {
        self.renew(self.lease()).await
    }

    fn lease(&self) -> Duration {
        Duration::from_secs(self.cluster.settings().node_lease_secs)
    }

    /// Renews the lease every third of its length until shutdown, poking `rejoined` whenever it
    /// had run out; then drops it, so the other nodes clean up after this one at once.
    pub async fn keep_lease(self, rejoined: std::sync::Arc<Notify>, shutdown: CancellationToken) {
        let lease = self.lease();
        let mut ticker = tokio::time::interval(lease / 3);
        let mut failing = false;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = ticker.tick() => match self.renew(lease).await {
                    Ok(renewed) => {
                        if failing {
                            tracing::info!(node_id = self.me(), "node lease renewed again");
                            failing = false;
                        }
                        if !renewed {
                            tracing::warn!(node_id = self.me(), "node lease had run out; rejoining the cluster");
                            rejoined.notify_one();
                        }
                    }
                    Err(e) => {
                        if !failing {
                            tracing::warn!(node_id = self.me(), error = %e, "node lease not renewed");
                        }
                        failing = true;
                    }
                },
            }
        }
        let goodbye = redis::cmd("DEL").arg(self.key("")).exec_async(&mut self.cluster.redis()).await;
        if let Err(e) = goodbye {
            tracing::warn!(error = %e, "node lease not dropped at shutdown; it will expire");
        }
    }
}

fn ids(raw: Vec<i64>) -> Vec<UserId> {
    raw.into_iter().map(UserId).collect()
}
