//! Runs many (scenario, seed) pairs in parallel with rayon, with one progress bar for all,
//! for the verbs that replicate (`check`, `compare`).
//!
//! Invariant: the outputs come back in the order of the jobs, whatever the thread count,
//! and each run is the same as `simulate(scenario, seed)`.

use super::progress::RunsProgress;
use crate::engine::SimTime;
use crate::model::Scenario;
use crate::simulation::{RunOutput, Simulation};
use rayon::prelude::*;
use std::sync::atomic::{AtomicBool, Ordering};

/// Slices each run is advanced in, for the progress bar.
const SLICES: u64 = 50;

/// One run to do.
#[derive(Clone, Copy, Debug)]
pub struct Job<'a> {
    pub scenario: &'a Scenario,
    pub seed: u64,
}

/// Runs every job, in parallel, and returns their outputs in job order.
pub fn run_all(jobs: &[Job<'_>], quiet: bool) -> Vec<RunOutput> {
    static NEVER: AtomicBool = AtomicBool::new(false);
    run_all_interruptible(jobs, quiet, &NEVER)
        .into_iter()
        .map(|output| output.expect("never interrupted"))
        .collect()
}

/// Runs every job, in parallel, until `interrupt` is set: a run in progress then stops at
/// its next event and is dropped, and no new run starts. Returns the finished runs'
/// outputs in job order, `None` for the others.
pub fn run_all_interruptible(
    jobs: &[Job<'_>],
    quiet: bool,
    interrupt: &AtomicBool,
) -> Vec<Option<RunOutput>> {
    let longest = jobs.iter().map(|job| job.scenario.duration.0).max().unwrap_or(0);
    let progress = RunsProgress::start(jobs.len() as u64, SimTime(longest), quiet);
    let outputs = jobs
        .par_iter()
        .map(|job| {
            if interrupt.load(Ordering::Relaxed) {
                return None;
            }
            let mut simulation = Simulation::interruptible(job.scenario, job.seed, interrupt);
            let end = simulation.end();
            let mut reached = SimTime::ZERO;
            for slice in 1..=SLICES {
                let until = SimTime((u128::from(end.0) * u128::from(slice) / u128::from(SLICES)) as u64);
                let more = simulation.advance(until);
                progress.advance(simulation.now().since(reached));
                reached = simulation.now();
                if !more {
                    break;
                }
            }
            progress.run_done();
            let output = simulation.finish();
            let interrupted =
                matches!(output.stopped, Some(crate::simulation::EarlyStop::Interrupted { .. }));
            (!interrupted).then_some(output)
        })
        .collect();
    progress.finish();
    outputs
}

/// The first run a guard stopped early, described for an error message.
pub fn first_stopped(jobs: &[Job<'_>], outputs: &[RunOutput]) -> Option<String> {
    jobs.iter().zip(outputs).find(|(_, output)| output.stopped.is_some()).map(|(job, output)| {
        let which = match &job.scenario.variant {
            Some(variant) => format!("variant {variant}, seed {}", job.seed),
            None => format!("seed {}", job.seed),
        };
        format!(
            "the run of {which} stopped early: {}",
            output.summary.stopped_by.as_deref().unwrap_or("a guard tripped")
        )
    })
}

/// Why a matrix has no complete result.
#[derive(Debug)]
pub enum MatrixStop {
    /// A guard stopped a run early: described.
    Guard(String),
    /// Ctrl-C: the runs that finished before it.
    Interrupted(Vec<crate::shard::JobResult>),
}

/// Runs the jobs of a matrix (`configs` x `seeds`, configuration by configuration) that
/// `shard` owns (all without one), in parallel, until Ctrl-C. Keeps each run's series when
/// asked. Returns the results in job order, or why they are incomplete.
pub fn run_matrix(
    configs: &[&Scenario],
    seeds: &[u64],
    shard: Option<crate::shard::ShardSpec>,
    keep_series: bool,
    quiet: bool,
) -> Result<Vec<crate::shard::JobResult>, MatrixStop> {
    let mut jobs = Vec::new();
    for (config, scenario) in configs.iter().enumerate() {
        for (seed_idx, &seed) in seeds.iter().enumerate() {
            let job = config * seeds.len() + seed_idx;
            if shard.is_none_or(|spec| spec.owns(job)) {
                jobs.push((job, config, Job { scenario, seed }));
            }
        }
    }
    let plain: Vec<Job> = jobs.iter().map(|(_, _, job)| *job).collect();
    let outputs = run_all_interruptible(&plain, quiet, super::interrupt_flag());
    let interrupted = outputs.iter().any(Option::is_none);
    let finished: Vec<(Job, RunOutput)> = plain
        .iter()
        .zip(&outputs)
        .filter_map(|(job, output)| output.clone().map(|output| (*job, output)))
        .collect();
    let (finished_jobs, finished_outputs): (Vec<Job>, Vec<RunOutput>) = finished.into_iter().unzip();
    if let Some(message) = first_stopped(&finished_jobs, &finished_outputs) {
        return Err(MatrixStop::Guard(message));
    }
    let results = jobs
        .into_iter()
        .zip(outputs)
        .filter_map(|((job, config, Job { seed, .. }), output)| {
            output.map(|output| crate::shard::JobResult {
                job,
                config,
                seed,
                summary: output.summary,
                series: keep_series.then_some(output.series),
            })
        })
        .collect();
    if interrupted { Err(MatrixStop::Interrupted(results)) } else { Ok(results) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_runs_equal_single_runs_in_job_order() {
        let loaded = crate::scenario::load_str(
            "[simulation]\nduration = \"2m\"\ninterval = \"10s\"\n[classes.a]\n[sources.s]\nclient = \"c\"\nrate = \"20/s\"\n[clients.c]\ntarget = \"x\"\n[services.x]\ninstances = 1\ncores = 1\ncpu = { dist = \"exponential\", mean = \"30ms\" }\n",
            "r.toml",
        )
        .unwrap();
        let jobs: Vec<Job> = (1..=4).map(|seed| Job { scenario: &loaded.scenario, seed }).collect();
        let outputs = run_all(&jobs, true);
        for (job, output) in jobs.iter().zip(&outputs) {
            assert_eq!(output.summary, crate::simulate(job.scenario, job.seed).summary);
        }
        assert_ne!(outputs[0].summary.requests.offered, outputs[1].summary.requests.offered);
        assert!(first_stopped(&jobs, &outputs).is_none());
    }
}
