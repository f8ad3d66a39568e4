//! The `load` mode: every member of every conversation on its own WebSocket; messages sent
//! open-loop at a fixed rate (sends never wait for answers), round-robin over the senders;
//! every delivery's end-to-end latency in an HDR histogram. A [`Session`] keeps its sockets
//! between phases, so [`crate::ramp`] can raise the rate without reconnecting.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};
use hdrhistogram::Histogram;
use serde::Serialize;
use serde_json::json;
use tokio::sync::watch;

use crate::clients::{self, Client, Shared, StalledEnd};
use crate::fixture::Fixture;
use crate::{Latency, Protocol, Target, server};

#[derive(Clone, Debug)]
pub struct Settings {
    pub payload: usize,
    pub protocol: Protocol,
    /// Share of clients (0..1) that never read: slow consumers the server should cut off.
    pub stalled: f64,
    /// Measure each message's slowest delivery (costly; for large rooms).
    pub last_member: bool,
}

/// One phase's figures.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub protocol: Protocol,
    pub conversations: usize,
    pub members: usize,
    pub sockets: usize,
    pub payload: usize,
    pub rate: f64,
    pub duration: f64,
    pub sent: u64,
    /// Sends dropped by the generator because a socket's writer was 1024 frames behind.
    pub backlogged: u64,
    /// `None` for seed 001 (its protocol acknowledges nothing).
    pub acknowledged: Option<u64>,
    pub errors: u64,
    pub delivered: u64,
    pub expected: u64,
    pub lost: u64,
    pub deliveries_per_sec: f64,
    pub latency: Latency,
    /// Per message, the delivery to its last member (with `last_member`).
    pub last_member: Option<Latency>,
    pub stalled: usize,
    /// Stalled clients the server had closed (by close code; `none` = dropped without one).
    pub stalled_cut_off: HashMap<String, usize>,
    pub server: Option<server::Usage>,
}

pub struct Session {
    clients: Vec<Client>,
    /// Who sends where, in turn: (client index, conversation index), every member of every
    /// conversation but the stalled ones.
    senders: Vec<(usize, usize)>,
    /// Per conversation, its id and the members that read (and so should receive every message).
    conversation_ids: Vec<i64>,
    readers_per_room: Vec<u64>,
    shared: Arc<Shared>,
    resume: watch::Sender<bool>,
    settings: Settings,
    target: Target,
    members: usize,
    run: u64,
    phase: u64,
    /// Sends so far: each phase takes up the round-robin where the last one left it, so a
    /// ramp's steps together reach every conversation even when one step sends fewer messages
    /// than there are conversations.
    turn: usize,
}

impl Session {
    /// Connects every member of every conversation in `fixture`.
    pub async fn open(target: &Target, fixture: &Fixture, settings: Settings) -> anyhow::Result<Session> {
        anyhow::ensure!((0.0..0.5).contains(&settings.stalled), "--stalled must be a fraction below 0.5");
        let (resume, resume_stalled) = watch::channel(false);
        let shared = Arc::new(Shared::new(settings.last_member, resume_stalled));
        // One socket per distinct URL: on parlor's socket a user in several conversations (a
        // fixture of `--users`) gets all of them on one, as a real client does.
        let mut members: Vec<(usize, i64, String)> = vec![];
        let mut socket_of: HashMap<String, usize> = HashMap::new();
        let mut room_members: Vec<Vec<usize>> = vec![];
        for (room, c) in fixture.conversations.iter().enumerate() {
            let mut sockets = vec![];
            for m in &c.members {
                let url = match settings.protocol {
                    Protocol::Seed001 => fixture.socket_url(c.id, &m.token),
                    Protocol::Parlor => format!("{}/ws/?token={}", crate::fixture::ws_base(&target.url), m.token),
                };
                let index = *socket_of.entry(url.clone()).or_insert_with(|| {
                    members.push((room, c.id, url));
                    members.len() - 1
                });
                sockets.push(index);
            }
            room_members.push(sockets);
        }
        // Spread the stalled clients evenly: every `step`-th socket.
        let stalled_count = (members.len() as f64 * settings.stalled).round() as usize;
        let step = members.len().checked_div(stalled_count).unwrap_or(usize::MAX);
        let connected: Vec<anyhow::Result<Client>> =
            stream::iter(members.into_iter().enumerate().map(|(i, (room, id, url))| {
                let shared = shared.clone();
                let stalled = stalled_count > 0 && i % step == step - 1 && i / step < stalled_count;
                async move { clients::connect(&url, room, id, stalled, shared, i).await }
            }))
            .buffered(64)
            .collect()
            .await;
        let clients: Vec<Client> = connected.into_iter().collect::<anyhow::Result<_>>()?;
        let readers_per_room: Vec<u64> =
            room_members.iter().map(|m| m.iter().filter(|&&i| !clients[i].stalled).count() as u64).collect();
        // Round-robin over conversations first, then over members within each.
        let mut senders: Vec<(usize, usize, usize)> = room_members
            .iter()
            .enumerate()
            .flat_map(|(room, m)| m.iter().enumerate().map(move |(position, &i)| (position, room, i)))
            .filter(|&(_, _, i)| !clients[i].stalled)
            .collect();
        senders.sort_unstable_by_key(|&(position, room, _)| (position, room));
        // Let every socket finish its handshake-time work (presence, backlog) before measuring,
        // and outlast parlor's resume grace: a socket that sends no `resume` gets live events
        // 500 ms after connecting, which would show as latency in the first messages.
        tokio::time::sleep(Duration::from_secs(2)).await;
        Ok(Session {
            members: fixture.conversations.iter().map(|c| c.members.len()).max().unwrap_or(0),
            clients,
            senders: senders.into_iter().map(|(_, room, i)| (i, room)).collect(),
            conversation_ids: fixture.conversations.iter().map(|c| c.id).collect(),
            readers_per_room,
            shared,
            resume,
            settings,
            target: target.clone(),
            run: clients::now_nanos(),
            phase: 0,
            turn: 0,
        })
    }

    pub fn sockets(&self) -> usize {
        self.clients.len()
    }

    /// Sends at `rate` messages/s for `duration` seconds, waits (up to 10 s) for every
    /// acknowledgement and delivery, and reports.
    pub async fn phase(&mut self, rate: f64, duration: f64) -> anyhow::Result<Report> {
        anyhow::ensure!(rate > 0.0 && duration > 0.0, "rate and duration must be positive");
        anyhow::ensure!(!self.senders.is_empty(), "no client can send");
        self.phase += 1;
        for c in &mut self.clients {
            c.sent = 0;
            c.acked.store(0, Ordering::Relaxed);
            c.acked_deliveries.store(0, Ordering::Relaxed);
        }
        self.shared.delivered.store(0, Ordering::Relaxed);
        self.shared.errors.store(0, Ordering::Relaxed);
        take_histograms(&self.shared);
        let sampler = server::Sampler::start(self.target.server_pid);

        let total = (rate * duration).round() as u64;
        let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let padding = "x".repeat(self.settings.payload.saturating_sub(21));
        let mut backlogged = 0;
        let started = Instant::now();
        for i in 0..total {
            ticker.tick().await;
            let (index, room) = self.senders[self.turn % self.senders.len()];
            self.turn += 1;
            let client = &mut self.clients[index];
            let content = format!("{:020}|{padding}", clients::now_nanos());
            let frame = match self.settings.protocol {
                // Client ids are unique per run: a server that kept an earlier run's data must
                // not take these sends for retries. Their last part is the deliveries the
                // message is owed (see `expected`).
                Protocol::Parlor => json!({"type": "chat_message", "conversation_id": self.conversation_ids[room],
                    "content": content,
                    "client_id": format!("b{}-{}-{i}-{}", self.run, self.phase, self.readers_per_room[room])}),
                Protocol::Seed001 => json!({"type": "chat_message", "content": content}),
            };
            if !client.send(frame.to_string()) {
                backlogged += 1;
            }
        }
        let send_secs = started.elapsed().as_secs_f64();

        let drain_until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < drain_until && !self.drained() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let elapsed = started.elapsed().as_secs_f64();
        let usage = sampler.stop().await;
        // Let deliveries in flight arrive.
        tokio::time::sleep(Duration::from_millis(250)).await;
        let (latency, slowest) = take_histograms(&self.shared);

        let acked: u64 = self.clients.iter().map(|c| c.acked.load(Ordering::Relaxed)).sum();
        let sent: u64 = self.clients.iter().map(|c| c.sent).sum();
        let delivered = self.shared.delivered.load(Ordering::Relaxed);
        let expected = self.expected();
        Ok(Report {
            protocol: self.settings.protocol,
            conversations: self.readers_per_room.len(),
            members: self.members,
            sockets: self.clients.len(),
            payload: self.settings.payload,
            rate,
            duration: send_secs,
            sent,
            backlogged,
            acknowledged: (self.settings.protocol == Protocol::Parlor).then_some(acked),
            errors: self.shared.errors.load(Ordering::Relaxed),
            delivered,
            expected,
            lost: expected.saturating_sub(delivered)
                + if self.settings.protocol == Protocol::Parlor { sent.saturating_sub(acked) } else { 0 },
            deliveries_per_sec: delivered as f64 / elapsed,
            latency: Latency::of(&latency),
            last_member: self.settings.last_member.then(|| Latency::of(&slowest)),
            stalled: self.clients.iter().filter(|c| c.stalled).count(),
            stalled_cut_off: HashMap::new(),
            server: usage,
        })
    }

    /// Deliveries the readers should have had: every sent (parlor: acknowledged) message, once
    /// per reading member of its conversation, the sender's own socket included. A parlor
    /// socket may send into several conversations, so its reader adds up what each
    /// acknowledged message is owed; a seed 001 socket sends into its one conversation.
    fn expected(&self) -> u64 {
        self.clients
            .iter()
            .map(|c| match self.settings.protocol {
                Protocol::Parlor => c.acked_deliveries.load(Ordering::Relaxed),
                Protocol::Seed001 => c.sent * self.readers_per_room[c.room],
            })
            .sum()
    }

    fn drained(&self) -> bool {
        let acked = self.settings.protocol == Protocol::Seed001
            || self.clients.iter().all(|c| c.acked.load(Ordering::Relaxed) >= c.sent);
        acked && self.shared.delivered.load(Ordering::Relaxed) >= self.expected()
    }

    /// Closes every socket; returns how the stalled clients' sockets had ended.
    pub async fn close(self) -> HashMap<String, usize> {
        self.resume.send(true).ok();
        let mut cut_off = HashMap::new();
        for end in futures_util::future::join_all(self.clients.into_iter().map(Client::finish)).await {
            if let Some(StalledEnd::CutOff(code)) = end {
                *cut_off.entry(code.map_or("none".to_owned(), |c| c.to_string())).or_insert(0) += 1;
            }
        }
        cut_off
    }
}

/// The latency histogram and the per-message slowest-delivery histogram handed over so far.
fn take_histograms(shared: &Shared) -> (Histogram<u64>, Histogram<u64>) {
    let mut latency = Histogram::<u64>::new(3).unwrap_or_else(|_| unreachable!("3 significant figures is valid"));
    let mut slowest = Histogram::new_from(&latency);
    let mut merged: HashMap<u64, u64> = HashMap::new();
    for shard in &shared.shards {
        let Ok(mut shard) = shard.lock() else { continue };
        latency.add(&shard.latency).ok();
        shard.latency.reset();
        for (sent, micros) in shard.slowest.drain() {
            let worst = merged.entry(sent).or_insert(0);
            *worst = micros.max(*worst);
        }
    }
    for micros in merged.into_values() {
        slowest.record(micros).ok();
    }
    (latency, slowest)
}

/// One load from start to end: connect, one phase, close.
pub async fn run(
    target: &Target,
    fixture: &Fixture,
    settings: Settings,
    rate: f64,
    duration: f64,
) -> anyhow::Result<Report> {
    let mut session = Session::open(target, fixture, settings).await?;
    eprintln!("connected: {} sockets; sending {rate} msg/s for {duration} s", session.sockets());
    let mut report = session.phase(rate, duration).await?;
    report.stalled_cut_off = session.close().await;
    Ok(report)
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let protocol = match self.protocol {
            Protocol::Parlor => "parlor /ws/",
            Protocol::Seed001 => "seed 001 /ws/chat/{id}/",
        };
        writeln!(f, "protocol: {protocol}")?;
        writeln!(
            f,
            "conversations: {} (up to {} members), {} sockets, payload {} B",
            self.conversations, self.members, self.sockets, self.payload
        )?;
        writeln!(f, "target rate: {} msg/s (sent in {:.2} s)", self.rate, self.duration)?;
        let acked = self.acknowledged.map_or("n/a".to_owned(), |a| a.to_string());
        writeln!(
            f,
            "sent: {}  backlogged: {}  acknowledged: {acked}  errors: {}",
            self.sent, self.backlogged, self.errors
        )?;
        writeln!(f, "delivered: {} of {} expected  lost: {}", self.delivered, self.expected, self.lost)?;
        writeln!(f, "deliveries/s: {:.0}", self.deliveries_per_sec)?;
        writeln!(f, "latency: {}", self.latency)?;
        if let Some(last) = &self.last_member {
            writeln!(f, "last member, per message: {last}")?;
        }
        if self.stalled > 0 {
            writeln!(
                f,
                "stalled clients: {}  cut off by the server (by close code): {:?}",
                self.stalled, self.stalled_cut_off
            )?;
        }
        match &self.server {
            Some(u) => write!(f, "{u}"),
            None => write!(f, "server RSS/CPU: not measured (pass --server-pid)"),
        }
    }
}
