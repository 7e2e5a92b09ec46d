//! A sum over a sliding time window in O(1) memory, shared by the windowed limiters.

use crate::engine::{SimDuration, SimTime};

/// A sum over a sliding time window, kept as a ring of `N` equal slices.
///
/// A count added at `t` is forgotten once the clock enters the slice `N` slices after
/// `t`'s, i.e. between `window - window/N` and `window` later: the approximation
/// Finagle's `WindowedAdder` makes, bought for O(N) memory and O(1) amortised updates.
#[derive(Clone, Debug)]
pub(super) struct WindowedSum<const N: usize> {
    /// Width of one slice in nanoseconds (at least 1).
    slice_ns: u64,
    /// Index of the slice the clock is in (`now / slice_ns`).
    epoch: u64,
    slices: [i64; N],
    /// Sum of `slices`, kept so reading is O(1).
    total: i64,
}

impl<const N: usize> WindowedSum<N> {
    pub(super) fn new(window: SimDuration) -> Self {
        let slice_ns = (window.0 / N as u64).max(1);
        WindowedSum { slice_ns, epoch: 0, slices: [0; N], total: 0 }
    }

    /// Moves the clock to `now`, zeroing every slice it passes. Time never runs backwards
    /// in a simulation; an earlier `now` is treated as the current slice.
    fn advance(&mut self, now: SimTime) {
        let epoch = now.0 / self.slice_ns;
        if epoch <= self.epoch {
            return;
        }
        let n_steps = (epoch - self.epoch).min(N as u64);
        for step in 1..=n_steps {
            let idx = ((self.epoch + step) % N as u64) as usize;
            self.total = self.total.saturating_sub(self.slices[idx]);
            self.slices[idx] = 0;
        }
        self.epoch = epoch;
    }

    pub(super) fn add(&mut self, now: SimTime, amount: i64) {
        self.advance(now);
        let idx = (self.epoch % N as u64) as usize;
        self.slices[idx] = self.slices[idx].saturating_add(amount);
        self.total = self.total.saturating_add(amount);
    }

    pub(super) fn sum(&mut self, now: SimTime) -> i64 {
        self.advance(now);
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NANOS_PER_SEC;

    fn secs(s: u64) -> SimTime {
        SimTime(s * NANOS_PER_SEC)
    }

    #[test]
    fn windowed_sum_forgets_after_the_window() {
        let mut w = WindowedSum::<10>::new(SimDuration::from_secs(10));
        w.add(secs(0), 5);
        w.add(secs(3), 2);
        assert_eq!(w.sum(SimTime(10 * NANOS_PER_SEC - 1)), 7, "slice 0 still inside at 9.999 s");
        assert_eq!(w.sum(secs(10)), 2, "slice 0 gone at 10 s");
        assert_eq!(w.sum(secs(13)), 0);
        w.add(secs(1000), 1);
        assert_eq!(w.sum(secs(1000)), 1, "a long jump clears everything");
    }
}
