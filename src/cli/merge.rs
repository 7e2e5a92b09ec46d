//! `stormsim merge SHARD_FILES...`: put the shard files of a sharded `sweep`, `check` or
//! `compare` back together, refusing shards of different matrices, the same shard twice or
//! an incomplete set, and finish exactly as the unsharded command would (same files, same
//! verdicts, same exit code).

use super::{OutArgs, PrintArgs};
use crate::app::{Delivery, Plan};
use crate::report::Presentation;
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
    /// For compare shards: print the wide table, with each variant's paired difference
    #[arg(long)]
    pub wide: bool,
}

pub fn plan(args: MergeArgs) -> Plan {
    let presentation =
        Presentation { command: super::command_line(std::env::args()), ..Presentation::default() };
    let delivery = Delivery {
        junit: args.junit,
        markdown: args.markdown,
        wide: args.wide,
        presentation,
        ..args.out.delivery(&args.print)
    };
    Plan::Merge { files: args.files, delivery: Box::new(delivery) }
}
