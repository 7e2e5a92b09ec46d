//! Metastability maps: over a grid of a surge's size (its `factor`) and length (its
//! `over`), the share of seeds whose service is still out a stated time after the surge
//! has ended, and how long the others took to recover.
//!
//! A run's fate is read from its SLO episodes (`stats::slo`), so "out" means what it means
//! on every other verb: inside an outage episode, from a breached interval to the start of a
//! healthy stretch of the SLO's `recovery`. A run is *collapsed* when it is inside an episode
//! at the judging instant, `settle` after the surge ends; the trigger is gone by then, so
//! what holds it down is the system's own feedback (retries, wasted work). A run that
//! recovers did so at the start of its healthy stretch; its recovery time runs from the
//! surge's end (0 when the surge caused no outage that outlived it).
//!
//! Invariant: outputs are a pure function of the `Map` and the runs' summaries in matrix
//! order (cell by cell, seed by seed), so a merged sharded map writes the same bytes.

use crate::engine::{SimDuration, SimTime};
use crate::refusal::Refusal;
use crate::shard::Purpose;
use crate::stats::Summary;
use crate::stats::confidence::{Z_95, wilson};
use crate::sweep::grid::Axis;

/// Share of collapsed seeds at which a cell is on the collapsed side of the boundary.
pub const BOUNDARY_SHARE: f64 = 0.5;

/// What a map is, as its outputs need it.
#[derive(Clone, Debug, PartialEq)]
pub struct Map {
    pub scenario: String,
    pub variant: Option<String>,
    /// The fingerprint's hash of the base scenario.
    pub scenario_hash: String,
    /// The source whose surge is the trigger.
    pub source: String,
    /// When the surge starts.
    pub at: SimTime,
    /// The surge's factors, down the map (`sources.NAME.surge.factor`).
    pub factors: Axis,
    /// The surge's lengths, across the map (`sources.NAME.surge.over`), and each in time.
    pub durations: Axis,
    pub lengths: Vec<SimDuration>,
    /// How long after the surge's end a run is judged.
    pub settle: SimDuration,
    /// The SLO the episodes were cut with: its target and recovery stretch, for the record.
    pub slo_target: f64,
    pub slo_recovery: SimDuration,
    pub seeds: Vec<u64>,
}

/// What became of one run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fate {
    /// Inside an outage episode `settle` after the surge's end.
    pub collapsed: bool,
    /// For a run that was not: seconds from the surge's end to the start of the healthy
    /// stretch that ended the outage it caused (0 when no outage outlived the surge).
    pub recovery_s: Option<f64>,
}

/// One cell of the map: a factor and a length, over every seed.
#[derive(Clone, Debug, PartialEq)]
pub struct Cell {
    pub factor: usize,
    pub length: usize,
    pub seeds: u64,
    pub collapsed: u64,
    /// `collapsed / seeds`, and its 95% Wilson interval.
    pub share: f64,
    pub interval: (f64, f64),
    /// The recovery times of the seeds that recovered, ascending.
    pub recoveries: Vec<f64>,
}

impl Map {
    /// The map of `source`'s surge in `base` over `factors` x `durations`, judged `settle`
    /// after each surge's end; refused when a length is not a duration, or when the run
    /// ends before a recovery could be told from it (the judging instant of the longest
    /// surge plus the SLO's recovery stretch).
    pub fn new(
        base: &crate::scenario::Loaded,
        variant: Option<String>,
        source: &str,
        factors: Axis,
        durations: Axis,
        settle: SimDuration,
        seeds: Vec<u64>,
    ) -> Result<Map, Refusal> {
        let surge = base
            .surges
            .iter()
            .find(|surge| surge.source == source)
            .ok_or_else(|| Refusal::new(format!("the source \"{source}\" has no surge")))?;
        let lengths = durations
            .values
            .iter()
            .map(|label| {
                label.parse::<crate::units::Duration>().map(|duration| duration.0).map_err(|error| {
                    Refusal::new(format!("--over \"{label}\": {error}"))
                        .expected("durations such as 5s,10s,30s")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let scenario = &base.scenario;
        let map = Map {
            scenario: scenario.name.clone(),
            variant,
            scenario_hash: scenario.hash.clone(),
            source: source.to_owned(),
            at: surge.from,
            factors,
            durations,
            lengths,
            settle,
            slo_target: scenario.slo.success_rate,
            slo_recovery: scenario.slo.recovery,
            seeds,
        };
        if map.at.0 < scenario.warmup.0 {
            return Err(Refusal::new(format!(
                "the surge at {} starts inside the warm-up ({}), which no figure measures",
                SimDuration(map.at.0),
                scenario.warmup
            ))
            .expected("a surge after simulation.warmup, or a shorter warm-up"));
        }
        let longest = (0..map.lengths.len()).max_by_key(|&length| map.lengths[length]).unwrap_or(0);
        let needed = map.judged_at(longest).after(map.slo_recovery);
        if needed.0 > scenario.duration.0 {
            return Err(Refusal::new(format!(
                "the run lasts {} but the map needs {}: the surge at {}, its longest length {}, --settle {} and the SLO's recovery {} (a healthy stretch that long ends an outage)",
                scenario.duration,
                SimDuration(needed.0),
                SimDuration(map.at.0),
                map.lengths[longest],
                settle,
                map.slo_recovery,
            ))
            .expected("a longer simulation.duration, a shorter --settle or shorter --over lengths"));
        }
        Ok(map)
    }

    /// The grid's cells as `(factor, length)` index pairs, in matrix order: the factor
    /// slowest, as `sweep` orders its first parameter.
    pub fn cells(&self) -> Vec<(usize, usize)> {
        (0..self.factors.values.len())
            .flat_map(|factor| (0..self.durations.values.len()).map(move |length| (factor, length)))
            .collect()
    }

    /// `sources.users.surge.factor=2 sources.users.surge.over=5s`, per cell in matrix order.
    pub fn labels(&self) -> Vec<String> {
        let axes = [self.factors.clone(), self.durations.clone()];
        self.cells()
            .iter()
            .map(|&(factor, length)| crate::sweep::grid::label(&axes, &[factor, length]))
            .collect()
    }

    /// What a shard file must carry to finish this map.
    pub fn purpose(&self) -> Purpose {
        Purpose::Metastability {
            source: self.source.clone(),
            factors: self.factors.values.clone(),
            durations: self.durations.values.clone(),
            settle: self.settle.to_string(),
        }
    }

    /// When a run with the surge of length `length` is judged.
    pub fn judged_at(&self, length: usize) -> SimTime {
        self.at.after(self.lengths[length]).after(self.settle)
    }

    /// The fate of one run of the cell with length `length`.
    pub fn fate(&self, summary: &Summary, length: usize) -> Fate {
        let end = self.at.after(self.lengths[length]).as_secs_f64();
        fate(summary, self.at.as_secs_f64(), end, self.judged_at(length).as_secs_f64())
    }

    /// Every cell, from the runs' summaries in matrix order.
    pub fn tally(&self, runs: &[Fate]) -> Vec<Cell> {
        let n_seeds = self.seeds.len().max(1);
        self.cells()
            .into_iter()
            .zip(runs.chunks(n_seeds))
            .map(|((factor, length), fates)| {
                let collapsed = fates.iter().filter(|fate| fate.collapsed).count() as u64;
                let seeds = fates.len() as u64;
                let mut recoveries: Vec<f64> = fates.iter().filter_map(|fate| fate.recovery_s).collect();
                recoveries.sort_by(f64::total_cmp);
                Cell {
                    factor,
                    length,
                    seeds,
                    collapsed,
                    share: if seeds == 0 { 0.0 } else { collapsed as f64 / seeds as f64 },
                    interval: wilson(collapsed, seeds, Z_95).unwrap_or((0.0, 1.0)),
                    recoveries,
                }
            })
            .collect()
    }

    /// Per length, the index of the smallest factor from which every larger factor's cell
    /// has at least `BOUNDARY_SHARE` of its seeds collapsed; `None` when the largest does
    /// not.
    pub fn boundary(&self, cells: &[Cell]) -> Vec<Option<usize>> {
        let n_factors = self.factors.values.len();
        (0..self.durations.values.len())
            .map(|length| {
                let tipped = |factor: usize| {
                    cells[factor * self.durations.values.len() + length].share >= BOUNDARY_SHARE
                };
                (0..n_factors).rev().take_while(|&factor| tipped(factor)).last()
            })
            .collect()
    }
}

/// The fate of a run whose trigger ran over `[from_s, end_s)`, judged at `judged_s`.
pub fn fate(summary: &Summary, from_s: f64, end_s: f64, judged_s: f64) -> Fate {
    let episodes = &summary.slo.episodes;
    let recovered_at =
        |episode: &crate::stats::slo::Episode| episode.recovered.as_ref().map(|moment| moment.t_s);
    let collapsed = episodes.iter().any(|episode| {
        episode.start.t_s < judged_s && recovered_at(episode).is_none_or(|recovered| recovered > judged_s)
    });
    if collapsed {
        return Fate { collapsed, recovery_s: None };
    }
    // The last outage that began before the judging instant and was still going when the
    // surge began: the one it caused, or made longer.
    let recovery = episodes
        .iter()
        .filter(|episode| episode.start.t_s < judged_s && recovered_at(episode).is_some_and(|r| r > from_s))
        .filter_map(recovered_at)
        .fold(end_s, f64::max);
    Fate { collapsed, recovery_s: Some(recovery - end_s) }
}

/// The recovery times' summary: `(count, median, 90th percentile, max)`, by the nearest
/// rank; `None` when none recovered.
pub fn recovery_quantiles(recoveries: &[f64]) -> Option<(usize, f64, f64, f64)> {
    let n = recoveries.len();
    let rank = |q: f64| recoveries[((q * n as f64).ceil() as usize).clamp(1, n) - 1];
    (n > 0).then(|| (n, rank(0.5), rank(0.9), recoveries[n - 1]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::slo::{Episode, Moment};

    fn episode(start: f64, recovered: Option<f64>) -> Episode {
        let moment = |t_s: f64| Moment { t_s, clock: None };
        Episode {
            start: moment(start),
            detected: None,
            time_to_detect_s: None,
            capacity_added: None,
            recovered: recovered.map(moment),
            time_to_recover_s: recovered.map(|r| r - start),
            duration_s: recovered.unwrap_or(600.0) - start,
            bad_minutes: 0.0,
        }
    }

    fn summary(episodes: Vec<Episode>) -> Summary {
        let mut summary = crate::report::tests::synthetic_summary();
        summary.slo.episodes = episodes;
        summary
    }

    #[test]
    fn a_run_is_collapsed_when_an_outage_spans_the_judging_instant() {
        // Surge over [120, 125), judged at 425.
        let judged = |episodes| fate(&summary(episodes), 120.0, 125.0, 425.0);
        assert_eq!(judged(vec![]), Fate { collapsed: false, recovery_s: Some(0.0) });
        assert_eq!(judged(vec![episode(130.0, None)]), Fate { collapsed: true, recovery_s: None });
        assert_eq!(judged(vec![episode(130.0, Some(500.0))]), Fate { collapsed: true, recovery_s: None });
        // Recovered 95 s after the surge's end.
        assert_eq!(
            judged(vec![episode(130.0, Some(220.0))]),
            Fate { collapsed: false, recovery_s: Some(95.0) }
        );
        // A blip at the start of the run and an outage after the judging instant are not the
        // surge's.
        let unrelated = vec![episode(0.0, Some(10.0)), episode(430.0, None)];
        assert_eq!(judged(unrelated), Fate { collapsed: false, recovery_s: Some(0.0) });
        // An outage that ended while the surge still ran recovered at once.
        assert_eq!(judged(vec![episode(121.0, Some(123.0))]).recovery_s, Some(0.0));
    }

    fn map(factors: &[&str], lengths: &[u64], seeds: usize) -> Map {
        let axis = |path: &str, values: Vec<String>| Axis { path: path.into(), values };
        Map {
            scenario: "m".into(),
            variant: None,
            scenario_hash: "h".into(),
            source: "users".into(),
            at: SimTime::ZERO.after(SimDuration::from_secs(120)),
            factors: axis("sources.users.surge.factor", factors.iter().map(|f| f.to_string()).collect()),
            durations: axis("sources.users.surge.over", lengths.iter().map(|s| format!("{s}s")).collect()),
            lengths: lengths.iter().map(|&s| SimDuration::from_secs(s)).collect(),
            settle: SimDuration::from_secs(300),
            slo_target: 0.99,
            slo_recovery: SimDuration::from_secs(60),
            seeds: (1..=seeds as u64).collect(),
        }
    }

    #[test]
    fn cells_count_collapsed_seeds_with_wilson_intervals_and_the_boundary_follows_them() {
        let map = map(&["1.5", "2", "3"], &[2, 10], 2);
        let (up, down) =
            (Fate { collapsed: true, recovery_s: None }, |r| Fate { collapsed: false, recovery_s: Some(r) });
        // (1.5, 2s) (1.5, 10s) (2, 2s) (2, 10s) (3, 2s) (3, 10s), two seeds each.
        let runs = [down(0.0), down(3.0), down(10.0), up, down(1.0), up, up, up, up, down(40.0), up, up];
        let cells = map.tally(&runs);
        assert_eq!(cells.len(), 6);
        assert_eq!((cells[1].collapsed, cells[1].share, cells[1].recoveries.clone()), (1, 0.5, vec![10.0]));
        assert_eq!(cells[5].interval, wilson(2, 2, Z_95).unwrap());
        // 2s: factors 2 and 3 have half their seeds out, 1.5 none: from 2 up. 10s: every factor.
        assert_eq!(map.boundary(&cells), vec![Some(1), Some(0)]);
        assert_eq!(map.labels()[3], "sources.users.surge.factor=2 sources.users.surge.over=10s");
        assert_eq!(map.judged_at(1), SimTime::ZERO.after(SimDuration::from_secs(430)));
        assert_eq!(recovery_quantiles(&[1.0, 2.0, 3.0, 10.0]), Some((4, 2.0, 10.0, 10.0)));
        assert_eq!(recovery_quantiles(&[]), None);
    }
}
