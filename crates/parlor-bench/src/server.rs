//! The server process's memory and CPU, from /proc (Linux).

use std::time::Instant;

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

pub fn describe(from: Option<Sample>, to: Option<Sample>) -> String {
    match (from, to) {
        (Some(a), Some(b)) => format!(
            "server RSS {:.1} MiB -> {:.1} MiB, CPU {:.0}% of one core",
            a.rss_bytes as f64 / 1048576.0,
            b.rss_bytes as f64 / 1048576.0,
            cpu_percent(&a, &b)
        ),
        _ => "server RSS/CPU: not measured (pass --server-pid)".to_owned(),
    }
}
