//! Build, then run: the one entry point from a resolved scenario to results.
//!
//! (Stub: the model is being written; the signatures below are the contract.)

use crate::engine::SimTime;
use crate::model::Scenario;
use crate::stats::{Series, Summary};

/// Everything a finished (or guard-stopped) run produced.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// `summary.partial` is true when a guard stopped the run early.
    pub summary: Summary,
    pub series: Series,
}

/// A run in progress, advanced in slices so a caller can show progress between them.
pub struct Simulation<'a> {
    scenario: &'a Scenario,
    seed: u64,
}

impl<'a> Simulation<'a> {
    pub fn new(scenario: &'a Scenario, seed: u64) -> Simulation<'a> {
        Simulation { scenario, seed }
    }

    /// Where the run ends (the scenario's duration).
    pub fn end(&self) -> SimTime {
        SimTime(self.scenario.duration.0)
    }

    /// The simulated time reached so far.
    pub fn now(&self) -> SimTime {
        let _ = self.seed;
        todo!()
    }

    /// Runs up to `until` (capped at the end). Returns false once the run is over, either
    /// at its end or because a guard stopped it.
    pub fn advance(&mut self, _until: SimTime) -> bool {
        todo!()
    }

    pub fn finish(self) -> RunOutput {
        todo!()
    }
}

/// Runs a scenario to its end with `seed`.
pub fn simulate(scenario: &Scenario, seed: u64) -> RunOutput {
    let mut sim = Simulation::new(scenario, seed);
    while sim.advance(sim.end()) {}
    sim.finish()
}
