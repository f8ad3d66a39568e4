//! `AppState`: everything a request or connection needs, cloned cheaply into each: one
//! pointer to the shared [`Services`], so an idle connection carries 8 bytes of it rather than
//! the services' ~6.8 KB (each service holds a clone of every service it asks; see
//! docs/benchmarks.md, idle connections).

use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::auth::{Passwords, Tickets, Tokens};
use crate::away::Away;
use crate::bus::Hub;
use crate::calls::Calls;
use crate::config::Config;
use crate::observability::{Health, Metrics};
use crate::rate_limit::RateLimits;
use crate::service::{
    Accounts, Attachments, Audit, Contacts, Conversations, DeliveryReceipts, Directory, Messages, Moderation,
    Notifications, Operator, Platform, Presence, Privacy, Receipts, Rooms, Search, Webhooks,
};

#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

pub struct Services {
    pub config: Arc<Config>,
    pub tokens: Tokens,
    /// One-time WebSocket tickets, in this node's memory or, with several nodes, in Redis.
    pub tickets: Tickets,
    pub accounts: Accounts,
    /// Opening, listing and reading conversations; who may read and who is in one.
    pub conversations: Conversations,
    /// Sending, history, forwarding, typing, editing, deleting, reacting.
    pub messages: Messages,
    /// Rooms, their members, roles and settings; context-linked conversations.
    pub rooms: Rooms,
    /// Contact requests (the API's "connections").
    pub contacts: Contacts,
    /// Read positions, unread counts, who received and read a message.
    pub receipts: Receipts,
    /// Delivery receipts gathered from this node's connections, written every tick.
    pub delivery_receipts: DeliveryReceipts,
    /// Uploads, thumbnails, downloads, and removing the files of deleted messages.
    pub attachments: Attachments,
    /// Notifications: made, stored, pushed; the user's list of them; muting.
    pub notifications: Notifications,
    /// Blocks, reports, server admins' deletes and disabling.
    pub moderation: Moderation,
    /// Message search, and finding conversations by name.
    pub search: Search,
    /// Finding people to talk to.
    pub directory: Directory,
    /// What the host platform's backend does through the server API.
    pub platform: Platform,
    /// The operator's exports and the store's maintenance (`parlor admin`).
    pub operator: Operator,
    /// Live calls this node runs, and signaling (`crate::calls`).
    pub calls: Calls,
    /// Reaching people beyond their open sockets (Web Push, email) and their preferences.
    pub away: Away,
    /// Web Push subscriptions and the VAPID key; `None` with `push.enabled = false`.
    pub push: Option<crate::away::push::Push>,
    /// Email's unsubscribe links; `None` while `email.smtp_url` is empty.
    pub email: Option<crate::away::email::Email>,
    pub hub: Hub,
    pub presence: Presence,
    /// Erasure, retention and legal holds (docs/privacy.md).
    pub privacy: Privacy,
    /// The audit log: what admins, moderators and the server API did.
    pub audit: Audit,
    /// Signed transcripts of conversations, and the key they are signed with.
    pub transcripts: crate::transcript::Transcripts,
    /// Webhook endpoints (the server API); delivery runs in `crate::webhooks`.
    pub webhooks: Webhooks,
    /// WebSocket tasks, which axum's graceful shutdown does not wait for: we do.
    pub connections: TaskTracker,
    /// Cancelled when the server starts shutting down.
    pub shutdown: CancellationToken,
    pub passwords: Passwords,
    /// Token buckets and the per-user socket cap (`crate::rate_limit`).
    pub rate_limits: RateLimits,
    /// Readiness (`/readyz`); says no from the start of shutdown.
    pub health: Health,
    /// This server's Prometheus registry and the counters fed from hot paths.
    pub metrics: Metrics,
}
