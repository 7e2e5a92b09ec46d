//! Call chains: downstream calls through client hops, per-hop amplification, deadline
//! propagation, and workers held while waiting on a dependency.

use stormsim::simulate;
use stormsim::stats::Summary;

fn run(text: &str) -> Summary {
    let scenario =
        stormsim::scenario::load_str(text, "chain.toml").unwrap_or_else(|err| panic!("{err}")).scenario;
    let output = simulate(&scenario, 1);
    let requests = &output.summary.requests;
    assert_eq!(requests.offered, requests.succeeded + requests.failed + requests.in_flight, "conservation");
    output.summary
}

/// Users -> edge -> front -> mid -> middle -> low -> bottom, which never answers in time.
/// Every hop makes 4 attempts and retries dependency errors.
fn three_layers(edge_timeout: &str, propagate: bool) -> String {
    format!(
        r#"
[simulation]
duration = "60s"

[classes.request]

[sources.users]
client = "edge"
rate = [{{ at = "0s", rate = "10/s" }}, {{ at = "30s", rate = "10/s" }}, {{ at = "31s", rate = "0/s" }}]

[clients.edge]
target = "front"
timeout = "{edge_timeout}"
retry = {{ max_attempts = 4, on = ["timeout", "error"], backoff = {{ base = "1ms", cap = "1ms", jitter = "none" }} }}

[clients.mid]
target = "middle"
timeout = "300ms"
propagate_deadline = {propagate}
retry = {{ max_attempts = 4, on = ["timeout", "error"], backoff = {{ base = "1ms", cap = "1ms", jitter = "none" }} }}

[clients.low]
target = "bottom"
timeout = "10ms"
propagate_deadline = {propagate}
retry = {{ max_attempts = 4, on = ["timeout", "error"], backoff = {{ base = "1ms", cap = "1ms", jitter = "none" }} }}

[services.front]
instances = 1
cores = 100
workers = 10000
cpu = "1ms"
calls = [{{ client = "mid" }}]

[services.middle]
instances = 1
cores = 100
workers = 10000
cpu = "1ms"
calls = [{{ client = "low" }}]

[services.bottom]
instances = 1
cores = 100000
workers = 100000
cpu = "1h"
"#
    )
}

#[test]
fn four_attempts_at_each_of_three_layers_make_64_at_the_bottom() {
    let summary = run(&three_layers("5s", false));
    let offered = summary.requests.offered as f64;
    assert!(offered > 250.0);
    assert_eq!(summary.requests.in_flight, 0);
    assert_eq!(summary.requests.failed_by_reason.dependency_error, summary.requests.offered);
    let hop = |name: &str| summary.clients[name].attempts_per_offered;
    assert_eq!(hop("edge"), 4.0);
    assert_eq!(hop("mid"), 16.0);
    assert_eq!(hop("low"), 64.0);
    assert_eq!(summary.clients["low"].amplification, 4.0, "4 attempts per request at each hop");
    assert_eq!(summary.requests.amplification, 4.0, "what users see is the first hop");
}

#[test]
fn a_propagated_deadline_stops_the_bottom_retrying_for_a_caller_that_gave_up() {
    // The edge gives up after 60 ms, long before the hops below have tried 4 x 4 times.
    let without = run(&three_layers("60ms", false)).clients["low"].attempts_per_offered;
    let with = run(&three_layers("60ms", true));
    let low = with.clients["low"].attempts_per_offered;
    assert_eq!(without, 64.0, "without propagation the work goes on for nobody");
    assert!(low < 0.5 * without, "with propagation: {low} attempts per request at the bottom");
}

/// An API whose every request calls a provider that takes 5 s (a slow provider), through a
/// client with the given timeout; 20 workers per instance, 10 requests/s.
fn slow_provider(timeout: &str) -> String {
    format!(
        r#"
[simulation]
duration = "5m"

[classes.request]

[sources.users]
client = "app"
rate = "10/s"

[clients.app]
target = "api"
timeout = "20s"

[clients.provider]
target = "provider"
timeout = "{timeout}"

[services.api]
instances = 1
cores = 4
workers = 20
queue = {{ capacity = 20 }}
cpu = "5ms"
calls = [{{ client = "provider" }}]

[services.provider]
instances = 1
cores = 100000
workers = 100000
cpu = "5s"
"#
    )
}

#[test]
fn a_long_dependency_timeout_exhausts_workers_where_a_short_one_does_not() {
    let long = run(&slow_provider("10s"));
    let short = run(&slow_provider("200ms"));
    let api = |summary: &Summary| summary.services["api"].clone();
    // Waiting 5 s per call at 10/s needs 50 workers: the 20 are all held, the queue fills,
    // and arrivals are turned away.
    assert!(api(&long).worker_utilisation > 0.95, "{}", api(&long).worker_utilisation);
    assert!(api(&long).rejected > 1000, "{}", api(&long).rejected);
    // Giving up after 200 ms holds about 2 workers: no queue, no rejections; the calls fail
    // fast instead (a fallback would serve them).
    assert!(api(&short).worker_utilisation < 0.2, "{}", api(&short).worker_utilisation);
    assert_eq!(api(&short).rejected, 0);
    assert!(api(&short).cpu_utilisation < 0.05);
}
