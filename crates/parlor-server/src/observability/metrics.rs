//! parlor's Prometheus metrics. Each `Server` owns its registry (tests start several servers in
//! one process, so there is no global recorder). Counters on hot paths are resolved once, at
//! start, so recording one is a relaxed atomic add: no lookup, lock or allocation per message.
//! What the hub already knows (connections, queues) is read when `/metrics` is scraped.

use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::http::Method;
use parlor_protocol::ClientFrame;
use parlor_store_sqlite::OnCommit;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use super::histogram::{FAST_READ_BUCKETS, Histogram, LATENCY_BUCKETS};
use crate::bus::Hub;

/// Client frame types, as the `type` label of `parlor_events_in_total`; `invalid` counts
/// frames that did not parse or were too large.
const FRAMES_IN: [&str; 11] = [
    "chat_message",
    "typing_indicator",
    "message_read",
    "resume",
    "edit_message",
    "delete_message",
    "react",
    "focus",
    "ping",
    "invalid",
    "call",
];

type Label = [(&'static str, &'static str); 1];

/// The route templates that answer a page of message history, timed by
/// `parlor_history_page_seconds` (the WebSocket serves no history: `resume` replays events).
const HISTORY_ROUTES: [&str; 2] = ["/api/chat/conversations/{id}/messages", "/api/chat/history"];

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    /// The route's template (`/api/chat/messages/{id}`), never the path: bounded cardinality,
    /// no ids or query strings.
    route: String,
    status: &'static str,
}

/// Web Push deliveries (`away/push/sender.rs`), one counter per outcome.
#[derive(Clone, Default)]
pub struct PushMetrics {
    /// Accepted by the push service (2xx).
    pub sent: Counter,
    /// Given up: refused endpoint, 4xx, or retries used up.
    pub failed: Counter,
    /// Never tried: the queue was full or too many deliveries were running.
    pub dropped: Counter,
    /// The push service said the subscription is gone (404, 410); it was deleted.
    pub removed: Counter,
}

/// Mail to people who are away (`away/email/mailer.rs`), one counter per outcome.
#[derive(Clone, Default)]
pub struct EmailMetrics {
    /// Accepted by the mail server.
    pub sent: Counter,
    /// Given up: a permanent refusal (5xx), or temporary failures past `email.max_attempts`.
    pub failed: Counter,
    /// A temporary failure; tried again next round.
    pub retried: Counter,
    /// Due, but the rules said no right before sending (read, on screen, email off, quiet hours).
    pub skipped: Counter,
}

/// The cluster bus's counters (`bus/redis.rs`, `bus/remote.rs`), registered whether or not a
/// bus runs.
#[derive(Clone, Default)]
pub struct BusMetrics {
    pub published: Counter,
    pub publish_dropped: Counter,
    pub received: Counter,
    pub repaired: Counter,
    pub connected: Gauge,
}

#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    connections: Gauge,
    users: Gauge,
    send_queue: Gauge,
    send_queue_max: Gauge,
    write_queue: Gauge,
    /// The store's writer queue, known once the store is open.
    write_queue_len: OnceLock<Box<dyn Fn() -> usize + Send + Sync>>,
    /// In the order of [`FRAMES_IN`].
    frames_in: Vec<Counter>,
    frames_out: Counter,
    http: Family<HttpLabels, Counter>,
    delivery: Histogram,
    db_write_batch: Histogram,
    db_ping: Histogram,
    history_page: Histogram,
    slow_consumers: Counter,
    rate_limited: Family<Label, Counter>,
    bus: BusMetrics,
    push: PushMetrics,
    email: EmailMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("parlor");
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let connections = gauge(&mut registry, "websocket_connections", "Open WebSocket connections");
        let users = gauge(&mut registry, "connected_users", "Users with at least one open WebSocket connection");
        let send_queue = gauge(
            &mut registry,
            "send_queue_depth",
            "Events waiting in all connections' send queues together (each holds at most limits.send_queue)",
        );
        let send_queue_max =
            gauge(&mut registry, "send_queue_depth_max", "Events waiting in the fullest connection's send queue");
        let write_queue = gauge(
            &mut registry,
            "write_queue_depth",
            "Writes (messages, receipts) waiting for the database's batch writer",
        );

        let events_in = Family::<Label, Counter>::default();
        registry.register(
            "events_in",
            "Frames received from clients, by type (`invalid`: did not parse or too large)",
            events_in.clone(),
        );
        let frames_in = FRAMES_IN.iter().map(|kind| events_in.get_or_create_owned(&[("type", *kind)])).collect();
        let frames_out = Counter::default();
        registry.register(
            "events_out",
            "Frames written to client sockets (events, acks, errors, pongs)",
            frames_out.clone(),
        );

        let http = Family::<HttpLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests, by route template and status class", http.clone());

        let delivery = Histogram::new(LATENCY_BUCKETS);
        registry.register_with_unit(
            "delivery_latency",
            "From a message's publication (right after its commit) to its write to a recipient's socket",
            Unit::Seconds,
            delivery.clone(),
        );
        let db =
            Family::<Label, Histogram, fn() -> Histogram>::new_with_constructor(|| Histogram::new(LATENCY_BUCKETS));
        registry.register_with_unit(
            "db_latency",
            "Database calls: `write_batch` is one commit of the batch writer (messages, receipts), `ping` the readiness check",
            Unit::Seconds,
            db.clone(),
        );
        let db_write_batch = db.get_or_create_owned(&[("op", "write_batch")]);
        let db_ping = db.get_or_create_owned(&[("op", "ping")]);

        let history_page = Histogram::new(FAST_READ_BUCKETS);
        registry.register_with_unit(
            "history_page",
            "Answered pages of message history (GET /api/chat/conversations/{id}/messages and seed 002's /api/chat/history): from the request reaching the server to its JSON body ready",
            Unit::Seconds,
            history_page.clone(),
        );

        let slow_consumers = Counter::default();
        registry.register(
            "slow_consumers_dropped",
            "Connections closed with 4008 because their send queue was full",
            slow_consumers.clone(),
        );
        let rate_limited = Family::<Label, Counter>::default();
        registry.register("rate_limited", "Requests and frames refused by a rate limit, by kind", rate_limited.clone());

        let bus = BusMetrics::default();
        registry.register("bus_published", "Envelopes this node published to the cluster bus", bus.published.clone());
        registry.register(
            "bus_publish_dropped",
            "Envelopes not published (the bus was down or behind); other nodes repair from the database",
            bus.publish_dropped.clone(),
        );
        registry.register("bus_received", "Envelopes received from other nodes", bus.received.clone());
        registry.register(
            "bus_repaired",
            "Events delivered from the database because the bus lost or reordered them",
            bus.repaired.clone(),
        );
        registry.register("bus_connected", "1 while subscribed to the cluster bus", bus.connected.clone());

        let deliveries = Family::<Label, Counter>::default();
        registry.register(
            "push_deliveries",
            "Web Push deliveries, by outcome (sent, failed, dropped, removed)",
            deliveries.clone(),
        );
        let outcome = |name: &'static str| deliveries.get_or_create_owned(&[("outcome", name)]);
        let push = PushMetrics {
            sent: outcome("sent"),
            failed: outcome("failed"),
            dropped: outcome("dropped"),
            removed: outcome("removed"),
        };

        let emails = Family::<Label, Counter>::default();
        registry.register(
            "emails",
            "Mail to people who are away, by outcome (sent, failed, retried, skipped)",
            emails.clone(),
        );
        let outcome = |name: &'static str| emails.get_or_create_owned(&[("outcome", name)]);
        let email = EmailMetrics {
            sent: outcome("sent"),
            failed: outcome("failed"),
            retried: outcome("retried"),
            skipped: outcome("skipped"),
        };

        let inner = Inner {
            push,
            email,
            bus,
            registry,
            connections,
            users,
            send_queue,
            send_queue_max,
            write_queue,
            write_queue_len: OnceLock::new(),
            frames_in,
            frames_out,
            http,
            delivery,
            db_write_batch,
            db_ping,
            history_page,
            slow_consumers,
            rate_limited,
        };
        Metrics { inner: Arc::new(inner) }
    }

    /// Web Push's counters.
    pub fn push(&self) -> PushMetrics {
        self.inner.push.clone()
    }

    /// Email's counters.
    pub fn email(&self) -> EmailMetrics {
        self.inner.email.clone()
    }

    /// The cluster bus's counters.
    pub fn bus(&self) -> BusMetrics {
        self.inner.bus.clone()
    }

    /// What the SQLite batch writer calls after each commit.
    pub fn on_commit(&self) -> OnCommit {
        let histogram = self.inner.db_write_batch.clone();
        Arc::new(move |elapsed| histogram.observe(elapsed))
    }

    /// Where scrapes read the store's writer queue from; later calls are ignored.
    pub fn watch_write_queue(&self, len: impl Fn() -> usize + Send + Sync + 'static) {
        self.inner.write_queue_len.set(Box::new(len)).ok();
    }

    /// A client frame arrived: `None` when it did not parse or was too large.
    pub fn frame_in(&self, frame: Option<&ClientFrame>) {
        let index = match frame {
            Some(ClientFrame::ChatMessage(_)) => 0,
            Some(ClientFrame::TypingIndicator(_)) => 1,
            Some(ClientFrame::MessageRead(_)) => 2,
            Some(ClientFrame::Resume(_)) => 3,
            Some(ClientFrame::EditMessage(_)) => 4,
            Some(ClientFrame::DeleteMessage(_)) => 5,
            Some(ClientFrame::React(_)) => 6,
            Some(ClientFrame::Focus(_)) => 7,
            Some(ClientFrame::Ping) => 8,
            None => 9,
            Some(
                ClientFrame::CallInvite(_)
                | ClientFrame::CallRinging(_)
                | ClientFrame::CallAccept(_)
                | ClientFrame::CallDecline(_)
                | ClientFrame::CallSignal(_)
                | ClientFrame::CallEnd(_),
            ) => 10,
        };
        if let Some(counter) = self.inner.frames_in.get(index) {
            counter.inc();
        }
    }

    /// A frame was written to a client's socket.
    pub fn frame_out(&self) {
        self.inner.frames_out.inc();
    }

    /// A live message reached a recipient's socket; `published` is when the hub fanned it out.
    pub fn delivered(&self, published: Instant) {
        self.inner.delivery.observe(published.elapsed());
    }

    pub fn store_ping(&self, elapsed: Duration) {
        self.inner.db_ping.observe(elapsed);
    }

    pub fn slow_consumer_dropped(&self) {
        self.inner.slow_consumers.inc();
    }

    /// A rate limit refused something; `kind` names the limit (`messages`, `login`...).
    pub fn rate_limited(&self, kind: &'static str) {
        self.inner.rate_limited.get_or_create(&[("kind", kind)]).inc();
    }

    /// An HTTP request finished, `elapsed` after it reached the server; `route` is its matched
    /// route template. An answered history page is timed too.
    pub fn http_request(&self, method: &Method, route: &str, status: u16, elapsed: Duration) {
        if method == Method::GET && (200..300).contains(&status) && HISTORY_ROUTES.contains(&route) {
            self.inner.history_page.observe(elapsed);
        }
        let status = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.inner.http.get_or_create(&HttpLabels { route: route.to_owned(), status }).inc();
    }

    /// The text exposition (OpenMetrics), with the gauges read from `hub` now.
    pub fn render(&self, hub: &Hub) -> Result<String, std::fmt::Error> {
        let inner = &*self.inner;
        let (queued, fullest) = hub.queue_depths();
        inner.connections.set(as_i64(hub.connection_count()));
        inner.users.set(as_i64(hub.user_count()));
        inner.send_queue.set(as_i64(queued));
        inner.send_queue_max.set(as_i64(fullest));
        inner.write_queue.set(as_i64(inner.write_queue_len.get().map_or(0, |len| len())));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &inner.registry)?;
        Ok(out)
    }
}

fn as_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(metrics: &Metrics) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &metrics.inner.registry).unwrap_or_else(|e| panic!("{e}"));
        out
    }

    #[test]
    fn rate_limit_hits_are_counted_by_kind() {
        let metrics = Metrics::new();
        assert!(!rendered(&metrics).contains("parlor_rate_limited_total{"), "no series before the first hit");
        metrics.rate_limited("messages");
        metrics.rate_limited("messages");
        metrics.rate_limited("login");
        let text = rendered(&metrics);
        assert!(text.contains("# HELP parlor_rate_limited "), "{text}");
        assert!(text.contains(r#"parlor_rate_limited_total{kind="messages"} 2"#), "{text}");
        assert!(text.contains(r#"parlor_rate_limited_total{kind="login"} 1"#), "{text}");
    }

    #[test]
    fn histograms_are_cumulative_and_count_every_observation() {
        let metrics = Metrics::new();
        metrics.store_ping(Duration::from_micros(300));
        metrics.store_ping(Duration::from_millis(3));
        metrics.store_ping(Duration::from_secs(60));
        let text = rendered(&metrics);
        assert!(text.contains(r#"parlor_db_latency_seconds_bucket{le="0.0005",op="ping"} 1"#), "{text}");
        assert!(text.contains(r#"parlor_db_latency_seconds_bucket{le="0.005",op="ping"} 2"#), "{text}");
        assert!(text.contains(r#"parlor_db_latency_seconds_bucket{le="+Inf",op="ping"} 3"#), "{text}");
        assert!(text.contains(r#"parlor_db_latency_seconds_count{op="ping"} 3"#), "{text}");
    }
}
