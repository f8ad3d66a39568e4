//! One-time WebSocket tickets: a browser trades its access token (in a header, over REST) for a
//! random ticket it puts in the socket's URL instead, where query strings end up in proxy logs.
//! A ticket is redeemed once, within `websocket.ticket_ttl_secs`.
//!
//! Tickets are kept by their SHA-256 digest (so a memory dump does not hold usable tickets): in
//! this node's memory, or with several nodes in Redis (`crate::cluster::tickets`), where any node
//! can redeem them. Either way a ticket works once, within its lifetime.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use dashmap::DashMap;
use parlor_core::{SessionId, UserId};
use parlor_protocol::ErrorCode;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::cluster::tickets::RedisTickets;
use crate::error::{ApiError, ApiResult, Kind};

/// Whom a ticket opens a socket for: the user and the session that asked for it (so revoking
/// the session closes that socket too).
pub type Holder = (UserId, Option<SessionId>);

#[derive(Clone)]
pub struct Tickets {
    /// Digest of each outstanding ticket: whose it is, of which session, and until when it is good.
    pending: Arc<DashMap<[u8; 32], (Holder, Instant)>>,
    ttl: Duration,
    /// When expired tickets were last dropped.
    pruned: Arc<Mutex<Instant>>,
    /// With several nodes: tickets kept in Redis instead of `pending`.
    shared: Option<RedisTickets>,
}

impl Tickets {
    /// Tickets in this node's memory.
    pub fn new(ttl: Duration) -> Self {
        Self { pending: Arc::new(DashMap::new()), ttl, pruned: Arc::new(Mutex::new(Instant::now())), shared: None }
    }

    /// Tickets in Redis, redeemable on any node.
    pub fn shared(ttl: Duration, redis: RedisTickets) -> Self {
        Self { shared: Some(redis), ..Self::new(ttl) }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A fresh 256-bit ticket for `user`, asked for with a token of `session`.
    pub async fn issue(&self, user: UserId, session: Option<SessionId>) -> ApiResult<String> {
        let mut raw = [0u8; 32];
        rand::rng().fill_bytes(&mut raw);
        let ticket = URL_SAFE_NO_PAD.encode(raw);
        match &self.shared {
            None => {
                let now = Instant::now();
                self.prune(now);
                self.pending.insert(digest(&ticket), ((user, session), now + self.ttl));
            }
            Some(redis) => redis.put(&digest(&ticket), (user, session), self.ttl).await.map_err(unavailable)?,
        }
        Ok(ticket)
    }

    /// Spends a ticket: its holder the first time, within its lifetime; `None` ever after.
    pub async fn redeem(&self, ticket: &str) -> ApiResult<Option<Holder>> {
        match &self.shared {
            None => Ok(self.redeem_local(ticket)),
            Some(redis) => redis.take(&digest(ticket)).await.map_err(unavailable),
        }
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

    fn redeem_local(&self, ticket: &str) -> Option<Holder> {
        let (_, (holder, expires)) = self.pending.remove(&digest(ticket))?;
        (expires > Instant::now()).then_some(holder)
    }
}

fn digest(ticket: &str) -> [u8; 32] {
    Sha256::digest(ticket.as_bytes()).into()
}

fn unavailable(e: redis::RedisError) -> ApiError {
    tracing::error!(error = %e, "WebSocket tickets: Redis failed");
    ApiError::new(Kind::Unavailable, ErrorCode::Unavailable, "service temporarily unavailable; retry")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn expired_tickets_are_dropped_once_a_ttl_has_passed() {
        let tickets = Tickets::new(Duration::from_millis(50));
        let first = tickets.issue(UserId(1), None).await.unwrap();
        tickets.issue(UserId(2), None).await.unwrap();
        assert_eq!(tickets.pending.len(), 2, "within a TTL nothing is walked");
        std::thread::sleep(Duration::from_millis(60));
        let fresh = tickets.issue(UserId(3), Some(SessionId(9))).await.unwrap();
        assert_eq!(tickets.pending.len(), 1, "the two expired tickets went, the fresh one stays");
        assert_eq!(tickets.redeem(&first).await.unwrap(), None);
        assert_eq!(tickets.redeem(&fresh).await.unwrap(), Some((UserId(3), Some(SessionId(9)))));
        assert_eq!(tickets.redeem(&fresh).await.unwrap(), None, "once only");
    }
}
