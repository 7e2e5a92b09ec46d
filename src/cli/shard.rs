//! `--shard K/N`, `--shards N`, `--plan` and `--shard-file` for the verbs that replicate
//! (`sweep`, `check`, `compare`, `metastability`): run the whole matrix, or one shard of it and write its
//! shard file, or only print the plan.

use crate::app::{self, plan::Sharding};
use crate::shard::ShardSpec;
use clap::Args;
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

impl ShardArgs {
    /// Which part of the matrix this process runs: `--shard`, else the environment's array
    /// task (see `ShardSpec::resolve`).
    pub(crate) fn sharding(&self) -> app::Result<Sharding> {
        let spec = ShardSpec::resolve(self.shard.as_deref(), self.shards, |name| std::env::var(name).ok())?;
        Ok(Sharding { spec, file: self.shard_file.clone(), plan_only: self.plan })
    }
}
