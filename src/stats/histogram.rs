//! Latency histograms: HdrHistogram's layout with 3 significant digits, mergeable.
//!
//! Values are nanoseconds from 1 ns to one day (larger values are clamped to a day, which
//! no latency in a run of at most a year can mean anything past). Means come from an exact
//! running sum, so validation against closed forms is not limited by bucket width.
//!
//! The buckets, quantiles and maxima are exactly those of the `hdrhistogram` crate with
//! bounds `1..=HIGHEST_NS` and 3 digits (a test checks it value by value), written here so
//! that a record is a few inlined instructions (the crate's out-of-line record was a fifth of
//! an M/M/1 run) and so that reset, merge and quantiles only visit the buckets that were
//! written: the counts grow to the highest bucket used (memory follows the values recorded,
//! at most 311 KB), and a subtotal per group of 1024 counts lets a quantile skip to its
//! group (O(groups + 1024), not O(buckets): interval figures ask for four quantiles every
//! interval) and lets reset and merge skip the groups without counts.

use super::summary::Percentiles;

/// The largest value kept exactly: one day in nanoseconds.
const HIGHEST_NS: u64 = 86_400 * 1_000_000_000;
/// HdrHistogram precision: 3 significant digits (0.1% relative error).
pub const SIGNIFICANT_DIGITS: u8 = 3;
/// log2 of half the sub-buckets per bucket: 2 * 10^3 needs 2048 = 2^11 sub-buckets.
const HALF_MAGNITUDE: u32 = 10;
const HALF_COUNT: usize = 1 << HALF_MAGNITUDE;
/// Values below this share bucket 0 (the mask of `value | mask`).
const SUB_BUCKET_MASK: u64 = (2 << HALF_MAGNITUDE) - 1;
/// `64 - unit magnitude (0) - HALF_MAGNITUDE - 1`.
const LEADING_ZERO_BASE: u32 = 64 - HALF_MAGNITUDE - 1;
/// Counts per subtotal: `index >> HALF_MAGNITUDE` is the group.
const GROUP: usize = HALF_COUNT;

/// The bucket of `value`: how many doublings past bucket 0's range it lies.
#[inline]
fn bucket_of(value: u64) -> u32 {
    LEADING_ZERO_BASE - (value | SUB_BUCKET_MASK).leading_zeros()
}

/// Where `value` is counted.
#[inline]
fn index_of(value: u64) -> usize {
    let bucket = bucket_of(value);
    let sub_bucket = (value >> bucket) as usize;
    ((bucket as usize + 1) << HALF_MAGNITUDE) + sub_bucket - HALF_COUNT
}

/// The lowest value counted at `index`.
fn value_at_index(index: usize) -> u64 {
    let bucket = (index >> HALF_MAGNITUDE) as i64 - 1;
    let sub_bucket = (index & (HALF_COUNT - 1)) as u64 + HALF_COUNT as u64;
    if bucket < 0 { sub_bucket - HALF_COUNT as u64 } else { sub_bucket << bucket }
}

/// The highest value counted with `value` (the figure quantiles report).
fn highest_equivalent(value: u64) -> u64 {
    let bucket = bucket_of(value);
    let lowest = (value >> bucket) << bucket;
    lowest.saturating_add(1 << bucket) - 1
}

#[derive(Clone, Debug, Default)]
pub struct LatencyHistogram {
    /// Counts by `index_of`, grown a whole group at a time to the highest index written.
    counts: Vec<u64>,
    /// The sum of each group of `GROUP` counts; `groups.len() * GROUP == counts.len()`.
    groups: Vec<u64>,
    /// Values recorded.
    total: u64,
    sum_ns: u128,
}

impl LatencyHistogram {
    #[inline]
    pub fn record(&mut self, ns: u64) {
        let index = index_of(ns.min(HIGHEST_NS));
        if index >= self.counts.len() {
            self.grow(index);
        }
        self.counts[index] += 1;
        self.groups[index / GROUP] += 1;
        self.total += 1;
        self.sum_ns += ns as u128;
    }

    /// Makes room for `index` (rare: the counts reach their working size early).
    #[cold]
    fn grow(&mut self, index: usize) {
        let n_groups = index / GROUP + 1;
        self.counts.resize(n_groups * GROUP, 0);
        self.groups.resize(n_groups, 0);
    }

    /// A copy with `zeros` more values of zero: for a caller that counts its zeros apart
    /// on its hot path and records only the rest.
    pub fn with_zeros(&self, zeros: u64) -> LatencyHistogram {
        let mut res = self.clone();
        if zeros > 0 {
            if res.counts.is_empty() {
                res.grow(0);
            }
            res.counts[0] += zeros;
            res.groups[0] += zeros;
            res.total += zeros;
        }
        res
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// The groups from the first to the last holding counts (empty when none does).
    fn used_groups(&self) -> std::ops::Range<usize> {
        let first = self.groups.iter().position(|&n| n > 0);
        let last = self.groups.iter().rposition(|&n| n > 0);
        match (first, last) {
            (Some(first), Some(last)) => first..last + 1,
            _ => 0..0,
        }
    }

    /// Empties the histogram, keeping its memory.
    pub fn reset(&mut self) {
        let used = self.used_groups();
        self.counts[used.start * GROUP..used.end * GROUP].fill(0);
        self.groups[used].fill(0);
        self.total = 0;
        self.sum_ns = 0;
    }

    pub fn add(&mut self, other: &LatencyHistogram) {
        let used = other.used_groups();
        if used.is_empty() {
            return;
        }
        if self.groups.len() < used.end {
            self.grow(used.end * GROUP - 1);
        }
        let counts = used.start * GROUP..used.end * GROUP;
        for (into, from) in self.counts[counts.clone()].iter_mut().zip(&other.counts[counts]) {
            *into += from;
        }
        for (into, from) in self.groups[used.clone()].iter_mut().zip(&other.groups[used]) {
            *into += from;
        }
        self.total += other.total;
        self.sum_ns += other.sum_ns;
    }

    /// Exact mean in milliseconds, `None` when empty.
    pub fn mean_ms(&self) -> Option<f64> {
        let n = self.count();
        (n > 0).then(|| self.sum_ns as f64 / n as f64 / 1e6)
    }

    /// The values at quantiles `qs` (ascending, each in `(0, 1]`) in milliseconds, in one
    /// pass over the counts; `None` when empty. HdrHistogram's rule: the highest value
    /// equivalent to the first bucket where the running count reaches `ceil(q * total)`.
    pub fn quantiles_ms<const N: usize>(&self, qs: [f64; N]) -> [Option<f64>; N] {
        let mut res = [None; N];
        if self.total == 0 {
            return res;
        }
        let targets = qs.map(|q| ((q.min(1.0) * self.total as f64).ceil() as u64).clamp(1, self.total));
        debug_assert!(qs.iter().all(|&q| q > 0.0) && targets.is_sorted());
        // `running` counts everything before `group`; a group that does not reach the next
        // target is skipped whole.
        let (mut next, mut running) = (0, 0u64);
        for group in self.used_groups() {
            if running + self.groups[group] < targets[next] {
                running += self.groups[group];
                continue;
            }
            for index in group * GROUP..(group + 1) * GROUP {
                running += self.counts[index];
                while next < N && running >= targets[next] {
                    res[next] = Some(highest_equivalent(value_at_index(index)) as f64 / 1e6);
                    next += 1;
                }
                if next == N {
                    return res;
                }
            }
        }
        res
    }

    /// The value at quantile `q` in milliseconds, `None` when empty.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        self.quantiles_ms([q])[0]
    }

    pub fn percentiles_ms(&self) -> Percentiles {
        let [p50, p90, p99, p999, max] = self.quantiles_ms([0.50, 0.90, 0.99, 0.999, 1.0]);
        Percentiles { count: self.count(), mean: self.mean_ms(), p50, p90, p99, p999, max }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

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
        assert_eq!(a.percentiles_ms().max, None);
        a.record(u64::MAX);
        assert!(a.percentiles_ms().max.unwrap() > 8.6e7, "clamped to a day, not lost");
    }

    #[test]
    fn zeros_count_in_quantiles() {
        let mut h = LatencyHistogram::default();
        for _ in 0..60 {
            h.record(0);
        }
        for _ in 0..40 {
            h.record(5_000_000);
        }
        let p = h.percentiles_ms();
        assert_eq!(p.count, 100);
        assert_eq!(p.p50, Some(0.0));
        assert!((p.p90.unwrap() - 5.0).abs() < 0.01);
        assert_eq!(p.mean, Some(2.0));
    }

    #[test]
    fn zeros_added_at_once_read_as_zeros_recorded() {
        let mut one_by_one = LatencyHistogram::default();
        let mut rest = LatencyHistogram::default();
        for value in [0, 3_000, 0, 7_000_000, 0, 0, 12] {
            one_by_one.record(value);
            if value > 0 {
                rest.record(value);
            }
        }
        let added = rest.with_zeros(4);
        assert_eq!(added.percentiles_ms(), one_by_one.percentiles_ms());
        assert_eq!(LatencyHistogram::default().with_zeros(3).percentiles_ms().p50, Some(0.0));
        assert_eq!(LatencyHistogram::default().with_zeros(0).count(), 0);
    }

    /// The figures are the `hdrhistogram` crate's, value for value: the same buckets, the
    /// same quantile rule, the same maximum, through merges and resets.
    #[test]
    fn figures_match_the_hdrhistogram_crate() {
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(7);
        let mut reference = hdrhistogram::Histogram::<u64>::new_with_bounds(1, HIGHEST_NS, 3).unwrap();
        let mut ours = LatencyHistogram::default();
        let mut other_reference = reference.clone();
        let mut other = LatencyHistogram::default();
        let quantiles = [0.0001, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0];
        for round in 0..6 {
            for _ in 0..20_000 {
                // Log-uniform over 1 ns .. 2 days, and some exact zeros.
                let value = match rng.random_range(0..10) {
                    0 => 0,
                    _ => 2f64.powf(rng.random_range(0.0..47.3)) as u64,
                };
                let (hist, reference) = if rng.random::<bool>() {
                    (&mut ours, &mut reference)
                } else {
                    (&mut other, &mut other_reference)
                };
                hist.record(value);
                reference.saturating_record(value.min(HIGHEST_NS));
            }
            ours.add(&other);
            reference.add(&other_reference).unwrap();
            if round % 2 == 1 {
                other.reset();
                other_reference.reset();
            }
            assert_eq!(ours.count(), reference.len());
            let got = ours.quantiles_ms(quantiles);
            for (q, got) in quantiles.iter().zip(got) {
                assert_eq!(got, Some(reference.value_at_quantile(*q) as f64 / 1e6), "q {q}, round {round}");
            }
            assert_eq!(ours.percentiles_ms().max, Some(reference.max() as f64 / 1e6));
        }
    }
}
