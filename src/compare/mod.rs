//! Comparing a baseline with its variants on common random numbers: every configuration runs
//! on the same seeds, each figure is a mean with a Student t 95% interval, and each variant's
//! difference from the baseline is a paired difference (seed by seed) with its interval and a
//! verdict by the metric's direction.
//!
//! ```text
//! mod.rs     what is compared (`ROWS`), the statistics, JSON
//! series.rs  the mean time series behind the comparison chart
//! ```
//!
//! The terminal table is `report::compare`'s, the chart `report::chart`'s.
//!
//! Invariant: a verdict is `better` or `worse` only when the whole interval of the paired
//! difference lies on one side of zero; with fewer than two seeds it is `inconclusive`.

pub mod series;

use serde_json::{Value, json};

use crate::check::measure::RunView;
use crate::check::metric::{self, Better};
use crate::check::threshold::{Measure, Scope, Window};
use crate::engine::SimDuration;
use crate::simulation::RunOutput;
use crate::stats::confidence::{Estimate, paired_difference};

/// Bumped when a field of `compare.json` changes name or meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// Confidence of every interval of a comparison.
pub const CONFIDENCE: f64 = 0.95;

/// A row of the comparison: a label and the metric it shows.
struct Row {
    label: &'static str,
    metric: &'static str,
    /// Over the worst single interval instead of the whole run.
    peak: bool,
    /// Shown only when some run's summary has the figure.
    optional: bool,
    /// Shown only when some run's figure is not zero (outages, in a comparison where none
    /// of the runs had one, would be rows of zeros).
    nonzero: bool,
}

const fn row(label: &'static str, metric: &'static str) -> Row {
    Row { label, metric, peak: false, optional: false, nonzero: false }
}

/// What a comparison shows, in order.
const ROWS: &[Row] = &[
    row("success rate", "success_rate"),
    Row { peak: true, ..row("peak amplification", "amplification") },
    row("wasted CPU", "wasted_cpu"),
    row("goodput", "goodput"),
    row("p99 latency", "latency.p99"),
    Row { optional: true, ..row("bad minutes", "slo.bad_minutes") },
    // The SLO's outage episodes: how many per seed, and the worst one's length (to the end
    // of the run when it never recovered, so such a seed still counts); time to recover is
    // the worst episode's, over the seeds where it recovered.
    Row { nonzero: true, ..row("outage episodes", "slo.episodes") },
    Row { nonzero: true, ..row("worst outage", "slo.worst_episode") },
    Row { optional: true, ..row("time to recover", "slo.time_to_recover") },
    Row { optional: true, ..row("instance-hours", "instance_hours") },
];

/// A configuration: the baseline (`variant: None`) or a variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    pub variant: Option<String>,
    /// `summary.scenario.hash` of its runs.
    pub hash: String,
}

impl Config {
    pub fn label(&self) -> &str {
        self.variant.as_deref().unwrap_or("baseline")
    }
}

/// A variant's difference from the baseline, judged by the metric's direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Better,
    Worse,
    Inconclusive,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Better => "better",
            Outcome::Worse => "worse",
            Outcome::Inconclusive => "inconclusive",
        }
    }

    /// The outcome of a paired difference `variant - baseline` for a metric where `better`
    /// is the good direction.
    pub fn of(difference: Option<&Estimate>, better: Better) -> Outcome {
        let Some((low, high)) = difference.and_then(|difference| difference.interval) else {
            return Outcome::Inconclusive;
        };
        let up = match (low > 0.0, high < 0.0) {
            (true, _) => true,
            (_, true) => false,
            _ => return Outcome::Inconclusive,
        };
        if up == (better == Better::Higher) { Outcome::Better } else { Outcome::Worse }
    }
}

/// One metric across configurations.
#[derive(Clone, Debug)]
pub struct MetricRow {
    pub label: &'static str,
    pub measure: Measure,
    /// Per configuration: the value of each seed, and their estimate.
    pub values: Vec<Vec<Option<f64>>>,
    pub estimates: Vec<Option<Estimate>>,
    /// Per variant (configurations after the first): the paired difference and its outcome.
    pub differences: Vec<(Option<Estimate>, Outcome)>,
}

/// A whole comparison.
#[derive(Clone, Debug)]
pub struct Comparison {
    pub scenario: String,
    pub seeds: Vec<u64>,
    /// The baseline first, then the variants.
    pub configs: Vec<Config>,
    pub rows: Vec<MetricRow>,
}

/// Compares configurations from their runs: `runs[config][seed]`, the baseline first, every
/// configuration run on the same `seeds`.
pub fn compare(scenario: &str, seeds: &[u64], runs: &[Vec<RunOutput>], interval: SimDuration) -> Comparison {
    let configs = runs
        .iter()
        .map(|outputs| {
            let info = outputs.first().map(|output| &output.summary.scenario);
            Config {
                variant: info.and_then(|info| info.variant.clone()),
                hash: info.map(|info| info.hash.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let views: Vec<Vec<RunView>> =
        runs.iter().map(|outputs| outputs.iter().map(RunView::new).collect()).collect();
    let rows = ROWS
        .iter()
        .filter_map(|row| {
            let metric = metric::lookup(row.metric).ok()?;
            let window = if row.peak {
                Window::Sliding { length: crate::units::Duration(interval), intervals: 1 }
            } else {
                Window::Run
            };
            let measure = Measure { metric, scope: Scope::All, window };
            let values: Vec<Vec<Option<f64>>> = views
                .iter()
                .map(|config| config.iter().map(|run| measure.observe(run).value).collect())
                .collect();
            if row.optional && values.iter().flatten().all(Option::is_none) {
                return None;
            }
            if row.nonzero && values.iter().flatten().flatten().all(|&value| value == 0.0) {
                return None;
            }
            let estimates = values
                .iter()
                .map(|config| Estimate::of(&config.iter().flatten().copied().collect::<Vec<_>>(), CONFIDENCE))
                .collect();
            let differences = values[1..]
                .iter()
                .map(|variant| {
                    let difference = paired_difference(&values[0], variant, CONFIDENCE);
                    (difference, Outcome::of(difference.as_ref(), metric.better))
                })
                .collect();
            Some(MetricRow { label: row.label, measure, values, estimates, differences })
        })
        .collect();
    Comparison { scenario: scenario.to_string(), seeds: seeds.to_vec(), configs, rows }
}

impl Comparison {
    /// `compare.json` and `--json`.
    pub fn to_json(&self) -> Value {
        let estimate = |estimate: &Option<Estimate>| match estimate {
            Some(estimate) => json!({
                "n": estimate.n,
                "mean": estimate.mean,
                "ci95": estimate.interval.map(|(low, high)| [low, high]),
            }),
            None => Value::Null,
        };
        let metrics: Vec<Value> = self
            .rows
            .iter()
            .map(|row| {
                let metric = row.measure.metric;
                let results: Vec<Value> = self
                    .configs
                    .iter()
                    .zip(&row.values)
                    .zip(&row.estimates)
                    .map(|((config, values), result)| {
                        json!({ "config": config.label(), "values": values, "estimate": estimate(result) })
                    })
                    .collect();
                let differences: Vec<Value> = self.configs[1..]
                    .iter()
                    .zip(&row.differences)
                    .map(|(config, (difference, outcome))| {
                        json!({ "variant": config.label(), "difference": estimate(difference), "verdict": outcome.name() })
                    })
                    .collect();
                json!({
                    "label": row.label,
                    "metric": metric.name,
                    "peak": row.measure.window != Window::Run,
                    "unit": metric.unit.name(),
                    "better": metric.better.name(),
                    "results": results,
                    "differences": differences,
                })
            })
            .collect();
        let configs: Vec<Value> = self
            .configs
            .iter()
            .map(|config| json!({ "name": config.label(), "variant": config.variant, "hash": config.hash }))
            .collect();
        json!({
            "schema_version": SCHEMA_VERSION,
            "stormsim_version": env!("CARGO_PKG_VERSION"),
            "scenario": self.scenario,
            "seeds": self.seeds,
            "confidence": CONFIDENCE,
            "configs": configs,
            "metrics": metrics,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{synthetic_series, synthetic_summary};

    fn estimate(values: &[f64]) -> Estimate {
        Estimate::of(values, CONFIDENCE).unwrap()
    }

    #[test]
    fn outcomes_follow_the_metrics_direction() {
        let up = estimate(&[1.0, 2.0, 1.5]);
        let down = estimate(&[-1.0, -2.0, -1.5]);
        let straddles = estimate(&[-1.0, 2.0, 0.5]);
        assert_eq!(Outcome::of(Some(&up), Better::Higher), Outcome::Better);
        assert_eq!(Outcome::of(Some(&up), Better::Lower), Outcome::Worse);
        assert_eq!(Outcome::of(Some(&down), Better::Lower), Outcome::Better);
        assert_eq!(Outcome::of(Some(&straddles), Better::Higher), Outcome::Inconclusive);
        assert_eq!(
            Outcome::of(Some(&estimate(&[0.0, 0.0])), Better::Higher),
            Outcome::Inconclusive,
            "no difference"
        );
        assert_eq!(Outcome::of(Some(&estimate(&[1.0])), Better::Higher), Outcome::Inconclusive, "one seed");
        assert_eq!(Outcome::of(None, Better::Higher), Outcome::Inconclusive);
    }

    fn runs(variant: Option<&str>, success: &[f64]) -> Vec<RunOutput> {
        success
            .iter()
            .map(|&rate| {
                let mut summary = synthetic_summary();
                summary.scenario.variant = variant.map(str::to_string);
                summary.requests.success_rate = rate;
                RunOutput { summary, series: synthetic_series(30), stopped: None }
            })
            .collect()
    }

    #[test]
    fn a_comparison_pairs_seeds_and_judges_each_variant() {
        let all = [
            runs(None, &[0.90, 0.92, 0.91]),
            runs(Some("budget"), &[0.95, 0.96, 0.97]),
            runs(Some("worse"), &[0.80, 0.93, 0.90]),
        ];
        let comparison = compare("demo", &[1, 2, 3], &all, SimDuration::from_secs(60));
        let labels: Vec<&str> = comparison.configs.iter().map(Config::label).collect();
        assert_eq!(labels, ["baseline", "budget", "worse"]);
        let success = &comparison.rows[0];
        assert_eq!(success.label, "success rate");
        assert_eq!(success.differences[0].1, Outcome::Better);
        assert_eq!(success.differences[1].1, Outcome::Inconclusive);
        assert!((success.differences[0].0.unwrap().mean - 0.05).abs() < 1e-9);
        let row_labels: Vec<&str> = comparison.rows.iter().map(|row| row.label).collect();
        assert_eq!(
            row_labels,
            [
                "success rate",
                "peak amplification",
                "wasted CPU",
                "goodput",
                "p99 latency",
                "bad minutes",
                "outage episodes",
                "worst outage",
                "instance-hours"
            ],
            "SLO rows only when the summary has them (this one never recovered: no time-to-recover)"
        );
        let json = comparison.to_json();
        assert_eq!(json["metrics"][0]["differences"][0]["verdict"], "better");
        assert_eq!(json["metrics"][0]["results"][1]["values"].as_array().unwrap().len(), 3);
        assert_eq!(json["metrics"][1]["peak"], true);
        assert_eq!(json["configs"][1]["variant"], "budget");
    }
}
