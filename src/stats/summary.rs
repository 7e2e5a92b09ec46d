//! `summary.json`: the versioned public contract users build CI on.
//!
//! Invariant: field names and meanings are stable within a `schema_version`; adding a
//! field is allowed, renaming or changing a meaning bumps the version. Percentiles come
//! from histograms with 3 significant digits, never from stored samples.

pub use super::slo::{Episode, Moment, SloSummary};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bumped whenever a field changes name or meaning.
pub const SCHEMA_VERSION: u32 = 2;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub schema_version: u32,
    pub stormsim_version: String,
    pub scenario: ScenarioInfo,
    pub seed: u64,
    /// The random generator algorithm and how streams are derived.
    pub generator: String,
    /// True when the run stopped early (a guard tripped); figures cover `simulated_s`.
    pub partial: bool,
    /// Why the run stopped early, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped_by: Option<String>,
    /// Simulated seconds covered.
    pub simulated_s: f64,
    /// The warm-up, `[simulation] warmup`: the first seconds, left out of every figure
    /// below except `engine`, `alerts` and `timeline` (statistics restart at its end);
    /// absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_s: Option<f64>,
    /// With a warm-up: the seconds measured, from its end to the end of the run; what
    /// rates such as `goodput_per_s` and time averages are taken over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured_s: Option<f64>,
    pub requests: RequestSummary,
    pub classes: BTreeMap<String, RequestSummary>,
    pub services: BTreeMap<String, ServiceSummary>,
    /// Per client (a hop of the call chain): its requests and attempts.
    pub clients: BTreeMap<String, HopSummary>,
    /// Per region; absent without regions.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub regions: BTreeMap<String, RegionSummary>,
    /// Per external dependency, its providers; absent without dependencies. Providers are
    /// pools of `timeseries.csv` but not of `services`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dependencies: BTreeMap<String, DependencySummary>,
    /// Per cell; absent without cells.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub cells: BTreeMap<String, CellSummary>,
    /// The staged release and its blast radius; absent without `[release]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseSummary>,
    /// SLO figures against the scenario's `[slo]`.
    pub slo: SloSummary,
    /// Alerts that fired, in firing order.
    pub alerts: Vec<AlertFiring>,
    /// Timeline entries, operator actions and alerts as they happened.
    pub timeline: Vec<MarkerSummary>,
    pub engine: EngineSummary,
}

/// A dependency's providers, as its callers met them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DependencySummary {
    /// By name.
    pub providers: BTreeMap<String, ProviderSummary>,
}

/// One provider over the run. `calls` = `succeeded` + `errors` + `late` + `refused` + calls
/// still out at the end or lost to an outage.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ProviderSummary {
    /// 1 for the primary, then in failover order.
    pub priority: u32,
    /// Its pool's name in `timeseries.csv`: `dependency/provider`.
    pub pool: String,
    /// Calls that reached it.
    pub calls: u64,
    /// Its share of the calls to the dependency.
    pub share_of_calls: f64,
    /// Answered without an error while the caller still waited.
    pub succeeded: u64,
    /// Answered with an error while the caller still waited.
    pub errors: u64,
    /// Answered after the caller had stopped waiting: its timeout or deadline passed, or
    /// another hedge won.
    pub late: u64,
    /// Refused at once, over its `concurrency`.
    pub refused: u64,
    /// `succeeded` / `calls`.
    pub success_rate: f64,
    /// Answer time of every answer, late ones included.
    pub latency_ms: Percentiles,
    /// Calls in progress at once, time-average.
    pub in_flight_mean: f64,
}

/// One client's traffic over the run, downstream calls included.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HopSummary {
    /// Requests through this client: users' (the first hop) or calls made by attempts.
    pub requests: u64,
    pub attempts: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// attempts / requests at this hop.
    pub amplification: f64,
    /// attempts / users' offered requests: the amplification at this depth of the chain.
    pub attempts_per_offered: f64,
    /// Attempts a hedging client sent while another was still out.
    pub hedges: u64,
    /// Tries users made by hand after a failure (each is one of `requests`).
    pub human_retries: u64,
    /// Its circuit breaker over the run, if its limiter is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaker: Option<BreakerSummary>,
}

/// One region over the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RegionSummary {
    /// Users' requests homed in the region: offered, outcomes and latency. Its `attempts`
    /// and `retries` are those routers sent to the region, whatever their home, so its
    /// `amplification` is the load the region took per request homed there.
    pub requests: RequestSummary,
    /// Attempts sent to the region for requests homed elsewhere (failover and
    /// cross-region retries).
    pub failover_attempts: u64,
    /// Attempts a failover cap refused at the region.
    pub failover_refused: u64,
    /// The region's pools (`service@region`) added up.
    #[serde(flatten)]
    pub group: PoolGroupSummary,
}

/// Pools placed together (a region's, a cell's) over the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PoolGroupSummary {
    /// The pools (`service@place`).
    pub pools: Vec<String>,
    /// CPU busy / CPU available over the pools together.
    pub cpu_utilisation: f64,
    pub worker_utilisation: f64,
    /// Summed over the pools.
    pub queue_length_mean: f64,
    /// Ready at the end, over the pools.
    pub instances: u32,
    pub instance_seconds: f64,
}

/// One cell over the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellSummary {
    /// The share of customers homed in the cell, a fraction.
    pub customer_share: f64,
    /// Its customers' requests: offered, outcomes and latency.
    pub requests: RequestSummary,
    #[serde(flatten)]
    pub group: PoolGroupSummary,
    /// What the release did to the cell; absent if it never reached it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<CellRelease>,
}

/// A cell the release reached.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellRelease {
    /// The wave that reached it, from 1.
    pub wave: u32,
    pub reached: Moment,
    /// When a rollback restored it; `None`: it kept the change to the end of the run.
    pub restored: Option<Moment>,
    /// Seconds it ran the change.
    pub impacted_s: f64,
}

/// A staged release over the cells, and how far its harm could reach.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReleaseSummary {
    /// What the release changes ("CPU cost x1.4").
    pub change: String,
    pub waves: u32,
    /// Waves the release reached (a halted release stops at the wave its gate failed).
    pub waves_applied: u32,
    /// Cells reached, in the order the waves reached them.
    pub cells_reached: Vec<String>,
    /// `complete` (every wave reached and passed its gate), `halted` or `in_progress`
    /// (the run ended during a bake).
    pub outcome: String,
    /// Where and why the health gate stopped the rollout.
    pub halted: Option<GateHalt>,
    /// When the reached cells were restored, if the release rolls back.
    pub rolled_back: Option<Moment>,
    pub blast_radius: BlastRadius,
}

/// The health gate's failing check at the end of a wave's bake.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GateHalt {
    pub at: Moment,
    /// The wave whose bake failed, from 1.
    pub wave: u32,
    pub cell: String,
    /// `success_rate` or `latency_p99_ms`.
    pub figure: String,
    /// The cell's figure over the bake, and the gate's threshold in the same unit.
    pub value: f64,
    pub threshold: f64,
}

/// Customers exposed to the change, weighted by how long: each reached cell's customer
/// share times the time from its wave until its rollback (or the run's end).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlastRadius {
    /// The share of customers whose cell the release reached.
    pub customer_share: f64,
    /// Sum over reached cells of share x minutes exposed.
    pub customer_minutes: f64,
    /// `customer_minutes` over the run's minutes: the share of all customer-time exposed.
    pub customer_time_share: f64,
}

/// How a client's circuit breaker spent the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BreakerSummary {
    /// Times it opened.
    pub openings: u64,
    pub open_s: f64,
    pub half_open_s: f64,
    /// `closed`, `open` or `half_open` when the run ended.
    pub state_at_end: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertFiring {
    pub name: String,
    pub fired: Moment,
    pub resolved: Option<Moment>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarkerSummary {
    pub at: Moment,
    /// `timeline`, `operator` or `alert`.
    pub kind: String,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScenarioInfo {
    pub name: String,
    /// FNV-1a 64 of the resolved scenario, hex: equal hashes mean the same model input.
    pub hash: String,
    /// The `[variants.NAME]` the run applied; absent for the base scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// What users saw: requests after all retries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestSummary {
    /// First attempts created by sources.
    pub offered: u64,
    pub succeeded: u64,
    pub failed: u64,
    /// Offered but neither succeeded nor failed when the run ended.
    pub in_flight: u64,
    /// With a warm-up: requests in flight when it ended, counted in `succeeded` and
    /// `failed` when they settled, so offered + in_flight_at_start = succeeded + failed +
    /// in_flight. Absent without a warm-up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_flight_at_start: Option<u64>,
    /// Failed requests by the reason of their final failure.
    pub failed_by_reason: FailureCounts,
    /// succeeded / offered (1 when nothing was offered); with a warm-up, succeeded /
    /// (offered + in_flight_at_start), the requests the measured stretch saw through.
    pub success_rate: f64,
    /// Successes per simulated second.
    pub goodput_per_s: f64,
    /// Every try, retries included.
    pub attempts: u64,
    pub retries: u64,
    /// attempts / offered.
    pub amplification: f64,
    /// Tries users made by hand after a failure; such a request is offered once and
    /// counts once, by its last try's outcome.
    pub human_retries: u64,
    /// End-to-end latency of succeeded requests, retries, backoff and users' think time
    /// included.
    pub latency_ms: Percentiles,
    /// Latency of every attempt that got an answer (success or rejection).
    pub attempt_latency_ms: Percentiles,
    /// CPU spent on attempts whose caller had already given up.
    pub wasted_cpu_s: f64,
    pub wasted_attempts: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FailureCounts {
    pub timeout: u64,
    pub rejected: u64,
    pub dependency_error: u64,
    pub circuit_open: u64,
    pub retry_budget_exhausted: u64,
    pub deadline_exceeded: u64,
    pub no_capacity: u64,
    /// Present when a router caps failover traffic (`failover_cap`); absent otherwise, so
    /// a scenario without one writes what it always wrote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_capped: Option<u64>,
}

/// Quantiles of a histogram (3 significant digits); all `null` when it is empty.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: u64,
    /// Exact mean (from a running sum, not the histogram).
    pub mean: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p99: Option<f64>,
    pub p999: Option<f64>,
    pub max: Option<f64>,
}

/// A service (pool of instances) over the whole run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServiceSummary {
    /// CPU busy time / CPU time available (ready instances x cores).
    pub cpu_utilisation: f64,
    /// Time-average busy workers / workers available.
    pub worker_utilisation: f64,
    /// Time-average attempts waiting for a worker, summed over instances.
    pub queue_length_mean: f64,
    pub queue_length_max: u64,
    /// Attempts that reached an instance.
    pub arrived: u64,
    /// Attempts admitted and served to completion.
    pub completed: u64,
    /// Attempts refused: queue full, shed, drained, over the concurrency limit, or dropped
    /// by CoDel.
    pub rejected: u64,
    /// Of `rejected`, those turned away by the concurrency limit.
    pub rejected_by_limit: u64,
    /// Answers that were errors (`error_rate`), to callers still waiting.
    pub errors: u64,
    /// Queued attempts dropped unserved because their caller had given up
    /// (deadline-aware dropping).
    pub dropped_abandoned: u64,
    /// CPU per completed attempt, connection setup included.
    pub cpu_per_completion_ms: f64,
    /// CPU spent on connection setup (TLS handshakes).
    pub connection_cpu_s: f64,
    /// CPU spent answering rejections at the door (`reject_cpu` each); part of
    /// `cpu_utilisation`, not of `cpu_per_completion_ms`.
    pub reject_cpu_s: f64,
    /// Lowest and highest concurrency limit any instance had over the run; `null` when the
    /// service has none.
    pub concurrency_limit_min: Option<u32>,
    pub concurrency_limit_max: Option<u32>,
    /// Arrival to getting a worker, admitted attempts.
    pub queue_wait_ms: Percentiles,
    /// Getting a worker to getting a core.
    pub core_wait_ms: Percentiles,
    /// Share of admitted attempts that waited in the queue for a worker (Erlang C's P(wait)
    /// when workers are the servers); `null` when none was admitted.
    pub wait_probability: Option<f64>,
    /// Share of attempts holding a worker that then waited for a core: P(wait) when cores,
    /// fewer than workers, are the servers.
    pub core_wait_probability: Option<f64>,
    /// Little's law inputs: time-average attempts at the service (L), completions per
    /// second (lambda) and mean time from arrival to completion (W). L = lambda * W.
    pub mean_in_system: f64,
    pub throughput_per_s: f64,
    pub mean_time_in_system_ms: f64,
    pub wasted_cpu_s: f64,
    /// Attempts served to completion after their caller had given up.
    pub wasted_attempts: u64,
    /// Instances ready at the end.
    pub instances: u32,
    /// Most instances ready at once, and fewest.
    pub instances_ready_max: u32,
    pub instances_ready_min: u32,
    /// Instance-seconds paid for: booting, ready or draining (cost).
    pub instance_seconds: f64,
    pub instance_hours: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EngineSummary {
    /// Model events by kind. `total` adds them all, which is how `bench/baseline` counts its
    /// retry model; on M/M/c it counts arrivals and completions only (a send is part of its
    /// arrival there), so compare with `arrivals + completions`.
    pub events: EventCounts,
    /// Events popped from the queue, stale timers and interval ends included: what the
    /// engine did (on M/M/c, the loop's count plus one per interval).
    pub events_handled: u64,
    /// Most requests and attempts alive at once.
    pub peak_in_flight: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EventCounts {
    pub arrivals: u64,
    pub sends: u64,
    pub completions: u64,
    pub timeouts: u64,
    pub backoff_wakes: u64,
    pub total: u64,
}
