//! Capacity search: the smallest value of an integer capacity parameter that meets every
//! threshold, or the largest value of a multiplier that still does, by bisection over
//! replicated probes.
//!
//! A probe runs N replications at one value and passes only when every threshold passes by
//! its own statistic (a `lower95` bound makes noise count against the plan). A probe that
//! fails while a threshold's 95% interval of the mean still straddles its target is
//! inconclusive: it is probed again with twice the replications (the same first seeds and
//! more), up to a limit, and counted as failing if it stays inconclusive. The search first
//! probes the end of the range that should pass; if that fails there is no answer.
//!
//! Invariant: the answer passed its probe, and its neighbour on the failing side (one step,
//! or the tolerance, away) failed its own.

use crate::check::verdict::{Status, Verdict};
use crate::refusal::Refusal;

/// What is searched for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Goal {
    /// The smallest whole number in `low..=high` that passes.
    Smallest { low: i64, high: i64 },
    /// The largest value in `low..=high` that passes, to within `tolerance`.
    Largest { low: f64, high: f64, tolerance: f64 },
}

/// What a probe found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail,
    /// Failed, but within the noise: more replications might pass it.
    Inconclusive,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail => "fail",
            Outcome::Inconclusive => "inconclusive",
        }
    }
}

/// One probe: the value, how many replications, the outcome and what the caller measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe<T> {
    pub value: f64,
    pub replications: u64,
    pub outcome: Outcome,
    pub detail: T,
}

/// The result of a search.
#[derive(Clone, Debug, PartialEq)]
pub struct Search<T> {
    /// The value found, if any value of the range passed.
    pub answer: Option<f64>,
    /// The nearest value on the failing side that was probed and failed.
    pub failing_neighbour: Option<f64>,
    /// Every probe, in the order run.
    pub probes: Vec<Probe<T>>,
    /// The search was stopped (Ctrl-C) before it ended: there is no answer, and `probes`
    /// holds the probes that finished.
    pub interrupted: bool,
}

impl<T: Clone> Search<T> {
    /// The best passing value probed so far and the nearest failing value beyond it: where
    /// an interrupted search had narrowed the answer to.
    pub fn bracket(&self, goal: Goal) -> (Option<f64>, Option<f64>) {
        // Oriented so that "better" is smaller: the smallest capacity, the largest multiplier.
        let sign = if matches!(goal, Goal::Smallest { .. }) { 1.0 } else { -1.0 };
        let settled = |outcome: Outcome| {
            self.probes.iter().filter(move |probe| probe.outcome == outcome).map(|probe| probe.value)
        };
        let pass = settled(Outcome::Pass).min_by(|a, b| (sign * a).total_cmp(&(sign * b)));
        let fail = settled(Outcome::Fail)
            .chain(settled(Outcome::Inconclusive))
            .filter(|value| pass.is_none_or(|pass| sign * value < sign * pass))
            .max_by(|a, b| (sign * a).total_cmp(&(sign * b)));
        (pass, fail)
    }

    /// The last probe of `value` (the one with the most replications).
    pub fn probe_of(&self, value: Option<f64>) -> Option<&Probe<T>> {
        let value = value?;
        self.probes.iter().rev().find(|probe| probe.value == value)
    }
}

/// Searches for `goal`. `probe(value, replications)` runs a probe, or gives `None` when
/// the search is to stop at once (Ctrl-C); an inconclusive probe is repeated with doubled
/// replications while they stay within `max_replications`.
pub fn search<T: Clone>(
    goal: Goal,
    replications: u64,
    max_replications: u64,
    mut probe: impl FnMut(f64, u64) -> Option<(Outcome, T)>,
) -> Search<T> {
    let mut probes = Vec::new();
    // `None`: interrupted.
    let mut passes = |value: f64, probes: &mut Vec<Probe<T>>| -> Option<bool> {
        let mut n = replications;
        loop {
            let (outcome, detail) = probe(value, n)?;
            probes.push(Probe { value, replications: n, outcome, detail });
            match outcome {
                Outcome::Pass => return Some(true),
                Outcome::Fail => return Some(false),
                Outcome::Inconclusive if n * 2 <= max_replications => n *= 2,
                Outcome::Inconclusive => return Some(false),
            }
        }
    };
    let stopped =
        |probes: Vec<Probe<T>>| Search { answer: None, failing_neighbour: None, probes, interrupted: true };
    let (good_end, bad_end) = match goal {
        Goal::Smallest { low, high } => (high as f64, low as f64),
        Goal::Largest { low, high, .. } => (low, high),
    };
    let Some(good_passes) = passes(good_end, &mut probes) else { return stopped(probes) };
    if !good_passes {
        return Search { answer: None, failing_neighbour: Some(good_end), probes, interrupted: false };
    }
    let bad_passes = if good_end == bad_end { Some(true) } else { passes(bad_end, &mut probes) };
    let Some(bad_passes) = bad_passes else { return stopped(probes) };
    if bad_passes {
        return Search { answer: Some(bad_end), failing_neighbour: None, probes, interrupted: false };
    }
    let (mut pass, mut fail) = (good_end, bad_end);
    loop {
        let mid = match goal {
            Goal::Smallest { .. } if pass - fail <= 1.0 => break,
            Goal::Smallest { .. } => ((pass + fail) / 2.0).floor(),
            Goal::Largest { tolerance, .. } if (pass - fail).abs() <= tolerance => break,
            Goal::Largest { .. } => (pass + fail) / 2.0,
        };
        match passes(mid, &mut probes) {
            Some(true) => pass = mid,
            Some(false) => fail = mid,
            None => return stopped(probes),
        }
    }
    Search { answer: Some(pass), failing_neighbour: Some(fail), probes, interrupted: false }
}

/// What a probe of a scenario keeps: the verdicts, and a run stopped early if one was.
#[derive(Clone, Debug)]
pub struct Detail {
    pub verdicts: Vec<Verdict>,
    pub stopped: Option<String>,
}

impl Goal {
    /// The goal from `--range` and `--maximize`, or why it is refused.
    pub fn parse(range: &str, maximize: bool, tolerance: f64) -> Result<Goal, Refusal> {
        let expected =
            if maximize { "LO..HI such as 0.5..4" } else { "LO..HI with whole numbers such as 4..64" };
        let refuse = || {
            Refusal::new(format!("--range \"{range}\" is not a range"))
                .expected(format!("{expected}, LO below HI"))
        };
        let (low, high) = range.split_once("..").ok_or_else(refuse)?;
        if maximize {
            let (low, high): (f64, f64) =
                (low.trim().parse().map_err(|_| refuse())?, high.trim().parse().map_err(|_| refuse())?);
            if !(low.is_finite() && high.is_finite() && low < high) {
                return Err(refuse());
            }
            if !(tolerance > 0.0 && tolerance.is_finite()) {
                return Err(Refusal::new(format!("--tolerance {tolerance} is not positive"))
                    .expected("a positive number such as 0.01"));
            }
            Ok(Goal::Largest { low, high, tolerance })
        } else {
            let (low, high): (i64, i64) =
                (low.trim().parse().map_err(|_| refuse())?, high.trim().parse().map_err(|_| refuse())?);
            if low >= high {
                return Err(refuse());
            }
            Ok(Goal::Smallest { low, high })
        }
    }

    /// The TOML literal of a probed value: whole numbers for a capacity, floats for a multiplier.
    pub fn literal(self, value: f64) -> String {
        match self {
            Goal::Smallest { .. } => format!("{}", value as i64),
            Goal::Largest { .. } => format!("{value:?}"),
        }
    }

    /// A probed value as the user reads it.
    pub fn format(self, value: f64) -> String {
        match self {
            Goal::Smallest { .. } => format!("{}", value as i64),
            Goal::Largest { .. } => format!("{}", (value * 1e6).round() / 1e6),
        }
    }
}

/// A probe's outcome from its verdicts: pass when all pass; inconclusive when one fails but
/// its 95% interval of the mean still holds the target.
pub fn classify(verdicts: &[Verdict], stopped: bool) -> Outcome {
    if stopped {
        return Outcome::Fail;
    }
    if verdicts.iter().all(|verdict| verdict.status.passed()) {
        return Outcome::Pass;
    }
    let noisy = verdicts.iter().filter(|verdict| !verdict.status.passed()).all(|verdict| {
        verdict.status == Status::Failed
            && verdict.estimate.and_then(|estimate| estimate.interval).is_some_and(|(low, high)| {
                low <= verdict.threshold.target && verdict.threshold.target <= high
            })
    });
    if noisy { Outcome::Inconclusive } else { Outcome::Fail }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A probe of a monotone plan: passes from `threshold` up (or down), inconclusive within
    /// `noise` of it until given `sure_at` replications.
    fn plan(
        threshold: f64,
        larger_passes: bool,
        noise: f64,
        sure_at: u64,
    ) -> impl FnMut(f64, u64) -> Option<(Outcome, ())> {
        move |value, n| {
            let good = if larger_passes { value >= threshold } else { value <= threshold };
            let near = (value - threshold).abs() < noise;
            let outcome = match (good, near && n < sure_at) {
                (true, false) => Outcome::Pass,
                (_, true) => Outcome::Inconclusive,
                (false, false) => Outcome::Fail,
            };
            Some((outcome, ()))
        }
    }

    #[test]
    fn the_smallest_passing_value_is_found() {
        let search = search(Goal::Smallest { low: 1, high: 100 }, 5, 20, plan(37.0, true, 0.0, 0));
        assert_eq!((search.answer, search.failing_neighbour), (Some(37.0), Some(36.0)));
        assert_eq!(search.probes[0].value, 100.0, "the end that must pass first");
        assert!(search.probes.len() <= 9, "{}", search.probes.len());
        let at_low = super::search(Goal::Smallest { low: 40, high: 100 }, 5, 20, plan(37.0, true, 0.0, 0));
        assert_eq!((at_low.answer, at_low.failing_neighbour), (Some(40.0), None));
        let none = super::search(Goal::Smallest { low: 1, high: 30 }, 5, 20, plan(37.0, true, 0.0, 0));
        assert_eq!((none.answer, none.failing_neighbour, none.probes.len()), (None, Some(30.0), 1));
    }

    #[test]
    fn the_largest_passing_multiplier_is_found_to_the_tolerance() {
        let search =
            search(Goal::Largest { low: 0.5, high: 4.0, tolerance: 0.01 }, 5, 20, plan(1.7, false, 0.0, 0));
        let (answer, failing) = (search.answer.unwrap(), search.failing_neighbour.unwrap());
        assert!(answer <= 1.7 && failing > 1.7 && failing - answer <= 0.01, "{answer} {failing}");
    }

    #[test]
    fn inconclusive_probes_are_repeated_with_more_replications() {
        let search = search(Goal::Smallest { low: 1, high: 64 }, 5, 20, plan(20.0, true, 1.5, 20));
        assert_eq!(search.answer, Some(20.0));
        let at_answer: Vec<(u64, Outcome)> = search
            .probes
            .iter()
            .filter(|probe| probe.value == 20.0)
            .map(|probe| (probe.replications, probe.outcome))
            .collect();
        assert_eq!(at_answer, [(5, Outcome::Inconclusive), (10, Outcome::Inconclusive), (20, Outcome::Pass)]);
        // Never sure enough: counted as failing, so the answer moves to where it is sure.
        let strict = super::search(Goal::Smallest { low: 1, high: 64 }, 5, 20, plan(20.0, true, 1.5, 40));
        assert_eq!((strict.answer, strict.failing_neighbour), (Some(22.0), Some(21.0)));
    }

    #[test]
    fn an_interrupted_search_keeps_its_finished_probes_and_gives_no_answer() {
        let mut whole = plan(37.0, true, 0.0, 0);
        let mut calls = 0;
        let search = search(Goal::Smallest { low: 1, high: 100 }, 5, 20, |value, n| {
            calls += 1;
            (calls <= 3).then(|| whole(value, n)).flatten()
        });
        assert!(search.interrupted);
        assert_eq!((search.answer, search.failing_neighbour), (None, None));
        let values: Vec<f64> = search.probes.iter().map(|probe| probe.value).collect();
        assert_eq!(values, [100.0, 1.0, 50.0]);
        assert_eq!(search.bracket(Goal::Smallest { low: 1, high: 100 }), (Some(50.0), Some(1.0)));
    }

    #[test]
    fn ranges_are_read_or_refused_with_what_would_do() {
        assert_eq!(Goal::parse("4..64", false, 0.01).unwrap(), Goal::Smallest { low: 4, high: 64 });
        assert_eq!(
            Goal::parse(" 0.5 .. 4 ", true, 0.02).unwrap(),
            Goal::Largest { low: 0.5, high: 4.0, tolerance: 0.02 }
        );
        let refused = Goal::parse("8-32", false, 0.01).unwrap_err().to_string();
        assert_eq!(
            refused,
            "--range \"8-32\" is not a range; expected LO..HI with whole numbers such as 4..64, LO below HI"
        );
        assert!(Goal::parse("64..4", false, 0.01).is_err());
        assert!(Goal::parse("0.5..4", false, 0.01).is_err(), "a capacity is a whole number");
        assert!(Goal::parse("0.5..4", true, 0.0).unwrap_err().to_string().contains("--tolerance 0"));
        let (capacity, multiplier) =
            (Goal::Smallest { low: 1, high: 9 }, Goal::Largest { low: 0.5, high: 4.0, tolerance: 0.01 });
        assert_eq!((capacity.literal(12.0), capacity.format(12.0)), ("12".to_owned(), "12".to_owned()));
        assert_eq!(
            (multiplier.literal(1.5), multiplier.format(1.234_567_89)),
            ("1.5".to_owned(), "1.234568".to_owned())
        );
    }
}
