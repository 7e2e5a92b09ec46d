//! `stormsim metastability FILE`: plan a map of a source's surge, its factor down and its
//! length across, every cell run on the same seeds, into `metastability.csv`,
//! `metastability.json` and a heatmap (see `crate::metastability`); or one shard of it.

use super::shard::ShardArgs;
use super::{OutArgs, PrintArgs, SeedArg};
use crate::app::plan::{Delivery, Finish, MatrixPlan, Plan, Template};
use crate::app::{self, Error};
use crate::metastability::Map;
use crate::refusal::Refusal;
use crate::scenario::Loaded;
use crate::scenario::overrides::Parameter;
use crate::shard::Fingerprint;
use crate::sweep::grid::Grid;
use clap::Args;
use std::path::PathBuf;

/// Factors mapped when `--factor` is not given.
pub const DEFAULT_FACTORS: &str = "1.25,1.5,2,3,4";
/// Lengths mapped when `--over` is not given, as multiples of the scenario's own surge.
pub const DEFAULT_LENGTHS: [f64; 4] = [0.5, 1.0, 2.0, 4.0];

#[derive(Debug, Args)]
#[command(
    mut_arg("seed", |arg| arg.help("First seed; every cell runs seed, seed+1, ... [default: the scenario's `seed`]")),
    mut_arg("out", |arg| arg.help("Write the map's folder here [default: outputs/<scenario>-metastability-seed<N>, then -2, ...]")),
    mut_arg("force", |arg| arg.help("Replace the --out folder if it holds a previous map")),
    mut_arg("json", |arg| arg.help("Print metastability.json on stdout, and nothing else there")),
)]
pub struct MetastabilityArgs {
    /// The scenario file (TOML); a source in it has a surge = { at, factor, over }
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// The source whose surge is mapped [default: the one source with a surge]
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// The surge's factors, down the map
    #[arg(long, value_name = "F1,F2,...", default_value = DEFAULT_FACTORS)]
    pub factor: String,
    /// The surge's lengths, across the map [default: the scenario's surge x 0.5, 1, 2 and 4]
    #[arg(long, value_name = "D1,D2,...")]
    pub over: Option<String>,
    /// A run is collapsed when it is still in an outage this long after the surge ends
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub settle: String,
    /// Seeds per cell
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub replications: u64,
    /// Apply this [variants.NAME] first (a mitigation: how does it move the boundary?)
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
    #[command(flatten)]
    pub seed: SeedArg,
    #[command(flatten)]
    pub out: OutArgs,
    #[command(flatten)]
    pub print: PrintArgs,
    #[command(flatten)]
    pub shard: ShardArgs,
}

/// A map ready to run: its description and the scenario of every cell.
pub struct Prepared {
    pub map: Map,
    pub base: Loaded,
    pub cells: Vec<crate::model::Scenario>,
}

/// Loads the scenario and every cell of the map, checking everything before a run.
pub fn prepare(args: &MetastabilityArgs) -> app::Result<Prepared> {
    let template = Template::read(&args.file, args.variant.as_deref())?;
    let (base, _) = template.load(&[])?;
    let file = args.file.display();
    let surged: Vec<&str> = base.surges.iter().map(|surge| surge.source.as_str()).collect();
    let source = match (&args.source, surged.as_slice()) {
        (Some(name), _) if surged.contains(&name.as_str()) => name.clone(),
        (Some(name), _) => {
            return Err(no_surge(&format!("--source {name}: the source has no surge in {file}"), &base));
        }
        (None, [one]) => one.to_string(),
        (None, []) => return Err(no_surge(&format!("{file} has no source with a surge to map"), &base)),
        (None, several) => {
            return Err(app::usage(format!(
                "{file} has surges on {}; pick one with --source NAME",
                several.join(" and ")
            )));
        }
    };
    let surge = base.surges.iter().find(|surge| surge.source == source).expect("checked above");
    let key = format!("sources.{source}.surge");
    let over = args.over.clone().unwrap_or_else(|| {
        let own = surge.to.since(surge.from).as_secs_f64();
        DEFAULT_LENGTHS.map(|k| seconds(own * k)).join(",")
    });
    let settle: crate::units::Duration = args.settle.parse().map_err(|error| {
        Error::Usage(Refusal::new(format!("--settle \"{}\": {error}", args.settle)).expected(
            "a duration such as \"5m\": how long after the surge a run still out counts as collapsed",
        ))
    })?;
    let flags = [
        Parameter::from_flag("--factor", &format!("{key}.factor={}", args.factor), 0),
        Parameter::from_flag("--over", &format!("{key}.over={over}"), 1),
    ];
    let grid = Grid::new(Vec::new(), flags.into_iter().collect::<Result<Vec<_>, _>>().map_err(Error::Usage)?);
    let seeds = app::first_seeds(args.seed.seed.unwrap_or(base.scenario.seed), args.replications);
    let axes = grid.axes();
    let map =
        Map::new(&base, args.variant.clone(), &source, axes[0].clone(), axes[1].clone(), settle.0, seeds)
            .map_err(Error::Usage)?;
    let cells = map
        .cells()
        .iter()
        .map(|&(factor, length)| {
            template.load(&grid.settings(&[factor, length])).map(|(loaded, _)| loaded.scenario)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Prepared { map, base, cells })
}

/// `2.5s`, `20s`: a length to the millisecond, as a user writes it.
fn seconds(value: f64) -> String {
    let text = format!("{:.3}", (value * 1000.0).round() / 1000.0);
    format!("{}s", text.trim_end_matches('0').trim_end_matches('.'))
}

/// The refusal of a scenario without the surge to map, showing how to write one.
fn no_surge(message: &str, base: &Loaded) -> Error {
    let source = base.scenario.sources.first().map_or("NAME", |source| source.name.as_str());
    Error::Usage(
        Refusal::new(message)
            .expected(format!("a surge on the source, such as [sources.{source}] surge = {{ at = \"2m\", factor = 2, over = \"5s\" }}")),
    )
}

pub fn plan(args: MetastabilityArgs) -> app::Result<Plan> {
    let Prepared { map, base, cells } = prepare(&args)?;
    let fingerprint =
        Fingerprint::new(map.purpose(), &base, map.variant.clone(), map.labels(), map.seeds.clone());
    let presentation = super::presentation(&base);
    Ok(Plan::Matrix(Box::new(MatrixPlan {
        fingerprint,
        configs: cells,
        finish: Finish::Metastability(Box::new(map)),
        sharding: args.shard.sharding()?,
        delivery: Delivery { presentation, ..args.out.delivery(&args.print) },
    })))
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_lengths_read_as_written() {
        assert_eq!(super::seconds(2.5), "2.5s");
        assert_eq!(super::seconds(20.0), "20s");
        assert_eq!(super::seconds(0.0125), "0.013s");
    }
}
