//! Web Push (RFC 8030), the channel to browsers whose tab is closed: subscriptions the user
//! registers, a VAPID key (`vapid.rs`, RFC 8292), payloads encrypted for each browser
//! (`encrypt.rs`, RFC 8291) and the bounded queue that delivers them (`sender.rs`).
//!
//! Endpoints are URLs a client chose: registration vets them with the outbound-address guard
//! (`push.allow_private_targets`) and every delivery checks them again (`crate::outbound`).

mod encrypt;
mod sender;
mod settings;
mod vapid;

use std::path::Path;
use std::sync::Arc;

use parlor_core::{ConversationId, UserId, ValidationError};
use parlor_store::{NewPushSubscription, PushSubscription, Store, StoreError};
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use super::{Channel, ChannelKind, Notice, Ring, Rules};
use crate::error::{ApiError, ApiResult};
use crate::observability::PushMetrics;
use crate::outbound::Outbound;
use encrypt::BrowserKeys;
use sender::{Job, Sender};
pub use settings::PushSettings;
use vapid::Vapid;

/// Subscriptions one user may keep (browsers and devices); registering past it is refused.
const MAX_SUBSCRIPTIONS_PER_USER: usize = 20;
/// Longest endpoint URL accepted (push services use a few hundred bytes).
const MAX_ENDPOINT_BYTES: usize = 2048;

/// The Web Push channel and its subscriptions. Cheap to clone.
#[derive(Clone)]
pub struct Push {
    store: Arc<dyn Store>,
    vapid: Arc<Vapid>,
    outbound: Outbound,
    jobs: mpsc::Sender<Job>,
    metrics: PushMetrics,
}

/// The queue's task, started by `Server::run`.
pub struct PushQueue {
    sender: Arc<Sender>,
    jobs: mpsc::Receiver<Job>,
}

impl PushQueue {
    pub async fn run(self, shutdown: CancellationToken) {
        self.sender.run(self.jobs, shutdown).await;
    }
}

impl Push {
    /// Loads (or makes) the VAPID key and sets up the queue, which runs once
    /// [`PushQueue::run`] is spawned.
    pub fn new(
        settings: &PushSettings,
        data_dir: &Path,
        store: Arc<dyn Store>,
        rules: Rules,
        metrics: PushMetrics,
    ) -> anyhow::Result<(Self, PushQueue)> {
        let vapid = Arc::new(Vapid::load(settings.vapid_private_key.get(), data_dir, &settings.subject)?);
        let outbound = Outbound::new(&settings.outbound())?;
        let (jobs_in, jobs) = mpsc::channel(settings.queue);
        let sender = Arc::new(Sender {
            store: store.clone(),
            rules,
            outbound: outbound.clone(),
            vapid: vapid.clone(),
            settings: settings.clone(),
            metrics: metrics.clone(),
            in_flight: Arc::new(Semaphore::new(settings.concurrency)),
        });
        Ok((Self { store, vapid, outbound, jobs: jobs_in, metrics }, PushQueue { sender, jobs }))
    }

    /// The public key browsers subscribe with (`applicationServerKey`).
    pub fn public_key(&self) -> &str {
        self.vapid.public_key()
    }

    /// Registers a browser's subscription for `me`; the endpoint must pass the outbound guard
    /// and the keys must be a P-256 point and a 16-byte secret.
    pub async fn subscribe(&self, me: UserId, endpoint: &str, p256dh: &str, auth: &str) -> ApiResult<PushSubscription> {
        if endpoint.len() > MAX_ENDPOINT_BYTES {
            return Err(invalid("endpoint", format!("must be at most {MAX_ENDPOINT_BYTES} bytes")));
        }
        let target = self.outbound.vet(endpoint).await.map_err(|r| invalid("endpoint", r.to_string()))?;
        BrowserKeys::parse(p256dh, auth).map_err(|e| {
            let field = if e == encrypt::EncryptError::BadAuth { "keys.auth" } else { "keys.p256dh" };
            invalid(field, e.to_string())
        })?;
        let mine = self.store.push_subscriptions(me).await?;
        if mine.len() >= MAX_SUBSCRIPTIONS_PER_USER && !mine.iter().any(|s| s.endpoint == target.as_str()) {
            return Err(invalid(
                "endpoint",
                format!("at most {MAX_SUBSCRIPTIONS_PER_USER} subscriptions per user; delete one first"),
            ));
        }
        let new = NewPushSubscription {
            user_id: me,
            endpoint: target.as_str().to_owned(),
            p256dh: p256dh.to_owned(),
            auth: auth.to_owned(),
        };
        Ok(self.store.add_push_subscription(&new).await?)
    }

    pub async fn subscriptions(&self, me: UserId) -> ApiResult<Vec<PushSubscription>> {
        Ok(self.store.push_subscriptions(me).await?)
    }

    /// Deletes one of `me`'s subscriptions; anyone else's is the same 404 as a missing one.
    pub async fn unsubscribe(&self, me: UserId, id: i64) -> ApiResult<()> {
        self.store.delete_push_subscription(Some(me), id).await.map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("push subscription"),
            other => other.into(),
        })
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> ApiError {
    ValidationError::new(field, reason).into()
}

impl Channel for Push {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Push
    }

    fn hand(&self, notice: Notice) {
        if self.jobs.try_send(Job::Notice(Box::new(notice))).is_err() {
            self.metrics.dropped.inc();
            tracing::warn!("push dropped: the push queue is full");
        }
    }

    fn read(&self, user: UserId, conversation: ConversationId) {
        // A full queue loses the cancel; the delivery asks `Rules::still_due` anyway.
        let _ = self.jobs.try_send(Job::Read(user, conversation));
    }

    fn ring(&self, ring: Ring) {
        if self.jobs.try_send(Job::Ring(Box::new(ring))).is_err() {
            self.metrics.dropped.inc();
            tracing::warn!("call push dropped: the push queue is full");
        }
    }
}
