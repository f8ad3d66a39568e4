//! `Privacy`: the data rights (docs/privacy.md). A person erases their account
//! (`erasure.rs`) or takes a copy of their data (`export.rs`: requests and the background
//! worker; `archive.rs`: what goes in the zip); conversations keep messages only as long as
//! the server's and their own retention say, unless a legal hold keeps everything
//! (`retention.rs`).

mod archive;
mod erasure;
mod export;
mod retention;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use parlor_store::{ErasureMode, Store};
use serde::Deserialize;

use super::{Attachments, Conversations, Notifications};
use crate::auth::Passwords;
use crate::blob::Blobs;
use crate::bus::Hub;
use crate::config::ConfigError;

/// `[privacy]` and `[retention]` of the configuration.
#[derive(Debug, Clone, Deserialize)]
pub struct PrivacySettings {
    /// What erasing an account does to its messages.
    pub erasure: ErasureSetting,
    /// Exports a person may request in 24 hours (failed ones count).
    pub export_per_day: u32,
    /// The most an archive may hold, in bytes of its files before compression.
    pub export_max_bytes: u64,
    /// How long a ready archive stays, in hours (fractions allowed).
    pub export_expiry_hours: f64,
    /// The longest one run of an export may take, in seconds.
    pub export_timeout_secs: u64,
    /// How often each node looks for exports to build or expire, in seconds (fractions allowed).
    pub export_sweep_secs: f64,
}

impl PrivacySettings {
    pub fn check(&self) -> Result<(), ConfigError> {
        let checks = [
            ("privacy.export_per_day", (1..=1000).contains(&self.export_per_day), "must be 1 to 1000"),
            ("privacy.export_max_bytes", self.export_max_bytes >= 1024, "must be at least 1024"),
            (
                "privacy.export_expiry_hours",
                self.export_expiry_hours > 0.0 && self.export_expiry_hours <= 24.0 * 365.0,
                "must be more than 0 and at most 8760",
            ),
            ("privacy.export_timeout_secs", (1..=86_400).contains(&self.export_timeout_secs), "must be 1 to 86400"),
            ("privacy.export_sweep_secs", self.export_sweep_secs >= 0.05, "must be at least 0.05"),
        ];
        match checks.iter().find(|(_, ok, _)| !ok) {
            Some((key, _, why)) => Err(ConfigError::new(format!("invalid setting `{key}`: {why}"))),
            None => Ok(()),
        }
    }
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
    /// What a person may read, as they may see it (a former member's view), for an export.
    conversations: Conversations,
    /// Erased and swept messages' files go with them.
    attachments: Attachments,
    /// `export_ready` notifications.
    notifications: Notifications,
    /// Where export archives are kept until they expire.
    blobs: Blobs,
    passwords: Passwords,
    mode: ErasureMode,
    retention: RetentionSettings,
    exports: ExportSettings,
    /// Woken when this node takes an export request, so its worker starts at once.
    export_requested: Arc<tokio::sync::Notify>,
}

/// `privacy.export_*`, in the units the export code uses.
#[derive(Debug, Clone)]
struct ExportSettings {
    per_day: u32,
    max_bytes: u64,
    expiry: Duration,
    timeout: Duration,
    sweep: Duration,
    /// Where archives are written before they go to blob storage (`<data_dir>/exports`).
    scratch: PathBuf,
}

impl Privacy {
    #[expect(clippy::too_many_arguments, reason = "each dependency named at its one call, in `Server::bind`")]
    pub fn new(
        store: Arc<dyn Store>,
        hub: Hub,
        conversations: Conversations,
        attachments: Attachments,
        notifications: Notifications,
        blobs: Blobs,
        passwords: Passwords,
        privacy: &PrivacySettings,
        retention: &RetentionSettings,
        data_dir: &std::path::Path,
    ) -> Self {
        let mode = match privacy.erasure {
            ErasureSetting::Delete => ErasureMode::Delete,
            ErasureSetting::Anonymize => ErasureMode::Anonymize,
        };
        let exports = ExportSettings {
            per_day: privacy.export_per_day,
            max_bytes: privacy.export_max_bytes,
            expiry: Duration::from_secs_f64(privacy.export_expiry_hours * 3600.0),
            timeout: Duration::from_secs(privacy.export_timeout_secs),
            sweep: Duration::from_secs_f64(privacy.export_sweep_secs),
            scratch: data_dir.join("exports"),
        };
        Self {
            store,
            hub,
            conversations,
            attachments,
            notifications,
            blobs,
            passwords,
            mode,
            retention: retention.clone(),
            exports,
            export_requested: Arc::default(),
        }
    }
}
