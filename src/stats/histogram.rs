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
//! written. A subtotal per group of 1024 counts lets a quantile skip to its group
//! (O(groups + 1024), not O(buckets): interval figures ask for four quantiles every
//! interval) and lets reset and merge skip the groups without counts.
//!
//! Memory follows the values recorded, not the span of buckets from zero to the largest: a
//! run keeps a few dozen histograms (per class, cell, region, pool), which held 200 KB each
//! when their counts were one `u64` per bucket up to the highest written, mostly the empty
//! buckets below the shortest latency and between sparse ones in the tail. The counts now
//! live in pages of `PAGE` buckets, each allocated when a value first lands in it, and are
//! `u32`: a count passing `u32::MAX` (four billion values in one bucket, which only a long,
//! busy run with a narrow distribution reaches) carries into a short side table. Together
//! that is a quarter to a fifth of what they held.

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
/// Counts per page: 512 bytes. A group is a whole number of pages.
const PAGE: usize = 128;
const PAGES_PER_GROUP: usize = GROUP / PAGE;

/// The counts of `PAGE` consecutive buckets, less what they carried (`Carries`).
type Page = [u32; PAGE];

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
    /// Counts by `index_of`, by page (`index / PAGE`): `None` where no value ever landed.
    /// Grown to the highest page written.
    pages: Vec<Option<Box<Page>>>,
    /// What page counts carried past `u32::MAX`; empty unless one did.
    carries: Carries,
    /// The sum of each group of `GROUP` counts; covers every page.
    groups: Vec<u64>,
    /// Values recorded.
    total: u64,
    sum_ns: u128,
}

impl LatencyHistogram {
    #[inline]
    pub fn record(&mut self, ns: u64) {
        let index = index_of(ns.min(HIGHEST_NS));
        match self.pages.get_mut(index / PAGE) {
            Some(Some(page)) => {
                let (count, wrapped) = page[index % PAGE].overflowing_add(1);
                page[index % PAGE] = count;
                if wrapped {
                    self.carries.add(index, 1);
                }
            }
            _ => self.record_on_new_page(index),
        }
        self.groups[index / GROUP] += 1;
        self.total += 1;
        self.sum_ns += ns as u128;
    }

    /// The first value in a page (rare: the pages reach their working set early).
    #[cold]
    fn record_on_new_page(&mut self, index: usize) {
        self.page_mut(index / PAGE)[index % PAGE] += 1;
    }

    /// Page `page`, allocated (and the page table and subtotals grown) if need be.
    fn page_mut(&mut self, page: usize) -> &mut Page {
        if page >= self.pages.len() {
            self.pages.resize(page + 1, None);
            self.groups.resize(page / PAGES_PER_GROUP + 1, 0);
        }
        self.pages[page].get_or_insert_with(|| Box::new([0; PAGE]))
    }

    /// The pages of `group` with the index of their first bucket, `None` for those never
    /// written.
    fn group_pages(&self, group: usize) -> impl Iterator<Item = (usize, Option<&Page>)> {
        let pages = group * PAGES_PER_GROUP..((group + 1) * PAGES_PER_GROUP).min(self.pages.len());
        pages.clone().map(|page| page * PAGE).zip(self.pages[pages].iter().map(Option::as_deref))
    }

    /// A copy with `zeros` more values of zero: for a caller that counts its zeros apart
    /// on its hot path and records only the rest.
    pub fn with_zeros(&self, zeros: u64) -> LatencyHistogram {
        let mut res = self.clone();
        if zeros > 0 {
            // Bucket 0's page count takes the low 32 bits of the sum, the carries the rest.
            let count = &mut res.page_mut(0)[0];
            let sum = u64::from(*count) + zeros;
            *count = sum as u32;
            if sum >> 32 > 0 {
                res.carries.add(0, sum >> 32);
            }
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
        let pages = used.start * PAGES_PER_GROUP..(used.end * PAGES_PER_GROUP).min(self.pages.len());
        for page in self.pages[pages].iter_mut().flatten() {
            page.fill(0);
        }
        self.carries.clear();
        self.groups[used].fill(0);
        self.total = 0;
        self.sum_ns = 0;
    }

    pub fn add(&mut self, other: &LatencyHistogram) {
        for group in other.used_groups() {
            if other.groups[group] == 0 {
                continue;
            }
            for (first, from) in other.group_pages(group) {
                let Some(from) = from else { continue };
                let page = first / PAGE;
                // A page keeps its memory through resets: one without counts adds nothing,
                // and is not worth a page here.
                if self.pages.get(page).is_none_or(Option::is_none)
                    && from.iter().fold(0, |any, &n| any | n) == 0
                {
                    continue;
                }
                let into = self.page_mut(page);
                // Added with wrapping, so that it vectorizes; a sum that wrapped is below what
                // was added, and carries.
                let mut wrapped = false;
                for (into, &from) in into.iter_mut().zip(from) {
                    *into = into.wrapping_add(from);
                    wrapped |= *into < from;
                }
                if wrapped {
                    let carried: Vec<usize> = (first..)
                        .zip(into.iter().zip(from))
                        .filter(|(_, (sum, from))| sum < from)
                        .map(|(index, _)| index)
                        .collect();
                    for index in carried {
                        self.carries.add(index, 1);
                    }
                }
            }
            self.groups[group] += other.groups[group];
        }
        for &(index, times) in &other.carries.0 {
            self.carries.add(index, times);
        }
        self.total += other.total;
        self.sum_ns += other.sum_ns;
    }

    /// The bytes this histogram holds beyond itself: its pages, page table and subtotals.
    #[cfg(test)]
    fn heap_bytes(&self) -> usize {
        let pages = self.pages.iter().flatten().count() * size_of::<Page>();
        pages
            + self.pages.capacity() * size_of::<Option<Box<Page>>>()
            + self.groups.capacity() * size_of::<u64>()
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
            for (first, page) in self.group_pages(group) {
                let Some(page) = page else { continue };
                for (index, &count) in (first..).zip(page.iter()) {
                    running += u64::from(count) + self.carries.at(index);
                    while next < N && running >= targets[next] {
                        res[next] = Some(highest_equivalent(value_at_index(index)) as f64 / 1e6);
                        next += 1;
                    }
                    if next == N {
                        return res;
                    }
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

/// What page counts carried past `u32::MAX`: per bucket index, in index order, how many
/// times 2^32 its page count is short of its count.
#[derive(Clone, Debug, Default)]
struct Carries(Vec<(usize, u64)>);

impl Carries {
    /// Bucket `index`'s page count wrapped `times` times.
    #[cold]
    fn add(&mut self, index: usize, times: u64) {
        match self.0.binary_search_by_key(&index, |&(at, _)| at) {
            Ok(at) => self.0[at].1 += times,
            Err(at) => self.0.insert(at, (index, times)),
        }
    }

    /// What bucket `index` carried, as a count.
    #[inline]
    fn at(&self, index: usize) -> u64 {
        if self.0.is_empty() {
            return 0;
        }
        self.0.binary_search_by_key(&index, |&(at, _)| at).map_or(0, |at| self.0[at].1 << 32)
    }

    fn clear(&mut self) {
        self.0.clear();
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
        // Groups without counts between two with some.
        let mut gap = LatencyHistogram::default();
        gap.record(1_000);
        gap.record(10_000_000_000);
        a.add(&gap);
        assert_eq!(a.count(), 4);
        assert_eq!(a.quantile_ms(1.0), gap.quantile_ms(1.0));
        a.reset();
        assert_eq!(a.count(), 0);
        assert_eq!(a.percentiles_ms().max, None);
        a.record(u64::MAX);
        assert!(a.percentiles_ms().max.unwrap() > 8.6e7, "clamped to a day, not lost");
    }

    /// Memory follows the values recorded: a page per stretch of buckets written, not every
    /// bucket from zero up to the largest value.
    #[test]
    fn memory_follows_the_values_recorded() {
        let table =
            |h: &LatencyHistogram| h.heap_bytes() - h.pages.iter().flatten().count() * size_of::<Page>();
        let mut h = LatencyHistogram::default();
        h.record(10_000_000_000);
        assert_eq!(h.pages.iter().flatten().count(), 1, "one value, one page");
        assert!(h.heap_bytes() < size_of::<Page>() + 4096, "{} bytes", h.heap_bytes());
        // Log-uniform latencies from 1 ms to 10 s touch the buckets of 13 doublings, 8 pages
        // of 512 bytes each; the 20 doublings below 1 ms hold nothing.
        let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..100_000 {
            h.record(2f64.powf(rng.random_range(19.94..33.2)) as u64);
        }
        let pages = h.pages.iter().flatten().count();
        assert!((100..=112).contains(&pages), "{pages} pages");
        assert!(table(&h) < 4096, "{} bytes of page table and subtotals", table(&h));
        // A reset keeps the pages; adding an empty histogram or one reset adds none.
        let mut other = h.clone();
        other.reset();
        assert_eq!(other.pages.iter().flatten().count(), pages);
        let mut sum = LatencyHistogram::default();
        sum.add(&other);
        sum.add(&LatencyHistogram::default());
        assert_eq!(sum.heap_bytes(), 0);
    }

    /// A bucket holding more than `u32::MAX` values keeps its count whole: recording,
    /// merging, quantiles and reset all see the carry.
    #[test]
    fn counts_past_u32_carry() {
        let (heavy, light) = (5_000_000, 9_000_000);
        // Stands for u32::MAX values recorded at `heavy`, without recording them.
        let nearly_full = || {
            let mut h = LatencyHistogram::default();
            h.record(heavy);
            let index = index_of(heavy);
            h.page_mut(index / PAGE)[index % PAGE] = u32::MAX;
            h.groups[index / GROUP] += u64::from(u32::MAX) - 1;
            h.total += u64::from(u32::MAX) - 1;
            h
        };
        let mut a = nearly_full();
        a.record(heavy);
        a.record(heavy);
        a.record(light);
        // u32::MAX + 2 values at `heavy`: a page count of 1 and one carry.
        assert_eq!(a.carries.0, [(index_of(heavy), 1)]);
        assert_eq!(a.count(), (1 << 32) + 2);
        // The heavy bucket holds all but the last value.
        let [p99, max] = a.quantiles_ms([0.99, 1.0]);
        assert_eq!(p99, Some(highest_equivalent(heavy) as f64 / 1e6));
        assert_eq!(max, Some(highest_equivalent(light) as f64 / 1e6));
        // The value before the last is still the heavy bucket's.
        let before_last = 1.0 - 1.5 / a.count() as f64;
        assert_eq!(a.quantiles_ms([before_last]), [p99]);
        // Merged into another u32::MAX: the page counts wrap once more.
        let mut b = nearly_full();
        b.add(&a);
        let index = index_of(heavy);
        assert_eq!(b.carries.0, [(index, 2)]);
        assert_eq!(b.pages[index / PAGE].as_ref().unwrap()[index % PAGE], 0);
        let total = b.count();
        assert_eq!(total, (1 << 33) + 1);
        let before_last = 1.0 - 1.5 / total as f64;
        assert_eq!(b.quantiles_ms([before_last, 1.0]), [p99, max]);
        b.reset();
        assert!(b.carries.0.is_empty());
        assert_eq!(b.quantile_ms(1.0), None);
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
        // More zeros than a page count holds carry, and still read as zeros.
        let mut many = LatencyHistogram::default();
        many.record(0);
        many.record(9_000_000);
        let many = many.with_zeros(u64::from(u32::MAX) + 5);
        assert_eq!(many.carries.0, [(0, 1)]);
        assert_eq!(many.count(), (1 << 32) + 6);
        assert_eq!(
            many.quantiles_ms([0.999_999, 1.0]),
            [Some(0.0), Some(highest_equivalent(9_000_000) as f64 / 1e6)]
        );
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
