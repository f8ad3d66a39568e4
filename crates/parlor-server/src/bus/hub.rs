//! The local hub: a registry of open connections by user (with what each is looking at), a
//! cache of conversation members, and the source of presence transitions (a user's first
//! connection opened, their last one closed).
//!
//! With a Redis bus (`remote.rs`), every publish and cache change here is also handed to the
//! bus once, and what other nodes publish comes back in through the `*_here` methods.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Instant;

use axum::extract::ws::Utf8Bytes;
use dashmap::DashMap;
use parlor_core::{ConversationEvent, ConversationId, EventKind, Seq, SessionId, UserId};
use parlor_protocol::ServerFrame;
use parlor_store::{Store, StoreResult};
use tokio::sync::{mpsc, watch};

use super::envelope::Body;
use super::mailbox::Mailbox;
use super::remote::Remote;

/// One serialized event on its way to connections.
#[derive(Debug)]
pub struct Outbound {
    pub conversation_id: ConversationId,
    /// The event-log position, for logged events; `None` for ephemeral ones (typing).
    pub seq: Option<Seq>,
    /// For a new message: its message seq, so the connection can record it as delivered.
    pub message_seq: Option<Seq>,
    pub frame: Utf8Bytes,
    /// Addressed to the user rather than a conversation (presence, notifications): it passes
    /// every connection, scoped or not, outside per-conversation ordering.
    pub personal: bool,
    /// Which of the user's devices a personal frame is for (calls ring every device, then talk
    /// to the one that answered).
    pub device: DeviceFilter,
    /// When the hub fanned it out, for the delivery latency metric.
    pub published: Instant,
}

/// One open connection (a device or tab), named across nodes by a random number: a call
/// relays signaling to the device that answered, not to every device of its user.
pub type Device = u64;

/// Which connections of a user a personal frame reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceFilter {
    #[default]
    Any,
    Only(Device),
    Except(Device),
}

impl DeviceFilter {
    pub fn admits(self, device: Device) -> bool {
        match self {
            DeviceFilter::Any => true,
            DeviceFilter::Only(d) => d == device,
            DeviceFilter::Except(d) => d != device,
        }
    }
}

impl Outbound {
    /// A logged event, serialized once.
    pub(super) fn event(event: &ConversationEvent) -> Self {
        let message_seq = match &event.kind {
            EventKind::MessageCreated(m) => Some(m.seq),
            _ => None,
        };
        Outbound {
            conversation_id: event.conversation_id,
            seq: Some(event.seq),
            message_seq,
            frame: Utf8Bytes::from(ServerFrame::from_event(event).to_json()),
            personal: false,
            device: DeviceFilter::Any,
            published: Instant::now(),
        }
    }

    pub(super) fn personal(frame: Utf8Bytes) -> Self {
        Outbound::for_devices(frame, DeviceFilter::Any)
    }

    pub(super) fn for_devices(frame: Utf8Bytes, device: DeviceFilter) -> Self {
        Outbound {
            conversation_id: ConversationId(0),
            seq: None,
            message_seq: None,
            frame,
            personal: true,
            device,
            published: Instant::now(),
        }
    }
}

/// A user's connections went from none to some (`online: true`) or from some to none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub user: UserId,
    pub online: bool,
}

#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    /// Open connections of each user (one per device or tab).
    connections: DashMap<UserId, Vec<Registered>>,
    /// Members by conversation, loaded on first use. Direct conversations never change members;
    /// membership changes (rooms) must call [`Hub::forget_members`].
    members: DashMap<ConversationId, Arc<[UserId]>>,
    next_connection: AtomicU64,
    /// Bumped by every `forget_members`, so a member list loaded before a change is never
    /// cached after it.
    membership_epoch: AtomicU64,
    queue_len: usize,
    transitions: mpsc::UnboundedSender<Transition>,
    /// Taken once by the presence service.
    transitions_rx: Mutex<Option<mpsc::UnboundedReceiver<Transition>>>,
    /// Users disabled while this node runs (authentication refuses them after a restart).
    disabled: DashMap<UserId, ()>,
    /// Bumped for every logged event published, so the webhook dispatcher wakes at once.
    published: watch::Sender<u64>,
    /// Whether two users blocked each other, by (lower, higher) id: every message in a DM asks.
    blocks: DashMap<(UserId, UserId), bool>,
    /// Other nodes, when several share the database (`redis_url`); `None`: this node is alone.
    remote: Option<Remote>,
    /// With several nodes: users connected on any node, a copy the cluster's presence refreshes
    /// from Redis (`crate::cluster::presence`), so [`Hub::is_online`] stays in memory.
    connected_anywhere: RwLock<Option<Arc<HashSet<UserId>>>>,
    /// Set once `connected_anywhere` has been filled: on one node `is_online` never locks.
    clustered: AtomicBool,
    /// Where other nodes' call messages go (`crate::calls`, which runs the calls of this node).
    call_inbox: OnceLock<mpsc::Sender<Utf8Bytes>>,
}

struct Registered {
    id: u64,
    /// Random, so it names this connection on every node (calls address devices).
    device: Device,
    /// Its queue of events, the conversation it shows (no notifications for that one), and the
    /// switch that ends it at once (its user was disabled, or its session revoked).
    mailbox: Arc<Mailbox>,
    /// The session it was opened with (`None`: a token of no session).
    session: Option<SessionId>,
}

/// Removes its connection from the hub when dropped.
pub struct ConnectionGuard {
    hub: Hub,
    user: UserId,
    id: u64,
    device: Device,
}

impl ConnectionGuard {
    /// The connection's name across nodes.
    pub fn device(&self) -> Device {
        self.device
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.hub.remove(self.user, self.id);
    }
}

impl Hub {
    pub fn new(store: Arc<dyn Store>, queue_len: usize, remote: Option<Remote>) -> Self {
        let (transitions, transitions_rx) = mpsc::unbounded_channel();
        let inner = Inner {
            transitions,
            transitions_rx: Mutex::new(Some(transitions_rx)),
            disabled: DashMap::new(),
            store,
            connections: DashMap::new(),
            members: DashMap::new(),
            next_connection: AtomicU64::new(1),
            membership_epoch: AtomicU64::new(0),
            queue_len,
            published: watch::Sender::new(0),
            blocks: DashMap::new(),
            remote,
            connected_anywhere: RwLock::new(None),
            clustered: AtomicBool::new(false),
            call_inbox: OnceLock::new(),
        };
        Self { inner: Arc::new(inner) }
    }

    /// Registers a connection of `user`. Its mailbox yields every event for the user's
    /// conversations, and [`Mail::Dropped`](super::Mail::Dropped) if the connection falls too
    /// far behind. `focus` is what the connection shows (see [`Hub::is_viewing`]); the caller
    /// updates it in the mailbox. The mailbox is kicked when the user's connections must end
    /// (see [`Hub::disconnect_user`]).
    pub fn register(&self, user: UserId, session: Option<SessionId>, focus: i64) -> (ConnectionGuard, Arc<Mailbox>) {
        let id = self.inner.next_connection.fetch_add(1, Ordering::Relaxed);
        let mailbox = Mailbox::new(self.inner.queue_len, focus);
        // Most users have one connection: room for one, not the four a first push makes.
        let mut conns = self.inner.connections.entry(user).or_insert_with(|| Vec::with_capacity(1));
        // Authenticated before a disable, registered after it: nothing else would end it.
        if self.inner.disabled.contains_key(&user) {
            mailbox.kick();
        }
        let device = rand::random::<u64>().max(1);
        conns.push(Registered { id, device, mailbox: mailbox.clone(), session });
        if conns.len() == 1 {
            // Sent under the entry's lock, so transitions of one user arrive in order.
            self.inner.transitions.send(Transition { user, online: true }).ok();
        }
        drop(conns);
        (ConnectionGuard { hub: self.clone(), user, id, device }, mailbox)
    }

    /// The presence transitions; `None` after the first call.
    pub fn take_transitions(&self) -> Option<mpsc::UnboundedReceiver<Transition>> {
        self.inner.transitions_rx.lock().ok()?.take()
    }

    /// True while the user has at least one open connection here or, with several nodes, on
    /// any node (as of the last refresh of the cluster's copy).
    pub fn is_online(&self, user: UserId) -> bool {
        self.is_connected_here(user)
            || (self.inner.clustered.load(Ordering::Relaxed)
                && self
                    .inner
                    .connected_anywhere
                    .read()
                    .is_ok_and(|set| set.as_ref().is_some_and(|s| s.contains(&user))))
    }

    /// True while the user has at least one open connection on this node.
    pub fn is_connected_here(&self, user: UserId) -> bool {
        self.inner.connections.contains_key(&user)
    }

    /// Replaces the copy of who is connected on any node (the cluster's presence calls this).
    pub fn set_connected_anywhere(&self, users: HashSet<UserId>) {
        if let Ok(mut slot) = self.inner.connected_anywhere.write() {
            *slot = Some(Arc::new(users));
        }
        self.inner.clustered.store(true, Ordering::Relaxed);
    }

    /// Users with at least one open connection on this node.
    pub fn local_users(&self) -> Vec<UserId> {
        self.inner.connections.iter().map(|e| *e.key()).collect()
    }

    /// True when one of the user's connections shows this conversation now.
    pub fn is_viewing(&self, user: UserId, id: ConversationId) -> bool {
        self.inner.connections.get(&user).is_some_and(|conns| conns.iter().any(|c| c.mailbox.focus() == id.0))
    }

    /// Sends a frame to every connection of these users (presence, notifications). Best
    /// effort: a connection whose queue is full misses it rather than being cut off, since these
    /// frames can be re-read over REST and a presence storm must not disconnect anyone.
    pub fn send_personal(&self, users: &[UserId], frame: &ServerFrame) {
        let out = Arc::new(Outbound::personal(Utf8Bytes::from(frame.to_json())));
        if let Some(remote) = &self.inner.remote {
            remote.publish(Body::Personal { users: users.to_vec(), frame: out.frame.clone() });
        }
        self.send_personal_here(users, &out);
    }

    /// Delivers a per-user frame to this node's connections only.
    pub(super) fn send_personal_here(&self, users: &[UserId], out: &Arc<Outbound>) {
        let mut missed = 0usize;
        for user in users {
            let Some(conns) = self.inner.connections.get(user) else { continue };
            for conn in conns.iter() {
                missed += usize::from(!conn.mailbox.put(out.clone()));
            }
        }
        if missed > 0 {
            tracing::debug!(missed, "per-user frame skipped for connections that are behind");
        }
    }

    /// Sends a frame to some devices of one user, on whichever node they are (calls). Best
    /// effort, like [`Hub::send_personal`].
    pub fn send_to_devices(&self, user: UserId, device: DeviceFilter, frame: &ServerFrame) {
        let out = Arc::new(Outbound::for_devices(Utf8Bytes::from(frame.to_json()), device));
        if let Some(remote) = &self.inner.remote {
            remote.publish(Body::Devices { user, device, frame: out.frame.clone() });
        }
        self.send_to_devices_here(user, &out);
    }

    pub(super) fn send_to_devices_here(&self, user: UserId, out: &Arc<Outbound>) {
        let Some(conns) = self.inner.connections.get(&user) else { return };
        for conn in conns.iter().filter(|c| out.device.admits(c.device)) {
            if !conn.mailbox.put(out.clone()) {
                tracing::debug!(user_id = %user, "device frame skipped for a connection that is behind");
            }
        }
    }

    /// True when the device is connected to this node.
    pub fn has_device_here(&self, user: UserId, device: Device) -> bool {
        self.inner.connections.get(&user).is_some_and(|conns| conns.iter().any(|c| c.device == device))
    }

    /// Hands a call's control message to the other nodes (the one running the call acts on
    /// it); false when this node is alone.
    pub fn publish_call(&self, payload: Utf8Bytes) -> bool {
        match &self.inner.remote {
            Some(remote) => {
                remote.publish(Body::Call(payload));
                true
            }
            None => false,
        }
    }

    /// Where call messages from other nodes are handed; set once by the calls service.
    pub fn set_call_inbox(&self, inbox: mpsc::Sender<Utf8Bytes>) {
        self.inner.call_inbox.set(inbox).ok();
    }

    pub(super) fn call_message_here(&self, payload: Utf8Bytes) {
        if let Some(inbox) = self.inner.call_inbox.get()
            && inbox.try_send(payload).is_err()
        {
            tracing::warn!("call message dropped: the calls inbox is full");
        }
    }

    /// Ends every connection of `user` at once (disabled by an admin), ahead of queued events,
    /// and any they open until [`Hub::reconnect_user`]: a handshake authenticated just before
    /// the disable may register after it.
    pub fn disconnect_user(&self, user: UserId) {
        if let Some(remote) = &self.inner.remote {
            remote.publish(Body::Disconnect(user));
        }
        self.disconnect_user_here(user);
    }

    pub(super) fn disconnect_user_here(&self, user: UserId) {
        self.inner.disabled.insert(user, ());
        if let Some(conns) = self.inner.connections.get(&user) {
            conns.iter().for_each(|c| c.mailbox.kick());
        }
    }

    /// Whether the user was disabled while this node runs (why their sockets are kicked).
    pub fn is_disabled(&self, user: UserId) -> bool {
        self.inner.disabled.contains_key(&user)
    }

    /// Ends the connections opened with one session of `user` (revoked: its refresh token
    /// was reused), on every node. Later handshakes with its tokens are refused by the tokens.
    pub fn end_session(&self, user: UserId, session: SessionId) {
        if let Some(remote) = &self.inner.remote {
            remote.publish(Body::EndSession(user, session));
        }
        self.end_session_here(user, session);
    }

    pub(super) fn end_session_here(&self, user: UserId, session: SessionId) {
        if let Some(conns) = self.inner.connections.get(&user) {
            conns.iter().filter(|c| c.session == Some(session)).for_each(|c| c.mailbox.kick());
        }
    }

    /// Lets an enabled user's connections stay again.
    pub fn reconnect_user(&self, user: UserId) {
        if let Some(remote) = &self.inner.remote {
            remote.publish(Body::Reconnect(user));
        }
        self.reconnect_user_here(user);
    }

    pub(super) fn reconnect_user_here(&self, user: UserId) {
        self.inner.disabled.remove(&user);
    }

    /// Open connections of one user on this node.
    pub fn connections_of(&self, user: UserId) -> usize {
        self.inner.connections.get(&user).map_or(0, |conns| conns.len())
    }

    pub fn connection_count(&self) -> usize {
        self.inner.connections.iter().map(|e| e.value().len()).sum()
    }

    /// Users with at least one open connection here.
    pub fn user_count(&self) -> usize {
        self.inner.connections.len()
    }

    /// Events waiting in all connections' queues together, and in the fullest one (metrics;
    /// walks every connection, so only for scrapes).
    pub fn queue_depths(&self) -> (usize, usize) {
        let (mut sum, mut max) = (0, 0);
        for entry in self.inner.connections.iter() {
            for conn in entry.value() {
                let depth = conn.mailbox.queued();
                (sum, max) = (sum + depth, max.max(depth));
            }
        }
        (sum, max)
    }

    /// Members of a conversation if they are cached (no store access).
    pub fn cached_members(&self, id: ConversationId) -> Option<Arc<[UserId]>> {
        self.inner.members.get(&id).map(|m| m.clone())
    }

    /// Members of a conversation, from the cache or the store.
    pub async fn members(&self, id: ConversationId) -> StoreResult<Arc<[UserId]>> {
        if let Some(found) = self.inner.members.get(&id) {
            return Ok(found.clone());
        }
        let epoch = self.inner.membership_epoch.load(Ordering::Acquire);
        let loaded: Arc<[UserId]> = self.inner.store.member_ids(id).await?.into();
        // Compared under the entry's lock: `forget_members` bumps the epoch before it removes,
        // so a list loaded before a change is either refused here or removed right after.
        if !loaded.is_empty()
            && let dashmap::Entry::Vacant(slot) = self.inner.members.entry(id)
            && self.inner.membership_epoch.load(Ordering::Acquire) == epoch
        {
            slot.insert(loaded.clone());
        }
        Ok(loaded)
    }

    /// Drops the cached members of a conversation whose membership just changed.
    pub fn forget_members(&self, id: ConversationId) {
        if let Some(remote) = &self.inner.remote {
            remote.publish(Body::ForgetMembers(id));
        }
        self.forget_members_here(id);
    }

    pub(super) fn forget_members_here(&self, id: ConversationId) {
        self.inner.membership_epoch.fetch_add(1, Ordering::AcqRel);
        self.inner.members.remove(&id);
    }

    /// Whether either of two users blocked the other, if known here (no store access).
    pub fn cached_block(&self, a: UserId, b: UserId) -> Option<bool> {
        self.inner.blocks.get(&pair(a, b)).map(|known| *known)
    }

    pub fn cache_block(&self, a: UserId, b: UserId, blocked: bool) {
        self.inner.blocks.insert(pair(a, b), blocked);
    }

    /// Drops the cached answer for two users after one blocked or unblocked the other.
    pub fn forget_block(&self, a: UserId, b: UserId) {
        if let Some(remote) = &self.inner.remote {
            remote.publish(Body::ForgetBlock(a, b));
        }
        self.forget_block_here(a, b);
    }

    pub(super) fn forget_block_here(&self, a: UserId, b: UserId) {
        self.inner.blocks.remove(&pair(a, b));
    }

    /// Drops every cached member list and block (control messages may have been lost).
    pub(super) fn forget_caches_here(&self) {
        self.inner.membership_epoch.fetch_add(1, Ordering::AcqRel);
        self.inner.members.clear();
        self.inner.blocks.clear();
    }

    /// Users with a connection here or disabled here, to check against the store when
    /// disable and enable messages may have been lost.
    pub(super) fn users_to_recheck(&self) -> Vec<UserId> {
        let mut users: Vec<UserId> = self.inner.connections.iter().map(|e| *e.key()).collect();
        users.extend(self.inner.disabled.iter().map(|e| *e.key()));
        users.sort_unstable();
        users.dedup();
        users
    }

    /// True when one of these users has a connection here.
    pub(super) fn any_online(&self, users: &[UserId]) -> bool {
        users.iter().any(|u| self.inner.connections.contains_key(u))
    }

    /// Changes whenever a logged event has been published (the value is a counter).
    pub fn published(&self) -> watch::Receiver<u64> {
        self.inner.published.subscribe()
    }

    /// Wakes the webhook dispatcher: something was written to the webhook outbox.
    pub fn wake_webhooks(&self) {
        self.note_published();
    }

    /// Wakes the webhook dispatcher: a logged event was published here or on another node.
    pub(super) fn note_published(&self) {
        self.inner.published.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// Delivers a logged event to every connection of every member.
    pub async fn publish(&self, event: &ConversationEvent) {
        self.publish_with(event, &[]).await;
    }

    /// As [`Hub::publish`], and also to `also` (e.g. a member who was just removed, so they
    /// hear of it).
    pub async fn publish_with(&self, event: &ConversationEvent, also: &[UserId]) {
        self.note_published();
        let out = Arc::new(Outbound::event(event));
        self.send(out, None, also).await;
    }

    /// Delivers a frame that is not logged (typing), to every member except `except`.
    pub async fn publish_ephemeral(&self, id: ConversationId, frame: &ServerFrame, except: UserId) {
        let out = Arc::new(Outbound {
            conversation_id: id,
            seq: None,
            message_seq: None,
            frame: Utf8Bytes::from(frame.to_json()),
            personal: false,
            device: DeviceFilter::Any,
            published: Instant::now(),
        });
        self.send(out, Some(except), &[]).await;
    }

    async fn send(&self, out: Arc<Outbound>, except: Option<UserId>, also: &[UserId]) {
        let id = out.conversation_id;
        if let Some(remote) = &self.inner.remote {
            remote.published_here(&out, except, also);
        }
        let members = match self.members(id).await {
            Ok(m) => m,
            Err(e) => {
                // Clients repair from the log on their next event or resume.
                tracing::error!(error = %e, conversation_id = %id, "fan-out skipped: members unavailable");
                return;
            }
        };
        self.send_here(&members, &out, except, also);
    }

    /// Puts an event in the queue of every connection here of `members` and `also`, except
    /// `except`'s. Never waits: a connection whose queue is full is disconnected.
    pub(super) fn send_here(&self, members: &[UserId], out: &Arc<Outbound>, except: Option<UserId>, also: &[UserId]) {
        let mut stalled = Vec::new();
        let extra = also.iter().filter(|u| !members.contains(u));
        for user in members.iter().chain(extra).filter(|u| Some(**u) != except) {
            let Some(conns) = self.inner.connections.get(user) else { continue };
            for conn in conns.iter() {
                if !conn.mailbox.put(out.clone()) {
                    stalled.push((*user, conn.id));
                }
            }
        }
        for (user, conn) in stalled {
            tracing::warn!(user_id = %user, connection = conn, "connection cannot keep up; disconnecting it");
            self.remove(user, conn);
        }
    }

    fn remove(&self, user: UserId, id: u64) {
        if let dashmap::Entry::Occupied(mut entry) = self.inner.connections.entry(user) {
            entry.get_mut().retain(|c| {
                if c.id == id {
                    // Gone, or behind: if its task still runs, it ends once it has the rest.
                    c.mailbox.drop_connection();
                }
                c.id != id
            });
            if entry.get().is_empty() {
                entry.remove();
                self.inner.transitions.send(Transition { user, online: false }).ok();
            }
        }
    }
}

fn pair(a: UserId, b: UserId) -> (UserId, UserId) {
    (a.min(b), a.max(b))
}
