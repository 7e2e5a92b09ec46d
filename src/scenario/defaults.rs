//! What an omitted key means: every default of the scenario format, in one place, each with
//! its source, and the one pass (`fill`) that writes them into a parsed file.
//!
//! Invariant: after `fill`, every optional key that has a default is `Some`, so the file
//! can be written out with nothing left implicit. A filled value carries an empty span
//! (`0..0`); the resolver uses that to point its errors at what the user wrote instead.
//! Keys without a default stay `None`: `simulation.start` (no clock) and `clients.*.timeout`
//! (wait for ever).

use std::path::Path;

use super::spanned::Spanned;

use super::cells::ReleaseFile;
use super::file::{
    AutoscalerFile, BackoffFile, BalancerFile, Capacity, ClientFile, ConcurrencyLimitFile,
    ConcurrencyLimitKindFile, Count, CriticalityFile, DisciplineFile, FailoverFile, GuardFile, JitterFile,
    MetricsFile, Named, Number, QueueFile, RetryFile, RetryOutcome, RetryRegionFile, RoutingFile,
    ScenarioFile, ServiceFile, SloFile, SourceKindFile,
};
use super::file::{InterpolationFile, TraceValuesFile};
use super::units::{Duration, Percent};
use crate::engine::SimDuration;
use crate::model::autoscaler::AutoscalerPreset;
use crate::model::concurrency::{Aimd, Gradient2};
use crate::model::overload::CoDel;

/// Width of one time-series interval: 1 min (`design/metrics.md`).
pub const INTERVAL: Duration = Duration(SimDuration::from_secs(60));

/// Time zone of a scenario with a date and none stated: UTC (stormsim's own; a postmortem
/// says its zone, and the shipped incidents state theirs).
pub const TIMEZONE: &str = "UTC";

/// Seed when neither the file nor the command line gives one: 1 (stormsim's own; any fixed
/// value keeps runs reproducible).
pub const SEED: i64 = 1;

/// Requests plus attempts alive at once before the run is stopped: 2,000,000 (stormsim's
/// own: a few hundred MB of in-flight state, far above any sane steady state).
pub const MAX_IN_FLIGHT: i64 = 2_000_000;

/// Events handled in one run before it is stopped: 2,000,000,000 (stormsim's own: minutes
/// of CPU, enough for a day at thousands of requests per second).
pub const MAX_EVENTS: i64 = 2_000_000_000;

/// Share of the only class when a file has exactly one: 100% (it gets every request).
pub const SOLE_CLASS_SHARE: Percent = Percent::HUNDRED;

/// The kind of a source: open loop (arrivals at a rate), as every load generator's
/// arrival-rate mode and the queueing models of the validation scenarios.
pub const SOURCE_KIND: SourceKindFile = SourceKindFile::OpenLoop;

/// A trace's column of times: the first (as Prometheus, Grafana and CloudWatch export
/// them: the time, then the value).
pub const TRACE_TIME_COLUMN: i64 = 1;

/// A trace's column of values: the second.
pub const TRACE_VALUE_COLUMN: i64 = 2;

/// What a trace's values are: a rate per second (Prometheus' `rate()`, what a dashboard
/// plots).
pub const TRACE_VALUES: TraceValuesFile = TraceValuesFile::Rate;

/// How a trace's rate goes from one row to the next: in steps (a measured rate is the
/// average over its interval, so the step keeps each interval's count exactly).
pub const TRACE_INTERPOLATION: InterpolationFile = InterpolationFile::Step;

/// Attempts when `[clients.*.retry]` is omitted: 1, no retries (stormsim's own:
/// retrying is opt-in, so a scenario never retries by surprise).
pub const MAX_ATTEMPTS_WITHOUT_RETRY: i64 = 1;

/// Attempts, the first included, when the retry table omits them: 3 (AWS SDK standard retry
/// mode, "max attempts 3").
pub const MAX_ATTEMPTS: i64 = 3;

/// Outcomes retried when `on` is omitted: timeouts and rejections, the two failures a
/// client sees (AWS SDK standard mode retries both throttling and transient errors).
pub const RETRY_ON: [RetryOutcome; 2] = [RetryOutcome::Timeout, RetryOutcome::Rejected];

/// First backoff: 100 ms (AWS SDK standard retry mode, base delay).
pub const BACKOFF_BASE: Duration = Duration(SimDuration::from_millis(100));

/// Growth of the backoff per retry: x2 (AWS SDK standard retry mode, binary exponential).
pub const BACKOFF_MULTIPLIER: f64 = 2.0;

/// Longest backoff: 20 s (AWS SDK standard retry mode, max backoff).
pub const BACKOFF_CAP: Duration = Duration(SimDuration::from_secs(20));

/// Jitter: full (AWS SDK standard retry mode; AWS Architecture blog, "Exponential Backoff
/// and Jitter", which finds full jitter does the least work).
pub const JITTER: JitterFile = JitterFile::Full;

/// Waiting room per instance: unbounded. An M/M/c queue is unbounded, so the validation
/// scenarios need nothing; real systems should set a capacity.
pub const QUEUE_CAPACITY: Capacity = Capacity::Unbounded;

/// Load balancer: round robin (the default of Envoy, nginx and Kubernetes services).
pub const BALANCER: BalancerFile = BalancerFile::RoundRobin;

/// Queue discipline: FIFO (every server's default).
pub const DISCIPLINE: DisciplineFile = DisciplineFile::Fifo;

/// Work whose caller gave up is still served (most servers cannot tell): no dropping.
pub const DROP_ABANDONED: bool = false;

/// Connection setup CPU: none, and no pool (a scenario that models handshakes says so).
pub const CONNECTION_CPU: Duration = Duration(SimDuration::ZERO);
pub const POOLED: bool = false;

/// A rejection at the door costs no CPU unless the scenario states one (stormsim's own: a
/// cost that depends on the server is the scenario's to state).
pub const REJECT_CPU: Duration = Duration(SimDuration::ZERO);

// A concurrency limit's parameters default to Netflix concurrency-limits' (`Aimd::NETFLIX`,
// `Gradient2::NETFLIX`, cited there); a static limit has no default.
// CoDel's target and interval default to folly's 5 ms and 100 ms (`CoDel::FOLLY`).
/// A class is critical unless it says otherwise (Google SRE's default criticality is
/// CRITICAL).
pub const CRITICALITY: CriticalityFile = CriticalityFile::Critical;

/// Every answer is a success unless `error_rate` says otherwise, and instances live in one
/// zone, `"a"`, unless `zones` lists more.
pub const ZONE: &str = "a";

/// Downstream calls: one at a time, one call per entry, always made.
pub const PARALLEL_CALLS: bool = false;
pub const CALL_COUNT: i64 = 1;

/// A hop does not propagate its caller's deadline unless asked (gRPC propagates deadlines,
/// most HTTP clients do not).
pub const PROPAGATE_DEADLINE: bool = false;

/// CPU-cost multiplier: 1 (costs as written).
pub const CPU_MULTIPLIER: f64 = 1.0;

/// Launch to ready: 3 min (stormsim's own: a VM or a node plus a container image pull
/// typically takes 2 to 5 minutes).
pub const BOOT_DELAY: Duration = Duration(SimDuration::from_secs(180));

/// Warm-up after boot: none, and a warming instance's CPU factor: 1.
pub const WARMUP: Duration = Duration(SimDuration::ZERO);
pub const WARMUP_CPU: f64 = 1.0;

/// Failed instances are replaced (an auto-scaling group's or a Deployment's behaviour).
pub const REPLACE_FAILED: bool = true;

/// Metrics period and delivery delay: 60 s each (CloudWatch standard one-minute metrics,
/// available about a minute later); 15 s each under the `hpa` preset (metrics-server's
/// resolution).
pub const METRICS_PERIOD: Duration = Duration(SimDuration::from_secs(60));
pub const METRICS_PERIOD_HPA: Duration = Duration(SimDuration::from_secs(15));

/// Autoscaler preset: `hpa` (Kubernetes, the most common), and its floor: 1 instance.
pub const AUTOSCALER_PRESET: &str = "hpa";
pub const AUTOSCALER_MIN: i64 = 1;
/// Target CPU utilisation: 50% (the AWS console's suggestion for target tracking).
pub const AUTOSCALER_TARGET: f64 = 0.5;

/// SLO: 99.9% of requests succeed in each interval (stormsim's own, the common "three
/// nines"), and an outage ends with 10 healthy minutes (`design/metrics.md`).
pub const SLO_SUCCESS_RATE: f64 = 0.999;
pub const SLO_RECOVERY: Duration = Duration(SimDuration::from_secs(600));

/// An alert fires as soon as its condition holds (`for` 0, as in Prometheus).
pub const ALERT_FOR: Duration = Duration(SimDuration::ZERO);
/// Statistic of a threshold over replications: the mean (a single run is its own mean).
pub const STATISTIC: &str = "mean";

/// A router's health check is on, and sees a region's loss or return 90 s after it
/// (Amazon Route 53 health checks: a 30 s request interval, failure threshold 3).
pub const HEALTH_CHECK: bool = true;
pub const DETECTION_DELAY: Duration = Duration(SimDuration::from_secs(90));

/// Traffic returns to a region 30 s after it looks healthy again, and an outlier stays
/// ejected that long (Envoy outlier detection, `base_ejection_time` 30 s).
pub const FAIL_BACK_AFTER: Duration = Duration(SimDuration::from_secs(30));

/// The observed detector's window and least samples: 10 s and 50 (Envoy outlier detection,
/// `interval` 10 s, `failure_percentage_request_volume` 50). It is on only when a threshold
/// is stated.
pub const DETECTOR_WINDOW: Duration = Duration(SimDuration::from_secs(10));
pub const DETECTOR_MIN_SAMPLES: i64 = 50;

/// Retries go where a first attempt would; crossing regions on a retry (resilient
/// routing) is opt-in, and allowed when asked for (no isolation).
pub const RETRY_REGION: RetryRegionFile = RetryRegionFile::Same;
pub const CROSS_REGION_RETRIES: bool = true;

/// Cross-region latency: none unless stated (stormsim's own: it depends on the regions;
/// East US to West US is about 35 ms one way).
pub const CROSS_REGION_LATENCY: Duration = Duration(SimDuration::ZERO);

/// A client of a dependency retries on the next provider (failover per request): listing
/// a backup provider means using it. The breaker is on only when a threshold is stated, and
/// probes a provider it shifted traffic off after `FAIL_BACK_AFTER`.
pub const PER_REQUEST_FAILOVER: bool = true;

// `workers` defaults to `cores`: one worker per core, a CPU-bound pool (see `fill_service`).

/// Fills every omitted key that has a default. `file_label` names the file; its stem is the
/// default `simulation.name`.
pub fn fill(file: &mut ScenarioFile, file_label: &str) {
    fill_simulation(file, file_label);
    let guard = file.guard.get_or_insert(GuardFile { max_in_flight: None, max_events: None });
    guard.max_in_flight.get_or_insert_with(|| filled(Count(MAX_IN_FLIGHT)));
    guard.max_events.get_or_insert_with(|| filled(Count(MAX_EVENTS)));
    for class in file.classes.values_mut() {
        class.criticality.get_or_insert(CRITICALITY);
    }
    if file.classes.len() == 1 {
        for class in file.classes.values_mut() {
            class.share.get_or_insert_with(|| filled(SOLE_CLASS_SHARE));
        }
    }
    for (name, region) in file.regions.iter_mut() {
        region.zones.get_or_insert_with(|| filled(vec![name.get_ref().clone()]));
    }
    let region_names: Vec<String> = file.regions.keys().map(|name| name.get_ref().clone()).collect();
    for source in file.sources.values_mut() {
        source.kind.get_or_insert_with(|| filled(SOURCE_KIND));
        if !region_names.is_empty() {
            source.regions.get_or_insert_with(|| filled(even_split(&region_names)));
        }
    }
    let regional: Vec<bool> = file
        .clients
        .values()
        .map(|client| super::regions::is_regional(file, client.target.get_ref()))
        .collect();
    let external: Vec<bool> = file
        .clients
        .values()
        .map(|client| file.dependencies.keys().any(|name| name.get_ref() == client.target.get_ref()))
        .collect();
    for ((client, regional), external) in file.clients.values_mut().zip(regional).zip(external) {
        fill_client(client);
        if regional {
            fill_routing(client.routing.get_or_insert_with(|| filled(RoutingFile::default())).get_mut());
        }
        if external {
            fill_failover(client.failover.get_or_insert_with(|| filled(FailoverFile::default())).get_mut());
        }
    }
    for provider in file.dependencies.values_mut().flat_map(|dependency| &mut dependency.providers) {
        provider.error_rate.get_or_insert_with(|| filled(Percent::from_fraction(0.0)));
    }
    if let Some(release) = &mut file.release {
        fill_release(release.get_mut());
    }
    let slo = file.slo.get_or_insert(SloFile { success_rate: None, recovery: None });
    slo.success_rate.get_or_insert_with(|| filled(Percent::from_fraction(SLO_SUCCESS_RATE)));
    slo.recovery.get_or_insert_with(|| filled(SLO_RECOVERY));
    for alert in file.alerts.values_mut() {
        alert.hold.get_or_insert_with(|| filled(ALERT_FOR));
    }
    for service in file.services.values_mut() {
        fill_service(service);
    }
    for threshold in &mut file.thresholds {
        threshold.statistic.get_or_insert_with(|| filled(STATISTIC.to_string()));
    }
}

/// A release does not roll back unless asked: a rollback is a decision the release
/// process states (stormsim's own default).
pub const RELEASE_ROLLBACK: bool = false;
/// A health gate judges a cell's bake on at least 20 finished requests; fewer is no
/// evidence and the cell passes (stormsim's own: a rate over a handful of requests is noise).
pub const GATE_MIN_REQUESTS: i64 = 20;

fn fill_release(release: &mut ReleaseFile) {
    release.rollback.get_or_insert_with(|| filled(RELEASE_ROLLBACK));
    if let Some(gate) = &mut release.gate {
        gate.get_mut().min_requests.get_or_insert_with(|| filled(Count(GATE_MIN_REQUESTS)));
    }
}

/// A default value, marked by its empty span.
fn filled<T>(value: T) -> Spanned<T> {
    Spanned::new(0..0, value)
}

/// Whether a value was filled in by `fill` rather than written by the user.
pub fn is_filled<T>(value: &Spanned<T>) -> bool {
    value.span().is_empty()
}

fn fill_simulation(file: &mut ScenarioFile, file_label: &str) {
    let simulation = &mut file.simulation;
    simulation.name.get_or_insert_with(|| file_stem(file_label));
    simulation.description.get_or_insert_with(String::new);
    simulation.interval.get_or_insert_with(|| filled(INTERVAL));
    simulation.seed.get_or_insert_with(|| filled(Count(SEED)));
    if simulation.date.is_some() {
        simulation.timezone.get_or_insert_with(|| filled(TIMEZONE.to_string()));
    }
}

/// `"scenarios/demo.toml"` gives `"demo"`.
fn file_stem(file_label: &str) -> String {
    Path::new(file_label)
        .file_stem()
        .map_or_else(|| file_label.to_string(), |stem| stem.to_string_lossy().into_owned())
}

fn fill_client(client: &mut ClientFile) {
    client.propagate_deadline.get_or_insert(PROPAGATE_DEADLINE);
    let retry = client.retry.get_or_insert(RetryFile {
        max_attempts: Some(filled(Count(MAX_ATTEMPTS_WITHOUT_RETRY))),
        on: None,
        backoff: None,
    });
    retry.max_attempts.get_or_insert_with(|| filled(Count(MAX_ATTEMPTS)));
    retry.on.get_or_insert_with(|| filled(RETRY_ON.to_vec()));
    let backoff =
        retry.backoff.get_or_insert(BackoffFile { base: None, multiplier: None, cap: None, jitter: None });
    backoff.base.get_or_insert_with(|| filled(BACKOFF_BASE));
    backoff.multiplier.get_or_insert_with(|| filled(Number(BACKOFF_MULTIPLIER)));
    backoff.cap.get_or_insert_with(|| filled(BACKOFF_CAP));
    backoff.jitter.get_or_insert(JITTER);
}

/// Every region the same share of a source's requests.
fn even_split(regions: &[String]) -> Named<Spanned<Percent>> {
    let share = Percent::from_fraction(1.0 / regions.len() as f64);
    regions.iter().map(|name| (filled(name.clone()), filled(share))).collect()
}

fn fill_routing(routing: &mut RoutingFile) {
    routing.health_check.get_or_insert(HEALTH_CHECK);
    routing.detection_delay.get_or_insert_with(|| filled(DETECTION_DELAY));
    routing.fail_back_after.get_or_insert_with(|| filled(FAIL_BACK_AFTER));
    if routing.error_rate_above.is_some() || routing.latency_above.is_some() {
        routing.window.get_or_insert_with(|| filled(DETECTOR_WINDOW));
        routing.min_samples.get_or_insert_with(|| filled(Count(DETECTOR_MIN_SAMPLES)));
    }
    routing.retry_region.get_or_insert(RETRY_REGION);
    routing.cross_region_retries.get_or_insert(CROSS_REGION_RETRIES);
    routing.cross_region_latency.get_or_insert_with(|| filled(CROSS_REGION_LATENCY));
}

fn fill_failover(failover: &mut FailoverFile) {
    failover.per_request.get_or_insert(PER_REQUEST_FAILOVER);
    if failover.error_rate_above.is_some() || failover.latency_above.is_some() {
        failover.window.get_or_insert_with(|| filled(DETECTOR_WINDOW));
        failover.min_samples.get_or_insert_with(|| filled(Count(DETECTOR_MIN_SAMPLES)));
    }
    failover.shift_back_after.get_or_insert_with(|| filled(FAIL_BACK_AFTER));
}

fn fill_service(service: &mut ServiceFile) {
    let cores = *service.cores.get_ref();
    service.workers.get_or_insert_with(|| filled(cores));
    let queue = service.queue.get_or_insert(QueueFile {
        capacity: None,
        discipline: None,
        codel_target: None,
        codel_interval: None,
    });
    queue.capacity.get_or_insert_with(|| filled(QUEUE_CAPACITY));
    let discipline = *queue.discipline.get_or_insert(DISCIPLINE);
    if matches!(discipline, DisciplineFile::CoDel | DisciplineFile::AdaptiveLifo) {
        queue.codel_target.get_or_insert_with(|| filled(Duration(CoDel::FOLLY.target)));
        queue.codel_interval.get_or_insert_with(|| filled(Duration(CoDel::FOLLY.interval)));
    }
    service.drop_abandoned.get_or_insert(DROP_ABANDONED);
    service.reject_cpu.get_or_insert_with(|| filled(REJECT_CPU));
    if let Some(limit) = &mut service.concurrency_limit {
        fill_concurrency_limit(limit);
    }
    service.connection_cpu.get_or_insert_with(|| filled(CONNECTION_CPU));
    service.pooled.get_or_insert(POOLED);
    service.parallel_calls.get_or_insert(PARALLEL_CALLS);
    service.error_rate.get_or_insert_with(|| filled(Percent::from_fraction(0.0)));
    if service.regions.is_none() {
        service.zones.get_or_insert_with(|| filled(vec![ZONE.to_string()]));
    }
    for call in &mut service.calls {
        call.count.get_or_insert_with(|| filled(Count(CALL_COUNT)));
        call.probability.get_or_insert_with(|| filled(Percent::HUNDRED));
    }
    service.balancer.get_or_insert(BALANCER);
    service.cpu_multiplier.get_or_insert_with(|| filled(Number(CPU_MULTIPLIER)));
    service.boot_delay.get_or_insert_with(|| filled(BOOT_DELAY));
    service.warmup.get_or_insert_with(|| filled(WARMUP));
    service.warmup_cpu.get_or_insert_with(|| filled(Number(WARMUP_CPU)));
    service.replace_failed.get_or_insert(REPLACE_FAILED);
    let hpa =
        service.autoscaler.as_ref().is_some_and(|a| a.preset.as_ref().is_none_or(|p| p.get_ref() == "hpa"));
    let period = if hpa { METRICS_PERIOD_HPA } else { METRICS_PERIOD };
    let metrics = service.metrics.get_or_insert(MetricsFile { period: None, delay: None });
    metrics.period.get_or_insert_with(|| filled(period));
    metrics.delay.get_or_insert_with(|| filled(period));
    if let Some(autoscaler) = &mut service.autoscaler {
        fill_autoscaler(autoscaler);
    }
}

/// Writes the kind's parameters into every key the file left out. The initial limit's
/// default is moved into the file's own `min_limit..=max_limit` when it lies outside.
fn fill_concurrency_limit(file: &mut ConcurrencyLimitFile) {
    let count = |n: u32| filled(Count(n as i64));
    let (initial, min, max) = match *file.kind.get_ref() {
        ConcurrencyLimitKindFile::Static => return,
        ConcurrencyLimitKindFile::Aimd => {
            let aimd = Aimd::NETFLIX;
            file.backoff_ratio.get_or_insert_with(|| filled(Number(aimd.backoff_ratio)));
            file.timeout.get_or_insert_with(|| filled(Duration(aimd.timeout)));
            (aimd.initial_limit, aimd.min_limit, aimd.max_limit)
        }
        ConcurrencyLimitKindFile::Gradient2 => {
            let gradient = Gradient2::NETFLIX;
            file.smoothing.get_or_insert_with(|| filled(Number(gradient.smoothing)));
            file.rtt_tolerance.get_or_insert_with(|| filled(Number(gradient.rtt_tolerance)));
            file.long_window.get_or_insert_with(|| count(gradient.long_window));
            file.queue_size.get_or_insert_with(|| count(gradient.queue_size));
            (gradient.initial_limit, gradient.min_limit, gradient.max_limit)
        }
    };
    let min = file.min_limit.get_or_insert_with(|| count(min)).get_ref().0;
    let max = file.max_limit.get_or_insert_with(|| count(max)).get_ref().0;
    let initial = if min <= max { (initial as i64).clamp(min, max) } else { initial as i64 };
    file.initial_limit.get_or_insert_with(|| filled(Count(initial)));
}

/// Writes the preset's parameters into every key the file left out. An unknown preset is
/// left for the resolver to report.
fn fill_autoscaler(file: &mut AutoscalerFile) {
    let preset = file.preset.get_or_insert_with(|| filled(AUTOSCALER_PRESET.to_string()));
    let Some(preset) = AutoscalerPreset::from_name(preset.get_ref()) else { return };
    let max = file.max.get_ref().0.clamp(0, u32::MAX as i64) as u32;
    let spec = preset.spec(AUTOSCALER_TARGET, AUTOSCALER_MIN as u32, max);
    let duration = |d: SimDuration| filled(Duration(d));
    file.target.get_or_insert_with(|| filled(Percent::from_fraction(spec.target)));
    file.min.get_or_insert_with(|| filled(Count(AUTOSCALER_MIN)));
    file.sync.get_or_insert_with(|| duration(spec.sync));
    file.tolerance.get_or_insert_with(|| filled(Percent::from_fraction(spec.tolerance)));
    file.scale_up_window.get_or_insert_with(|| duration(spec.scale_up_window));
    file.scale_down_window.get_or_insert_with(|| duration(spec.scale_down_window));
    if let Some(limit) = spec.scale_up_limit {
        file.scale_up_percent.get_or_insert_with(|| filled(Percent::from_fraction(limit.percent)));
        file.scale_up_pods.get_or_insert_with(|| filled(Count(limit.pods as i64)));
    }
    // `scale_up_pods` alone limits by instances alone, as Kubernetes' `Pods` policy does.
    if file.scale_up_pods.is_some() {
        file.scale_up_percent.get_or_insert_with(|| filled(Percent::from_fraction(0.0)));
    }
    if let Some(limit) = spec.scale_down_limit {
        file.scale_down_percent.get_or_insert_with(|| filled(Percent::from_fraction(limit.percent)));
    }
    file.scale_in_cooldown.get_or_insert_with(|| duration(spec.scale_in_cooldown));
    file.stale_after.get_or_insert_with(|| duration(spec.stale_after));
    file.when_blind.get_or_insert_with(|| filled(spec.when_blind.name().to_string()));
    file.blind_instances.get_or_insert_with(|| filled(Count(max as i64)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_up_pods_alone_limits_by_instances() {
        let text = "[simulation]\nduration = \"1h\"\n[classes.c]\n[sources.s]\nclient = \"app\"\nrate = \"10/s\"\n[clients.app]\ntarget = \"api\"\n[services.api]\ninstances = 2\ncores = 1\ncpu = \"10ms\"\nautoscaler = { preset = \"aws-target-tracking\", max = 20, scale_up_pods = 3 }\n";
        let loaded = crate::scenario::load_str(text, "pods.toml").unwrap_or_else(|err| panic!("{err}"));
        let autoscaler = loaded.scenario.services[0].autoscaler.clone().expect("an autoscaler");
        let limit = autoscaler.scale_up_limit.expect("scale_up_pods is not ignored");
        assert_eq!((limit.percent, limit.pods), (0.0, 3));
        assert!(loaded.resolved_toml.contains("scale_up_percent = \"0%\""), "{}", loaded.resolved_toml);
    }

    #[test]
    fn file_stem_names_the_scenario() {
        assert_eq!(file_stem("scenarios/validation/mm1.toml"), "mm1");
        assert_eq!(file_stem("inline"), "inline");
        assert_eq!(file_stem(""), "");
    }
}
