//! Per-interval time series: one row per interval, O(intervals) memory.
//!
//! A row is closed at each interval boundary from counters and histograms that are then
//! reset, so nothing per request is kept. `report::csv` and `report::chart` read these.

use crate::engine::{SimDuration, SimTime};
use crate::outcome::FailureReason;

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Series {
    pub interval: SimDuration,
    /// Clock time of day at t = 0, if the scenario gave one.
    pub start_clock: Option<SimDuration>,
    pub class_names: Vec<String>,
    pub service_names: Vec<String>,
    #[serde(default)]
    pub client_names: Vec<String>,
    /// Empty unless the scenario has regions.
    #[serde(default)]
    pub region_names: Vec<String>,
    /// Empty unless the scenario has cells.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cell_names: Vec<String>,
    pub rows: Vec<IntervalRow>,
    /// Timeline actions, operator actions and alerts, in time order.
    pub markers: Vec<Marker>,
    /// The SLO and its moments (first breach, detection, recovery), for the charts; set
    /// after the run from the same figures as the summary's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<SloMarks>,
    /// Indexed by service id: whether the scenario breaks the service's metrics (a timeline
    /// or operator action that stops some instances reporting), so the charts show staleness.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics_fault: Vec<bool>,
    /// Indexed by service id: whether the pool is a dependency's provider (charted apart:
    /// it has no CPU or capacity of ours).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<bool>,
    /// The date and time zone of t = 0, when the scenario names a date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar: Option<crate::calendar::Calendar>,
    /// The warm-up: rows that start before it are kept and marked, but no summary figure,
    /// SLO figure or threshold counts them (zero: none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub warmup: SimDuration,
}

fn is_zero(duration: &SimDuration) -> bool {
    *duration == SimDuration::ZERO
}

/// What the charts draw of the SLO: the target line and the summary's moments.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SloMarks {
    /// The success rate an interval must reach, a fraction.
    pub target: f64,
    pub first_breach: Option<SimTime>,
    pub detected: Option<SimTime>,
    pub recovered: Option<SimTime>,
}

impl Series {
    /// The intervals that overlap `[from, to)`, with the markers and SLO moments inside it:
    /// what a chart zoomed on that stretch draws.
    pub fn window(&self, from: SimTime, to: SimTime) -> Series {
        let inside = |at: SimTime| at >= from && at < to;
        let mut res = self.clone();
        res.rows.retain(|row| row.end > from && row.start < to);
        res.markers.retain(|marker| inside(marker.at));
        if let Some(slo) = &mut res.slo {
            for moment in [&mut slo.first_breach, &mut slo.detected, &mut slo.recovered] {
                *moment = moment.filter(|&at| inside(at));
            }
        }
        res
    }

    /// The rows after the warm-up: what the summary, the SLO figures and thresholds
    /// measure. Every row when there is no warm-up.
    pub fn measured_rows(&self) -> &[IntervalRow] {
        let first = self.rows.partition_point(|row| row.start < SimTime(self.warmup.0));
        &self.rows[first..]
    }

    /// Whether `row` lies in the warm-up (it starts before the warm-up ends).
    pub fn in_warmup(&self, row: &IntervalRow) -> bool {
        row.start < SimTime(self.warmup.0)
    }

    /// A series without intervals, for results kept without their series.
    pub fn empty() -> Series {
        Series {
            interval: SimDuration(0),
            start_clock: None,
            class_names: Vec::new(),
            service_names: Vec::new(),
            client_names: Vec::new(),
            region_names: Vec::new(),
            cell_names: Vec::new(),
            rows: Vec::new(),
            markers: Vec::new(),
            slo: None,
            metrics_fault: Vec::new(),
            providers: Vec::new(),
            calendar: None,
            warmup: SimDuration::ZERO,
        }
    }
}

/// Something that happened at a moment: drawn as a line on the charts.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Marker {
    pub at: SimTime,
    pub kind: MarkerKind,
    pub label: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum MarkerKind {
    /// An entry of the scenario's timeline.
    Timeline,
    /// An alert fired.
    Alert,
    /// An operator acted on an alert.
    Operator,
    /// A staged release reached a wave of cells, or was rolled back.
    Release,
}

impl MarkerKind {
    pub fn name(self) -> &'static str {
        match self {
            MarkerKind::Timeline => "timeline",
            MarkerKind::Alert => "alert",
            MarkerKind::Operator => "operator",
            MarkerKind::Release => "release",
        }
    }
}

#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IntervalRow {
    pub start: SimTime,
    pub end: SimTime,
    /// All classes together.
    pub total: RequestFigures,
    /// Indexed by class id.
    pub classes: Vec<RequestFigures>,
    /// Indexed by service id.
    pub services: Vec<ServiceFigures>,
    /// Indexed by client id: each hop's traffic, downstream calls included.
    #[serde(default)]
    pub clients: Vec<ClientFigures>,
    /// Indexed by region id; empty without regions.
    #[serde(default)]
    pub regions: Vec<RegionFigures>,
    /// Indexed by cell id; empty without cells.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cells: Vec<CellFigures>,
}

/// One cell in one interval.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CellFigures {
    /// Its customers' requests (offered, outcomes, latency).
    pub requests: RequestFigures,
    /// The cell's pools together, as a region's.
    pub pools: ServiceFigures,
}

/// One region in one interval.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RegionFigures {
    /// Users' requests homed in the region (offered, outcomes, latency); `attempts` and
    /// `retries` are those routers sent to the region, whatever their home.
    pub requests: RequestFigures,
    /// Attempts sent to the region for requests homed elsewhere (failover and
    /// cross-region retries).
    pub failover_attempts: u64,
    /// Attempts a failover cap refused at the region.
    pub failover_refused: u64,
    /// The region's pools together: utilisations over their summed capacity, counts and
    /// queue lengths summed.
    pub pools: ServiceFigures,
}

/// One client's (hop's) traffic in one interval.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClientFigures {
    /// Requests started through the client (a user's try, or a downstream call).
    pub requests: u64,
    pub attempts: u64,
    /// Attempts a hedging client sent while another was still out.
    pub hedges: u64,
    /// Tries users made by hand after a failure.
    pub human_retries: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Its circuit breaker, if its limiter is one.
    pub breaker: Option<BreakerFigures>,
}

/// A circuit breaker over one interval.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BreakerFigures {
    /// At the interval's end.
    pub state: BreakerPhase,
    /// Times it opened in the interval.
    pub openings: u64,
    pub open_s: f64,
    pub half_open_s: f64,
}

/// A circuit breaker's state as reports name it. The breaker (`model::limiter::breaker`)
/// computes it; it is defined here, with the figures that record it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerPhase {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerPhase {
    pub fn name(self) -> &'static str {
        match self {
            BreakerPhase::Closed => "closed",
            BreakerPhase::Open => "open",
            BreakerPhase::HalfOpen => "half_open",
        }
    }
}

/// Request-level figures for one interval. Requests are counted in the interval where
/// the event happened: offered when created, succeeded/failed when finished; the
/// `*_by_arrival` counts are the outcomes of the requests offered in the interval,
/// whenever they settled.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RequestFigures {
    pub offered: u64,
    pub attempts: u64,
    pub retries: u64,
    pub succeeded: u64,
    pub failed: [u64; FailureReason::COUNT],
    /// Of the requests offered in this interval, those that succeeded and those that failed
    /// by the end of the run (the rest were still in flight). Counted for the total and the
    /// classes; zero for regions and cells.
    #[serde(default)]
    pub succeeded_by_arrival: u64,
    #[serde(default)]
    pub failed_by_arrival: u64,
    /// End-to-end latency of requests that succeeded in this interval.
    pub latency_p50_ms: Option<f64>,
    pub latency_p90_ms: Option<f64>,
    pub latency_p99_ms: Option<f64>,
    pub latency_max_ms: Option<f64>,
}

impl RequestFigures {
    pub fn failed_total(&self) -> u64 {
        self.failed.iter().sum()
    }

    /// succeeded / (succeeded + failed) among requests that finished in the interval;
    /// `None` when none finished.
    pub fn success_rate(&self) -> Option<f64> {
        let finished = self.succeeded + self.failed_total();
        (finished > 0).then(|| self.succeeded as f64 / finished as f64)
    }

    /// succeeded / (succeeded + failed) among the requests offered in the interval that
    /// settled before the run ended; `None` when none did.
    pub fn success_rate_by_arrival(&self) -> Option<f64> {
        let settled = self.succeeded_by_arrival + self.failed_by_arrival;
        (settled > 0).then(|| self.succeeded_by_arrival as f64 / settled as f64)
    }
}

/// Service-level figures for one interval, time-averaged over the interval.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ServiceFigures {
    pub cpu_utilisation: f64,
    pub worker_utilisation: f64,
    pub queue_length_mean: f64,
    pub queue_length_max: u64,
    pub arrived: u64,
    pub completed: u64,
    pub rejected: u64,
    pub queue_wait_mean_ms: Option<f64>,
    /// Share of the attempts admitted in the interval that waited for a worker; not a
    /// `timeseries.csv` column.
    #[serde(default)]
    pub wait_probability: Option<f64>,
    pub wasted_cpu_s: f64,
    /// Answers that were errors, to callers still waiting.
    #[serde(default)]
    pub errors: u64,
    /// Mean time at the instance of the attempts completed (a provider's answer time).
    #[serde(default)]
    pub stay_mean_ms: Option<f64>,
    /// At the interval's end.
    pub instances_ready: u32,
    pub instances_desired: u32,
    pub instances_provisioning: u32,
    /// Time-average instances paid for (booting, ready, draining).
    pub instances_running_mean: f64,
    /// Age of the newest metric sample the autoscaler had at the interval's end.
    pub metrics_staleness_s: f64,
    /// The concurrency limit in force at the interval's end, averaged over ready instances;
    /// `None` without a limit or a ready instance.
    pub concurrency_limit: Option<f64>,
    /// Requests per second the ready instances can serve at the interval's end, at the
    /// CPU cost then in force: ready instances x cores / the mean CPU cost of a request
    /// (classes weighted by their share, connection setup included unless pooled). Drawn
    /// on the charts; not a `timeseries.csv` column.
    #[serde(default)]
    pub capacity_per_s: f64,
}
