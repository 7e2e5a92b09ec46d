//! The one runner of simulations for every verb: runs (scenario, seed) jobs in parallel
//! with rayon, drives the one progress bar, and stops at Ctrl-C.
//!
//! Invariants: the outputs come back in the order of the jobs, whatever the thread count,
//! and each run is the same as `simulate(scenario, seed)` unless Ctrl-C cut it short.

use super::progress::{self, Progress, When};
use crate::engine::{SimDuration, SimTime};
use crate::model::Scenario;
use crate::simulation::{EarlyStop, RunOutput, Simulation};
use rayon::prelude::*;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One run to do.
#[derive(Clone, Copy, Debug)]
pub struct Job<'a> {
    pub scenario: &'a Scenario,
    pub seed: u64,
}

/// Runs simulations for one command, with its progress bar and Ctrl-C policy: the first
/// Ctrl-C (or SIGTERM) stops every run in progress at its next event and starts no new
/// one; a second exits at once (see [`super::interrupt_flag`]).
pub struct Runner {
    when: When,
    began: Instant,
    interrupt: &'static AtomicBool,
}

impl Runner {
    /// A runner with its bar hidden when `quiet`; installs the Ctrl-C handler.
    pub fn new(quiet: bool) -> Runner {
        let env = std::env::var(progress::ENV).ok();
        let when = When::resolve(quiet, env.as_deref(), std::io::stderr().is_terminal());
        Runner { when, began: Instant::now(), interrupt: super::interrupt_flag() }
    }

    /// Whether Ctrl-C (or SIGTERM) has been received.
    pub fn interrupted(&self) -> bool {
        self.interrupt.load(Ordering::Relaxed)
    }

    /// Runs every job, in parallel, under one bar labelled `label` (cleared when they are
    /// done). Returns the outputs in job order: a run cut short by Ctrl-C comes back
    /// partial (`EarlyStop::Interrupted`), a job not started by then as `None`.
    pub fn run(&self, jobs: &[Job<'_>], label: &str) -> Vec<Option<RunOutput>> {
        let total = jobs.iter().map(|job| job.scenario.duration.0.max(1)).fold(0, u64::saturating_add);
        let start_clock = jobs.first().and_then(|job| job.scenario.start_clock);
        let progress =
            Progress::new(self.when, self.began, jobs.len() as u64, SimDuration(total), start_clock, label);
        jobs.par_iter()
            .map(|job| {
                if self.interrupted() {
                    return None;
                }
                let mut simulation = Simulation::interruptible(job.scenario, job.seed, self.interrupt);
                let end = simulation.end();
                let (mut reached, mut events) = (SimTime::ZERO, 0);
                let mut slice = Slice::new(end);
                loop {
                    let began = Instant::now();
                    let more = simulation.advance(slice.next());
                    let now = simulation.now();
                    let handled = simulation.events_handled();
                    progress.advance(now.since(reached), handled - events, now);
                    (reached, events) = (now, handled);
                    if !more {
                        break;
                    }
                    slice.adapt(began.elapsed());
                }
                progress.run_done(reached, SimTime(end.0.max(reached.0)));
                Some(simulation.finish())
            })
            .collect()
    }

    /// Runs the jobs of a matrix (`configs` x `seeds`, configuration by configuration) that
    /// `shard` owns (all without one). Keeps each run's series when asked. Returns the
    /// results in job order, or why they are incomplete.
    pub fn run_matrix(
        &self,
        configs: &[&Scenario],
        seeds: &[u64],
        shard: Option<crate::shard::ShardSpec>,
        keep_series: bool,
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
        let outputs = self.run(&plain, "");
        // Runs cut short by Ctrl-C are dropped: only whole runs are results.
        let outputs: Vec<Option<RunOutput>> = outputs
            .into_iter()
            .map(|output| {
                output.filter(|output| !matches!(output.stopped, Some(EarlyStop::Interrupted { .. })))
            })
            .collect();
        let interrupted = outputs.iter().any(Option::is_none);
        if let Some(message) = plain
            .iter()
            .zip(&outputs)
            .find_map(|(job, output)| output.as_ref().and_then(|output| describe_stopped(job, output)))
        {
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
}

/// The stretches of simulated time a run is advanced in between updates of the bar: sized
/// to take between 20 and 80 ms of wall time each, however dense the scenario, so the bar
/// moves smoothly and costs nothing. The result does not depend on the slicing.
struct Slice {
    until: u64,
    width: u64,
    end: u64,
}

impl Slice {
    const FAST: Duration = Duration::from_millis(20);
    const SLOW: Duration = Duration::from_millis(80);

    fn new(end: SimTime) -> Slice {
        Slice { until: 0, width: (end.0 / 10_000).max(1), end: end.0 }
    }

    /// Where the next slice ends.
    fn next(&mut self) -> SimTime {
        self.until = self.until.saturating_add(self.width).min(self.end);
        SimTime(self.until)
    }

    /// Widens or narrows the slices after one that took `took`.
    fn adapt(&mut self, took: Duration) {
        if took < Self::FAST {
            self.width = self.width.saturating_mul(2);
        } else if took > Self::SLOW {
            self.width = (self.width / 2).max(1);
        }
    }
}

/// A run a guard stopped early, described for an error message; `None` for a whole run.
pub fn describe_stopped(job: &Job<'_>, output: &RunOutput) -> Option<String> {
    output.stopped?;
    let which = match &job.scenario.variant {
        Some(variant) => format!("variant {variant}, seed {}", job.seed),
        None => format!("seed {}", job.seed),
    };
    Some(format!(
        "the run of {which} stopped early: {}",
        output.summary.stopped_by.as_deref().unwrap_or("a guard tripped")
    ))
}

/// Why a matrix has no complete result.
#[derive(Debug)]
pub enum MatrixStop {
    /// A guard stopped a run early: described.
    Guard(String),
    /// Ctrl-C: the runs that finished before it.
    Interrupted(Vec<crate::shard::JobResult>),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_cover_the_run_and_follow_the_wall_time() {
        let mut slice = Slice::new(SimTime(1_000_000));
        assert_eq!(slice.next(), SimTime(100));
        slice.adapt(Duration::from_millis(1));
        assert_eq!(slice.next(), SimTime(300));
        slice.adapt(Duration::from_millis(500));
        assert_eq!(slice.next(), SimTime(400));
        slice.adapt(Duration::from_millis(50));
        assert_eq!(slice.next(), SimTime(500));
        for _ in 0..20 {
            slice.adapt(Duration::ZERO);
            slice.next();
        }
        assert_eq!(slice.next(), SimTime(1_000_000), "never past the end");
    }

    #[test]
    fn parallel_runs_equal_single_runs_in_job_order() {
        let loaded = crate::scenario::load_str(
            "[simulation]\nduration = \"2m\"\ninterval = \"10s\"\n[classes.a]\n[sources.s]\nclient = \"c\"\nrate = \"20/s\"\n[clients.c]\ntarget = \"x\"\n[services.x]\ninstances = 1\ncores = 1\ncpu = { dist = \"exponential\", mean = \"30ms\" }\n",
            "r.toml",
        )
        .unwrap();
        let jobs: Vec<Job> = (1..=4).map(|seed| Job { scenario: &loaded.scenario, seed }).collect();
        let outputs: Vec<RunOutput> =
            Runner::new(true).run(&jobs, "").into_iter().map(Option::unwrap).collect();
        for (job, output) in jobs.iter().zip(&outputs) {
            assert_eq!(output.summary, crate::simulate(job.scenario, job.seed).summary);
            assert!(describe_stopped(job, output).is_none());
        }
        assert_ne!(outputs[0].summary.requests.offered, outputs[1].summary.requests.offered);
    }
}
