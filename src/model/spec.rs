//! The resolved scenario: plain data the model is built from.
//!
//! Everything here has been checked by `scenario::resolve`: names are ids, units are
//! nanoseconds or per-second rates, distributions are parameterised, defaults are filled.
//! A `Scenario` is `Send + Sync` and shared by reference across parallel replications.

use super::alert::AlertSpec;
use super::autoscaler::AutoscalerSpec;
use super::limiter::LimiterSpec;
use super::overload::OverloadControl;
use super::timeline::TimelineEntry;
use crate::engine::{SimDuration, SimTime};
use crate::ids::{CellId, ClassId, ClientId, RegionId, ServiceId};

pub use super::cell::{Cell, Change, Gate, Release};
pub use super::region::{Destination, ObservedDetector, Region, RetryRegion, RouterSpec};

/// Defined with the figures computed against it, so the statistics need nothing from here.
pub use crate::stats::slo::Slo;

#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// Simulated time the run covers.
    pub duration: SimDuration,
    /// Clock time of day at t = 0 (seconds after midnight), for display only.
    pub start_clock: Option<SimDuration>,
    /// The date and time zone of t = 0, when the scenario names a date.
    pub calendar: Option<crate::calendar::Calendar>,
    /// Width of one time-series interval.
    pub interval: SimDuration,
    /// Left out of every figure: statistics reset at its end, a whole number of intervals
    /// into the run (zero: none).
    pub warmup: SimDuration,
    /// Seed used when the command line gives none.
    pub seed: u64,
    pub guard: Guard,
    pub classes: Vec<RequestClass>,
    pub sources: Vec<Source>,
    pub clients: Vec<Client>,
    /// Pools: a service deployed in regions is one entry per region (`name@region`).
    pub services: Vec<Service>,
    /// Empty unless the scenario declares regions.
    pub regions: Vec<Region>,
    /// External dependencies; each provider is a pool of `services` (`dependency/provider`).
    pub dependencies: Vec<DependencySpec>,
    /// Empty unless the scenario declares cells (never both cells and regions).
    pub cells: Vec<Cell>,
    /// A staged release over the cells, if any.
    pub release: Option<Release>,
    /// The `[variants.NAME]` merged into the base, if any.
    pub variant: Option<String>,
    /// `scenario::hash` of the resolved scenario text this was loaded as (empty for a
    /// scenario built in code): the one fingerprint of a run's input in every output.
    pub hash: String,
    /// Faults and operator actions at stated times, sorted by time.
    pub timeline: Vec<TimelineEntry>,
    pub alerts: Vec<AlertSpec>,
    pub slo: Slo,
}

/// Bounds that stop a runaway run with a clear error instead of exhausting memory.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Guard {
    /// Requests plus attempts alive at once.
    pub max_in_flight: u64,
    /// Events handled in one run.
    pub max_events: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RequestClass {
    pub name: String,
    /// Fraction of each source's arrivals in this class; shares sum to 1.
    pub share: f64,
    /// Shed first when a service runs hot (Google SRE's SHEDDABLE); otherwise critical.
    pub sheddable: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    pub name: String,
    /// The client every request from this source goes through.
    pub client: ClientId,
    pub kind: SourceKind,
    /// Home regions of its requests and their shares (summing to 1); empty without regions.
    pub home: Vec<(RegionId, f64)>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SourceKind {
    /// Arrivals whose rate follows a piecewise-linear profile, whatever becomes of the
    /// requests already sent.
    OpenLoop {
        profile: RateProfile,
        /// Coefficient of variation of the gaps between arrivals, in `[0, 10]`: 1 is a Poisson
        /// process; otherwise a gamma renewal process at the profile's rate (0: evenly
        /// spaced; above 1: bursty).
        cv: f64,
    },
    /// A population of users, each sending a request, waiting for its outcome (retries and
    /// tries by hand included), thinking, and sending the next.
    ClosedLoop {
        users: UsersProfile,
        /// The pause between a request's outcome and the user's next request (the same
        /// distributions as a CPU cost).
        think_time: CpuCost,
    },
}

/// How many users a closed-loop source has over time: whole numbers at points joined by
/// straight lines (a user joins or leaves each time the line crosses a whole number),
/// constant before the first point and after the last.
#[derive(Clone, Debug, PartialEq)]
pub struct UsersProfile {
    /// `(time, users)`, strictly increasing in time.
    pub points: Vec<(SimTime, u32)>,
}

/// Rate (per second) as points joined by straight lines; constant before the first point
/// and after the last.
#[derive(Clone, Debug, PartialEq)]
pub struct RateProfile {
    /// `(time, rate per second)`, strictly increasing in time, rates finite and >= 0.
    pub points: Vec<(SimTime, f64)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Client {
    pub name: String,
    /// The service this client calls.
    pub target: ServiceId,
    /// Per-attempt timeout; `None` waits for ever.
    pub timeout: Option<SimDuration>,
    pub retry: RetryPolicy,
    /// A retry limiter or client protection every attempt asks first; `None` for none.
    pub limiter: Option<LimiterSpec>,
    /// As a downstream hop, never wait past the calling attempt's own deadline.
    pub propagate_deadline: bool,
    /// Overall deadline of a request, over all its attempts (gRPC's deadline); `None`
    /// for none beyond the per-attempt timeout.
    pub deadline: Option<SimDuration>,
    /// Hedged requests instead of retries (gRPC's hedging policy).
    pub hedge: Option<Hedge>,
    /// Users who try again by hand after their request failed for good.
    pub human_retry: Option<HumanRetry>,
    /// Routes each attempt over the target's regions; `None` when the target has none.
    pub router: Option<RouterSpec>,
    /// The target's pool in each cell, by cell id; empty when the target has no cells.
    pub cell_pools: Vec<ServiceId>,
}

impl Client {
    /// The pool an attempt of a request homed in `cell` goes to: the target's pool in that
    /// cell, or the target itself when it has no cells.
    #[inline]
    pub fn pool_in(&self, cell: Option<CellId>) -> ServiceId {
        match cell {
            Some(cell) if !self.cell_pools.is_empty() => self.cell_pools[cell.idx()],
            _ => self.target,
        }
    }
}

/// gRPC's hedging policy: the first attempt goes out at once, another every `delay`
/// while none has answered, up to `max_attempts` in all; the first success wins and the
/// others are cancelled. A failure the retry policy's `on` covers (gRPC's non-fatal
/// status codes) sends the next hedge at once; any other failure fails the request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hedge {
    pub delay: SimDuration,
    /// Attempts in all, the first included (gRPC caps it at 5).
    pub max_attempts: u32,
}

/// A user whose request failed for good tries again with `probability`, after an
/// exponentially distributed think time of mean `think_time`, at most `max_retries`
/// times. Each try is a new round of the client's automatic retries; the user's latency
/// runs from the first try, and the request is offered once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HumanRetry {
    pub probability: f64,
    pub think_time: SimDuration,
    pub max_retries: u32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = no retries).
    pub max_attempts: u32,
    pub backoff: Backoff,
    pub retry_on: RetryOn,
}

/// Which failed outcomes of an attempt are retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryOn {
    pub timeout: bool,
    pub rejected: bool,
    /// A failed downstream call (`dependency_error`).
    pub error: bool,
}

/// Exponential backoff: the n-th retry (n = 1, 2, ...) waits
/// `min(cap, base * multiplier^(n-1))`, then jitter is applied.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    pub base: SimDuration,
    pub multiplier: f64,
    pub cap: SimDuration,
    pub jitter: Jitter,
}

/// Jitter schemes from the AWS Architecture blog, "Exponential Backoff and Jitter".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Jitter {
    /// Exactly the exponential delay: synchronised clients retry in clumps.
    None,
    /// Uniform in `[0, delay]`.
    Full,
    /// `delay/2 + uniform[0, delay/2]`.
    Equal,
    /// `min(cap, uniform[base, previous * 3])`, remembering the previous sleep.
    Decorrelated,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Service {
    pub name: String,
    pub instances: u32,
    pub cores: u32,
    pub workers: u32,
    /// Attempts that may wait for a worker per instance; `None` is unbounded.
    pub queue_capacity: Option<u32>,
    pub balancer: Balancer,
    /// CPU cost per request class, indexed by class id.
    pub cpu: Vec<CpuCost>,
    /// Multiplies every CPU cost (a release that makes requests dearer); events change it.
    pub cpu_multiplier: f64,
    pub lifecycle: Lifecycle,
    pub metrics: MetricsSpec,
    pub autoscaler: Option<AutoscalerSpec>,
    pub overload: OverloadControl,
    /// CPU of a new connection's setup (a TLS handshake), paid by every attempt unless
    /// `pooled`; a pool pays it once per worker and instance.
    pub connection_cpu: SimDuration,
    pub pooled: bool,
    /// Downstream calls an attempt makes after its CPU burst, holding its worker but no
    /// core; one after another, or all at once when `parallel_calls`.
    pub calls: Vec<Call>,
    pub parallel_calls: bool,
    /// Share of answers that are errors (`dependency_error` for the caller).
    pub error_rate: f64,
    /// Zones the instances are spread over, round robin; at least one.
    pub zones: Vec<String>,
    /// The region this pool is deployed in, if the service has regions.
    pub region: Option<RegionId>,
    /// A dependency's provider: its "CPU" is the answer time of a system outside ours, so
    /// it is no CPU of ours (nor wasted work) and it has no capacity of ours.
    pub external: bool,
    /// The cell this pool serves, if the service has cells.
    pub cell: Option<CellId>,
}

impl Service {
    /// The CPU cost of a request of `class`.
    #[inline]
    pub fn cpu_of(&self, class: ClassId) -> &CpuCost {
        &self.cpu[class.idx()]
    }
}

/// A system outside our pools, called through its providers in priority order.
#[derive(Clone, Debug, PartialEq)]
pub struct DependencySpec {
    pub name: String,
    /// The providers' pools, the first the primary.
    pub providers: Vec<ServiceId>,
}

impl Service {
    /// A pool of its size and cost with everything else at its default (FIFO, no
    /// autoscaler, no calls, one zone): a dependency's provider starts from it, and so do
    /// unit tests.
    pub(crate) fn plain(instances: u32, cores: u32, workers: u32, cost: CpuCost) -> Service {
        Service {
            name: "api".into(),
            instances,
            cores,
            workers,
            queue_capacity: None,
            balancer: Balancer::RoundRobin,
            cpu: vec![cost],
            cpu_multiplier: 1.0,
            lifecycle: Lifecycle::default(),
            metrics: MetricsSpec::default(),
            autoscaler: None,
            overload: OverloadControl::default(),
            connection_cpu: SimDuration::ZERO,
            pooled: false,
            calls: vec![],
            parallel_calls: false,
            error_rate: 0.0,
            zones: vec!["a".into()],
            region: None,
            external: false,
            cell: None,
        }
    }
}

/// A downstream call: `count` calls through `client` (a hop with its own timeout and
/// retries), each made with `probability`, for one class or all.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Call {
    pub client: ClientId,
    /// The class it is made for; `None` for every class.
    pub class: Option<ClassId>,
    pub count: u32,
    pub probability: f64,
}

/// How instances come and go.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lifecycle {
    /// From launch to taking traffic.
    pub boot_delay: SimDuration,
    /// After boot, CPU costs are multiplied by `warmup_cpu` for this long (cold caches).
    pub warmup: SimDuration,
    pub warmup_cpu: f64,
    /// Launch a replacement when an instance fails (an auto-scaling group's health check).
    pub replace_failed: bool,
}

impl Default for Lifecycle {
    /// Instant boot, no warm-up, failed instances replaced: a pool that never changes
    /// unless told to.
    fn default() -> Lifecycle {
        Lifecycle {
            boot_delay: SimDuration::ZERO,
            warmup: SimDuration::ZERO,
            warmup_cpu: 1.0,
            replace_failed: true,
        }
    }
}

/// The metrics pipeline: samples CPU utilisation every `period`, delivers after `delay`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MetricsSpec {
    pub period: SimDuration,
    pub delay: SimDuration,
}

impl Default for MetricsSpec {
    fn default() -> MetricsSpec {
        MetricsSpec { period: SimDuration::from_secs(60), delay: SimDuration::from_secs(60) }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Balancer {
    RoundRobin,
    Random,
    LeastOutstanding,
    PowerOfTwoChoices,
}

/// CPU time one request burns on a core, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum CpuCost {
    Constant(SimDuration),
    Exponential {
        mean: SimDuration,
    },
    /// `exp(N(mu, sigma))` seconds, fitted from a mean and a p99.
    LogNormal {
        mu: f64,
        sigma: f64,
    },
}

impl CpuCost {
    /// Mean cost in seconds, for capacity arithmetic and reports.
    pub fn mean_secs(&self) -> f64 {
        match *self {
            CpuCost::Constant(d) => d.as_secs_f64(),
            CpuCost::Exponential { mean } => mean.as_secs_f64(),
            CpuCost::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
        }
    }

    /// Fits a lognormal to a mean and a 99th percentile (both in seconds).
    ///
    /// With `d = ln(p99 / mean)` and `z = 2.3263` (the normal 99th percentile),
    /// `sigma = z - sqrt(z^2 - 2d)`, `mu = ln(mean) - sigma^2 / 2`. A solution exists only
    /// for `mean < p99 <= mean * e^(z^2/2)` (about 14.97 x mean); outside it, `None`.
    pub fn lognormal_from_mean_p99(mean: f64, p99: f64) -> Option<CpuCost> {
        const Z99: f64 = 2.326_347_874_040_841;
        if !(mean > 0.0 && p99 > mean && mean.is_finite() && p99.is_finite()) {
            return None;
        }
        let d = (p99 / mean).ln();
        let disc = Z99 * Z99 - 2.0 * d;
        if disc < 0.0 {
            return None;
        }
        let sigma = Z99 - disc.sqrt();
        Some(CpuCost::LogNormal { mu: mean.ln() - sigma * sigma / 2.0, sigma })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lognormal_fit_reproduces_mean_and_p99() {
        let CpuCost::LogNormal { mu, sigma } = CpuCost::lognormal_from_mean_p99(0.020, 0.080).unwrap() else {
            unreachable!()
        };
        let mean = (mu + sigma * sigma / 2.0).exp();
        let p99 = (mu + 2.326_347_874_040_841 * sigma).exp();
        assert!((mean - 0.020).abs() < 1e-12);
        assert!((p99 - 0.080).abs() < 1e-12);
    }

    #[test]
    fn lognormal_fit_refuses_impossible_pairs() {
        assert!(CpuCost::lognormal_from_mean_p99(0.02, 0.01).is_none(), "p99 below mean");
        assert!(CpuCost::lognormal_from_mean_p99(0.02, 0.02).is_none());
        assert!(CpuCost::lognormal_from_mean_p99(0.01, 1.0).is_none(), "p99 100x mean");
        assert!(CpuCost::lognormal_from_mean_p99(0.01, 0.14).is_some());
    }
}
