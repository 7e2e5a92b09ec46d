//! Sources: when requests arrive and which class each one is.
//!
//! Open-loop arrivals are a renewal process in *operational time*: the cumulative rate
//! `Lambda(t) = integral of rate from 0 to t` of a piecewise-linear profile. The next
//! arrival is found exactly by inverting it: draw a gap `G` with mean 1 and solve
//! `Lambda(T) - Lambda(now) = G`, segment by segment (each segment's integral is a
//! quadratic). No thinning, so no rejected draws. With `G ~ Exp(1)` this is the
//! non-homogeneous Poisson process; with `G ~ Gamma(k, 1/k)`, `k = 1/cv^2`, the gaps have
//! the stated coefficient of variation and the profile's mean rate (bursty for `cv > 1`),
//! and with `G = 1` arrivals are evenly spaced in operational time.

use super::ids::ClassId;
use super::spec::RateProfile;
use crate::engine::{NANOS_PER_SEC, SimTime, StreamRng};
use rand::RngExt;
use rand_distr::{Distribution, Exp1, Gamma};

/// The law of the gaps between arrivals in operational time; each has mean 1.
#[derive(Clone, Copy, Debug)]
enum Gaps {
    /// `Exp(1)`: a Poisson process.
    Exponential,
    /// `Gamma(k, 1/k)`: coefficient of variation `1/sqrt(k)`.
    Gamma(Gamma<f64>),
    /// Always 1: evenly spaced (coefficient of variation 0).
    Even,
}

impl Gaps {
    /// The gaps with coefficient of variation `cv` (finite, >= 0).
    fn with_cv(cv: f64) -> Gaps {
        if cv == 1.0 {
            return Gaps::Exponential;
        }
        let shape = 1.0 / (cv * cv);
        match Gamma::new(shape, cv * cv) {
            Ok(gamma) if cv > 0.0 && shape.is_finite() => Gaps::Gamma(gamma),
            _ => Gaps::Even,
        }
    }

    #[inline]
    fn draw(&self, rng: &mut StreamRng) -> f64 {
        match self {
            Gaps::Exponential => Exp1.sample(rng),
            Gaps::Gamma(gamma) => gamma.sample(rng),
            Gaps::Even => 1.0,
        }
    }
}

/// The runtime side of a rate profile: remembers which segment `now` is in, so finding
/// the next arrival costs O(segments crossed), not O(profile length).
#[derive(Clone, Debug)]
pub struct ArrivalProcess {
    /// `(time ns, rate per second)`; the first point is moved to t = 0 if it starts later
    /// (the rate before the first point equals the first rate).
    points: Vec<(u64, f64)>,
    segment: usize,
    gaps: Gaps,
}

impl ArrivalProcess {
    /// Arrivals at `profile`'s rate whose gaps have coefficient of variation `cv` (1:
    /// Poisson).
    pub fn new(profile: &RateProfile, cv: f64) -> ArrivalProcess {
        let mut points: Vec<(u64, f64)> = profile.points.iter().map(|&(t, r)| (t.0, r)).collect();
        if let Some(first) = points.first().copied()
            && first.0 > 0
        {
            points.insert(0, (0, first.1));
        }
        ArrivalProcess { points, segment: 0, gaps: Gaps::with_cv(cv) }
    }

    /// Rate (per second) at `t`.
    pub fn rate_at(&self, t: SimTime) -> f64 {
        let idx = self.points.partition_point(|&(pt, _)| pt <= t.0).saturating_sub(1);
        self.rate_in_segment(idx, t.0)
    }

    fn rate_in_segment(&self, idx: usize, t: u64) -> f64 {
        let (t0, r0) = self.points[idx];
        match self.points.get(idx + 1) {
            Some(&(t1, r1)) => r0 + (r1 - r0) * ((t - t0) as f64 / (t1 - t0) as f64),
            None => r0,
        }
    }

    /// The next arrival after `now`, or `None` if the rate stays zero for ever.
    pub fn next_arrival(&mut self, now: SimTime, rng: &mut StreamRng) -> Option<SimTime> {
        let mut remaining: f64 = self.gaps.draw(rng);
        let mut at = now.0;
        while self.segment + 1 < self.points.len() && self.points[self.segment + 1].0 <= at {
            self.segment += 1;
        }
        if remaining <= 0.0 {
            // A gamma gap that underflowed: an arrival at the same instant (a burst).
            return Some(now);
        }
        loop {
            let rate_here = self.rate_in_segment(self.segment, at).max(0.0);
            let Some(&(seg_end, rate_end)) = self.points.get(self.segment + 1) else {
                // Past the last point the rate is constant.
                if rate_here <= 0.0 {
                    return None;
                }
                return Some(SimTime(at.saturating_add(secs_to_ns(remaining / rate_here))));
            };
            let span_s = (seg_end - at) as f64 / NANOS_PER_SEC as f64;
            let area = 0.5 * (rate_here + rate_end) * span_s;
            if remaining <= area {
                let slope = (rate_end - rate_here) / span_s;
                // Solve slope/2 x^2 + rate_here x = remaining in the cancellation-free form.
                let disc = (rate_here * rate_here + 2.0 * slope * remaining).max(0.0);
                let denom = rate_here + disc.sqrt();
                let x = if denom > 0.0 { 2.0 * remaining / denom } else { span_s };
                let offset = secs_to_ns(x).min(seg_end - at);
                return Some(SimTime(at + offset));
            }
            remaining -= area;
            at = seg_end;
            self.segment += 1;
        }
    }
}

/// Seconds to nanoseconds, rounded half away from zero as `f64::round` does, but without
/// its libm call (x86-64's baseline has no rounding instruction): below 2^52 the fraction
/// `ns - trunc(ns)` is exact, and above it every `f64` is an integer.
#[inline]
fn secs_to_ns(s: f64) -> u64 {
    let ns = s * NANOS_PER_SEC as f64;
    if ns >= u64::MAX as f64 {
        return u64::MAX;
    }
    // Negative and NaN saturate to 0, as `round() as u64` does.
    let truncated = ns as u64;
    truncated + (ns - truncated as f64 >= 0.5) as u64
}

/// Picks a request class by share.
#[derive(Clone, Debug)]
pub struct ClassMix {
    /// Cumulative shares; the last is 1.
    cumulative: Vec<f64>,
}

impl ClassMix {
    pub fn new(shares: impl IntoIterator<Item = f64>) -> ClassMix {
        let mut total = 0.0;
        let cumulative = shares
            .into_iter()
            .map(|share| {
                total += share;
                total
            })
            .collect();
        ClassMix { cumulative }
    }

    /// A request's class.
    #[inline]
    pub fn pick(&self, rng: &mut StreamRng) -> ClassId {
        ClassId::from_idx(self.pick_slot(rng))
    }

    /// The index of the share drawn (a class, or a source's home region): one draw, none
    /// when there is a single share.
    #[inline]
    pub fn pick_slot(&self, rng: &mut StreamRng) -> usize {
        if self.cumulative.len() <= 1 {
            return 0;
        }
        let u: f64 = rng.random::<f64>() * self.cumulative.last().copied().unwrap_or(1.0);
        self.cumulative.iter().position(|&c| u < c).unwrap_or(self.cumulative.len() - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::RngStreams;

    fn profile(points: &[(f64, f64)]) -> RateProfile {
        RateProfile { points: points.iter().map(|&(t, r)| (SimTime((t * 1e9) as u64), r)).collect() }
    }

    fn count_arrivals(profile: &RateProfile, from_s: f64, to_s: f64, seed: u64) -> u64 {
        let mut process = ArrivalProcess::new(profile, 1.0);
        let mut rng = RngStreams::new(seed).stream("test");
        let (mut now, mut n) = (SimTime(0), 0);
        while let Some(next) = process.next_arrival(now, &mut rng) {
            if next.as_secs_f64() >= to_s {
                break;
            }
            if next.as_secs_f64() >= from_s {
                n += 1;
            }
            now = next;
        }
        n
    }

    #[test]
    fn constant_rate_gives_poisson_counts() {
        let n = count_arrivals(&profile(&[(0.0, 50.0)]), 0.0, 2000.0, 1);
        // mean 100000, sd 316: 5 sd bound.
        assert!((n as f64 - 100_000.0).abs() < 5.0 * 316.3, "{n}");
    }

    #[test]
    fn ramp_integrates_the_profile() {
        // 0 -> 100/s over 1000 s, then flat: expected 50,000 in the ramp, 100,000 in the next 1000 s.
        let p = profile(&[(0.0, 0.0), (1000.0, 100.0)]);
        let ramp = count_arrivals(&p, 0.0, 1000.0, 7);
        let flat = count_arrivals(&p, 1000.0, 2000.0, 7);
        assert!((ramp as f64 - 50_000.0).abs() < 5.0 * 223.7, "{ramp}");
        assert!((flat as f64 - 100_000.0).abs() < 5.0 * 316.3, "{flat}");
        // First half of the ramp holds a quarter of its arrivals.
        let first_half = count_arrivals(&p, 0.0, 500.0, 7);
        assert!((first_half as f64 - 12_500.0).abs() < 5.0 * 111.8, "{first_half}");
    }

    /// Gaps between arrivals at a constant 100/s with coefficient of variation `cv`.
    fn gaps(cv: f64, n: usize, seed: u64) -> Vec<f64> {
        let mut process = ArrivalProcess::new(&profile(&[(0.0, 100.0)]), cv);
        let mut rng = RngStreams::new(seed).stream("test");
        let mut now = SimTime(0);
        (0..n)
            .map(|_| {
                let next = process.next_arrival(now, &mut rng).expect("a constant rate never stops");
                let gap = next.as_secs_f64() - now.as_secs_f64();
                now = next;
                gap
            })
            .collect()
    }

    fn mean_and_cv(values: &[f64]) -> (f64, f64) {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, variance.sqrt() / mean)
    }

    #[test]
    fn gamma_gaps_have_the_stated_cv_and_the_profile_mean() {
        // 400,000 gaps: the CV's standard error is under 1% even at cv = 3 (a gamma with
        // shape 1/9 has an excess kurtosis of 54), the mean's under 0.5%.
        for cv in [0.5, 1.0, 2.0, 3.0] {
            let (mean, measured) = mean_and_cv(&gaps(cv, 400_000, 11));
            assert!((mean - 0.01).abs() < 0.01 * 0.02, "cv {cv}: mean gap {mean}");
            assert!((measured - cv).abs() < 0.04 * cv, "cv {cv}: measured {measured}");
        }
    }

    #[test]
    fn cv_zero_spaces_arrivals_evenly_and_bursts_keep_a_ramp_mean() {
        assert!(gaps(0.0, 1000, 1).iter().all(|&gap| (gap - 0.01).abs() < 1e-9));
        // A ramp's arrivals integrate its profile whatever the gaps' law: 0 -> 100/s over
        // 1000 s holds 50,000 on average. With cv 3 the count's sd is about 3 x Poisson's.
        let ramp = profile(&[(0.0, 0.0), (1000.0, 100.0)]);
        let mut process = ArrivalProcess::new(&ramp, 3.0);
        let mut rng = RngStreams::new(9).stream("test");
        let (mut now, mut n) = (SimTime(0), 0u64);
        while let Some(next) = process.next_arrival(now, &mut rng)
            && next.as_secs_f64() < 1000.0
        {
            now = next;
            n += 1;
        }
        assert!((n as f64 - 50_000.0).abs() < 5.0 * 3.0 * 223.7, "{n}");
    }

    #[test]
    fn zero_rate_for_ever_means_no_more_arrivals() {
        let mut process = ArrivalProcess::new(&profile(&[(0.0, 10.0), (10.0, 0.0)]), 1.0);
        let mut rng = RngStreams::new(3).stream("test");
        let mut now = SimTime(0);
        let mut n = 0;
        while let Some(next) = process.next_arrival(now, &mut rng) {
            assert!(next >= now && next.as_secs_f64() <= 10.0);
            now = next;
            n += 1;
        }
        assert!(n > 20 && n < 90, "about 50 expected, got {n}");
    }

    #[test]
    fn rate_before_first_point_is_the_first_rate() {
        let process = ArrivalProcess::new(&profile(&[(100.0, 5.0), (200.0, 15.0)]), 1.0);
        assert_eq!(process.rate_at(SimTime(0)), 5.0);
        assert_eq!(process.rate_at(SimTime(150_000_000_000)), 10.0);
        assert_eq!(process.rate_at(SimTime(900_000_000_000)), 15.0);
    }

    #[test]
    fn class_mix_follows_shares() {
        let mix = ClassMix::new([0.7, 0.2, 0.1]);
        let mut rng = RngStreams::new(5).stream("mix");
        let mut counts = [0u32; 3];
        for _ in 0..100_000 {
            counts[mix.pick(&mut rng).idx()] += 1;
        }
        assert!((counts[0] as f64 - 70_000.0).abs() < 800.0, "{counts:?}");
        assert!((counts[2] as f64 - 10_000.0).abs() < 500.0, "{counts:?}");
    }

    #[test]
    fn nanoseconds_round_as_f64_round_does() {
        let mut rng = RngStreams::new(3).stream("round");
        let edges = [0.0, 0.5e-9, 1.5e-9, 2.5e-9, 4.5e6, 1e10, -0.7e-9, f64::NAN];
        let draws = (0..100_000).map(|_| rng.random::<f64>() * 10f64.powi(rng.random_range(-10..10)));
        for s in edges.into_iter().chain(draws) {
            let ns = s * NANOS_PER_SEC as f64;
            assert_eq!(secs_to_ns(s), ns.round() as u64, "{s:e}");
        }
    }
}
