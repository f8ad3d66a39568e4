//! The `idle` mode: open authenticated connections in steps and measure the server's memory per
//! added connection, then hold them (heartbeat cost) and finally drop and reopen them all at
//! once (a reconnect storm).

use std::time::{Duration, Instant};

use futures_util::{StreamExt, stream};

use crate::{Target, fixture, server};

pub async fn run(target: &Target, steps: &[usize], hold: u64) -> anyhow::Result<()> {
    let base = fixture::ws_base(&target.url);
    let http = reqwest::Client::new();
    let most = steps.iter().copied().max().unwrap_or(0);
    let tokens: Vec<String> = (0..most).map(|i| fixture::token(target, i)).collect::<anyhow::Result<_>>()?;
    // Create the users first, so user creation is not counted as connection cost.
    stream::iter(tokens.iter().map(|t| fixture::user_id(&http, target, t)))
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await;

    let mut sockets = Vec::with_capacity(most);
    let baseline = server::sample(target.server_pid);
    println!("connections  server_rss_mib  bytes_per_connection");
    let open = |range: std::ops::Range<usize>| {
        let base = base.clone();
        let tokens = &tokens;
        async move {
            stream::iter(range.map(|i| {
                let url = format!("{base}/ws/?token={}", tokens[i]);
                async move { tokio_tungstenite::connect_async(url).await.map(|(s, _)| s) }
            }))
            .buffer_unordered(256)
            .collect::<Vec<_>>()
            .await
        }
    };
    for &step in steps {
        for socket in open(sockets.len()..step).await {
            sockets.push(socket?);
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let now = server::sample(target.server_pid);
        match (baseline, now) {
            (Some(b), Some(n)) => println!(
                "{step:>11}  {:>14.1}  {:>20.0}",
                n.rss_bytes as f64 / 1048576.0,
                (n.rss_bytes.saturating_sub(b.rss_bytes)) as f64 / step as f64
            ),
            _ => println!("{step:>11}  (pass --server-pid for memory)"),
        }
    }
    let held_from = server::sample(target.server_pid);
    tokio::time::sleep(Duration::from_secs(hold)).await;
    let held_to = server::sample(target.server_pid);
    if let (Some(a), Some(b)) = (held_from, held_to) {
        println!(
            "holding {} idle connections for {hold} s: server CPU {:.2}% of one core",
            sockets.len(),
            server::cpu_percent(&a, &b)
        );
    }

    let count = sockets.len();
    drop(sockets);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let started = Instant::now();
    let mut reopened = 0;
    for socket in open(0..count).await {
        socket?;
        reopened += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    println!("reconnect storm: {reopened} connections in {secs:.2} s ({:.0} connections/s)", reopened as f64 / secs);
    Ok(())
}
