//! What the model reports, as it happens: request outcomes per class, service meters and
//! engine counts. Streams into counters and fixed-size histograms; keeps nothing per request.
//!
//! At each interval boundary the recorder closes one `IntervalRow`; at the end it builds
//! the `Summary` (the public contract) and the `Series`.

use super::histogram::LatencyHistogram;
use super::homes::Homes;
use super::meter::ServiceMeter;
use super::release::ReleaseLog;
use super::series::{
    CellFigures, ClientFigures, IntervalRow, Marker, MarkerKind, RegionFigures, RequestFigures, Series,
    ServiceFigures,
};
use super::summary::{
    BreakerSummary, CellSummary, EngineSummary, EventCounts, FailureCounts, HopSummary, Percentiles,
    RegionSummary, ReleaseSummary, RequestSummary, ServiceSummary,
};
use crate::engine::{SimDuration, SimTime};
use crate::ids::{AlertId, CellId, ClassId, ClientId, RegionId, ServiceId};
use crate::outcome::FailureReason;
use std::collections::BTreeMap;

/// Request counters of one class (or one home) over some span.
#[derive(Clone, Debug, Default)]
pub(super) struct Tally {
    pub(super) offered: u64,
    pub(super) attempts: u64,
    pub(super) retries: u64,
    pub(super) human_retries: u64,
    pub(super) succeeded: u64,
    pub(super) failed: [u64; FailureReason::COUNT],
    pub(super) wasted_cpu_ns: u128,
    pub(super) wasted_attempts: u64,
    pub(super) latency: LatencyHistogram,
}

impl Tally {
    /// Zeroes the counters, keeping the histogram's memory.
    pub(super) fn reset(&mut self) {
        self.offered = 0;
        self.attempts = 0;
        self.retries = 0;
        self.human_retries = 0;
        self.succeeded = 0;
        self.failed = [0; FailureReason::COUNT];
        self.wasted_cpu_ns = 0;
        self.wasted_attempts = 0;
        self.latency.reset();
    }

    fn failed_total(&self) -> u64 {
        self.failed.iter().sum()
    }
}

/// One client's traffic: every request through it (a user's or a downstream call's).
#[derive(Clone, Copy, Debug, Default)]
struct HopTally {
    requests: u64,
    attempts: u64,
    hedges: u64,
    human_retries: u64,
    succeeded: u64,
    failed: u64,
}

impl HopTally {
    fn add(&mut self, other: &HopTally) {
        self.requests += other.requests;
        self.attempts += other.attempts;
        self.hedges += other.hedges;
        self.human_retries += other.human_retries;
        self.succeeded += other.succeeded;
        self.failed += other.failed;
    }

    fn figures(&self) -> ClientFigures {
        ClientFigures {
            requests: self.requests,
            attempts: self.attempts,
            hedges: self.hedges,
            human_retries: self.human_retries,
            succeeded: self.succeeded,
            failed: self.failed,
            breaker: None,
        }
    }
}

/// Outcomes of the users' requests of one class offered in one interval, credited when
/// each settles, whenever that is.
#[derive(Clone, Copy, Debug, Default)]
struct Settled {
    succeeded: u64,
    failed: u64,
}

/// Users' requests alive at one moment, counted by class, by home region and by cell
/// (each vector empty when the scenario has none of those).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InFlight {
    pub classes: Vec<u64>,
    pub regions: Vec<u64>,
    pub cells: Vec<u64>,
}

/// One region's failover counters (its requests and pools are in `Recorder::regions`).
#[derive(Clone, Copy, Debug, Default)]
struct Failover {
    attempts: u64,
    refused: u64,
}

pub struct Recorder {
    /// Whole-run tallies per class: the closed intervals' added up (since the warm-up).
    run: Vec<Tally>,
    /// Attempt latencies per class (success or rejection answers), whole run.
    attempt_latency: Vec<LatencyHistogram>,
    /// Current-interval tallies per class: where the hot path counts.
    interval: Vec<Tally>,
    interval_start: SimTime,
    /// Per service, indexed by `ServiceId` through `service`.
    services: Vec<ServiceMeter>,
    rows: Vec<IntervalRow>,
    pub events: EventCounts,
    pub peak_in_flight: u64,
    markers: Vec<Marker>,
    /// Per client (hop): requests, attempts and outcomes, downstream calls included;
    /// whole run (the closed intervals') and current interval.
    hops: Vec<HopTally>,
    hops_interval: Vec<HopTally>,
    /// Every time an alert fired, in firing order.
    alert_firings: Vec<Firing>,
    /// Per region (empty without regions): requests homed there, attempts routed there,
    /// its pools; and its failover counters, whole run and current interval.
    regions: Homes,
    failover: Vec<Failover>,
    failover_interval: Vec<Failover>,
    /// Per cell (empty without cells): its customers' requests and its pools.
    cells: Homes,
    /// What a staged release did, if the scenario has one.
    release: Option<ReleaseLog>,
    /// Whether some router caps failover: `failover_capped` is then a figure of the run.
    capped: bool,
    /// The interval's classes added up, kept between intervals so its histogram's memory is
    /// reused.
    interval_total: Tally,
    /// Index of the interval in progress: its row's, once closed.
    open: u32,
    /// Per interval opened, then per class: the outcomes of the requests offered in it.
    /// Two counters per class and interval, beside the rows they end up in.
    by_arrival: Vec<Settled>,
    /// When the measured stretch began (the end of the warm-up), and the users' requests
    /// in flight then by class; `None` until it does.
    measuring: Option<(SimTime, Vec<u64>)>,
}

/// An alert's firing: when it fired and, if it did before the run ended, when it resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Firing {
    pub alert: AlertId,
    pub fired: SimTime,
    pub resolved: Option<SimTime>,
}

impl Recorder {
    pub fn new(n_classes: usize, n_clients: usize, services: Vec<ServiceMeter>) -> Recorder {
        Recorder {
            run: vec![Tally::default(); n_classes],
            attempt_latency: vec![LatencyHistogram::default(); n_classes],
            interval: vec![Tally::default(); n_classes],
            interval_start: SimTime::ZERO,
            services,
            rows: Vec::new(),
            events: EventCounts::default(),
            peak_in_flight: 0,
            markers: Vec::new(),
            hops: vec![HopTally::default(); n_clients],
            hops_interval: vec![HopTally::default(); n_clients],
            alert_firings: Vec::new(),
            regions: Homes::default(),
            failover: Vec::new(),
            failover_interval: Vec::new(),
            cells: Homes::default(),
            release: None,
            capped: false,
            interval_total: Tally::default(),
            open: 0,
            by_arrival: vec![Settled::default(); n_classes],
            measuring: None,
        }
    }

    /// Counts per region too: `n_regions` regions, each pool's region, and whether a
    /// router caps failover.
    pub fn with_regions(
        mut self,
        n_regions: usize,
        pool_regions: Vec<Option<RegionId>>,
        capped: bool,
    ) -> Recorder {
        let homes: Vec<Option<usize>> = pool_regions.iter().map(|r| r.map(RegionId::idx)).collect();
        self.regions = Homes::new(n_regions, &homes);
        self.failover = vec![Failover::default(); n_regions];
        self.failover_interval = vec![Failover::default(); n_regions];
        self.capped = capped;
        self
    }

    /// Counts per cell too: `n_cells` cells and each pool's cell, and the record of the
    /// release staged over them, if any.
    pub fn with_cells(
        mut self,
        n_cells: usize,
        pool_cells: &[Option<CellId>],
        release: Option<ReleaseLog>,
    ) -> Recorder {
        let homes: Vec<Option<usize>> = pool_cells.iter().map(|c| c.map(CellId::idx)).collect();
        self.cells = Homes::new(n_cells, &homes);
        self.release = release;
        self
    }

    #[inline]
    fn failover(&mut self, region: RegionId, f: impl Fn(&mut Failover)) {
        f(&mut self.failover[region.idx()]);
        f(&mut self.failover_interval[region.idx()]);
    }

    /// A user's request homed in `region` was offered.
    #[inline]
    pub fn region_offered(&mut self, region: RegionId) {
        self.regions.tally(region.idx()).offered += 1;
    }

    /// A router sent an attempt to `region`; `foreign` when its request is homed elsewhere.
    #[inline]
    pub fn region_attempt(&mut self, region: RegionId, is_retry: bool, foreign: bool) {
        let tally = self.regions.tally(region.idx());
        tally.attempts += 1;
        tally.retries += is_retry as u64;
        self.failover(region, |f| f.attempts += foreign as u64);
    }

    /// A failover cap refused an attempt at `region`.
    #[inline]
    pub fn region_capped(&mut self, region: RegionId) {
        self.failover(region, |f| f.refused += 1);
    }

    #[inline]
    pub fn region_succeeded(&mut self, region: RegionId, latency: SimDuration) {
        self.regions.succeeded(region.idx(), latency);
    }

    #[inline]
    pub fn region_failed(&mut self, region: RegionId, reason: FailureReason) {
        self.regions.tally(region.idx()).failed[reason.index()] += 1;
    }

    /// A customer's request in `cell` was offered.
    #[inline]
    pub fn cell_offered(&mut self, cell: CellId) {
        self.cells.tally(cell.idx()).offered += 1;
    }

    /// An attempt of a customer's request in `cell` went out (downstream calls are not
    /// counted: they are the cell's pools' work).
    #[inline]
    pub fn cell_attempt(&mut self, cell: CellId, is_retry: bool) {
        let tally = self.cells.tally(cell.idx());
        tally.attempts += 1;
        tally.retries += is_retry as u64;
    }

    #[inline]
    pub fn cell_succeeded(&mut self, cell: CellId, latency: SimDuration) {
        self.cells.succeeded(cell.idx(), latency);
    }

    #[inline]
    pub fn cell_failed(&mut self, cell: CellId, reason: FailureReason) {
        self.cells.tally(cell.idx()).failed[reason.index()] += 1;
    }

    /// The release's record, to write what it does as it does it.
    pub fn release(&mut self) -> Option<&mut ReleaseLog> {
        self.release.as_mut()
    }

    /// Adds each region's and each cell's pools up in the row closed last, once the model
    /// has annotated their pool sizes.
    pub fn close_regions(&mut self) {
        let Some(row) = self.rows.last_mut() else { return };
        for (region_idx, figures) in row.regions.iter_mut().enumerate() {
            figures.pools = self.regions.pool_figures(region_idx, &self.services, &row.services);
        }
        for (cell_idx, figures) in row.cells.iter_mut().enumerate() {
            figures.pools = self.cells.pool_figures(cell_idx, &self.services, &row.services);
        }
    }

    /// Per-region figures over the run, by region name; `services` are the pools' run
    /// summaries, in id order.
    pub fn region_summaries(
        &self,
        region_names: &[String],
        service_names: &[String],
        services: &[ServiceSummary],
        elapsed: SimDuration,
    ) -> BTreeMap<String, RegionSummary> {
        region_names
            .iter()
            .enumerate()
            .map(|(region_idx, name)| {
                let (mut requests, group) =
                    self.regions.summary(region_idx, &self.services, service_names, services, elapsed);
                let failed = self.regions.run[region_idx].failed[FailureReason::FailoverCapped.index()];
                requests.failed_by_reason.failover_capped = self.capped.then_some(failed);
                let failover = self.failover[region_idx];
                let summary = RegionSummary {
                    requests,
                    failover_attempts: failover.attempts,
                    failover_refused: failover.refused,
                    group,
                };
                (name.clone(), summary)
            })
            .collect()
    }

    /// Per-cell figures over the `elapsed` measured, by cell name, each with its customer
    /// share and what the release did to it; `services` are the pools' run summaries, in
    /// id order.
    pub fn cell_summaries(
        &self,
        cells: &[(String, f64)],
        service_names: &[String],
        services: &[ServiceSummary],
        elapsed: SimDuration,
        start_clock: Option<SimDuration>,
    ) -> BTreeMap<String, CellSummary> {
        let end = self.measured_from().after(elapsed);
        cells
            .iter()
            .enumerate()
            .map(|(cell_idx, (name, share))| {
                let (requests, group) =
                    self.cells.summary(cell_idx, &self.services, service_names, services, elapsed);
                let release = self.release.as_ref().and_then(|log| log.cell(cell_idx, end, start_clock));
                (name.clone(), CellSummary { customer_share: *share, requests, group, release })
            })
            .collect()
    }

    /// What the release did, with its blast radius; `None` without a release.
    pub fn release_summary(
        &self,
        cells: &[(String, f64)],
        elapsed: SimDuration,
        start_clock: Option<SimDuration>,
    ) -> Option<ReleaseSummary> {
        self.release.as_ref().map(|log| log.summary(cells, SimTime(elapsed.0), start_clock))
    }

    /// The meter of `service`.
    #[inline]
    pub fn service(&mut self, service: ServiceId) -> &mut ServiceMeter {
        &mut self.services[service.idx()]
    }

    /// The class's tally for the interval in progress. Counts land only there, and
    /// `close_interval` adds them into the run's: one write per count on the hot path.
    #[inline]
    fn tally(&mut self, class: ClassId) -> &mut Tally {
        &mut self.interval[class.idx()]
    }

    #[inline]
    pub fn offered(&mut self, class: ClassId) {
        self.events.arrivals += 1;
        self.tally(class).offered += 1;
    }

    /// The client's hop tally for the interval in progress, added into the run's when it
    /// closes (as `tally`).
    #[inline]
    fn hop(&mut self, client: ClientId) -> &mut HopTally {
        &mut self.hops_interval[client.idx()]
    }

    /// An attempt went out through `client`; a user's request's (`top_level`) also counts
    /// in its class's figures.
    #[inline]
    pub fn attempt_sent(&mut self, class: ClassId, is_retry: bool, top_level: bool, client: ClientId) {
        self.events.sends += 1;
        self.hop(client).attempts += 1;
        if top_level {
            let tally = self.tally(class);
            tally.attempts += 1;
            tally.retries += is_retry as u64;
        }
    }

    /// A request started through `client`.
    #[inline]
    pub fn hop_request(&mut self, client: ClientId) {
        self.hop(client).requests += 1;
    }

    /// A request through `client` finished for good.
    #[inline]
    pub fn hop_finished(&mut self, client: ClientId, succeeded: bool) {
        let hop = self.hop(client);
        hop.succeeded += succeeded as u64;
        hop.failed += !succeeded as u64;
    }

    /// A hedging client sent another attempt while one was still out.
    pub fn hedge_sent(&mut self, client: ClientId) {
        self.hop(client).hedges += 1;
    }

    /// A user of `class` tries again by hand through `client`.
    pub fn human_retry(&mut self, class: ClassId, client: ClientId) {
        self.hop(client).human_retries += 1;
        self.tally(class).human_retries += 1;
    }

    /// Per-hop figures, by client name; `offered` is the users' requests, so
    /// `attempts_per_offered` is the amplification at that depth of the chain.
    /// `breakers` holds each client's breaker over the run, if it has one.
    pub fn hop_summaries(
        &self,
        client_names: &[String],
        offered: u64,
        breakers: Vec<Option<BreakerSummary>>,
    ) -> BTreeMap<String, HopSummary> {
        client_names
            .iter()
            .zip(&self.hops)
            .zip(breakers)
            .map(|((name, hop), breaker)| {
                let per = |n: u64, d: u64| if d == 0 { 0.0 } else { n as f64 / d as f64 };
                let summary = HopSummary {
                    requests: hop.requests,
                    attempts: hop.attempts,
                    succeeded: hop.succeeded,
                    failed: hop.failed,
                    amplification: per(hop.attempts, hop.requests),
                    attempts_per_offered: per(hop.attempts, offered),
                    hedges: hop.hedges,
                    human_retries: hop.human_retries,
                    breaker,
                };
                (name.clone(), summary)
            })
            .collect()
    }

    #[inline]
    pub fn attempt_answered(&mut self, class: ClassId, latency: SimDuration) {
        self.attempt_latency[class.idx()].record(latency.0);
    }

    /// The index of the interval in progress, which a new request keeps as its arrival
    /// interval (`succeeded`, `failed`).
    #[inline]
    pub fn open_interval(&self) -> u32 {
        self.open
    }

    /// A user's request offered in interval `arrival` succeeded after `latency`.
    #[inline]
    pub fn succeeded(&mut self, class: ClassId, latency: SimDuration, arrival: u32) {
        // Recorded once, in the interval's histogram; `close_interval` merges it into the
        // run's, so the hot path pays for one histogram write, not two.
        let tally = self.tally(class);
        tally.succeeded += 1;
        tally.latency.record(latency.0);
        self.settled(class, arrival).succeeded += 1;
    }

    /// A user's request offered in interval `arrival` failed for good.
    #[inline]
    pub fn failed(&mut self, class: ClassId, reason: FailureReason, arrival: u32) {
        self.tally(class).failed[reason.index()] += 1;
        self.settled(class, arrival).failed += 1;
    }

    #[inline]
    fn settled(&mut self, class: ClassId, arrival: u32) -> &mut Settled {
        let n_classes = self.run.len();
        &mut self.by_arrival[arrival as usize * n_classes + class.idx()]
    }

    #[inline]
    pub fn wasted(&mut self, class: ClassId, cpu: SimDuration) {
        let tally = self.tally(class);
        tally.wasted_cpu_ns += cpu.0 as u128;
        tally.wasted_attempts += 1;
    }

    #[inline]
    pub fn in_flight(&mut self, n: u64) {
        self.peak_in_flight = self.peak_in_flight.max(n);
    }

    /// Closes the interval ending at `now`. An empty span adds no row, but what it
    /// recorded still reaches the run's totals.
    pub fn close_interval(&mut self, now: SimTime) {
        let span = now.since(self.interval_start).0;
        if span == 0 {
            for (tally, run) in self.interval.iter_mut().zip(&mut self.run) {
                merge(run, tally);
                tally.reset();
            }
            self.regions.close_interval(false);
            self.cells.close_interval(false);
            self.failover_interval.fill(Failover::default());
            self.close_hops();
            self.services.iter_mut().for_each(ServiceMeter::fold_counts);
            return;
        }
        // With one class the total is that class: no merge, no second set of quantiles.
        let single = self.interval.len() == 1;
        let total = &mut self.interval_total;
        total.reset();
        let classes: Vec<RequestFigures> = self
            .interval
            .iter_mut()
            .zip(&mut self.run)
            .map(|(tally, run)| {
                merge(run, tally);
                if !single {
                    merge(total, tally);
                }
                let figures = figures(tally);
                tally.reset();
                figures
            })
            .collect();
        let total = match classes.as_slice() {
            [only] => only.clone(),
            _ => figures(&self.interval_total),
        };
        let services = self.services.iter_mut().map(|meter| meter.close_interval(now, span)).collect();
        let clients = self.hops_interval.iter().map(HopTally::figures).collect();
        self.close_hops();
        let regions = self
            .regions
            .close_interval(true)
            .into_iter()
            .zip(&self.failover_interval)
            .map(|(requests, failover)| RegionFigures {
                requests,
                failover_attempts: failover.attempts,
                failover_refused: failover.refused,
                pools: ServiceFigures::default(),
            })
            .collect();
        self.failover_interval.fill(Failover::default());
        let cells = self
            .cells
            .close_interval(true)
            .into_iter()
            .map(|requests| CellFigures { requests, pools: ServiceFigures::default() })
            .collect();
        self.rows.push(IntervalRow {
            start: self.interval_start,
            end: now,
            total,
            classes,
            services,
            clients,
            regions,
            cells,
        });
        self.interval_start = now;
        self.open += 1;
        self.by_arrival.extend(std::iter::repeat_n(Settled::default(), self.run.len()));
    }

    /// Adds the interval's hop tallies into the run's and starts them again.
    fn close_hops(&mut self) {
        for (run, interval) in self.hops.iter_mut().zip(&mut self.hops_interval) {
            run.add(interval);
            *interval = HopTally::default();
        }
    }

    /// Starts the measured stretch at `now`, the end of the warm-up, just after its last
    /// interval closed: every whole-run figure restarts from zero (Law and Kelton's "reset
    /// the statistics"), while the series goes on. `in_flight` holds the users' requests
    /// alive then; each is counted when it settles, so afterwards
    /// offered + in flight at the start = succeeded + failed + in flight at the end.
    pub fn start_measuring(&mut self, now: SimTime, in_flight: InFlight) {
        self.run.iter_mut().for_each(Tally::reset);
        self.attempt_latency.iter_mut().for_each(LatencyHistogram::reset);
        self.hops.fill(HopTally::default());
        self.regions.start_measuring(in_flight.regions);
        self.cells.start_measuring(in_flight.cells);
        self.failover.fill(Failover::default());
        for meter in &mut self.services {
            meter.start_measuring(now);
        }
        self.measuring = Some((now, in_flight.classes));
    }

    /// When the measured stretch began: the end of the warm-up, or the start of the run.
    pub fn measured_from(&self) -> SimTime {
        self.measuring.as_ref().map_or(SimTime::ZERO, |(from, _)| *from)
    }

    /// Whether `start_measuring` was called.
    pub fn measuring(&self) -> bool {
        self.measuring.is_some()
    }

    /// The row closed last.
    pub fn last_row(&self) -> Option<&IntervalRow> {
        self.rows.last()
    }

    /// Lets the model add what only it knows (pool sizes, metric staleness) to the row
    /// closed last.
    pub fn annotate_last_row(&mut self, annotate: impl FnOnce(&mut IntervalRow)) {
        if let Some(row) = self.rows.last_mut() {
            annotate(row);
        }
    }

    pub fn mark(&mut self, at: SimTime, kind: MarkerKind, label: String) {
        self.markers.push(Marker { at, kind, label });
    }

    pub fn alert_fired(&mut self, at: SimTime, alert: AlertId) {
        self.alert_firings.push(Firing { alert, fired: at, resolved: None });
    }

    pub fn alert_resolved(&mut self, at: SimTime, alert: AlertId) {
        let open = self.alert_firings.iter_mut().rev().find(|f| f.alert == alert && f.resolved.is_none());
        if let Some(firing) = open {
            firing.resolved = Some(at);
        }
    }

    /// Every time an alert fired so far, in firing order.
    pub fn alert_firings(&self) -> &[Firing] {
        &self.alert_firings
    }

    /// Builds the run's request summaries (total and per class) over `elapsed`.
    pub fn request_summaries(
        &self,
        class_names: &[String],
        in_flight_per_class: &[u64],
        elapsed: SimDuration,
    ) -> (RequestSummary, BTreeMap<String, RequestSummary>) {
        let mut total = Tally::default();
        let mut total_attempt_latency = LatencyHistogram::default();
        let mut classes = BTreeMap::new();
        let at_start = |idx: usize| self.measuring.as_ref().map(|(_, at_start)| at_start[idx]);
        for (idx, tally) in self.run.iter().enumerate() {
            merge(&mut total, tally);
            total_attempt_latency.add(&self.attempt_latency[idx]);
            let counts = (in_flight_per_class[idx], at_start(idx));
            let summary = request_summary(tally, &self.attempt_latency[idx], counts, elapsed);
            classes.insert(class_names[idx].clone(), summary);
        }
        let in_flight_total = in_flight_per_class.iter().sum();
        let at_start_total = self.measuring.as_ref().map(|(_, at_start)| at_start.iter().sum());
        let mut total =
            request_summary(&total, &total_attempt_latency, (in_flight_total, at_start_total), elapsed);
        if self.capped {
            total.failed_by_reason.failover_capped =
                Some(self.run.iter().map(|t| t.failed[FailureReason::FailoverCapped.index()]).sum());
            for (idx, summary) in classes.values_mut().enumerate() {
                summary.failed_by_reason.failover_capped =
                    Some(self.run[idx].failed[FailureReason::FailoverCapped.index()]);
            }
        }
        (total, classes)
    }

    pub fn service_summary(
        &self,
        service: ServiceId,
        elapsed: SimDuration,
        instances: u32,
    ) -> ServiceSummary {
        self.services[service.idx()].summary(elapsed.0, instances)
    }

    /// A provider's answer times (empty for a service).
    pub fn answer_times(&self, service: ServiceId) -> Percentiles {
        self.services[service.idx()].stay.as_ref().map(LatencyHistogram::percentiles_ms).unwrap_or_default()
    }

    pub fn engine_summary(&self, events_handled: u64) -> EngineSummary {
        let e = &self.events;
        let total = e.arrivals + e.sends + e.completions + e.timeouts + e.backoff_wakes;
        EngineSummary {
            events: EventCounts { total, ..e.clone() },
            events_handled,
            peak_in_flight: self.peak_in_flight,
        }
    }

    /// The series of every interval closed, each row with the outcomes of the requests
    /// offered in it (`*_by_arrival`), now that the run is over.
    pub fn into_series(
        mut self,
        interval: SimDuration,
        start_clock: Option<SimDuration>,
        class_names: Vec<String>,
        service_names: Vec<String>,
        client_names: Vec<String>,
        region_names: Vec<String>,
    ) -> Series {
        let n_classes = self.run.len();
        for (row, settled) in self.rows.iter_mut().zip(self.by_arrival.chunks(n_classes.max(1))) {
            row.total.succeeded_by_arrival = 0;
            row.total.failed_by_arrival = 0;
            for (figures, settled) in row.classes.iter_mut().zip(settled) {
                figures.succeeded_by_arrival = settled.succeeded;
                figures.failed_by_arrival = settled.failed;
                row.total.succeeded_by_arrival += settled.succeeded;
                row.total.failed_by_arrival += settled.failed;
            }
        }
        Series {
            interval,
            start_clock,
            class_names,
            service_names,
            client_names,
            region_names,
            cell_names: Vec::new(),
            rows: self.rows,
            markers: self.markers,
            slo: None,
            metrics_fault: Vec::new(),
            providers: Vec::new(),
            calendar: None,
            warmup: SimDuration::ZERO,
        }
    }
}

pub(super) fn merge(into: &mut Tally, from: &Tally) {
    into.offered += from.offered;
    into.attempts += from.attempts;
    into.retries += from.retries;
    into.human_retries += from.human_retries;
    into.succeeded += from.succeeded;
    for (a, b) in into.failed.iter_mut().zip(from.failed) {
        *a += b;
    }
    into.wasted_cpu_ns += from.wasted_cpu_ns;
    into.wasted_attempts += from.wasted_attempts;
    into.latency.add(&from.latency);
}

pub(super) fn figures(tally: &Tally) -> RequestFigures {
    let [latency_p50_ms, latency_p90_ms, latency_p99_ms, latency_max_ms] =
        tally.latency.quantiles_ms([0.50, 0.90, 0.99, 1.0]);
    RequestFigures {
        offered: tally.offered,
        attempts: tally.attempts,
        retries: tally.retries,
        succeeded: tally.succeeded,
        failed: tally.failed,
        succeeded_by_arrival: 0,
        failed_by_arrival: 0,
        latency_p50_ms,
        latency_p90_ms,
        latency_p99_ms,
        latency_max_ms,
    }
}

/// The summary of `tally` over the `elapsed` measured; `in_flight` holds the requests alive
/// at the end and, with a warm-up, at its end (carried into the measured stretch).
pub(super) fn request_summary(
    tally: &Tally,
    attempt_latency: &LatencyHistogram,
    (in_flight, in_flight_at_start): (u64, Option<u64>),
    elapsed: SimDuration,
) -> RequestSummary {
    let f = |reason: FailureReason| tally.failed[reason.index()];
    let elapsed_s = elapsed.as_secs_f64().max(f64::MIN_POSITIVE);
    // The requests the measured stretch saw: those offered in it and those it took over.
    let seen = tally.offered + in_flight_at_start.unwrap_or(0);
    RequestSummary {
        offered: tally.offered,
        succeeded: tally.succeeded,
        failed: tally.failed_total(),
        in_flight,
        in_flight_at_start,
        failed_by_reason: FailureCounts {
            timeout: f(FailureReason::Timeout),
            rejected: f(FailureReason::Rejected),
            dependency_error: f(FailureReason::DependencyError),
            circuit_open: f(FailureReason::CircuitOpen),
            retry_budget_exhausted: f(FailureReason::RetryBudgetExhausted),
            deadline_exceeded: f(FailureReason::DeadlineExceeded),
            no_capacity: f(FailureReason::NoCapacity),
            failover_capped: None,
        },
        success_rate: if seen == 0 { 1.0 } else { tally.succeeded as f64 / seen as f64 },
        goodput_per_s: tally.succeeded as f64 / elapsed_s,
        attempts: tally.attempts,
        retries: tally.retries,
        amplification: if tally.offered == 0 { 0.0 } else { tally.attempts as f64 / tally.offered as f64 },
        human_retries: tally.human_retries,
        latency_ms: tally.latency.percentiles_ms(),
        attempt_latency_ms: attempt_latency.percentiles_ms(),
        wasted_cpu_s: tally.wasted_cpu_ns as f64 / 1e9,
        wasted_attempts: tally.wasted_attempts,
    }
}
