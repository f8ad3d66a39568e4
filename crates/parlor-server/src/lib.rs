//! The parlor chat server as a library: [`Server::bind`] opens storage and the listener,
//! [`Server::run`] serves until a shutdown signal, then closes every WebSocket and flushes
//! storage. `main.rs` is a thin CLI over this; the integration tests start it on port 0.
//!
//! Modules, by concern: `config` (settings), `auth` (passwords, tokens), `service` (what parlor
//! does), `http` (REST front door), `gateway` (WebSocket front door), `bus` (fan-out), `webhooks`
//! (delivering events to the host platform), `web` (the embedded web client), `error` (the edge's one error type). See ARCHITECTURE.md for the map and a message's journey.

pub mod auth;
pub mod blob;
pub mod bus;
pub mod config;
pub mod error;
pub mod gateway;
pub mod http;
pub mod service;
pub mod state;
pub mod web;
pub mod webhooks;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use parlor_store::Store;
use parlor_store_sqlite::SqliteStore;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::Layer;
use tower_http::normalize_path::{NormalizePath, NormalizePathLayer};

use crate::auth::{Passwords, Tokens};
use crate::blob::Blobs;
use crate::bus::Hub;
use crate::config::Config;
use crate::service::{Accounts, Chat, Presence, Webhooks};
use crate::state::AppState;
use crate::webhooks::Dispatcher;

/// How long shutdown waits for WebSocket tasks to say goodbye.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Server {
    listener: TcpListener,
    state: AppState,
    store: Arc<dyn Store>,
    dispatcher: Dispatcher,
}

impl Server {
    /// Creates the data directory, opens and migrates the database, and binds the listener.
    pub async fn bind(config: Config) -> anyhow::Result<Server> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("cannot create data dir {}", config.data_dir.display()))?;
        let db_path = config.data_dir.join("parlor.db");
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open_with_options(
                &db_path,
                parlor_store_sqlite::Options {
                    durability: config.sqlite_durability.into(),
                    busy_timeout: Duration::from_millis(config.database.busy_timeout_ms),
                },
            )
            .await
            .with_context(|| format!("cannot open database {}", db_path.display()))?,
        );
        let listener =
            TcpListener::bind(config.bind).await.with_context(|| format!("cannot listen on {}", config.bind))?;

        let blobs = Blobs::open(&config.storage_url, &config.data_dir).context("cannot open attachment storage")?;
        let passwords = Passwords::new()?;
        let tokens = Tokens::new(&config, store.clone())?;
        let hub = Hub::new(store.clone(), config.limits.send_queue);
        let presence =
            Presence::new(hub.clone(), store.clone(), Duration::from_millis(config.limits.presence_grace_ms));
        let endpoints_changed = Arc::new(Notify::new());
        let dispatcher = Dispatcher::new(store.clone(), &config.webhooks, hub.published(), endpoints_changed.clone())
            .context("cannot set up webhook delivery")?;
        let state = AppState {
            presence,
            accounts: Accounts::new(store.clone(), tokens.clone(), passwords.clone()),
            chat: Chat::new(store.clone(), hub.clone(), blobs, &config),
            webhooks: Webhooks::new(store.clone(), endpoints_changed, &config.webhooks),
            config: Arc::new(config),
            tokens,
            hub,
            connections: TaskTracker::new(),
            shutdown: CancellationToken::new(),
            passwords,
        };
        Ok(Server { listener, state, store, dispatcher })
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

    /// Serves until `signal` completes, then stops accepting, closes every WebSocket with 1001,
    /// waits for them and for the webhook dispatcher, and closes the store (finishing queued
    /// writes).
    pub async fn run(self, signal: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let Server { listener, state, store, dispatcher } = self;
        let shutdown = state.shutdown.clone();
        let connections = state.connections.clone();
        let (state_chat, sweep_every) = (state.chat.clone(), Duration::from_secs(state.config.attachments.sweep_secs));
        tracing::info!(addr = %listener.local_addr()?, "parlor listening");

        let state_webhooks = state.webhooks.clone();
        let sweeper = tokio::spawn(housekeeping(state_chat, state_webhooks, sweep_every, shutdown.clone()));
        let dispatching = tokio::spawn(dispatcher.run(shutdown.clone()));
        let presence = match state.hub.take_transitions() {
            Some(transitions) => tokio::spawn(state.presence.clone().run(transitions, shutdown.clone())),
            None => anyhow::bail!("presence transitions already taken"),
        };
        let app = NormalizePathLayer::trim_trailing_slash().layer(http::router(state));
        let trigger = shutdown.clone();
        let served = axum::serve(listener, axum::ServiceExt::<axum::extract::Request>::into_make_service(app))
            .with_graceful_shutdown(async move {
                signal.await;
                tracing::info!("shutting down");
                trigger.cancel();
            })
            .await;
        shutdown.cancel();
        connections.close();
        if tokio::time::timeout(DRAIN_TIMEOUT, connections.wait()).await.is_err() {
            tracing::warn!(open = connections.len(), "websocket tasks still running after drain timeout");
        }
        sweeper.await.ok();
        presence.await.ok();
        dispatching.await.ok();
        store.close().await;
        tracing::info!("stopped");
        served.context("server error")
    }
}

/// Housekeeping every `every` until shutdown: attachment files past the retention period,
/// expired refresh tokens, and webhook outbox entries every endpoint has passed.
async fn housekeeping(chat: Chat, webhooks: Webhooks, every: Duration, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(every);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {
                let removed = chat.sweep_expired().await;
                if removed > 0 {
                    tracing::info!(removed, "expired attachments removed");
                }
                let pruned = chat.prune_refresh_tokens().await;
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
