//! Capacity targets for CI: thresholds checked against one configuration's runs.
//!
//! ```text
//! metric.rs     the metric vocabulary (one table: name, summary.json path, unit, direction, series)
//! threshold.rs  Threshold, its checks, and the --threshold expression grammar
//! measure.rs    a measure read off one run (summary, span window, sliding window)
//! verdict.rs    a threshold over the runs of several seeds: statistic, comparison, status
//! this file    the CheckReport and its JSON
//! ```
//!
//! The terminal lines (`report::check`) and the CI exports (`report::junit`,
//! `report::markdown`) are pure text built from a `CheckReport`, written through `report`.

pub mod measure;
pub mod metric;
pub mod threshold;
pub mod verdict;

use serde_json::{Value, json};

use crate::engine::{SimDuration, SimTime};
use crate::units::ClockTime;
use threshold::{Scope, Window};
use verdict::{Status, Verdict};

/// Bumped when a field of the check JSON changes name or meaning.
pub const SCHEMA_VERSION: u32 = 1;

/// Every verdict of one `stormsim check`.
#[derive(Clone, Debug)]
pub struct CheckReport {
    pub scenario: String,
    pub variant: Option<String>,
    /// The `scenario.hash` of the runs' summaries.
    pub scenario_hash: String,
    pub seeds: Vec<u64>,
    /// Clock time at t = 0, to print windows as clock times.
    pub start_clock: Option<SimDuration>,
    pub verdicts: Vec<Verdict>,
}

impl CheckReport {
    /// The runs (indices into `seeds`) that missed some target on their own: no value, or
    /// a value on the wrong side of it.
    pub fn failing_runs(&self) -> Vec<usize> {
        (0..self.seeds.len())
            .filter(|&run| {
                self.verdicts.iter().any(|verdict| match verdict.values.get(run).copied().flatten() {
                    Some(value) => !verdict.threshold.comparison.holds(value, verdict.threshold.target),
                    None => true,
                })
            })
            .collect()
    }

    pub fn passed(&self) -> bool {
        self.verdicts.iter().all(|verdict| verdict.status.passed())
    }

    pub fn n_failed(&self) -> usize {
        self.verdicts.iter().filter(|verdict| !verdict.status.passed()).count()
    }

    /// `demo`, or `demo (variant budget)`.
    pub fn title(&self) -> String {
        match &self.variant {
            Some(variant) => format!("{} (variant {variant})", self.scenario),
            None => self.scenario.clone(),
        }
    }

    /// `2 of 3 thresholds met (seeds 1-5)`.
    pub fn tally(&self) -> String {
        let n = self.verdicts.len();
        let met = n - self.n_failed();
        let noun = if n == 1 { "threshold" } else { "thresholds" };
        format!("{met} of {n} {noun} met ({})", self.seeds_text())
    }

    fn seeds_text(&self) -> String {
        match self.seeds.as_slice() {
            [] => "no run".to_string(),
            [only] => format!("seed {only}"),
            [first, .., last] => format!("{} runs, seeds {first}-{last}", self.seeds.len()),
        }
    }

    /// A time since the start as the run's clock time (`08:40`) or `t+40m`.
    fn time_text(&self, at: SimTime) -> String {
        match self.start_clock {
            Some(start) => ClockTime(SimDuration(start.0 + at.0)).to_string(),
            None => format!("t+{}", SimDuration(at.0)),
        }
    }

    /// What to say about a verdict besides its expression: the observed value and, when it
    /// missed, by how much and where.
    pub fn describe(&self, verdict: &Verdict) -> Description {
        let unit = verdict.threshold.measure.metric.unit;
        let n = verdict.values.len();
        let observed = match verdict.observed {
            Some(value) => unit.format(value),
            None => {
                let missing = verdict.values.iter().filter(|value| value.is_none()).count();
                if n > 1 { format!("no value in {missing} of {n} runs") } else { "no value".to_string() }
            }
        };
        let mut notes = Vec::new();
        if let Some(missed_by) = verdict.missed_by() {
            notes.push(format!("misses by {}", unit.format_difference(missed_by).trim_start_matches('+')));
        }
        if verdict.status != Status::Passed
            && let Some((start, end)) = verdict.window
        {
            notes.push(format!("worst window {}-{}", self.time_text(start), self.time_text(end)));
        }
        if n > 1 && verdict.observed.is_some() {
            let statistic = verdict.threshold.statistic;
            let mut over = format!("{statistic} of {n} runs");
            if let Some((low, high)) = verdict.estimate.and_then(|estimate| estimate.interval) {
                over.push_str(&format!(", mean 95% CI {} to {}", unit.format(low), unit.format(high)));
            }
            notes.push(over);
        }
        Description {
            passed: verdict.status.passed(),
            expression: verdict.threshold.to_string(),
            observed,
            note: notes.join("; "),
        }
    }

    /// The report as JSON (`--json`).
    pub fn to_json(&self) -> Value {
        let thresholds: Vec<Value> = self.verdicts.iter().map(|verdict| self.verdict_json(verdict)).collect();
        json!({
            "schema_version": SCHEMA_VERSION,
            "stormsim_version": env!("CARGO_PKG_VERSION"),
            "scenario": { "name": self.scenario, "variant": self.variant, "hash": self.scenario_hash },
            "seeds": self.seeds,
            "passed": self.passed(),
            "thresholds": thresholds,
        })
    }

    fn verdict_json(&self, verdict: &Verdict) -> Value {
        let threshold = &verdict.threshold;
        let measure = &threshold.measure;
        let scope = match &measure.scope {
            Scope::All => Value::Null,
            Scope::Class(name) => json!({ "class": name }),
            Scope::Service(name) => json!({ "service": name }),
        };
        let window = match &measure.window {
            Window::Run => Value::Null,
            Window::Span { from, to, .. } => json!({ "from": from.to_string(), "to": to.to_string() }),
            Window::Sliding { length, .. } => json!({ "sliding": length.to_string() }),
        };
        let worst_window = verdict.window.map(|(start, end)| {
            json!({
                "from_s": start.as_secs_f64(),
                "to_s": end.as_secs_f64(),
                "from": self.time_text(start),
                "to": self.time_text(end),
            })
        });
        let status = match verdict.status {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::NoData => "no_data",
        };
        json!({
            "expression": threshold.to_string(),
            "metric": measure.metric.name,
            "unit": measure.metric.unit.name(),
            "scope": scope,
            "window": window,
            "statistic": threshold.statistic.to_string(),
            "comparison": threshold.comparison.symbol(),
            "target": threshold.target,
            "target_text": threshold.target_text,
            "passed": verdict.status.passed(),
            "status": status,
            "observed": verdict.observed,
            "missed_by": verdict.missed_by(),
            "worst_window": worst_window,
            "values": verdict.values,
            "mean": verdict.estimate.map(|estimate| estimate.mean),
            "ci95": verdict.estimate.and_then(|estimate| estimate.interval).map(|(low, high)| [low, high]),
        })
    }
}

/// A verdict in words, shared by the terminal, JUnit and Markdown.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Description {
    pub passed: bool,
    pub expression: String,
    pub observed: String,
    /// `misses by 0.42 pp; worst window 08:40-08:45; mean of 5 runs, ...`, or empty.
    pub note: String,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::check::measure::RunView;
    use crate::check::threshold::parse_expression;
    use crate::report::tests::{synthetic_series, synthetic_summary};
    use crate::simulation::RunOutput;

    /// A report over two synthetic runs: one threshold met, one missed in a window, one
    /// without data.
    pub(crate) fn report() -> CheckReport {
        let scenario = crate::check::threshold::tests::scenario();
        let outputs: Vec<RunOutput> = (0..2)
            .map(|_| RunOutput { summary: synthetic_summary(), series: synthetic_series(60), stopped: None })
            .collect();
        let runs: Vec<RunView> = outputs.iter().map(RunView::new).collect();
        let verdicts = ["success_rate >= 90%", "success_rate >= 99% sliding 5m", "slo.time_to_recover <= 5m"]
            .iter()
            .map(|text| verdict::evaluate(&parse_expression(text, &scenario).unwrap(), &runs))
            .collect();
        CheckReport {
            scenario: "demo".into(),
            variant: Some("budget".into()),
            scenario_hash: "0123456789abcdef".into(),
            seeds: vec![1, 2],
            start_clock: Some(SimDuration::from_secs(6 * 3600)),
            verdicts,
        }
    }

    #[test]
    fn json_says_what_passed() {
        let json = report().to_json();
        assert_eq!(json["passed"], false);
        assert_eq!(json["scenario"]["variant"], "budget");
        let thresholds = json["thresholds"].as_array().unwrap();
        assert_eq!(thresholds.len(), 3);
        assert_eq!(thresholds[0]["passed"], true);
        assert_eq!(thresholds[1]["status"], "failed");
        assert_eq!(thresholds[1]["window"]["sliding"], "5m");
        assert!(thresholds[1]["missed_by"].as_f64().unwrap() > 0.0);
        assert_eq!(thresholds[2]["status"], "no_data");
        assert_eq!(thresholds[0]["values"].as_array().unwrap().len(), 2);
    }
}
