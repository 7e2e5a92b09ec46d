//! `stormsim sweep FILE`: plan a scenario over a grid of overridden keys (its `[sweep]` table
//! and `--param PATH=V1,V2,...`) times replications, run in parallel into `sweep.csv`,
//! `sweep.json` and a chart; or one shard of the grid (see `cli::shard`).

use super::shard::ShardArgs;
use super::{OutArgs, PrintArgs, SeedArg};
use crate::app::plan::{Delivery, Finish, MatrixPlan, Plan, Template};
use crate::app::{self, Error};
use crate::check::metric;
use crate::scenario::Loaded;
use crate::scenario::overrides::Parameter;
use crate::shard::Fingerprint;
use crate::sweep::{self, Sweep, grid::Grid};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(
    mut_arg("seed", |arg| arg.help("First seed; every grid point runs seed, seed+1, ... [default: the scenario's `seed`]")),
    mut_arg("out", |arg| arg.help("Write the sweep folder here [default: outputs/<scenario>-sweep-seed<N>, then -2, ...]")),
    mut_arg("force", |arg| arg.help("Replace the --out folder if it holds a previous sweep")),
    mut_arg("json", |arg| arg.help("Print sweep.json on stdout, and nothing else there")),
)]
pub struct SweepArgs {
    /// The scenario file (TOML), optionally with a [sweep] table
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// A swept key and its values, such as services.api.instances=4,6,8 or
    /// clients.app.timeout=2s,5s (repeatable; replaces the [sweep] key on the same path)
    #[arg(long = "param", value_name = "PATH=V1,V2,...")]
    pub params: Vec<String>,
    /// Apply this [variants.NAME] before the swept keys
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
    /// Seeds per grid point [default: the [sweep] table's `replications`, else 5]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub replications: Option<u64>,
    /// The metric of the chart and the table [default: the [sweep] table's `metric`, else success_rate]
    #[arg(long, value_name = "METRIC")]
    pub metric: Option<String>,
    #[command(flatten)]
    pub seed: SeedArg,
    #[command(flatten)]
    pub out: OutArgs,
    #[command(flatten)]
    pub print: PrintArgs,
    #[command(flatten)]
    pub shard: ShardArgs,
}

/// A sweep ready to run: its description and the scenario of every grid point.
pub struct Prepared {
    pub sweep: Sweep,
    pub base: Loaded,
    pub points: Vec<crate::model::Scenario>,
}

impl Prepared {
    pub fn fingerprint(&self) -> Fingerprint {
        Prepared::fingerprint_of(&self.sweep, &self.base)
    }

    fn fingerprint_of(sweep: &Sweep, base: &Loaded) -> Fingerprint {
        Fingerprint::new(sweep.purpose(), base, sweep.variant.clone(), sweep.labels(), sweep.seeds.clone())
    }
}

/// Loads the scenario, its grid and every grid point, checking everything before a run.
pub fn prepare(args: &SweepArgs) -> app::Result<Prepared> {
    let template = Template::read(&args.file, args.variant.as_deref())?;
    let (base, table) = template.load(&[])?;
    let table = table.unwrap_or_default();
    let flags = args
        .params
        .iter()
        .enumerate()
        .map(|(idx, text)| Parameter::from_flag("--param", text, idx))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::Usage)?;
    let grid = Grid::new(table.parameters, flags);
    if grid.parameters.is_empty() {
        return Err(app::usage(format!(
            "{} has no [sweep] table and no --param was given; add --param services.NAME.instances=2,4,8",
            args.file.display()
        )));
    }
    let metric_name =
        args.metric.clone().or(table.metric.map(|(name, _)| name)).unwrap_or(sweep::DEFAULT_METRIC.into());
    let metric = metric::lookup(&metric_name)
        .map_err(|(message, expected)| app::usage(format!("in --metric: {message}; expected {expected}")))?;
    let replications = args.replications.or(table.replications).unwrap_or(5);
    let seeds = app::first_seeds(args.seed.seed.unwrap_or(base.scenario.seed), replications);
    let sweep = Sweep::new(
        &base.scenario.name,
        args.variant.clone(),
        &base.scenario.hash,
        grid.axes(),
        seeds,
        metric,
    )
    .with_thresholds(&base.thresholds);
    let points = sweep
        .points
        .iter()
        .map(|point| template.load(&grid.settings(point)).map(|(loaded, _)| loaded.scenario))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Prepared { sweep, base, points })
}

pub fn plan(args: SweepArgs) -> app::Result<Plan> {
    let Prepared { sweep, base, points } = prepare(&args)?;
    let fingerprint = Prepared::fingerprint_of(&sweep, &base);
    let presentation = super::presentation(&base);
    Ok(Plan::Matrix(Box::new(MatrixPlan {
        fingerprint,
        configs: points,
        finish: Finish::Sweep(sweep),
        sharding: args.shard.sharding()?,
        delivery: Delivery { presentation, ..args.out.delivery(&args.print) },
    })))
}
