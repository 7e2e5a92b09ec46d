//! Call chains: downstream calls through client hops, per-hop amplification, deadline
//! propagation, and workers held while waiting on a dependency.

use crate::common::repo_path;
use stormsim::simulate;
use stormsim::stats::Summary;

/// Runs a shipped example (or one of its variants) and checks conservation.
fn run(relative: &str, variant: Option<&str>) -> Summary {
    let scenario = stormsim::scenario::load_variant(&repo_path(relative), variant)
        .unwrap_or_else(|err| panic!("{err}"))
        .scenario;
    let output = simulate(&scenario, 1);
    let requests = &output.summary.requests;
    assert_eq!(requests.offered, requests.succeeded + requests.failed + requests.in_flight, "conservation");
    output.summary
}

const CHAIN: &str = "scenarios/examples/call-chain.toml";
const SLOW: &str = "scenarios/examples/slow-dependency.toml";

#[test]
fn four_attempts_at_each_of_three_layers_make_64_at_the_bottom() {
    let summary = run(CHAIN, None);
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
    let without = run(CHAIN, Some("impatient-edge")).clients["low"].attempts_per_offered;
    let with = run(CHAIN, Some("propagated"));
    let low = with.clients["low"].attempts_per_offered;
    assert_eq!(without, 64.0, "without propagation the work goes on for nobody");
    // Each of the edge's 4 attempts leaves the bottom about 60 ms: 6 of its 10 ms tries.
    assert!(low <= 0.4 * without, "with propagation: {low} attempts per request at the bottom");
}

#[test]
fn retrying_at_one_layer_only_bounds_the_bottom_to_that_layers_attempts() {
    let summary = run(CHAIN, Some("retry-at-the-edge"));
    assert_eq!(summary.clients["low"].attempts_per_offered, 4.0);
    assert_eq!(summary.clients["low"].amplification, 1.0);
}

#[test]
fn a_long_dependency_timeout_exhausts_workers_where_a_short_one_does_not() {
    let long = run(SLOW, None);
    let short = run(SLOW, Some("short-timeout"));
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
