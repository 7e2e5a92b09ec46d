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
    let longest = jobs.iter().map(|job| job.scenario.duration.0).max().unwrap_or(0);
    let progress = RunsProgress::start(jobs.len() as u64, SimTime(longest), quiet);
    let outputs = jobs
        .par_iter()
        .map(|job| {
            let mut simulation = Simulation::new(job.scenario, job.seed);
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
            simulation.finish()
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

/// Runs the jobs of a matrix (`configs` x `seeds`, configuration by configuration) that
/// `shard` owns (all without one), in parallel. Keeps each run's series when asked.
/// Returns the results in job order, or the first early stop, described.
pub fn run_matrix(
    configs: &[&Scenario],
    seeds: &[u64],
    shard: Option<crate::shard::ShardSpec>,
    keep_series: bool,
    quiet: bool,
) -> Result<Vec<crate::shard::JobResult>, String> {
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
    let outputs = run_all(&plain, quiet);
    if let Some(message) = first_stopped(&plain, &outputs) {
        return Err(message);
    }
    Ok(jobs
        .into_iter()
        .zip(outputs)
        .map(|((job, config, Job { seed, .. }), output)| crate::shard::JobResult {
            job,
            config,
            seed,
            summary: output.summary,
            series: keep_series.then_some(output.series),
        })
        .collect())
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
