//! `stormsim check FILE`: run a scenario (over several seeds when asked), hold every
//! threshold against the runs, print the verdicts, write the CI exports, and exit 0 when
//! every target is met, 1 when one is missed, 2 on bad input.

use super::shard::{Matrix, ShardArgs};
use super::{PrintArgs, SeedArg, first_seeds};
use crate::app::{self, Exit};
use crate::check::threshold::{self, Threshold};
use crate::check::{CheckReport, measure::RunView, verdict};
use crate::report;
use crate::report::{junit, markdown};
use crate::scenario;
use crate::shard::{Fingerprint, Purpose};
use crate::simulation::RunOutput;
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(mut_arg("seed", |arg| arg.help("First seed; the runs use seed, seed+1, ... [default: the scenario's `seed`]")))]
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
    pub print: PrintArgs,
    #[command(flatten)]
    pub shard: ShardArgs,
}

/// Replications when a threshold needs a confidence bound and none were asked for: as
/// many as `compare` runs by default.
pub const CONFIDENCE_REPLICATIONS: u64 = 5;

pub fn run(args: CheckArgs) -> app::Result<Exit> {
    let loaded = scenario::load_variant(&args.file, args.variant.as_deref())?;
    let label = args.file.display().to_string();
    let (thresholds, replications) =
        thresholds(&label, &args.thresholds, args.replications, loaded.thresholds.clone(), &loaded.scenario)?;
    let seeds = first_seeds(args.seed.seed.unwrap_or(loaded.scenario.seed), replications);
    let fingerprint = Fingerprint::new(
        Purpose::Check { thresholds: args.thresholds.clone() },
        &loaded,
        args.variant.clone(),
        vec![args.variant.clone().unwrap_or_else(|| "baseline".to_string())],
        seeds.clone(),
    );
    let results = match args.shard.execute(&fingerprint, &[&loaded.scenario], true, args.print.quiet)? {
        Matrix::Done(results) => results,
        Matrix::Exit(exit) => return Ok(exit),
    };
    let exports =
        Exports { json: args.print.json, junit: args.junit.clone(), markdown: args.markdown.clone() };
    finish(&loaded.scenario, &thresholds, seeds, &outputs_of(results), &exports)
}

/// Where `check`'s verdicts go besides the terminal.
pub struct Exports {
    pub json: bool,
    pub junit: Option<PathBuf>,
    pub markdown: Option<PathBuf>,
}

/// Runs as `RunOutput`s, from the results of a matrix that kept its series.
pub(crate) fn outputs_of(results: Vec<crate::shard::JobResult>) -> Vec<RunOutput> {
    results
        .into_iter()
        .map(|job| RunOutput {
            summary: job.summary,
            series: job.series.unwrap_or_else(crate::stats::Series::empty),
            stopped: None,
        })
        .collect()
}

/// Holds the thresholds against the runs, prints the verdicts and writes the exports: the
/// same for a whole check and for merged shards.
pub fn finish(
    scenario: &crate::model::Scenario,
    thresholds: &[Threshold],
    seeds: Vec<u64>,
    outputs: &[RunOutput],
    exports: &Exports,
) -> app::Result<Exit> {
    let runs: Vec<RunView> = outputs.iter().map(RunView::new).collect();
    let report = CheckReport {
        scenario: scenario.name.clone(),
        variant: scenario.variant.clone(),
        scenario_hash: outputs.first().map(|output| output.summary.scenario.hash.clone()).unwrap_or_default(),
        seeds,
        start_clock: scenario.start_clock,
        verdicts: thresholds.iter().map(|threshold| verdict::evaluate(threshold, &runs)).collect(),
    };

    let text = if exports.json {
        serde_json::to_string_pretty(&report.to_json()).context("serialising the verdicts")? + "\n"
    } else {
        report::check::render(&report, super::styled())
    };
    super::print(&text, "printing the verdicts")?;

    if let Some(path) = &exports.junit {
        let xml = junit::render(&report).context("writing the JUnit report")?;
        report::write_file_atomically(path, xml.as_bytes())?;
    }
    if let Some(path) = &exports.markdown {
        report::write_file_atomically(path, markdown::render(&report).as_bytes())?;
    }
    Ok(if report.passed() { Exit::Ok } else { Exit::TargetMissed })
}

/// The file's thresholds with the command line's applied, and the replications to run:
/// `replications` when given (refused if too few for a confidence bound), else as many as
/// the thresholds need.
pub(crate) fn thresholds(
    file: &str,
    expressions: &[String],
    replications: Option<u64>,
    mut thresholds: Vec<Threshold>,
    scenario: &crate::model::Scenario,
) -> app::Result<(Vec<Threshold>, u64)> {
    let from_file = thresholds.len();
    for expression in expressions {
        let threshold = threshold::parse_expression(expression, scenario)
            .map_err(|refusal| refusal.of(&format!("in --threshold \"{expression}\"")))?;
        match thresholds[..from_file].iter_mut().find(|existing| existing.same_measure(&threshold)) {
            Some(existing) => *existing = threshold,
            None => thresholds.push(threshold),
        }
    }
    if thresholds.is_empty() {
        return Err(app::usage(format!(
            "{file} has no thresholds to check; add [[thresholds]] to it or pass --threshold \"success_rate >= 99.9%\""
        )));
    }
    let confident = thresholds.iter().find(|threshold| threshold.statistic.confidence().is_some());
    let replications = match (replications, confident) {
        (Some(n), Some(threshold)) if n < 2 => {
            return Err(app::usage(format!(
                "threshold \"{threshold}\" uses a confidence bound ({}), which needs --replications 2 or more",
                threshold.statistic
            )));
        }
        (Some(n), _) => n,
        (None, Some(_)) => CONFIDENCE_REPLICATIONS,
        (None, None) => 1,
    };
    Ok((thresholds, replications))
}
