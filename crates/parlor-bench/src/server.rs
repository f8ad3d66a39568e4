//! The server process's memory and CPU, from /proc (Linux), sampled while a load runs.

use std::time::{Duration, Instant};

use serde::Serialize;

#[derive(Clone, Copy)]
pub struct Sample {
    pub rss_bytes: u64,
    cpu_ticks: u64,
    at: Instant,
}

pub fn sample(pid: Option<u32>) -> Option<Sample> {
    let pid = pid?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kib: u64 =
        status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may contain spaces) start after the last ')'.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Sample { rss_bytes: rss_kib * 1024, cpu_ticks: utime + stime, at: Instant::now() })
}

/// CPU use between two samples, in percent of one core (clock ticks are 1/100 s on Linux).
pub fn cpu_percent(from: &Sample, to: &Sample) -> f64 {
    let secs = to.at.duration_since(from.at).as_secs_f64().max(1e-9);
    (to.cpu_ticks.saturating_sub(from.cpu_ticks)) as f64 / 100.0 / secs * 100.0
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / 1048576.0
}

/// The server's resources over a measured stretch.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Usage {
    pub rss_start_mib: f64,
    pub rss_end_mib: f64,
    pub rss_peak_mib: f64,
    /// Percent of one core.
    pub cpu_percent: f64,
}

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "server RSS {:.1} -> {:.1} MiB (peak {:.1}), CPU {:.0}% of one core",
            self.rss_start_mib, self.rss_end_mib, self.rss_peak_mib, self.cpu_percent
        )
    }
}

/// Samples the server every 250 ms (for its peak RSS) until stopped.
pub struct Sampler {
    start: Option<Sample>,
    stop: tokio::sync::oneshot::Sender<()>,
    peak: tokio::task::JoinHandle<u64>,
    pid: Option<u32>,
}

impl Sampler {
    pub fn start(pid: Option<u32>) -> Sampler {
        let start = sample(pid);
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let peak = tokio::spawn(async move {
            let mut peak = 0;
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            loop {
                tokio::select! {
                    _ = tick.tick() => peak = sample(pid).map_or(peak, |s| s.rss_bytes.max(peak)),
                    _ = &mut stopped => return peak,
                }
            }
        });
        Sampler { start, stop, peak, pid }
    }

    pub async fn stop(self) -> Option<Usage> {
        self.stop.send(()).ok();
        let peak = self.peak.await.unwrap_or(0);
        let (start, end) = (self.start?, sample(self.pid)?);
        Some(Usage {
            rss_start_mib: mib(start.rss_bytes),
            rss_end_mib: mib(end.rss_bytes),
            rss_peak_mib: mib(peak.max(end.rss_bytes)),
            cpu_percent: cpu_percent(&start, &end),
        })
    }
}
