//! The `ramp` mode: the same load at rising rates on the same sockets, to find the highest rate
//! the server sustains with p99 under a bound and nothing lost. Each step is a full phase
//! ([`crate::load::Session::phase`]): sent, drained, measured; the ramp stops after the first
//! step that fails.

use std::time::Duration;

use serde::Serialize;

use crate::load::{Report, Session};

#[derive(Clone, Debug)]
pub struct Settings {
    /// Message rates to try, in order.
    pub rates: Vec<f64>,
    /// Seconds per step.
    pub step_secs: f64,
    /// A step passes when its delivery p99 is at most this many milliseconds...
    pub p99_bound_ms: f64,
    // ...and nothing was lost, dropped by the generator, or answered with an error.
}

impl Settings {
    /// `start`, `start * factor`, ... up to `max`.
    pub fn geometric(start: f64, factor: f64, max: f64) -> Vec<f64> {
        let mut rates = vec![];
        let mut rate = start;
        while rate <= max * 1.0001 && factor > 1.0 && rate > 0.0 {
            rates.push(rate.round());
            rate *= factor;
        }
        rates
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct RampReport {
    pub p99_bound_ms: f64,
    pub steps: Vec<Step>,
    /// The highest rate that passed, and its deliveries per second.
    pub highest_rate: Option<f64>,
    pub highest_deliveries_per_sec: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Step {
    pub passed: bool,
    /// Why it failed, if it did.
    pub failure: Option<String>,
    pub report: Report,
}

pub fn judge(report: &Report, p99_bound_ms: f64) -> Option<String> {
    if report.lost > 0 {
        Some(format!("{} lost", report.lost))
    } else if report.backlogged > 0 {
        Some(format!("{} sends backlogged in the generator", report.backlogged))
    } else if report.errors > 0 {
        Some(format!("{} error frames", report.errors))
    } else if report.latency.p99 > p99_bound_ms {
        Some(format!("p99 {:.1} ms > {p99_bound_ms} ms", report.latency.p99))
    } else {
        None
    }
}

pub async fn run(session: &mut Session, settings: &Settings) -> anyhow::Result<RampReport> {
    anyhow::ensure!(!settings.rates.is_empty(), "no rates to try");
    let mut steps: Vec<Step> = vec![];
    for &rate in &settings.rates {
        let report = session.phase(rate, settings.step_secs).await?;
        let failure = judge(&report, settings.p99_bound_ms);
        eprintln!(
            "ramp: {rate} msg/s -> {:.0} deliveries/s, p99 {:.2} ms: {}",
            report.deliveries_per_sec,
            report.latency.p99,
            failure.as_deref().unwrap_or("pass")
        );
        let passed = failure.is_none();
        steps.push(Step { passed, failure, report });
        if !passed {
            break;
        }
        // Let queues and the write-ahead log settle between steps.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    let best = steps.iter().rev().find(|s| s.passed);
    Ok(RampReport {
        p99_bound_ms: settings.p99_bound_ms,
        highest_rate: best.map(|s| s.report.rate),
        highest_deliveries_per_sec: best.map(|s| s.report.deliveries_per_sec),
        steps,
    })
}

impl std::fmt::Display for RampReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "rate msg/s  deliveries/s  p50 ms  p99 ms  max ms  lost  server CPU  result")?;
        for s in &self.steps {
            let r = &s.report;
            writeln!(
                f,
                "{:>10.0}  {:>12.0}  {:>6.2}  {:>6.2}  {:>6.1}  {:>4}  {:>10}  {}",
                r.rate,
                r.deliveries_per_sec,
                r.latency.p50,
                r.latency.p99,
                r.latency.max,
                r.lost,
                r.server.map_or("-".to_owned(), |u| format!("{:.0}%", u.cpu_percent)),
                s.failure.as_deref().unwrap_or("pass")
            )?;
        }
        match (self.highest_rate, self.highest_deliveries_per_sec) {
            (Some(rate), Some(d)) => write!(
                f,
                "highest rate with p99 <= {} ms and nothing lost: {rate} msg/s ({d:.0} deliveries/s)",
                self.p99_bound_ms
            ),
            _ => write!(f, "no rate passed (p99 <= {} ms, nothing lost)", self.p99_bound_ms),
        }
    }
}
