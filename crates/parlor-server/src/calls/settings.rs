//! `[calls]` settings (docs/calls.md): how large a call may be, how long it rings, how large a
//! signal may be, and the ICE servers (with the TURN secret) clients are given.

use serde::Deserialize;

use crate::config::{ConfigError, MIN_SECRET_BYTES, Secret};

#[derive(Debug, Clone, Deserialize)]
pub struct CallSettings {
    /// Most people in one call, caller included (a full mesh; larger calls need an SFU).
    pub max_participants: usize,
    pub ring_timeout_secs: u64,
    /// Largest `data` of one `call_signal`.
    pub max_signal_bytes: usize,
    /// `stun:`, `turn:` and `turns:` URLs for clients.
    pub ice_servers: Vec<String>,
    /// coturn's `static-auth-secret`; empty: TURN URLs are given without credentials.
    pub turn_secret: Secret,
    pub turn_ttl_secs: u64,
}

impl CallSettings {
    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        let bad = |key: &str, why: &str| Err(ConfigError::new(format!("invalid setting `calls.{key}`: {why}")));
        if !(2..=16).contains(&self.max_participants) {
            return bad("max_participants", "must be 2 to 16 (larger calls need an SFU)");
        }
        if !(1..=600).contains(&self.ring_timeout_secs) {
            return bad("ring_timeout_secs", "must be 1 to 600");
        }
        if !(1024..=1 << 20).contains(&self.max_signal_bytes) {
            return bad("max_signal_bytes", "must be 1 KiB to 1 MiB");
        }
        if let Some(url) = self.ice_servers.iter().find(|u| super::ice::scheme(u).is_none()) {
            let shown: String = url.chars().take(64).collect();
            return bad("ice_servers", &format!("`{shown}` is not a stun:, turn: or turns: URL"));
        }
        if self.turn_secret.get().is_some_and(|s| s.len() < MIN_SECRET_BYTES) {
            return bad("turn_secret", &format!("must be at least {MIN_SECRET_BYTES} bytes"));
        }
        if !(60..=7 * 86400).contains(&self.turn_ttl_secs) {
            return bad("turn_ttl_secs", "must be 60 to 604800");
        }
        Ok(())
    }
}
