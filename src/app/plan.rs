//! What a verb asks for, settled before anything runs: each verb's arguments become one
//! typed [`Plan`], which `app::execute` runs, finishes into an outcome and delivers.
//!
//! Everything a plan holds has been checked: scenarios loaded, thresholds parsed, the
//! output folder's name decided. Running it can still be interrupted or stopped by a
//! guard, but not refused.

use crate::capacity::Goal;
use crate::check::threshold::Threshold;
use crate::model::Scenario;
use crate::report::{OutDir, Provenance};
use crate::scenario::{self, ScenarioError};
use crate::shard::{Fingerprint, ShardSpec};
use crate::sweep::Sweep;
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
    /// `merge`: shard files finished as the unsharded verb would finish them.
    Merge { files: Vec<PathBuf>, delivery: Delivery },
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
    pub provenance: Provenance,
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
}

impl Finish {
    /// Whether each run's interval series must be kept (the sweep reads only summaries).
    pub fn keeps_series(&self) -> bool {
        !matches!(self, Finish::Sweep(_))
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
