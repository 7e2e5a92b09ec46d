//! `stormsim check FILE`: run a scenario (over several seeds when asked), hold every
//! threshold against the runs, print the verdicts, write the CI exports, and exit 0 when
//! every target is met, 1 when one is missed, 2 on bad input.

use super::replicate::{self, Job};
use super::{Exit, first_seeds, load_or_exit};
use crate::check::threshold::{self, Threshold};
use crate::check::{CheckReport, junit, markdown, measure::RunView, verdict};
use crate::report;
use anyhow::Context;
use clap::Args;
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
}

pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let mut stderr = io::stderr().lock();
    let loaded = match load_or_exit(&args.file, args.variant.as_deref(), &mut stderr)? {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    let thresholds = match thresholds(&args, loaded.thresholds, &loaded.scenario) {
        Ok(thresholds) => thresholds,
        Err(message) => {
            writeln!(stderr, "error: {message}")?;
            return Ok(Exit::Usage.into());
        }
    };
    let seeds = first_seeds(args.seed.unwrap_or(loaded.scenario.seed), args.replications);
    let jobs: Vec<Job> = seeds.iter().map(|&seed| Job { scenario: &loaded.scenario, seed }).collect();
    let outputs = replicate::run_all(&jobs, args.quiet);
    if let Some(message) = replicate::first_stopped(&jobs, &outputs) {
        writeln!(stderr, "error: {message}; no verdict on a partial run")?;
        return Ok(Exit::Stopped.into());
    }
    let runs: Vec<RunView> = outputs.iter().map(RunView::new).collect();
    let report = CheckReport {
        scenario: loaded.scenario.name.clone(),
        variant: loaded.scenario.variant.clone(),
        scenario_hash: outputs.first().map(|output| output.summary.scenario.hash.clone()).unwrap_or_default(),
        seeds,
        start_clock: loaded.scenario.start_clock,
        verdicts: thresholds.iter().map(|threshold| verdict::evaluate(threshold, &runs)).collect(),
    };

    let mut stdout = io::stdout().lock();
    if args.json {
        let json = serde_json::to_string_pretty(&report.to_json()).context("serialising the verdicts")?;
        writeln!(stdout, "{json}").context("printing the verdicts")?;
    } else {
        stdout.write_all(report.render_text().as_bytes()).context("printing the verdicts")?;
    }
    stdout.flush().context("printing the verdicts")?;

    if let Some(path) = &args.junit {
        let xml = junit::render(&report).context("writing the JUnit report")?;
        report::write_file_atomically(path, xml.as_bytes())?;
    }
    if let Some(path) = &args.markdown {
        report::write_file_atomically(path, markdown::render(&report).as_bytes())?;
    }
    Ok(if report.passed() { Exit::Ok } else { Exit::TargetMissed }.into())
}

/// The file's thresholds with the command line's applied, checked for what the runs can
/// give them.
fn thresholds(
    args: &CheckArgs,
    mut thresholds: Vec<Threshold>,
    scenario: &crate::model::Scenario,
) -> Result<Vec<Threshold>, String> {
    let from_file = thresholds.len();
    for expression in &args.thresholds {
        let threshold = threshold::parse_expression(expression, scenario)
            .map_err(|refusal| format!("in --threshold \"{expression}\": {refusal}"))?;
        match thresholds[..from_file].iter_mut().find(|existing| existing.same_measure(&threshold)) {
            Some(existing) => *existing = threshold,
            None => thresholds.push(threshold),
        }
    }
    if thresholds.is_empty() {
        return Err(format!(
            "{} has no thresholds to check; add [[thresholds]] to it or pass --threshold \"success_rate >= 99.9%\"",
            args.file.display()
        ));
    }
    if args.replications < 2
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
