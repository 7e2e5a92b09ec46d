//! Build, then run: the one entry point from a resolved scenario to results.
//!
//! `Simulation` is advanced in slices so the CLI can draw progress between them; the
//! result does not depend on how the run was sliced.

use crate::engine::rng::GENERATOR;
use crate::engine::{Sim, SimDuration, SimTime};
use crate::ids::{ClientId, ServiceId};
use crate::model::timeline::Action;
use crate::model::{Event, GuardBound, GuardTrip, Scenario, World};
use crate::stats::Recorder;
use crate::stats::slo;
use crate::stats::summary::{
    AlertFiring, BreakerSummary, DependencySummary, MarkerSummary, Moment, ProviderSummary, RequestSummary,
    SCHEMA_VERSION, ScenarioInfo, ServiceSummary, SloSummary,
};
use crate::stats::{Firing, Series, SloMarks, Summary};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;

/// Everything a finished (or guard-stopped) run produced.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// `summary.partial` is true when a guard stopped the run early.
    pub summary: Summary,
    pub series: Series,
    /// Why the run stopped before its end, if it did.
    pub stopped: Option<EarlyStop>,
}

/// Why a run stopped before its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EarlyStop {
    /// A guard tripped: the run was a runaway.
    Guard(GuardTrip),
    /// Asked to stop from outside (Ctrl-C, SIGTERM) at this simulated time.
    Interrupted { at: SimTime },
}

/// A run in progress.
pub struct Simulation<'a> {
    scenario: &'a Scenario,
    seed: u64,
    sim: Sim<Event>,
    world: World<'a>,
    end: SimTime,
    over: bool,
    interrupted_at: Option<SimTime>,
}

impl<'a> Simulation<'a> {
    pub fn new(scenario: &'a Scenario, seed: u64) -> Simulation<'a> {
        Self::build(scenario, seed, None)
    }

    /// Like `new`, but the run stops at the next event once `interrupt` is set (the CLI sets
    /// it on Ctrl-C); what was simulated until then is finished into a partial result.
    pub fn interruptible(scenario: &'a Scenario, seed: u64, interrupt: &'a AtomicBool) -> Simulation<'a> {
        Self::build(scenario, seed, Some(interrupt))
    }

    fn build(scenario: &'a Scenario, seed: u64, interrupt: Option<&'a AtomicBool>) -> Simulation<'a> {
        let mut sim = Sim::default();
        let world = World::new(scenario, seed, interrupt, &mut sim);
        let end = SimTime(scenario.duration.0);
        Simulation { scenario, seed, sim, world, end, over: false, interrupted_at: None }
    }

    /// Where the run ends (the scenario's duration).
    pub fn end(&self) -> SimTime {
        self.end
    }

    /// The simulated time reached so far.
    pub fn now(&self) -> SimTime {
        self.sim.now()
    }

    /// Events handled so far.
    pub fn events_handled(&self) -> u64 {
        self.sim.events_popped()
    }

    /// Runs up to `until` (capped at the end). Returns false once the run is over, either
    /// at its end or because a guard stopped it.
    ///
    /// The run covers `[0, duration)`: an event due exactly at the end is not handled, so
    /// the last interval closes cleanly at the end.
    pub fn advance(&mut self, until: SimTime) -> bool {
        if self.over {
            return false;
        }
        let until = until.min(SimTime(self.end.0.saturating_sub(1)));
        let completed = self.sim.run_until(&mut self.world, until) && !self.world.interrupted();
        if !completed && self.world.tripped.is_none() {
            if self.world.interrupted() {
                self.interrupted_at = Some(self.sim.now());
            } else {
                let limit = self.scenario.guard.max_events;
                self.world.tripped =
                    Some(GuardTrip { bound: GuardBound::MaxEvents, limit, at: self.sim.now() });
            }
        }
        self.over = !completed || until.0 + 1 >= self.end.0;
        !self.over
    }

    /// Closes the last interval and builds the summary and series.
    pub fn finish(mut self) -> RunOutput {
        let stopped = match (self.world.tripped, self.interrupted_at) {
            (Some(trip), _) => Some(EarlyStop::Guard(trip)),
            (None, Some(at)) => Some(EarlyStop::Interrupted { at }),
            (None, None) => None,
        };
        let now = if self.over && stopped.is_none() { self.end } else { self.sim.now() };
        self.world.close_last_interval(now);
        let scenario = self.scenario;
        // A run stopped within its warm-up measures nothing.
        if scenario.warmup > SimDuration::ZERO && !self.world.recorder.measuring() {
            self.world.start_measuring(now);
        }
        // The whole-run figures cover the measured stretch: all of it without a warm-up.
        let elapsed = now.since(self.world.recorder.measured_from());
        let class_names: Vec<String> = scenario.classes.iter().map(|c| c.name.clone()).collect();
        let service_names: Vec<String> = scenario.services.iter().map(|s| s.name.clone()).collect();
        let in_flight = self.world.requests_in_flight_per_class();
        let recorder = &self.world.recorder;
        let (requests, classes) = recorder.request_summaries(&class_names, &in_flight, elapsed);
        let instances = self.world.instances_per_service();
        let mut services: BTreeMap<String, _> = service_names
            .iter()
            .enumerate()
            .map(|(idx, name)| {
                let summary = recorder.service_summary(ServiceId::from_idx(idx), elapsed, instances[idx]);
                (name.clone(), summary)
            })
            .collect();
        let client_names: Vec<String> = scenario.clients.iter().map(|c| c.name.clone()).collect();
        let breakers = (0..client_names.len())
            .map(|idx| {
                self.world.breaker_history_measured(ClientId::from_idx(idx), now).map(|(history, state)| {
                    BreakerSummary {
                        openings: history.openings,
                        open_s: history.open.as_secs_f64(),
                        half_open_s: history.half_open.as_secs_f64(),
                        state_at_end: state.name().to_string(),
                    }
                })
            })
            .collect();
        let clients = recorder.hop_summaries(&client_names, requests.offered, breakers);
        let region_names: Vec<String> = scenario.regions.iter().map(|region| region.name.clone()).collect();
        let pool_summaries: Vec<_> = service_names.iter().map(|name| services[name].clone()).collect();
        let regions = recorder.region_summaries(&region_names, &service_names, &pool_summaries, elapsed);
        let dependencies = dependency_summaries(scenario, recorder, &mut services);
        let cell_shares: Vec<(String, f64)> =
            scenario.cells.iter().map(|cell| (cell.name.clone(), cell.share)).collect();
        let start_clock = scenario.start_clock;
        let cells =
            recorder.cell_summaries(&cell_shares, &service_names, &pool_summaries, elapsed, start_clock);
        let release = recorder.release_summary(&cell_shares, SimDuration(now.0), start_clock);
        let engine = recorder.engine_summary(self.sim.events_popped());
        let firings = recorder.alert_firings().to_vec();
        let mut series = self.world.recorder.into_series(
            scenario.interval,
            scenario.start_clock,
            class_names,
            service_names,
            client_names,
            region_names,
        );
        series.cell_names = cell_shares.into_iter().map(|(name, _)| name).collect();
        series.warmup = scenario.warmup;
        let operations = Operations::new(scenario, &series, &firings, &requests);
        series.slo = Some(slo_marks(&operations.slo));
        series.metrics_fault = metrics_faults(scenario);
        series.calendar = scenario.calendar.clone();
        if !scenario.dependencies.is_empty() {
            series.providers = scenario.services.iter().map(|pool| pool.external).collect();
        }
        let summary = Summary {
            schema_version: SCHEMA_VERSION,
            stormsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: ScenarioInfo {
                name: scenario.name.clone(),
                hash: scenario.hash.clone(),
                variant: scenario.variant.clone(),
            },
            seed: self.seed,
            generator: GENERATOR.to_string(),
            partial: stopped.is_some(),
            stopped_by: stopped.map(|stop| describe_stop(&stop)),
            simulated_s: now.as_secs_f64(),
            warmup_s: (scenario.warmup > SimDuration::ZERO).then(|| scenario.warmup.as_secs_f64()),
            measured_s: (scenario.warmup > SimDuration::ZERO).then(|| elapsed.as_secs_f64()),
            requests,
            classes,
            services,
            clients,
            regions,
            dependencies,
            cells,
            release,
            slo: operations.slo,
            alerts: operations.alerts,
            timeline: operations.timeline,
            engine,
        };
        RunOutput { summary, series, stopped }
    }
}

/// Each dependency's providers, moved out of the pools' summaries into their own.
fn dependency_summaries(
    scenario: &Scenario,
    recorder: &Recorder,
    services: &mut BTreeMap<String, ServiceSummary>,
) -> BTreeMap<String, DependencySummary> {
    scenario
        .dependencies
        .iter()
        .map(|dependency| {
            let pools: Vec<(ServiceId, ServiceSummary)> = dependency
                .providers
                .iter()
                .map(|&pool| (pool, services.remove(&scenario.services[pool.idx()].name).unwrap_or_default()))
                .collect();
            let total: u64 = pools.iter().map(|(_, pool)| pool.arrived).sum();
            let providers = pools
                .into_iter()
                .enumerate()
                .map(|(rank, (id, pool))| {
                    let name = &scenario.services[id.idx()].name;
                    let short = name.strip_prefix(&format!("{}/", dependency.name)).unwrap_or(name);
                    let late = pool.wasted_attempts;
                    let succeeded = pool.completed.saturating_sub(pool.errors + late);
                    let summary = ProviderSummary {
                        priority: rank as u32 + 1,
                        pool: name.clone(),
                        calls: pool.arrived,
                        share_of_calls: ratio(pool.arrived, total),
                        succeeded,
                        errors: pool.errors,
                        late,
                        refused: pool.rejected,
                        success_rate: ratio(succeeded, pool.arrived),
                        latency_ms: recorder.answer_times(id),
                        in_flight_mean: pool.mean_in_system,
                    };
                    (short.to_string(), summary)
                })
                .collect();
            (dependency.name.clone(), DependencySummary { providers })
        })
        .collect()
}

fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 / whole as f64 }
}

/// The summary's SLO figures, the alerts that fired and the timeline markers.
struct Operations {
    slo: SloSummary,
    alerts: Vec<AlertFiring>,
    timeline: Vec<MarkerSummary>,
}

impl Operations {
    fn new(
        scenario: &Scenario,
        series: &Series,
        firings: &[Firing],
        requests: &RequestSummary,
    ) -> Operations {
        let moment = |at: SimTime| Moment::new(at, scenario.start_clock);
        let times: Vec<_> = firings.iter().map(|firing| (firing.fired, firing.resolved)).collect();
        let alerts = firings
            .iter()
            .map(|firing| AlertFiring {
                name: scenario.alerts[firing.alert.idx()].name.clone(),
                fired: moment(firing.fired),
                resolved: firing.resolved.map(moment),
            })
            .collect();
        let timeline = series
            .markers
            .iter()
            .map(|marker| MarkerSummary {
                at: moment(marker.at),
                kind: marker.kind.name().to_string(),
                label: marker.label.clone(),
            })
            .collect();
        Operations {
            slo: slo::evaluate(series, &scenario.slo, &times, requests.succeeded, requests.failed),
            alerts,
            timeline,
        }
    }
}

/// What the charts draw of the SLO, from the summary's figures.
fn slo_marks(slo: &SloSummary) -> SloMarks {
    let at = |moment: &Option<Moment>| {
        moment.as_ref().map(|moment| SimTime(SimDuration::from_secs_f64(moment.t_s).0))
    };
    SloMarks {
        target: slo.target_success_rate,
        first_breach: at(&slo.first_breach),
        detected: at(&slo.detected),
        recovered: at(&slo.recovered),
    }
}

/// Per service: whether a timeline entry or an operator action stops some of its instances
/// reporting metrics.
fn metrics_faults(scenario: &Scenario) -> Vec<bool> {
    let actions = scenario
        .timeline
        .iter()
        .map(|entry| &entry.action)
        .chain(scenario.alerts.iter().filter_map(|alert| alert.then.as_ref().map(|then| &then.action)));
    let mut res = vec![false; scenario.services.len()];
    for action in actions {
        if let Action::Metrics { service, reporting } = action
            && *reporting < 1.0
            && let Some(fault) = res.get_mut(service.idx())
        {
            *fault = true;
        }
    }
    res
}

/// A one-line, actionable description of why a run stopped early.
pub fn describe_stop(stop: &EarlyStop) -> String {
    let trip = match stop {
        EarlyStop::Guard(trip) => trip,
        EarlyStop::Interrupted { at } => {
            return format!("interrupted at {}: the results cover the run up to there", SimDuration(at.0));
        }
    };
    let at = SimDuration(trip.at.0);
    match trip.bound {
        GuardBound::MaxInFlight => format!(
            "more than {} requests and attempts in flight at {at}: the run is a runaway (a retry \
             storm or an unbounded queue); raise guard.max_in_flight to let it go further",
            trip.limit
        ),
        GuardBound::MaxEvents => {
            format!("{} events handled by {at}: raise guard.max_events to let the run go further", trip.limit)
        }
    }
}

/// Runs a scenario to its end (or until a guard stops it) with `seed`.
pub fn simulate(scenario: &Scenario, seed: u64) -> RunOutput {
    let mut simulation = Simulation::new(scenario, seed);
    while simulation.advance(simulation.end()) {}
    simulation.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    /// An M/M/c queue built in code: Poisson(lambda) into c cores and c workers.
    fn mmc(lambda: f64, mean_s: f64, c: u32, secs: u64) -> Scenario {
        Scenario {
            name: "mmc".into(),
            description: String::new(),
            duration: SimDuration::from_secs(secs),
            start_clock: None,
            calendar: None,
            interval: SimDuration::from_secs(secs / 10),
            warmup: SimDuration::ZERO,
            seed: 1,
            guard: Guard { max_in_flight: 1_000_000, max_events: u64::MAX },
            classes: vec![RequestClass { name: "all".into(), share: 1.0, sheddable: false }],
            sources: vec![Source {
                name: "users".into(),
                client: crate::ids::ClientId(0),
                kind: SourceKind::OpenLoop {
                    profile: RateProfile { points: vec![(SimTime::ZERO, lambda)] },
                    cv: 1.0,
                },
                home: vec![],
            }],
            clients: vec![Client {
                name: "caller".into(),
                target: crate::ids::ServiceId(0),
                timeout: None,
                retry: RetryPolicy {
                    max_attempts: 1,
                    backoff: Backoff {
                        base: SimDuration::from_millis(100),
                        multiplier: 2.0,
                        cap: SimDuration::from_secs(20),
                        jitter: Jitter::Full,
                    },
                    retry_on: RetryOn { timeout: true, rejected: true, error: false },
                },
                limiter: None,
                propagate_deadline: false,
                deadline: None,
                hedge: None,
                human_retry: None,
                router: None,
                cell_pools: vec![],
            }],
            services: vec![Service {
                name: "server".into(),
                ..Service::plain(1, c, c, CpuCost::Exponential { mean: SimDuration::from_secs_f64(mean_s) })
            }],
            regions: vec![],
            dependencies: vec![],
            cells: vec![],
            release: None,
            timeline: vec![],
            alerts: vec![],
            slo: Default::default(),
            variant: None,
            hash: String::new(),
        }
    }

    #[test]
    fn slicing_does_not_change_the_result() {
        let scenario = mmc(9.0, 1.0, 10, 2_000);
        let whole = simulate(&scenario, 3);
        let mut sliced = Simulation::new(&scenario, 3);
        let mut until = SimTime::ZERO;
        while sliced.advance(until) {
            until = until.after(SimDuration::from_secs(37));
        }
        let sliced = sliced.finish();
        assert_eq!(whole.summary, sliced.summary);
        assert_eq!(whole.series, sliced.series);
    }

    #[test]
    fn an_interrupt_stops_the_run_with_a_consistent_partial_result() {
        let scenario = mmc(9.0, 1.0, 10, 10_000);
        let flag = AtomicBool::new(false);
        let mut simulation = Simulation::interruptible(&scenario, 1, &flag);
        assert!(simulation.advance(SimTime(1_000 * 1_000_000_000)));
        flag.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(!simulation.advance(simulation.end()), "the run is over once interrupted");
        let out = simulation.finish();
        let Some(EarlyStop::Interrupted { at }) = out.stopped else { panic!("{:?}", out.stopped) };
        assert!(at.as_secs_f64() >= 1_000.0 && at.as_secs_f64() < 1_001.0, "stopped at the next event");
        assert!(out.summary.partial);
        assert!(out.summary.stopped_by.unwrap().starts_with("interrupted at"));
        let r = &out.summary.requests;
        assert_eq!(r.offered, r.succeeded + r.failed + r.in_flight);
        // The same run uninterrupted agrees on every interval closed before the interruption
        // (intervals are 1,000 s here: one whole, then the stub cut short at the interrupt),
        // except for the outcomes by arrival of the requests the interruption left in flight.
        let whole = simulate(&scenario, 1);
        assert_eq!(out.series.rows.len(), 2);
        let without_arrivals = |row: &crate::stats::IntervalRow| {
            let mut row = row.clone();
            for figures in std::iter::once(&mut row.total).chain(&mut row.classes) {
                (figures.succeeded_by_arrival, figures.failed_by_arrival) = (0, 0);
            }
            row
        };
        assert_eq!(without_arrivals(&out.series.rows[0]), without_arrivals(&whole.series.rows[0]));
        let (cut, whole) = (&out.series.rows[0].total, &whole.series.rows[0].total);
        assert!(cut.succeeded_by_arrival <= whole.succeeded_by_arrival);
        assert_eq!(whole.succeeded_by_arrival + whole.failed_by_arrival, whole.offered, "all settled");
    }

    #[test]
    fn a_run_stopped_in_its_warm_up_measures_nothing() {
        let mut scenario = mmc(9.0, 1.0, 10, 10_000);
        scenario.warmup = SimDuration::from_secs(5_000);
        let flag = AtomicBool::new(false);
        let mut simulation = Simulation::interruptible(&scenario, 1, &flag);
        assert!(simulation.advance(SimTime(2_000 * 1_000_000_000)));
        flag.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(!simulation.advance(simulation.end()));
        let out = simulation.finish();
        let r = &out.summary.requests;
        assert_eq!((r.offered, r.succeeded, r.failed, r.attempts), (0, 0, 0, 0));
        assert!(r.in_flight > 0);
        assert_eq!(r.in_flight_at_start, Some(r.in_flight), "everything alive is carried, nothing measured");
        assert_eq!((out.summary.warmup_s, out.summary.measured_s), (Some(5_000.0), Some(0.0)));
        assert_eq!(out.summary.services["server"].completed, 0);
        assert_eq!(out.series.rows.len(), 3, "the series keeps what was simulated");
    }

    #[test]
    fn conservation_holds_at_the_end() {
        let summary = simulate(&mmc(9.5, 1.0, 10, 500), 1).summary;
        let r = &summary.requests;
        assert!(r.in_flight > 0, "a busy queue ends with requests inside");
        assert_eq!(r.offered, r.succeeded + r.failed + r.in_flight);
    }

    #[test]
    fn in_flight_guard_stops_a_runaway_and_marks_it_partial() {
        let mut scenario = mmc(20.0, 1.0, 10, 10_000);
        scenario.guard.max_in_flight = 1_000;
        let out = simulate(&scenario, 1);
        let Some(EarlyStop::Guard(trip)) = out.stopped else {
            panic!("an overloaded unbounded queue must trip the guard");
        };
        assert_eq!(trip.bound, GuardBound::MaxInFlight);
        assert!(out.summary.partial);
        assert!(out.summary.stopped_by.unwrap().contains("guard.max_in_flight"));
        // Each waiting request counts twice (request + attempt): 500 of them pile up at
        // 20/s offered - 10/s served, in about 50 s.
        assert!(
            out.summary.simulated_s > 25.0 && out.summary.simulated_s < 100.0,
            "{}",
            out.summary.simulated_s
        );
    }

    #[test]
    fn mm1_is_close_to_theory_quick_look() {
        let summary = simulate(&mmc(0.8, 1.0, 1, 200_000), 11).summary;
        let server = &summary.services["server"];
        eprintln!("{:#?}", server);
        assert!((server.cpu_utilisation - 0.8).abs() < 0.02);
        assert!((server.queue_wait_ms.mean.unwrap() / 1e3 - 4.0).abs() < 0.5);
    }
}
