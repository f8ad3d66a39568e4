//! Exponential backoff with jitter between attempts at one event (also Web Push deliveries,
//! `away/push/sender.rs`): the delay doubles from the
//! initial one up to the maximum, and each wait is drawn from its upper half, so endpoints that
//! failed together do not all retry in the same instant.

use std::time::Duration;

pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    pub fn new(initial: Duration, max: Duration) -> Self {
        Self { next: initial.min(max), max }
    }

    /// How long to wait before the next attempt.
    pub fn delay(&mut self) -> Duration {
        let full = self.next;
        self.next = self.next.saturating_mul(2).min(self.max);
        let half = full / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(rand::random_range(0..=jitter_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_maximum_with_jitter_below_each_step() {
        let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_millis(1000));
        let steps: [u64; 6] = [100, 200, 400, 800, 1000, 1000];
        for step in steps {
            let delay = backoff.delay().as_millis();
            let step = u128::from(step);
            assert!((step / 2..=step).contains(&delay), "{delay} ms not within the upper half of {step} ms");
        }
    }
}
