//! The `requests` mode: one authenticated HTTP GET repeated back to back on a kept-alive
//! connection, for the latency of reads such as a history page or the conversation list. The
//! figure includes the loopback round trip and the client, so it bounds the server's own time
//! from above.

use std::time::Instant;

use anyhow::Context;
use hdrhistogram::Histogram;
use serde::Serialize;

use crate::{Latency, Target, fixture};

#[derive(Clone, Debug, Serialize)]
pub struct RequestsReport {
    pub path: String,
    pub requests: usize,
    pub response_bytes: usize,
    pub latency: Latency,
}

/// GETs `path` as user `user` (`{prefix}-{user}`) `warmup + count` times; times the last `count`.
pub async fn run(
    target: &Target,
    user: usize,
    path: &str,
    count: usize,
    warmup: usize,
) -> anyhow::Result<RequestsReport> {
    let token = fixture::token(target, user)?;
    let http = reqwest::Client::builder().pool_max_idle_per_host(1).build()?;
    let url = format!("{}{path}", target.url);
    let mut latency = Histogram::<u64>::new(3)?;
    let mut response_bytes = 0;
    for i in 0..warmup + count {
        let started = Instant::now();
        let response = http.get(&url).bearer_auth(&token).send().await?;
        let status = response.status();
        let body = response.bytes().await?;
        let micros = started.elapsed().as_micros() as u64;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            return Err(anyhow::anyhow!("{status}: {text}")).context(format!("GET {path}"));
        }
        if i >= warmup {
            latency.record(micros).ok();
        }
        response_bytes = body.len();
    }
    Ok(RequestsReport { path: path.to_owned(), requests: count, response_bytes, latency: Latency::of(&latency) })
}

impl std::fmt::Display for RequestsReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GET {} x {} ({} B each): {}", self.path, self.requests, self.response_bytes, self.latency)
    }
}
