//! `stormsim compare FILE`: run the baseline and its variants on the same seeds, in
//! parallel, print the comparison table (or JSON) and write a compare folder with
//! `compare.json` and a chart.

use super::shard::{Matrix, ShardArgs};
use super::{OutArgs, PrintArgs, SeedArg, announce, first_seeds};
use crate::app::{self, Exit};
use crate::compare::{self, series};
use crate::report::{self, OutDir, ReportError};
use crate::scenario::{self, Loaded};
use crate::shard::{Fingerprint, Purpose};
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

/// The files of a compare folder.
pub const COMPARE_FILE: &str = "compare.json";
pub const COMPARE_PNG_FILE: &str = "compare.png";
pub const COMPARE_SVG_FILE: &str = "compare.svg";

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
    #[command(flatten)]
    pub seed: SeedArg,
    #[command(flatten)]
    pub out: OutArgs,
    #[command(flatten)]
    pub print: PrintArgs,
    #[command(flatten)]
    pub shard: ShardArgs,
}

pub fn run(args: CompareArgs) -> app::Result<Exit> {
    let configs = load_configs(&args)?;
    let out_dir = args.out.dir();
    out_dir.preflight()?;
    let baseline = &configs[0].scenario;
    let seeds = first_seeds(args.seed.seed.unwrap_or(baseline.seed), args.replications);
    let labels: Vec<String> = configs
        .iter()
        .map(|config| config.scenario.variant.clone().unwrap_or_else(|| "baseline".into()))
        .collect();
    let hashes = configs.iter().map(|config| config.scenario.hash.clone()).collect();
    let fingerprint = Fingerprint::new(Purpose::Compare { hashes }, &configs[0], None, labels, seeds.clone());
    let scenarios: Vec<&crate::model::Scenario> = configs.iter().map(|config| &config.scenario).collect();
    let results = match args.shard.execute(&fingerprint, &scenarios, true, args.print.quiet)? {
        Matrix::Done(results) => results,
        Matrix::Exit(exit) => return Ok(exit),
    };
    let outputs = super::check::outputs_of(results);
    finish(baseline, &seeds, outputs, &out_dir, &args.print)
}

/// Prints the comparison (or its JSON) and writes the compare folder, from every run in
/// matrix order (configuration by configuration, seed by seed): the same for a whole
/// comparison and for merged shards.
pub fn finish(
    baseline: &crate::model::Scenario,
    seeds: &[u64],
    outputs: Vec<crate::simulation::RunOutput>,
    out_dir: &OutDir,
    print: &PrintArgs,
) -> app::Result<Exit> {
    let n_configs = outputs.len() / seeds.len().max(1);
    let mut outputs = outputs.into_iter();
    let runs: Vec<Vec<_>> = (0..n_configs).map(|_| outputs.by_ref().take(seeds.len()).collect()).collect();
    let comparison = compare::compare(&baseline.name, seeds, &runs, baseline.interval);
    let json =
        serde_json::to_string_pretty(&comparison.to_json()).context("serialising the comparison")? + "\n";

    let text = if print.json { json.clone() } else { report::compare::render(&comparison, super::styled()) };
    super::print(&text, "printing the comparison")?;

    let labels: Vec<&str> = comparison.configs.iter().map(compare::Config::label).collect();
    let title = format!("{} · {} vs baseline · {} seeds", baseline.name, labels[1..].join(", "), seeds.len());
    let base_name = format!("{}-compare-seed{}", baseline.name, seeds[0]);
    let written = report::write_folder(out_dir, &base_name, |dir| {
        report::write_into(dir, COMPARE_FILE, json.as_bytes())?;
        let png = dir.join(COMPARE_PNG_FILE);
        let svg =
            report::chart::write_comparison(&png, &runs[0][0].series, &series::lines(&labels, &runs), &title)
                .map_err(|source| ReportError::Chart { path: png.clone(), source })?;
        report::write_into(dir, COMPARE_SVG_FILE, svg.as_bytes())
    });
    announce(written, print.quiet)?;
    Ok(Exit::Ok)
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
