//! `[push]`: the Web Push settings (commented in `config.default.toml`, docs/notifications.md).

use serde::Deserialize;

use crate::config::ConfigError;
use crate::secret::Secret;

/// Web Push (docs/notifications.md).
#[derive(Debug, Clone, Deserialize)]
pub struct PushSettings {
    /// Off: no push is sent and `/api/push/...` answers 404.
    pub enabled: bool,
    /// The VAPID `sub` claim: a `mailto:` or `https:` contact for push services' operators.
    pub subject: String,
    /// base64url of a P-256 private key (32 bytes); empty: one made at first start in the data dir.
    pub vapid_private_key: Secret,
    /// How long a push waits (folding later ones of the conversation in) and is dropped if the
    /// conversation is read meanwhile.
    pub delay_ms: u64,
    /// false: the body is "New message", never the message's text.
    pub include_content: bool,
    /// The `TTL` header: seconds a push service keeps a push for a device that is offline.
    pub ttl_secs: u64,
    pub allow_private_targets: bool,
    pub timeout_ms: u64,
    /// Notices waiting for the queue; more are dropped (and counted).
    pub queue: usize,
    /// Deliveries (with their retries) running at once; a notice finding none free is dropped.
    pub concurrency: usize,
    /// Attempts per subscription and notice (429, 5xx and network errors are retried).
    pub max_attempts: u32,
    pub retry_initial_ms: u64,
    pub retry_max_ms: u64,
}

impl PushSettings {
    /// The outbound guard's settings for push endpoints.
    pub fn outbound(&self) -> crate::outbound::OutboundSettings {
        crate::outbound::OutboundSettings {
            setting: "push.allow_private_targets",
            allow_private_targets: self.allow_private_targets,
            timeout: std::time::Duration::from_millis(self.timeout_ms),
            user_agent: concat!("parlor-push/", env!("CARGO_PKG_VERSION")),
        }
    }

    pub(crate) fn check(&self) -> Result<(), ConfigError> {
        let subject_ok = self.subject.starts_with("mailto:") || self.subject.starts_with("https://");
        let checks = [
            ("push.subject", subject_ok, "must be a mailto: or https: URL"),
            ("push.timeout_ms", self.timeout_ms >= 1, "must be at least 1"),
            ("push.queue", self.queue >= 1, "must be at least 1"),
            ("push.concurrency", self.concurrency >= 1, "must be at least 1"),
            ("push.max_attempts", self.max_attempts >= 1, "must be at least 1"),
            ("push.retry_initial_ms", self.retry_initial_ms >= 1, "must be at least 1"),
            ("push.retry_max_ms", self.retry_max_ms >= self.retry_initial_ms, "must be at least retry_initial_ms"),
            ("push.ttl_secs", self.ttl_secs <= 28 * 24 * 3600, "must be at most 4 weeks"),
        ];
        match checks.iter().find(|(_, ok, _)| !ok) {
            Some((key, _, why)) => Err(ConfigError::new(format!("invalid setting `{key}`: {why}"))),
            None => Ok(()),
        }
    }
}
