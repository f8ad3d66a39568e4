//! Readiness: whether this server should be sent traffic. Not ready once shutdown has begun (so
//! a load balancer stops sending before sockets close) or when the database does not answer a
//! cheap query in time.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parlor_store::Store;
use tokio_util::sync::CancellationToken;

use super::Metrics;

/// Longer than any healthy ping; short enough for a balancer's probe timeout.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct Health {
    store: Arc<dyn Store>,
    /// Cancelled when shutdown begins, before anything closes.
    draining: CancellationToken,
}

impl Health {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Health { store, draining: CancellationToken::new() }
    }

    /// From now on, readiness says no.
    pub fn start_draining(&self) {
        self.draining.cancel();
    }

    /// `Err` lists what is wrong, as stable snake_case reasons for the `/readyz` body.
    pub async fn check(&self, metrics: &Metrics) -> Result<(), Vec<&'static str>> {
        let mut reasons = Vec::new();
        if self.draining.is_cancelled() {
            reasons.push("shutting_down");
        }
        let started = Instant::now();
        match tokio::time::timeout(PING_TIMEOUT, self.store.ping()).await {
            Ok(Ok(())) => metrics.store_ping(started.elapsed()),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "readiness: the database is unavailable");
                reasons.push("database_unavailable");
            }
            Err(_) => {
                tracing::warn!(
                    timeout_ms = PING_TIMEOUT.as_millis() as u64,
                    "readiness: the database did not answer in time"
                );
                reasons.push("database_timeout");
            }
        }
        if reasons.is_empty() { Ok(()) } else { Err(reasons) }
    }
}
