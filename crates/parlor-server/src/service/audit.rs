//! `Audit`: the record of what admins, moderators and the server API did (issue #24), and its
//! retention sweep. Every audited action is recorded once, after it happened: server API
//! calls by `http::server_api::audited` (one entry per call made with the key), the in-app
//! admin and moderation actions by their handlers. Recording never fails the action it
//! records; a failure to record is logged as an error.

use std::sync::Arc;
use std::time::Duration;

use parlor_core::{Timestamp, UserId, ValidationError};
use parlor_store::{AuditEntry, AuditFilter, NewAuditEntry, Store};
use tokio_util::sync::CancellationToken;

use crate::error::ApiResult;

/// Entries shown when the caller names no limit, and the most it may ask for.
const PAGE_DEFAULT: u32 = 50;
const PAGE_MAX: u32 = 500;
/// Entries deleted per transaction by the retention sweep, so it never holds the writer long.
const SWEEP_BATCH: u32 = 1000;

/// `[audit]` in the configuration.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct AuditSettings {
    /// Entries older than this many days are deleted by the sweep; 0 keeps them forever.
    /// Fractions allowed, so tests can sweep within seconds.
    pub retention_days: f64,
}

/// Who acted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The host platform's backend, with the server's `api_key`.
    ApiKey,
    /// A signed-in user: a server admin, or a room's owner moderating it.
    User(UserId),
    /// parlor itself (sweeps).
    System,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::ApiKey => f.write_str("api_key"),
            Actor::User(id) => write!(f, "user:{id}"),
            Actor::System => f.write_str("system"),
        }
    }
}

/// One action to record.
#[derive(Debug, Clone)]
pub struct Record {
    pub actor: Actor,
    /// Dotted, `noun.verb`: `account.update`, `message.delete`.
    pub action: String,
    /// `kind:id`: `user:7`, `conversation:3`.
    pub target: Option<String>,
    pub request_id: Option<String>,
    /// A JSON object; never message content, tokens or passwords.
    pub details: Option<serde_json::Value>,
}

impl Record {
    pub fn new(actor: Actor, action: impl Into<String>) -> Self {
        Self { actor, action: action.into(), target: None, request_id: None, details: None }
    }

    pub fn target(mut self, kind: &str, id: impl std::fmt::Display) -> Self {
        self.target = Some(format!("{kind}:{id}"));
        self
    }

    pub fn request(mut self, id: Option<&crate::http::RequestId>) -> Self {
        self.request_id = id.map(|r| r.as_str().to_owned());
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }
}

/// What a reader asks for: `GET /api/server/audit`'s parameters, parsed.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub target: Option<String>,
    pub since: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub before: Option<i64>,
    pub limit: Option<u32>,
}

#[derive(Clone)]
pub struct Audit {
    store: Arc<dyn Store>,
    /// Entries older than this are swept; `None` keeps them forever.
    retention: Option<Duration>,
}

impl Audit {
    pub fn new(store: Arc<dyn Store>, settings: &AuditSettings) -> Self {
        let retention =
            (settings.retention_days > 0.0).then(|| Duration::from_secs_f64(settings.retention_days * 86_400.0));
        Self { store, retention }
    }

    /// Appends `record`, stamped now. Never fails the caller: the action already happened.
    pub async fn record(&self, record: Record) {
        let entry = NewAuditEntry {
            at: Timestamp::now(),
            actor: record.actor.to_string(),
            action: record.action,
            target: record.target,
            request_id: record.request_id,
            details: record.details.map(|d| d.to_string()),
        };
        if let Err(e) = self.store.record_audit(&entry).await {
            tracing::error!(error = %e, action = %entry.action, actor = %entry.actor, "could not record an audited action");
        }
    }

    /// A page of entries, newest first, and whether there are more.
    pub async fn page(&self, query: AuditQuery) -> ApiResult<(Vec<AuditEntry>, bool)> {
        let limit = match query.limit {
            None => PAGE_DEFAULT,
            Some(n @ 1..=PAGE_MAX) => n,
            Some(_) => return Err(ValidationError::new("limit", format!("must be 1 to {PAGE_MAX}")).into()),
        };
        if let (Some(since), Some(until)) = (query.since, query.until)
            && since >= until
        {
            return Err(ValidationError::new("until", "must be after `since`").into());
        }
        let filter = AuditFilter {
            actor: query.actor,
            action: query.action,
            target: query.target,
            since: query.since,
            until: query.until,
            before_id: query.before,
            limit: limit + 1,
        };
        let mut entries = self.store.audit_entries(&filter).await?;
        let more = entries.len() > limit as usize;
        entries.truncate(limit as usize);
        Ok((entries, more))
    }

    /// Deletes entries past `audit.retention_days`, a batch per transaction; returns how many.
    pub async fn sweep(&self) -> u64 {
        let Some(retention) = self.retention else { return 0 };
        let before = Timestamp::from_millis(
            Timestamp::now().as_millis().saturating_sub(i64::try_from(retention.as_millis()).unwrap_or(i64::MAX)),
        );
        let mut removed = 0;
        loop {
            match self.store.prune_audit(before, SWEEP_BATCH).await {
                Ok(n) => {
                    removed += n;
                    if n < u64::from(SWEEP_BATCH) {
                        return removed;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "audit log sweep failed");
                    return removed;
                }
            }
        }
    }

    /// Sweeps every `every` until shutdown.
    pub async fn sweep_every(self, every: Duration, shutdown: CancellationToken) {
        let mut ticker = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = ticker.tick() => {
                    let removed = self.sweep().await;
                    if removed > 0 {
                        tracing::info!(removed, "audit entries past retention removed");
                    }
                }
            }
        }
    }
}
