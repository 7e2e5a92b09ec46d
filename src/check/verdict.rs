//! Verdicts: a threshold against the runs of one configuration (one or more seeds).
//!
//! Each run gives one value of the threshold's measure; the statistic turns them into the
//! observed value (their mean, the worst, or a confidence bound of the mean), which the
//! comparison holds against the target. A run without a value (no successful request for a
//! latency, no interval in the window, a figure the summary lacks) makes the verdict
//! `NoData`, which fails: a target is never met by default.

use super::measure::RunView;
use super::threshold::{Statistic, Threshold};
use crate::engine::SimTime;
use crate::stats::confidence::Estimate;

/// Whether a threshold was met.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Passed,
    Failed,
    /// Some run had no value for the measure; counts as a failure.
    NoData,
}

impl Status {
    pub fn passed(self) -> bool {
        self == Status::Passed
    }
}

/// A threshold's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub threshold: Threshold,
    pub status: Status,
    /// The value the statistic gave, compared with the target.
    pub observed: Option<f64>,
    /// The measure in each run, in seed order.
    pub values: Vec<Option<f64>>,
    /// Mean and 95% confidence interval over the runs (the interval from two runs on).
    pub estimate: Option<Estimate>,
    /// For a window, where the worst run's value was taken.
    pub window: Option<(SimTime, SimTime)>,
}

impl Verdict {
    /// How far the observed value is on the wrong side of the target (0 when met).
    pub fn missed_by(&self) -> Option<f64> {
        let observed = self.observed?;
        (self.status == Status::Failed).then(|| (observed - self.threshold.target).abs())
    }
}

/// Confidence of the interval reported beside every verdict.
pub const CONFIDENCE: f64 = 0.95;

/// Evaluates `threshold` over `runs` (one per seed).
pub fn evaluate(threshold: &Threshold, runs: &[RunView<'_>]) -> Verdict {
    let metric = threshold.measure.metric;
    let observations: Vec<_> = runs.iter().map(|run| threshold.measure.observe(run)).collect();
    let values: Vec<Option<f64>> = observations.iter().map(|observation| observation.value).collect();
    let present: Option<Vec<f64>> = values.iter().copied().collect();
    let worst_run =
        observations.iter().filter(|observation| observation.value.is_some()).reduce(|a, b| {
            match (a.value, b.value) {
                (Some(x), Some(y)) if metric.better.worse(x, y) == y && x != y => b,
                _ => a,
            }
        });
    let window = worst_run.and_then(|observation| observation.window);
    let Some(present) = present.filter(|present| !present.is_empty()) else {
        return Verdict {
            threshold: threshold.clone(),
            status: Status::NoData,
            observed: None,
            values,
            estimate: None,
            window,
        };
    };
    let estimate = Estimate::of(&present, CONFIDENCE);
    let observed = match threshold.statistic {
        Statistic::Mean => estimate.map(|estimate| estimate.mean),
        Statistic::Worst => present.iter().copied().reduce(|a, b| metric.better.worse(a, b)),
        Statistic::Lower(_) | Statistic::Upper(_) => {
            let confidence = threshold.statistic.confidence().unwrap_or(CONFIDENCE);
            let interval = Estimate::of(&present, confidence).and_then(|estimate| estimate.interval);
            interval.map(
                |(low, high)| if matches!(threshold.statistic, Statistic::Lower(_)) { low } else { high },
            )
        }
    };
    let status = match observed {
        Some(value) if threshold.comparison.holds(value, threshold.target) => Status::Passed,
        Some(_) => Status::Failed,
        None => Status::NoData,
    };
    Verdict { threshold: threshold.clone(), status, observed, values, estimate, window }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::threshold::parse_expression;
    use crate::report::tests::{synthetic_series, synthetic_summary};
    use crate::simulation::RunOutput;

    fn outputs(success_rates: &[f64]) -> Vec<RunOutput> {
        success_rates
            .iter()
            .map(|&rate| {
                let mut summary = synthetic_summary();
                summary.requests.success_rate = rate;
                RunOutput { summary, series: synthetic_series(60), stopped: None }
            })
            .collect()
    }

    fn verdict(expression: &str, success_rates: &[f64]) -> Verdict {
        let scenario = crate::check::threshold::tests::scenario();
        let threshold = parse_expression(expression, &scenario).unwrap();
        let outputs = outputs(success_rates);
        let runs: Vec<RunView> = outputs.iter().map(RunView::new).collect();
        evaluate(&threshold, &runs)
    }

    #[test]
    fn a_single_run_at_the_boundary() {
        assert_eq!(verdict("success_rate >= 99%", &[0.99]).status, Status::Passed);
        assert_eq!(verdict("success_rate > 99%", &[0.99]).status, Status::Failed);
        assert_eq!(verdict("success_rate <= 99%", &[0.99]).status, Status::Passed);
        assert_eq!(verdict("success_rate < 99%", &[0.99]).status, Status::Failed);
        let missed = verdict("success_rate >= 99.5%", &[0.99]);
        assert_eq!(missed.status, Status::Failed);
        assert!((missed.missed_by().unwrap() - 0.005).abs() < 1e-12);
        assert_eq!(verdict("success_rate >= 98%", &[0.99]).missed_by(), None);
    }

    #[test]
    fn statistics_over_replications() {
        let rates = [0.97, 0.98, 0.99, 1.0];
        let mean = verdict("success_rate >= 98.4%", &rates);
        assert_eq!(mean.status, Status::Passed);
        assert!((mean.observed.unwrap() - 0.985).abs() < 1e-12);
        assert_eq!(mean.values.len(), 4);
        let worst = verdict("success_rate >= 98.5% worst", &rates);
        assert_eq!((worst.status, worst.observed), (Status::Failed, Some(0.97)));
        // s = 0.01291, t(0.975, 3) = 3.1824: the interval is 0.985 ± 0.02054.
        let lower = verdict("success_rate >= 96.4% lower95", &rates);
        assert_eq!(lower.status, Status::Passed, "{:?}", lower.observed);
        assert!((lower.observed.unwrap() - 0.96446).abs() < 1e-4);
        let lower = verdict("success_rate >= 96.5% lower95", &rates);
        assert_eq!(lower.status, Status::Failed);
        let upper = verdict("success_rate <= 100% upper95", &rates);
        assert_eq!(upper.status, Status::Failed, "the upper bound is above 100%: {:?}", upper.observed);
        assert!(mean.estimate.unwrap().interval.is_some());
    }

    #[test]
    fn a_missing_value_is_no_data_and_fails() {
        let verdict = verdict("slo.time_to_recover <= 5m", &[0.99, 0.98]);
        assert_eq!((verdict.status, verdict.observed), (Status::NoData, None));
        assert!(!verdict.status.passed());
    }

    #[test]
    fn a_window_verdict_says_where_it_missed() {
        let verdict = verdict("success_rate >= 99% sliding 5m", &[0.99]);
        assert_eq!(verdict.status, Status::Failed);
        let (start, _) = verdict.window.unwrap();
        assert!(start.as_secs_f64() >= 20.0 * 60.0, "{start}");
    }
}
