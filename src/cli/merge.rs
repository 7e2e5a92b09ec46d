//! `stormsim merge SHARD_FILES...`: put the shard files of a sharded `sweep`, `check` or
//! `compare` back together, refusing shards of different matrices, the same shard twice or
//! an incomplete set, and finish exactly as the unsharded command would (same files, same
//! verdicts, same exit code).

use super::{OutArgs, PrintArgs, check, compare, sweep};
use crate::app::{self, Exit};
use crate::scenario;
use crate::shard::{self, MergeError, Purpose, ShardFile};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(
    mut_arg("out", |arg| arg.help("Write the sweep or compare folder here [default: as the unsharded command would, under outputs/]")),
    mut_arg("force", |arg| arg.help("Replace the --out folder if it holds previous results")),
)]
pub struct MergeArgs {
    /// The shard files, one per shard, in any order
    #[arg(value_name = "SHARD_FILES", required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub out: OutArgs,
    #[command(flatten)]
    pub print: PrintArgs,
    /// For check shards: write a JUnit XML report here
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// For check shards: write a Markdown summary here
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

pub fn run(args: MergeArgs) -> app::Result<Exit> {
    let mut shards = Vec::new();
    for path in &args.files {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|error| MergeError::Unreadable { file: file.clone(), reason: error.to_string() })?;
        shards.push((file.clone(), ShardFile::parse(&file, &text)?));
    }
    let (fingerprint, jobs) = shard::merge(shards)?;
    let mut loaded = scenario::load_str(&fingerprint.resolved_scenario, "the shards' scenario")?;
    loaded.scenario.variant = fingerprint.variant.clone();
    let out_dir = args.out.dir();
    let seeds = fingerprint.seeds.clone();
    match &fingerprint.purpose {
        Purpose::Sweep { axes, metric } => {
            let sweep =
                crate::sweep::Sweep::from_fingerprint(&fingerprint, axes, metric, &loaded.scenario.name)?;
            let runs: Vec<_> = jobs.iter().map(|job| crate::sweep::metric_values(&job.summary)).collect();
            sweep::finish(&sweep, &runs, &out_dir, &args.print)
        }
        Purpose::Check { thresholds: expressions } => {
            let (thresholds, _) = check::thresholds(
                "the shards' scenario",
                expressions,
                Some(seeds.len() as u64),
                loaded.thresholds,
                &loaded.scenario,
            )?;
            let exports = check::Exports {
                json: args.print.json,
                junit: args.junit.clone(),
                markdown: args.markdown.clone(),
            };
            check::finish(&loaded.scenario, &thresholds, seeds, &check::outputs_of(jobs), &exports)
        }
        Purpose::Compare { .. } => {
            compare::finish(&loaded.scenario, &seeds, check::outputs_of(jobs), &out_dir, &args.print)
        }
    }
}
