//! Configuration: one typed struct, loaded from the commented defaults embedded in the binary,
//! an optional file, `PARLOR_*` environment variables and command-line flags, in that order.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub use crate::secret::{MIN_SECRET_BYTES, Secret};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

pub use crate::rate_limit::RateLimitSettings;

/// The commented defaults, also printed by `parlor config`.
pub const DEFAULT_CONFIG: &str = include_str!("../config.default.toml");

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub log: String,
    pub jwt_secret: Secret,
    /// How the platform's tokens are shaped and signed (host-app mode).
    pub host_tokens: crate::auth::HostTokenSettings,
    pub host_users: HostUserSettings,
    pub auth: crate::auth::introspection::AuthSettings,
    pub compat: crate::compat::CompatSettings,
    pub api_key: Secret,
    pub token_secret: Secret,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_secs: i64,
    pub dm_policy: DmPolicy,
    pub allow_edit_delete: bool,
    pub storage_url: String,
    /// Empty: the embedded SQLite database under `data_dir`. `postgres://...`: PostgreSQL.
    pub database_url: Secret,
    /// Empty: one node. `redis://...`: events, presence, limits and tickets shared by all nodes.
    pub redis_url: Secret,
    pub sqlite_durability: SqliteDurability,
    pub attachments: AttachmentLimits,
    pub limits: Limits,
    pub http: HttpSettings,
    pub webhooks: WebhookSettings,
    pub push: crate::away::push::PushSettings,
    pub email: crate::away::email::EmailSettings,
    pub web: WebSettings,
    pub websocket: WebSocketSettings,
    pub rate_limits: RateLimitSettings,
    pub observability: ObservabilitySettings,
    pub database: DatabaseSettings,
    pub cluster: ClusterSettings,
    /// Voice and video calls: limits, ringing, ICE servers and TURN credentials.
    pub calls: crate::calls::CallSettings,
    pub privacy: crate::service::PrivacySettings,
    pub retention: crate::service::RetentionSettings,
    pub audit: crate::service::AuditSettings,
    pub transcripts: crate::transcript::TranscriptSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AttachmentLimits {
    pub max_upload_bytes: u64,
    pub max_image_pixels: u64,
    /// Bytes an image may take decoded (pixels x bytes per pixel).
    pub max_image_bytes: u64,
    /// Images decoded at once; more wait their turn.
    pub image_decodes: usize,
    pub thumbnail_size: u32,
    /// Fractions allowed, so tests can expire files within seconds.
    pub retention_days: f64,
    pub sweep_secs: u64,
    pub allowed_types: Vec<String>,
}

/// What an acknowledged message survives with the embedded SQLite store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SqliteDurability {
    /// fsync per commit batch: survives power loss.
    Full,
    /// No fsync per commit: survives a crash of parlor, not of the machine; much faster on slow disks.
    Normal,
}

impl From<SqliteDurability> for parlor_store_sqlite::Durability {
    fn from(d: SqliteDurability) -> Self {
        match d {
            SqliteDurability::Full => parlor_store_sqlite::Durability::Full,
            SqliteDurability::Normal => parlor_store_sqlite::Durability::Normal,
        }
    }
}

/// Who may start a direct conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DmPolicy {
    /// Any user with any user.
    Open,
    /// Only users with an accepted connection.
    Connections,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Limits {
    pub max_message_chars: usize,
    pub max_frame_bytes: usize,
    pub max_body_bytes: usize,
    pub send_queue: usize,
    pub page_size_default: u32,
    pub page_size_max: u32,
    pub replay_max: u32,
    /// Most conversations one `resume` frame may name.
    pub resume_max_conversations: usize,
    pub receipt_events_max_members: usize,
    pub heartbeat_secs: u64,
    pub presence_grace_ms: u64,
    pub presence_events_max_members: u32,
    pub notify_messages_max_members: usize,
}

/// The HTTP API beyond its routes: which browser pages on other origins may call it (CORS).
#[derive(Debug, Clone, Deserialize)]
pub struct HttpSettings {
    /// Exact origins allowed to call the API from a browser, or `["*"]` for any.
    pub cors_allowed_origins: Vec<String>,
    /// Whether those calls may carry cookies (`credentials: "include"`); never with `"*"`.
    pub cors_allow_credentials: bool,
}

impl HttpSettings {
    fn check(&self) -> Result<(), ConfigError> {
        let key = "http.cors_allowed_origins";
        let origins = &self.cors_allowed_origins;
        if let Some(bad) = origins.iter().find(|o| *o != "*" && !valid_origin(o)) {
            return Err(ConfigError(format!(
                "invalid setting `{key}`: `{bad}` is not an origin such as https://platform.example, nor \"*\""
            )));
        }
        let any = origins.iter().any(|o| o == "*");
        if any && origins.len() > 1 {
            return Err(ConfigError(format!("invalid setting `{key}`: \"*\" allows any origin: list it alone")));
        }
        if any && self.cors_allow_credentials {
            return Err(ConfigError(format!(
                "invalid setting `http.cors_allow_credentials`: credentials are never sent to any origin \
                 (`{key}` is \"*\"): list the origins instead"
            )));
        }
        Ok(())
    }
}

/// How webhook deliveries are made and retried. Milliseconds, so tests can retry in a blink.
/// `[host_users]`: asking the host platform who a user is (`crate::user_info`).
#[derive(Debug, Clone, Deserialize)]
pub struct HostUserSettings {
    /// With `{external_id}` in it; empty: never asked.
    pub user_info_url: String,
    /// The URL may be at a loopback, private or link-local address (`crate::outbound`).
    pub allow_private_targets: bool,
    pub timeout_ms: u64,
}

impl HostUserSettings {
    /// The outbound guard's settings for user-info requests.
    pub fn outbound(&self) -> crate::outbound::OutboundSettings {
        crate::outbound::OutboundSettings {
            setting: "host_users.allow_private_targets",
            allow_private_targets: self.allow_private_targets,
            timeout: std::time::Duration::from_millis(self.timeout_ms),
            user_agent: concat!("parlor-user-info/", env!("CARGO_PKG_VERSION")),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct WebhookSettings {
    /// Endpoints may be at loopback, private and link-local addresses (`crate::outbound`).
    pub allow_private_targets: bool,
    pub timeout_ms: u64,
    pub retry_initial_ms: u64,
    pub retry_max_ms: u64,
    pub poll_ms: u64,
    pub delivery_log_max: u32,
}

impl WebhookSettings {
    /// The outbound guard's settings for deliveries.
    pub fn outbound(&self) -> crate::outbound::OutboundSettings {
        crate::outbound::OutboundSettings {
            setting: "webhooks.allow_private_targets",
            allow_private_targets: self.allow_private_targets,
            timeout: std::time::Duration::from_millis(self.timeout_ms),
            user_agent: concat!("parlor-webhooks/", env!("CARGO_PKG_VERSION")),
        }
    }

    fn check(&self) -> Result<(), ConfigError> {
        let checks = [
            ("webhooks.timeout_ms", self.timeout_ms >= 1, "must be at least 1"),
            ("webhooks.retry_initial_ms", self.retry_initial_ms >= 1, "must be at least 1"),
            ("webhooks.retry_max_ms", self.retry_max_ms >= self.retry_initial_ms, "must be at least retry_initial_ms"),
            ("webhooks.poll_ms", self.poll_ms >= 10, "must be at least 10"),
            ("webhooks.delivery_log_max", self.delivery_log_max >= 1, "must be at least 1"),
        ];
        match checks.iter().find(|(_, ok, _)| !ok) {
            Some((key, _, why)) => Err(ConfigError(format!("invalid setting `{key}`: {why}"))),
            None => Ok(()),
        }
    }
}

/// The embedded web client.
#[derive(Debug, Clone, Deserialize)]
pub struct WebSettings {
    pub enabled: bool,
    /// Origins of host pages allowed to show the client in a frame (`frame-ancestors`).
    pub embed_origins: Vec<String>,
}

/// Who may open a WebSocket, and how: the `Origin` allow-list and one-time tickets.
#[derive(Debug, Clone, Deserialize)]
pub struct WebSocketSettings {
    /// Browser origins allowed besides parlor's own (the request's `Host`); `"*"` allows any.
    pub allowed_origins: Vec<String>,
    /// How long a ticket from `POST /api/auth/ws-ticket` can be redeemed.
    pub ticket_ttl_secs: u64,
}

impl WebSocketSettings {
    fn check(&self) -> Result<(), ConfigError> {
        if let Some(bad) = self.allowed_origins.iter().find(|o| *o != "*" && !valid_origin(o)) {
            return Err(ConfigError(format!(
                "invalid setting `websocket.allowed_origins`: `{bad}` is not an origin such as \
                 https://platform.example, nor \"*\""
            )));
        }
        if !(1..=300).contains(&self.ticket_ttl_secs) {
            return Err(ConfigError("invalid setting `websocket.ticket_ttl_secs`: must be 1 to 300".into()));
        }
        Ok(())
    }
}

/// Health checks, metrics and logs (docs/operations.md).
#[derive(Debug, Clone, Deserialize)]
pub struct ObservabilitySettings {
    /// Serve `/metrics`.
    pub metrics: bool,
    /// When set, `/metrics` requires it as a bearer token.
    pub metrics_token: Secret,
    pub log_format: LogFormat,
    /// How long `/readyz` says 503 before shutdown closes anything.
    pub shutdown_delay_ms: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The database, beyond `database_url` and `sqlite_durability`.
#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// SQLite: how long a write waits for another process's lock on the database before the
    /// request fails with 503 `unavailable`.
    pub busy_timeout_ms: u64,
    /// PostgreSQL: connections this node keeps open at most, a quarter of them the batch
    /// writer's lanes.
    pub max_connections: u32,
}

/// Several nodes sharing Redis (`redis_url`): leases and how often nodes look at each other.
/// Read only when `redis_url` is set.
#[derive(Debug, Clone, Deserialize)]
pub struct ClusterSettings {
    /// How long a node's lease lasts unrenewed (renewed every third of it); a node that dies
    /// takes its users' presence with it within this plus `sync_ms`.
    pub node_lease_secs: u64,
    /// How often a node looks for nodes whose lease ran out and refreshes its copy of who is
    /// connected anywhere.
    pub sync_ms: u64,
    /// How long the node delivering webhooks holds that role unrenewed; another takes over
    /// within it after a crash.
    pub leader_lease_secs: u64,
    /// How long one Redis command may take before it counts as failed.
    pub redis_timeout_ms: u64,
}

/// Settings given as flags; `None` leaves the lower layers' value.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

impl Config {
    /// Defaults < `file` < `PARLOR_*` environment < `overrides`.
    pub fn load(file: Option<&Path>, overrides: Overrides) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Toml::string(DEFAULT_CONFIG));
        if let Some(file) = file {
            if !file.exists() {
                return Err(ConfigError(format!("config file {} does not exist", file.display())));
            }
            figment = figment.merge(Toml::file(file));
        }
        let figment = figment
            .merge(Env::prefixed("PARLOR_").split("__").ignore(&["config"]))
            .merge(Serialized::defaults(overrides));
        let config: Config = figment.extract().map_err(|e| ConfigError(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Defaults only, with the given overrides: what tests and embedders start from.
    pub fn defaults() -> Config {
        // The embedded defaults are checked by a unit test, so this cannot fail at run time.
        Figment::from(Toml::string(DEFAULT_CONFIG)).extract().unwrap_or_else(|e| unreachable!("embedded defaults: {e}"))
    }

    fn validate(&self) -> Result<(), ConfigError> {
        self.webhooks.check()?;
        self.push.check()?;
        self.email.check()?;
        self.http.check()?;
        self.auth.check().and_then(|()| self.compat.check())?;
        self.host_tokens.key_source(&self.jwt_secret)?;
        self.websocket.check()?;
        self.rate_limits.check()?;
        self.calls.check()?;
        self.retention.check()?;
        self.privacy.check()?;
        if let Some(bad) = self.web.embed_origins.iter().find(|o| !valid_origin(o)) {
            return Err(ConfigError(format!(
                "invalid setting `web.embed_origins`: `{bad}` is not an origin such as https://platform.example"
            )));
        }
        self.check_scale_out()?;
        self.check_secret_lengths()?;
        let l = &self.limits;
        let a = &self.attachments;
        let c = &self.cluster;
        let pool = parlor_store_postgres::MIN_CONNECTIONS..=1000;
        let checks: [(&str, bool, &str); 20] = [
            ("attachments.max_upload_bytes", a.max_upload_bytes >= 1, "must be at least 1"),
            ("attachments.thumbnail_size", (16..=2048).contains(&a.thumbnail_size), "must be 16 to 2048"),
            ("attachments.max_image_bytes", a.max_image_bytes >= 1 << 20, "must be at least 1 MiB"),
            ("attachments.image_decodes", a.image_decodes >= 1, "must be at least 1"),
            ("attachments.retention_days", a.retention_days >= 0.0, "must not be negative"),
            ("attachments.sweep_secs", a.sweep_secs >= 1, "must be at least 1"),
            ("audit.retention_days", self.audit.retention_days >= 0.0, "must not be negative"),
            ("access_token_ttl_secs", self.access_token_ttl_secs >= 10, "must be at least 10"),
            ("refresh_token_ttl_secs", self.refresh_token_ttl_secs >= 60, "must be at least 60"),
            ("limits.max_message_chars", (1..=1_000_000).contains(&l.max_message_chars), "must be 1 to 1000000"),
            ("limits.max_frame_bytes", (1024..=16 << 20).contains(&l.max_frame_bytes), "must be 1 KiB to 16 MiB"),
            ("limits.send_queue", l.send_queue >= 8, "must be at least 8"),
            (
                "limits.page_size_max",
                l.page_size_max >= 1 && l.page_size_default >= 1 && l.page_size_default <= l.page_size_max,
                "page sizes must be at least 1, default <= max",
            ),
            ("limits.heartbeat_secs", l.heartbeat_secs >= 1, "must be at least 1"),
            ("limits.resume_max_conversations", l.resume_max_conversations >= 1, "must be at least 1"),
            ("cluster.node_lease_secs", c.node_lease_secs >= 1, "must be at least 1"),
            ("cluster.sync_ms", c.sync_ms >= 10, "must be at least 10"),
            ("cluster.leader_lease_secs", c.leader_lease_secs >= 1, "must be at least 1"),
            ("cluster.redis_timeout_ms", c.redis_timeout_ms >= 1, "must be at least 1"),
            ("database.max_connections", pool.contains(&self.database.max_connections), "must be 4 to 1000"),
        ];
        match checks.iter().find(|(_, ok, _)| !ok) {
            Some((key, _, why)) => Err(ConfigError(format!("invalid setting `{key}`: {why}"))),
            None => Ok(()),
        }
    }
}

/// `scheme://host[:port]` and nothing else: the value goes into a CSP header verbatim.
fn valid_origin(origin: &str) -> bool {
    let Some((scheme, host)) = origin.split_once("://") else { return false };
    matches!(scheme, "http" | "https")
        && !host.is_empty()
        && host.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

impl ConfigError {
    /// A validation error; `why` names the setting.
    pub(crate) fn new(why: impl Into<String>) -> Self {
        Self(why.into())
    }
}

impl Config {
    /// Secrets that are set must be long enough to resist guessing; unset ones are fine
    /// (`token_secret` is then generated, `jwt_secret` and `api_key` turn their feature off).
    fn check_secret_lengths(&self) -> Result<(), ConfigError> {
        let secrets = [
            (
                "jwt_secret",
                &self.jwt_secret,
                "anyone holding a token signed with it could brute-force it offline and sign tokens for any user",
            ),
            (
                "token_secret",
                &self.token_secret,
                "anyone holding one of parlor's tokens could brute-force it offline and sign tokens for any user",
            ),
            ("api_key", &self.api_key, "it guards the server API, which acts for every user"),
        ];
        for (key, secret, why) in secrets {
            if let Some(value) = secret.get()
                && value.len() < MIN_SECRET_BYTES
            {
                return Err(ConfigError(format!(
                    "invalid setting `{key}`: it is {} bytes long and must be at least {MIN_SECRET_BYTES}: {why} \
                     (e.g. `openssl rand -hex 32`)",
                    value.len()
                )));
            }
        }
        Ok(())
    }

    /// Several nodes need a database and attachment storage they all share.
    fn check_scale_out(&self) -> Result<(), ConfigError> {
        let bad = |why: &str| Err(ConfigError(why.to_owned()));
        if let Some(url) = self.database_url.get()
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return bad("invalid setting `database_url`: expected empty (SQLite) or postgres://...");
        }
        let Some(url) = self.redis_url.get() else { return Ok(()) };
        if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
            return bad("invalid setting `redis_url`: expected empty or redis://host:port");
        }
        if self.database_url.get().is_none() {
            return bad("invalid setting `redis_url`: several nodes need a shared database: set `database_url` too");
        }
        if self.token_secret.get().is_none() {
            return bad(
                "invalid setting `redis_url`: every node must sign tokens with the same key: set `token_secret` too",
            );
        }
        if self.storage_url.is_empty() {
            return bad(
                "invalid setting `redis_url`: several nodes need shared attachment storage: set `storage_url` \
                 (s3://... or file:///shared/dir)",
            );
        }
        // A browser subscribes through one node; a push signed by another node's own key is
        // refused by the push service, so each node making its own key breaks push silently.
        if self.push.enabled && self.push.vapid_private_key.get().is_none() {
            return bad("invalid setting `redis_url`: every node must sign Web Push with the same key: set \
                 `push.vapid_private_key` too (or `push.enabled = false`)");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_nodes_need_shared_database_storage_and_secrets() {
        let mut config = Config::defaults();
        config.redis_url = Secret::new("redis://127.0.0.1:6379");
        let why = |c: &Config| c.validate().err().map(|e| e.0).unwrap_or_default();
        assert!(why(&config).contains("set `database_url`"), "{}", why(&config));
        config.database_url = Secret::new("mysql://elsewhere");
        assert!(why(&config).contains("expected empty (SQLite) or postgres://"), "{}", why(&config));
        config.database_url = Secret::new("postgres://db/parlor");
        assert!(why(&config).contains("set `token_secret`"), "{}", why(&config));
        config.token_secret = Secret::new("shared by every node, 32 bytes at least");
        assert!(why(&config).contains("set `storage_url`"), "{}", why(&config));
        config.storage_url = "file:///mnt/shared".into();
        assert!(why(&config).contains("set `push.vapid_private_key`"), "{}", why(&config));
        config.push.enabled = false;
        assert!(config.validate().is_ok());
        config.push.enabled = true;
        config.push.vapid_private_key = Secret::new("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE");
        assert!(config.validate().is_ok());
        config.redis_url = Secret::new("http://nope");
        assert!(why(&config).contains("expected empty or redis://"), "{}", why(&config));
    }

    #[test]
    fn embedded_defaults_parse_and_validate() {
        let config = Config::defaults();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8080");
        assert!(config.validate().is_ok());
    }

    #[test]
    fn secrets_that_look_like_numbers_stay_text() {
        let figment = Figment::from(Toml::string(DEFAULT_CONFIG)).merge(Toml::string("jwt_secret = 12345"));
        let config: Config = figment.extract().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(config.jwt_secret.get(), Some("12345"));
    }

    #[test]
    fn websocket_origins_must_be_origins_or_a_star() {
        let mut config = Config::defaults();
        config.websocket.allowed_origins = vec!["*".into(), "https://platform.example:8443".into()];
        assert!(config.validate().is_ok());
        config.websocket.allowed_origins = vec!["platform.example/path".into()];
        let error = config.validate().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(error.contains("websocket.allowed_origins"), "{error}");
    }

    #[test]
    fn cors_origins_are_exact_and_any_origin_never_gets_credentials() {
        let mut config = Config::defaults();
        let why = |c: &Config| c.validate().err().map(|e| e.to_string()).unwrap_or_default();
        config.http.cors_allowed_origins = vec!["https://platform.example".into(), "http://127.0.0.1:3000".into()];
        config.http.cors_allow_credentials = true;
        assert!(config.validate().is_ok());
        config.http.cors_allowed_origins = vec!["https://platform.example/".into()];
        assert!(why(&config).contains("`https://platform.example/` is not an origin"), "{}", why(&config));
        config.http.cors_allowed_origins = vec!["*".into()];
        assert!(why(&config).contains("http.cors_allow_credentials"), "{}", why(&config));
        config.http.cors_allow_credentials = false;
        assert!(config.validate().is_ok());
        config.http.cors_allowed_origins = vec!["*".into(), "https://platform.example".into()];
        assert!(why(&config).contains("list it alone"), "{}", why(&config));
    }

    #[test]
    fn a_rate_limit_without_a_burst_is_refused_by_name() {
        let figment = Figment::from(Toml::string(DEFAULT_CONFIG))
            .merge(Toml::string("[rate_limits]\nuploads = { per_minute = 5, burst = 0 }"));
        let config: Config = figment.extract().unwrap_or_else(|e| panic!("{e}"));
        let refused = config.validate().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(refused.contains("rate_limits.uploads"), "{refused}");
    }

    #[test]
    fn the_postgres_pool_leaves_the_batch_writer_room() {
        let mut config = Config::defaults();
        assert_eq!(config.database.max_connections, 16, "the default");
        config.database.max_connections = 3;
        let refused = config.validate().err().map(|e| e.to_string()).unwrap_or_default();
        assert!(refused.contains("`database.max_connections`: must be 4 to 1000"), "{refused}");
        config.database.max_connections = 4;
        assert!(config.validate().is_ok());
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let shown = format!("{:?}", Secret::new("hunter2"));
        assert!(!shown.contains("hunter2"));
    }
}
