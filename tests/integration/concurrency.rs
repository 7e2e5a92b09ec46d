//! Concurrency limits and the CPU cost of a rejection, end to end from TOML: each test
//! would fail if its mechanism broke.

use stormsim::simulate;
use stormsim::stats::{Series, Summary};

/// Loads `text` (with `variant` applied) and runs it on its own seed.
fn run(text: &str, variant: Option<&str>) -> (Summary, Series) {
    let scenario = stormsim::scenario::load_str_variant(text, "concurrency.toml", variant)
        .unwrap_or_else(|err| panic!("{err}"))
        .scenario;
    let output = simulate(&scenario, scenario.seed);
    (output.summary, output.series)
}

/// One instance with 4 workers on 4 cores (400/s of 10 ms work) offered 600/s.
const ONE_INSTANCE: &str = r#"
[simulation]
duration = "1m"
interval = "10s"

[classes.request]

[sources.users]
client = "app"
rate = "600/s"

[clients.app]
target = "api"
timeout = "2s"

[services.api]
instances = 1
cores = 4
cpu = "10ms"
concurrency_limit = { kind = "static", limit = 10 }
"#;

#[test]
fn a_static_limit_caps_what_an_instance_holds_and_rejects_the_excess() {
    let (summary, series) = run(ONE_INSTANCE, None);
    let api = &summary.services["api"];
    // 4 attempts hold the workers, so the unbounded queue never holds more than 10 - 4.
    assert_eq!(api.queue_length_max, 6);
    assert!(api.rejected_by_limit > 10_000, "{}", api.rejected_by_limit);
    assert_eq!(api.rejected, api.rejected_by_limit, "the queue is unbounded: only the limit rejects");
    assert_eq!((api.concurrency_limit_min, api.concurrency_limit_max), (Some(10), Some(10)));
    assert_eq!(summary.requests.failed_by_reason.rejected, api.rejected);
    assert!(series.rows.iter().all(|row| row.services[0].concurrency_limit == Some(10.0)));
    // Without the limit the same overload just queues (and times out).
    let unlimited = ONE_INSTANCE.replace(r#"concurrency_limit = { kind = "static", limit = 10 }"#, "");
    let (summary, series) = run(&unlimited, None);
    let api = &summary.services["api"];
    assert_eq!((api.rejected, api.rejected_by_limit), (0, 0));
    assert!(api.queue_length_max > 1000);
    assert_eq!((api.concurrency_limit_min, api.concurrency_limit_max), (None, None));
    assert!(series.rows.iter().all(|row| row.services[0].concurrency_limit.is_none()));
}

/// Two instances of 8 cores (2000/s of 8 ms work), 75% loaded for 30 s, then offered 130%
/// for two and a half minutes; the client gives up after 1 s and does not retry.
const STEP_OVERLOAD: &str = r#"
[simulation]
duration = "3m"
interval = "10s"

[classes.request]

[sources.users]
client = "app"
rate = [
  { at = "0s", rate = "1500/s" },
  { at = "30s", rate = "1500/s" },
  { at = "31s", rate = "2600/s" },
]

[clients.app]
target = "api"
timeout = "1s"

[services.api]
instances = 2
cores = 8
workers = 16
cpu = { dist = "exponential", mean = "8ms" }

[variants.aimd.services.api]
concurrency_limit = { kind = "aimd" }

[variants.gradient2.services.api]
concurrency_limit = { kind = "gradient2" }
"#;

#[test]
fn adaptive_limits_keep_the_queueing_delay_far_below_an_unlimited_queue() {
    let (unlimited, _) = run(STEP_OVERLOAD, None);
    let requests = &unlimited.requests;
    assert!(requests.success_rate < 0.2, "{}", requests.success_rate);
    assert!(requests.failed_by_reason.timeout > requests.offered / 2, "most work times out");
    let unlimited_p99 = requests.latency_ms.p99.unwrap();
    for name in ["aimd", "gradient2"] {
        let (summary, series) = run(STEP_OVERLOAD, Some(name));
        let requests = &summary.requests;
        let p99 = requests.latency_ms.p99.unwrap();
        assert!(p99 < unlimited_p99 / 3.0, "{name}: p99 {p99} ms against {unlimited_p99} ms unlimited");
        assert!(requests.success_rate > 0.7, "{name}: {}", requests.success_rate);
        assert_eq!(requests.failed_by_reason.timeout, 0, "{name}: the limit turns the excess away");
        let api = &summary.services["api"];
        assert!(api.rejected_by_limit > 50_000, "{name}: {}", api.rejected_by_limit);
        let (low, high) = (api.concurrency_limit_min.unwrap(), api.concurrency_limit_max.unwrap());
        assert!(low < high && high <= 200, "{name}: the limit moved within its range: {low}..{high}");
        let limits: Vec<f64> =
            series.rows.iter().filter_map(|row| row.services[0].concurrency_limit).collect();
        assert_eq!(limits.len(), series.rows.len(), "{name}: a limit in every interval");
    }
}

/// A limited service (4 cores, 10 ms of work) offered 200% for 30 s, then nothing, so every
/// attempt and every rejection has finished when the run ends.
fn saturated(reject_cpu: &str) -> String {
    format!(
        r#"
[simulation]
duration = "1m"
interval = "10s"

[classes.request]

[sources.users]
client = "app"
rate = [{{ at = "0s", rate = "800/s" }}, {{ at = "30s", rate = "800/s" }}, {{ at = "31s", rate = "0/s" }}]

[clients.app]
target = "api"
timeout = "5s"

[services.api]
instances = 1
cores = 4
cpu = "10ms"
concurrency_limit = {{ kind = "static", limit = 8 }}
reject_cpu = "{reject_cpu}"
"#
    )
}

/// Core-seconds the service's cores were busy, from its utilisation.
fn busy_cpu_s(summary: &Summary) -> f64 {
    let api = &summary.services["api"];
    api.cpu_utilisation * 4.0 * summary.simulated_s
}

#[test]
fn each_rejection_burns_exactly_its_stated_cpu() {
    let (summary, _) = run(&saturated("0.5ms"), None);
    let api = &summary.services["api"];
    assert_eq!(summary.requests.in_flight, 0, "everything finished before the end");
    assert!(api.rejected > 5000, "{}", api.rejected);
    let rejections_cpu = api.rejected as f64 * 0.0005;
    assert!((api.reject_cpu_s - rejections_cpu).abs() < 1e-9, "{} vs {rejections_cpu}", api.reject_cpu_s);
    // Conservation of CPU seconds: busy cores = served attempts' CPU + rejections' CPU.
    let served_cpu = api.cpu_per_completion_ms * api.completed as f64 / 1e3;
    let busy = busy_cpu_s(&summary);
    assert!((busy - served_cpu - rejections_cpu).abs() < 1e-6, "{busy} vs {served_cpu} + {rejections_cpu}");
    // Rejections take no worker and record no core wait of their own.
    assert_eq!(api.core_wait_ms.count, api.completed);

    let (free, _) = run(&saturated("0s"), None);
    let api = &free.services["api"];
    assert_eq!(api.reject_cpu_s, 0.0);
    let served_cpu = api.cpu_per_completion_ms * api.completed as f64 / 1e3;
    assert!((busy_cpu_s(&free) - served_cpu).abs() < 1e-6, "free rejections burn nothing");
}

#[test]
fn a_costly_rejection_makes_a_saturated_service_worse() {
    let (free, _) = run(&saturated("0s"), None);
    let (costly, _) = run(&saturated("2ms"), None);
    let (free_api, costly_api) = (&free.services["api"], &costly.services["api"]);
    // Rejections compete with admitted work for the cores: fewer attempts get served.
    assert!(
        (costly_api.completed as f64) < 0.85 * free_api.completed as f64,
        "{} served with costly rejections, {} with free ones",
        costly_api.completed,
        free_api.completed
    );
    assert!(costly.requests.succeeded < free.requests.succeeded);
    let wait = |summary: &Summary| summary.services["api"].core_wait_ms.mean.unwrap();
    assert!(wait(&costly) > 2.0 * wait(&free), "{} vs {} ms", wait(&costly), wait(&free));
}

#[test]
fn rejections_in_progress_survive_timeouts_instance_loss_and_draining() {
    // Rejections burn 200 ms each on 2 cores, far past the client's 50 ms timeout; an
    // instance is lost at 10 s and the pool scaled in at 20 s while rejections burn.
    let text = r#"
[simulation]
duration = "40s"
interval = "5s"

[classes.request]

[sources.users]
client = "app"
rate = "300/s"

[clients.app]
target = "api"
timeout = "50ms"

[clients.app.retry]
max_attempts = 3

[services.api]
instances = 3
cores = 2
cpu = "5ms"
boot_delay = "2s"
concurrency_limit = { kind = "aimd", min_limit = 2, initial_limit = 2, max_limit = 4 }
reject_cpu = "200ms"

[[timeline]]
at = "10s"
action = "instance_loss"
service = "api"
count = 1

[[timeline]]
at = "20s"
action = "scale_to"
service = "api"
instances = 1
"#;
    let (summary, _) = run(text, None);
    let requests = &summary.requests;
    assert_eq!(requests.offered, requests.succeeded + requests.failed + requests.in_flight);
    assert!(requests.failed_by_reason.timeout > 0, "callers gave up on burning rejections");
    let api = &summary.services["api"];
    assert!(api.rejected_by_limit > 0 && api.reject_cpu_s > 0.0);
    // Answered rejections paid in full; lost and unfinished ones are not counted.
    assert!(api.reject_cpu_s <= api.rejected as f64 * 0.2 + 1e-9);
    assert_eq!(api.instances, 1);
}
