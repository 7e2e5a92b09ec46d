//! SLO figures, computed after the run from the interval series and the alerts that fired:
//! which intervals met the objective, when failures started, when they were detected, when
//! capacity came back and when the service recovered.
//!
//! Definitions (`design/metrics.md`): an interval is breached when the success rate of the
//! requests that finished in it is below the target (an interval where none finished is
//! healthy); time-to-detect runs from the first breach to the alert that covers it (the
//! first firing after it, or one still firing when it began, which makes it negative);
//! time-to-recover runs from the first breach to the start of the first healthy stretch at
//! least `recovery` long.

use super::series::Series;
use crate::engine::{SimDuration, SimTime, time::clock_time};
use serde::{Deserialize, Serialize};

/// The service level objective the SLO figures are computed against (the scenario's `[slo]`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Slo {
    /// An interval meets the SLO when its success rate is at least this.
    pub success_rate: f64,
    /// A healthy stretch this long ends an outage (time-to-recover).
    pub recovery: SimDuration,
}

impl Default for Slo {
    fn default() -> Slo {
        Slo { success_rate: 0.999, recovery: SimDuration::from_secs(600) }
    }
}

/// A moment of the run: seconds from the start, and the clock time when the scenario has one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Moment {
    pub t_s: f64,
    pub clock: Option<String>,
}

impl Moment {
    pub fn new(at: SimTime, start_clock: Option<SimDuration>) -> Moment {
        Moment { t_s: at.as_secs_f64(), clock: start_clock.map(|start| clock_time(start, at)) }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SloSummary {
    pub target_success_rate: f64,
    pub interval_s: f64,
    pub intervals: u64,
    pub intervals_met: u64,
    /// intervals_met / intervals (1 when there were none).
    pub fraction_met: f64,
    /// Minutes of breached intervals.
    pub bad_minutes: f64,
    /// Failed share of finished requests over the error budget (1 - target): 1 spends
    /// exactly the budget. `null` for a 100% target.
    pub error_budget_burn: Option<f64>,
    pub first_breach: Option<Moment>,
    pub detected: Option<Moment>,
    pub time_to_detect_s: Option<f64>,
    /// End of the first interval after the first breach with more ready instances than
    /// during it.
    pub capacity_added: Option<Moment>,
    pub recovered: Option<Moment>,
    pub time_to_recover_s: Option<f64>,
}

/// `(fired, resolved)` of every alert firing, in any order.
pub type Firings<'a> = &'a [(SimTime, Option<SimTime>)];

pub fn evaluate(series: &Series, slo: &Slo, firings: Firings, succeeded: u64, failed: u64) -> SloSummary {
    let moment = |at: SimTime| Moment::new(at, series.start_clock);
    let breached =
        |row: &super::series::IntervalRow| row.total.success_rate().is_some_and(|r| r < slo.success_rate);
    let counted: Vec<_> = series.rows.iter().filter(|row| row.total.success_rate().is_some()).collect();
    let bad: Vec<_> = counted.iter().filter(|row| breached(row)).collect();
    let bad_ns: u64 = bad.iter().map(|row| row.end.since(row.start).0).sum();
    let finished = succeeded + failed;
    let failed_share = if finished == 0 { 0.0 } else { failed as f64 / finished as f64 };
    let budget = 1.0 - slo.success_rate;

    let first = series.rows.iter().position(breached);
    let first_breach = first.map(|i| series.rows[i].start);
    let detected = first_breach.and_then(|breach| {
        let covering = firings
            .iter()
            .filter(|(fired, resolved)| *fired <= breach && resolved.is_none_or(|r| r > breach));
        let after = firings.iter().filter(|(fired, _)| *fired >= breach);
        covering.chain(after).map(|(fired, _)| *fired).min()
    });
    let capacity_added = first.and_then(|i| {
        let at_breach: Vec<u32> = series.rows[i].services.iter().map(|s| s.instances_ready).collect();
        series.rows[i + 1..]
            .iter()
            .find(|row| row.services.iter().zip(&at_breach).any(|(s, &before)| s.instances_ready > before))
            .map(|row| row.end)
    });
    let recovered = first.and_then(|i| {
        let mut stretch: Option<SimTime> = None;
        for row in &series.rows[i + 1..] {
            if breached(row) {
                stretch = None;
                continue;
            }
            let start = *stretch.get_or_insert(row.start);
            if row.end.since(start) >= slo.recovery {
                return Some(start);
            }
        }
        None
    });
    let signed = |later: SimTime, earlier: SimTime| later.as_secs_f64() - earlier.as_secs_f64();
    SloSummary {
        target_success_rate: (slo.success_rate * 1e12).round() / 1e12,
        interval_s: series.interval.as_secs_f64(),
        intervals: counted.len() as u64,
        intervals_met: (counted.len() - bad.len()) as u64,
        fraction_met: if counted.is_empty() {
            1.0
        } else {
            (counted.len() - bad.len()) as f64 / counted.len() as f64
        },
        bad_minutes: bad_ns as f64 / 60e9,
        error_budget_burn: (budget > 0.0).then(|| failed_share / budget),
        first_breach: first_breach.map(moment),
        detected: detected.map(moment),
        time_to_detect_s: detected.zip(first_breach).map(|(d, b)| signed(d, b)),
        capacity_added: capacity_added.map(moment),
        recovered: recovered.map(moment),
        time_to_recover_s: recovered.zip(first_breach).map(|(r, b)| signed(r, b)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::series::{IntervalRow, RequestFigures, ServiceFigures};

    fn series(rates: &[(u64, u64)], ready: &[u32]) -> Series {
        let minute = 60_000_000_000;
        let rows = rates
            .iter()
            .zip(ready)
            .enumerate()
            .map(|(i, (&(ok, bad), &ready))| {
                let mut total = RequestFigures { succeeded: ok, ..RequestFigures::default() };
                total.failed[0] = bad;
                IntervalRow {
                    start: SimTime(i as u64 * minute),
                    end: SimTime((i as u64 + 1) * minute),
                    total,
                    classes: vec![],
                    services: vec![ServiceFigures { instances_ready: ready, ..ServiceFigures::default() }],
                    clients: vec![],
                    regions: vec![],
                    cells: vec![],
                }
            })
            .collect();
        Series {
            interval: SimDuration(minute),
            start_clock: Some(SimDuration::from_secs(8 * 3600)),
            class_names: vec![],
            service_names: vec!["api".into()],
            client_names: vec![],
            region_names: vec![],
            cell_names: vec![],
            rows,
            markers: vec![],
            slo: None,
            metrics_fault: vec![],
            providers: vec![],
            calendar: None,
        }
    }

    #[test]
    fn breach_detection_capacity_and_recovery() {
        let slo = Slo { success_rate: 0.99, recovery: SimDuration::from_secs(180) };
        // Minutes 0-1 fine, 2-4 breached, 5 fine, 6 breached, 7-9 fine; capacity at minute 4.
        let rates = [
            (100, 0),
            (100, 0),
            (50, 50),
            (10, 90),
            (60, 40),
            (100, 0),
            (90, 10),
            (100, 0),
            (100, 0),
            (100, 0),
        ];
        let ready = [4, 4, 4, 4, 6, 6, 6, 6, 6, 6];
        let minute = |m: u64| SimTime(m * 60_000_000_000);
        let firings = [(minute(4), Some(minute(7)))];
        let summary = evaluate(&series(&rates, &ready), &slo, &firings, 810, 190);
        assert_eq!(summary.intervals, 10);
        assert_eq!(summary.intervals_met, 6);
        assert!((summary.bad_minutes - 4.0).abs() < 1e-12);
        assert_eq!(summary.first_breach, Some(Moment { t_s: 120.0, clock: Some("08:02:00".into()) }));
        assert_eq!(summary.time_to_detect_s, Some(120.0));
        assert_eq!(summary.capacity_added.unwrap().t_s, 300.0, "end of minute 4");
        assert_eq!(summary.recovered.unwrap().t_s, 420.0, "minute 5 alone is too short; 7-9 is 3 min");
        assert_eq!(summary.time_to_recover_s, Some(300.0));
        assert!((summary.error_budget_burn.unwrap() - 19.0).abs() < 1e-9);
    }

    #[test]
    fn an_alert_already_firing_detects_before_the_breach() {
        let slo = Slo { success_rate: 0.99, recovery: SimDuration::from_secs(60) };
        let minute = |m: u64| SimTime(m * 60_000_000_000);
        let firings = [(minute(0), None)];
        let summary = evaluate(&series(&[(1, 0), (0, 1), (1, 0)], &[1, 1, 1]), &slo, &firings, 2, 1);
        assert_eq!(summary.time_to_detect_s, Some(-60.0));
        assert_eq!(summary.time_to_recover_s, Some(60.0));
        assert!(summary.capacity_added.is_none());
    }

    #[test]
    fn a_healthy_run_has_no_breach() {
        let slo = Slo { success_rate: 1.0, recovery: SimDuration::from_secs(60) };
        let summary = evaluate(&series(&[(5, 0), (0, 0)], &[1, 1]), &slo, &[], 5, 0);
        assert_eq!((summary.intervals, summary.fraction_met), (1, 1.0));
        assert!(summary.first_breach.is_none() && summary.recovered.is_none());
        assert_eq!(summary.error_budget_burn, None);
    }
}
