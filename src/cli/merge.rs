//! `stormsim merge SHARD_FILES...`: put the shard files of a sharded `sweep`, `check` or
//! `compare` back together, refusing shards of different matrices, the same shard twice or
//! an incomplete set, and finish exactly as the unsharded command would (same files, same
//! verdicts, same exit code).

use super::{Exit, check, compare, sweep};
use crate::report::{DEFAULT_ROOT, OutDir};
use crate::scenario;
use crate::shard::{self, ShardFile};
use clap::Args;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The shard files, one per shard, in any order
    #[arg(value_name = "SHARD_FILES", required = true)]
    pub files: Vec<PathBuf>,
    /// Write the sweep or compare folder here [default: as the unsharded command would, under outputs/]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace the --out folder if it holds previous results
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Print the results as JSON on stdout, and nothing else there
    #[arg(long)]
    pub json: bool,
    /// For check shards: write a JUnit XML report here
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// For check shards: write a Markdown summary here
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// No "wrote ..." line on stderr
    #[arg(long, short)]
    pub quiet: bool,
}

pub fn run(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let mut stderr = io::stderr();
    let mut shards = Vec::new();
    for path in &args.files {
        let name = path.display().to_string();
        let parsed = std::fs::read_to_string(path)
            .map_err(|error| error.to_string())
            .and_then(|text| serde_json::from_str::<ShardFile>(&text).map_err(|error| error.to_string()));
        match parsed {
            Ok(file) => shards.push((name, file)),
            Err(message) => {
                writeln!(stderr, "error: {name} is not a readable shard file: {message}")?;
                return Ok(Exit::Usage.into());
            }
        }
    }
    let (fingerprint, jobs) = match shard::merge(shards) {
        Ok(merged) => merged,
        Err(error) => {
            writeln!(stderr, "error: {error}")?;
            return Ok(Exit::Usage.into());
        }
    };
    let mut loaded = match scenario::load_str(&fingerprint.resolved_scenario, "the shards' scenario") {
        Ok(loaded) => loaded,
        Err(error) => {
            writeln!(stderr, "{error}")?;
            return Ok(Exit::Usage.into());
        }
    };
    loaded.scenario.variant = fingerprint.variant.clone();
    let out_dir = match &args.out {
        Some(path) => OutDir::Explicit { path: path.clone(), force: args.force },
        None => OutDir::Default { root: PathBuf::from(DEFAULT_ROOT) },
    };
    let seeds = fingerprint.seeds.clone();
    match fingerprint.command.as_str() {
        "sweep" => {
            let sweep = match crate::sweep::Sweep::from_fingerprint(&fingerprint, &loaded.scenario.name) {
                Ok(sweep) => sweep,
                Err(message) => {
                    writeln!(stderr, "error: {message}")?;
                    return Ok(Exit::Usage.into());
                }
            };
            let runs: Vec<_> = jobs.iter().map(|job| crate::sweep::metric_values(&job.summary)).collect();
            sweep::finish(&sweep, &runs, &out_dir, args.json, args.quiet, &mut stderr)
        }
        "check" => {
            let expressions: Vec<String> =
                serde_json::from_value(fingerprint.settings["thresholds"].clone()).unwrap_or_default();
            let label = "the shards' scenario";
            let thresholds = match check::thresholds(
                label,
                &expressions,
                seeds.len() as u64,
                loaded.thresholds,
                &loaded.scenario,
            ) {
                Ok(thresholds) => thresholds,
                Err(message) => {
                    writeln!(stderr, "error: {message}")?;
                    return Ok(Exit::Usage.into());
                }
            };
            let exports = check::Exports {
                json: args.json,
                junit: args.junit.clone(),
                markdown: args.markdown.clone(),
            };
            check::finish(&loaded.scenario, &thresholds, seeds, &check::outputs_of(jobs), &exports)
        }
        "compare" => compare::finish(
            &loaded.scenario,
            &seeds,
            check::outputs_of(jobs),
            &out_dir,
            args.json,
            args.quiet,
            &mut stderr,
        ),
        other => {
            writeln!(stderr, "error: the shards are of an unknown command \"{other}\"")?;
            Ok(Exit::Usage.into())
        }
    }
}
