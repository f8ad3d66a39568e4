//! The `parlor-bench` command line; the modes live in the library (see lib.rs).

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use parlor_bench::fixture::Fixture;
use parlor_bench::{Protocol, Target, idle, load, ramp, requests};

#[derive(Parser)]
#[command(name = "parlor-bench", about = "Load generator for parlor (and seed 001 chat servers)")]
struct Cli {
    /// Print each report as one JSON line instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

/// The conversations to create on a parlor server.
#[derive(clap::Args)]
struct Shape {
    /// Number of conversations to create.
    #[arg(long, default_value_t = 10)]
    rooms: usize,
    /// Members per conversation (2 = direct conversations).
    #[arg(long, default_value_t = 2)]
    room_size: usize,
    /// Index of the first user (`{prefix}-{index}`).
    #[arg(long, default_value_t = 0)]
    first_user: usize,
    /// Direct conversations among this many users (even), each user in many of them and on
    /// one socket, instead of new users for every conversation: past the sockets one machine
    /// holds (e.g. 50,000 conversations among 1,000 users).
    #[arg(long)]
    users: Option<usize>,
}

impl Shape {
    async fn create(&self, target: &Target) -> anyhow::Result<Fixture> {
        match self.users {
            Some(users) => {
                anyhow::ensure!(self.room_size == 2, "--users makes direct conversations: --room-size 2");
                Fixture::create_direct_among(target, self.rooms, users, self.first_user).await
            }
            None => Fixture::create(target, self.rooms, self.room_size, self.first_user).await,
        }
    }
}

/// Who talks in which conversations.
#[derive(clap::Args)]
struct Workload {
    /// Conversations and their members' tokens from a file (`parlor-bench fixture`, or seed 001's
    /// `manage.py make_fixture`); otherwise created on the parlor server now.
    #[arg(long)]
    fixture: Option<PathBuf>,
    #[command(flatten)]
    shape: Shape,
    /// Message size in bytes.
    #[arg(long, default_value_t = 100)]
    payload: usize,
    #[arg(long, value_enum, default_value = "parlor")]
    protocol: Protocol,
    /// Share of clients that never read (slow consumers), e.g. 0.01.
    #[arg(long, default_value_t = 0.0)]
    stalled: f64,
    /// Also measure, per message, the delivery to its last member (costs the generator CPU).
    #[arg(long)]
    last_member: bool,
}

impl Workload {
    async fn fixture(&self, target: &Target) -> anyhow::Result<Fixture> {
        match &self.fixture {
            Some(path) => Fixture::read(path),
            None => {
                let f = self.shape.create(target).await?;
                eprintln!("fixture: {} conversations of {} members", self.shape.rooms, self.shape.room_size);
                Ok(f)
            }
        }
    }

    fn settings(&self) -> load::Settings {
        load::Settings {
            payload: self.payload,
            protocol: self.protocol,
            stalled: self.stalled,
            last_member: self.last_member,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Creates conversations on a parlor server and writes them as a fixture file.
    Fixture {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        shape: Shape,
        #[arg(long)]
        out: PathBuf,
    },
    /// Messages into conversations at a fixed rate; reports throughput, loss and latency.
    Load {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        workload: Workload,
        /// Messages per second, open loop: sends never wait for answers.
        #[arg(long, default_value_t = 100.0)]
        rate: f64,
        /// Seconds of sending.
        #[arg(long, default_value_t = 10.0)]
        duration: f64,
    },
    /// The same load at rising rates until p99 exceeds a bound or anything is lost.
    Ramp {
        #[command(flatten)]
        target: Target,
        #[command(flatten)]
        workload: Workload,
        /// Rates to try (msg/s); default: --start, times --factor, up to --max.
        #[arg(long, value_delimiter = ',')]
        rates: Vec<f64>,
        #[arg(long, default_value_t = 100.0)]
        start: f64,
        #[arg(long, default_value_t = 1.5)]
        factor: f64,
        #[arg(long, default_value_t = 100_000.0)]
        max: f64,
        /// Seconds per step.
        #[arg(long, default_value_t = 5.0)]
        step_secs: f64,
        /// A step passes with p99 at most this (ms) and nothing lost.
        #[arg(long, default_value_t = 25.0)]
        p99_ms: f64,
    },
    /// Holds idle authenticated connections; memory per connection, heartbeat cost, reconnect storm.
    Idle {
        #[command(flatten)]
        target: Target,
        /// Connections to hold, in cumulative steps (e.g. 1000,5000,10000).
        #[arg(long, value_delimiter = ',', default_value = "1000")]
        steps: Vec<usize>,
        /// Seconds to hold the connections after the last step.
        #[arg(long, default_value_t = 10)]
        hold: u64,
        #[arg(long, default_value_t = 0)]
        first_user: usize,
        /// Source addresses to connect from (e.g. 127.0.0.2,127.0.0.3).
        #[arg(long, value_delimiter = ',')]
        local_ip: Vec<IpAddr>,
        /// Then drop every connection and reopen them all at once.
        #[arg(long)]
        storm: bool,
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
        /// Sockets from a seed 001 fixture's members instead of signed tokens.
        #[arg(long)]
        fixture: Option<PathBuf>,
    },
    /// One authenticated GET repeated back to back; its latency.
    Requests {
        #[command(flatten)]
        target: Target,
        /// e.g. /api/chat/conversations/
        #[arg(long)]
        path: String,
        /// The user (index) whose token is used.
        #[arg(long, default_value_t = 0)]
        user: usize,
        #[arg(long, default_value_t = 1000)]
        count: usize,
        #[arg(long, default_value_t = 100)]
        warmup: usize,
    },
}

fn print<T: serde::Serialize + std::fmt::Display>(json: bool, report: &T) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string(report)?);
    } else {
        println!("{report}");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Fixture { target, shape, out } => {
            shape.create(&target).await?.write(&out)?;
            eprintln!("wrote {} conversations of {} to {}", shape.rooms, shape.room_size, out.display());
            Ok(())
        }
        Command::Load { target, workload, rate, duration } => {
            let fixture = workload.fixture(&target).await?;
            let report = load::run(&target, &fixture, workload.settings(), rate, duration).await?;
            print(cli.json, &report)
        }
        Command::Ramp { target, workload, rates, start, factor, max, step_secs, p99_ms } => {
            let fixture = workload.fixture(&target).await?;
            let rates = if rates.is_empty() { ramp::Settings::geometric(start, factor, max) } else { rates };
            let mut session = load::Session::open(&target, &fixture, workload.settings()).await?;
            let report = ramp::run(&mut session, &ramp::Settings { rates, step_secs, p99_bound_ms: p99_ms }).await?;
            session.close().await;
            print(cli.json, &report)
        }
        Command::Idle { target, steps, hold, first_user, local_ip, storm, concurrency, fixture } => {
            let fixture = fixture.map(|p| Fixture::read(&p)).transpose()?;
            let settings = idle::Settings { steps, hold, first_user, local_ips: local_ip, storm, concurrency, fixture };
            print(cli.json, &idle::run(&target, settings).await?)
        }
        Command::Requests { target, path, user, count, warmup } => {
            print(cli.json, &requests::run(&target, user, &path, count, warmup).await?)
        }
    }
}
