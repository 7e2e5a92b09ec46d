//! `surge = { at, factor, over }` on a source: its rate times `factor` for `over` from `at`,
//! on top of its constant rate or profile.
//!
//! A surge is the trigger of a metastable failure, and its keys are scalars so that
//! `sweep --param sources.NAME.surge.factor=...` and `capacity` can vary its size and
//! length (a profile is a list, which a parameter cannot address). It is applied to the
//! profile when resolving, as steps up at `at` and back at `at + over` (each a 1 ns ramp,
//! since a profile is piecewise-linear), so the arrival process is the one every source has.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::checks::{check_delay, time_from_start};
use super::error::Problem;
use super::file::Number;
use super::operations::check_factor;
use super::spanned::Spanned;
use super::units::{ClockTime, Duration, TimePoint};
use crate::engine::{SimDuration, SimTime};
use crate::model::RateProfile;

/// `surge = { at = "10m", factor = 3, over = "5s" }`: the source's rate multiplied for a
/// while, on top of its rate or profile.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SurgeFile {
    /// When the surge starts: a clock time or a duration from the start.
    pub at: Spanned<TimePoint>,
    /// The rate's multiplier during the surge (3: three times the rate; 1: no surge).
    pub factor: Spanned<Number>,
    /// How long it lasts.
    pub over: Spanned<Duration>,
}

/// `profile` with `surge` applied; `key` is the surge's (`sources.NAME.surge`).
pub(super) fn apply(
    profile: RateProfile,
    surge: &SurgeFile,
    key: &str,
    start: Option<ClockTime>,
) -> Result<RateProfile, Problem> {
    let from = time_from_start(&surge.at, &format!("{key}.at"), start)?;
    let factor = check_factor(&surge.factor, &format!("{key}.factor"))?;
    let over = check_delay(&surge.over, &format!("{key}.over"))?;
    if over == SimDuration::ZERO {
        return Problem::new(surge.over.span(), format!("{key}.over"), "a surge of no length")
            .expected("a duration above 0 such as \"5s\"")
            .into_err();
    }
    Ok(surged(&profile, from, from.after(over), factor))
}

/// When a source's surge runs, as the model resolved it: what `metastability` judges a run
/// against (the model itself only sees the surged profile).
#[derive(Clone, Debug, PartialEq)]
pub struct SurgeWindow {
    pub source: String,
    pub from: SimTime,
    pub to: SimTime,
}

/// The window of every source's surge, in source name order; a surge that does not resolve
/// is left out (resolving the scenario has refused it already).
pub(super) fn windows(
    sources: &super::file::Named<super::file::SourceFile>,
    start: Option<ClockTime>,
) -> Vec<SurgeWindow> {
    sources
        .iter()
        .filter_map(|(name, source)| {
            let surge = source.surge.as_ref()?.get_ref();
            let from = time_from_start(&surge.at, "", start).ok()?;
            let over = check_delay(&surge.over, "").ok()?;
            Some(SurgeWindow { source: name.get_ref().clone(), from, to: from.after(over) })
        })
        .collect()
}

/// The rate at `t` of a piecewise-linear profile, constant before its first point and
/// after its last.
fn rate_at(points: &[(SimTime, f64)], t: SimTime) -> f64 {
    let after = points.partition_point(|&(at, _)| at <= t);
    match (after.checked_sub(1).map(|i| points[i]), points.get(after)) {
        (Some((t0, r0)), Some(&(t1, r1))) => r0 + (r1 - r0) * (t.0 - t0.0) as f64 / (t1.0 - t0.0) as f64,
        (Some((_, r0)), None) => r0,
        (None, Some(&(_, r1))) => r1,
        (None, None) => 0.0,
    }
}

/// The profile multiplied by `factor` on `[from, to)`.
fn surged(profile: &RateProfile, from: SimTime, to: SimTime, factor: f64) -> RateProfile {
    let base = &profile.points;
    let back = to.after(SimDuration(1));
    let mut points: Vec<(SimTime, f64)> = Vec::with_capacity(base.len() + 4);
    if from > SimTime::ZERO {
        let before = SimTime(from.0 - 1);
        points.extend(base.iter().copied().filter(|&(at, _)| at < before));
        points.push((before, rate_at(base, before)));
    }
    points.push((from, factor * rate_at(base, from)));
    points
        .extend(base.iter().filter(|&&(at, _)| at > from && at < to).map(|&(at, rate)| (at, factor * rate)));
    points.push((to, factor * rate_at(base, to)));
    points.push((back, rate_at(base, back)));
    points.extend(base.iter().copied().filter(|&(at, _)| at > back));
    RateProfile { points }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> SimTime {
        SimTime(s * 1_000_000_000)
    }

    /// Expected arrivals on `[0, end)`: the profile's integral, segment by segment.
    fn integral(profile: &RateProfile, end: SimTime) -> f64 {
        let mut points = profile.points.clone();
        points.insert(0, (SimTime::ZERO, rate_at(&points, SimTime::ZERO)));
        points.push((end, rate_at(&points, end)));
        points.windows(2).map(|w| (w[1].0.0 - w[0].0.0) as f64 / 1e9 * (w[0].1 + w[1].1) / 2.0).sum()
    }

    #[test]
    fn a_surge_multiplies_a_constant_rate_for_its_length_only() {
        let constant = RateProfile { points: vec![(SimTime::ZERO, 100.0)] };
        let surged = surged(&constant, secs(60), secs(65), 3.0);
        assert_eq!(rate_at(&surged.points, secs(59)), 100.0);
        assert_eq!(rate_at(&surged.points, secs(60)), 300.0);
        assert_eq!(rate_at(&surged.points, secs(64)), 300.0);
        assert_eq!(rate_at(&surged.points, secs(66)), 100.0);
        assert!(surged.points.windows(2).all(|w| w[0].0 < w[1].0), "times strictly increase");
        // 5 s at 200/s more: 1000 extra arrivals, up to the 1 ns ramps.
        let extra = integral(&surged, secs(120)) - integral(&constant, secs(120));
        assert!((extra - 1000.0).abs() < 1e-3, "{extra}");
    }

    #[test]
    fn a_surge_rides_on_a_profile_and_may_start_at_zero() {
        let ramp = RateProfile { points: vec![(secs(10), 0.0), (secs(20), 100.0), (secs(30), 100.0)] };
        let surged = surged(&ramp, SimTime::ZERO, secs(15), 2.0);
        assert_eq!(surged.points[0], (SimTime::ZERO, 0.0));
        assert_eq!(rate_at(&surged.points, secs(12)), 2.0 * rate_at(&ramp.points, secs(12)));
        assert_eq!(rate_at(&surged.points, secs(25)), 100.0);
        let extra = integral(&surged, secs(40)) - integral(&ramp, secs(40));
        assert!((extra - 125.0).abs() < 1e-3, "the ramp's 125 arrivals on 10-15 s again: {extra}");
    }
}
