//! `parlor-bench`: drives a running chat server over real WebSockets and reports what it
//! measured. `load` sends messages open-loop at a target rate into rooms and measures delivery
//! and end-to-end latency; `idle` holds authenticated connections to measure memory per
//! connection and how fast a reconnect storm is absorbed. Users come from host-app tokens the
//! generator signs itself, so no registration (and no password hashing) is in the way.

mod fixture;
mod idle;
mod load;
mod server;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(name = "parlor-bench", about = "Load generator for parlor")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Protocol {
    /// parlor's unified socket `/ws/` with `conversation_id` on every frame.
    Parlor,
    /// Seed 001's conversation-scoped `/ws/chat/{id}/?token=` (works against its Django server).
    Seed001,
}

#[derive(clap::Args, Clone)]
pub struct Target {
    /// Base URL of the server, e.g. http://127.0.0.1:8080
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// The server's PARLOR_JWT_SECRET (host-app mode), used to sign the load's users' tokens.
    #[arg(long, env = "PARLOR_JWT_SECRET")]
    pub jwt_secret: String,
    /// Server process id, to report its memory and CPU.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Prefix for the load's user ids, so runs do not collide.
    #[arg(long, default_value = "bench")]
    pub user_prefix: String,
}

#[derive(Subcommand)]
enum Command {
    /// Messages into rooms at a fixed rate; reports throughput, loss and latency.
    Load {
        #[command(flatten)]
        target: Target,
        /// Number of rooms (conversations).
        #[arg(long, default_value_t = 10)]
        rooms: usize,
        /// Members per room (2 = direct conversations).
        #[arg(long, default_value_t = 2)]
        room_size: usize,
        /// Messages per second, open loop: sends never wait for answers.
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
        /// Seconds of sending.
        #[arg(long, default_value_t = 10)]
        duration: u64,
        /// Message size in bytes.
        #[arg(long, default_value_t = 100)]
        payload: usize,
        #[arg(long, value_enum, default_value = "parlor")]
        protocol: Protocol,
    },
    /// Holds idle authenticated connections; reports server memory per connection.
    Idle {
        #[command(flatten)]
        target: Target,
        /// Connections to open, in steps (e.g. 1000,5000,10000).
        #[arg(long, value_delimiter = ',', default_value = "1000")]
        steps: Vec<usize>,
        /// Seconds to hold the connections at the last step (heartbeat cost).
        #[arg(long, default_value_t = 10)]
        hold: u64,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Load { target, rooms, room_size, rate, duration, payload, protocol } => {
            let settings = load::Settings { rooms, room_size, rate, duration, payload, protocol };
            load::run(&target, settings).await
        }
        Command::Idle { target, steps, hold } => idle::run(&target, &steps, hold).await,
    }
}
