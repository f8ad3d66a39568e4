//! Presence: who is online, told only to the people they share a conversation with (and never
//! across a block). A user is online while any of their connections is open; going offline
//! waits out a grace period so a reload does not flicker. Last-seen times are kept in memory and
//! written in batches, so a reconnect storm costs no write per connection.
//!
//! With several nodes (`redis_url`), online means held by some node (`crate::cluster::presence`):
//! this service tells Redis about this node's transitions, one at a time in its own task so a
//! user's changes reach Redis in order, and announces only the transitions Redis says changed
//! the user's state cluster-wide; it also announces users of dead nodes that it cleaned up.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use dashmap::DashMap;
use parlor_core::{Timestamp, User, UserId};
use parlor_protocol::{ServerFrame, StatusView, UserView};
use parlor_store::Store;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::bus::{Hub, Transition};
use crate::cluster::presence::{Changes, ClusterPresence};
use crate::config::Limits;
use crate::error::{ApiError, ApiResult};

/// How often last-seen times are written.
const FLUSH_EVERY: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct Presence {
    inner: Arc<Inner>,
}

struct Inner {
    hub: Hub,
    store: Arc<dyn Store>,
    grace: Duration,
    /// Conversations of more members are left out of the audience (`limits.presence_events_max_members`).
    audience_max_members: u32,
    /// Users announced online, with a generation bumped by every transition, so a grace timer
    /// started before a reconnect does nothing.
    online: DashMap<UserId, u64>,
    generation: std::sync::atomic::AtomicU64,
    /// Last-seen times not yet written.
    unsaved: DashMap<UserId, Timestamp>,
    /// With several nodes: presence in Redis; `None` on one node.
    cluster: Option<ClusterPresence>,
    /// With several nodes: users held by any node, as of the last sync (empty on one node).
    held_anywhere: RwLock<HashSet<UserId>>,
    /// Poked when this node's lease had run out: its sets in Redis must be rewritten.
    rejoined: Arc<Notify>,
    /// A write to Redis failed: the sets are rewritten at the next sync.
    dirty: AtomicBool,
    /// Redis is failing now (logged once, not at every attempt).
    failing: AtomicBool,
}

impl Presence {
    /// `cluster`: presence shared with other nodes, or `None` on one node.
    pub fn new(hub: Hub, store: Arc<dyn Store>, limits: &Limits, cluster: Option<ClusterPresence>) -> Self {
        let inner = Inner {
            hub,
            store,
            grace: Duration::from_millis(limits.presence_grace_ms),
            audience_max_members: limits.presence_events_max_members,
            online: DashMap::new(),
            generation: Default::default(),
            unsaved: DashMap::new(),
            cluster,
            held_anywhere: RwLock::new(HashSet::new()),
            rejoined: Arc::new(Notify::new()),
            dirty: AtomicBool::new(false),
            failing: AtomicBool::new(false),
        };
        Self { inner: Arc::new(inner) }
    }

    /// Poked by the node lease when it had run out (see `ClusterPresence::keep_lease`).
    pub fn rejoined(&self) -> Arc<Notify> {
        self.inner.rejoined.clone()
    }

    /// Follows the hub's transitions until shutdown, then writes the last-seen times. With
    /// several nodes, also cleans up after dead nodes and refreshes the copies of who is online.
    pub async fn run(self, mut transitions: mpsc::UnboundedReceiver<Transition>, shutdown: CancellationToken) {
        let mut flush = tokio::time::interval(FLUSH_EVERY);
        let clustered = self.inner.cluster.is_some();
        let sync_every = self.inner.cluster.as_ref().map_or(Duration::from_secs(3600), |c| c.sync_every());
        let mut sync = tokio::time::interval(sync_every);
        sync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Grace periods that ran out, handled here so Redis hears of a user's changes in order.
        let (settled_tx, mut settled) = mpsc::unbounded_channel::<(UserId, u64)>();
        let rejoined = self.inner.rejoined.clone();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                t = transitions.recv() => match t {
                    Some(t) => self.on_transition(t, &settled_tx).await,
                    None => break,
                },
                Some((user, generation)) = settled.recv() => self.settle_offline(user, generation).await,
                _ = flush.tick() => self.flush().await,
                _ = sync.tick(), if clustered => self.sync().await,
                _ = rejoined.notified(), if clustered => self.reconcile().await,
            }
        }
        // Everyone still connected was seen just now.
        let now = Timestamp::now();
        for entry in self.inner.online.iter() {
            self.inner.unsaved.insert(*entry.key(), now);
        }
        self.flush().await;
    }

    async fn on_transition(&self, t: Transition, settled: &mpsc::UnboundedSender<(UserId, u64)>) {
        let generation = self.inner.generation.fetch_add(1, Ordering::Relaxed) + 1;
        self.inner.unsaved.insert(t.user, Timestamp::now());
        if t.online {
            let first_here = self.inner.online.insert(t.user, generation).is_none();
            let first_anywhere = match &self.inner.cluster {
                None => first_here,
                Some(_) if self.redis_down() => false,
                Some(cluster) => {
                    let held = async {
                        cluster.connected(t.user).await?;
                        if first_here { cluster.hold(t.user).await } else { Ok(false) }
                    };
                    self.redis_result(held.await).unwrap_or(false)
                }
            };
            if first_anywhere {
                self.spawn_announce(t.user, true);
            }
        } else if let Some(mut entry) = self.inner.online.get_mut(&t.user) {
            *entry = generation;
            drop(entry);
            if let Some(cluster) = &self.inner.cluster
                && !self.redis_down()
            {
                let result = cluster.disconnected(t.user).await;
                self.redis_result(result);
            }
            let (settled, grace) = (settled.clone(), self.inner.grace);
            tokio::spawn(async move {
                tokio::time::sleep(grace).await;
                settled.send((t.user, generation)).ok();
            });
        }
    }

    async fn settle_offline(&self, user: UserId, generation: u64) {
        let gone = !self.inner.hub.is_connected_here(user)
            && self.inner.online.remove_if(&user, |_, current| *current == generation).is_some();
        if !gone {
            return;
        }
        let last_anywhere = match &self.inner.cluster {
            None => true,
            Some(_) if self.redis_down() => false,
            Some(cluster) => {
                // Written before other nodes can see the user offline, so they show a last seen.
                self.flush_one(user).await;
                let result = cluster.release(user).await;
                self.redis_result(result).unwrap_or(false)
            }
        };
        if last_anywhere {
            // `last_seen` stays the moment the last connection closed (noted on the transition).
            self.spawn_announce(user, false);
        }
    }

    /// With several nodes: cleans up after dead nodes (announcing their users offline) and
    /// refreshes the copies of who is online; first rewrites this node's sets if a write failed.
    async fn sync(&self) {
        let Some(cluster) = &self.inner.cluster else { return };
        if self.inner.dirty.swap(false, Ordering::Relaxed) {
            self.reconcile().await;
        }
        let result = cluster.reap().await;
        if let Some(offline) = self.redis_result(result) {
            if !offline.is_empty() {
                tracing::info!(users = offline.len(), "users of a node that stopped answering are offline");
            }
            self.announce_changes(Changes { online: Vec::new(), offline });
        }
        let result = cluster.snapshot().await;
        if let Some((connected, held)) = self.redis_result(result) {
            self.inner.hub.set_connected_anywhere(connected);
            if let Ok(mut copy) = self.inner.held_anywhere.write() {
                *copy = held;
            }
        }
    }

    /// Rewrites this node's sets in Redis from memory (after its lease ran out, or a failed
    /// write), announcing what that changed.
    async fn reconcile(&self) {
        let Some(cluster) = &self.inner.cluster else { return };
        let held: Vec<UserId> = self.inner.online.iter().map(|e| *e.key()).collect();
        let connected = self.inner.hub.local_users();
        let result = cluster.reconcile(&held, &connected).await;
        if let Some(changes) = self.redis_result(result) {
            self.announce_changes(changes);
        }
    }

    fn announce_changes(&self, changes: Changes) {
        let now = Timestamp::now();
        for user in changes.offline {
            // Their node is gone or forgot them: last seen now, as far as anyone can tell.
            self.inner.unsaved.entry(user).or_insert(now);
            if let Ok(mut copy) = self.inner.held_anywhere.write() {
                copy.remove(&user);
            }
            self.spawn_announce(user, false);
        }
        for user in changes.online {
            self.spawn_announce(user, true);
        }
    }

    /// Logs the first failure of a run of Redis failures (and the recovery), and marks this
    /// node's sets for rewriting.
    fn redis_result<T>(&self, result: redis::RedisResult<T>) -> Option<T> {
        match result {
            Ok(value) => {
                if self.inner.failing.swap(false, Ordering::Relaxed) {
                    tracing::info!("presence reaches Redis again");
                }
                Some(value)
            }
            Err(e) => {
                self.inner.dirty.store(true, Ordering::Relaxed);
                if !self.inner.failing.swap(true, Ordering::Relaxed) {
                    tracing::warn!(error = %e, "presence cannot reach Redis; other nodes may see stale presence");
                }
                None
            }
        }
    }

    /// While Redis is failing, transitions only mark the sets for rewriting at the next sync
    /// (which also finds out whether Redis is back), so they do not queue behind timeouts.
    fn redis_down(&self) -> bool {
        let down = self.inner.failing.load(Ordering::Relaxed);
        if down {
            self.inner.dirty.store(true, Ordering::Relaxed);
        }
        down
    }

    fn spawn_announce(&self, user: UserId, online: bool) {
        let this = self.clone();
        tokio::spawn(async move { this.announce(user, online).await });
    }

    /// Whether the user is online now, by the source of truth (Redis with several nodes).
    async fn online_now(&self, user: UserId, assumed: bool) -> bool {
        match &self.inner.cluster {
            None => self.inner.online.contains_key(&user),
            Some(cluster) => cluster.held_anywhere(user).await.unwrap_or(assumed),
        }
    }

    async fn announce(&self, user: UserId, online: bool) {
        let store = &self.inner.store;
        // Coming online carries no last-seen time, so it needs no read of the user: one query
        // per arrival matters in a reconnect storm.
        let found = async {
            let who = if online { None } else { store.user(user).await? };
            let to = store.presence_audience(user, self.inner.audience_max_members).await?;
            Ok::<_, parlor_store::StoreError>((who, to))
        };
        match found.await {
            Ok((who, to)) => {
                // Nobody to tell, or a user deleted meanwhile.
                if to.is_empty() || (!online && who.is_none()) {
                    return;
                }
                let last_seen = match &who {
                    Some(who) if !who.hide_last_seen => self.last_seen(who),
                    _ => None,
                };
                let frame = ServerFrame::UserStatusChange { user_id: user, is_online: online, last_seen };
                // The lookups took time: a newer transition may have overtaken this one, and its
                // own announcement tells the truth.
                if self.online_now(user, online).await == online {
                    self.inner.hub.send_personal(&to, &frame);
                }
            }
            Err(e) => tracing::warn!(user_id = %user, error = %e, "presence change not announced"),
        }
    }

    /// Writes one user's unsaved last-seen time now.
    async fn flush_one(&self, user: UserId) {
        let Some(at) = self.inner.unsaved.get(&user).map(|t| *t) else { return };
        match self.inner.store.touch_last_seen(&[(user, at)]).await {
            Ok(()) => {
                self.inner.unsaved.remove_if(&user, |_, newer| *newer == at);
            }
            Err(e) => tracing::warn!(user_id = %user, error = %e, "last-seen time not saved; retrying"),
        }
    }

    async fn flush(&self) {
        let seen: Vec<(UserId, Timestamp)> = self.inner.unsaved.iter().map(|e| (*e.key(), *e.value())).collect();
        if seen.is_empty() {
            return;
        }
        match self.inner.store.touch_last_seen(&seen).await {
            Ok(()) => {
                for (user, at) in seen {
                    self.inner.unsaved.remove_if(&user, |_, newer| *newer == at);
                }
            }
            Err(e) => tracing::warn!(error = %e, "last-seen times not saved; retrying"),
        }
    }

    /// Online as contacts see it: connected, or within the grace period after leaving.
    pub fn is_online(&self, user: UserId) -> bool {
        self.inner.online.contains_key(&user)
            || self.inner.hub.is_online(user)
            || (self.inner.cluster.is_some() && self.inner.held_anywhere.read().is_ok_and(|held| held.contains(&user)))
    }

    fn last_seen(&self, user: &User) -> Option<Timestamp> {
        let unsaved = self.inner.unsaved.get(&user.id).map(|t| *t);
        unsaved.max(user.last_seen_at)
    }

    fn view(&self, viewer: UserId, user: &User) -> StatusView {
        let hidden = user.hide_last_seen && viewer != user.id;
        let is_online = self.is_online(user.id);
        StatusView {
            user_id: user.id,
            is_online,
            last_seen: if hidden || is_online { None } else { self.last_seen(user) },
        }
    }

    /// Whether `viewer` may see `target`'s presence: themselves, or someone they share a
    /// conversation with and neither blocked.
    async fn may_see(&self, viewer: UserId, target: UserId) -> ApiResult<bool> {
        let store = &self.inner.store;
        Ok(viewer == target
            || (store.share_conversation(viewer, target).await? && !store.blocked_between(viewer, target).await?))
    }

    /// One user's status; the same 404 as an unknown user for anyone the viewer may not see.
    pub async fn status(&self, viewer: UserId, target: UserId) -> ApiResult<StatusView> {
        let user = self.inner.store.user(target).await?.ok_or_else(|| ApiError::not_found("user"))?;
        if !self.may_see(viewer, target).await? {
            return Err(ApiError::not_found("user"));
        }
        Ok(self.view(viewer, &user))
    }

    /// Everyone the viewer shares a conversation with, and their status (seed 004's presence list).
    pub async fn contacts(&self, viewer: UserId) -> ApiResult<Vec<StatusView>> {
        Ok(self.contacts_with_users(viewer).await?.into_iter().map(|(_, status)| status).collect())
    }

    /// The same people with their profiles, by id (seed 003's user list).
    pub async fn contacts_with_users(&self, viewer: UserId) -> ApiResult<Vec<(User, StatusView)>> {
        let visible = self.visible_contacts(viewer).await?;
        let ids: Vec<UserId> = visible.into_iter().collect();
        let mut users = self.inner.store.users(&ids).await?;
        users.sort_by_key(|u| u.id);
        Ok(users
            .into_iter()
            .map(|u| {
                let status = self.view(viewer, &u);
                (u, status)
            })
            .collect())
    }

    /// Fills `is_online` and `last_seen` in a list of users, for those the viewer may see.
    pub async fn annotate(&self, viewer: UserId, users: &[User]) -> ApiResult<Vec<UserView>> {
        // One user (a profile) is a direct check; a list needs the viewer's whole contact set.
        let visible: HashSet<UserId> = match users {
            [one] if self.may_see(viewer, one.id).await? => HashSet::from([one.id]),
            [_] => HashSet::new(),
            _ => self.visible_contacts(viewer).await?,
        };
        Ok(users
            .iter()
            .map(|u| {
                let mut view = UserView::from(u);
                if u.id == viewer || visible.contains(&u.id) {
                    let status = self.view(viewer, u);
                    view.is_online = Some(status.is_online);
                    view.last_seen = status.last_seen;
                }
                view
            })
            .collect())
    }

    async fn visible_contacts(&self, viewer: UserId) -> ApiResult<HashSet<UserId>> {
        let store = &self.inner.store;
        let blocked: HashSet<UserId> = store.block_partners(viewer).await?.into_iter().collect();
        Ok(store.conversation_partners(viewer).await?.into_iter().filter(|c| !blocked.contains(c)).collect())
    }
}
