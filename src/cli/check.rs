//! `stormsim check FILE`: plan a scenario's runs (over several seeds when asked or when a
//! threshold needs them) and the thresholds held against them; the verdicts are printed,
//! the CI exports written, and the exit is 0 when every target is met, 1 when one is
//! missed, 2 on bad input.

use super::shard::ShardArgs;
use super::{OutArgs, PrintArgs, SeedArg};
use crate::app::pipeline::thresholds;
use crate::app::plan::{Delivery, Finish, MatrixPlan, Plan};
use crate::app::{self};
use crate::scenario;
use crate::shard::{Fingerprint, Purpose};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(
    mut_arg("seed", |arg| arg.help("First seed; the runs use seed, seed+1, ... [default: the scenario's `seed`]")),
    mut_arg("out", |arg| arg.help("Write report.html, and the run folder of each seed that missed a target, in this folder [default: none]")),
    mut_arg("force", |arg| arg.help("Replace the --out folder if it holds a previous check")),
)]
pub struct CheckArgs {
    /// The scenario file (TOML)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Check this [variants.NAME] of the scenario instead of the base
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
    /// Run this many seeds (seed, seed+1, ...) in parallel; thresholds see their statistic
    /// [default: 1, or 5 when a threshold uses a confidence bound]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub replications: Option<u64>,
    #[command(flatten)]
    pub seed: SeedArg,
    /// A threshold such as "success_rate >= 99.9%"; replaces the file's on the same metric,
    /// scope, window and statistic, or adds one (repeatable)
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,
    /// Write a JUnit XML report here (one test case per threshold)
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a Markdown summary here (for a CI job page)
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    #[command(flatten)]
    pub out: OutArgs,
    #[command(flatten)]
    pub print: PrintArgs,
    #[command(flatten)]
    pub shard: ShardArgs,
}

pub fn plan(args: CheckArgs) -> app::Result<Plan> {
    let loaded = scenario::load_variant(&args.file, args.variant.as_deref())?;
    let label = args.file.display().to_string();
    let (thresholds, replications) =
        thresholds(&label, &args.thresholds, args.replications, loaded.thresholds.clone(), &loaded.scenario)?;
    let seeds = app::first_seeds(args.seed.seed.unwrap_or(loaded.scenario.seed), replications);
    let presentation = super::presentation(&loaded);
    let fingerprint = Fingerprint::new(
        Purpose::Check { thresholds: args.thresholds.clone() },
        &loaded,
        args.variant.clone(),
        vec![args.variant.clone().unwrap_or_else(|| "baseline".to_string())],
        seeds,
    );
    Ok(Plan::Matrix(Box::new(MatrixPlan {
        fingerprint,
        configs: vec![loaded.scenario.clone()],
        finish: Finish::Check { scenario: loaded.scenario, thresholds },
        sharding: args.shard.sharding()?,
        delivery: Delivery {
            junit: args.junit,
            markdown: args.markdown,
            presentation,
            ..args.out.delivery(&args.print)
        },
    })))
}
