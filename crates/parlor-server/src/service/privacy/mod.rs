//! `Privacy`: the data rights (docs/privacy.md). A person erases their account
//! (`erasure.rs`); conversations keep messages only as long as the server's and their own
//! retention say, unless a legal hold keeps everything (`retention.rs`).

mod erasure;
mod retention;

use std::sync::Arc;

use parlor_store::{ErasureMode, Store};
use serde::Deserialize;

use super::Chat;
use crate::auth::Passwords;
use crate::bus::Hub;
use crate::config::ConfigError;

/// `[privacy]` and `[retention]` of the configuration.
#[derive(Debug, Clone, Deserialize)]
pub struct PrivacySettings {
    /// What erasing an account does to its messages.
    pub erasure: ErasureSetting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErasureSetting {
    Delete,
    Anonymize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RetentionSettings {
    /// Messages older than this many days are erased everywhere; 0 keeps them. Fractions
    /// allowed, so tests can sweep within seconds.
    pub messages_days: f64,
    /// How often the sweeper looks, in seconds.
    pub sweep_secs: f64,
    /// Messages erased per transaction: small, so a sweep never holds writes back for long.
    pub batch: u32,
}

impl RetentionSettings {
    pub fn check(&self) -> Result<(), ConfigError> {
        let checks = [
            ("retention.messages_days", self.messages_days >= 0.0, "must not be negative"),
            ("retention.sweep_secs", self.sweep_secs >= 0.05, "must be at least 0.05"),
            ("retention.batch", (1..=10_000).contains(&self.batch), "must be 1 to 10000"),
        ];
        match checks.iter().find(|(_, ok, _)| !ok) {
            Some((key, _, why)) => Err(ConfigError::new(format!("invalid setting `{key}`: {why}"))),
            None => Ok(()),
        }
    }
}

#[derive(Clone)]
pub struct Privacy {
    store: Arc<dyn Store>,
    hub: Hub,
    /// For its attachment files and the events it publishes.
    chat: Chat,
    passwords: Passwords,
    mode: ErasureMode,
    retention: RetentionSettings,
}

impl Privacy {
    pub fn new(
        store: Arc<dyn Store>,
        hub: Hub,
        chat: Chat,
        passwords: Passwords,
        privacy: &PrivacySettings,
        retention: &RetentionSettings,
    ) -> Self {
        let mode = match privacy.erasure {
            ErasureSetting::Delete => ErasureMode::Delete,
            ErasureSetting::Anonymize => ErasureMode::Anonymize,
        };
        Self { store, hub, chat, passwords, mode, retention: retention.clone() }
    }
}
