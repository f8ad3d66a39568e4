//! The push queue: one task takes notices from a bounded channel, holds them for
//! `push.delay_ms` folded per conversation (a newer notice replaces the waiting one; a read
//! drops it), then delivers each to the user's subscriptions in tasks of its own, at most
//! `push.concurrency` at once: a notice that finds none free is dropped and counted, so a slow
//! push service costs memory for a bounded number of deliveries and never delays anything else.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parlor_core::{ConversationId, NotificationKind, Timestamp, UserId};
use parlor_store::{PushSubscription, Store, StoreError};
use tokio::sync::{Semaphore, mpsc};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::PushSettings;
use super::encrypt::{BrowserKeys, encrypt};
use super::vapid::Vapid;
use crate::away::{ChannelKind, Notice, Ring, Rules};
use crate::observability::PushMetrics;
use crate::outbound::Outbound;
use crate::webhooks::Backoff;

/// What the queue is told.
pub(super) enum Job {
    Notice(Box<Notice>),
    Read(UserId, ConversationId),
    /// An incoming call: sent at once, never held back or folded.
    Ring(Box<Ring>),
}

/// How one push is sent: its headers beside the encrypted body.
struct Delivery<'a> {
    payload: &'a [u8],
    urgency: &'static str,
    topic: String,
    ttl_secs: u64,
}

/// Everything a delivery needs, shared by the queue's tasks.
pub(super) struct Sender {
    pub(super) store: Arc<dyn Store>,
    pub(super) rules: Rules,
    pub(super) outbound: Outbound,
    pub(super) vapid: Arc<Vapid>,
    pub(super) settings: PushSettings,
    pub(super) metrics: PushMetrics,
    /// Deliveries running (with their retries); bounded by `push.concurrency`.
    pub(super) in_flight: Arc<Semaphore>,
}

/// A notice waiting out `push.delay_ms`.
struct Waiting {
    due: Instant,
    notice: Box<Notice>,
}

impl Sender {
    /// Runs the queue until shutdown (or until every handle to it is gone).
    pub(super) async fn run(self: Arc<Self>, mut jobs: mpsc::Receiver<Job>, shutdown: CancellationToken) {
        let delay = Duration::from_millis(self.settings.delay_ms);
        let mut waiting: HashMap<(UserId, ConversationId), Waiting> = HashMap::new();
        loop {
            let next_due = waiting.values().map(|w| w.due).min();
            tokio::select! {
                // Shutdown: notices still waiting are dropped; the inbox keeps them.
                () = shutdown.cancelled() => break,
                job = jobs.recv() => match job {
                    None => break,
                    Some(Job::Notice(notice)) if delay.is_zero() => self.deliver(notice, false),
                    Some(Job::Notice(notice)) => {
                        // Folded: the newest notice is sent, at the time the first was due.
                        let key = (notice.notification.user_id, notice.conversation_id);
                        let due = waiting.get(&key).map_or(Instant::now() + delay, |w| w.due);
                        waiting.insert(key, Waiting { due, notice });
                    }
                    Some(Job::Read(user, conversation)) => {
                        waiting.remove(&(user, conversation));
                    }
                    Some(Job::Ring(ring)) => self.ring(ring),
                },
                // A notice's delay is over.
                () = tokio::time::sleep_until(next_due.unwrap_or_else(Instant::now)), if next_due.is_some() => {
                    let now = Instant::now();
                    let due: Vec<_> = waiting.iter().filter(|(_, w)| w.due <= now).map(|(k, _)| *k).collect();
                    for key in due {
                        if let Some(w) = waiting.remove(&key) {
                            self.deliver(w.notice, true);
                        }
                    }
                }
            }
        }
    }

    /// Starts delivering a notice to each of its user's subscriptions, or drops it when
    /// `push.concurrency` deliveries are running already.
    fn deliver(self: &Arc<Self>, notice: Box<Notice>, held_back: bool) {
        let Ok(permit) = self.in_flight.clone().try_acquire_owned() else {
            self.metrics.dropped.inc();
            tracing::warn!(user_id = %notice.notification.user_id, "push dropped: too many deliveries running");
            return;
        };
        let this = self.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let (user, conversation) = (notice.notification.user_id, notice.conversation_id);
            // Held back: the user may have read it, looked at it, turned push off, muted the
            // conversation or blocked the sender meanwhile.
            if held_back {
                let waiting = vec![notice.notification.clone()];
                if this.rules.still_due(ChannelKind::Push, user, conversation, waiting).await.is_empty() {
                    return;
                }
            }
            let subscriptions = match this.store.push_subscriptions(user).await {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(user_id = %user, error = %e, "push subscriptions not read");
                    return;
                }
            };
            if subscriptions.is_empty() {
                return;
            }
            let payload = this.payload(&notice).await;
            let delivery = Delivery {
                payload: &payload,
                urgency: if notice.notification.kind == NotificationKind::Mention { "high" } else { "normal" },
                topic: topic(notice.conversation_id),
                ttl_secs: this.settings.ttl_secs,
            };
            let deliveries = subscriptions.iter().map(|s| this.deliver_to(s, &delivery));
            futures_util::future::join_all(deliveries).await;
        });
    }

    /// Rings a callee's subscriptions: urgent, living as long as the call rings, one per call.
    fn ring(self: &Arc<Self>, ring: Box<Ring>) {
        let Ok(permit) = self.in_flight.clone().try_acquire_owned() else {
            self.metrics.dropped.inc();
            tracing::warn!(user_id = %ring.user, "call push dropped: too many deliveries running");
            return;
        };
        let this = self.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let subscriptions = match this.store.push_subscriptions(ring.user).await {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(user_id = %ring.user, error = %e, "push subscriptions not read");
                    return;
                }
            };
            // Topic: at most 32 characters (RFC 8030), so per conversation rather than per call id.
            let tag = format!("parlor-call{}", ring.conversation_id.0);
            let payload = serde_json::json!({
                "type": "call",
                "conversation_id": ring.conversation_id,
                "call_id": ring.call_id,
                "media": ring.media,
                "title": format!("{} is calling", ring.caller_name),
                "body": if ring.media == "video" { "Incoming video call" } else { "Incoming voice call" },
                "icon": null,
                "tag": tag,
                "url": format!("/#/c/{}", ring.conversation_id.0),
            })
            .to_string()
            .into_bytes();
            let delivery = Delivery { payload: &payload, urgency: "high", topic: tag, ttl_secs: ring.ttl_secs };
            let deliveries = subscriptions.iter().map(|s| this.deliver_to(s, &delivery));
            futures_util::future::join_all(deliveries).await;
        });
    }

    /// What the service worker shows (docs/notifications.md): JSON, encrypted per subscription.
    async fn payload(&self, notice: &Notice) -> Vec<u8> {
        let n = &notice.notification;
        let unread_count = self.store.unread_notification_count(n.user_id).await.unwrap_or(0);
        let actor = n.actor_name.clone().unwrap_or_else(|| "Someone".to_owned());
        let icon = match n.actor_id {
            Some(actor) => self.store.user(actor).await.ok().flatten().and_then(|u| u.avatar),
            None => None,
        };
        let title = match n.kind {
            NotificationKind::Mention => format!("{actor} mentioned you"),
            _ if n.count > 1 => format!("{actor} ({} new messages)", n.count),
            _ => actor,
        };
        let body = if self.settings.include_content && !n.preview.is_empty() {
            n.preview.clone()
        } else {
            "New message".to_owned()
        };
        let payload = serde_json::json!({
            "type": n.kind.as_str(),
            "conversation_id": notice.conversation_id,
            "title": title,
            "body": body,
            "icon": icon,
            "tag": topic(notice.conversation_id),
            "unread_count": unread_count,
            "url": format!("/#/c/{}", notice.conversation_id.0),
        });
        payload.to_string().into_bytes()
    }

    /// One subscription: encrypted, signed, sent, retried on 429 and 5xx with backoff up to
    /// `push.max_attempts`; a subscription the push service says is gone (404, 410) is deleted.
    async fn deliver_to(&self, subscription: &PushSubscription, delivery: &Delivery<'_>) {
        let (sub, user) = (subscription.id, subscription.user_id);
        let target = match self.outbound.target(&subscription.endpoint) {
            Ok(target) => target,
            Err(refused) => {
                self.metrics.failed.inc();
                tracing::warn!(user_id = %user, subscription = sub, %refused, "push endpoint refused");
                return;
            }
        };
        let origin = origin_of(target.as_str());
        let Ok(keys) = BrowserKeys::parse(&subscription.p256dh, &subscription.auth) else {
            self.metrics.failed.inc();
            return;
        };
        let mut backoff = Backoff::new(
            Duration::from_millis(self.settings.retry_initial_ms),
            Duration::from_millis(self.settings.retry_max_ms),
        );
        for attempt in 1..=self.settings.max_attempts {
            let Ok(body) = encrypt(delivery.payload, &keys) else {
                self.metrics.failed.inc();
                return;
            };
            let sent = self
                .outbound
                .post(&target)
                .header("Authorization", self.vapid.authorization(&origin, Timestamp::now().as_secs()))
                .header("Content-Encoding", "aes128gcm")
                .header("Content-Type", "application/octet-stream")
                .header("TTL", delivery.ttl_secs.to_string())
                .header("Urgency", delivery.urgency)
                .header("Topic", delivery.topic.as_str())
                .body(body)
                .send()
                .await;
            let status = match sent {
                Ok(answer) => answer.status().as_u16(),
                Err(e) => {
                    tracing::info!(user_id = %user, subscription = sub, attempt, error = %e.without_url(), "push not delivered");
                    0
                }
            };
            match status {
                200..=299 => {
                    self.metrics.sent.inc();
                    return;
                }
                404 | 410 => {
                    self.metrics.removed.inc();
                    tracing::info!(user_id = %user, subscription = sub, status, "push subscription gone; deleted");
                    match self.store.delete_push_subscription(None, sub).await {
                        Ok(()) | Err(StoreError::NotFound) => {}
                        Err(e) => tracing::warn!(subscription = sub, error = %e, "gone push subscription not deleted"),
                    }
                    return;
                }
                0 | 429 | 500..=599 if attempt < self.settings.max_attempts => {
                    tokio::time::sleep(backoff.delay()).await;
                }
                _ => {
                    self.metrics.failed.inc();
                    tracing::info!(user_id = %user, subscription = sub, status, attempt, "push failed");
                    return;
                }
            }
        }
    }
}

/// The `Topic` header and the notification's tag: one per conversation, so a newer push
/// replaces an older one still waiting in the push service or shown on the device.
fn topic(conversation: ConversationId) -> String {
    format!("parlor-c{}", conversation.0)
}

/// `scheme://host[:port]` of an endpoint: the VAPID token's audience.
fn origin_of(endpoint: &str) -> String {
    url::Url::parse(endpoint).map(|u| u.origin().ascii_serialization()).unwrap_or_default()
}
