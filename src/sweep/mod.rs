//! Parameter sweeps: a grid of overridden keys times replications, and what comes out of
//! it.
//!
//! ```text
//! grid.rs    the swept parameters and the grid points (first parameter slowest)
//! ```
//!
//! `report::sweep` renders sweep.csv (one row per run), sweep.json (raw values, per-point
//! mean and CI) and the terminal table; `report::chart::sweep` the chart.
//!
//! Invariant: outputs are a pure function of the `Sweep` and the runs' summaries in matrix
//! order (point by point, seed by seed), so a merged sharded sweep writes the same bytes.

pub mod grid;

use crate::check::measure::RunView;
use crate::check::metric::{self, METRICS, Metric};
use crate::check::threshold::{Measure, Scope, Threshold, Window};
use crate::shard::{Fingerprint, MergeError, Purpose};
use crate::simulation::RunOutput;
use crate::stats::confidence::Estimate;
use crate::stats::{Series, Summary};
use grid::Axis;

/// Confidence of the per-point intervals.
pub const CONFIDENCE: f64 = 0.95;

/// Metric shown when neither the file nor the command line names one.
pub const DEFAULT_METRIC: &str = "success_rate";

/// What a sweep is, as its outputs need it.
#[derive(Clone, Debug, PartialEq)]
pub struct Sweep {
    pub scenario: String,
    pub variant: Option<String>,
    /// The fingerprint's hash of the base scenario.
    pub scenario_hash: String,
    pub axes: Vec<Axis>,
    pub points: Vec<Vec<usize>>,
    pub seeds: Vec<u64>,
    /// The metric of the chart and the terminal table.
    pub metric: &'static Metric,
    /// The scenario's whole-run threshold on `metric`, if it has one: the chart draws it.
    pub threshold: Option<Goal>,
}

/// A threshold's target, in the metric's unit (a fraction for ratios), and how it reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Goal {
    pub target: f64,
    /// `>= 99.5%`.
    pub text: String,
}

/// Every whole-run metric of one run, in `METRICS` order; `None` where the run has none.
pub type MetricValues = Vec<Option<f64>>;

impl Sweep {
    pub fn new(
        scenario: &str,
        variant: Option<String>,
        scenario_hash: &str,
        axes: Vec<Axis>,
        seeds: Vec<u64>,
        metric: &'static Metric,
    ) -> Sweep {
        let points = grid::points(&axes);
        Sweep {
            scenario: scenario.to_string(),
            variant,
            scenario_hash: scenario_hash.to_string(),
            axes,
            points,
            seeds,
            metric,
            threshold: None,
        }
    }

    /// The sweep with the first of `thresholds` on its metric over all requests and the
    /// whole run (what the sweep measures), if any.
    pub fn with_thresholds(mut self, thresholds: &[Threshold]) -> Sweep {
        self.threshold = thresholds
            .iter()
            .find(|threshold| {
                threshold.measure.metric == self.metric
                    && threshold.measure.scope == Scope::All
                    && threshold.measure.window == Window::Run
            })
            .map(|threshold| Goal {
                target: threshold.target,
                text: format!("{} {}", threshold.comparison.symbol(), threshold.target_text),
            });
        self
    }

    /// Labels of the grid points, in matrix order.
    pub fn labels(&self) -> Vec<String> {
        self.points.iter().map(|point| grid::label(&self.axes, point)).collect()
    }

    /// What a shard file must carry to finish this sweep.
    pub fn purpose(&self) -> Purpose {
        Purpose::Sweep { axes: self.axes.clone(), metric: self.metric.name.to_owned() }
    }

    /// The sweep a fingerprint with `axes` and `metric` describes, or why its shards cannot
    /// make one.
    pub fn from_fingerprint(
        fingerprint: &Fingerprint,
        axes: &[Axis],
        metric: &str,
        scenario: &str,
    ) -> Result<Sweep, MergeError> {
        let refuse = |reason: String| MergeError::Plan { reason };
        let metric = metric::lookup(metric).map_err(|(message, _)| refuse(message))?;
        let sweep = Sweep::new(
            scenario,
            fingerprint.variant.clone(),
            &fingerprint.scenario_hash,
            axes.to_vec(),
            fingerprint.seeds.clone(),
            metric,
        );
        if sweep.labels() != fingerprint.configs {
            return Err(refuse("the shards' grid does not match their configurations".to_owned()));
        }
        Ok(sweep)
    }

    /// Index of the chosen metric in `METRICS`.
    pub fn metric_index(&self) -> usize {
        METRICS.iter().position(|candidate| candidate == self.metric).unwrap_or(0)
    }

    /// The values of `metric_idx` for each point: one per seed.
    pub fn per_point(&self, runs: &[MetricValues], metric_idx: usize) -> Vec<Vec<Option<f64>>> {
        runs.chunks(self.seeds.len().max(1))
            .map(|chunk| chunk.iter().map(|values| values[metric_idx]).collect())
            .collect()
    }
}

/// The estimate over the values present.
pub fn estimate(values: &[Option<f64>]) -> Option<Estimate> {
    Estimate::of(&values.iter().flatten().copied().collect::<Vec<_>>(), CONFIDENCE)
}

/// Every whole-run metric of a run's summary (all requests; services combined).
pub fn metric_values(summary: &Summary) -> MetricValues {
    let output = RunOutput { summary: summary.clone(), series: Series::empty(), stopped: None };
    let view = RunView::new(&output);
    METRICS
        .iter()
        .map(|metric| Measure { metric, scope: Scope::All, window: Window::Run }.observe(&view).value)
        .collect()
}
