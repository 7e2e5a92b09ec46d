//! What a verb's work came to, before it is printed or written: the results of a finished
//! plan, or why there are none to deliver. [`Outcome::exit`] is the one map from outcomes to
//! exit codes (errors carry theirs, `Error::exit`).

use super::Exit;
use crate::capacity::{Detail, Goal, Search};
use crate::check::CheckReport;
use crate::check::threshold::Threshold;
use crate::compare::Comparison;
use crate::shard::ShardFile;
use crate::simulation::{EarlyStop, RunOutput};
use crate::sweep::{MetricValues, Sweep};
use std::path::PathBuf;

pub enum Outcome {
    /// Scenario files described (or printed resolved), and those that failed to load.
    Validated {
        lines: Vec<String>,
        failures: Vec<String>,
        files: usize,
    },
    /// One run, whole or cut short by a guard or Ctrl-C.
    Run(Box<RunOutput>),
    /// Ctrl-C came before the single run began.
    NotStarted,
    Sweep {
        sweep: Sweep,
        runs: Vec<MetricValues>,
    },
    /// The verdicts, and the runs that missed a target on their own (for their folders).
    Check {
        report: CheckReport,
        failing: Vec<RunOutput>,
    },
    /// The comparison, with the runs of each configuration for the chart.
    Compare {
        comparison: Comparison,
        runs: Vec<Vec<RunOutput>>,
    },
    Capacity(Box<CapacityOutcome>),
    /// A metastability map: each run's fate, in matrix order.
    Metastability {
        map: Box<crate::metastability::Map>,
        fates: Vec<crate::metastability::Fate>,
    },
    /// Text printed as it is: `--plan`'s matrix and its shards, shell completions, the
    /// man page.
    Text(String),
    /// This process's shard of the matrix ran (or part of it, when interrupted), to be
    /// written to `path`; the shard owns `of` jobs.
    Sharded {
        path: PathBuf,
        file: Box<ShardFile>,
        of: usize,
    },
}

/// A finished (or interrupted) capacity search, with what it was asked.
pub struct CapacityOutcome {
    pub param: String,
    pub range: String,
    pub goal: Goal,
    pub thresholds: Vec<Threshold>,
    pub search: Search<Detail>,
}

impl Outcome {
    /// The exit code of a delivered outcome (see `crate::app` for the table).
    pub fn exit(&self) -> Exit {
        match self {
            Outcome::Validated { failures, .. } if !failures.is_empty() => Exit::Usage,
            Outcome::Run(output) => match output.stopped {
                None => Exit::Ok,
                Some(EarlyStop::Guard(_)) => Exit::Stopped,
                Some(EarlyStop::Interrupted { .. }) => Exit::Interrupted,
            },
            Outcome::NotStarted => Exit::Interrupted,
            Outcome::Check { report, .. } if !report.passed() => Exit::TargetMissed,
            Outcome::Capacity(capacity) => match (capacity.search.interrupted, capacity.search.answer) {
                (true, _) => Exit::Interrupted,
                (false, Some(_)) => Exit::Ok,
                (false, None) => Exit::TargetMissed,
            },
            Outcome::Sharded { file, .. } if file.interrupted => Exit::Interrupted,
            Outcome::Validated { .. }
            | Outcome::Sweep { .. }
            | Outcome::Check { .. }
            | Outcome::Compare { .. }
            | Outcome::Metastability { .. }
            | Outcome::Text(_)
            | Outcome::Sharded { .. } => Exit::Ok,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::verdict::{Status, Verdict};

    fn check(passed: bool) -> Outcome {
        let scenario = "[simulation]\nduration = \"1m\"\n[classes.a]\n[sources.s]\nclient = \"c\"\nrate = \"1/s\"\n[clients.c]\ntarget = \"x\"\n[services.x]\ninstances = 1\ncores = 1\ncpu = \"10ms\"\n";
        let scenario = crate::scenario::load_str(scenario, "s.toml").unwrap().scenario;
        let threshold = crate::check::threshold::parse_expression("success_rate >= 99%", &scenario).unwrap();
        let status = if passed { Status::Passed } else { Status::Failed };
        let verdict = Verdict {
            threshold,
            status,
            observed: Some(0.5),
            values: Vec::new(),
            estimate: None,
            window: None,
        };
        let report = CheckReport {
            scenario: "s".into(),
            variant: None,
            scenario_hash: String::new(),
            seeds: vec![1],
            start_clock: None,
            verdicts: vec![verdict],
        };
        Outcome::Check { report, failing: Vec::new() }
    }

    #[test]
    fn outcomes_map_to_their_exit_codes() {
        assert_eq!(check(true).exit(), Exit::Ok);
        assert_eq!(check(false).exit(), Exit::TargetMissed);
        assert_eq!(Outcome::NotStarted.exit(), Exit::Interrupted);
        assert_eq!(Outcome::Text(String::new()).exit(), Exit::Ok);
        let validated = |failures: Vec<String>| Outcome::Validated { lines: Vec::new(), failures, files: 2 };
        assert_eq!(validated(Vec::new()).exit(), Exit::Ok);
        assert_eq!(validated(vec!["error: bad".into()]).exit(), Exit::Usage);
    }
}
