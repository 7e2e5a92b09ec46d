//! Target tracking on CPU utilisation, with the rules of Kubernetes' HPA and of AWS target
//! tracking as parameter sets of one algorithm.
//!
//! Each sync the autoscaler turns the newest delivered metric into a recommendation
//! `ceil(current x utilisation / target)` (no change inside the tolerance band), smooths it
//! through the stabilisation windows (scale up to the lowest, down to the highest
//! recommendation in its window), limits the step, honours the scale-in cooldown and
//! clamps to `[min, max]` and to the scheduled minimum. `current` is the desired count, so
//! capacity still booting counts as added (AWS counts a scale-out in progress the same way).
//!
//! Without a fresh metric the autoscaler is blind, and does what `when_blind` says. Holding
//! is what AWS documents ("no scaling on insufficient data") and the failure of incident 001.

use crate::engine::{SimDuration, SimTime};
use std::collections::VecDeque;

#[derive(Clone, Debug, PartialEq)]
pub struct AutoscalerSpec {
    /// Track the target (`TargetTracking`) or only follow the schedule.
    pub mode: ScalingMode,
    /// Target CPU utilisation, in (0, 1].
    pub target: f64,
    pub min: u32,
    pub max: u32,
    /// Time between decisions.
    pub sync: SimDuration,
    /// No change while `|utilisation / target - 1| <= tolerance`.
    pub tolerance: f64,
    /// Scale up only to the lowest recommendation of this window.
    pub scale_up_window: SimDuration,
    /// Scale down only to the highest recommendation of this window.
    pub scale_down_window: SimDuration,
    /// Most instances one decision may add: `max(current x percent, pods)`; `None` = no cap.
    pub scale_up_limit: Option<StepLimit>,
    /// Most instances one decision may remove: `current x percent`; `None` = no cap.
    pub scale_down_limit: Option<StepLimit>,
    /// No scale-in until this long after the last scaling action.
    pub scale_in_cooldown: SimDuration,
    /// A delivered sample older than this (by when it was taken) does not count.
    pub stale_after: SimDuration,
    pub when_blind: BlindPolicy,
    /// Instances to scale out to when blind with `BlindPolicy::ScaleOut`.
    pub blind_instances: u32,
    /// Scheduled instance counts: a floor for target tracking, the whole plan for
    /// `ScalingMode::Schedule` and `BlindPolicy::Schedule`. Sorted by time.
    pub schedule: Vec<(SimTime, u32)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalingMode {
    TargetTracking,
    Schedule,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepLimit {
    /// Fraction of the current count (1.0 = double / halve).
    pub percent: f64,
    /// Instances, whichever allows more.
    pub pods: u32,
}

/// What the autoscaler does without fresh metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlindPolicy {
    /// Keep the current count (AWS target tracking's documented behaviour).
    Hold,
    /// HPA: with some instances unreported, assume them idle when scaling up and fully busy
    /// when scaling down; with none reported, hold.
    Hpa,
    /// Fail safe: scale out to `blind_instances`.
    ScaleOut,
    /// Follow the schedule.
    Schedule,
}

impl BlindPolicy {
    pub const NAMES: [&'static str; 4] = ["hold", "hpa", "scale-out", "schedule"];
    const ALL: [BlindPolicy; 4] =
        [BlindPolicy::Hold, BlindPolicy::Hpa, BlindPolicy::ScaleOut, BlindPolicy::Schedule];

    pub fn name(self) -> &'static str {
        BlindPolicy::NAMES[BlindPolicy::ALL.iter().position(|p| *p == self).unwrap_or(0)]
    }

    pub fn from_name(name: &str) -> Option<BlindPolicy> {
        BlindPolicy::NAMES.iter().position(|n| *n == name).map(|i| BlindPolicy::ALL[i])
    }
}

/// Named parameter sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoscalerPreset {
    /// Kubernetes HPA defaults: sync 15 s, tolerance 10%, scale-down stabilisation 300 s,
    /// scale up by max(100%, 4 pods), down by up to 100%, per sync.
    Hpa,
    /// AWS target tracking: decisions every minute, the high alarm needs 3 datapoints (a
    /// 3-minute scale-up window), the low alarm 15 (15 minutes), scale-in cooldown 300 s,
    /// and nothing at all on insufficient data.
    AwsTargetTracking,
    /// Scheduled scaling only.
    Schedule,
}

impl AutoscalerPreset {
    pub const NAMES: [&'static str; 3] = ["hpa", "aws-target-tracking", "schedule"];

    pub fn from_name(name: &str) -> Option<AutoscalerPreset> {
        match name {
            "hpa" => Some(AutoscalerPreset::Hpa),
            "aws-target-tracking" => Some(AutoscalerPreset::AwsTargetTracking),
            "schedule" => Some(AutoscalerPreset::Schedule),
            _ => None,
        }
    }

    /// The preset's parameters; `min`, `max` and `target` come from the scenario.
    pub fn spec(self, target: f64, min: u32, max: u32) -> AutoscalerSpec {
        let s = SimDuration::from_secs;
        let base = AutoscalerSpec {
            mode: ScalingMode::TargetTracking,
            target,
            min,
            max,
            sync: s(15),
            tolerance: 0.1,
            scale_up_window: SimDuration::ZERO,
            scale_down_window: s(300),
            scale_up_limit: Some(StepLimit { percent: 1.0, pods: 4 }),
            scale_down_limit: Some(StepLimit { percent: 1.0, pods: 0 }),
            scale_in_cooldown: SimDuration::ZERO,
            stale_after: s(180),
            when_blind: BlindPolicy::Hpa,
            blind_instances: max,
            schedule: Vec::new(),
        };
        match self {
            AutoscalerPreset::Hpa => base,
            AutoscalerPreset::AwsTargetTracking => AutoscalerSpec {
                sync: s(60),
                tolerance: 0.0,
                scale_up_window: s(180),
                scale_down_window: s(900),
                scale_up_limit: None,
                scale_down_limit: None,
                scale_in_cooldown: s(300),
                stale_after: s(300),
                when_blind: BlindPolicy::Hold,
                ..base
            },
            AutoscalerPreset::Schedule => AutoscalerSpec {
                mode: ScalingMode::Schedule,
                sync: s(60),
                when_blind: BlindPolicy::Schedule,
                ..base
            },
        }
    }
}

/// The newest metric the autoscaler has: mean CPU utilisation of the instances that
/// reported, taken at `taken`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    pub taken: SimTime,
    pub utilisation: f64,
    /// Instances whose data is in the mean.
    pub reporting: u32,
    /// Ready instances when the sample was taken (reporting or not).
    pub ready: u32,
}

/// Runtime state of one service's autoscaler.
#[derive(Clone, Debug)]
pub struct Autoscaler {
    pub spec: AutoscalerSpec,
    /// `(time, recommendation)` within the longer stabilisation window.
    recommendations: VecDeque<(SimTime, u32)>,
    last_scaled: Option<SimTime>,
}

impl Autoscaler {
    pub fn new(spec: AutoscalerSpec) -> Autoscaler {
        Autoscaler { spec, recommendations: VecDeque::new(), last_scaled: None }
    }

    /// Whether `sample` is fresh enough to act on at `now`.
    pub fn is_fresh(&self, now: SimTime, sample: Option<&Sample>) -> bool {
        sample.is_some_and(|s| now.since(s.taken) <= self.spec.stale_after)
    }

    /// The scheduled count at `now`, if the schedule has started.
    pub fn scheduled(&self, now: SimTime) -> Option<u32> {
        self.spec.schedule.iter().take_while(|(at, _)| *at <= now).last().map(|&(_, n)| n)
    }

    /// The desired instance count after a sync at `now`, from the current desired count.
    pub fn decide(&mut self, now: SimTime, current: u32, sample: Option<&Sample>) -> u32 {
        let max = self.spec.max;
        let spec = &self.spec;
        let floor = self.scheduled(now).unwrap_or(0).max(spec.min);
        let clamp = move |n: u32| n.clamp(floor.min(max), max);
        let fresh = if self.is_fresh(now, sample) { sample } else { None };
        let decided = match (spec.mode, fresh) {
            (ScalingMode::Schedule, _) => clamp(self.scheduled(now).unwrap_or(current)),
            (ScalingMode::TargetTracking, None) => match spec.when_blind {
                // The floor (schedule, min) never exceeds max, so holding stays in range.
                BlindPolicy::Hold | BlindPolicy::Hpa => current.max(floor),
                BlindPolicy::ScaleOut => clamp(current.max(spec.blind_instances)),
                BlindPolicy::Schedule => clamp(self.scheduled(now).unwrap_or(current)),
            },
            (ScalingMode::TargetTracking, Some(sample)) => {
                let raw = self.recommend(current, sample);
                let smoothed = self.stabilise(now, current, raw);
                clamp(self.limit(now, current, smoothed))
            }
        };
        if decided != current {
            self.last_scaled = Some(now);
        }
        decided
    }

    /// `ceil(current x utilisation / target)`, or `current` inside the tolerance band.
    fn recommend(&self, current: u32, sample: &Sample) -> u32 {
        let spec = &self.spec;
        let ratio_of = |utilisation: f64| utilisation / spec.target;
        let mut ratio = ratio_of(sample.utilisation);
        let missing = sample.ready.saturating_sub(sample.reporting);
        if spec.when_blind == BlindPolicy::Hpa && missing > 0 {
            // HPA's conservative rule: unreported instances count as idle when scaling up
            // and as fully busy when scaling down; a flipped direction means no change.
            let assumed = if ratio > 1.0 { 0.0 } else { 1.0 };
            let total = sample.utilisation * sample.reporting as f64 + assumed * missing as f64;
            let adjusted = ratio_of(total / sample.ready as f64);
            if (ratio > 1.0) != (adjusted > 1.0) {
                return current;
            }
            ratio = adjusted;
        }
        if (ratio - 1.0).abs() <= spec.tolerance {
            return current;
        }
        let wanted = (current.max(1) as f64 * ratio).ceil();
        wanted.min(u32::MAX as f64) as u32
    }

    /// HPA stabilisation: up to the lowest recommendation of the scale-up window, down to
    /// the highest of the scale-down window.
    fn stabilise(&mut self, now: SimTime, current: u32, raw: u32) -> u32 {
        let spec = &self.spec;
        let horizon = spec.scale_up_window.max(spec.scale_down_window);
        while self.recommendations.front().is_some_and(|&(at, _)| now.since(at) > horizon) {
            self.recommendations.pop_front();
        }
        self.recommendations.push_back((now, raw));
        let within = |window: SimDuration| {
            self.recommendations.iter().filter(move |&&(at, _)| now.since(at) <= window).map(|&(_, n)| n)
        };
        let up = within(spec.scale_up_window).min().unwrap_or(raw);
        let down = within(spec.scale_down_window).max().unwrap_or(raw);
        if up > current {
            up
        } else if down < current {
            down
        } else {
            current
        }
    }

    /// Step limits and the scale-in cooldown.
    fn limit(&self, now: SimTime, current: u32, wanted: u32) -> u32 {
        let spec = &self.spec;
        if wanted > current {
            match spec.scale_up_limit {
                Some(limit) => {
                    let by_percent = (current as f64 * (1.0 + limit.percent)).ceil() as u32;
                    wanted.min(by_percent.max(current.saturating_add(limit.pods)))
                }
                None => wanted,
            }
        } else if wanted < current {
            let cooling = self.last_scaled.is_some_and(|at| now.since(at) < spec.scale_in_cooldown);
            if cooling {
                return current;
            }
            match spec.scale_down_limit {
                Some(limit) => {
                    let by_percent = (current as f64 * (1.0 - limit.percent)).floor().max(0.0) as u32;
                    wanted.max(by_percent.min(current.saturating_sub(limit.pods)))
                }
                None => wanted,
            }
        } else {
            current
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SimTime {
        SimTime(s * 1_000_000_000)
    }

    fn sample(taken: SimTime, utilisation: f64, ready: u32) -> Sample {
        Sample { taken, utilisation, reporting: ready, ready }
    }

    fn hpa() -> Autoscaler {
        Autoscaler::new(AutoscalerPreset::Hpa.spec(0.5, 1, 100))
    }

    #[test]
    fn hpa_scales_by_the_ratio_and_ignores_the_tolerance_band() {
        let mut scaler = hpa();
        // 10 instances at 75% for a 50% target: ceil(10 x 1.5) = 15.
        assert_eq!(scaler.decide(at(15), 10, Some(&sample(at(10), 0.75, 10))), 15);
        // 54% is within 10% of the target: no change.
        let mut scaler = hpa();
        assert_eq!(scaler.decide(at(15), 10, Some(&sample(at(10), 0.54, 10))), 10);
        assert_eq!(scaler.decide(at(30), 10, Some(&sample(at(25), 0.56, 10))), 12, "just outside");
    }

    #[test]
    fn hpa_scale_up_is_limited_to_max_of_double_and_four_pods() {
        let mut scaler = hpa();
        assert_eq!(scaler.decide(at(15), 2, Some(&sample(at(10), 5.0, 2))), 6, "2 + 4 pods beats 2 x 2");
        let mut scaler = hpa();
        assert_eq!(scaler.decide(at(15), 10, Some(&sample(at(10), 5.0, 10))), 20, "doubling beats + 4");
    }

    #[test]
    fn hpa_scale_down_waits_for_the_stabilisation_window() {
        let mut scaler = hpa();
        assert_eq!(scaler.decide(at(0), 10, Some(&sample(at(0), 0.5, 10))), 10);
        // Load drops: the recommendation of 10 at t=0 is still in the 300 s window.
        assert_eq!(scaler.decide(at(15), 10, Some(&sample(at(15), 0.25, 10))), 10);
        assert_eq!(scaler.decide(at(299), 10, Some(&sample(at(299), 0.25, 10))), 10);
        // Once it has left the window, the highest recommendation left is 5.
        assert_eq!(scaler.decide(at(301), 10, Some(&sample(at(301), 0.25, 10))), 5);
    }

    #[test]
    fn hpa_assumes_missing_instances_idle_on_scale_up() {
        let mut scaler = hpa();
        // 6 of 10 report 100%: naive ratio 2 (20); with 4 assumed idle, 60% -> ceil(12).
        let partial = Sample { taken: at(10), utilisation: 1.0, reporting: 6, ready: 10 };
        assert_eq!(scaler.decide(at(15), 10, Some(&partial)), 12);
        // 6 of 10 report 40% (scale down); 4 assumed busy: 64% -> the direction flips.
        let mut scaler = hpa();
        let partial = Sample { taken: at(10), utilisation: 0.4, reporting: 6, ready: 10 };
        assert_eq!(scaler.decide(at(15), 10, Some(&partial)), 10);
    }

    #[test]
    fn aws_does_nothing_on_insufficient_data() {
        let mut scaler = Autoscaler::new(AutoscalerPreset::AwsTargetTracking.spec(0.5, 1, 100));
        assert_eq!(scaler.decide(at(600), 10, None), 10);
        // A sample older than stale_after (300 s) is insufficient data too.
        assert_eq!(scaler.decide(at(600), 10, Some(&sample(at(200), 0.95, 10))), 10);
    }

    #[test]
    fn aws_scales_out_only_after_three_high_minutes() {
        let mut scaler = Autoscaler::new(AutoscalerPreset::AwsTargetTracking.spec(0.5, 1, 100));
        assert_eq!(scaler.decide(at(60), 10, Some(&sample(at(60), 0.5, 10))), 10);
        assert_eq!(scaler.decide(at(120), 10, Some(&sample(at(120), 0.8, 10))), 10);
        assert_eq!(scaler.decide(at(180), 10, Some(&sample(at(180), 0.8, 10))), 10);
        assert_eq!(scaler.decide(at(240), 10, Some(&sample(at(240), 0.8, 10))), 10);
        // The in-window minimum is now the 16 of three high minutes.
        assert_eq!(scaler.decide(at(300), 10, Some(&sample(at(300), 0.8, 10))), 16);
    }

    #[test]
    fn scale_in_waits_for_the_cooldown() {
        let mut spec = AutoscalerPreset::AwsTargetTracking.spec(0.5, 1, 100);
        spec.scale_up_window = SimDuration::ZERO;
        spec.scale_down_window = SimDuration::ZERO;
        let mut scaler = Autoscaler::new(spec);
        assert_eq!(scaler.decide(at(60), 10, Some(&sample(at(60), 1.0, 10))), 20);
        assert_eq!(scaler.decide(at(120), 20, Some(&sample(at(120), 0.25, 20))), 20, "cooling down");
        assert_eq!(scaler.decide(at(360), 20, Some(&sample(at(360), 0.25, 20))), 10);
    }

    #[test]
    fn blind_policies() {
        // The schedule is also a floor, so holding at 40 stays above it; following the
        // schedule goes down to it.
        let mut spec = AutoscalerPreset::AwsTargetTracking.spec(0.5, 2, 60);
        spec.schedule = vec![(at(0), 8), (at(3600), 30)];
        for (policy, expected) in [
            (BlindPolicy::Hold, 40),
            (BlindPolicy::Hpa, 40),
            (BlindPolicy::ScaleOut, 60),
            (BlindPolicy::Schedule, 30),
        ] {
            let mut scaler = Autoscaler::new(AutoscalerSpec { when_blind: policy, ..spec.clone() });
            assert_eq!(scaler.decide(at(4000), 40, None), expected, "{policy:?}");
        }
        let mut holding = Autoscaler::new(spec);
        assert_eq!(holding.decide(at(4000), 10, None), 30, "the scheduled minimum holds even when blind");
    }

    #[test]
    fn schedule_is_a_floor_for_target_tracking_and_min_max_clamp() {
        let mut spec = hpa().spec;
        spec.schedule = vec![(at(100), 12)];
        let mut scaler = Autoscaler::new(spec);
        assert_eq!(scaler.decide(at(50), 10, Some(&sample(at(50), 0.5, 10))), 10);
        assert_eq!(scaler.decide(at(100), 10, Some(&sample(at(100), 0.5, 10))), 12);
        let mut scaler = Autoscaler::new(AutoscalerPreset::Hpa.spec(0.5, 1, 16));
        assert_eq!(scaler.decide(at(15), 10, Some(&sample(at(10), 1.0, 10))), 16);
    }

    #[test]
    fn schedule_mode_follows_the_plan() {
        let mut spec = AutoscalerPreset::Schedule.spec(0.5, 1, 100);
        spec.schedule = vec![(at(0), 4), (at(600), 9)];
        let mut scaler = Autoscaler::new(spec);
        assert_eq!(scaler.decide(at(60), 2, Some(&sample(at(60), 0.99, 2))), 4);
        assert_eq!(scaler.decide(at(660), 4, None), 9);
    }
}
