//! `stormsim capacity FILE --param PATH --range LO..HI [--maximize]`: the smallest capacity
//! (or with `--maximize` the largest multiplier) that meets every threshold of the scenario,
//! by bisection over replicated probes (`crate::capacity`). Exit 0 when found, 1 when even
//! the end of the range misses, 2 on bad input.

use super::{PrintArgs, SeedArg, check, first_seeds};
use crate::app::runner::describe_stopped;
use crate::app::{self, Error, Exit, Job, Runner};
use crate::capacity::{self, Detail, Goal, Outcome};
use crate::check::measure::RunView;
use crate::check::verdict::{self, Verdict};
use crate::report::capacity::SearchReport;
use crate::scenario::overrides::{Parameter, Setting};
use crate::scenario::{self, Loaded, ScenarioError};
use anyhow::Context;
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

pub fn run(args: CapacityArgs) -> app::Result<Exit> {
    let goal = Goal::parse(&args.range, args.maximize, args.tolerance)?;
    let text = std::fs::read_to_string(&args.file)
        .map_err(|source| ScenarioError::Io { path: args.file.clone(), source })?;
    let label = args.file.display().to_string();
    let variant = args.variant.as_deref();
    let (base, _): (Loaded, _) = scenario::load_with(&text, &label, Some(&args.file), variant, &[])?;
    let (thresholds, _) = check::thresholds(
        &label,
        &args.thresholds,
        Some(args.replications),
        base.thresholds.clone(),
        &base.scenario,
    )?;
    let flag_text = format!("{}={}", args.param, args.range);
    let (low, high) = match goal {
        Goal::Smallest { low, high } => (low as f64, high as f64),
        Goal::Largest { low, high, .. } => (low, high),
    };
    let load = |value: f64| -> app::Result<crate::model::Scenario> {
        let parameter = Parameter::probe("--param", &flag_text, &args.param, &[goal.literal(value)])
            .map_err(Error::Usage)?;
        let setting = Setting { parameter: &parameter, value: 0 };
        let (loaded, _) = scenario::load_with(&text, &label, Some(&args.file), variant, &[setting])?;
        Ok(loaded.scenario)
    };
    // Both ends must load before anything runs.
    for end in [low, high] {
        load(end)?;
    }
    let first = args.seed.seed.unwrap_or(base.scenario.seed);
    let runner = Runner::new(args.print.quiet);
    let mut probes = 0;
    let search = capacity::search(goal, args.replications, args.replications * 4, |value, n| {
        let scenario = match load(value) {
            Ok(scenario) => scenario,
            Err(error) => {
                let detail = Detail { verdicts: Vec::new(), stopped: Some(error.render()) };
                return Some((Outcome::Fail, detail));
            }
        };
        probes += 1;
        let label = format!("probe {probes} · {} = {}", args.param, goal.format(value));
        let seeds = first_seeds(first, n);
        let jobs: Vec<Job> = seeds.iter().map(|&seed| Job { scenario: &scenario, seed }).collect();
        let outputs = runner.run(&jobs, &label);
        if runner.interrupted() {
            return None;
        }
        let outputs: Vec<_> = outputs.into_iter().flatten().collect();
        let stopped = jobs.iter().zip(&outputs).find_map(|(job, output)| describe_stopped(job, output));
        let runs: Vec<RunView> = outputs.iter().map(RunView::new).collect();
        let verdicts: Vec<Verdict> =
            thresholds.iter().map(|threshold| verdict::evaluate(threshold, &runs)).collect();
        Some((capacity::classify(&verdicts, stopped.is_some()), Detail { verdicts, stopped }))
    });
    let report = SearchReport {
        param: &args.param,
        range: &args.range,
        goal,
        thresholds: &thresholds,
        search: &search,
    };
    let output = if args.print.json {
        serde_json::to_string_pretty(&report.to_json()).context("serialising the search")? + "\n"
    } else {
        report.render(super::styled())
    };
    super::print(&output, "printing the search")?;
    Ok(match (search.interrupted, search.answer) {
        (true, _) => Exit::Interrupted,
        (false, Some(_)) => Exit::Ok,
        (false, None) => Exit::TargetMissed,
    })
}
