//! The one pipeline every verb runs through: a [`Plan`] is run (by the one [`Runner`]),
//! finished into an [`Outcome`], delivered (printed and written, `super::deliver`), and
//! mapped to an exit code.

use super::deliver::{self, Terminal};
use super::outcome::{CapacityOutcome, Outcome};
use super::plan::{CapacityPlan, Delivery, Finish, MatrixPlan, Plan, RunPlan};
use super::runner::{MatrixStop, describe_stopped};
use super::{Error, Exit, Job, Result, Runner};
use crate::capacity::{self, Detail};
use crate::check::CheckReport;
use crate::check::measure::RunView;
use crate::check::threshold::{self, Threshold};
use crate::check::verdict::{self, Verdict};
use crate::refusal::Refusal;
use crate::scenario::overrides::{Parameter, Setting};
use crate::scenario::{self, ScenarioError};
use crate::shard::{self, JobResult, MergeError, Purpose, SCHEMA_VERSION, ShardFile, ShardSpec};
use crate::simulation::RunOutput;
use std::path::PathBuf;

/// Runs the plan, delivers its outcome on the terminal and to files, and returns its exit
/// code.
pub fn execute(plan: Plan) -> Result<Exit> {
    let (outcome, delivery) = outcome_of(plan)?;
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let mut term = Terminal { out: &mut out, err: &mut err, styled: deliver::styled() };
    deliver::deliver(&outcome, &delivery, &mut term)?;
    Ok(outcome.exit())
}

/// What the plan comes to, and how it is to be delivered.
fn outcome_of(plan: Plan) -> Result<(Outcome, Delivery)> {
    Ok(match plan {
        Plan::Print(text) => (Outcome::Text(text), Delivery::default()),
        Plan::Validate { files, print_config } => (validate(&files, print_config)?, Delivery::default()),
        Plan::Run(plan) => {
            let outcome = run(&plan);
            (outcome, plan.delivery)
        }
        Plan::Matrix(plan) => matrix(*plan)?,
        Plan::Capacity(plan) => {
            let outcome = search(&plan);
            (outcome, plan.delivery)
        }
        Plan::Merge { files, mut delivery } => {
            let (outcome, resolved_toml) = merge(&files)?;
            delivery.presentation.resolved_toml = resolved_toml;
            (outcome, *delivery)
        }
    })
}

/// Loads every file (and each of its variants); with one file its error is the command's.
fn validate(files: &[PathBuf], print_config: bool) -> Result<Outcome> {
    let (mut lines, mut failures) = (Vec::new(), Vec::new());
    for file in files {
        match load_with_variants(file) {
            Ok(loaded) if print_config => lines.push(loaded.resolved_toml),
            Ok(loaded) => lines.push(format!("ok: {} ({})\n", file.display(), deliver::describe(&loaded))),
            Err(error) if files.len() == 1 => return Err(error.into()),
            Err(error) => failures.push(error.to_string()),
        }
    }
    Ok(Outcome::Validated { lines, failures, files: files.len() })
}

/// Loads the base scenario, then each of its variants; the first error stops.
fn load_with_variants(file: &std::path::Path) -> std::result::Result<scenario::Loaded, ScenarioError> {
    let loaded = scenario::load(file)?;
    for variant in &loaded.variants {
        scenario::load_variant(file, Some(variant))?;
    }
    Ok(loaded)
}

fn run(plan: &RunPlan) -> Outcome {
    let job = Job { scenario: &plan.scenario, seed: plan.seed };
    match Runner::new(plan.delivery.quiet).run(&[job], "").pop().flatten() {
        Some(output) => Outcome::Run(Box::new(output)),
        None => Outcome::NotStarted,
    }
}

/// Runs the matrix (or this process's shard of it) and finishes it; a shard, or a matrix
/// cut short by Ctrl-C, becomes a shard file to merge.
fn matrix(plan: MatrixPlan) -> Result<(Outcome, Delivery)> {
    let MatrixPlan { fingerprint, configs, finish, sharding, delivery } = plan;
    if sharding.plan_only {
        return Ok((Outcome::Text(fingerprint.plan(sharding.spec)), delivery));
    }
    if let Some(out) = &delivery.out {
        // Refuse an --out folder before spending time on the runs.
        out.preflight()?;
    }
    let configs: Vec<&crate::model::Scenario> = configs.iter().collect();
    let runner = Runner::new(delivery.quiet);
    let (results, interrupted) =
        match runner.run_matrix(&configs, &fingerprint.seeds, sharding.spec, finish.keeps_series()) {
            Ok(results) => (results, false),
            Err(MatrixStop::Guard(message)) => return Err(Error::Stopped(message)),
            Err(MatrixStop::Interrupted(finished)) => (finished, true),
        };
    if !interrupted && sharding.spec.is_none() {
        return Ok((finish_matrix(finish, &fingerprint.seeds, results), delivery));
    }
    let spec = sharding.spec.unwrap_or(ShardSpec { index: 0, count: 1 });
    let path = sharding.file.unwrap_or_else(|| {
        let name = configs.first().map_or("run", |scenario| scenario.name.as_str());
        deliver::default_shard_path(name, fingerprint.purpose.command(), spec, interrupted)
    });
    let of = (0..fingerprint.n_jobs()).filter(|job| spec.owns(*job)).count();
    let threads = Some(rayon::current_num_threads() as u64);
    let file = ShardFile {
        schema_version: SCHEMA_VERSION,
        fingerprint,
        shard: spec,
        jobs: results,
        interrupted,
        threads,
    };
    Ok((Outcome::Sharded { path, file: Box::new(file), of }, delivery))
}

/// The outcome of every run of a matrix, in matrix order (configuration by configuration,
/// seed by seed): the same for a whole matrix and for merged shards.
fn finish_matrix(finish: Finish, seeds: &[u64], results: Vec<JobResult>) -> Outcome {
    match finish {
        Finish::Sweep(sweep) => {
            let runs = results.iter().map(|job| crate::sweep::metric_values(&job.summary)).collect();
            Outcome::Sweep { sweep, runs }
        }
        Finish::Check { scenario, thresholds } => {
            let outputs = outputs_of(results);
            let runs: Vec<RunView> = outputs.iter().map(RunView::new).collect();
            let report = CheckReport {
                scenario: scenario.name.clone(),
                variant: scenario.variant.clone(),
                scenario_hash: outputs
                    .first()
                    .map(|output| output.summary.scenario.hash.clone())
                    .unwrap_or_default(),
                seeds: seeds.to_vec(),
                start_clock: scenario.start_clock,
                verdicts: thresholds.iter().map(|threshold| verdict::evaluate(threshold, &runs)).collect(),
            };
            let failing = report.failing_runs();
            let failing = outputs
                .into_iter()
                .enumerate()
                .filter_map(|(run, output)| failing.contains(&run).then_some(output))
                .collect();
            Outcome::Check { report, failing }
        }
        Finish::Metastability(map) => {
            let n_seeds = seeds.len().max(1);
            let n_lengths = map.durations.values.len().max(1);
            let fates = results
                .iter()
                .enumerate()
                .map(|(job, result)| map.fate(&result.summary, (job / n_seeds) % n_lengths))
                .collect();
            Outcome::Metastability { map, fates }
        }
        Finish::Compare { baseline } => {
            let mut outputs = outputs_of(results).into_iter();
            let n_configs = outputs.len() / seeds.len().max(1);
            let runs: Vec<Vec<RunOutput>> =
                (0..n_configs).map(|_| outputs.by_ref().take(seeds.len()).collect()).collect();
            let comparison = crate::compare::compare(&baseline.name, seeds, &runs, baseline.interval);
            Outcome::Compare { comparison, runs }
        }
    }
}

/// Runs as `RunOutput`s, from the results of a matrix that kept its series.
fn outputs_of(results: Vec<JobResult>) -> Vec<RunOutput> {
    results
        .into_iter()
        .map(|job| RunOutput {
            summary: job.summary,
            series: job.series.unwrap_or_else(crate::stats::Series::empty),
            stopped: None,
        })
        .collect()
}

/// Reads the shard files, checks they make one whole matrix, and finishes it; with the
/// resolved scenario they carry.
fn merge(files: &[PathBuf]) -> Result<(Outcome, String)> {
    let mut shards = Vec::new();
    for path in files {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|error| MergeError::Unreadable { file: file.clone(), reason: error.to_string() })?;
        shards.push((file.clone(), ShardFile::parse(&file, &text)?));
    }
    let (fingerprint, jobs) = shard::merge(shards)?;
    let label = "the shards' scenario";
    let mut loaded = scenario::load_str(&fingerprint.resolved_scenario, label)?;
    loaded.scenario.variant = fingerprint.variant.clone();
    let finish = match &fingerprint.purpose {
        Purpose::Sweep { axes, metric } => Finish::Sweep(
            crate::sweep::Sweep::from_fingerprint(&fingerprint, axes, metric, &loaded.scenario.name)?
                .with_thresholds(&loaded.thresholds),
        ),
        Purpose::Check { thresholds: expressions } => {
            let n = Some(fingerprint.seeds.len() as u64);
            let (thresholds, _) = thresholds(label, expressions, n, loaded.thresholds, &loaded.scenario)?;
            Finish::Check { scenario: loaded.scenario, thresholds }
        }
        Purpose::Compare { .. } => Finish::Compare { baseline: loaded.scenario },
        Purpose::Metastability { source, factors, durations, settle } => {
            let axis = |path: &str, values: &[String]| crate::sweep::grid::Axis {
                path: format!("sources.{source}.surge.{path}"),
                values: values.to_vec(),
            };
            let refuse = |refusal: Refusal| MergeError::Plan { reason: refusal.message };
            let settle: crate::units::Duration = settle
                .parse()
                .map_err(|error| MergeError::Plan { reason: format!("settle \"{settle}\": {error}") })?;
            let map = crate::metastability::Map::new(
                &loaded,
                fingerprint.variant.clone(),
                source,
                axis("factor", factors),
                axis("over", durations),
                settle.0,
                fingerprint.seeds.clone(),
            )
            .map_err(refuse)?;
            if map.labels() != fingerprint.configs {
                return Err(MergeError::Plan {
                    reason: "the shards' map does not match their configurations".into(),
                }
                .into());
            }
            Finish::Metastability(Box::new(map))
        }
    };
    Ok((finish_matrix(finish, &fingerprint.seeds, jobs), fingerprint.resolved_scenario))
}

/// Replications when a threshold needs a confidence bound and none were asked for: as
/// many as `compare` runs by default.
pub const CONFIDENCE_REPLICATIONS: u64 = 5;

/// The file's thresholds with the command line's applied (replacing one on the same
/// measure, or added), and the replications to run: `replications` when given (refused if
/// too few for a confidence bound), else as many as the thresholds need.
pub fn thresholds(
    file: &str,
    expressions: &[String],
    replications: Option<u64>,
    mut thresholds: Vec<Threshold>,
    scenario: &crate::model::Scenario,
) -> Result<(Vec<Threshold>, u64)> {
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
        return Err(Refusal::new(format!(
            "{file} has no thresholds to check; add [[thresholds]] to it or pass --threshold \"success_rate >= 99.9%\""
        ))
        .into());
    }
    let confident = thresholds.iter().find(|threshold| threshold.statistic.confidence().is_some());
    let replications = match (replications, confident) {
        (Some(n), Some(threshold)) if n < 2 => {
            return Err(Refusal::new(format!(
                "threshold \"{threshold}\" uses a confidence bound ({}), which needs --replications 2 or more",
                threshold.statistic
            ))
            .into());
        }
        (Some(n), _) => n,
        (None, Some(_)) => CONFIDENCE_REPLICATIONS,
        (None, None) => 1,
    };
    Ok((thresholds, replications))
}

/// Bisects the range, each probe a replicated run of the scenario with the probed value.
fn search(plan: &CapacityPlan) -> Outcome {
    let flag_text = format!("{}={}", plan.param, plan.range);
    let load = |value: f64| -> Result<crate::model::Scenario> {
        let parameter = Parameter::probe("--param", &flag_text, &plan.param, &[plan.goal.literal(value)])?;
        let setting = Setting { parameter: &parameter, value: 0 };
        Ok(plan.template.load(&[setting])?.0.scenario)
    };
    let runner = Runner::new(plan.delivery.quiet);
    let mut probes = 0;
    let search = capacity::search(plan.goal, plan.replications, plan.replications * 4, |value, n| {
        let scenario = match load(value) {
            Ok(scenario) => scenario,
            Err(error) => {
                let detail = Detail { verdicts: Vec::new(), stopped: Some(error.render()) };
                return Some((capacity::Outcome::Fail, detail));
            }
        };
        probes += 1;
        let label = format!("probe {probes} · {} = {}", plan.param, plan.goal.format(value));
        let seeds = super::first_seeds(plan.first_seed, n);
        let jobs: Vec<Job> = seeds.iter().map(|&seed| Job { scenario: &scenario, seed }).collect();
        let outputs = runner.run(&jobs, &label);
        if runner.interrupted() {
            return None;
        }
        let outputs: Vec<_> = outputs.into_iter().flatten().collect();
        let stopped = jobs.iter().zip(&outputs).find_map(|(job, output)| describe_stopped(job, output));
        let runs: Vec<RunView> = outputs.iter().map(RunView::new).collect();
        let verdicts: Vec<Verdict> =
            plan.thresholds.iter().map(|threshold| verdict::evaluate(threshold, &runs)).collect();
        Some((capacity::classify(&verdicts, stopped.is_some()), Detail { verdicts, stopped }))
    });
    Outcome::Capacity(Box::new(CapacityOutcome {
        param: plan.param.clone(),
        range: plan.range.clone(),
        goal: plan.goal,
        thresholds: plan.thresholds.clone(),
        search,
    }))
}
