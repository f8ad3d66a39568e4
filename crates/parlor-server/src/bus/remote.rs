//! The hub's side of a cluster, whatever carries the envelopes: [`Remote`] hands what this node
//! publishes to the transport (one envelope per event, never per recipient), and [`Inbound`]
//! applies what other nodes published to this node's hub.
//!
//! **Invariant:** the bus carries signals; the database repairs. An envelope may be lost, late,
//! or arrive out of order: per conversation with listeners here, the [`Tracker`] knows what was
//! delivered, a gap is read from the log (`Store::events_after`) and delivered in order first, a
//! duplicate is dropped, and [`Inbound::repair`] compares tracked conversations with the log
//! periodically (one query per 500 of them) and after every reconnection, so a lost last event
//! is not stuck.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use parlor_core::{ConversationEvent, ConversationId, Seq, UserId};
use parlor_store::Store;
use tokio::sync::mpsc;

use super::envelope::{Body, Envelope};
use super::hub::{Hub, Outbound};
use super::tracker::{Arrival, Tracker};
use crate::observability::BusMetrics;

/// Most events one repair reads and delivers for a conversation; a longer gap is left to the
/// connections (which replay up to `limits.replay_max` or say `resync_required`).
const MAX_REPAIR: i64 = 500;
/// Conversations with an event this recent are compared with the log on every periodic repair.
const ACTIVE_WINDOW: Duration = Duration::from_secs(300);
/// Conversations whose newest seq one repair statement reads.
const REPAIR_CHUNK: usize = 500;
/// Users read at once when rechecking who is disabled.
const RECHECK_CHUNK: usize = 500;
/// Conversations idle this long are no longer tracked.
const FORGET_AFTER: Duration = Duration::from_secs(3600);

/// What the hub holds to publish to other nodes. Cheap to clone.
#[derive(Clone)]
pub struct Remote {
    inner: Arc<Shared>,
}

struct Shared {
    /// This node's random id; envelopes carrying it are our own and ignored on receipt.
    node: u64,
    /// To the transport's publishing task. Bounded: when it is full (the transport is down or
    /// slow), the envelope is dropped and other nodes repair from the log.
    outbox: mpsc::Sender<Envelope>,
    tracker: Mutex<Tracker>,
    metrics: BusMetrics,
}

impl Remote {
    pub fn new(node: u64, outbox: mpsc::Sender<Envelope>, metrics: BusMetrics) -> Self {
        let inner = Shared { node, outbox, tracker: Mutex::default(), metrics };
        Remote { inner: Arc::new(inner) }
    }

    pub fn node(&self) -> u64 {
        self.inner.node
    }

    /// Hands one envelope to the transport, never waiting.
    pub(super) fn publish(&self, body: Body) {
        let envelope = Envelope { origin: self.inner.node, body };
        if self.inner.outbox.try_send(envelope).is_err() {
            self.inner.metrics.publish_dropped.inc();
        }
    }

    /// An event this node's hub is delivering to its own connections: noted as delivered here,
    /// and published for the others.
    pub(super) fn published_here(&self, out: &Outbound, except: Option<UserId>, also: &[UserId]) {
        let (conversation, frame) = (out.conversation_id, out.frame.clone());
        let body = match out.seq {
            Some(seq) => {
                self.tracker().delivered(conversation, seq);
                Body::Event { conversation, seq, message_seq: out.message_seq, also: also.to_vec(), frame }
            }
            None => Body::Ephemeral { conversation, except, frame },
        };
        self.publish(body);
    }

    fn tracker(&self) -> MutexGuard<'_, Tracker> {
        // The tracker's state stays consistent at every step, so a panic elsewhere leaves it usable.
        self.inner.tracker.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Applies other nodes' envelopes to this node's hub. Driven by one task (the transport's
/// subscriber), so repairs never run concurrently.
pub struct Inbound {
    hub: Hub,
    store: Arc<dyn Store>,
    remote: Remote,
}

impl Inbound {
    pub fn new(hub: Hub, store: Arc<dyn Store>, remote: Remote) -> Self {
        Inbound { hub, store, remote }
    }

    /// One payload from the bus.
    pub async fn receive(&self, payload: &[u8]) {
        let envelope = match Envelope::decode(payload) {
            Ok(envelope) => envelope,
            Err(e) => {
                tracing::warn!(error = %e, len = payload.len(), "ignoring a message on the bus");
                return;
            }
        };
        if envelope.origin == self.remote.node() {
            return;
        }
        self.remote.inner.metrics.received.inc();
        match envelope.body {
            Body::Event { conversation, seq, message_seq, also, frame } => {
                // The dispatcher here may be the one delivering the other node's outbox rows.
                self.hub.note_published();
                self.on_event(conversation, seq, message_seq, &also, frame).await;
            }
            Body::Ephemeral { conversation, except, frame } => {
                let Ok(members) = self.hub.members(conversation).await else { return };
                self.hub.send_here(&members, &Arc::new(outbound(conversation, None, None, frame)), except, &[]);
            }
            Body::Personal { users, frame } => {
                self.hub.send_personal_here(&users, &Arc::new(Outbound::personal(frame)));
            }
            Body::Devices { user, device, frame } => {
                self.hub.send_to_devices_here(user, &Arc::new(Outbound::for_devices(frame, device)));
            }
            Body::Call(payload) => self.hub.call_message_here(payload),
            Body::ForgetMembers(id) => self.hub.forget_members_here(id),
            Body::Disconnect(user) => self.hub.disconnect_user_here(user),
            Body::Reconnect(user) => self.hub.reconnect_user_here(user),
            Body::EndSession(user, session) => self.hub.end_session_here(user, session),
            Body::ForgetBlock(a, b) => self.hub.forget_block_here(a, b),
        }
    }

    async fn on_event(
        &self,
        id: ConversationId,
        seq: Seq,
        message_seq: Option<Seq>,
        also: &[UserId],
        frame: Utf8Bytes,
    ) {
        let mut members = match self.hub.members(id).await {
            Ok(members) => members,
            Err(e) => {
                // Like a local publish: connections repair from the log on their next event.
                tracing::error!(error = %e, conversation_id = %id, "bus event skipped: members unavailable");
                return;
            }
        };
        let listening = self.hub.any_online(&members) || self.hub.any_online(also);
        let arrival = self.remote.tracker().arrived(id, seq, listening);
        match arrival {
            Arrival::New => {}
            Arrival::Duplicate => return,
            Arrival::Gap { after } => {
                members = self.fill(id, after, seq).await.unwrap_or(members);
                if !self.remote.tracker().delivered(id, seq) {
                    return;
                }
            }
        }
        self.hub.send_here(&members, &Arc::new(outbound(id, Some(seq), message_seq, frame)), None, also);
    }

    /// Delivers the logged events between `after` and `before` (both excluded), in order.
    /// Returns the conversation's members as read for it, or `None` when the gap was given up
    /// (connections fill it themselves when the next event reaches them).
    async fn fill(&self, id: ConversationId, after: Seq, before: Seq) -> Option<Arc<[UserId]>> {
        let missing = before.0 - after.0 - 1;
        let events = if missing > MAX_REPAIR {
            None
        } else {
            let limit = u32::try_from(missing).unwrap_or(0);
            self.store
                .events_after(id, after, limit)
                .await
                .inspect_err(
                    |e| tracing::warn!(error = %e, conversation_id = %id, "cannot repair a bus gap from the log"),
                )
                .ok()
        };
        let Some(events) = events else {
            self.remote.tracker().skip_to(id, Seq(before.0 - 1));
            return None;
        };
        self.deliver_logged(id, &events).await
    }

    /// Delivers events read from the log that this node has not delivered yet, to the current
    /// members (read again: a control message about them may have been lost with the events).
    async fn deliver_logged(&self, id: ConversationId, events: &[ConversationEvent]) -> Option<Arc<[UserId]>> {
        self.hub.forget_members_here(id);
        let members = self.hub.members(id).await.ok()?;
        for event in events {
            if self.remote.tracker().delivered(id, event.seq) {
                self.hub.send_here(&members, &Arc::new(Outbound::event(event)), None, &[]);
                self.remote.inner.metrics.repaired.inc();
            }
        }
        Some(members)
    }

    /// Compares tracked conversations with the log and delivers what is missing: those with
    /// recent events (periodically), or all of them (`everything`, after a reconnection, when
    /// control messages may have been lost too: every cached member list and block goes).
    /// The newest seqs are read [`REPAIR_CHUNK`] conversations per statement, so the periodic
    /// poll costs the database one query per chunk, and a conversation's events only when it
    /// is behind.
    pub async fn repair(&self, everything: bool) {
        if everything {
            self.hub.forget_caches_here();
            self.recheck_disabled().await;
        }
        let window = (!everything).then_some(ACTIVE_WINDOW);
        let due = self.remote.tracker().due(window, FORGET_AFTER);
        let mut listened = Vec::with_capacity(due.len());
        for (id, last) in due {
            let members = match self.hub.cached_members(id) {
                Some(members) => members,
                None => match self.hub.members(id).await {
                    Ok(members) => members,
                    Err(_) => continue,
                },
            };
            if self.hub.any_online(&members) {
                listened.push((id, last));
            } else {
                self.remote.tracker().forget(id);
            }
        }
        for chunk in listened.chunks(REPAIR_CHUNK) {
            let ids: Vec<ConversationId> = chunk.iter().map(|(id, _)| *id).collect();
            let latest = match self.store.last_event_seqs(&ids).await {
                Ok(latest) => latest,
                Err(e) => {
                    tracing::debug!(error = %e, conversations = ids.len(), "bus repair skipped");
                    continue;
                }
            };
            for &(id, last) in chunk {
                // Absent: the conversation is gone, nothing to deliver.
                let Some(&latest) = latest.get(&id) else { continue };
                if latest > last {
                    self.repair_one(id, last, latest).await;
                }
            }
        }
    }

    /// Delivers a conversation's logged events after `last`, up to `latest` (at most
    /// [`MAX_REPAIR`] of them).
    async fn repair_one(&self, id: ConversationId, last: Seq, latest: Seq) {
        let limit = u32::try_from((latest.0 - last.0).min(MAX_REPAIR)).unwrap_or(0);
        match self.store.events_after(id, last, limit).await {
            Ok(events) => {
                self.deliver_logged(id, &events).await;
            }
            Err(e) => tracing::warn!(error = %e, conversation_id = %id, "cannot repair from the log"),
        }
    }
}

impl Inbound {
    /// Applies disables and enables that may have been lost with the bus.
    async fn recheck_disabled(&self) {
        for chunk in self.hub.users_to_recheck().chunks(RECHECK_CHUNK) {
            match self.store.users(chunk).await {
                Ok(users) => {
                    for user in users {
                        if user.disabled {
                            self.hub.disconnect_user_here(user.id);
                        } else {
                            self.hub.reconnect_user_here(user.id);
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot recheck disabled users after a bus outage"),
            }
        }
    }
}

fn outbound(id: ConversationId, seq: Option<Seq>, message_seq: Option<Seq>, frame: Utf8Bytes) -> Outbound {
    Outbound {
        conversation_id: id,
        seq,
        message_seq,
        frame,
        personal: false,
        device: super::hub::DeviceFilter::Any,
        published: Instant::now(),
    }
}
