//! `DeliveryReceipts`: what this node's devices said they received (a history page, a fetched
//! conversation, a `delivered` frame), gathered in memory and written every
//! [`RECEIPT_INTERVAL`], at most one position per member and conversation, all in one write
//! (protocol §10.4). It also holds the receipt policy: which conversations log and push
//! receipts at all (see `limits.receipt_events_max_members`); the positions of larger ones,
//! which nobody is told of, are written every [`QUIET_INTERVAL`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use parlor_core::{ConversationId, ConversationOverview, Seq, UserId};
use parlor_store::{DeliveredUpTo, Store};
use tokio_util::sync::CancellationToken;

use super::Reach;
use crate::bus::Hub;

/// How often the node writes the delivery receipts its connections gathered.
pub const RECEIPT_INTERVAL: Duration = Duration::from_millis(250);

/// How often the positions of conversations too large to log receipts are written. A
/// 10,000-member room's tick wrote 10,000 positions (docs/benchmarks.md, round 2); its "delivered
/// to" lists, the only place they show, may be a few seconds behind.
pub const QUIET_INTERVAL: Duration = Duration::from_secs(4);

#[derive(Clone)]
pub struct DeliveryReceipts {
    store: Arc<dyn Store>,
    hub: Hub,
    /// Whether a member's receipts may be shown to the others (not across a block in a DM).
    reach: Reach,
    /// `limits.receipt_events_max_members`: larger conversations keep positions but log no
    /// receipt events.
    logged_max_members: usize,
    /// Gathered since the last write: the newest message seq per conversation and member.
    gathered: Arc<Mutex<Positions>>,
    /// Positions in conversations whose receipts are not logged, held until [`QUIET_INTERVAL`]
    /// has passed since they were last written.
    held: Arc<Mutex<(Positions, Instant)>>,
}

type Positions = HashMap<(ConversationId, UserId), Seq>;

/// Keeps the newest position of a member in a conversation: receipts may arrive out of order.
fn raise(positions: &mut Positions, key: (ConversationId, UserId), up_to: Seq) {
    let newest = positions.entry(key).or_insert(up_to);
    *newest = (*newest).max(up_to);
}

impl DeliveryReceipts {
    pub fn new(store: Arc<dyn Store>, hub: Hub, reach: Reach, logged_max_members: usize) -> Self {
        let held = Arc::new(Mutex::new((Positions::new(), Instant::now())));
        Self { store, hub, reach, logged_max_members, gathered: Arc::default(), held }
    }

    /// Notes that one of `me`'s devices received a conversation's messages up to `up_to`. Costs
    /// no write: the node gathers receipts and writes them every [`RECEIPT_INTERVAL`]
    /// ([`DeliveryReceipts::write_receipts`]), at most one per member and conversation, all in
    /// one write.
    pub fn note_delivered(&self, me: UserId, id: ConversationId, up_to: Seq) {
        if let Ok(mut pending) = self.gathered.lock() {
            raise(&mut pending, (id, me), up_to);
        }
    }

    /// A conversation a client fetched brought its newest message to that device: it counts as
    /// delivered (protocol §10.4), as a history page does, so the sender's ✓✓ does not wait for
    /// the chat to be opened.
    pub fn note_fetched(&self, me: UserId, overview: &ConversationOverview) {
        if let (true, Some(last)) = (overview.membership.active, &overview.last_message) {
            self.note_delivered(me, overview.conversation.id, last.seq);
        }
    }

    /// Whether receipts in this conversation are logged and pushed (small conversations only).
    pub(super) async fn logged(&self, id: ConversationId) -> bool {
        self.hub.members(id).await.is_ok_and(|m| m.len() <= self.logged_max_members)
    }

    /// Writes every receipt gathered and held, all in one write (at shutdown, once every
    /// connection has closed).
    pub async fn write_receipts(&self) {
        self.write(true).await;
    }

    /// Writes the receipts gathered since the last call, all in one write
    /// (`Store::mark_delivered_many`), and tells the conversations whose receipts are logged
    /// (small ones): a tick costs a few statements whether it gathered ten receipts or 10,000.
    /// Larger conversations' positions are held until [`QUIET_INTERVAL`] has passed, or
    /// `everything`.
    async fn write(&self, everything: bool) {
        let gathered = match self.gathered.lock() {
            Ok(mut pending) => std::mem::take(&mut *pending),
            Err(_) => return,
        };
        // The policy is per conversation: a room's 10,000 receipts ask it once.
        let mut logged: HashMap<ConversationId, bool> = HashMap::new();
        let mut receipts = Vec::with_capacity(gathered.len());
        let mut quiet = Vec::new();
        for ((id, user), up_to) in gathered {
            let small = match logged.get(&id) {
                Some(&small) => small,
                None => *logged.entry(id).or_insert(self.logged(id).await),
            };
            if small {
                let log = self.reach.receipts_shown(user, id).await;
                receipts.push(DeliveredUpTo { conversation: id, user, up_to, log });
            } else {
                quiet.push(((id, user), up_to));
            }
        }
        if let Ok(mut held) = self.held.lock() {
            let (positions, since) = &mut *held;
            for (key, up_to) in quiet {
                raise(positions, key, up_to);
            }
            if everything || since.elapsed() >= QUIET_INTERVAL {
                *since = Instant::now();
                receipts.extend(positions.drain().map(|((conversation, user), up_to)| DeliveredUpTo {
                    conversation,
                    user,
                    up_to,
                    log: false,
                }));
            }
        }
        if receipts.is_empty() {
            return;
        }
        match self.store.mark_delivered_many(&receipts).await {
            Ok(events) => {
                for event in &events {
                    self.hub.publish(event).await;
                }
            }
            Err(e) => tracing::warn!(receipts = receipts.len(), error = %e, "delivery receipts not stored"),
        }
    }

    /// Writes gathered receipts every [`RECEIPT_INTERVAL`] until shutdown (the server writes
    /// the last ones once every connection has closed).
    pub async fn write_receipts_every_tick(self, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(RECEIPT_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tick.tick() => self.write(false).await,
            }
        }
    }
}
