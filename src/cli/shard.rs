//! `--shard K/N`, `--shards N`, `--plan` and `--shard-file` for the verbs that replicate
//! (`sweep`, `check`, `compare`): run the whole matrix, or one shard of it and write its
//! shard file, or only print the plan.

use crate::app::runner::MatrixStop;
use crate::app::{self, Error, Exit, Runner};
use crate::model::Scenario;
use crate::report::{self, DEFAULT_ROOT};
use crate::shard::{Fingerprint, JobResult, SCHEMA_VERSION, ShardFile, ShardSpec};
use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ShardArgs {
    /// Run only shard K of N (numbered from 0: 0/4 to 3/4) and write its shard file for
    /// `stormsim merge` [default: from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX when set]
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// The shard count, when the environment gives only an index (JOB_COMPLETION_INDEX)
    /// [default: STORMSIM_SHARDS]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub shards: Option<u64>,
    /// Write the shard file here [default: outputs/<scenario>-<command>-shard<K>of<N>.json]; a
    /// shard file of the same name is replaced
    #[arg(long, value_name = "FILE")]
    pub shard_file: Option<PathBuf>,
    /// Print the run matrix and which shard runs each job, and run nothing
    #[arg(long)]
    pub plan: bool,
}

/// What became of the matrix.
pub(crate) enum Matrix {
    /// Every job ran here: finish as usual.
    Done(Vec<JobResult>),
    /// Planned, sharded or interrupted: exit with this code.
    Exit(Exit),
}

impl ShardArgs {
    /// Runs the matrix of `fingerprint` over `configs` (or this process's shard of it).
    pub(crate) fn execute(
        &self,
        fingerprint: &Fingerprint,
        configs: &[&Scenario],
        keep_series: bool,
        quiet: bool,
    ) -> app::Result<Matrix> {
        let spec = ShardSpec::resolve(self.shard.as_deref(), self.shards, |name| std::env::var(name).ok())
            .map_err(Error::Usage)?;
        if self.plan {
            super::print(&fingerprint.plan(spec), "printing the plan")?;
            return Ok(Matrix::Exit(Exit::Ok));
        }
        let (results, interrupted) =
            match Runner::new(quiet).run_matrix(configs, &fingerprint.seeds, spec, keep_series) {
                Ok(results) => (results, false),
                Err(MatrixStop::Guard(message)) => return Err(Error::Stopped(message)),
                Err(MatrixStop::Interrupted(finished)) => (finished, true),
            };
        if !interrupted && spec.is_none() {
            return Ok(Matrix::Done(results));
        }
        // A shard's results, or what finished before Ctrl-C, marked as such.
        let spec = spec.unwrap_or(ShardSpec { index: 0, count: 1 });
        let file = ShardFile {
            schema_version: SCHEMA_VERSION,
            fingerprint: fingerprint.clone(),
            shard: spec,
            jobs: results,
            interrupted,
        };
        let path = self.shard_file.clone().unwrap_or_else(|| {
            let name = configs.first().map_or("run", |scenario| scenario.name.as_str());
            let suffix = if interrupted { "-interrupted".to_owned() } else { String::new() };
            PathBuf::from(DEFAULT_ROOT).join(format!(
                "{name}-{}-shard{}of{}{suffix}.json",
                fingerprint.purpose.command(),
                spec.index,
                spec.count
            ))
        });
        let json = file.to_json().context("serialising the shard file")?;
        report::write_file_atomically(&path, json.as_bytes())?;
        let mut stderr = std::io::stderr();
        if interrupted {
            let total = (0..fingerprint.n_jobs()).filter(|job| spec.owns(*job)).count();
            writeln!(
                stderr,
                "interrupted: wrote the {} of {total} runs that finished to {}, marked interrupted",
                file.jobs.len(),
                path.display()
            )
            .context("printing")?;
            return Ok(Matrix::Exit(Exit::Interrupted));
        }
        if !quiet {
            writeln!(stderr, "wrote {} (shard {spec}, {} jobs)", path.display(), file.jobs.len())
                .context("printing")?;
        }
        Ok(Matrix::Exit(Exit::Ok))
    }
}
