//! `parlor-bench`: drives a running chat server over real WebSockets and reports what it
//! measured, as text or as one JSON line per report (for `bench/run`).
//!
//! - [`load`]: messages sent open-loop at a fixed rate into rooms; delivery, loss, end-to-end
//!   latency, the server's memory and CPU; optionally some clients stop reading (slow consumers).
//! - [`ramp`]: the same load at rising rates on the same sockets, until p99 or loss gives out.
//! - [`idle`]: authenticated connections held in steps (memory per connection, heartbeat cost),
//!   then dropped and reopened at once (a reconnect storm).
//! - [`requests`]: one HTTP GET repeated (history pages, conversation lists) for its latency.
//!
//! Users come from host-app tokens the generator signs itself, so no registration (and no
//! password hashing) is in the way. The same load can be pointed at seed 001's Django server
//! through a fixture file (see [`fixture::Fixture`]).

pub mod clients;
pub mod fixture;
pub mod idle;
pub mod load;
pub mod ramp;
pub mod requests;
pub mod server;

/// Which WebSocket protocol the load speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Protocol {
    /// parlor's unified socket `/ws/` with `conversation_id` on every frame; sends are acknowledged.
    Parlor,
    /// Seed 001's conversation-scoped `/ws/chat/{id}/?token=`: one socket per conversation, no
    /// acknowledgements (parlor serves it too; so does the Django Channels peer).
    Seed001,
}

/// The server under load.
#[derive(clap::Args, Clone, Debug)]
pub struct Target {
    /// Base URL of the server, e.g. http://127.0.0.1:8080
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// The server's PARLOR_JWT_SECRET (host-app mode), used to sign the load's users' tokens.
    /// Not needed with `--fixture`.
    #[arg(long, env = "PARLOR_JWT_SECRET", default_value = "")]
    pub jwt_secret: String,
    /// Server process id, to report its memory and CPU.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Prefix for the load's user ids (`{prefix}-{index}`), so runs do not collide.
    #[arg(long, default_value = "bench")]
    pub user_prefix: String,
}

/// Milliseconds from an HDR histogram of microseconds.
pub(crate) fn ms(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

/// Latency percentiles in milliseconds.
#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Latency {
    pub count: u64,
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Latency {
    pub fn of(h: &hdrhistogram::Histogram<u64>) -> Latency {
        Latency {
            count: h.len(),
            p50: ms(h.value_at_quantile(0.5)),
            p99: ms(h.value_at_quantile(0.99)),
            p999: ms(h.value_at_quantile(0.999)),
            max: ms(h.max()),
        }
    }
}

impl std::fmt::Display for Latency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "p50 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2} ms", self.p50, self.p99, self.p999, self.max)
    }
}
