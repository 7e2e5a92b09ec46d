//! Concurrency limits: how many attempts an instance lets in progress at once (holding a
//! worker or queued), fixed or adapted from what completed attempts saw. An arrival at or
//! over the limit is rejected at once, before it can queue.
//!
//! Source: Netflix concurrency-limits (github.com/Netflix/concurrency-limits,
//! `concurrency-limits-core/.../limits/limit/`: `AIMDLimit.java`, `Gradient2Limit.java`,
//! `measurement/ExpAvgMeasurement.java`). `AIMDLimit` adds 1 while at least half the limit
//! is in use and multiplies by `backoffRatio` on a drop; `Gradient2Limit` compares each
//! sample's RTT with a long exponential average of RTTs and shrinks the limit while the
//! sample runs well above it. Both are plain state machines fed one `Sample` per completed
//! attempt; the world decides what a sample is.
//!
//! The limit is a float, as Netflix's `estimatedLimit` is; admission compares against its
//! floor, the limit in force.

use crate::engine::SimDuration;

/// How a service limits the attempts in progress per instance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ConcurrencyLimit {
    /// A fixed limit.
    Static {
        limit: u32,
    },
    Aimd(Aimd),
    Gradient2(Gradient2),
}

/// Additive increase, multiplicative decrease on drops (Netflix `AIMDLimit`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aimd {
    pub initial_limit: u32,
    pub min_limit: u32,
    pub max_limit: u32,
    /// The factor applied on a drop, in (0, 1).
    pub backoff_ratio: f64,
    /// A sample slower than this counts as a drop.
    pub timeout: SimDuration,
}

impl Aimd {
    /// Netflix's parameters: starts at 10 and backs off by 0.9 with a 5 s timeout (the
    /// original `AIMDLimit`, as `design/model.md` cites it), floor 1 (that version's
    /// `Math.max(1, ...)`), ceiling 200 (the current builder's `maxLimit`).
    pub const NETFLIX: Aimd = Aimd {
        initial_limit: 10,
        min_limit: 1,
        max_limit: 200,
        backoff_ratio: 0.9,
        timeout: SimDuration::from_secs(5),
    };
}

/// The RTT gradient against a long-term average (Netflix `Gradient2Limit`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gradient2 {
    pub initial_limit: u32,
    pub min_limit: u32,
    pub max_limit: u32,
    /// Share of each new estimate taken into the limit, in (0, 1].
    pub smoothing: f64,
    /// How far the sample RTT may exceed the long-term RTT before the limit shrinks (>= 1).
    pub rtt_tolerance: f64,
    /// Samples in the long-term RTT's exponential average.
    pub long_window: u32,
    /// Growth allowed per estimate while latency stays low.
    pub queue_size: u32,
}

impl Gradient2 {
    /// Netflix's `Gradient2Limit.Builder` defaults.
    pub const NETFLIX: Gradient2 = Gradient2 {
        initial_limit: 20,
        min_limit: 20,
        max_limit: 200,
        smoothing: 0.2,
        rtt_tolerance: 1.5,
        long_window: 600,
        queue_size: 4,
    };

    /// Samples averaged plainly before the exponential average takes over (Netflix's
    /// `ExpAvgMeasurement(longWindow, 10)`).
    const WARMUP: u32 = 10;
    /// The long-term RTT's decay when it is more than twice the sample's (latency came
    /// back down after a long overload).
    const DRIFT_DECAY: f64 = 0.95;
}

/// What the limit learns from one completed attempt.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// From arrival at the instance to completion.
    pub rtt: SimDuration,
    /// Attempts in progress at the instance.
    pub inflight: u32,
    /// The caller had already given up on it.
    pub dropped: bool,
}

/// One instance's limit as it runs: 32 bytes, no allocation.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LimitState {
    limit: f64,
    /// Gradient2's long-term RTT in nanoseconds (unused by the other kinds).
    long_rtt: ExpAvg,
}

impl LimitState {
    /// The state of a newly launched instance.
    pub fn new(spec: &ConcurrencyLimit) -> LimitState {
        let limit = match *spec {
            ConcurrencyLimit::Static { limit } => limit,
            ConcurrencyLimit::Aimd(aimd) => aimd.initial_limit,
            ConcurrencyLimit::Gradient2(gradient) => gradient.initial_limit,
        };
        LimitState { limit: limit as f64, long_rtt: ExpAvg::default() }
    }

    /// The limit in force: the floor of the estimate.
    #[inline]
    pub fn current(&self) -> u32 {
        self.limit as u32
    }

    /// Whether an arrival finding `outstanding` attempts in progress may come in.
    #[inline]
    pub fn admits(&self, outstanding: u32) -> bool {
        outstanding < self.current()
    }

    /// Learns from one completed attempt.
    #[inline]
    pub fn update(&mut self, spec: &ConcurrencyLimit, sample: Sample) {
        match spec {
            ConcurrencyLimit::Static { .. } => {}
            ConcurrencyLimit::Aimd(aimd) => self.update_aimd(aimd, sample),
            ConcurrencyLimit::Gradient2(gradient) => self.update_gradient2(gradient, sample),
        }
    }

    /// `AIMDLimit._update`: back off on a drop or a sample over the timeout, add one while
    /// at least half the limit is in use, hold otherwise; then clamp.
    fn update_aimd(&mut self, aimd: &Aimd, sample: Sample) {
        if sample.dropped || sample.rtt > aimd.timeout {
            self.limit *= aimd.backoff_ratio;
        } else if sample.inflight as f64 * 2.0 >= self.current() as f64 {
            self.limit += 1.0;
        } else {
            return;
        }
        self.limit = self.limit.clamp(aimd.min_limit as f64, aimd.max_limit as f64);
    }

    /// `Gradient2Limit._update` (the version with `rttTolerance`): the long-term RTT takes
    /// the sample and decays when it is more than twice the sample; an app-limited instance
    /// (less than half the limit in use) keeps its limit; otherwise the limit moves towards
    /// `limit * gradient + queue_size` by `smoothing`, the gradient being
    /// `rtt_tolerance * long / short` within [0.5, 1]. As in Netflix's code, the gradient
    /// uses the long-term RTT from before the decay.
    fn update_gradient2(&mut self, gradient: &Gradient2, sample: Sample) {
        // A zero RTT (possible only with a cost rounded to 0 ns) would divide by zero.
        let short_rtt = sample.rtt.0.max(1) as f64;
        let long_rtt = self.long_rtt.add(short_rtt, gradient.long_window, Gradient2::WARMUP);
        if long_rtt / short_rtt > 2.0 {
            self.long_rtt.value *= Gradient2::DRIFT_DECAY;
        }
        if (sample.inflight as f64) < self.limit / 2.0 {
            return;
        }
        let ratio = (gradient.rtt_tolerance * long_rtt / short_rtt).clamp(0.5, 1.0);
        let estimate = self.limit * ratio + gradient.queue_size as f64;
        let smoothed = self.limit * (1.0 - gradient.smoothing) + estimate * gradient.smoothing;
        self.limit = smoothed.clamp(gradient.min_limit as f64, gradient.max_limit as f64);
    }
}

/// An exponential moving average over `window` samples whose first `warmup` samples are
/// averaged plainly (Netflix `ExpAvgMeasurement`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct ExpAvg {
    value: f64,
    sum: f64,
    count: u32,
}

impl ExpAvg {
    /// Takes a sample and returns the new average.
    #[inline]
    fn add(&mut self, sample: f64, window: u32, warmup: u32) -> f64 {
        if self.count < warmup {
            self.count += 1;
            self.sum += sample;
            self.value = self.sum / self.count as f64;
        } else {
            let factor = 2.0 / (window as f64 + 1.0);
            self.value = self.value * (1.0 - factor) + sample * factor;
        }
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(m: u64) -> SimDuration {
        SimDuration::from_millis(m)
    }

    fn sample(rtt_ms: u64, inflight: u32, dropped: bool) -> Sample {
        Sample { rtt: ms(rtt_ms), inflight, dropped }
    }

    #[test]
    fn a_static_limit_never_moves() {
        let spec = ConcurrencyLimit::Static { limit: 40 };
        let mut state = LimitState::new(&spec);
        for _ in 0..100 {
            state.update(&spec, sample(10_000, 40, true));
        }
        assert_eq!(state.current(), 40);
        assert!(state.admits(39));
        assert!(!state.admits(40));
    }

    #[test]
    fn aimd_grows_by_one_while_half_the_limit_is_in_use() {
        let spec = ConcurrencyLimit::Aimd(Aimd::NETFLIX);
        let mut state = LimitState::new(&spec);
        assert_eq!(state.current(), 10);
        state.update(&spec, sample(10, 5, false));
        assert_eq!(state.current(), 11, "5 * 2 >= 10: +1");
        state.update(&spec, sample(10, 5, false));
        assert_eq!(state.current(), 11, "5 * 2 < 11: app-limited, held");
        state.update(&spec, sample(10, 6, false));
        assert_eq!(state.current(), 12);
    }

    #[test]
    fn aimd_backs_off_on_a_drop_or_a_slow_sample() {
        let spec = ConcurrencyLimit::Aimd(Aimd::NETFLIX);
        let mut state = LimitState::new(&spec);
        state.update(&spec, sample(10, 10, true));
        assert_eq!(state.limit, 9.0, "dropped: x0.9");
        state.update(&spec, sample(5_001, 1, false));
        assert!((state.limit - 8.1).abs() < 1e-12, "over the 5 s timeout: x0.9");
        assert_eq!(state.current(), 8, "admission uses the floor");
        state.update(&spec, sample(5_000, 8, false));
        assert!((state.limit - 9.1).abs() < 1e-12, "exactly the timeout is not a drop");
    }

    #[test]
    fn aimd_stays_within_its_bounds() {
        let aimd = Aimd { min_limit: 5, max_limit: 12, ..Aimd::NETFLIX };
        let spec = ConcurrencyLimit::Aimd(aimd);
        let mut state = LimitState::new(&spec);
        for _ in 0..50 {
            state.update(&spec, sample(1, 100, false));
        }
        assert_eq!(state.current(), 12);
        for _ in 0..50 {
            state.update(&spec, sample(1, 100, true));
        }
        assert_eq!(state.current(), 5);
        assert_eq!(state.limit, 5.0);
    }

    #[test]
    fn gradient2_holds_while_app_limited() {
        let spec = ConcurrencyLimit::Gradient2(Gradient2::NETFLIX);
        let mut state = LimitState::new(&spec);
        for rtt in [10, 10, 500, 1000, 2000] {
            state.update(&spec, sample(rtt, 9, false));
        }
        assert_eq!(state.limit, 20.0, "9 in flight < 20 / 2: held, however slow");
    }

    #[test]
    fn gradient2_grows_by_its_queue_size_while_latency_is_steady() {
        let spec = ConcurrencyLimit::Gradient2(Gradient2::NETFLIX);
        let mut state = LimitState::new(&spec);
        state.update(&spec, sample(10, 20, false));
        // gradient 1: new = 20 + 4, smoothed 20 * 0.8 + 24 * 0.2 = 20.8.
        assert!((state.limit - 20.8).abs() < 1e-12, "{}", state.limit);
        for _ in 0..1000 {
            state.update(&spec, sample(10, 200, false));
        }
        assert_eq!(state.current(), 200, "capped at max_limit");
    }

    #[test]
    fn gradient2_shrinks_when_the_short_rtt_rises_well_above_the_long_one() {
        let spec = ConcurrencyLimit::Gradient2(Gradient2 { min_limit: 1, ..Gradient2::NETFLIX });
        let mut state = LimitState::new(&spec);
        for _ in 0..200 {
            state.update(&spec, sample(10, 200, false));
        }
        let grown = state.limit;
        assert!(grown > 100.0, "{grown}");
        // Latency jumps tenfold: gradient 1.5 * ~10 / 100 < 0.5, clamped to 0.5.
        state.update(&spec, sample(100, 200, false));
        let expected = grown * 0.8 + (grown * 0.5 + 4.0) * 0.2;
        assert!((state.limit - expected).abs() < 1e-9, "{} vs {expected}", state.limit);
        for _ in 0..30 {
            state.update(&spec, sample(100, 200, false));
        }
        assert!(state.limit < grown / 2.0, "{} from {grown}", state.limit);
        // Within the tolerance (1.4x < 1.5x) the limit does not shrink.
        let mut steady = LimitState::new(&spec);
        for _ in 0..20 {
            steady.update(&spec, sample(10, 200, false));
        }
        let before = steady.limit;
        steady.update(&spec, sample(14, 200, false));
        assert!(steady.limit > before, "{} vs {before}", steady.limit);
    }

    #[test]
    fn gradient2_never_leaves_its_range() {
        let spec = ConcurrencyLimit::Gradient2(Gradient2::NETFLIX);
        let mut state = LimitState::new(&spec);
        let rtts = [1, 1000, 3, 70_000, 2, 2, 900, 5, 40_000, 1];
        for step in 0..5000 {
            state.update(&spec, sample(rtts[step % rtts.len()], (step % 250) as u32, step % 7 == 0));
            assert!((20.0..=200.0).contains(&state.limit), "step {step}: {}", state.limit);
        }
    }

    #[test]
    fn the_long_rtt_warms_up_plainly_then_averages_exponentially_and_decays_on_drift() {
        let mut avg = ExpAvg::default();
        for (n, sample) in [10.0, 20.0, 30.0].into_iter().enumerate() {
            let value = avg.add(sample, 600, 10);
            assert_eq!(value, [10.0, 15.0, 20.0][n]);
        }
        let mut warm = ExpAvg { value: 100.0, sum: 1000.0, count: 10 };
        let factor = 2.0 / 601.0;
        assert!((warm.add(400.0, 600, 10) - (100.0 * (1.0 - factor) + 400.0 * factor)).abs() < 1e-12);
        // After a long overload the long RTT is far above fresh samples: it decays 5% a sample.
        let spec = Gradient2 { long_window: 600, ..Gradient2::NETFLIX };
        let mut state = LimitState { limit: 20.0, long_rtt: ExpAvg { value: 1000.0, sum: 0.0, count: 10 } };
        state.update_gradient2(&spec, sample(0, 0, false));
        // A zero RTT counts as 1 ns.
        let after_add = 1000.0 * (1.0 - factor) + 1.0 * factor;
        assert!((state.long_rtt.value - after_add * 0.95).abs() < 1e-9);
    }
}
