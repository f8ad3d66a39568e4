//! The `idle` mode: open authenticated connections in steps and measure the server's memory per
//! added connection, hold them (what heartbeats cost), then drop them all and reopen them at
//! once (a reconnect storm). One process holds at most ~19,000 sockets here (20,000 open files
//! per process): run several with distinct `--first-user` and source addresses (`--local-ip`).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, TryStreamExt, stream};
use serde::Serialize;

use crate::clients::{self, Socket};
use crate::fixture::{self, Fixture};
use crate::server::{self, mib};
use crate::{Latency, Target};

#[derive(Clone, Debug)]
pub struct Settings {
    /// Connections held after each step (cumulative, e.g. 1000, 5000, 10000).
    pub steps: Vec<usize>,
    /// Seconds to hold the connections after the last step.
    pub hold: u64,
    /// Index of this process's first user (several processes must not share users).
    pub first_user: usize,
    /// Source addresses to spread the connections over (round-robin).
    pub local_ips: Vec<IpAddr>,
    /// Drop everything and reconnect at once after holding.
    pub storm: bool,
    /// Connections opened at once (per process).
    pub concurrency: usize,
    /// Seed 001 servers: the sockets come from the fixture's members instead of signed tokens.
    pub fixture: Option<Fixture>,
}

#[derive(Clone, Debug, Serialize)]
pub struct IdleReport {
    pub first_user: usize,
    pub steps: Vec<StepFigure>,
    /// Server CPU while holding every connection idle (heartbeats only).
    pub hold_secs: u64,
    pub hold_cpu_percent: Option<f64>,
    pub storm: Option<Storm>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StepFigure {
    /// Connections this process holds.
    pub connections: usize,
    pub server_rss_mib: Option<f64>,
    /// (RSS now - RSS before this process connected) / connections.
    pub bytes_per_connection: Option<f64>,
    /// (RSS now - RSS at the previous step) / connections added.
    pub marginal_bytes_per_connection: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Storm {
    pub connections: usize,
    pub secs: f64,
    pub per_sec: f64,
    /// Time from the storm's start until each socket's first frame.
    pub ready: Latency,
}

/// A held socket: a task reads it (answering the server's pings, as a live client does) until
/// dropped.
struct Held(tokio::task::JoinHandle<()>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn hold(mut socket: Socket) -> Held {
    Held(tokio::spawn(async move { while let Some(Ok(_)) = socket.next().await {} }))
}

pub async fn run(target: &Target, s: Settings) -> anyhow::Result<IdleReport> {
    let most = s.steps.iter().copied().max().unwrap_or(0);
    let urls: Vec<String> = match &s.fixture {
        Some(f) => {
            let urls: Vec<String> =
                f.conversations.iter().flat_map(|c| c.members.iter().map(|m| f.socket_url(c.id, &m.token))).collect();
            anyhow::ensure!(urls.len() >= most, "the fixture has {} members, fewer than {most}", urls.len());
            urls
        }
        None => {
            let tokens: Vec<String> = (s.first_user..s.first_user + most)
                .map(|i| fixture::token(target, i))
                .collect::<anyhow::Result<_>>()?;
            // Create the users first, so user creation is not counted as connection cost.
            let http = reqwest::Client::new();
            stream::iter(tokens.iter().map(|t| fixture::user_id(&http, target, t)))
                .buffer_unordered(32)
                .try_collect::<Vec<_>>()
                .await?;
            let base = fixture::ws_base(&target.url);
            tokens.iter().map(|t| format!("{base}/ws/?token={t}")).collect()
        }
    };
    let local = |i: usize| (!s.local_ips.is_empty()).then(|| s.local_ips[i % s.local_ips.len()]);

    let mut sockets: Vec<Held> = Vec::with_capacity(most);
    let baseline = server::sample(target.server_pid);
    let mut previous = baseline;
    let mut steps = vec![];
    for &step in &s.steps {
        let opened: Vec<Held> = stream::iter((sockets.len()..step).map(|i| clients::open(&urls[i], local(i))))
            .buffer_unordered(s.concurrency)
            .map_ok(hold)
            .try_collect()
            .await?;
        sockets.extend(opened);
        // Let the server finish each connection's registration work before reading its RSS.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = server::sample(target.server_pid);
        let per = |from: Option<server::Sample>, count: usize| match (from, now) {
            (Some(a), Some(b)) if count > 0 => Some(b.rss_bytes.saturating_sub(a.rss_bytes) as f64 / count as f64),
            _ => None,
        };
        let added = step - steps.last().map_or(0, |p: &StepFigure| p.connections);
        let figure = StepFigure {
            connections: step,
            server_rss_mib: now.map(|n| mib(n.rss_bytes)),
            bytes_per_connection: per(baseline, step),
            marginal_bytes_per_connection: per(previous, added),
        };
        eprintln!("idle: {step} connections held");
        steps.push(figure);
        previous = now;
    }

    let held_from = server::sample(target.server_pid);
    tokio::time::sleep(Duration::from_secs(s.hold)).await;
    let hold_cpu_percent = match (held_from, server::sample(target.server_pid)) {
        (Some(a), Some(b)) => Some(server::cpu_percent(&a, &b)),
        _ => None,
    };

    let storm = if s.storm {
        let count = sockets.len();
        drop(sockets);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let started = Instant::now();
        let ready: Vec<(Duration, Held)> = stream::iter((0..count).map(|i| {
            let url = &urls[i];
            async move {
                let mut socket = clients::open(url, local(i)).await?;
                // Connected means authenticated and registered: the server's first frame.
                socket.next().await.transpose()?;
                anyhow::Ok((started.elapsed(), hold(socket)))
            }
        }))
        .buffer_unordered(s.concurrency)
        .try_collect()
        .await?;
        let secs = started.elapsed().as_secs_f64();
        let mut h = hdrhistogram::Histogram::<u64>::new(3)?;
        for (at, _) in &ready {
            h.record(at.as_micros() as u64).ok();
        }
        Some(Storm { connections: count, secs, per_sec: count as f64 / secs, ready: Latency::of(&h) })
    } else {
        None
    };
    Ok(IdleReport { first_user: s.first_user, steps, hold_secs: s.hold, hold_cpu_percent, storm })
}

impl std::fmt::Display for IdleReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let opt = |v: Option<f64>, digits: usize| v.map_or("-".to_owned(), |v| format!("{v:.digits$}"));
        writeln!(f, "connections  server_rss_mib  bytes_per_connection  marginal_bytes")?;
        for s in &self.steps {
            writeln!(
                f,
                "{:>11}  {:>14}  {:>20}  {:>14}",
                s.connections,
                opt(s.server_rss_mib, 1),
                opt(s.bytes_per_connection, 0),
                opt(s.marginal_bytes_per_connection, 0)
            )?;
        }
        write!(f, "holding for {} s: server CPU {}% of one core", self.hold_secs, opt(self.hold_cpu_percent, 2))?;
        if let Some(s) = &self.storm {
            write!(
                f,
                "\nreconnect storm: {} connections in {:.2} s ({:.0}/s); each ready after {}",
                s.connections, s.secs, s.per_sec, s.ready
            )?;
        }
        Ok(())
    }
}
