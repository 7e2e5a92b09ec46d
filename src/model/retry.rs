//! Retry policy arithmetic: when a failed attempt is retried, and after how long.
//!
//! Backoff follows the AWS Architecture blog, "Exponential Backoff and Jitter": the n-th
//! retry's ceiling is `min(cap, base * multiplier^(n-1))`; jitter then spreads it.

use super::spec::{Backoff, Jitter, RetryOn, RetryPolicy};
use crate::engine::{SimDuration, StreamRng};
use crate::outcome::FailureReason;
use rand::RngExt;

impl RetryOn {
    /// Whether an attempt that failed for `reason` may be retried at all.
    pub fn covers(self, reason: FailureReason) -> bool {
        match reason {
            FailureReason::Timeout => self.timeout,
            FailureReason::Rejected | FailureReason::NoCapacity => self.rejected,
            FailureReason::DependencyError => self.error,
            _ => false,
        }
    }
}

impl RetryPolicy {
    /// Whether a request that has made `n_attempts` and just failed for `reason` retries.
    pub fn should_retry(&self, n_attempts: u32, reason: FailureReason) -> bool {
        n_attempts < self.max_attempts && self.retry_on.covers(reason)
    }
}

impl Backoff {
    /// The exponential ceiling for retry number `retry` (1 = the first retry).
    pub fn ceiling(&self, retry: u32) -> SimDuration {
        let exponent = retry.saturating_sub(1).min(1023) as i32;
        let secs = self.base.as_secs_f64() * self.multiplier.powi(exponent);
        SimDuration::from_secs_f64(secs).min(self.cap)
    }

    /// How long to wait before retry number `retry`. `previous` is the last sleep (used by
    /// decorrelated jitter; pass `base` before the first retry).
    pub fn delay(&self, retry: u32, previous: SimDuration, rng: &mut StreamRng) -> SimDuration {
        let ceiling = self.ceiling(retry);
        match self.jitter {
            Jitter::None => ceiling,
            Jitter::Full => uniform(rng, 0, ceiling.0),
            Jitter::Equal => {
                let half = ceiling.0 / 2;
                SimDuration(half + uniform(rng, 0, ceiling.0 - half).0)
            }
            Jitter::Decorrelated => {
                let high = previous.0.max(self.base.0).saturating_mul(3);
                uniform(rng, self.base.0, high).min(self.cap)
            }
        }
    }
}

/// Uniform in `[low, high]` nanoseconds.
fn uniform(rng: &mut StreamRng, low: u64, high: u64) -> SimDuration {
    if high <= low { SimDuration(low) } else { SimDuration(rng.random_range(low..=high)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStreams;

    fn backoff(jitter: Jitter) -> Backoff {
        Backoff {
            base: SimDuration::from_millis(100),
            multiplier: 2.0,
            cap: SimDuration::from_secs(1),
            jitter,
        }
    }

    #[test]
    fn ceiling_grows_exponentially_up_to_the_cap() {
        let b = backoff(Jitter::None);
        let ms: Vec<u64> = (1..=6).map(|n| b.ceiling(n).0 / 1_000_000).collect();
        assert_eq!(ms, vec![100, 200, 400, 800, 1000, 1000]);
        assert_eq!(b.ceiling(u32::MAX), SimDuration::from_secs(1));
    }

    #[test]
    fn jitter_stays_within_its_documented_bounds() {
        let mut rng = RngStreams::new(1).stream("jitter");
        for retry in 1..=5 {
            let ceiling = backoff(Jitter::None).ceiling(retry);
            for _ in 0..2000 {
                let full = backoff(Jitter::Full).delay(retry, SimDuration::ZERO, &mut rng);
                assert!(full <= ceiling);
                let equal = backoff(Jitter::Equal).delay(retry, SimDuration::ZERO, &mut rng);
                assert!(equal.0 >= ceiling.0 / 2 && equal <= ceiling);
                let previous = SimDuration::from_millis(300);
                let decorrelated = backoff(Jitter::Decorrelated).delay(retry, previous, &mut rng);
                assert!(decorrelated >= SimDuration::from_millis(100));
                assert!(decorrelated <= SimDuration::from_millis(900));
            }
        }
    }

    #[test]
    fn full_jitter_spreads_uniformly() {
        let mut rng = RngStreams::new(2).stream("jitter");
        let b = backoff(Jitter::Full);
        let n = 20_000;
        let mean =
            (0..n).map(|_| b.delay(3, SimDuration::ZERO, &mut rng).as_secs_f64()).sum::<f64>() / n as f64;
        // Uniform on [0, 0.4 s]: mean 0.2 s, sd of the mean 0.4/sqrt(12 n) = 0.0008.
        assert!((mean - 0.2).abs() < 0.004, "{mean}");
    }

    #[test]
    fn retry_decision_respects_attempts_and_reasons() {
        let policy = RetryPolicy {
            max_attempts: 3,
            backoff: backoff(Jitter::None),
            retry_on: RetryOn { timeout: true, rejected: false, error: false },
        };
        assert!(policy.should_retry(1, FailureReason::Timeout));
        assert!(policy.should_retry(2, FailureReason::Timeout));
        assert!(!policy.should_retry(3, FailureReason::Timeout));
        assert!(!policy.should_retry(1, FailureReason::Rejected));
    }
}
