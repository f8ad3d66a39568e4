//! The parlor chat server as a library: [`Server::bind`] opens storage and the listener,
//! [`Server::run`] serves until a shutdown signal, then closes every WebSocket and flushes
//! storage. `main.rs` is a thin CLI over this; the integration tests start it on port 0.
//!
//! Modules, by concern: `config` (settings), `auth` (passwords, tokens), `service` (what parlor
//! does), `http` (REST front door), `gateway` (WebSocket front door), `bus` (fan-out), `webhooks`
//! (delivering events to the host platform), `outbound` (the guard on every request to a URL
//! someone else chose), `observability` (health, metrics, logs), `web` (the
//! embedded web client), `rate_limit` (token buckets and the per-user socket cap), `serve` (the
//! accept loop and its timeouts), `error` (the edge's one error type), `cluster` (what several
//! nodes share through Redis: presence, rate limits, tickets, the webhook leader), `compat` (the
//! seeds' own clients' dialects, around the HTTP router). See ARCHITECTURE.md for
//! the map and a message's journey.

pub mod admin;
pub mod auth;
pub mod away;
pub mod blob;
pub mod bus;
pub mod calls;
pub mod cluster;
pub mod compat;
pub mod config;
pub mod error;
pub mod gateway;
pub mod http;
pub mod migrate;
pub mod observability;
pub mod outbound;
pub mod rate_limit;
pub mod secret;
pub mod serve;
pub mod service;
pub mod state;
pub mod transcript;
pub mod user_info;
pub mod web;
pub mod webhooks;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use parlor_store::Store;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::Layer;
use tower_http::normalize_path::{NormalizePath, NormalizePathLayer};

use crate::auth::introspection::Introspection;
use crate::auth::{Passwords, Tickets, Tokens};
use crate::away::email::{Email, Mailer, UnsubscribeKey};
use crate::away::push::{Push, PushQueue};
use crate::away::{Away, Channel, Rules};
use crate::blob::Blobs;
use crate::bus::{Hub, RedisBus};
use crate::calls::Calls;
use crate::cluster::Cluster;
use crate::cluster::leader::Leadership;
use crate::cluster::limiter::RedisLimiter;
use crate::cluster::presence::ClusterPresence;
use crate::cluster::tickets::RedisTickets;
use crate::config::Config;
use crate::observability::{Health, Metrics};
use crate::outbound::Outbound;
use crate::rate_limit::RateLimits;
use crate::service::{
    Accounts, Attachments, Audit, Contacts, Conversations, DeliveryReceipts, Directory, Messages, Moderation,
    Notifications, Operator, Platform, Presence, Privacy, Reach, Receipts, Rooms, Search, Webhooks,
};
use crate::state::{AppState, Services};
use crate::transcript::{TranscriptKey, Transcripts};
use crate::user_info::UserInfo;
use crate::webhooks::Dispatcher;

/// How long shutdown waits for WebSocket tasks to say goodbye.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// How often rate-limit buckets that have refilled are forgotten.
const RATE_LIMIT_PRUNE: Duration = Duration::from_secs(60);

pub struct Server {
    listener: TcpListener,
    state: AppState,
    store: Arc<dyn Store>,
    dispatcher: Dispatcher,
    /// The cluster bus, when `redis_url` is set.
    bus: Option<RedisBus>,
    /// With `redis_url` set: this node's part in the cluster.
    cluster: Option<ClusterPresence>,
    /// With `redis_url` set: only the node holding this lease delivers webhooks.
    webhook_leader: Option<Leadership>,
    /// With `push.enabled`: the Web Push queue's task, started by `run`.
    push_queue: Option<PushQueue>,
    /// With `email.smtp_url`: the mailer's task, started by `run`.
    mailer: Option<Mailer>,
}

impl Server {
    /// Creates the data directory, opens and migrates the database, and binds the listener.
    pub async fn bind(config: Config) -> anyhow::Result<Server> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data dir {}", config.data_dir.display()))?;
        let metrics = Metrics::new();
        let store: Arc<dyn Store> = if let Some(url) = config.database_url.get() {
            // Several nodes share PostgreSQL. The URL holds a password: never in the error.
            let options = parlor_store_postgres::Options {
                max_connections: config.database.max_connections,
                ..parlor_store_postgres::Options::default()
            };
            let postgres = Arc::new(
                parlor_store_postgres::connect_observed(url, options, metrics.on_commit())
                    .await
                    .context("cannot open the PostgreSQL database of `database_url`")?,
            );
            let queue = postgres.clone();
            metrics.watch_write_queue(move || queue.write_queue_len());
            postgres
        } else {
            let db_path = config.data_dir.join("parlor.db");
            let options = parlor_store_sqlite::Options {
                durability: config.sqlite_durability.into(),
                busy_timeout: Duration::from_millis(config.database.busy_timeout_ms),
            };
            let sqlite = Arc::new(
                parlor_store_sqlite::open_observed(&db_path, options, metrics.on_commit())
                    .await
                    .with_context(|| format!("cannot open database {}", db_path.display()))?,
            );
            let queue = sqlite.clone();
            metrics.watch_write_queue(move || queue.write_queue_len());
            sqlite
        };
        let listener = listen(config.bind).with_context(|| format!("cannot listen on {}", config.bind))?;

        let blobs = Blobs::open(&config.storage_url, &config.data_dir).context("cannot open attachment storage")?;
        let passwords = Passwords::new()?;
        let tokens = Tokens::new(&config, store.clone())?
            .with_introspection(Introspection::from_config(&config, store.clone()).await?);
        let (bus, remote) = match config.redis_url.get() {
            Some(url) => RedisBus::new(url, metrics.bus()).map(|(bus, remote)| (Some(bus), Some(remote)))?,
            None => (None, None),
        };
        let hub = Hub::new(store.clone(), config.limits.send_queue, remote);
        let cluster = match config.redis_url.get() {
            Some(url) => Some(Cluster::connect(url, &config.cluster).await?),
            None => None,
        };
        let cluster_presence = cluster.clone().map(ClusterPresence::new);
        if let Some(presence) = &cluster_presence {
            presence.join().await.context("cannot join the cluster in Redis")?;
        }
        let presence = Presence::new(hub.clone(), store.clone(), &config.limits, cluster_presence.clone());
        let endpoints_changed = Arc::new(Notify::new());
        let webhook_client = Outbound::new(&config.webhooks.outbound()).context("cannot set up webhook delivery")?;
        let dispatcher = Dispatcher::new(
            store.clone(),
            webhook_client.clone(),
            &config.webhooks,
            hub.published(),
            endpoints_changed.clone(),
        );
        let rate_limits = match &cluster {
            None => RateLimits::new(&config.rate_limits),
            Some(c) => RateLimits::with_limiter(
                &config.rate_limits,
                Arc::new(RedisLimiter::new(c.clone(), &config.rate_limits)),
            ),
        }
        .reporting_to(metrics.clone());
        let ticket_ttl = Duration::from_secs(config.websocket.ticket_ttl_secs);
        let tickets = match &cluster {
            None => Tickets::new(ticket_ttl),
            Some(c) => Tickets::shared(ticket_ttl, RedisTickets::new(c.clone())),
        };
        let webhook_leader = cluster.map(|c| Leadership::new(c, "webhooks"));
        let rules = Rules::new(store.clone(), hub.clone());
        let (push, push_queue) = if config.push.enabled {
            let (push, queue) = Push::new(&config.push, &config.data_dir, store.clone(), rules.clone(), metrics.push())
                .context("cannot set up Web Push")?;
            (Some(push), Some(queue))
        } else {
            (None, None)
        };
        let (email, mailer) = if config.email.smtp_url().is_some() {
            let key = UnsubscribeKey::new(tokens.derived_key(crate::away::email::KEY_PURPOSE));
            let (email, mailer) = Email::new(&config.email, key, store.clone(), rules.clone(), metrics.email())
                .context("cannot set up email")?;
            (Some(email), Some(mailer))
        } else {
            (None, None)
        };
        let mut channels: Vec<Arc<dyn Channel>> =
            push.iter().map(|p| Arc::new(p.clone()) as Arc<dyn Channel>).collect();
        channels.extend(email.iter().map(|e| Arc::new(e.clone()) as Arc<dyn Channel>));
        let away = Away::new(rules, channels);
        // The domain services, each built after the ones it asks (service/mod.rs draws the graph).
        let limits = &config.limits;
        let reach = Reach::new(store.clone(), hub.clone(), config.dm_policy);
        let delivery_receipts =
            DeliveryReceipts::new(store.clone(), hub.clone(), reach.clone(), limits.receipt_events_max_members);
        let conversations =
            Conversations::new(store.clone(), hub.clone(), reach.clone(), delivery_receipts.clone(), limits.replay_max);
        let notifications = Notifications::new(
            store.clone(),
            hub.clone(),
            reach.clone(),
            conversations.clone(),
            away.clone(),
            limits.notify_messages_max_members,
        );
        let attachments = Attachments::new(
            store.clone(),
            hub.clone(),
            blobs.clone(),
            &config.attachments,
            conversations.clone(),
            reach.clone(),
            notifications.clone(),
            limits.max_message_chars,
        );
        let messages = Messages::new(
            store.clone(),
            hub.clone(),
            conversations.clone(),
            reach.clone(),
            notifications.clone(),
            delivery_receipts.clone(),
            attachments.clone(),
            limits,
            config.allow_edit_delete,
        );
        let rooms = Rooms::new(store.clone(), hub.clone(), conversations.clone(), reach.clone(), notifications.clone());
        let receipts = Receipts::new(
            store.clone(),
            hub.clone(),
            conversations.clone(),
            reach.clone(),
            delivery_receipts.clone(),
            notifications.clone(),
        );
        let contacts = Contacts::new(store.clone(), reach.clone(), notifications.clone());
        let moderation = Moderation::new(store.clone(), hub.clone(), conversations.clone(), attachments.clone());
        let search = Search::new(store.clone(), conversations.clone());
        let directory = Directory::new(store.clone(), config.dm_policy);
        let platform =
            Platform::new(store.clone(), hub.clone(), rooms.clone(), notifications.clone(), limits.max_message_chars);
        let operator = Operator::new(store.clone(), limits.page_size_max);
        let shutdown = CancellationToken::new();
        let calls = Calls::new(
            config.calls.clone(),
            conversations.clone(),
            reach,
            messages.clone(),
            hub.clone(),
            away.clone(),
            shutdown.clone(),
        );
        let privacy = Privacy::new(
            store.clone(),
            hub.clone(),
            conversations.clone(),
            attachments.clone(),
            notifications.clone(),
            blobs,
            passwords.clone(),
            &config.privacy,
            &config.retention,
            &config.data_dir,
        );
        let state = AppState::new(Services {
            presence,
            calls,
            privacy,
            accounts: Accounts::new(store.clone(), tokens.clone(), passwords.clone(), hub.clone())
                .asking_the_platform(UserInfo::from_config(&config).await?.map(Arc::new)),
            conversations,
            messages,
            rooms,
            contacts,
            receipts,
            delivery_receipts,
            attachments,
            notifications,
            moderation,
            search,
            directory,
            platform,
            operator,
            away,
            push,
            email,
            webhooks: Webhooks::new(store.clone(), webhook_client, endpoints_changed, &config.webhooks),
            audit: Audit::new(store.clone(), &config.audit),
            transcripts: Transcripts::new(
                store.clone(),
                TranscriptKey::load_or_create(&config.transcripts.key_path(&config.data_dir))?,
            ),
            tickets,
            health: Health::new(store.clone()),
            metrics,
            config: Arc::new(config),
            tokens,
            hub,
            connections: TaskTracker::new(),
            shutdown,
            passwords,
            rate_limits,
        });
        Ok(Server {
            listener,
            state,
            store,
            dispatcher,
            bus,
            cluster: cluster_presence,
            webhook_leader,
            push_queue,
            mailer,
        })
    }

    /// Every route, as [`Server::run`] serves them, for driving requests in-process without the
    /// listener (the fuzz targets). The background tasks `run` starts (housekeeping, webhook
    /// delivery, presence) do not run for it.
    pub fn app(&self) -> NormalizePath<axum::Router> {
        NormalizePathLayer::trim_trailing_slash().layer(http::router(self.state.clone()))
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `signal` completes; then answers `/readyz` with 503 while still serving for
    /// `observability.shutdown_delay_ms`, stops accepting, closes every WebSocket with 1001,
    /// waits for them and for the webhook dispatcher, and closes the store (finishing queued
    /// writes).
    pub async fn run(self, signal: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Server { listener, state, store, dispatcher, bus, cluster, webhook_leader, push_queue, mailer } = self;
        let shutdown = state.shutdown.clone();
        let connections = state.connections.clone();
        let sweep_every = Duration::from_secs(state.config.attachments.sweep_secs);
        let delivery_receipts = state.delivery_receipts.clone();
        tracing::info!(addr = %listener.local_addr()?, "parlor listening");

        let state_webhooks = state.webhooks.clone();
        let sweeper = tokio::spawn(housekeeping(
            state.attachments.clone(),
            state.accounts.clone(),
            state_webhooks,
            sweep_every,
            shutdown.clone(),
        ));
        let audit_sweeper = tokio::spawn(state.audit.clone().sweep_every(sweep_every, shutdown.clone()));
        // With several nodes, one delivers webhooks: whichever holds the lease.
        let dispatching = match webhook_leader {
            None => tokio::spawn(dispatcher.run(shutdown.clone())),
            Some(leader) => tokio::spawn(leader.run(move |stop| dispatcher.clone().run(stop), shutdown.clone())),
        };
        let lease = cluster.map(|c| tokio::spawn(c.keep_lease(state.presence.rejoined(), shutdown.clone())));
        let presence = match state.hub.take_transitions() {
            Some(transitions) => tokio::spawn(state.presence.clone().run(transitions, shutdown.clone())),
            None => anyhow::bail!("presence transitions already taken"),
        };
        let bus = bus.map(|bus| tokio::spawn(bus.run(state.hub.clone(), store.clone(), shutdown.clone())));
        let pruning = tokio::spawn(state.rate_limits.clone().prune_every(RATE_LIMIT_PRUNE, shutdown.clone()));
        let receipts = tokio::spawn(state.delivery_receipts.clone().write_receipts_every_tick(shutdown.clone()));
        let calls = tokio::spawn(state.calls.clone().run());
        let retention = tokio::spawn(state.privacy.clone().sweep_every_tick(shutdown.clone()));
        let exporting = tokio::spawn(state.privacy.clone().run_exports(shutdown.clone()));
        let pushing = push_queue.map(|queue| tokio::spawn(queue.run(shutdown.clone())));
        let mailing = mailer.map(|mailer| tokio::spawn(mailer.run(shutdown.clone())));
        let header_timeout = serve::timeout_secs(state.config.rate_limits.header_timeout_secs);
        let health = state.health.clone();
        let delay = Duration::from_millis(state.config.observability.shutdown_delay_ms);
        let app = NormalizePathLayer::trim_trailing_slash().layer(http::router(state));
        let trigger = shutdown.clone();
        serve::serve(listener, app, header_timeout, async move {
            signal.await;
            // Not ready first, still serving: a load balancer stops sending before anything closes.
            health.start_draining();
            tracing::info!(delay_ms = delay.as_millis() as u64, "shutting down");
            tokio::time::sleep(delay).await;
            trigger.cancel();
        })
        .await;
        shutdown.cancel();
        connections.close();
        if tokio::time::timeout(DRAIN_TIMEOUT, connections.wait()).await.is_err() {
            tracing::warn!(open = connections.len(), "websocket tasks still running after drain timeout");
        }
        // The receipts gathered up to the last connection's close.
        receipts.await.ok();
        delivery_receipts.write_receipts().await;
        sweeper.await.ok();
        retention.await.ok();
        exporting.await.ok();
        audit_sweeper.await.ok();
        presence.await.ok();
        dispatching.await.ok();
        pruning.await.ok();
        calls.await.ok();
        if let Some(pushing) = pushing {
            pushing.await.ok();
        }
        if let Some(mailing) = mailing {
            mailing.await.ok();
        }
        if let Some(lease) = lease {
            lease.await.ok();
        }
        if let Some(bus) = bus {
            bus.await.ok();
        }
        store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Pending connections the kernel queues before `accept`: tokio's default of 1,024 overflows in
/// a reconnect storm (thousands of clients at once), and every dropped handshake waits a
/// second or more for the client's retry. Linux caps it at `net.core.somaxconn` (4,096 here).
const LISTEN_BACKLOG: u32 = 8192;

fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { tokio::net::TcpSocket::new_v4()? } else { tokio::net::TcpSocket::new_v6()? };
    // As `TcpListener::bind` does: a restarted server can listen again at once.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Housekeeping every `every` until shutdown: attachment files past the retention period,
/// expired refresh tokens, and webhook outbox entries every endpoint has passed.
async fn housekeeping(
    attachments: Attachments,
    accounts: Accounts,
    webhooks: Webhooks,
    every: Duration,
    shutdown: CancellationToken,
) {
    let mut ticker = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {
                let removed = attachments.sweep_expired().await;
                if removed > 0 {
                    tracing::info!(removed, "expired attachments removed");
                }
                let pruned = accounts.prune_refresh_tokens().await;
                if pruned > 0 {
                    tracing::info!(pruned, "expired refresh tokens pruned");
                }
                let passed = webhooks.prune().await;
                if passed > 0 {
                    tracing::info!(pruned = passed, "delivered webhook outbox entries pruned");
                }
            }
        }
    }
}
