//! Latency histograms: HdrHistogram with 3 significant digits, fixed memory, mergeable.
//!
//! Values are nanoseconds from 1 ns to one day (larger values are clamped to a day, which
//! no latency in a run of at most a year can mean anything past). Means come from an exact
//! running sum, so validation against closed forms is not limited by bucket width.

use super::summary::Percentiles;
use hdrhistogram::Histogram;

/// The largest value kept exactly: one day in nanoseconds.
const HIGHEST_NS: u64 = 86_400 * 1_000_000_000;
/// HdrHistogram precision: 3 significant digits (0.1% relative error).
pub const SIGNIFICANT_DIGITS: u8 = 3;

#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    hist: Histogram<u64>,
    /// Zero values not yet written into `hist`. Waits are mostly zero below saturation,
    /// and a counter increment is far cheaper than a histogram write; `settle` moves them.
    zeros: u64,
    sum_ns: u128,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            hist: Histogram::new_with_bounds(1, HIGHEST_NS, SIGNIFICANT_DIGITS)
                .expect("static histogram bounds are valid"),
            zeros: 0,
            sum_ns: 0,
        }
    }
}

impl LatencyHistogram {
    #[inline]
    pub fn record(&mut self, ns: u64) {
        if ns == 0 {
            self.zeros += 1;
            return;
        }
        self.hist.saturating_record(ns.min(HIGHEST_NS));
        self.sum_ns += ns as u128;
    }

    pub fn count(&self) -> u64 {
        self.hist.len() + self.zeros
    }

    /// Writes pending zeros into the histogram; quantiles are cheapest right after.
    pub fn settle(&mut self) {
        if self.zeros > 0 {
            self.hist.saturating_record_n(0, self.zeros);
            self.zeros = 0;
        }
    }

    pub fn reset(&mut self) {
        self.hist.reset();
        self.zeros = 0;
        self.sum_ns = 0;
    }

    pub fn add(&mut self, other: &LatencyHistogram) {
        self.hist.add(&other.hist).expect("histograms share bounds");
        self.zeros += other.zeros;
        self.sum_ns += other.sum_ns;
    }

    /// The histogram with pending zeros included (a copy only if any are pending).
    fn settled(&self) -> std::borrow::Cow<'_, Histogram<u64>> {
        if self.zeros == 0 {
            return std::borrow::Cow::Borrowed(&self.hist);
        }
        let mut hist = self.hist.clone();
        hist.saturating_record_n(0, self.zeros);
        std::borrow::Cow::Owned(hist)
    }

    /// Exact mean in milliseconds, `None` when empty.
    pub fn mean_ms(&self) -> Option<f64> {
        let n = self.count();
        (n > 0).then(|| self.sum_ns as f64 / n as f64 / 1e6)
    }

    /// The value at quantile `q` in milliseconds, `None` when empty.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        (self.count() > 0).then(|| self.settled().value_at_quantile(q) as f64 / 1e6)
    }

    pub fn percentiles_ms(&self) -> Percentiles {
        let hist = self.settled();
        let at = |q: f64| (self.count() > 0).then(|| hist.value_at_quantile(q) as f64 / 1e6);
        Percentiles {
            count: self.count(),
            mean: self.mean_ms(),
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            p999: at(0.999),
            max: (self.count() > 0).then(|| hist.max() as f64 / 1e6),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_hold_three_significant_digits() {
        let mut h = LatencyHistogram::default();
        for ms in 1..=1000u64 {
            h.record(ms * 1_000_000);
        }
        let p = h.percentiles_ms();
        assert_eq!(p.count, 1000);
        assert!((p.p50.unwrap() - 500.0).abs() <= 0.5, "{p:?}");
        assert!((p.p99.unwrap() - 990.0).abs() <= 1.0, "{p:?}");
        assert!((p.max.unwrap() - 1000.0).abs() <= 1.0, "{p:?}");
        assert_eq!(p.mean, Some(500.5));
    }

    #[test]
    fn empty_histogram_reports_nothing_and_merging_adds() {
        let mut a = LatencyHistogram::default();
        assert_eq!(a.percentiles_ms().p50, None);
        let mut b = LatencyHistogram::default();
        b.record(2_000_000);
        a.record(4_000_000);
        a.add(&b);
        assert_eq!(a.count(), 2);
        assert_eq!(a.mean_ms(), Some(3.0));
        a.reset();
        assert_eq!(a.count(), 0);
        a.record(u64::MAX);
        assert!(a.percentiles_ms().max.unwrap() > 8.6e7, "clamped to a day, not lost");
    }

    #[test]
    fn pending_zeros_count_in_quantiles_before_and_after_settling() {
        let mut h = LatencyHistogram::default();
        for _ in 0..60 {
            h.record(0);
        }
        for _ in 0..40 {
            h.record(5_000_000);
        }
        let before = h.percentiles_ms();
        assert_eq!(before.count, 100);
        assert_eq!(before.p50, Some(0.0));
        assert!((before.p90.unwrap() - 5.0).abs() < 0.01);
        assert_eq!(before.mean, Some(2.0));
        h.settle();
        assert_eq!(h.percentiles_ms(), before);
    }
}
