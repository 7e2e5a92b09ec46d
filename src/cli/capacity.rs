//! `stormsim capacity FILE --param PATH --range LO..HI [--maximize]`: the smallest capacity
//! (or with `--maximize` the largest multiplier) that meets every threshold of the scenario,
//! by bisection over replicated probes (`crate::capacity`). Exit 0 when found, 1 when even
//! the end of the range misses, 2 on bad input.

use super::{PrintArgs, SeedArg, check, first_seeds};
use crate::app::runner::describe_stopped;
use crate::app::{self, Error, Exit, Job, Runner};
use crate::capacity::{self, Goal, Outcome, Search};
use crate::check::measure::RunView;
use crate::check::threshold::Threshold;
use crate::check::verdict::{self, Status, Verdict};
use crate::refusal::Refusal;
use crate::scenario::overrides::{Parameter, Setting};
use crate::scenario::{self, Loaded, ScenarioError};
use anyhow::Context;
use clap::Args;
use serde_json::{Value, json};
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

/// What each probe keeps: the verdicts, and a run stopped early if one was.
#[derive(Clone, Debug)]
pub struct Detail {
    pub verdicts: Vec<Verdict>,
    pub stopped: Option<String>,
}

/// The goal from `--range` and `--maximize`, or why it is refused.
pub fn goal(range: &str, maximize: bool, tolerance: f64) -> Result<Goal, Refusal> {
    let expected = if maximize { "LO..HI such as 0.5..4" } else { "LO..HI with whole numbers such as 4..64" };
    let refuse = || {
        Refusal::new(format!("--range \"{range}\" is not a range"))
            .expected(format!("{expected}, LO below HI"))
    };
    let (low, high) = range.split_once("..").ok_or_else(refuse)?;
    if maximize {
        let (low, high): (f64, f64) =
            (low.trim().parse().map_err(|_| refuse())?, high.trim().parse().map_err(|_| refuse())?);
        if !(low.is_finite() && high.is_finite() && low < high) {
            return Err(refuse());
        }
        if !(tolerance > 0.0 && tolerance.is_finite()) {
            return Err(Refusal::new(format!("--tolerance {tolerance} is not positive"))
                .expected("a positive number such as 0.01"));
        }
        Ok(Goal::Largest { low, high, tolerance })
    } else {
        let (low, high): (i64, i64) =
            (low.trim().parse().map_err(|_| refuse())?, high.trim().parse().map_err(|_| refuse())?);
        if low >= high {
            return Err(refuse());
        }
        Ok(Goal::Smallest { low, high })
    }
}

/// The TOML literal of a probed value: whole numbers for a capacity, floats for a multiplier.
fn literal(goal: Goal, value: f64) -> String {
    match goal {
        Goal::Smallest { .. } => format!("{}", value as i64),
        Goal::Largest { .. } => format!("{value:?}"),
    }
}

fn format_value(goal: Goal, value: f64) -> String {
    match goal {
        Goal::Smallest { .. } => format!("{}", value as i64),
        Goal::Largest { .. } => format!("{}", (value * 1e6).round() / 1e6),
    }
}

/// A probe's outcome from its verdicts: pass when all pass; inconclusive when one fails but
/// its 95% interval of the mean still holds the target.
pub fn classify(verdicts: &[Verdict], stopped: bool) -> Outcome {
    if stopped {
        return Outcome::Fail;
    }
    if verdicts.iter().all(|verdict| verdict.status.passed()) {
        return Outcome::Pass;
    }
    let noisy = verdicts.iter().filter(|verdict| !verdict.status.passed()).all(|verdict| {
        verdict.status == Status::Failed
            && verdict.estimate.and_then(|estimate| estimate.interval).is_some_and(|(low, high)| {
                low <= verdict.threshold.target && verdict.threshold.target <= high
            })
    });
    if noisy { Outcome::Inconclusive } else { Outcome::Fail }
}

pub fn run(args: CapacityArgs) -> app::Result<Exit> {
    let goal = goal(&args.range, args.maximize, args.tolerance)?;
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
        let parameter = Parameter::probe("--param", &flag_text, &args.param, &[literal(goal, value)])
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
        let label = format!("probe {probes} · {} = {}", args.param, format_value(goal, value));
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
        Some((classify(&verdicts, stopped.is_some()), Detail { verdicts, stopped }))
    });
    let output = if args.print.json {
        serde_json::to_string_pretty(&to_json(&args, goal, &thresholds, &search))
            .context("serialising the search")?
            + "\n"
    } else {
        render(&args, goal, &thresholds, &search)
    };
    super::print(&output, "printing the search")?;
    Ok(match (search.interrupted, search.answer) {
        (true, _) => Exit::Interrupted,
        (false, Some(_)) => Exit::Ok,
        (false, None) => Exit::TargetMissed,
    })
}

/// `observed 16.2ms (target < 30ms, margin 13.8ms)`.
fn margin_text(verdict: &Verdict) -> String {
    let unit = verdict.threshold.measure.metric.unit;
    match verdict.observed {
        Some(observed) => format!(
            "{} (target {} {}, margin {})",
            unit.format(observed),
            verdict.threshold.comparison.symbol(),
            verdict.threshold.target_text,
            unit.format_difference(if verdict.status.passed() {
                (verdict.threshold.target - observed).abs()
            } else {
                -(verdict.threshold.target - observed).abs()
            })
        ),
        None => "no value".to_string(),
    }
}

fn render(args: &CapacityArgs, goal: Goal, thresholds: &[Threshold], search: &Search<Detail>) -> String {
    let what = if args.maximize { "largest" } else { "smallest" };
    let mut res = match search.answer {
        None if search.interrupted => {
            let (pass, fail) = search.bracket(goal);
            let known =
                |value: Option<f64>| value.map_or("none yet".to_owned(), |value| format_value(goal, value));
            format!(
                "interrupted after {} probes: no answer; {} so far passes at {} and fails at {}\n",
                search.probes.len(),
                args.param,
                known(pass),
                known(fail)
            )
        }
        Some(answer) => format!(
            "{} = {}: the {what} value in {} that meets every threshold\n",
            args.param,
            format_value(goal, answer),
            args.range
        ),
        None => format!(
            "no value of {} in {} meets every threshold: even {} misses\n",
            args.param,
            args.range,
            search.failing_neighbour.map_or_else(String::new, |value| format_value(goal, value))
        ),
    };
    for (label, value) in [("at", search.answer), ("fails at", search.failing_neighbour)] {
        let Some(probe) = search.probe_of(value) else { continue };
        for verdict in &probe.detail.verdicts {
            res.push_str(&format!(
                "  {label} {}: {}  {}\n",
                format_value(goal, probe.value),
                verdict.threshold,
                margin_text(verdict)
            ));
        }
        if let Some(stopped) = &probe.detail.stopped {
            res.push_str(&format!("  {label} {}: {stopped}\n", format_value(goal, probe.value)));
        }
    }
    res.push_str(&format!("probes ({} thresholds each):\n", thresholds.len()));
    for probe in &search.probes {
        let observed: Vec<String> = probe
            .detail
            .verdicts
            .iter()
            .map(|verdict| {
                verdict
                    .observed
                    .map_or("no value".into(), |value| verdict.threshold.measure.metric.unit.format(value))
            })
            .collect();
        res.push_str(&format!(
            "  {:>10}  {:>3} runs  {:<12}  {}\n",
            format_value(goal, probe.value),
            probe.replications,
            probe.outcome.name(),
            observed.join(", ")
        ));
    }
    res
}

fn to_json(args: &CapacityArgs, goal: Goal, thresholds: &[Threshold], search: &Search<Detail>) -> Value {
    let probe_json = |probe: &capacity::Probe<Detail>| {
        let verdicts: Vec<Value> = probe
            .detail
            .verdicts
            .iter()
            .map(|verdict| {
                json!({
                    "threshold": verdict.threshold.to_string(),
                    "passed": verdict.status.passed(),
                    "observed": verdict.observed,
                    "target": verdict.threshold.target,
                    "values": verdict.values,
                    "ci95": verdict.estimate.and_then(|estimate| estimate.interval).map(|(low, high)| [low, high]),
                })
            })
            .collect();
        json!({
            "value": probe.value,
            "replications": probe.replications,
            "outcome": probe.outcome.name(),
            "stopped": probe.detail.stopped,
            "thresholds": verdicts,
        })
    };
    json!({
        "schema_version": 1,
        "stormsim_version": env!("CARGO_PKG_VERSION"),
        "param": args.param,
        "range": args.range,
        "goal": if matches!(goal, Goal::Largest { .. }) { "largest" } else { "smallest" },
        "thresholds": thresholds.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "found": search.answer.is_some(),
        "interrupted": search.interrupted,
        "answer": search.answer,
        "failing_neighbour": search.failing_neighbour,
        "at_answer": search.probe_of(search.answer).map(probe_json),
        "at_failing_neighbour": search.probe_of(search.failing_neighbour).map(probe_json),
        "probes": search.probes.iter().map(probe_json).collect::<Vec<_>>(),
    })
}
