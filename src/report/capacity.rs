//! The terminal text and JSON of a capacity search (`stormsim capacity`).

use crate::capacity::{self, Detail, Goal, Search};
use crate::check::threshold::Threshold;
use crate::check::verdict::Verdict;
use serde_json::{Value, json};

/// A finished (or interrupted) search, with what it was asked.
pub struct SearchReport<'a> {
    /// The searched key, as given to `--param`.
    pub param: &'a str,
    /// The range, as given to `--range`.
    pub range: &'a str,
    pub goal: Goal,
    pub thresholds: &'a [Threshold],
    pub search: &'a Search<Detail>,
}

/// `observed 16.2ms (target < 30ms, margin 13.8ms)`.
fn margin_text(verdict: &Verdict) -> String {
    let unit = verdict.threshold.measure.metric.unit;
    match verdict.observed {
        Some(observed) => format!(
            "{} (target {} {}, margin {})",
            unit.format(observed),
            verdict.threshold.comparison.symbol(),
            verdict.threshold.target_text,
            unit.format_difference(if verdict.status.passed() {
                (verdict.threshold.target - observed).abs()
            } else {
                -(verdict.threshold.target - observed).abs()
            })
        ),
        None => "no value".to_string(),
    }
}

impl SearchReport<'_> {
    /// The answer, the verdicts at it and at its failing neighbour, then every probe;
    /// `styled` colours each probe's outcome for a terminal.
    pub fn render(&self, styled: bool) -> String {
        let (goal, search) = (self.goal, self.search);
        let what = if matches!(goal, Goal::Largest { .. }) { "largest" } else { "smallest" };
        let mut res = match search.answer {
            None if search.interrupted => {
                let (pass, fail) = search.bracket(goal);
                let known =
                    |value: Option<f64>| value.map_or("none yet".to_owned(), |value| goal.format(value));
                format!(
                    "interrupted after {} probes: no answer; {} so far passes at {} and fails at {}\n",
                    search.probes.len(),
                    self.param,
                    known(pass),
                    known(fail)
                )
            }
            Some(answer) => format!(
                "{} = {}: the {what} value in {} that meets every threshold\n",
                self.param,
                goal.format(answer),
                self.range
            ),
            None => format!(
                "no value of {} in {} meets every threshold: even {} misses\n",
                self.param,
                self.range,
                search.failing_neighbour.map_or_else(String::new, |value| goal.format(value))
            ),
        };
        for (label, value) in [("at", search.answer), ("fails at", search.failing_neighbour)] {
            let Some(probe) = search.probe_of(value) else { continue };
            for verdict in &probe.detail.verdicts {
                res.push_str(&format!(
                    "  {label} {}: {}  {}\n",
                    goal.format(probe.value),
                    verdict.threshold,
                    margin_text(verdict)
                ));
            }
            if let Some(stopped) = &probe.detail.stopped {
                res.push_str(&format!("  {label} {}: {stopped}\n", goal.format(probe.value)));
            }
        }
        res.push_str(&format!("probes ({} thresholds each):\n", self.thresholds.len()));
        for probe in &search.probes {
            let observed: Vec<String> = probe
                .detail
                .verdicts
                .iter()
                .map(|verdict| {
                    verdict.observed.map_or("no value".into(), |value| {
                        verdict.threshold.measure.metric.unit.format(value)
                    })
                })
                .collect();
            let outcome = format!("{:<12}", probe.outcome.name());
            let outcome = match (styled, probe.outcome) {
                (false, _) => outcome,
                (true, capacity::Outcome::Pass) => format!("\x1b[32m{outcome}\x1b[0m"),
                (true, capacity::Outcome::Fail) => format!("\x1b[31m{outcome}\x1b[0m"),
                (true, capacity::Outcome::Inconclusive) => format!("\x1b[33m{outcome}\x1b[0m"),
            };
            res.push_str(&format!(
                "  {:>10}  {:>3} runs  {outcome}  {}\n",
                goal.format(probe.value),
                probe.replications,
                observed.join(", ")
            ));
        }
        res
    }

    /// The search as JSON (`--json`).
    pub fn to_json(&self) -> Value {
        let (goal, search) = (self.goal, self.search);
        let probe_json = |probe: &capacity::Probe<Detail>| {
            let verdicts: Vec<Value> = probe
            .detail
            .verdicts
            .iter()
            .map(|verdict| {
                json!({
                    "threshold": verdict.threshold.to_string(),
                    "passed": verdict.status.passed(),
                    "observed": verdict.observed,
                    "target": verdict.threshold.target,
                    "values": verdict.values,
                    "ci95": verdict.estimate.and_then(|estimate| estimate.interval).map(|(low, high)| [low, high]),
                })
            })
            .collect();
            json!({
                "value": probe.value,
                "replications": probe.replications,
                "outcome": probe.outcome.name(),
                "stopped": probe.detail.stopped,
                "thresholds": verdicts,
            })
        };
        json!({
            "schema_version": 1,
            "stormsim_version": env!("CARGO_PKG_VERSION"),
            "param": self.param,
            "range": self.range,
            "goal": if matches!(goal, Goal::Largest { .. }) { "largest" } else { "smallest" },
            "thresholds": self.thresholds.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "found": search.answer.is_some(),
            "interrupted": search.interrupted,
            "answer": search.answer,
            "failing_neighbour": search.failing_neighbour,
            "at_answer": search.probe_of(search.answer).map(probe_json),
            "at_failing_neighbour": search.probe_of(search.failing_neighbour).map(probe_json),
            "probes": search.probes.iter().map(probe_json).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capacity::{Outcome, Probe};

    #[test]
    fn probes_read_plain_or_coloured() {
        let probe = |value: f64, outcome| Probe {
            value,
            replications: 5,
            outcome,
            detail: Detail { verdicts: Vec::new(), stopped: None },
        };
        let search = Search {
            answer: Some(12.0),
            failing_neighbour: Some(11.0),
            probes: vec![probe(32.0, Outcome::Pass), probe(11.0, Outcome::Fail), probe(12.0, Outcome::Pass)],
            interrupted: false,
        };
        let report = SearchReport {
            param: "services.api.instances",
            range: "8..32",
            goal: Goal::Smallest { low: 8, high: 32 },
            thresholds: &[],
            search: &search,
        };
        let plain = report.render(false);
        assert!(plain.starts_with("services.api.instances = 12: the smallest value in 8..32"), "{plain}");
        assert!(plain.contains("          11    5 runs  fail        "), "{plain}");
        assert!(!plain.contains('\x1b'));
        let styled = report.render(true);
        assert!(
            styled.contains("\x1b[32mpass        \x1b[0m") && styled.contains("\x1b[31mfail"),
            "{styled}"
        );
        assert_eq!(report.to_json()["answer"], 12.0);
    }
}
