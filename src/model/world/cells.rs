//! Where cells meet the request path, and the staged release runs.
//!
//! A user's request is homed in a cell drawn from the customer shares (each source and the
//! backlogs on a stream of their own, so cells shift no other draw); `Client::pool_in`
//! then sends every attempt of it, and of the downstream calls it makes, to its cell's
//! pool. The release is one `Event::Release` timer: it applies a wave through the
//! timeline's own actions, then at the end of the bake its gate judges the wave's cells on
//! what their customers saw, and the rollout goes on, completes, or halts (and may roll
//! back). Releases are rare, so these handlers may allocate; recording an outcome does not.

use super::World;
use crate::engine::{RngStreams, Sim, SimDuration, StreamRng};
use crate::model::cell::BakeWindow;
use crate::model::event::Event;
use crate::model::ids::{CellId, ServiceId, SourceId};
use crate::model::source::ClassMix;
use crate::model::spec::Scenario;
use crate::model::timeline::Action;
use crate::outcome::FailureReason;
use crate::stats::release::Halt;
use crate::stats::{MarkerKind, ReleaseLog};

/// The cells' runtime state: empty (and never consulted) without cells.
pub(super) struct CellState {
    /// The customer shares; `None` without cells.
    mix: Option<ClassMix>,
    /// Per source, the draws of its requests' cells; then the backlogs'.
    source_rngs: Vec<StreamRng>,
    backlog_rng: StreamRng,
    rollout: Option<Rollout>,
}

/// How far the release has gone.
struct Rollout {
    /// The wave baking now (from 0); `None` before the first.
    baking: Option<usize>,
    /// Per cell: what its customers saw since its wave went out.
    windows: Vec<BakeWindow>,
    /// Each pool reached, with its CPU multiplier and error rate before the change.
    previous: Vec<(ServiceId, f64, f64)>,
}

impl CellState {
    pub fn new(scenario: &Scenario, streams: &RngStreams) -> CellState {
        let with_cells = !scenario.cells.is_empty();
        CellState {
            mix: with_cells.then(|| ClassMix::new(scenario.cells.iter().map(|cell| cell.share))),
            source_rngs: match with_cells {
                true => scenario
                    .sources
                    .iter()
                    .map(|source| streams.stream(&format!("source/{}/cell", source.name)))
                    .collect(),
                false => Vec::new(),
            },
            backlog_rng: streams.stream("backlogs/cell"),
            rollout: scenario.release.as_ref().map(|_| Rollout {
                baking: None,
                windows: vec![BakeWindow::default(); scenario.cells.len()],
                previous: Vec::new(),
            }),
        }
    }
}

/// The release's record for the recorder, if the scenario has one.
pub(super) fn release_log(scenario: &Scenario) -> Option<ReleaseLog> {
    let release = scenario.release.as_ref()?;
    Some(ReleaseLog::new(scenario.cells.len(), release.change.describe(), release.waves.len() as u32))
}

impl World<'_> {
    /// A new user's request's cell, drawn from the customer shares on the source's stream
    /// (a backlog job's when `source` is `None`); `None` without cells.
    #[inline]
    pub(super) fn draw_cell(&mut self, source: Option<SourceId>) -> Option<CellId> {
        let cells = &mut self.cells;
        let mix = cells.mix.as_ref()?;
        let rng = match source {
            Some(source) => &mut cells.source_rngs[source.idx()],
            None => &mut cells.backlog_rng,
        };
        Some(CellId::from_idx(mix.pick_slot(rng)))
    }

    /// A user's request of `cell` finished for good: its cell's figures, and the gate's
    /// window, learn the outcome.
    #[inline]
    pub(super) fn cell_finished(&mut self, cell: CellId, outcome: Result<SimDuration, FailureReason>) {
        match outcome {
            Ok(latency) => self.recorder.cell_succeeded(cell, latency),
            Err(reason) => self.recorder.cell_failed(cell, reason),
        }
        if let Some(rollout) = &mut self.cells.rollout {
            rollout.windows[cell.idx()].record(outcome.map_err(|_| ()));
        }
    }

    /// Queues the release's first wave.
    pub(super) fn schedule_release(&mut self, sim: &mut Sim<Event>) {
        if let Some(release) = &self.scenario.release {
            sim.schedule(release.at, Event::Release);
        }
    }

    /// The release's timer: the first wave goes out, or a wave's bake is over and its
    /// gate decides whether the next goes out.
    pub(super) fn on_release(&mut self, sim: &mut Sim<Event>) {
        let Some(release) = &self.scenario.release else { return };
        let Some(rollout) = &self.cells.rollout else { return };
        let next = match rollout.baking {
            None => 0,
            Some(baked) => {
                if let Some(halt) = self.judge(sim, baked) {
                    self.halt(sim, halt);
                    return;
                }
                if baked + 1 == release.waves.len() {
                    self.recorder.release().expect("a release has a log").completed();
                    self.recorder.mark(sim.now(), MarkerKind::Release, "release complete".into());
                    return;
                }
                baked + 1
            }
        };
        self.apply_wave(sim, next);
        sim.schedule_in(release.bake, Event::Release);
    }

    /// The wave's cells take the change: each pool through the timeline's own actions,
    /// after its parameters before the change are kept for a rollback.
    fn apply_wave(&mut self, sim: &mut Sim<Event>, wave: usize) {
        let release = self.scenario.release.as_ref().expect("a release is running");
        let cells = &release.waves[wave];
        let rollout = self.cells.rollout.as_mut().expect("a release has a rollout");
        rollout.baking = Some(wave);
        for &cell in cells {
            rollout.windows[cell.idx()].reset();
            for &pool in &release.pools[cell.idx()] {
                let state = &self.services[pool.idx()];
                rollout.previous.push((pool, state.cpu_multiplier, state.error_rate));
            }
        }
        for &cell in cells {
            for &pool in &release.pools[cell.idx()] {
                for action in release.change.actions(pool) {
                    self.apply(sim, &action);
                }
            }
        }
        let names: Vec<&str> =
            cells.iter().map(|cell| self.scenario.cells[cell.idx()].name.as_str()).collect();
        let label = format!(
            "release wave {}/{}: {} ({})",
            wave + 1,
            release.waves.len(),
            names.join(", "),
            release.change.describe()
        );
        self.recorder.mark(sim.now(), MarkerKind::Release, label);
        let log = self.recorder.release().expect("a release has a log");
        log.wave_applied(sim.now(), wave as u32, cells);
    }

    /// The first cell of the wave whose bake fails the gate, with the failing figure.
    fn judge(&self, sim: &Sim<Event>, wave: usize) -> Option<Halt> {
        let release = self.scenario.release.as_ref()?;
        let gate = release.gate.as_ref()?;
        let rollout = self.cells.rollout.as_ref()?;
        release.waves[wave].iter().find_map(|&cell| {
            let (figure, value, threshold) = gate.judge(&rollout.windows[cell.idx()])?;
            Some(Halt { at: sim.now(), wave: wave as u32, cell, figure, value, threshold })
        })
    }

    /// The gate stops the rollout; with `rollback`, every pool reached gets its
    /// parameters back through the same timeline actions.
    fn halt(&mut self, sim: &mut Sim<Event>, halt: Halt) {
        let release = self.scenario.release.as_ref().expect("a release is running");
        let cell = &self.scenario.cells[halt.cell.idx()].name;
        let seen = match halt.figure {
            crate::stats::GateFigure::SuccessRate => {
                format!("success rate {:.2}% < {}%", halt.value * 100.0, halt.threshold * 100.0)
            }
            crate::stats::GateFigure::LatencyP99 => {
                format!("p99 {:.0} ms >= {} ms", halt.value, halt.threshold)
            }
        };
        let label = format!("release gate halts wave {}: {cell} {seen}", halt.wave + 1);
        self.recorder.mark(sim.now(), MarkerKind::Alert, label);
        self.recorder.release().expect("a release has a log").halted(halt);
        if !release.rollback {
            return;
        }
        let previous = std::mem::take(&mut self.cells.rollout.as_mut().expect("a rollout").previous);
        for &(service, cpu_multiplier, error_rate) in &previous {
            if release.change.cpu_multiplier.is_some() {
                self.apply(sim, &Action::CpuMultiplier { service, value: cpu_multiplier });
            }
            if release.change.error_rate.is_some() {
                self.apply(sim, &Action::ErrorRate { service, value: error_rate });
            }
        }
        self.recorder.mark(sim.now(), MarkerKind::Release, "release rolled back".into());
        self.recorder.release().expect("a release has a log").rolled_back(sim.now());
    }
}
