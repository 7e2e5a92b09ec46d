//! What a verb asks for, settled before anything runs: each verb's arguments become one
//! typed [`Plan`], which `app::execute` runs, finishes into an outcome and delivers.
//!
//! Everything a plan holds has been checked: scenarios loaded, thresholds parsed, the
//! output folder's name decided. Running it can still be interrupted or stopped by a
//! guard, but not refused.

use crate::capacity::Goal;
use crate::check::threshold::Threshold;
use crate::engine::SimTime;
use crate::model::Scenario;
use crate::refusal::Refusal;
use crate::report::{OutDir, Presentation};
use crate::scenario::{self, ScenarioError};
use crate::shard::{Fingerprint, ShardSpec};
use crate::sweep::Sweep;
use crate::units::TimePoint;
use std::path::PathBuf;

/// One verb's work.
pub enum Plan {
    /// `validate`: load scenario files and describe them; nothing runs.
    Validate { files: Vec<PathBuf>, print_config: bool },
    /// `run`: one scenario, one seed, one run folder.
    Run(Box<RunPlan>),
    /// `sweep`, `check`, `compare`: configurations x seeds, or one shard of them.
    Matrix(Box<MatrixPlan>),
    /// `capacity`: a bisection over replicated probes.
    Capacity(Box<CapacityPlan>),
    /// `completions`, `man`: text made from the command line's own definition.
    Print(String),
    /// `merge`: shard files finished as the unsharded verb would finish them.
    Merge { files: Vec<PathBuf>, delivery: Box<Delivery> },
}

/// How results reach the user: the terminal (or JSON on stdout), a folder, CI exports.
#[derive(Clone, Debug, Default)]
pub struct Delivery {
    /// Print JSON on stdout instead of the terminal text.
    pub json: bool,
    /// No progress bar and no "wrote ..." line.
    pub quiet: bool,
    /// The folder to write, for the verbs that write one.
    pub out: Option<OutDir>,
    /// `check`'s JUnit XML report.
    pub junit: Option<PathBuf>,
    /// `check`'s Markdown summary.
    pub markdown: Option<PathBuf>,
    /// Where the results came from, for the reports.
    pub presentation: Presentation,
    /// `compare`'s wide table: each variant's paired difference and its interval.
    pub wide: bool,
}

pub struct RunPlan {
    pub scenario: Scenario,
    pub seed: u64,
    pub delivery: Delivery,
}

/// A matrix of runs and what becomes of its results.
pub struct MatrixPlan {
    /// What decides the results; a shard file carries it.
    pub fingerprint: Fingerprint,
    /// The scenario of each configuration, in matrix order.
    pub configs: Vec<Scenario>,
    pub finish: Finish,
    pub sharding: Sharding,
    pub delivery: Delivery,
}

/// How a matrix's results become an outcome: the typed counterpart of a shard file's
/// `shard::Purpose`, rebuilt from it by `merge`.
pub enum Finish {
    /// One metric per run, tabulated and charted per grid point.
    Sweep(Sweep),
    /// Thresholds held against the runs of `scenario`.
    Check { scenario: Scenario, thresholds: Vec<Threshold> },
    /// Each variant against the first configuration, the baseline, on the same seeds.
    Compare { baseline: Scenario },
    /// Each run's fate after its surge, tallied per cell of the map.
    Metastability(Box<crate::metastability::Map>),
}

impl Finish {
    /// Whether each run's interval series must be kept (a sweep and a map read only
    /// summaries).
    pub fn keeps_series(&self) -> bool {
        !matches!(self, Finish::Sweep(_) | Finish::Metastability(_))
    }
}

/// Which part of the matrix this process runs.
#[derive(Clone, Debug, Default)]
pub struct Sharding {
    /// This process's shard, if the matrix is split.
    pub spec: Option<ShardSpec>,
    /// Where the shard file goes [default: under `outputs/`].
    pub file: Option<PathBuf>,
    /// Only print the matrix and which shard runs each job.
    pub plan_only: bool,
}

pub struct CapacityPlan {
    pub template: Template,
    /// The searched key, as given.
    pub param: String,
    /// The range, as given.
    pub range: String,
    pub goal: Goal,
    pub thresholds: Vec<Threshold>,
    /// Seeds per probe, before an inconclusive probe asks for more.
    pub replications: u64,
    pub first_seed: u64,
    pub delivery: Delivery,
}

/// `--window FROM..TO`: the stretch of the run the charts show, each end a duration from the
/// start (`90m`) or a clock time (`09:00`, the next day's when earlier than the start).
pub fn window(text: &str, scenario: &Scenario) -> Result<(SimTime, SimTime), Refusal> {
    let expected = r#"FROM..TO, each a duration from the start ("90m") or a clock time ("09:00")"#;
    let refuse = |message: String| Refusal::new(format!("--window \"{text}\": {message}")).expected(expected);
    let (from, to) = text.split_once("..").ok_or_else(|| refuse("no \"..\" between its ends".into()))?;
    let at = |end: &str| -> Result<SimTime, Refusal> {
        let point: TimePoint = end.trim().parse().map_err(|error| refuse(format!("{error}")))?;
        Ok(match point {
            TimePoint::FromStart(offset) => SimTime(offset.nanos()),
            TimePoint::Clock(clock) => {
                let Some(start) = scenario.start_clock else {
                    return Err(refuse(format!(
                        "the clock time {end} needs simulation.start in the scenario"
                    )));
                };
                const DAY: u64 = 86_400_000_000_000;
                let at = clock.since_midnight().0;
                SimTime(if at < start.0 { at + DAY - start.0 } else { at - start.0 })
            }
        })
    };
    let (from, to) = (at(from)?, at(to)?);
    if to <= from {
        return Err(refuse("it ends before it starts".into()));
    }
    if from.0 >= scenario.duration.0 {
        return Err(refuse(format!("it starts after the run's end ({} simulated)", scenario.duration)));
    }
    Ok((from, to))
}

/// A scenario file's text, to be loaded again with overridden keys (a probe's value).
pub struct Template {
    pub text: String,
    pub path: PathBuf,
    pub variant: Option<String>,
}

impl Template {
    pub fn read(path: &std::path::Path, variant: Option<&str>) -> Result<Template, ScenarioError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ScenarioError::Io { path: path.to_path_buf(), source })?;
        Ok(Template { text, path: path.to_path_buf(), variant: variant.map(str::to_owned) })
    }

    /// The scenario with `settings` applied, and its `[sweep]` table if it has one.
    pub fn load<'s>(
        &'s self,
        settings: &[scenario::overrides::Setting<'s>],
    ) -> Result<(scenario::Loaded, Option<scenario::overrides::SweepTable>), ScenarioError> {
        let label = self.path.display().to_string();
        scenario::load_with(&self.text, &label, Some(&self.path), self.variant.as_deref(), settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_reads_durations_and_clock_times_past_midnight() {
        let text = "[simulation]\nstart = \"19:00\"\nduration = \"19h\"\n[classes.a]\n[sources.s]\nclient = \"c\"\nrate = \"1/s\"\n[clients.c]\ntarget = \"x\"\n[services.x]\ninstances = 1\ncores = 1\ncpu = \"10ms\"\n";
        let scenario = crate::scenario::load_str(text, "w.toml").unwrap().scenario;
        let hours = |h: u64| SimTime(h * 3_600_000_000_000);
        assert_eq!(window("90m..3h", &scenario).unwrap(), (SimTime(5_400_000_000_000), hours(3)));
        assert_eq!(window("23:00..08:00", &scenario).unwrap(), (hours(4), hours(13)), "the next morning");
        let refused = window("08:00..23:00", &scenario).unwrap_err();
        assert!(refused.message.contains("ends before it starts"), "{}", refused.message);
        assert!(window("20h..21h", &scenario).unwrap_err().message.contains("after the run's end"));
        assert!(window("1h", &scenario).unwrap_err().message.contains("no \"..\""));
    }

    #[test]
    fn a_zoomed_series_keeps_the_intervals_inside() {
        use crate::stats::Series;
        let series: Series = crate::report::tests::synthetic_series(10);
        let (from, to) = (series.rows[3].start, series.rows[6].start);
        let zoomed = series.window(from, to);
        assert_eq!(zoomed.rows.len(), 3);
        assert_eq!(zoomed.rows[0], series.rows[3]);
    }
}
