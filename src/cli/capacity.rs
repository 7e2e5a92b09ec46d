//! `stormsim capacity FILE --param PATH --range LO..HI [--maximize]`: plan a search for the
//! smallest capacity (or with `--maximize` the largest multiplier) that meets every
//! threshold of the scenario, by bisection over replicated probes (`crate::capacity`).
//! Exit 0 when found, 1 when even the end of the range misses, 2 on bad input.

use super::{PrintArgs, SeedArg};
use crate::app::pipeline::thresholds;
use crate::app::plan::{CapacityPlan, Delivery, Plan, Template};
use crate::app::{self};
use crate::capacity::Goal;
use crate::scenario::overrides::{Parameter, Setting};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(mut_arg("seed", |arg| arg.help("First seed; each probe runs seed, seed+1, ... [default: the scenario's `seed`]")))]
pub struct CapacityArgs {
    /// The scenario file (TOML) with [[thresholds]] (or give --threshold)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The key to search, such as services.api.instances (or, with --maximize,
    /// services.api.cpu_multiplier)
    #[arg(long, value_name = "PATH")]
    pub param: String,
    /// The range searched, both ends included: whole numbers (4..64), or with --maximize any
    /// numbers (0.5..4)
    #[arg(long, value_name = "LO..HI")]
    pub range: String,
    /// Find the largest value that still meets the thresholds, instead of the smallest
    #[arg(long)]
    pub maximize: bool,
    /// With --maximize: stop when the passing and failing values are this close
    #[arg(long, value_name = "X", default_value_t = 0.01)]
    pub tolerance: f64,
    /// Seeds per probe (seed, seed+1, ...); an inconclusive probe is repeated with up to 4x as many
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub replications: u64,
    #[command(flatten)]
    pub seed: SeedArg,
    /// Apply this [variants.NAME] first
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
    /// A threshold such as "success_rate >= 99.9% lower95" (repeatable; as for check)
    #[arg(long = "threshold", value_name = "EXPR")]
    pub thresholds: Vec<String>,
    #[command(flatten)]
    pub print: PrintArgs,
}

pub fn plan(args: CapacityArgs) -> app::Result<Plan> {
    let goal = Goal::parse(&args.range, args.maximize, args.tolerance)?;
    let template = Template::read(&args.file, args.variant.as_deref())?;
    let (base, _) = template.load(&[])?;
    let (thresholds, _) = thresholds(
        &args.file.display().to_string(),
        &args.thresholds,
        Some(args.replications),
        base.thresholds.clone(),
        &base.scenario,
    )?;
    // Both ends of the range must load before anything runs.
    let flag_text = format!("{}={}", args.param, args.range);
    let (low, high) = match goal {
        Goal::Smallest { low, high } => (low as f64, high as f64),
        Goal::Largest { low, high, .. } => (low, high),
    };
    for end in [low, high] {
        let parameter = Parameter::probe("--param", &flag_text, &args.param, &[goal.literal(end)])?;
        template.load(&[Setting { parameter: &parameter, value: 0 }])?;
    }
    Ok(Plan::Capacity(Box::new(CapacityPlan {
        template,
        param: args.param,
        range: args.range,
        goal,
        thresholds,
        replications: args.replications,
        first_seed: args.seed.seed.unwrap_or(base.scenario.seed),
        delivery: Delivery { presentation: super::presentation(&base), ..args.print.delivery() },
    })))
}
