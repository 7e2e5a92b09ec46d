//! The serde mirror of a scenario file: what the TOML says, checked only for shape.
//!
//! Invariants: unknown keys are refused everywhere (`deny_unknown_fields`); every value a
//! later check may complain about keeps its source span (`toml::Spanned`); a key that may be
//! omitted is an `Option`, and `defaults::fill` turns every omission with a default into
//! `Some`. These types are a contract (they are what `--print-config` writes), so they are
//! the only scenario types that derive `Serialize` and `Deserialize`.
//!
//! Named tables (`[classes.NAME]`, `[sources.NAME]`, ...) are `BTreeMap`s: their entries,
//! and so the ids of the resolved scenario, follow the byte order of the names, whatever
//! their order in the file. Moving a section around never changes a run.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use super::spanned::Spanned;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::cells::{CellsFile, ReleaseFile};
use super::surge::SurgeFile;
use super::trace::TraceFile;
use super::units::{ClockTime, Duration, Percent, Rate, TimePoint, UnitError};
use crate::refusal::quoted_list;

/// Entries of a named table such as `[services.NAME]`, in byte order of the names.
pub type Named<T> = BTreeMap<Spanned<String>, T>;

/// The whole file.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// `[simulation]`: what the run covers.
    pub simulation: SimulationFile,
    /// `[guard]`: the limits that stop a runaway run; omitted: the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guard: Option<GuardFile>,
    /// `[classes.NAME]`: the request classes; at least one.
    #[serde(default)]
    pub classes: Named<ClassFile>,
    /// `[sources.NAME]`: where requests come from; at least one.
    #[serde(default)]
    pub sources: Named<SourceFile>,
    /// `[clients.NAME]`: the callers, each with its timeout and retry policy.
    #[serde(default)]
    pub clients: Named<ClientFile>,
    /// `[services.NAME]`: the pools of instances; at least one.
    #[serde(default)]
    pub services: Named<ServiceFile>,
    /// `[regions.NAME]`: regions and their zones; omitted: none (every pool in one place).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub regions: Named<RegionFile>,
    /// `[dependencies.NAME]`: systems outside our pools, each with its providers.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub dependencies: Named<DependencyFile>,
    /// `[cells]`: copies of the cellular services, each serving a share of the customers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cells: Option<Spanned<CellsFile>>,
    /// `[release]`: a change rolled over the cells in waves, with a health gate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<Spanned<ReleaseFile>>,
    /// `[[timeline]]`: faults and operator actions at stated times.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<ActionFile>,
    /// `[alerts.NAME]`: conditions recorded when they fire, each may start an operator
    /// action.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub alerts: Named<AlertFile>,
    /// `[slo]`: the objective the SLO figures are measured against; omitted: the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<SloFile>,
    /// `[[thresholds]]`: the targets `stormsim check` gates on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<ThresholdFile>,
}

/// `[simulation]`: what the run covers.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SimulationFile {
    /// Names the run and its output folder; omitted: the file's name without its extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Free text shown in report.html; omitted: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Simulated time the run covers, `"6h"`; at most 365 days.
    pub duration: Spanned<Duration>,
    /// The clock time of t = 0, `"06:00"`: lets times be written as clock times; omitted:
    /// none, so times are durations from the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Spanned<ClockTime>>,
    /// The calendar day of `start`, `"2026-02-23"`: outputs then carry real timestamps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<Spanned<String>>,
    /// The IANA time zone clock times are read in, `"America/New_York"`; with a date only
    /// (default `"UTC"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<Spanned<String>>,
    /// Width of a time-series interval; omitted: 1m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Spanned<Duration>>,
    /// Random seed (`--seed` overrides it); omitted: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<Spanned<Count>>,
    /// Warm-up left out of every figure, `"1h"`: the summary, the SLO figures and the
    /// thresholds measure from its end (statistics reset there), the time series keeps
    /// and marks its intervals. A whole number of intervals, shorter than the duration;
    /// omitted: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<Spanned<Duration>>,
}

/// `[guard]`: the limits that stop a runaway run.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GuardFile {
    /// Requests plus attempts alive at once before the run is stopped; omitted: 2,000,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<Spanned<Count>>,
    /// Events handled in one run before it is stopped; omitted: 2,000,000,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_events: Option<Spanned<Count>>,
}

/// `[classes.NAME]`: a request class.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassFile {
    /// Share of every source's arrivals in this class; needed when there are several
    /// classes, summing to 100%; omitted for the only class: 100%.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<Spanned<Percent>>,
    /// `"critical"` or `"sheddable"` (turned away by a service's `shed_above` while it runs
    /// hot); omitted: `"critical"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criticality: Option<CriticalityFile>,
}

/// `[sources.NAME]`: where requests come from.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    /// How requests arrive: `"open_loop"` (at a rate, whatever becomes of the requests
    /// already sent) or `"closed_loop"` (`users` who each wait for their request's outcome,
    /// think, and send the next); omitted: `"open_loop"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<Spanned<SourceKindFile>>,
    /// The client the requests go through.
    pub client: Spanned<String>,
    /// `open_loop`: the arrival rate, `"120/s"`, or a piecewise-linear profile of
    /// `{ at, rate }` points (constant before the first and after the last); or `trace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<Spanned<RateFile>>,
    /// `open_loop`: the rate read from a CSV file of measured traffic, instead of `rate`:
    /// `{ file = "traces/monday.csv", scale = 1.3, shift = "7d" }`. Written out as `rate`
    /// points in the resolved scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<Spanned<TraceFile>>,
    /// `open_loop`: how irregular the gaps between arrivals are, `{ cv = 3 }`; omitted:
    /// Poisson (a coefficient of variation of 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrivals: Option<Spanned<ArrivalsFile>>,
    /// `open_loop`: a while of the rate times a factor, on top of `rate`; omitted: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surge: Option<Spanned<SurgeFile>>,
    /// `closed_loop`: how many users, `50`, or a piecewise-linear profile of `{ at, users }`
    /// points (a user joins or leaves each time it crosses a whole number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Spanned<UsersFile>>,
    /// `closed_loop`: a user's pause between its request's outcome and its next request,
    /// `"5s"` or a distribution in the forms of a service's `cpu`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub think_time: Option<Spanned<CpuFile>>,
    /// The requests' home regions: `{ eastus = "70%", westus = "30%" }`; filled with an
    /// even split when the scenario has regions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions: Option<Spanned<Named<Spanned<Percent>>>>,
}

/// `[regions.NAME]`: a region, whose zones hold the instances of the services deployed
/// there.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionFile {
    /// Zone names, unique across regions (a zone is addressed by name alone); omitted: one
    /// zone named after the region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zones: Option<Spanned<Vec<String>>>,
}

/// `[clients.NAME.routing]`: the router of a client whose target is deployed in regions.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoutingFile {
    /// Fail over when a health check finds the region's zones all lost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_check: Option<bool>,
    /// How long after a region's loss (or return) the health check sees it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection_delay: Option<Spanned<Duration>>,
    /// Fail over when this share of a region's attempts fail over `window`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate_above: Option<Spanned<Percent>>,
    /// Fail over when the mean latency of a region's answers over `window` is this or more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_above: Option<Spanned<Duration>>,
    /// The detector's sliding window for `error_rate_above` and `latency_above`; omitted
    /// with either: 10s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Spanned<Duration>>,
    /// Outcomes the window must hold before the detector judges a region; omitted with a
    /// threshold: 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_samples: Option<Spanned<Count>>,
    /// How long a region must look healthy again before traffic goes back to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_back_after: Option<Spanned<Duration>>,
    /// Where a retry goes: `"same"` (where a first attempt would) or `"next"` (the region
    /// after the previous attempt's: resilient routing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_region: Option<RetryRegionFile>,
    /// Isolation: `false` keeps every retry in its previous attempt's region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_region_retries: Option<bool>,
    /// Isolation: the most of a region's workers traffic homed elsewhere may hold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_cap: Option<Spanned<Percent>>,
    /// One-way network delay of an attempt sent out of its home region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_region_latency: Option<Spanned<Duration>>,
}

/// `[dependencies.NAME]`: an external system (a telephony or payment API) that clients
/// call through its providers.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DependencyFile {
    /// `[[dependencies.NAME.providers]]`, in priority order: the first takes the traffic
    /// while it is healthy.
    #[serde(default)]
    pub providers: Vec<ProviderFile>,
}

/// One provider of a dependency: how long it takes to answer and how often it errs.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderFile {
    /// The provider's name, unique within the dependency (no `/`); its pool is
    /// `dependency/name`.
    pub name: Spanned<String>,
    /// Time to answer, as a distribution like a service's `cpu`.
    pub latency: Spanned<CpuFile>,
    /// Share of answers that are errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<Spanned<Percent>>,
    /// Calls it takes at once (a rate or connection limit); a call over it is refused at
    /// once. Omitted: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<Spanned<Count>>,
}

/// `[clients.NAME.failover]`: how a client of a dependency moves between its providers.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FailoverFile {
    /// A retry goes to the next provider (failover per request); `false`: to the provider a
    /// first attempt would go to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_request: Option<bool>,
    /// The breaker: shift all traffic off a provider when this share of its calls fail
    /// over `window` ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate_above: Option<Spanned<Percent>>,
    /// ... or when the mean latency of its answers over `window` is this or more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_above: Option<Spanned<Duration>>,
    /// The breaker's sliding window for `error_rate_above` and `latency_above`; omitted
    /// with either: 10s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Spanned<Duration>>,
    /// Outcomes the window must hold before the breaker judges a provider; omitted with a
    /// threshold: 50.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_samples: Option<Spanned<Count>>,
    /// How long the breaker keeps traffic off a provider before it probes it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift_back_after: Option<Spanned<Duration>>,
}

/// A source's `rate`: a constant, or the points of a piecewise-linear profile.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum RateFile {
    Constant(Rate),
    Profile(Vec<ProfilePoint>),
}

/// `arrivals = { cv = 3 }`: the gaps between an open source's arrivals.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArrivalsFile {
    /// Coefficient of variation of the gaps, from 0 to 10: 1 is Poisson, above 1 bursty (a
    /// gamma renewal process at the same mean rate), 0 evenly spaced.
    pub cv: Spanned<Number>,
}

/// A closed-loop source's `users`: a count, or the points of a piecewise-linear profile.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum UsersFile {
    Constant(Count),
    Profile(Vec<UsersPoint>),
}

/// One point of a users profile: `{ at = "08:30", users = 200 }`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UsersPoint {
    /// A clock time `"08:30"` or a duration from the start `"90m"`; times strictly
    /// increase.
    pub at: Spanned<TimePoint>,
    /// The users at `at`.
    pub users: Spanned<Count>,
}

/// One point of a rate profile: `{ at = "08:30", rate = "260/s" }`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePoint {
    /// A clock time `"08:30"` or a duration from the start `"90m"`; times strictly
    /// increase.
    pub at: Spanned<TimePoint>,
    /// The arrival rate at `at`, `"260/s"`.
    pub rate: Spanned<Rate>,
}

/// `[clients.NAME]`: a caller of a service, with its timeout and retry policy.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientFile {
    /// The service or dependency the client calls.
    pub target: Spanned<String>,
    /// How long each attempt is waited for; omitted: for ever.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Spanned<Duration>>,
    /// `[clients.NAME.retry]`: the retry policy; omitted: no retries (one attempt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<RetryFile>,
    /// A limiter preset name (`"grpc"`, `"finagle"`, ...) or a table of a preset and
    /// overrides of its parameters; omitted: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limiter: Option<Spanned<LimiterFile>>,
    /// As a downstream hop, never wait past the calling attempt's deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagate_deadline: Option<bool>,
    /// Overall deadline of a request over all its attempts; omitted: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Spanned<Duration>>,
    /// Hedged requests (gRPC's hedging policy) instead of retries; omitted: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hedge: Option<Spanned<HedgeFile>>,
    /// Users who try again by hand after a failure; omitted: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub human_retry: Option<Spanned<HumanRetryFile>>,
    /// Routing between the target's regions; filled when the target has regions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing: Option<Spanned<RoutingFile>>,
    /// Failover between the providers of a dependency; filled when the target is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<Spanned<FailoverFile>>,
}

/// `hedge = { delay = "50ms", max_attempts = 2 }`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HedgeFile {
    /// Wait before each further hedge while no attempt has answered.
    pub delay: Spanned<Duration>,
    /// Attempts in all, the first included; omitted: 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<Spanned<Count>>,
}

/// `human_retry = { probability = "50%", think_time = "10s", max_retries = 2 }`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HumanRetryFile {
    /// Chance that a user whose request failed for good tries again.
    pub probability: Spanned<Percent>,
    /// Mean of the exponential think time before trying again.
    pub think_time: Spanned<Duration>,
    /// Tries by hand after the first; omitted: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<Spanned<Count>>,
}

/// `[[services.NAME.calls]]`: a downstream call each attempt makes after its CPU burst.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallFile {
    /// The client (hop) the call goes through.
    pub client: Spanned<String>,
    /// Only attempts of this class make it; omitted: every class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<Spanned<String>>,
    /// Calls this entry makes per attempt, each drawn with `probability`; omitted: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<Spanned<Count>>,
    /// Chance that each call is made; omitted: 100%.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability: Option<Spanned<Percent>>,
}

/// `[clients.NAME.retry]`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryFile {
    /// Attempts in all, the first included, 1 to 100; omitted: 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<Spanned<Count>>,
    /// Failures retried: `"timeout"`, `"rejected"`, `"error"` (a failed downstream call);
    /// omitted: `["timeout", "rejected"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on: Option<Spanned<Vec<RetryOutcome>>>,
    /// The wait before each retry; omitted: AWS standard mode (100ms, x2, cap 20s, full
    /// jitter).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff: Option<BackoffFile>,
}

/// `backoff = { base, multiplier, cap, jitter }`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BackoffFile {
    /// Wait before the first retry, before jitter; omitted: 100ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Spanned<Duration>>,
    /// Growth of the wait per retry, at least 1; omitted: 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multiplier: Option<Spanned<Number>>,
    /// Longest wait, at least `base`; omitted: 20s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<Spanned<Duration>>,
    /// How the wait is randomised: `"none"`, `"full"` (uniform up to it), `"equal"` or
    /// `"decorrelated"`; omitted: `"full"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<JitterFile>,
}

/// A limiter: a preset's name, or `{ preset = "finagle", percent_can_retry = "10%" }`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum LimiterFile {
    Preset(String),
    Table(Box<LimiterTable>),
}

/// A preset and overrides of its parameters, named as the parameters of the system the
/// preset follows. Which keys a preset takes is checked when resolving.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimiterTable {
    /// The preset overridden: `"grpc"`, `"aws-standard"`, `"finagle"`, `"envoy"`,
    /// `"resilience4j"` or `"sre"`.
    pub preset: Spanned<String>,
    // gRPC retry throttling.
    /// `grpc`: bucket size; a failed attempt takes a token, retries go only while more than
    /// half are left; preset: 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<Spanned<Count>>,
    /// `grpc`: tokens a success puts back, 0.001 to 1; preset: 0.1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_ratio: Option<Spanned<Number>>,
    // AWS SDK retry quota.
    /// `aws-standard`: tokens the quota starts with and never exceeds; preset: 500.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Spanned<Count>>,
    /// `aws-standard`: tokens a retry costs; preset: 5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_cost: Option<Spanned<Count>>,
    /// `aws-standard`: tokens a retry after a timeout costs; preset: 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_retry_cost: Option<Spanned<Count>>,
    /// `aws-standard`: tokens a first-attempt success refunds; preset: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_retry_increment: Option<Spanned<Count>>,
    // Finagle retry budget.
    /// `finagle`: how long a request's deposit counts, 1s to 60s; preset: 10s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<Spanned<Duration>>,
    /// `finagle`: retries per second allowed on top of the percentage; preset: 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_retries_per_sec: Option<Spanned<Count>>,
    /// `finagle`: retries allowed as a share of requests; preset: 20%.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_can_retry: Option<Spanned<Percent>>,
    // Envoy retry budget.
    /// `envoy`: retries in flight allowed as a share of active requests; preset: 20%.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_fraction: Option<Spanned<Percent>>,
    /// `envoy`: retries in flight always allowed; preset: 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_retry_concurrency: Option<Spanned<Count>>,
    /// Envoy's circuit-breaking `max_requests`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_requests: Option<Spanned<Count>>,
    // resilience4j circuit breaker (`window` in calls) and SRE throttling (`window` in time).
    /// `resilience4j`: outcomes remembered, in calls (preset: 100); `sre`: how far back
    /// requests and accepts count, a duration (preset: 2m).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Spanned<LimiterWindowFile>>,
    /// `resilience4j`: outcomes needed before the failure rate is judged; preset: 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_calls: Option<Spanned<Count>>,
    /// `resilience4j`: failure rate that opens the breaker; preset: 50%.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_rate_threshold: Option<Spanned<Percent>>,
    /// `resilience4j`: how long the breaker stays open before trial calls; preset: 60s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_open: Option<Spanned<Duration>>,
    /// `resilience4j`: trial calls let through while half-open; preset: 10.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub half_open_calls: Option<Spanned<Count>>,
    /// `sre`: K, at least 1: the backend is sent about K times what it accepts; preset: 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<Spanned<Number>>,
}

/// A window: a number of calls (a circuit breaker's) or a duration (throttling's).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum LimiterWindowFile {
    Calls(i64),
    Time(Duration),
}

/// `[services.NAME]`: a pool of identical instances.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    /// Instances at the start, all ready (per region or per cell when deployed so); within
    /// the autoscaler's `min` and `max`.
    pub instances: Spanned<Count>,
    /// CPU cores per instance; an attempt holds one only while it burns CPU.
    pub cores: Spanned<Count>,
    /// Workers (threads, connections) per instance; an attempt holds one for its whole
    /// stay, calls included; omitted: `cores`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workers: Option<Spanned<Count>>,
    /// The waiting room per instance for attempts that find every worker busy; omitted:
    /// unbounded FIFO.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<QueueFile>,
    /// How attempts are spread over the instances; omitted: `"round_robin"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balancer: Option<BalancerFile>,
    /// CPU an attempt burns: `"20ms"` or a distribution; `classes` may override it per
    /// class.
    pub cpu: Spanned<CpuFile>,
    /// `[services.NAME.classes.CLASS]`: a class's own CPU cost here; omitted: every class
    /// costs `cpu`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub classes: Named<ServiceClassFile>,
    /// Multiplies every CPU cost (a release that made requests dearer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_multiplier: Option<Spanned<Number>>,
    /// From launch to ready, for every instance launched after the start; omitted: 3m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub boot_delay: Option<Spanned<Duration>>,
    /// After boot, CPU costs are multiplied by `warmup_cpu` for this long; omitted: 0s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup: Option<Spanned<Duration>>,
    /// CPU-cost factor while warming up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_cpu: Option<Spanned<Number>>,
    /// Launch a replacement for each lost instance; omitted: true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replace_failed: Option<bool>,
    /// The pipeline feeding the autoscaler and the metrics alerts; omitted: the defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<MetricsFile>,
    /// `[services.NAME.autoscaler]`: target tracking or a schedule; omitted: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscaler: Option<AutoscalerFile>,
    /// Drop queued work whose caller has given up instead of serving it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drop_abandoned: Option<bool>,
    /// Shed sheddable classes while an instance's CPU utilisation is at least this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shed_above: Option<Spanned<Percent>>,
    /// A limit on the attempts in progress per instance; omitted: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency_limit: Option<ConcurrencyLimitFile>,
    /// CPU a rejection at the door burns on a core before the 503 goes back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reject_cpu: Option<Spanned<Duration>>,
    /// CPU of a connection setup (a TLS handshake).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_cpu: Option<Spanned<Duration>>,
    /// Keep connections: `connection_cpu` is paid once per worker and instance, not by
    /// every attempt; omitted: false.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pooled: Option<bool>,
    /// Share of answers that are errors (a dependency that fails some calls).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_rate: Option<Spanned<Percent>>,
    /// Zones the instances are spread over, round robin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zones: Option<Spanned<Vec<String>>>,
    /// Regions the service is deployed in, in the routers' priority order: one pool of
    /// `instances` per region, over that region's zones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions: Option<Spanned<Vec<String>>>,
    /// One pool per cell of `[cells]`, each serving that cell's customers only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cells: Option<Spanned<bool>>,
    /// `[[services.NAME.calls]]`: downstream calls each attempt makes after its CPU burst;
    /// omitted: none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<CallFile>,
    /// Make every call at once instead of one after another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_calls: Option<bool>,
}

/// `[services.NAME.metrics]`: the metrics pipeline feeding the autoscaler.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricsFile {
    /// How often CPU utilisation is sampled; omitted: 60s, or 15s under an `hpa`
    /// autoscaler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<Spanned<Duration>>,
    /// How long after it is taken a sample is delivered; omitted: 60s, or 15s under an
    /// `hpa` autoscaler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<Spanned<Duration>>,
}

/// `[services.NAME.autoscaler]`: a preset plus overrides of any of its parameters.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AutoscalerFile {
    /// `"hpa"` (Kubernetes), `"aws-target-tracking"` or `"schedule"` (follows `schedule`
    /// only); omitted: `"hpa"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preset: Option<Spanned<String>>,
    /// CPU utilisation to track; omitted: 50%.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<Spanned<Percent>>,
    /// Fewest instances; omitted: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Spanned<Count>>,
    /// Most instances.
    pub max: Spanned<Count>,
    /// Time between decisions, at least 1s; omitted: 15s (`hpa`), 1m (the others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<Spanned<Duration>>,
    /// No change while utilisation is within this share of the target; omitted: 10%, 0% for
    /// `aws-target-tracking`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<Spanned<Percent>>,
    /// Scale up only to the lowest recommendation of this window; omitted: 0s, 3m for
    /// `aws-target-tracking`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_up_window: Option<Spanned<Duration>>,
    /// Scale down only to the highest recommendation of this window; omitted: 5m, 15m for
    /// `aws-target-tracking`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_down_window: Option<Spanned<Duration>>,
    /// Most added per decision, as a share of the current count (with `scale_up_pods`,
    /// whichever allows more); omitted after filling: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_up_percent: Option<Spanned<Percent>>,
    /// Most instances added per decision, with `scale_up_percent` whichever allows more
    /// (given alone: a limit by instances alone); omitted: 4, none for `aws-target-tracking`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_up_pods: Option<Spanned<Count>>,
    /// Most removed per decision, as a share of the current count; omitted: 100%, no limit
    /// for `aws-target-tracking`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_down_percent: Option<Spanned<Percent>>,
    /// No scale-in until this long after the last scaling action; omitted: 0s, 5m for
    /// `aws-target-tracking`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_in_cooldown: Option<Spanned<Duration>>,
    /// A sample taken longer ago does not count, and without one the autoscaler is blind;
    /// omitted: 3m, 5m for `aws-target-tracking`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_after: Option<Spanned<Duration>>,
    /// What it does when blind: `"hold"`, `"hpa"`, `"scale-out"` or `"schedule"`; omitted:
    /// the preset's (`"hpa"`, `"hold"`, `"schedule"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_blind: Option<Spanned<String>>,
    /// The count `when_blind = "scale-out"` scales out to, at most `max`; omitted: `max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blind_instances: Option<Spanned<Count>>,
    /// Scheduled counts `[{ at, instances }]`: a floor for target tracking, the whole plan
    /// for the `schedule` preset or policy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<ScheduleFile>,
}

/// One step of a scaling schedule: `{ at = "07:30", instances = 40 }`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleFile {
    /// When the step starts: a clock time or a duration from the start; steps strictly
    /// increase.
    pub at: Spanned<TimePoint>,
    /// The count from then on, at most `max`.
    pub instances: Spanned<Count>,
}

/// A timeline entry (`at`) or an alert's operator action (`after`). The keys are flat so
/// each keeps its span; which keys an action takes is checked when resolving.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionFile {
    /// Timeline entries: when it happens, a clock time `"08:41"` or a duration from the
    /// start `"90m"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<Spanned<TimePoint>>,
    /// An alert's `then`: the operator's response time after the alert fires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Spanned<Duration>>,
    /// The fault or operator action; the other keys say which actions take them.
    pub action: Spanned<ActionKindFile>,
    /// Free text shown with the event in the outputs: a timeline entry's, or an alert's
    /// operator action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The pool acted on, by every action but `backlog` and `limiter` (optional for
    /// `region_loss` and `region_restore`: that service only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Spanned<String>>,
    /// `backlog`: the client the jobs go through; `limiter`: the client whose limiter is
    /// switched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<Spanned<String>>,
    /// `backlog`: the jobs' class; omitted: drawn from the class shares.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<Spanned<String>>,
    /// `cpu_multiplier` (a service) and `latency_multiplier` (a provider): the new
    /// multiplier of the CPU costs or answer times as written; 1 restores them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Spanned<Number>>,
    /// `metrics`: share of the service's instances whose metrics get through; 0% is an
    /// outage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporting: Option<Spanned<Percent>>,
    /// `instance_loss`: ready instances that fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<Spanned<Count>>,
    /// `backlog`: requests released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jobs: Option<Spanned<Count>>,
    /// `backlog`: the jobs are spread over this long; `admit`: the ramp takes this long;
    /// omitted: at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub over: Option<Spanned<Duration>>,
    /// `scale_to`: the instance count the operator sets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instances: Option<Spanned<Count>>,
    /// `admit`: the share admitted as the ramp starts; omitted: the current share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Spanned<Percent>>,
    /// `admit`: the share of arriving attempts admitted once `over` has passed, the rest
    /// rejected at the door; 0% drains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Spanned<Percent>>,
    /// `limiter`: the client's limiter from now on, a preset (or a table) or `"none"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limiter: Option<Spanned<LimiterFile>>,
    /// `error_rate`: share of the service's or provider's answers that are errors from now
    /// on; 100% is an outage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Spanned<Percent>>,
    /// `zone_loss` and `zone_restore`: the zone, one of the service's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<Spanned<String>>,
    /// `region_loss` and `region_restore`: the region; `backlog`: the jobs' home region
    /// (omitted: drawn evenly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Spanned<String>>,
}

/// `[alerts.NAME]`: fires when `metric` is `below` or `above` a value for `for`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertFile {
    /// What is watched: `success_rate` or `latency_p99` (all classes or `class`);
    /// `metrics_staleness`, `cpu_utilisation`, `unscaled_utilisation` (with `service`).
    pub metric: Spanned<AlertMetricFile>,
    /// A percentage (`"99%"`) or a duration (`"2s"`), as the metric needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<Spanned<String>>,
    /// As `below`, for a metric that must stay under the value; one of the two.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<Spanned<String>>,
    /// How long the condition must hold at every interval end before the alert fires;
    /// omitted: 0s.
    #[serde(default, rename = "for", skip_serializing_if = "Option::is_none")]
    pub hold: Option<Spanned<Duration>>,
    /// The pool a per-service metric watches (one pool of a service in regions or cells,
    /// `api@eastus`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Spanned<String>>,
    /// `success_rate` and `latency_p99`: only this class; omitted: all classes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<Spanned<String>>,
    /// `[alerts.NAME.then]`: the operator action it starts, `after` a response time;
    /// omitted: the alert is only recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then: Option<ActionFile>,
}

/// `[slo]`: the objective the SLO figures are measured against.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SloFile {
    /// An interval meets the SLO when its success rate is at least this; omitted: 99.9%.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_rate: Option<Spanned<Percent>>,
    /// A healthy stretch this long ends an outage (time to recover); omitted: 10m.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<Spanned<Duration>>,
}

/// `queue = { capacity = 64 }`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueueFile {
    /// Attempts that may wait per instance, a count or `"unbounded"`; an arrival past it is
    /// rejected; omitted: `"unbounded"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Spanned<Capacity>>,
    /// Which waiting attempt is served next: `"fifo"`, `"lifo"`, `"adaptive_lifo"` or
    /// `"codel"`; omitted: `"fifo"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discipline: Option<DisciplineFile>,
    /// CoDel's limits (adaptive LIFO and CoDel only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codel_target: Option<Spanned<Duration>>,
    /// A queue not empty for this long is overloaded and waits are cut to `codel_target`,
    /// else to this (adaptive LIFO and CoDel only); omitted: 100ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codel_interval: Option<Spanned<Duration>>,
}

/// `[services.NAME.concurrency_limit]`: a kind and its parameters, named as Netflix's
/// concurrency-limits names them. The keys are flat so each keeps its span; which keys a
/// kind takes is checked when resolving.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConcurrencyLimitFile {
    /// `"static"` (with `limit`), or `"aimd"` or `"gradient2"`, which adapt as Netflix
    /// concurrency-limits does.
    pub kind: Spanned<ConcurrencyLimitKindFile>,
    /// The fixed limit of kind `static`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Spanned<Count>>,
    // Adaptive kinds.
    /// Adaptive kinds: the limit an instance starts from, and restarts from when
    /// relaunched; omitted: 10 (aimd), 20 (gradient2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_limit: Option<Spanned<Count>>,
    /// Adaptive kinds: the lowest the limit goes; omitted: 1 (aimd), 20 (gradient2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_limit: Option<Spanned<Count>>,
    /// Adaptive kinds: the highest the limit goes; omitted: 200.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_limit: Option<Spanned<Count>>,
    // AIMD.
    /// `aimd`: the limit is multiplied by this, in (0, 1), on a drop; omitted: 0.9.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backoff_ratio: Option<Spanned<Number>>,
    /// `aimd`: an attempt that takes longer at the instance counts as a drop; omitted: 5s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Spanned<Duration>>,
    // Gradient2.
    /// `gradient2`: share of each new estimate taken into the limit, in (0, 1]; omitted:
    /// 0.2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smoothing: Option<Spanned<Number>>,
    /// `gradient2`: how many times the long-term RTT a sample may reach before the limit
    /// shrinks, at least 1; omitted: 1.5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt_tolerance: Option<Spanned<Number>>,
    /// `gradient2`: samples in the long-term RTT average; omitted: 600.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_window: Option<Spanned<Count>>,
    /// `gradient2`: headroom added to each estimate of the limit; omitted: 4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_size: Option<Spanned<Count>>,
}

/// `[services.NAME.classes.CLASS]`: a per-class override of the service's CPU cost.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceClassFile {
    /// The class's CPU cost on this service, in the forms of the service's `cpu`.
    pub cpu: Spanned<CpuFile>,
}

/// A CPU cost: the shorthand `"20ms"` (constant) or a table naming its distribution.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum CpuFile {
    Constant(Duration),
    Table(CpuTable),
}

/// `{ dist = "lognormal", mean = "20ms", p99 = "60ms" }`. The keys are flat so each keeps
/// its span; which keys a distribution needs is checked when resolving.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CpuTable {
    /// `"constant"` (with `value`), `"exponential"` (with `mean`) or `"lognormal"` (with
    /// `mean` and `p99`).
    pub dist: Spanned<DistFile>,
    /// `constant`: the cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Spanned<Duration>>,
    /// `exponential` and `lognormal`: the mean cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<Spanned<Duration>>,
    /// `lognormal`: the 99th percentile, above the mean and at most about 14.97 times it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99: Option<Spanned<Duration>>,
}

/// `[[thresholds]]`: a metric, an optional scope and window, a comparison and a target.
/// Names and values are checked against the metric vocabulary when resolving.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdFile {
    /// `"success_rate"`, `"latency.p99"`, ...; the aggregation may be given apart.
    pub metric: Spanned<String>,
    /// The aggregation when `metric` has none: `"p99"` beside `metric = "latency"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation: Option<Spanned<String>>,
    /// Scope: this class's requests only; omitted: every class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<Spanned<String>>,
    /// Scope: this service's figures; omitted: all requests, or for a per-service metric
    /// the busiest service (summed for `instance_hours`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Spanned<String>>,
    /// How the measured value must compare with `value`: `"<"`, `"<="`, `">"` or `">="`.
    pub comparison: Spanned<ComparisonFile>,
    /// The target in the metric's unit: `"99.5%"`, `"250ms"`, `"300/s"`, or a bare number.
    pub value: Spanned<TargetFile>,
    /// The stretch measured: `{ from, to }` or `{ sliding = "10m" }`; omitted: the whole
    /// run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Spanned<WindowFile>>,
    /// Over replications: `"mean"`, `"worst"`, `"lower95"`, `"upper95"`, ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistic: Option<Spanned<String>>,
}

/// A threshold's target: text with a unit (`"99.9%"`, `"250ms"`) or a bare number.
#[derive(Clone, Debug, PartialEq)]
pub enum TargetFile {
    Text(String),
    Number(f64),
}

/// `window = { from = "08:00", to = "10:00" }` or `window = { sliding = "10m" }`; which
/// combinations are valid is checked when resolving.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowFile {
    /// Start of a span, a clock time or a duration from the start: the intervals that start
    /// in [from, to) count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Spanned<TimePoint>>,
    /// End of a span (excluded), in the same forms as `from`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Spanned<TimePoint>>,
    /// Length of a sliding window, a whole number of intervals; the worst window counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sliding: Option<Spanned<Duration>>,
}

/// A queue capacity: a count, or `"unbounded"`. A negative count is refused when resolving,
/// where the message can name the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capacity {
    Bounded(i64),
    Unbounded,
}

/// A whole number as TOML writes it; ranges are checked when resolving.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Count(pub i64);

/// A real number as TOML writes it (integers accepted); finiteness is checked when resolving.
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Number(pub f64);

/// Declares a closed set of keywords with a `Deserialize` whose error names the setting and
/// lists every valid keyword: `unknown jitter "ful", expected one of "none", "full", ...`.
macro_rules! keyword_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($(#[$variant_meta:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            /// Every keyword, in documentation order.
            pub const KEYWORDS: &'static [&'static str] = &[$($text),+];

            pub fn keyword(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            fn from_keyword(text: &str) -> Option<$name> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str(KeywordVisitor {
                    what: $what,
                    keywords: $name::KEYWORDS,
                    from_keyword: $name::from_keyword,
                })
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.keyword())
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                keyword_schema($what, $name::KEYWORDS)
            }
        }
    };
}

/// The JSON Schema of a closed set of keywords.
fn keyword_schema(what: &str, keywords: &[&str]) -> Schema {
    json_schema!({
        "type": "string",
        "description": format!("A {what}: {}.", quoted_list(keywords)),
        "enum": keywords,
    })
}

keyword_enum!(
    /// `kind` of a source.
    SourceKindFile, "source kind" {
        /// Arrivals at a constant, profiled or traced rate.
        OpenLoop => "open_loop",
        /// Users who wait for each answer, then think.
        ClosedLoop => "closed_loop",
    }
);

keyword_enum!(
    /// `values` of a trace: what its value column holds.
    TraceValuesFile, "trace values" {
        /// Requests per second at the row's time.
        Rate => "rate",
        /// Requests in the interval from the row's time to the next row's.
        Count => "count",
    }
);

keyword_enum!(
    /// `interpolation` of a trace: how the rate goes from one row to the next.
    InterpolationFile, "interpolation" {
        /// Each row's rate holds until the next row.
        Step => "step",
        /// Straight lines between the rows.
        Linear => "linear",
    }
);

keyword_enum!(
    /// An outcome in a retry policy's `on` list.
    RetryOutcome, "retry outcome" {
        Timeout => "timeout",
        Rejected => "rejected",
        Error => "error",
    }
);

keyword_enum!(
    /// `jitter` of a backoff.
    JitterFile, "jitter" {
        None => "none",
        Full => "full",
        Equal => "equal",
        Decorrelated => "decorrelated",
    }
);

keyword_enum!(
    /// `balancer` of a service.
    BalancerFile, "balancer" {
        RoundRobin => "round_robin",
        Random => "random",
        LeastOutstanding => "least_outstanding",
        PowerOfTwoChoices => "power_of_two_choices",
    }
);

keyword_enum!(
    /// `dist` of a CPU cost.
    DistFile, "distribution" {
        Constant => "constant",
        Exponential => "exponential",
        Lognormal => "lognormal",
    }
);

keyword_enum!(
    /// `criticality` of a class.
    CriticalityFile, "criticality" {
        Critical => "critical",
        Sheddable => "sheddable",
    }
);

keyword_enum!(
    /// `discipline` of a queue.
    DisciplineFile, "queue discipline" {
        Fifo => "fifo",
        Lifo => "lifo",
        AdaptiveLifo => "adaptive_lifo",
        CoDel => "codel",
    }
);

keyword_enum!(
    /// `kind` of a concurrency limit.
    ConcurrencyLimitKindFile, "concurrency limit kind" {
        Static => "static",
        Aimd => "aimd",
        Gradient2 => "gradient2",
    }
);

keyword_enum!(
    /// `action` of a timeline entry or an alert's operator action.
    ActionKindFile, "action" {
        CpuMultiplier => "cpu_multiplier",
        LatencyMultiplier => "latency_multiplier",
        Metrics => "metrics",
        InstanceLoss => "instance_loss",
        Backlog => "backlog",
        ScaleTo => "scale_to",
        Admit => "admit",
        Limiter => "limiter",
        ErrorRate => "error_rate",
        ZoneLoss => "zone_loss",
        ZoneRestore => "zone_restore",
        RegionLoss => "region_loss",
        RegionRestore => "region_restore",
    }
);

keyword_enum!(
    /// `retry_region` of a router.
    RetryRegionFile, "retry region" {
        Same => "same",
        Next => "next",
    }
);

keyword_enum!(
    /// `metric` of an alert.
    AlertMetricFile, "alert metric" {
        SuccessRate => "success_rate",
        LatencyP99 => "latency_p99",
        MetricsStaleness => "metrics_staleness",
        CpuUtilisation => "cpu_utilisation",
        UnscaledUtilisation => "unscaled_utilisation",
    }
);

keyword_enum!(
    /// `comparison` of a threshold.
    ComparisonFile, "comparison" {
        Less => "<",
        LessOrEqual => "<=",
        Greater => ">",
        GreaterOrEqual => ">=",
    }
);

fn unknown_keyword(what: &str, text: &str, keywords: &[&str]) -> String {
    let choices = match keywords {
        [only] => format!("\"{only}\""),
        _ => format!("one of {}", quoted_list(keywords)),
    };
    format!("unknown {what} \"{text}\", expected {choices}")
}

/// Reads a keyword; an unknown one or a non-string gets a message listing the keywords.
struct KeywordVisitor<T> {
    what: &'static str,
    keywords: &'static [&'static str],
    from_keyword: fn(&str) -> Option<T>,
}

impl<T> Visitor<'_> for KeywordVisitor<T> {
    type Value = T;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "a {} ({})", self.what, quoted_list(self.keywords))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        (self.from_keyword)(text).ok_or_else(|| E::custom(unknown_keyword(self.what, text, self.keywords)))
    }
}

// ---------------------------------------------------------------------------------------
// Hand-written `Deserialize`s: a value that may be a string or a table/array is read with
// one visitor, so errors keep their spans and say what was expected (serde's untagged enums
// would only say "did not match any variant").
// ---------------------------------------------------------------------------------------

impl<'de> Deserialize<'de> for RateFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RateFileVisitor)
    }
}

struct RateFileVisitor;

impl<'de> Visitor<'de> for RateFileVisitor {
    type Value = RateFile;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(r#"a rate such as "100/s", or a profile [{ at = "06:00", rate = "50/s" }, ...]"#)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<RateFile, E> {
        text.parse().map(RateFile::Constant).map_err(|err: UnitError| E::custom(err))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<RateFile, E> {
        self.visit_str(&value.to_string())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<RateFile, E> {
        self.visit_str(&value.to_string())
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<RateFile, A::Error> {
        Vec::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(RateFile::Profile)
    }
}

impl<'de> Deserialize<'de> for UsersFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UsersFileVisitor)
    }
}

struct UsersFileVisitor;

impl<'de> Visitor<'de> for UsersFileVisitor {
    type Value = UsersFile;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .write_str(r#"a number of users such as 50, or a profile [{ at = "06:00", users = 50 }, ...]"#)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<UsersFile, E> {
        CountVisitor.visit_i64(value).map(UsersFile::Constant)
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<UsersFile, E> {
        CountVisitor.visit_u64(value).map(UsersFile::Constant)
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<UsersFile, E> {
        CountVisitor.visit_f64(value).map(UsersFile::Constant)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<UsersFile, A::Error> {
        Vec::deserialize(de::value::SeqAccessDeserializer::new(seq)).map(UsersFile::Profile)
    }
}

impl<'de> Deserialize<'de> for LimiterFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LimiterFileVisitor)
    }
}

struct LimiterFileVisitor;

impl<'de> Visitor<'de> for LimiterFileVisitor {
    type Value = LimiterFile;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(
            r#"a preset name such as "finagle" or { preset = "finagle", percent_can_retry = "10%" }"#,
        )
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<LimiterFile, E> {
        Ok(LimiterFile::Preset(text.to_owned()))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<LimiterFile, A::Error> {
        LimiterTable::deserialize(de::value::MapAccessDeserializer::new(map))
            .map(|t| LimiterFile::Table(Box::new(t)))
    }
}

impl<'de> Deserialize<'de> for LimiterWindowFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LimiterWindowVisitor)
    }
}

struct LimiterWindowVisitor;

impl Visitor<'_> for LimiterWindowVisitor {
    type Value = LimiterWindowFile;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(r#"a number of calls such as 100, or a duration such as "2m""#)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<LimiterWindowFile, E> {
        Ok(LimiterWindowFile::Calls(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<LimiterWindowFile, E> {
        Ok(LimiterWindowFile::Calls(value.min(i64::MAX as u64) as i64))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<LimiterWindowFile, E> {
        text.parse().map(LimiterWindowFile::Time).map_err(|err: UnitError| E::custom(err))
    }
}

impl<'de> Deserialize<'de> for CpuFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CpuFileVisitor)
    }
}

struct CpuFileVisitor;

impl<'de> Visitor<'de> for CpuFileVisitor {
    type Value = CpuFile;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(r#"a CPU cost such as "20ms" or { dist = "exponential", mean = "20ms" }"#)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<CpuFile, E> {
        text.parse().map(CpuFile::Constant).map_err(|err: UnitError| E::custom(err))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<CpuFile, E> {
        self.visit_str(&value.to_string())
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<CpuFile, E> {
        self.visit_str(&value.to_string())
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<CpuFile, A::Error> {
        CpuTable::deserialize(de::value::MapAccessDeserializer::new(map)).map(CpuFile::Table)
    }
}

impl<'de> Deserialize<'de> for TargetFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TargetFileVisitor)
    }
}

struct TargetFileVisitor;

impl Visitor<'_> for TargetFileVisitor {
    type Value = TargetFile;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(r#"a target such as "99.9%", "250ms" or 1.5"#)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<TargetFile, E> {
        Ok(TargetFile::Text(text.to_string()))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<TargetFile, E> {
        Ok(TargetFile::Number(value as f64))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<TargetFile, E> {
        Ok(TargetFile::Number(value as f64))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<TargetFile, E> {
        Ok(TargetFile::Number(value))
    }
}

impl Serialize for TargetFile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            TargetFile::Text(text) => serializer.serialize_str(text),
            TargetFile::Number(value) => serializer.serialize_f64(*value),
        }
    }
}

impl<'de> Deserialize<'de> for Capacity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CapacityVisitor)
    }
}

struct CapacityVisitor;

const CAPACITY_EXPECTED: &str = r#"expected a count >= 0 such as 64, or "unbounded""#;

impl Visitor<'_> for CapacityVisitor {
    type Value = Capacity;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&CAPACITY_EXPECTED["expected ".len()..])
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Capacity, E> {
        match text {
            "unbounded" => Ok(Capacity::Unbounded),
            _ => Err(E::custom(format!("unknown capacity \"{text}\", {CAPACITY_EXPECTED}"))),
        }
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Capacity, E> {
        Ok(Capacity::Bounded(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Capacity, E> {
        Err(E::custom(format!("capacity {value} is not a whole number, {CAPACITY_EXPECTED}")))
    }
}

impl Serialize for Capacity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            Capacity::Bounded(count) => serializer.serialize_i64(count),
            Capacity::Unbounded => serializer.serialize_str("unbounded"),
        }
    }
}

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(CountVisitor)
    }
}

struct CountVisitor;

impl Visitor<'_> for CountVisitor {
    type Value = Count;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a whole number such as 4")
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Count, E> {
        Ok(Count(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Count, E> {
        i64::try_from(value)
            .map(Count)
            .map_err(|_| E::custom(format!("{value} is too large, expected at most {}", i64::MAX)))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Count, E> {
        Err(E::custom(format!("{value} is not a whole number, expected a whole number such as 4")))
    }
}

impl Serialize for Count {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NumberVisitor)
    }
}

struct NumberVisitor;

impl Visitor<'_> for NumberVisitor {
    type Value = Number;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a number such as 2.0")
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Number, E> {
        Ok(Number(value as f64))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Number, E> {
        Ok(Number(value as f64))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Number, E> {
        Ok(Number(value))
    }
}

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.0)
    }
}

// ---------------------------------------------------------------------------------------
// JSON Schemas of the hand-read values: what each visitor above accepts.
// ---------------------------------------------------------------------------------------

/// Implements `JsonSchema` by a function of the generator, under the type's own name.
macro_rules! json_schema_by {
    ($type:ty, $name:literal, $schema:expr) => {
        impl JsonSchema for $type {
            fn schema_name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }

            fn json_schema(generator: &mut SchemaGenerator) -> Schema {
                let schema: fn(&mut SchemaGenerator) -> Schema = $schema;
                schema(generator)
            }
        }
    };
}

json_schema_by!(RateFile, "RateFile", |generator| json_schema!({
    "description": "A constant rate such as \"100/s\", or the points of a piecewise-linear profile [{ at = \"06:00\", rate = \"50/s\" }, ...].",
    "anyOf": [generator.subschema_for::<Rate>(), generator.subschema_for::<Vec<ProfilePoint>>()],
}));

json_schema_by!(UsersFile, "UsersFile", |generator| json_schema!({
    "description": "A number of users such as 50, or the points of a piecewise-linear profile [{ at = \"06:00\", users = 50 }, ...].",
    "anyOf": [{ "type": "integer", "minimum": 0 }, generator.subschema_for::<Vec<UsersPoint>>()],
}));

json_schema_by!(LimiterFile, "LimiterFile", |generator| json_schema!({
    "description": "A limiter preset's name such as \"finagle\", or { preset = \"finagle\", ... } with overrides of its parameters.",
    "anyOf": [{ "type": "string" }, generator.subschema_for::<LimiterTable>()],
}));

json_schema_by!(LimiterWindowFile, "LimiterWindowFile", |generator| json_schema!({
    "description": "A number of calls such as 100 (a circuit breaker's window), or a duration such as \"2m\" (throttling's).",
    "anyOf": [{ "type": "integer" }, generator.subschema_for::<Duration>()],
}));

json_schema_by!(CpuFile, "CpuFile", |generator| json_schema!({
    "description": "A CPU cost: a constant such as \"20ms\", or { dist = \"exponential\", mean = \"20ms\" }.",
    "anyOf": [generator.subschema_for::<Duration>(), generator.subschema_for::<CpuTable>()],
}));

json_schema_by!(TargetFile, "TargetFile", |_| json_schema!({
    "description": "A target with its unit such as \"99.9%\" or \"250ms\", or a bare number.",
    "type": ["string", "number"],
}));

json_schema_by!(Capacity, "Capacity", |_| json_schema!({
    "description": "A queue capacity: a count such as 64, or \"unbounded\".",
    "anyOf": [{ "type": "integer", "minimum": 0 }, { "const": "unbounded" }],
}));

json_schema_by!(Count, "Count", |_| json_schema!({
    "description": "A whole number such as 4.",
    "type": "integer",
}));

json_schema_by!(Number, "Number", |_| json_schema!({
    "description": "A number such as 2.0.",
    "type": "number",
}));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_errors_list_every_choice() {
        let error = toml::from_str::<BackoffFile>(r#"jitter = "ful""#).unwrap_err();
        assert_eq!(
            error.message(),
            r#"unknown jitter "ful", expected one of "none", "full", "equal" or "decorrelated""#
        );
        let error =
            toml::from_str::<SourceFile>("kind = \"closed\"\nclient = \"a\"\nrate = \"1/s\"").unwrap_err();
        assert_eq!(
            error.message(),
            r#"unknown source kind "closed", expected one of "open_loop" or "closed_loop""#
        );
    }

    #[test]
    fn rate_is_a_constant_or_a_profile() {
        let source: SourceFile = toml::from_str(
            "client = \"app\"\nrate = [{ at = \"06:00\", rate = \"50/s\" }, { at = \"90m\", rate = \"1/s\" }]",
        )
        .unwrap();
        let RateFile::Profile(points) = source.rate.unwrap().into_inner() else { panic!("not a profile") };
        assert_eq!(points.len(), 2);
        assert_eq!(points[1].rate.span(), 77..82);
        let error = toml::from_str::<SourceFile>("client = \"app\"\nrate = 100").unwrap_err();
        assert!(error.message().starts_with("missing unit in rate \"100\""), "{}", error.message());
    }

    #[test]
    fn users_are_a_count_or_a_profile() {
        let source: SourceFile =
            toml::from_str("kind = \"closed_loop\"\nclient = \"app\"\nusers = 50\nthink_time = \"1s\"")
                .unwrap();
        assert_eq!(*source.users.unwrap().get_ref(), UsersFile::Constant(Count(50)));
        let source: SourceFile = toml::from_str(
            "client = \"app\"\nusers = [{ at = \"0s\", users = 5 }, { at = \"1m\", users = 9 }]",
        )
        .unwrap();
        let UsersFile::Profile(points) = source.users.unwrap().into_inner() else { panic!("not a profile") };
        assert_eq!(points[1].users.get_ref().0, 9);
        let error = toml::from_str::<SourceFile>("client = \"app\"\nusers = 2.5").unwrap_err();
        assert!(error.message().contains("not a whole number"), "{}", error.message());
    }

    #[test]
    fn cpu_is_a_shorthand_or_a_table() {
        let service: ServiceClassFile = toml::from_str(r#"cpu = "20ms""#).unwrap();
        assert_eq!(*service.cpu.get_ref(), CpuFile::Constant("20ms".parse().unwrap()));
        let service: ServiceClassFile =
            toml::from_str(r#"cpu = { dist = "lognormal", mean = "20ms", p99 = "60ms" }"#).unwrap();
        let CpuFile::Table(table) = service.cpu.get_ref() else { panic!("not a table") };
        assert_eq!(*table.dist.get_ref(), DistFile::Lognormal);
        assert!(table.p99.is_some());
        let error =
            toml::from_str::<ServiceClassFile>(r#"cpu = { dist = "normal", mean = "20ms" }"#).unwrap_err();
        assert!(error.message().contains(r#"expected one of "constant", "exponential" or "lognormal""#));
    }

    #[test]
    fn capacity_is_a_count_or_unbounded() {
        let queue: QueueFile = toml::from_str("capacity = 64").unwrap();
        assert_eq!(*queue.capacity.unwrap().get_ref(), Capacity::Bounded(64));
        let queue: QueueFile = toml::from_str(r#"capacity = "unbounded""#).unwrap();
        assert_eq!(*queue.capacity.unwrap().get_ref(), Capacity::Unbounded);
        assert!(toml::from_str::<QueueFile>(r#"capacity = "lots""#).is_err());
    }
}
