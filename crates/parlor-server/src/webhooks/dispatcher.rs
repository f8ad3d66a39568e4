//! The dispatcher: one task per endpoint, each walking the outbox from its durable cursor. An
//! endpoint gets its events one at a time, in outbox order; a failed attempt is retried (with
//! backoff) before anything after it is sent, so events arrive in order. Tasks share nothing but
//! the store and the HTTP client, so one endpoint being down never delays another.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parlor_core::{EventType, Timestamp, Webhook, WebhookId};
use parlor_protocol::{NotificationHook, UserDeletedHook, WebhookPayload};
use parlor_store::{NewDelivery, OutboxEntry, OutboxItem, Store, StoreError};
use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::delivery;
use super::retry::Backoff;

/// How long a stopping endpoint task waits for a delivery attempt already under way.
const IN_FLIGHT_GRACE: Duration = Duration::from_secs(2);
use crate::config::WebhookSettings;
use crate::outbound::Outbound;

/// Outbox entries an endpoint takes at a time.
const BATCH: u32 = 100;
/// Endpoints are reloaded this many poll intervals apart even when no change was announced.
const RELOAD_POLLS: u32 = 12;

#[derive(Clone)]
pub struct Dispatcher {
    shared: Arc<Shared>,
    /// Poked by the webhooks service when an endpoint is created or deleted.
    endpoints_changed: Arc<Notify>,
}

/// What every endpoint task uses.
struct Shared {
    store: Arc<dyn Store>,
    /// Checks every endpoint's address before each attempt and at each connection.
    client: Outbound,
    settings: WebhookSettings,
    /// Changes whenever the hub published a logged event.
    published: watch::Receiver<u64>,
}

/// How an attempt at one entry ended.
enum Step {
    Delivered,
    /// Shutdown, or the endpoint was deleted.
    Stop,
}

impl Dispatcher {
    pub fn new(
        store: Arc<dyn Store>,
        client: Outbound,
        settings: &WebhookSettings,
        published: watch::Receiver<u64>,
        endpoints_changed: Arc<Notify>,
    ) -> Self {
        let shared = Shared { store, client, settings: settings.clone(), published };
        Self { shared: Arc::new(shared), endpoints_changed }
    }

    /// Runs until `shutdown`: keeps one task per endpoint, then stops them all and waits. An
    /// attempt in flight at shutdown is abandoned; its event is sent again after a restart.
    pub async fn run(self, shutdown: CancellationToken) {
        let tasks = TaskTracker::new();
        let mut running: HashMap<WebhookId, CancellationToken> = HashMap::new();
        let reload_every = Duration::from_millis(self.shared.settings.poll_ms).saturating_mul(RELOAD_POLLS);
        loop {
            match self.shared.store.webhooks().await {
                Ok(hooks) => {
                    running.retain(|id, stop| {
                        let keep = hooks.iter().any(|h| h.id == *id) && !stop.is_cancelled();
                        if !keep {
                            stop.cancel();
                        }
                        keep
                    });
                    for hook in hooks {
                        if running.contains_key(&hook.id) {
                            continue;
                        }
                        let stop = shutdown.child_token();
                        running.insert(hook.id, stop.clone());
                        let endpoint = Endpoint { shared: self.shared.clone(), hook, stop };
                        tasks.spawn(endpoint.run());
                    }
                }
                Err(StoreError::Unavailable) => break,
                Err(e) => tracing::error!(error = %e, "webhook endpoints could not be loaded"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = self.endpoints_changed.notified() => {}
                _ = tokio::time::sleep(reload_every) => {}
            }
        }
        for stop in running.values() {
            stop.cancel();
        }
        tasks.close();
        tasks.wait().await;
    }
}

/// One endpoint's delivery loop.
struct Endpoint {
    shared: Arc<Shared>,
    hook: Webhook,
    /// Cancelled on shutdown and when the endpoint is deleted.
    stop: CancellationToken,
}

impl Endpoint {
    async fn run(self) {
        // However this ends, the dispatcher sees the token cancelled and may start it afresh.
        let _ended = self.stop.clone().drop_guard();
        let store = self.shared.store.clone();
        let mut published = self.shared.published.clone();
        let mut cursor = self.hook.cursor;
        tracing::debug!(webhook_id = %self.hook.id, cursor = %cursor, "webhook endpoint started");
        loop {
            // Marked seen before reading, so an event committed after the read still wakes us.
            published.borrow_and_update();
            let batch = match store.outbox_after(cursor, BATCH).await {
                Ok(batch) => batch,
                Err(StoreError::Unavailable) => return,
                Err(e) => {
                    tracing::error!(error = %e, webhook_id = %self.hook.id, "webhook outbox could not be read");
                    if self.pause(self.poll()).await {
                        return;
                    }
                    continue;
                }
            };
            if batch.is_empty() {
                if self.idle(&mut published).await {
                    return;
                }
                continue;
            }
            let mut skipped = None;
            for entry in &batch {
                let Some(event_type) = entry.item.event_type().filter(|t| self.hook.wants(*t)) else {
                    skipped = Some(entry.id);
                    continue;
                };
                match self.deliver(entry, event_type).await {
                    Step::Delivered => (cursor, skipped) = (entry.id, None),
                    Step::Stop => return,
                }
            }
            // Unwanted entries at the end of the batch: recorded, so pruning can pass them.
            if let Some(to) = skipped {
                cursor = to;
                match store.advance_webhook(self.hook.id, to).await {
                    Ok(()) => {}
                    Err(StoreError::NotFound | StoreError::Unavailable) => return,
                    Err(e) => tracing::error!(error = %e, webhook_id = %self.hook.id, "webhook cursor not saved"),
                }
            }
        }
    }

    /// Sends one entry until the endpoint answers 2xx, retrying with backoff.
    async fn deliver(&self, entry: &OutboxEntry, event_type: EventType) -> Step {
        let payload = match &entry.item {
            OutboxItem::Event(event) => WebhookPayload::new(entry.id, event_type, event),
            OutboxItem::Notification(queued) => match serde_json::from_str::<NotificationHook>(&queued.data) {
                Ok(hook) => WebhookPayload::notification(entry.id, queued.at, hook),
                // Written by this server's own notifications service; one it cannot read again
                // (a later version's) is passed over rather than retried forever.
                Err(e) => {
                    tracing::error!(error = %e, outbox_id = %entry.id, "notification webhook entry unreadable; skipped");
                    return Step::Delivered;
                }
            },
            OutboxItem::UserDeleted(queued) => match serde_json::from_str::<UserDeletedHook>(&queued.data) {
                Ok(hook) => WebhookPayload::user_deleted(entry.id, queued.at, hook),
                Err(e) => {
                    tracing::error!(error = %e, outbox_id = %entry.id, "user.deleted webhook entry unreadable; skipped");
                    return Step::Delivered;
                }
            },
        };
        // Serializing wire types cannot fail: no maps with non-string keys, no custom errors.
        let body = Bytes::from(serde_json::to_vec(&payload).unwrap_or_default());
        let settings = &self.shared.settings;
        let mut backoff = Backoff::new(
            Duration::from_millis(settings.retry_initial_ms),
            Duration::from_millis(settings.retry_max_ms),
        );
        let mut attempt: u32 = 1;
        loop {
            let at = Timestamp::now();
            let sent = delivery::post(&self.shared.client, &self.hook, entry.id, event_type, body.clone());
            tokio::pin!(sent);
            let outcome = tokio::select! {
                outcome = &mut sent => outcome,
                // An attempt under way may already have reached the endpoint: give it a moment to
                // finish and be recorded, so a shutdown does not make it a duplicate.
                _ = self.stop.cancelled() => match tokio::time::timeout(IN_FLIGHT_GRACE, &mut sent).await {
                    Ok(outcome) => outcome,
                    Err(_) => return Step::Stop,
                },
            };
            let record = NewDelivery {
                webhook: self.hook.id,
                outbox_id: entry.id,
                event_type,
                attempt,
                status: outcome.status,
                error: outcome.error,
                duration_ms: u64::try_from(outcome.took.as_millis()).unwrap_or(u64::MAX),
                at,
            };
            match self.shared.store.record_delivery(&record).await {
                Ok(()) => {}
                Err(StoreError::NotFound | StoreError::Unavailable) => return Step::Stop,
                // Delivered but not recorded: the cursor in memory moves on; a restart before
                // the next recorded delivery sends it again, which receivers dedupe.
                Err(e) => tracing::error!(error = %e, webhook_id = %self.hook.id, "webhook delivery not recorded"),
            }
            if record.succeeded() {
                return Step::Delivered;
            }
            tracing::warn!(
                webhook_id = %self.hook.id,
                outbox_id = %entry.id,
                attempt,
                status = record.status,
                error = record.error.as_deref(),
                "webhook delivery failed; will retry"
            );
            if self.pause(backoff.delay()).await {
                return Step::Stop;
            }
            attempt = attempt.saturating_add(1);
        }
    }

    /// Waits until an event is published or a poll interval passes; true on stop.
    async fn idle(&self, published: &mut watch::Receiver<u64>) -> bool {
        tokio::select! {
            _ = self.stop.cancelled() => true,
            // An error means the hub is gone; the poll still runs.
            changed = published.changed() => changed.is_err() && self.pause(self.poll()).await,
            _ = tokio::time::sleep(self.poll()) => false,
        }
    }

    /// Sleeps for `delay`; true if stopped meanwhile.
    async fn pause(&self, delay: Duration) -> bool {
        tokio::select! {
            _ = self.stop.cancelled() => true,
            _ = tokio::time::sleep(delay) => false,
        }
    }

    fn poll(&self) -> Duration {
        Duration::from_millis(self.shared.settings.poll_ms)
    }
}
