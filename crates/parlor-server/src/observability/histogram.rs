//! A latency histogram on atomics. prometheus-client's own `Histogram` takes a lock per
//! observation; delivery latency is observed once per recipient of every message, from every
//! connection task at once, so it must cost no more than a few relaxed adds.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};

/// Upper bounds, in seconds, from half a millisecond to ten seconds.
pub const LATENCY_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];

/// Upper bounds, in seconds, for reads meant to take about a millisecond: 0.1 ms steps up to
/// 1 ms, so a p99 against a 1 ms target reads off a bucket edge, then coarser to 100 ms.
pub const FAST_READ_BUCKETS: &[f64] = &[
    0.0001, 0.0002, 0.0003, 0.0004, 0.0005, 0.0006, 0.0007, 0.0008, 0.0009, 0.001, 0.00125, 0.0015, 0.002, 0.0025,
    0.003, 0.004, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1,
];

#[derive(Debug, Clone)]
pub struct Histogram {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    bounds: &'static [f64],
    /// One more than `bounds`: the last counts what is above every bound (`+Inf`).
    counts: Box<[AtomicU64]>,
    sum_nanos: AtomicU64,
}

impl Histogram {
    pub fn new(bounds: &'static [f64]) -> Self {
        let counts = (0..=bounds.len()).map(|_| AtomicU64::new(0)).collect();
        Histogram { inner: Arc::new(Inner { bounds, counts, sum_nanos: AtomicU64::new(0) }) }
    }

    pub fn observe(&self, elapsed: Duration) {
        let inner = &*self.inner;
        let secs = elapsed.as_secs_f64();
        let bucket = inner.bounds.iter().position(|b| secs <= *b).unwrap_or(inner.bounds.len());
        if let Some(slot) = inner.counts.get(bucket) {
            slot.fetch_add(1, Ordering::Relaxed);
        }
        inner.sum_nanos.fetch_add(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}

impl TypedMetric for Histogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for Histogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let inner = &*self.inner;
        let bounds = inner.bounds.iter().copied().chain(std::iter::once(f64::MAX));
        let buckets: Vec<(f64, u64)> = bounds.zip(inner.counts.iter().map(|c| c.load(Ordering::Relaxed))).collect();
        // Read unsynchronised with the buckets: a scrape racing an observation may be off by
        // one, which Prometheus tolerates; the count is the buckets' total, so the two always agree.
        let count = buckets.iter().map(|(_, n)| n).sum();
        let sum = Duration::from_nanos(inner.sum_nanos.load(Ordering::Relaxed)).as_secs_f64();
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}
