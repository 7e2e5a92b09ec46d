//! SLO figures, computed after the run from the interval series and the alerts that fired:
//! which intervals met the objective, and each outage episode: when it started, when it was
//! detected, when capacity came back and when the service recovered.
//!
//! Definitions (`design/metrics.md`): an interval is breached when the success rate of the
//! requests that finished in it is below the target (an interval where none finished is
//! healthy). An episode runs from a breached interval to the start of the first healthy
//! stretch at least `recovery` long after it (its recovery), or to the end of the run; the
//! next breach after a recovery starts the next episode. Time-to-detect runs from an
//! episode's start to the alert that covers it (one still firing when it began, which makes
//! it negative, or the first firing before it ends). The headline fields (`first_breach`,
//! `detected`, `recovered`, ...) are the worst episode's, the longest (an unrecovered one
//! runs to the end of the run), so a short blip at the start never hides the outage. The
//! warm-up's intervals count for none of it.

use super::series::{IntervalRow, Series};
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
    /// Start of the worst episode (its first breached interval).
    pub first_breach: Option<Moment>,
    pub detected: Option<Moment>,
    pub time_to_detect_s: Option<f64>,
    /// End of the first interval of the worst episode with more ready instances than at
    /// its start.
    pub capacity_added: Option<Moment>,
    pub recovered: Option<Moment>,
    pub time_to_recover_s: Option<f64>,
    /// Every outage episode, in time order.
    pub episodes: Vec<Episode>,
    /// Index in `episodes` of the worst (longest) one, which the fields above describe.
    pub worst_episode: Option<usize>,
    /// How many outage episodes there were (the length of `episodes`), for thresholds and
    /// comparisons.
    #[serde(default)]
    pub episode_count: u64,
    /// How long the worst episode lasted (its `duration_s`: to its recovery, or to the end
    /// of the run), 0 without one. Unlike `time_to_recover_s` it has a value when the
    /// outage never recovered, so an average over seeds leaves none out.
    #[serde(default)]
    pub worst_episode_s: f64,
}

/// One outage: from a breached interval to the start of the healthy stretch that ends it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Episode {
    pub start: Moment,
    pub detected: Option<Moment>,
    pub time_to_detect_s: Option<f64>,
    pub capacity_added: Option<Moment>,
    /// `null`: still out at the end of the run.
    pub recovered: Option<Moment>,
    pub time_to_recover_s: Option<f64>,
    /// Until recovery, or until the end of the run.
    pub duration_s: f64,
    /// Minutes of breached intervals within it.
    pub bad_minutes: f64,
}

/// `(fired, resolved)` of every alert firing, in any order.
pub type Firings<'a> = &'a [(SimTime, Option<SimTime>)];

/// An episode as row indices: its first breached row, and the first row of the healthy
/// stretch that ends it (`None`: not recovered by the end).
struct Span {
    first: usize,
    recovery: Option<usize>,
}

/// Splits the series into episodes.
fn episodes(
    rows: &[IntervalRow],
    breached: impl Fn(&IntervalRow) -> bool,
    recovery: SimDuration,
) -> Vec<Span> {
    let mut spans = Vec::new();
    let mut i = 0;
    while let Some(offset) = rows[i..].iter().position(&breached) {
        let first = i + offset;
        let mut stretch: Option<usize> = None;
        let mut recovered = None;
        for (j, row) in rows.iter().enumerate().skip(first + 1) {
            if breached(row) {
                stretch = None;
                continue;
            }
            let start = *stretch.get_or_insert(j);
            if row.end.since(rows[start].start) >= recovery {
                recovered = Some(start);
                break;
            }
        }
        spans.push(Span { first, recovery: recovered });
        match recovered {
            Some(start) => i = start,
            None => break,
        }
    }
    spans
}

pub fn evaluate(series: &Series, slo: &Slo, firings: Firings, succeeded: u64, failed: u64) -> SloSummary {
    let moment = |at: SimTime| Moment::new(at, series.start_clock);
    let breached = |row: &IntervalRow| row.total.success_rate().is_some_and(|r| r < slo.success_rate);
    // The warm-up's intervals are left out, as from every figure.
    let rows = series.measured_rows();
    let counted: Vec<_> = rows.iter().filter(|row| row.total.success_rate().is_some()).collect();
    let bad: Vec<_> = counted.iter().filter(|row| breached(row)).collect();
    let bad_ns: u64 = bad.iter().map(|row| row.end.since(row.start).0).sum();
    let finished = succeeded + failed;
    let failed_share = if finished == 0 { 0.0 } else { failed as f64 / finished as f64 };
    let budget = 1.0 - slo.success_rate;
    let run_end = rows.last().map_or(SimTime::ZERO, |row| row.end);
    let signed = |later: SimTime, earlier: SimTime| later.as_secs_f64() - earlier.as_secs_f64();

    let episodes: Vec<Episode> = episodes(rows, breached, slo.recovery)
        .into_iter()
        .map(|span| {
            let start = rows[span.first].start;
            let end = span.recovery.map_or(run_end, |row| rows[row].start);
            let covering = firings
                .iter()
                .filter(|(fired, resolved)| *fired <= start && resolved.is_none_or(|r| r > start));
            let during = firings.iter().filter(|(fired, _)| *fired >= start && *fired < end);
            let detected = covering.chain(during).map(|(fired, _)| *fired).min();
            let at_start: Vec<u32> = rows[span.first].services.iter().map(|s| s.instances_ready).collect();
            let capacity_added = rows[span.first + 1..]
                .iter()
                .take_while(|row| row.start < end)
                .find(|row| row.services.iter().zip(&at_start).any(|(s, &before)| s.instances_ready > before))
                .map(|row| row.end);
            let recovered = span.recovery.map(|row| rows[row].start);
            let bad_ns: u64 = rows[span.first..span.recovery.unwrap_or(rows.len())]
                .iter()
                .filter(|row| breached(row))
                .map(|row| row.end.since(row.start).0)
                .sum();
            Episode {
                start: moment(start),
                detected: detected.map(moment),
                time_to_detect_s: detected.map(|d| signed(d, start)),
                capacity_added: capacity_added.map(moment),
                recovered: recovered.map(moment),
                time_to_recover_s: recovered.map(|r| signed(r, start)),
                duration_s: signed(end, start),
                bad_minutes: bad_ns as f64 / 60e9,
            }
        })
        .collect();
    // The longest; the earliest of equals.
    let worst_episode = episodes
        .iter()
        .enumerate()
        .rev()
        .max_by(|(_, a), (_, b)| a.duration_s.total_cmp(&b.duration_s))
        .map(|(index, _)| index);
    let worst = worst_episode.map(|index| &episodes[index]);
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
        first_breach: worst.map(|episode| episode.start.clone()),
        detected: worst.and_then(|episode| episode.detected.clone()),
        time_to_detect_s: worst.and_then(|episode| episode.time_to_detect_s),
        capacity_added: worst.and_then(|episode| episode.capacity_added.clone()),
        recovered: worst.and_then(|episode| episode.recovered.clone()),
        time_to_recover_s: worst.and_then(|episode| episode.time_to_recover_s),
        episode_count: episodes.len() as u64,
        worst_episode_s: worst.map_or(0.0, |episode| episode.duration_s),
        episodes,
        worst_episode,
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
            warmup: SimDuration::ZERO,
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
    fn two_outages_are_two_episodes_and_the_headline_is_the_longest() {
        let slo = Slo { success_rate: 0.99, recovery: SimDuration::from_secs(180) };
        let minute = |m: u64| SimTime(m * 60_000_000_000);
        // A blip at minute 0 (a limiter shedding its first requests), healthy 1-4, an outage
        // 5-9 with a fine minute 7 inside it, healthy 10-13.
        let mut rates = vec![(100, 0); 14];
        for m in [0, 5, 6, 8, 9] {
            rates[m] = (10, 90);
        }
        let ready = [2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3];
        // The first alert fires at minute 4, after the blip ended: it detects the outage.
        let firings = [(minute(4), Some(minute(12)))];
        let summary = evaluate(&series(&rates, &ready), &slo, &firings, 0, 0);
        assert_eq!(summary.episodes.len(), 2, "{:?}", summary.episodes);
        let (blip, outage) = (&summary.episodes[0], &summary.episodes[1]);
        assert_eq!((blip.start.t_s, blip.time_to_recover_s, blip.duration_s), (0.0, Some(60.0), 60.0));
        assert_eq!(blip.detected, None, "an alert after the blip recovered does not detect it");
        assert_eq!((outage.start.t_s, outage.time_to_recover_s), (300.0, Some(300.0)));
        assert!((outage.bad_minutes - 4.0).abs() < 1e-12, "minute 7 is inside but not bad");
        assert_eq!(outage.time_to_detect_s, Some(-60.0), "already firing when it began");
        assert_eq!(outage.capacity_added.as_ref().unwrap().t_s, 540.0);
        assert_eq!(summary.worst_episode, Some(1));
        assert_eq!(summary.first_breach, Some(outage.start.clone()));
        assert_eq!(summary.time_to_recover_s, Some(300.0));
        assert!((summary.bad_minutes - 5.0).abs() < 1e-12);
    }

    #[test]
    fn an_outage_that_never_recovers_runs_to_the_end_and_is_the_worst() {
        let slo = Slo { success_rate: 0.99, recovery: SimDuration::from_secs(120) };
        let rates = [(0, 1), (0, 1), (0, 1), (1, 0), (1, 0), (1, 0), (0, 1), (0, 1)];
        let summary = evaluate(&series(&rates, &[1; 8]), &slo, &[], 0, 0);
        assert_eq!(summary.episodes.len(), 2);
        assert_eq!(summary.episodes[0].duration_s, 180.0);
        let last = &summary.episodes[1];
        assert_eq!((last.recovered.clone(), last.duration_s), (None, 120.0));
        assert_eq!(summary.worst_episode, Some(0), "the longest, though the last never recovered");
        assert_eq!(summary.time_to_recover_s, Some(180.0));
    }

    #[test]
    fn the_warm_up_counts_for_no_slo_figure() {
        let slo = Slo { success_rate: 0.99, recovery: SimDuration::from_secs(120) };
        // Minutes 0-1 breached (a cold start), 2-5 fine, 6 breached, 7-9 fine.
        let rates = [(0, 1), (0, 1), (1, 0), (1, 0), (1, 0), (1, 0), (0, 1), (1, 0), (1, 0), (1, 0)];
        let mut series = series(&rates, &[1; 10]);
        let whole = evaluate(&series, &slo, &[], 0, 0);
        assert_eq!((whole.episode_count, whole.worst_episode_s), (2, 120.0));
        series.warmup = SimDuration::from_secs(120);
        let measured = evaluate(&series, &slo, &[], 0, 0);
        assert_eq!((measured.intervals, measured.intervals_met), (8, 7));
        assert_eq!((measured.episode_count, measured.worst_episode_s), (1, 60.0));
        assert_eq!(measured.first_breach.unwrap().t_s, 360.0);
        assert!((measured.bad_minutes - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_healthy_run_has_no_breach() {
        let slo = Slo { success_rate: 1.0, recovery: SimDuration::from_secs(60) };
        let summary = evaluate(&series(&[(5, 0), (0, 0)], &[1, 1]), &slo, &[], 5, 0);
        assert_eq!((summary.intervals, summary.fraction_met), (1, 1.0));
        assert!(summary.first_breach.is_none() && summary.recovered.is_none());
        assert!(summary.episodes.is_empty() && summary.worst_episode.is_none());
        assert_eq!((summary.episode_count, summary.worst_episode_s), (0, 0.0));
        assert_eq!(summary.error_budget_burn, None);
    }
}
