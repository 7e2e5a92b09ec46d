//! `stormsim sweep FILE`: run a scenario over a grid of overridden keys (its `[sweep]` table
//! and `--param PATH=V1,V2,...`) times replications, in parallel, and write `sweep.csv`,
//! `sweep.json` and a chart; or run one shard of the grid (see `cli::shard`).

use super::shard::{Matrix, ShardArgs};
use super::{OutArgs, PrintArgs, SeedArg, announce, first_seeds};
use crate::app::{self, Error, Exit};
use crate::check::metric;
use crate::report::{self, OutDir, ReportError};
use crate::scenario::overrides::Parameter;
use crate::scenario::{self, Loaded, ScenarioError};
use crate::shard::Fingerprint;
use crate::sweep::{self, Sweep, grid::Grid};
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

/// The files of a sweep folder.
pub const CSV_FILE: &str = "sweep.csv";
pub const JSON_FILE: &str = "sweep.json";
pub const PNG_FILE: &str = "sweep.png";
pub const SVG_FILE: &str = "sweep.svg";

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
        Fingerprint::new(
            self.sweep.purpose(),
            &self.base,
            self.sweep.variant.clone(),
            self.sweep.labels(),
            self.sweep.seeds.clone(),
        )
    }
}

/// Loads the scenario, its grid and every grid point, checking everything before a run.
pub fn prepare(args: &SweepArgs) -> app::Result<Prepared> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|source| ScenarioError::Io { path: args.file.clone(), source })?;
    let label = args.file.display().to_string();
    let variant = args.variant.as_deref();
    let (base, table) = scenario::load_with(&text, &label, Some(&args.file), variant, &[])?;
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
    let seeds = first_seeds(args.seed.seed.unwrap_or(base.scenario.seed), replications);
    let sweep = Sweep::new(
        &base.scenario.name,
        args.variant.clone(),
        &base.scenario.hash,
        grid.axes(),
        seeds,
        metric,
    );
    let points = sweep
        .points
        .iter()
        .map(|point| {
            scenario::load_with(&text, &label, Some(&args.file), variant, &grid.settings(point))
                .map(|(loaded, _)| loaded.scenario)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Prepared { sweep, base, points })
}

pub fn run(args: SweepArgs) -> app::Result<Exit> {
    let prepared = prepare(&args)?;
    let out_dir = args.out.dir();
    if !args.shard.plan {
        out_dir.preflight()?;
    }
    let configs: Vec<&crate::model::Scenario> = prepared.points.iter().collect();
    let results = match args.shard.execute(&prepared.fingerprint(), &configs, false, args.print.quiet)? {
        Matrix::Done(results) => results,
        Matrix::Exit(exit) => return Ok(exit),
    };
    let runs: Vec<sweep::MetricValues> =
        results.iter().map(|job| sweep::metric_values(&job.summary)).collect();
    finish(&prepared.sweep, &runs, &out_dir, &args.print)
}

/// The rendered files of a sweep: `sweep.csv` and `sweep.json`.
pub fn render(sweep: &Sweep, runs: &[sweep::MetricValues]) -> anyhow::Result<(String, String)> {
    let csv = report::sweep::csv(sweep, runs).context("writing sweep.csv")?;
    let json = serde_json::to_string_pretty(&report::sweep::json(sweep, runs))
        .context("serialising sweep.json")?
        + "\n";
    Ok((csv, json))
}

/// Prints the table (or the JSON) and writes the sweep folder: the same for a whole sweep
/// and for merged shards.
pub fn finish(
    sweep: &Sweep,
    runs: &[sweep::MetricValues],
    out_dir: &OutDir,
    print: &PrintArgs,
) -> app::Result<Exit> {
    let (csv, json) = render(sweep, runs)?;
    let text = if print.json { json.clone() } else { report::sweep::table(sweep, runs) };
    super::print(&text, "printing the sweep")?;
    let base_name = format!("{}-sweep-seed{}", sweep.scenario, sweep.seeds.first().copied().unwrap_or(0));
    let written = report::write_folder(out_dir, &base_name, |dir| {
        report::write_into(dir, CSV_FILE, csv.as_bytes())?;
        report::write_into(dir, JSON_FILE, json.as_bytes())?;
        let png = dir.join(PNG_FILE);
        let svg = report::chart::sweep::write(&png, sweep, runs)
            .map_err(|source| ReportError::Chart { path: png.clone(), source })?;
        report::write_into(dir, SVG_FILE, svg.as_bytes())
    });
    announce(written, print.quiet)?;
    Ok(Exit::Ok)
}
