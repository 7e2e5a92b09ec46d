//! What a staged release did, as the model reports it: which wave reached which cell and
//! when, whether the health gate halted it and on what figure, when a rollback restored
//! the cells. From that record and the cells' customer shares come the summary's release
//! figures and the blast radius.
//!
//! The model decides nothing here: it writes what happened, and the blast radius is
//! arithmetic over it after the run.

use super::summary::{BlastRadius, CellRelease, GateHalt, Moment, ReleaseSummary};
use crate::engine::{SimDuration, SimTime};
use crate::ids::CellId;

/// A figure the health gate checks over a cell's bake. The model's gate computes it; it is
/// defined here, with the record that reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GateFigure {
    /// Users' requests of the cell that succeeded, over those that finished.
    SuccessRate,
    /// The 99th percentile of their latency, in milliseconds.
    LatencyP99,
}

impl GateFigure {
    pub fn name(self) -> &'static str {
        match self {
            GateFigure::SuccessRate => "success_rate",
            GateFigure::LatencyP99 => "latency_p99_ms",
        }
    }
}

/// The gate's failing check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Halt {
    pub at: SimTime,
    /// From 0.
    pub wave: u32,
    pub cell: CellId,
    pub figure: GateFigure,
    pub value: f64,
    pub threshold: f64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReleaseLog {
    change: String,
    n_waves: u32,
    waves_applied: u32,
    /// Per cell: the wave (from 0) that reached it and when.
    reached: Vec<Option<(u32, SimTime)>>,
    /// Cells in the order the waves reached them.
    order: Vec<CellId>,
    /// Per cell: when a rollback restored it.
    restored: Vec<Option<SimTime>>,
    halt: Option<Halt>,
    rolled_back: Option<SimTime>,
    complete: bool,
}

impl ReleaseLog {
    /// A release of `change` ("CPU cost x1.4") in `n_waves` waves over `n_cells` cells.
    pub fn new(n_cells: usize, change: String, n_waves: u32) -> ReleaseLog {
        ReleaseLog {
            change,
            n_waves,
            waves_applied: 0,
            reached: vec![None; n_cells],
            order: Vec::new(),
            restored: vec![None; n_cells],
            halt: None,
            rolled_back: None,
            complete: false,
        }
    }

    /// Wave `wave` (from 0) reached `cells` at `at`.
    pub fn wave_applied(&mut self, at: SimTime, wave: u32, cells: &[CellId]) {
        self.waves_applied = self.waves_applied.max(wave + 1);
        for &cell in cells {
            self.reached[cell.idx()] = Some((wave, at));
            self.order.push(cell);
        }
    }

    pub fn halted(&mut self, halt: Halt) {
        self.halt = Some(halt);
    }

    /// Every cell reached so far was restored at `at`.
    pub fn rolled_back(&mut self, at: SimTime) {
        self.rolled_back = Some(at);
        for &cell in &self.order {
            self.restored[cell.idx()].get_or_insert(at);
        }
    }

    /// The last wave passed its gate (or had none).
    pub fn completed(&mut self) {
        self.complete = true;
    }

    /// How long `cell` ran the change by `end`: from its wave to its restore or `end`.
    fn exposure(&self, cell: usize, end: SimTime) -> Option<SimDuration> {
        let (_, reached) = self.reached[cell]?;
        let until = self.restored[cell].unwrap_or(end).min(end);
        Some(until.since(reached.min(until)))
    }

    /// What the release did to `cell` by `end`; `None` if it never reached it.
    pub fn cell(&self, cell: usize, end: SimTime, start_clock: Option<SimDuration>) -> Option<CellRelease> {
        let (wave, reached) = self.reached[cell]?;
        Some(CellRelease {
            wave: wave + 1,
            reached: Moment::new(reached, start_clock),
            restored: self.restored[cell].map(|at| Moment::new(at, start_clock)),
            impacted_s: self.exposure(cell, end).unwrap_or_default().as_secs_f64(),
        })
    }

    /// The release over a run that ended at `end`; `cells` are the names and customer
    /// shares, by cell id.
    pub fn summary(
        &self,
        cells: &[(String, f64)],
        end: SimTime,
        start_clock: Option<SimDuration>,
    ) -> ReleaseSummary {
        let outcome = match (self.halt, self.complete) {
            (Some(_), _) => "halted",
            (None, true) => "complete",
            (None, false) => "in_progress",
        };
        ReleaseSummary {
            change: self.change.clone(),
            waves: self.n_waves,
            waves_applied: self.waves_applied,
            cells_reached: self.order.iter().map(|cell| cells[cell.idx()].0.clone()).collect(),
            outcome: outcome.to_string(),
            halted: self.halt.map(|halt| GateHalt {
                at: Moment::new(halt.at, start_clock),
                wave: halt.wave + 1,
                cell: cells[halt.cell.idx()].0.clone(),
                figure: halt.figure.name().to_string(),
                value: halt.value,
                threshold: halt.threshold,
            }),
            rolled_back: self.rolled_back.map(|at| Moment::new(at, start_clock)),
            blast_radius: self.blast_radius(cells, end),
        }
    }

    /// Each reached cell's customer share times its exposure, summed; over the run's
    /// length, the share of all customer-time exposed.
    fn blast_radius(&self, cells: &[(String, f64)], end: SimTime) -> BlastRadius {
        let mut customer_share = 0.0;
        let mut customer_minutes = 0.0;
        for (cell, (_, share)) in cells.iter().enumerate() {
            if let Some(exposure) = self.exposure(cell, end) {
                customer_share += share;
                customer_minutes += share * exposure.as_secs_f64() / 60.0;
            }
        }
        let run_minutes = end.0 as f64 / 60e9;
        BlastRadius {
            customer_share,
            customer_minutes,
            customer_time_share: if run_minutes > 0.0 { customer_minutes / run_minutes } else { 0.0 },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minutes(m: u64) -> SimTime {
        SimTime(m * 60_000_000_000)
    }

    fn cells() -> Vec<(String, f64)> {
        [("a", 0.1), ("b", 0.2), ("c", 0.3), ("d", 0.4)]
            .map(|(name, share)| (name.to_string(), share))
            .to_vec()
    }

    #[test]
    fn blast_radius_weights_each_reached_cell_by_its_share_and_exposure() {
        // Wave 1 reaches a at 10 min, wave 2 reaches b and c at 30 min, the gate halts at
        // 50 min and the rollback restores all three then; the run ends at 100 min.
        let mut log = ReleaseLog::new(4, "CPU cost x2".into(), 3);
        log.wave_applied(minutes(10), 0, &[CellId::from_idx(0)]);
        log.wave_applied(minutes(30), 1, &[CellId::from_idx(1), CellId::from_idx(2)]);
        log.halted(Halt {
            at: minutes(50),
            wave: 1,
            cell: CellId::from_idx(2),
            figure: GateFigure::SuccessRate,
            value: 0.9,
            threshold: 0.99,
        });
        log.rolled_back(minutes(50));
        let summary = log.summary(&cells(), minutes(100), None);
        // 0.1 x 40 + 0.2 x 20 + 0.3 x 20 = 14 share-weighted minutes.
        let blast = &summary.blast_radius;
        assert!((blast.customer_share - 0.6).abs() < 1e-12, "{blast:?}");
        assert!((blast.customer_minutes - 14.0).abs() < 1e-9, "{blast:?}");
        assert!((blast.customer_time_share - 0.14).abs() < 1e-12, "{blast:?}");
        assert_eq!(summary.outcome, "halted");
        assert_eq!(summary.cells_reached, ["a", "b", "c"]);
        let halt = summary.halted.expect("halted");
        assert_eq!((halt.wave, halt.cell.as_str(), halt.figure.as_str()), (2, "c", "success_rate"));
        assert_eq!(log.cell(0, minutes(100), None).expect("reached").impacted_s, 2400.0);
        assert!(log.cell(3, minutes(100), None).is_none());
    }

    #[test]
    fn without_rollback_exposure_runs_to_the_end() {
        let mut log = ReleaseLog::new(4, "CPU cost x2".into(), 1);
        let all: Vec<CellId> = (0..4).map(CellId::from_idx).collect();
        log.wave_applied(minutes(40), 0, &all);
        log.completed();
        let summary = log.summary(&cells(), minutes(100), None);
        assert_eq!(summary.outcome, "complete");
        assert!((summary.blast_radius.customer_minutes - 60.0).abs() < 1e-9);
        assert!((summary.blast_radius.customer_time_share - 0.6).abs() < 1e-12);
    }
}
