//! Timeline actions and the instance lifecycle, end to end on small scenarios.

use stormsim::simulate;
use stormsim::stats::Series;

/// One service of 4 instances x 1 core at 10 ms: 400/s at 100% CPU, offered `rate`.
fn scenario(rate: &str, extra: &str) -> stormsim::model::Scenario {
    let text = format!(
        r#"
[simulation]
duration = "1h"
interval = "1m"

[classes.all]

[sources.users]
client = "app"
rate = "{rate}"

[clients.app]
target = "api"
timeout = "2s"

[services.api]
instances = 4
cores = 1
queue = {{ capacity = 50 }}
cpu = "10ms"
boot_delay = "2m"
{extra}
"#
    );
    stormsim::scenario::load_str(&text, "operations.toml").unwrap_or_else(|err| panic!("{err}")).scenario
}

fn minute(series: &Series, m: usize) -> &stormsim::stats::IntervalRow {
    &series.rows[m]
}

#[test]
fn a_drain_then_a_ramp_keeps_admitted_load_under_capacity() {
    // 600/s against 400/s of capacity: drained at 10 min, then admitted from 10% to 60%
    // over 20 min, i.e. at most 360/s.
    let scenario = scenario(
        "600/s",
        r#"
[[timeline]]
at = "10m"
action = "admit"
service = "api"
to = "0%"

[[timeline]]
at = "15m"
action = "admit"
service = "api"
from = "10%"
to = "60%"
over = "20m"
"#,
    );
    let output = simulate(&scenario, 1);
    let series = &output.series;
    // Before the drain the pool is saturated.
    assert!(minute(series, 8).services[0].cpu_utilisation > 0.99);
    // Drained: nothing burns CPU, every attempt is turned away at the door.
    let drained = minute(series, 12);
    assert_eq!(drained.services[0].completed, 0);
    assert_eq!(drained.services[0].rejected, drained.services[0].arrived);
    // Ramping: the admitted share grows, and admitted load stays under capacity.
    let admitted = |m: usize| {
        let s = &minute(series, m).services[0];
        (s.arrived - s.rejected) as f64 / 60.0
    };
    assert!(
        admitted(16) < admitted(25) && admitted(25) < admitted(34),
        "{} {} {}",
        admitted(16),
        admitted(25),
        admitted(34)
    );
    for m in 15..60 {
        assert!(admitted(m) < 400.0 * 0.95, "minute {m}: {}/s admitted", admitted(m));
        assert!(minute(series, m).services[0].cpu_utilisation < 0.95, "minute {m}");
    }
    // The markers are in the series and the summary.
    assert_eq!(output.summary.timeline.len(), 2);
    assert!(output.summary.timeline[1].label.contains("admit from 10% to 60% over 20m"));
}

#[test]
fn a_scale_out_takes_effect_after_the_boot_delay() {
    let scenario = scenario(
        "300/s",
        "\n[[timeline]]\nat = \"10m30s\"\naction = \"scale_to\"\nservice = \"api\"\ninstances = 8\n",
    );
    let series = simulate(&scenario, 1).series;
    let ready = |m: usize| minute(&series, m).services[0].instances_ready;
    let provisioning = |m: usize| minute(&series, m).services[0].instances_provisioning;
    assert_eq!((ready(9), provisioning(9)), (4, 0));
    assert_eq!((ready(10), provisioning(10)), (4, 4), "booting during the boot delay");
    assert_eq!((ready(11), provisioning(11)), (4, 4), "still booting");
    assert_eq!((ready(12), provisioning(12)), (8, 0), "ready at 12m30s");
    assert_eq!(minute(&series, 12).services[0].instances_desired, 8);
}

#[test]
fn lost_instances_fail_their_work_and_are_replaced() {
    let scenario = scenario(
        "300/s",
        "\n[[timeline]]\nat = \"10m\"\naction = \"instance_loss\"\nservice = \"api\"\ncount = 2\n",
    );
    let output = simulate(&scenario, 1);
    let series = &output.series;
    assert_eq!(minute(series, 10).services[0].instances_provisioning, 2, "replacements booting");
    assert_eq!(minute(series, 12).services[0].instances_ready, 4, "replaced after the boot delay");
    assert!(output.summary.requests.failed_by_reason.no_capacity > 0, "the lost instances' attempts failed");
    let requests = &output.summary.requests;
    assert_eq!(requests.offered, requests.succeeded + requests.failed + requests.in_flight, "conservation");
}

#[test]
fn a_backlog_adds_its_jobs_to_the_offered_load() {
    let base = simulate(&scenario("100/s", ""), 1).summary.requests.offered;
    let with_backlog = scenario(
        "100/s",
        "\n[[timeline]]\nat = \"5m\"\naction = \"backlog\"\nclient = \"app\"\njobs = 30000\nover = \"10m\"\n",
    );
    let output = simulate(&with_backlog, 1);
    // The backlog's own draws come from its own stream: the users' arrivals are unchanged.
    assert_eq!(output.summary.requests.offered, base + 30_000);
    let offered = |m: usize| minute(&output.series, m).total.offered as f64 / 60.0;
    assert!((offered(8) - 150.0).abs() < 15.0, "100/s of users + 50/s of backlog: {}", offered(8));
}

#[test]
fn a_cpu_multiplier_applies_from_its_time() {
    let scenario = scenario(
        "200/s",
        "\n[[timeline]]\nat = \"30m\"\naction = \"cpu_multiplier\"\nservice = \"api\"\nvalue = 1.5\n",
    );
    let series = simulate(&scenario, 1).series;
    let cpu = |m: usize| minute(&series, m).services[0].cpu_utilisation;
    assert!((cpu(20) - 0.5).abs() < 0.05 && (cpu(35) - 0.75).abs() < 0.05, "{} {}", cpu(20), cpu(35));
}

#[test]
fn a_zone_loss_takes_its_instances_and_replacements_go_elsewhere() {
    let scenario = scenario(
        "300/s",
        "zones = [\"a\", \"b\"]\n\n[[timeline]]\nat = \"10m30s\"\naction = \"zone_loss\"\nservice = \"api\"\nzone = \"b\"\n",
    );
    let output = simulate(&scenario, 1);
    let series = &output.series;
    let ready = |m: usize| minute(series, m).services[0].instances_ready;
    assert_eq!((ready(9), ready(10)), (4, 2), "half the pool was in zone b");
    assert_eq!(minute(series, 10).services[0].instances_provisioning, 2, "replaced in zone a");
    assert_eq!(ready(13), 4);
    assert!(output.summary.requests.failed_by_reason.no_capacity > 0);
    assert!(output.summary.timeline[0].label.contains("zone b lost"));
}

#[test]
fn a_dependency_error_rate_fails_its_callers_until_it_recovers() {
    let text = r#"
[simulation]
duration = "30m"

[classes.all]

[sources.users]
client = "app"
rate = "50/s"

[clients.app]
target = "api"
timeout = "2s"

[clients.provider]
target = "provider"
timeout = "1s"
retry = { max_attempts = 2, on = ["error"], backoff = { base = "10ms", jitter = "none" } }

[services.api]
instances = 2
cores = 2
workers = 50
cpu = "5ms"
calls = [{ client = "provider" }]

[services.provider]
instances = 1
cores = 1000
workers = 1000
cpu = "50ms"

[[timeline]]
at = "10m"
action = "error_rate"
service = "provider"
errors = "50%"

[[timeline]]
at = "20m"
action = "error_rate"
service = "provider"
errors = "0%"
"#;
    let scenario =
        stormsim::scenario::load_str(text, "dependency.toml").unwrap_or_else(|err| panic!("{err}")).scenario;
    let series = simulate(&scenario, 1).series;
    let success = |m: usize| minute(&series, m).total.success_rate().unwrap();
    assert_eq!(success(5), 1.0);
    // Half the provider's answers are errors and the hop retries once: 25% of calls fail.
    assert!((success(15) - 0.75).abs() < 0.05, "{}", success(15));
    assert_eq!(success(25), 1.0);
    let failed = &minute(&series, 15).total.failed;
    assert!(failed[stormsim::model::FailureReason::DependencyError.index()] > 0);
}
