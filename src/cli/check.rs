//! `stormsim check FILE`: run a scenario (over several seeds when asked), hold every
//! threshold against the runs, print the verdicts, write the CI exports, and exit 0 when
//! every target is met, 1 when one is missed, 2 on bad input.

use super::shard::{Matrix, ShardArgs};
use super::{Exit, first_seeds, load_or_exit};
use crate::check::threshold::{self, Threshold};
use crate::check::{CheckReport, junit, markdown, measure::RunView, verdict};
use crate::report;
use crate::shard::Fingerprint;
use crate::simulation::RunOutput;
use anyhow::Context;
use clap::Args;
use serde_json::json;
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The scenario file (TOML)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Check this [variants.NAME] of the scenario instead of the base
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
    /// Run this many seeds (seed, seed+1, ...) in parallel; thresholds see their statistic
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub replications: u64,
    /// First seed [default: the scenario's `seed`]
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
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
    /// Print the verdicts as JSON on stdout, and nothing else there
    #[arg(long)]
    pub json: bool,
    /// No progress bar on stderr
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub shard: ShardArgs,
}

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let mut stderr = io::stderr();
    let loaded = match load_or_exit(&args.file, args.variant.as_deref(), &mut stderr)? {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    let label = args.file.display().to_string();
    let thresholds = match thresholds(
        &label,
        &args.thresholds,
        args.replications,
        loaded.thresholds.clone(),
        &loaded.scenario,
    ) {
        Ok(thresholds) => thresholds,
        Err(message) => {
            writeln!(stderr, "error: {message}")?;
            return Ok(Exit::Usage.into());
        }
    };
    let seeds = first_seeds(args.seed.unwrap_or(loaded.scenario.seed), args.replications);
    let fingerprint = Fingerprint::new(
        "check",
        &loaded.resolved_toml,
        args.variant.clone(),
        vec![args.variant.clone().unwrap_or_else(|| "baseline".to_string())],
        seeds.clone(),
        json!({ "thresholds": args.thresholds }),
    );
    let results =
        match args.shard.execute(&fingerprint, &[&loaded.scenario], true, args.quiet, &mut stderr)? {
            Matrix::Done(results) => results,
            Matrix::Exit(code) => return Ok(code),
        };
    let exports = Exports { json: args.json, junit: args.junit.clone(), markdown: args.markdown.clone() };
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
) -> anyhow::Result<ExitCode> {
    let runs: Vec<RunView> = outputs.iter().map(RunView::new).collect();
    let report = CheckReport {
        scenario: scenario.name.clone(),
        variant: scenario.variant.clone(),
        scenario_hash: outputs.first().map(|output| output.summary.scenario.hash.clone()).unwrap_or_default(),
        seeds,
        start_clock: scenario.start_clock,
        verdicts: thresholds.iter().map(|threshold| verdict::evaluate(threshold, &runs)).collect(),
    };

    let mut stdout = io::stdout();
    if exports.json {
        let json = serde_json::to_string_pretty(&report.to_json()).context("serialising the verdicts")?;
        writeln!(stdout, "{json}").context("printing the verdicts")?;
    } else {
        stdout.write_all(report.render_text().as_bytes()).context("printing the verdicts")?;
    }
    stdout.flush().context("printing the verdicts")?;

    if let Some(path) = &exports.junit {
        let xml = junit::render(&report).context("writing the JUnit report")?;
        report::write_file_atomically(path, xml.as_bytes())?;
    }
    if let Some(path) = &exports.markdown {
        report::write_file_atomically(path, markdown::render(&report).as_bytes())?;
    }
    Ok(if report.passed() { Exit::Ok } else { Exit::TargetMissed }.into())
}

/// The file's thresholds with the command line's applied, checked for what the runs can
/// give them.
pub(crate) fn thresholds(
    file: &str,
    expressions: &[String],
    replications: u64,
    mut thresholds: Vec<Threshold>,
    scenario: &crate::model::Scenario,
) -> Result<Vec<Threshold>, String> {
    let from_file = thresholds.len();
    for expression in expressions {
        let threshold = threshold::parse_expression(expression, scenario)
            .map_err(|refusal| format!("in --threshold \"{expression}\": {refusal}"))?;
        match thresholds[..from_file].iter_mut().find(|existing| existing.same_measure(&threshold)) {
            Some(existing) => *existing = threshold,
            None => thresholds.push(threshold),
        }
    }
    if thresholds.is_empty() {
        return Err(format!(
            "{file} has no thresholds to check; add [[thresholds]] to it or pass --threshold \"success_rate >= 99.9%\""
        ));
    }
    if replications < 2
        && let Some(threshold) =
            thresholds.iter().find(|threshold| threshold.statistic.confidence().is_some())
    {
        return Err(format!(
            "threshold \"{threshold}\" uses a confidence bound ({}), which needs --replications 2 or more",
            threshold.statistic
        ));
    }
    Ok(thresholds)
}
