//! The Redis transport of the bus (`redis_url` set): one channel, one publishing connection and
//! ONE subscribing connection per node (never one per socket). What goes over it is in
//! `envelope.rs`; what it does on arrival is in `remote.rs`.
//!
//! Redis pub/sub is at most once: while Redis is down, envelopes are dropped (counted in
//! `parlor_bus_publish_dropped_total`), messages are still stored and acknowledged, local
//! delivery goes on, and both connections come back with backoff. Meanwhile, and after the
//! subscriber reconnects, `Inbound::repair` delivers what other nodes logged from the database.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use parlor_store::Store;
use rand::Rng;
use redis::aio::MultiplexedConnection;
use tokio::sync::mpsc;
use tokio::time::{MissedTickBehavior, timeout};
use tokio_util::sync::CancellationToken;

use super::envelope::Envelope;
use super::hub::Hub;
use super::remote::{Inbound, Remote};
use crate::observability::BusMetrics;

/// The channel every node publishes to and subscribes to.
const CHANNEL: &str = "parlor:bus";
/// Envelopes waiting for the publishing connection; more are dropped.
const OUTBOX: usize = 8192;
/// Envelopes sent in one pipeline (one round trip).
const BATCH: usize = 256;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const COMMAND_TIMEOUT: Duration = Duration::from_secs(2);
/// How often tracked conversations are compared with the log, and the subscriber pinged.
const REPAIR_EVERY: Duration = Duration::from_secs(2);
const BACKOFF_MIN: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(3);

/// The node's link to Redis, ready to run once the hub exists.
pub struct RedisBus {
    client: redis::Client,
    outbox: mpsc::Receiver<Envelope>,
    remote: Remote,
    metrics: BusMetrics,
}

impl RedisBus {
    /// Parses the URL (no connection yet: a node starts even while Redis is down) and returns
    /// the handle the hub publishes through.
    pub fn new(url: &str, metrics: BusMetrics) -> anyhow::Result<(RedisBus, Remote)> {
        let client = redis::Client::open(url).map_err(|e| anyhow::anyhow!("invalid setting `redis_url`: {e}"))?;
        let (tx, outbox) = mpsc::channel(OUTBOX);
        let remote = Remote::new(rand::rng().random(), tx, metrics.clone());
        Ok((RedisBus { client, outbox, remote: remote.clone(), metrics }, remote))
    }

    /// Publishes and subscribes until shutdown.
    pub async fn run(self, hub: Hub, store: Arc<dyn Store>, shutdown: CancellationToken) {
        let RedisBus { client, outbox, remote, metrics } = self;
        tracing::info!(node = remote.node(), channel = CHANNEL, "joining the cluster bus");
        let inbound = Inbound::new(hub, store, remote);
        let publishing = publish_loop(client.clone(), outbox, metrics.clone(), shutdown.clone());
        let subscribing = subscribe_loop(client, inbound, metrics, shutdown);
        tokio::join!(publishing, subscribing);
    }
}

/// Sends the outbox's envelopes in pipelined batches over one connection.
async fn publish_loop(
    client: redis::Client,
    mut outbox: mpsc::Receiver<Envelope>,
    metrics: BusMetrics,
    shutdown: CancellationToken,
) {
    let mut connection: Option<MultiplexedConnection> = None;
    let mut backoff = Backoff::default();
    let mut retry_at = tokio::time::Instant::now();
    let mut down = false;
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            received = outbox.recv_many(&mut batch, BATCH) => if received == 0 { return },
        }
        if connection.is_none() && tokio::time::Instant::now() >= retry_at {
            match timeout(CONNECT_TIMEOUT, client.get_multiplexed_async_connection()).await {
                Ok(Ok(opened)) => {
                    connection = Some(opened);
                    backoff = Backoff::default();
                    if std::mem::take(&mut down) {
                        tracing::info!("publishing to the redis bus again");
                    }
                }
                outcome => {
                    retry_at = tokio::time::Instant::now() + backoff.next();
                    if !std::mem::replace(&mut down, true) {
                        tracing::warn!(error = %failure(outcome), "cannot publish to the redis bus; other nodes will catch up from the database");
                    }
                }
            }
        }
        let count = batch.len() as u64;
        let Some(open) = connection.as_mut() else {
            metrics.publish_dropped.inc_by(count);
            batch.clear();
            continue;
        };
        let mut pipe = redis::pipe();
        for envelope in batch.drain(..) {
            pipe.cmd("PUBLISH").arg(CHANNEL).arg(envelope.encode().as_ref()).ignore();
        }
        match timeout(COMMAND_TIMEOUT, pipe.query_async::<()>(open)).await {
            Ok(Ok(())) => {
                metrics.published.inc_by(count);
            }
            outcome => {
                metrics.publish_dropped.inc_by(count);
                connection = None;
                if !std::mem::replace(&mut down, true) {
                    tracing::warn!(error = %failure(outcome), "lost the redis bus while publishing; reconnecting");
                }
            }
        }
    }
}

/// Holds the node's one subscription, applies what arrives, and repairs from the log every
/// [`REPAIR_EVERY`] (connected or not) and after every (re)subscription.
async fn subscribe_loop(client: redis::Client, inbound: Inbound, metrics: BusMetrics, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(REPAIR_EVERY);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut backoff = Backoff::default();
    let mut down = false;
    loop {
        let subscribed = timeout(CONNECT_TIMEOUT, async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(CHANNEL).await?;
            redis::RedisResult::Ok(pubsub)
        })
        .await;
        match subscribed {
            Ok(Ok(pubsub)) => {
                metrics.connected.set(1);
                backoff = Backoff::default();
                if std::mem::take(&mut down) {
                    tracing::info!("subscribed to the redis bus again; repairing from the database");
                }
                // Anything published while we were not subscribed is only in the database.
                inbound.repair(true).await;
                let (mut sink, mut messages) = pubsub.split();
                loop {
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        message = messages.next() => match message {
                            Some(message) => inbound.receive(message.get_payload_bytes()).await,
                            None => break,
                        },
                        _ = ticker.tick() => {
                            // A half-open connection delivers nothing and reports no error.
                            if !matches!(timeout(COMMAND_TIMEOUT, sink.ping::<redis::Value>()).await, Ok(Ok(_))) {
                                break;
                            }
                            inbound.repair(false).await;
                        }
                    }
                }
                metrics.connected.set(0);
                tracing::warn!("lost the redis bus subscription; reconnecting, repairing from the database meanwhile");
                down = true;
            }
            outcome => {
                if !std::mem::replace(&mut down, true) {
                    tracing::warn!(error = %failure(outcome), "cannot subscribe to the redis bus; retrying, repairing from the database meanwhile");
                }
            }
        }
        let wake = tokio::time::sleep(backoff.next());
        tokio::pin!(wake);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = &mut wake => break,
                _ = ticker.tick() => inbound.repair(false).await,
            }
        }
    }
}

/// What went wrong with a Redis call that had a timeout, for the log.
fn failure<T>(outcome: Result<redis::RedisResult<T>, tokio::time::error::Elapsed>) -> String {
    match outcome {
        Ok(Ok(_)) => String::new(),
        Ok(Err(e)) => e.to_string(),
        Err(_) => "timed out".to_owned(),
    }
}

/// Exponential backoff with jitter between reconnection attempts.
struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff { next: BACKOFF_MIN }
    }
}

impl Backoff {
    fn next(&mut self) -> Duration {
        let base = self.next;
        self.next = (base * 2).min(BACKOFF_MAX);
        let jitter = rand::rng().random_range(0..=base.as_millis() as u64 / 2);
        base + Duration::from_millis(jitter)
    }
}
