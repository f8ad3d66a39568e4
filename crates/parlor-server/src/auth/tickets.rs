//! One-time WebSocket tickets: a browser trades its access token (in a header, over REST) for a
//! random ticket it puts in the socket's URL instead, where query strings end up in proxy logs.
//! A ticket is redeemed once, within `websocket.ticket_ttl_secs`.
//!
//! Tickets live in this node's memory, kept by their SHA-256 digest (so a memory dump does not
//! hold usable tickets): one must be redeemed on the node that issued it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dashmap::DashMap;
use parlor_core::UserId;
use rand::RngCore;
use sha2::{Digest, Sha256};

#[derive(Clone)]
pub struct Tickets {
    /// Digest of each outstanding ticket: whose it is and until when it is good.
    pending: Arc<DashMap<[u8; 32], (UserId, Instant)>>,
    ttl: Duration,
    /// When expired tickets were last dropped.
    pruned: Arc<Mutex<Instant>>,
}

impl Tickets {
    pub fn new(ttl: Duration) -> Self {
        Self { pending: Arc::new(DashMap::new()), ttl, pruned: Arc::new(Mutex::new(Instant::now())) }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A fresh 256-bit ticket for `user`.
    pub fn issue(&self, user: UserId) -> String {
        let now = Instant::now();
        self.prune(now);
        let mut raw = [0u8; 32];
        rand::rng().fill_bytes(&mut raw);
        let ticket = URL_SAFE_NO_PAD.encode(raw);
        self.pending.insert(digest(&ticket), (user, now + self.ttl));
        ticket
    }

    /// Drops tickets nobody redeemed, at most once per TTL: the map then holds at most two TTLs'
    /// worth, and a reconnect storm issuing thousands of tickets does not walk it for each one.
    fn prune(&self, now: Instant) {
        let due = {
            let Ok(mut pruned) = self.pruned.lock() else { return };
            let due = now.duration_since(*pruned) >= self.ttl;
            if due {
                *pruned = now;
            }
            due
        };
        if due {
            self.pending.retain(|_, (_, expires)| *expires > now);
        }
    }

    /// Spends a ticket: its user the first time, within its lifetime; `None` ever after.
    pub fn redeem(&self, ticket: &str) -> Option<UserId> {
        let (_, (user, expires)) = self.pending.remove(&digest(ticket))?;
        (expires > Instant::now()).then_some(user)
    }
}

fn digest(ticket: &str) -> [u8; 32] {
    Sha256::digest(ticket.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_tickets_are_dropped_once_a_ttl_has_passed() {
        let tickets = Tickets::new(Duration::from_millis(50));
        let first = tickets.issue(UserId(1));
        tickets.issue(UserId(2));
        assert_eq!(tickets.pending.len(), 2, "within a TTL nothing is walked");
        std::thread::sleep(Duration::from_millis(60));
        let fresh = tickets.issue(UserId(3));
        assert_eq!(tickets.pending.len(), 1, "the two expired tickets went, the fresh one stays");
        assert_eq!(tickets.redeem(&first), None);
        assert_eq!(tickets.redeem(&fresh), Some(UserId(3)));
        assert_eq!(tickets.redeem(&fresh), None, "once only");
    }
}
