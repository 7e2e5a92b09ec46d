//! `stormsim compare FILE`: plan the baseline and its variants on the same seeds, in
//! parallel; the comparison table (or JSON) is printed and a compare folder written with
//! `compare.json` and a chart.

use super::shard::ShardArgs;
use super::{OutArgs, PrintArgs, SeedArg};
use crate::app::plan::{Delivery, Finish, MatrixPlan, Plan};
use crate::app::{self};
use crate::model::Scenario;
use crate::scenario::{self, Loaded};
use crate::shard::{Fingerprint, Purpose};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(
    mut_arg("seed", |arg| arg.help("First seed; every configuration runs seed, seed+1, ... [default: the scenario's `seed`]")),
    mut_arg("out", |arg| arg.help("Write the compare folder here [default: outputs/<scenario>-compare-seed<N>, then -2, ...]")),
    mut_arg("force", |arg| arg.help("Replace the --out folder if it holds a previous comparison")),
    mut_arg("json", |arg| arg.help("Print the comparison as JSON on stdout, and nothing else there")),
)]
pub struct CompareArgs {
    /// The scenario file (TOML) with [variants.NAME] tables
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The variants to compare with the baseline, comma-separated [default: all]
    #[arg(long, value_name = "A,B,...", value_delimiter = ',')]
    pub variants: Vec<String>,
    /// Seeds per configuration (seed, seed+1, ...), the same for every configuration
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub replications: u64,
    /// Print the wide table: each variant's paired difference from the baseline with its 95%
    /// interval (the default table fits 100 columns)
    #[arg(long)]
    pub wide: bool,
    #[command(flatten)]
    pub seed: SeedArg,
    #[command(flatten)]
    pub out: OutArgs,
    #[command(flatten)]
    pub print: PrintArgs,
    #[command(flatten)]
    pub shard: ShardArgs,
}

pub fn plan(args: CompareArgs) -> app::Result<Plan> {
    let configs = load_configs(&args)?;
    let baseline = &configs[0].scenario;
    let seeds = app::first_seeds(args.seed.seed.unwrap_or(baseline.seed), args.replications);
    let labels: Vec<String> = configs
        .iter()
        .map(|config| config.scenario.variant.clone().unwrap_or_else(|| "baseline".into()))
        .collect();
    let hashes = configs.iter().map(|config| config.scenario.hash.clone()).collect();
    let fingerprint = Fingerprint::new(Purpose::Compare { hashes }, &configs[0], None, labels, seeds);
    let presentation = super::presentation(&configs[0]);
    let configs: Vec<Scenario> = configs.into_iter().map(|config| config.scenario).collect();
    Ok(Plan::Matrix(Box::new(MatrixPlan {
        fingerprint,
        finish: Finish::Compare { baseline: configs[0].clone() },
        configs,
        sharding: args.shard.sharding()?,
        delivery: Delivery { presentation, wide: args.wide, ..args.out.delivery(&args.print) },
    })))
}

/// The baseline, then each variant asked for (all of them by default), loaded.
fn load_configs(args: &CompareArgs) -> app::Result<Vec<Loaded>> {
    let baseline = scenario::load(&args.file)?;
    let names = if args.variants.is_empty() { baseline.variants.clone() } else { args.variants.clone() };
    if names.is_empty() {
        return Err(app::usage(format!(
            "{} has no [variants.NAME] table to compare with the baseline",
            args.file.display()
        )));
    }
    let mut configs = vec![baseline];
    for name in names {
        configs.push(scenario::load_variant(&args.file, Some(&name))?);
    }
    Ok(configs)
}
