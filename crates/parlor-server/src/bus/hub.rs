//! The local hub: a registry of open connections by user, and a cache of conversation members.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::ws::Utf8Bytes;
use dashmap::DashMap;
use parlor_core::{ConversationEvent, ConversationId, EventKind, Seq, UserId};
use parlor_protocol::ServerFrame;
use parlor_store::{Store, StoreResult};
use tokio::sync::{mpsc, watch};

/// One serialized event on its way to connections.
#[derive(Debug)]
pub struct Outbound {
    pub conversation_id: ConversationId,
    /// The event-log position, for logged events; `None` for ephemeral ones (typing).
    pub seq: Option<Seq>,
    /// For a new message: its message seq, so the connection can record it as delivered.
    pub message_seq: Option<Seq>,
    pub frame: Utf8Bytes,
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
    /// Bumped for every logged event published, so the webhook dispatcher wakes at once.
    published: watch::Sender<u64>,
}

struct Registered {
    id: u64,
    tx: mpsc::Sender<Arc<Outbound>>,
}

/// Removes its connection from the hub when dropped.
pub struct ConnectionGuard {
    hub: Hub,
    user: UserId,
    id: u64,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.hub.remove(self.user, self.id);
    }
}

impl Hub {
    pub fn new(store: Arc<dyn Store>, queue_len: usize) -> Self {
        let inner = Inner {
            store,
            connections: DashMap::new(),
            members: DashMap::new(),
            next_connection: AtomicU64::new(1),
            membership_epoch: AtomicU64::new(0),
            queue_len,
            published: watch::Sender::new(0),
        };
        Self { inner: Arc::new(inner) }
    }

    /// Registers a connection of `user`. Its receiver yields every event for the user's
    /// conversations and ends if the connection falls too far behind.
    pub fn register(&self, user: UserId) -> (ConnectionGuard, mpsc::Receiver<Arc<Outbound>>) {
        let id = self.inner.next_connection.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel(self.inner.queue_len);
        self.inner.connections.entry(user).or_default().push(Registered { id, tx });
        (ConnectionGuard { hub: self.clone(), user, id }, rx)
    }

    pub fn connection_count(&self) -> usize {
        self.inner.connections.iter().map(|e| e.value().len()).sum()
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
        self.inner.membership_epoch.fetch_add(1, Ordering::AcqRel);
        self.inner.members.remove(&id);
    }

    /// Changes whenever a logged event has been published (the value is a counter).
    pub fn published(&self) -> watch::Receiver<u64> {
        self.inner.published.subscribe()
    }

    /// Delivers a logged event to every connection of every member.
    pub async fn publish(&self, event: &ConversationEvent) {
        self.publish_with(event, &[]).await;
    }

    /// As [`Hub::publish`], and also to `also` (e.g. a member who was just removed, so they
    /// hear of it).
    pub async fn publish_with(&self, event: &ConversationEvent, also: &[UserId]) {
        self.inner.published.send_modify(|n| *n = n.wrapping_add(1));
        let frame = ServerFrame::from_event(event).to_json();
        let delivered = match &event.kind {
            EventKind::MessageCreated(m) => Some(m.seq),
            _ => None,
        };
        self.send(event.conversation_id, Some(event.seq), delivered, frame, None, also).await;
    }

    /// Delivers a frame that is not logged (typing), to every member except `except`.
    pub async fn publish_ephemeral(&self, id: ConversationId, frame: &ServerFrame, except: UserId) {
        self.send(id, None, None, frame.to_json(), Some(except), &[]).await;
    }

    async fn send(
        &self,
        id: ConversationId,
        seq: Option<Seq>,
        message_seq: Option<Seq>,
        frame: String,
        except: Option<UserId>,
        also: &[UserId],
    ) {
        let members = match self.members(id).await {
            Ok(m) => m,
            Err(e) => {
                // Clients repair from the log on their next event or resume.
                tracing::error!(error = %e, conversation_id = %id, "fan-out skipped: members unavailable");
                return;
            }
        };
        let out = Arc::new(Outbound { conversation_id: id, seq, message_seq, frame: Utf8Bytes::from(frame) });
        let mut stalled = Vec::new();
        let extra = also.iter().filter(|u| !members.contains(u));
        for user in members.iter().chain(extra).filter(|u| Some(**u) != except) {
            let Some(conns) = self.inner.connections.get(user) else { continue };
            for conn in conns.iter() {
                if conn.tx.try_send(out.clone()).is_err() {
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
            entry.get_mut().retain(|c| c.id != id);
            if entry.get().is_empty() {
                entry.remove();
            }
        }
    }
}
