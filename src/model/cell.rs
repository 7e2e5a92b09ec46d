//! Cells and the staged release over them.
//!
//! A cell is one copy of the cellular services serving a share of the customers; a
//! service with cells is resolved into one pool per cell (`service@cell`, like regions),
//! so pools, the autoscaler and every pool figure work per cell unchanged. A customer's
//! requests, and every downstream call they make, stay in the customer's cell: there is
//! no failover between cells, which is what bounds a bad change's blast radius.
//!
//! A release applies its change to the cells in waves, through the timeline's own
//! actions (`Action::CpuMultiplier`, `Action::ErrorRate` on each pool of the cell). After
//! each wave it bakes; its health gate then judges each cell of the wave on what the cell's
//! customers saw during the bake (their success rate, their p99 latency), and a failing
//! cell halts the rollout (and, with `rollback`, restores every cell reached). Nothing here
//! decides an outcome: the gate reads figures the simulation produced.

use super::timeline::Action;
use crate::engine::{SimDuration, SimTime};
use crate::ids::{CellId, ServiceId};
use crate::stats::{GateFigure, LatencyHistogram};

/// A cell: its name and the share of customers it serves.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub name: String,
    /// A fraction; the cells' shares sum to 1.
    pub share: f64,
}

/// A staged release over the cells.
#[derive(Clone, Debug, PartialEq)]
pub struct Release {
    /// When the first wave goes out.
    pub at: SimTime,
    pub change: Change,
    /// Per cell, the pools the change acts on (the released services' pools there).
    pub pools: Vec<Vec<ServiceId>>,
    /// Cells per wave, in order; each cell in one wave at most.
    pub waves: Vec<Vec<CellId>>,
    /// How long each wave runs before its gate judges it.
    pub bake: SimDuration,
    pub gate: Option<Gate>,
    /// On a halt, restore every cell reached to its parameters before the release.
    pub rollback: bool,
}

/// What a release changes on each pool it reaches: the timeline's parameters.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Change {
    pub cpu_multiplier: Option<f64>,
    pub error_rate: Option<f64>,
}

impl Change {
    /// The timeline actions that make the change on `service` (or, given the values
    /// before it, undo it).
    pub fn actions(self, service: ServiceId) -> impl Iterator<Item = Action> {
        let cpu = self.cpu_multiplier.map(|value| Action::CpuMultiplier { service, value });
        let errors = self.error_rate.map(|value| Action::ErrorRate { service, value });
        cpu.into_iter().chain(errors)
    }

    /// "CPU cost x1.4, 5% errors": for markers and the summary.
    pub fn describe(self) -> String {
        let mut parts = Vec::new();
        if let Some(value) = self.cpu_multiplier {
            parts.push(format!("CPU cost x{value}"));
        }
        if let Some(value) = self.error_rate {
            parts.push(format!("{}% errors", (value * 1000.0).round() / 10.0));
        }
        parts.join(", ")
    }
}

/// The health gate: a cell fails its bake when its customers' success rate falls below
/// `success_rate_below` or their p99 latency reaches `latency_p99_above`, over at least
/// `min_requests` finished requests (fewer: no evidence, it passes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gate {
    pub success_rate_below: Option<f64>,
    pub latency_p99_above: Option<SimDuration>,
    pub min_requests: u64,
}

/// What the gate saw of one cell since its wave went out: its customers' requests that
/// finished, and the latency of those that succeeded. Reset, never reallocated, per wave.
#[derive(Clone, Debug, Default)]
pub struct BakeWindow {
    succeeded: u64,
    failed: u64,
    latency: LatencyHistogram,
}

impl BakeWindow {
    #[inline]
    pub fn record(&mut self, latency: Result<SimDuration, ()>) {
        match latency {
            Ok(latency) => {
                self.succeeded += 1;
                self.latency.record(latency.0);
            }
            Err(()) => self.failed += 1,
        }
    }

    pub fn reset(&mut self) {
        self.succeeded = 0;
        self.failed = 0;
        self.latency.reset();
    }
}

impl Gate {
    /// The first check `window` fails, with the cell's figure and the threshold (a
    /// fraction for the success rate, milliseconds for latency); `None`: it passes.
    pub fn judge(&self, window: &BakeWindow) -> Option<(GateFigure, f64, f64)> {
        let finished = window.succeeded + window.failed;
        if finished == 0 || finished < self.min_requests {
            return None;
        }
        let success_rate = window.succeeded as f64 / finished as f64;
        if let Some(below) = self.success_rate_below
            && success_rate < below
        {
            return Some((GateFigure::SuccessRate, success_rate, below));
        }
        let threshold_ms = self.latency_p99_above.map(|above| above.as_secs_f64() * 1e3)?;
        let p99 = window.latency.quantile_ms(0.99)?;
        (p99 >= threshold_ms).then_some((GateFigure::LatencyP99, p99, threshold_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(succeeded: u64, failed: u64, latency_ms: u64) -> BakeWindow {
        let mut window = BakeWindow::default();
        for _ in 0..succeeded {
            window.record(Ok(SimDuration::from_millis(latency_ms)));
        }
        for _ in 0..failed {
            window.record(Err(()));
        }
        window
    }

    #[test]
    fn the_gate_halts_on_the_success_rate_then_on_latency() {
        let gate = Gate {
            success_rate_below: Some(0.99),
            latency_p99_above: Some(SimDuration::from_millis(500)),
            min_requests: 10,
        };
        assert_eq!(gate.judge(&window(990, 10, 100)), None);
        let (figure, value, threshold) = gate.judge(&window(980, 20, 100)).expect("98% < 99%");
        assert_eq!((figure, threshold), (GateFigure::SuccessRate, 0.99));
        assert!((value - 0.98).abs() < 1e-12);
        let (figure, value, _) = gate.judge(&window(1000, 0, 600)).expect("slow");
        assert_eq!(figure, GateFigure::LatencyP99);
        assert!((value - 600.0).abs() < 1.0, "{value}");
        // Too few requests is no evidence.
        assert_eq!(gate.judge(&window(0, 5, 100)), None);
        assert_eq!(gate.judge(&BakeWindow::default()), None);
    }

    #[test]
    fn a_change_is_the_timeline_actions_on_each_pool() {
        let change = Change { cpu_multiplier: Some(1.4), error_rate: Some(0.05) };
        let service = ServiceId::from_idx(3);
        let actions: Vec<Action> = change.actions(service).collect();
        assert_eq!(
            actions,
            [Action::CpuMultiplier { service, value: 1.4 }, Action::ErrorRate { service, value: 0.05 }]
        );
        assert_eq!(change.describe(), "CPU cost x1.4, 5% errors");
    }
}
