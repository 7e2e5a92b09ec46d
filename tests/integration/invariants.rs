//! Laws every run must obey, whatever the scenario: requests are conserved, Little's law
//! holds at every service, attempts add up, and a runaway stops at its guard.

use crate::common::load;
use stormsim::simulate;

#[test]
fn requests_are_conserved_in_a_retry_storm() {
    let summary = simulate(&load("scenarios/demo.toml"), 7).summary;
    let r = &summary.requests;
    assert!(r.failed > 0 && r.retries > 0, "the demo must storm: {r:?}");
    assert_eq!(r.offered, r.succeeded + r.failed + r.in_flight);
    for (name, class) in &summary.classes {
        assert_eq!(class.offered, class.succeeded + class.failed + class.in_flight, "class {name}");
    }
    let by_reason = &r.failed_by_reason;
    assert_eq!(
        r.failed,
        by_reason.timeout
            + by_reason.rejected
            + by_reason.dependency_error
            + by_reason.circuit_open
            + by_reason.retry_budget_exhausted
            + by_reason.deadline_exceeded
            + by_reason.no_capacity
    );
    assert_eq!(r.attempts, r.offered + r.retries, "every attempt is a first try or a retry");
    assert!((r.amplification - r.attempts as f64 / r.offered as f64).abs() < 1e-12);
}

#[test]
fn littles_law_holds_at_every_service() {
    for file in ["scenarios/demo.toml", "scenarios/validation/mmc.toml"] {
        let summary = simulate(&load(file), 3).summary;
        for (name, service) in &summary.services {
            let lambda_w = service.throughput_per_s * service.mean_time_in_system_ms / 1e3;
            let l = service.mean_in_system;
            // Only attempts still inside at the end separate the two sides.
            assert!(
                (l - lambda_w).abs() <= 0.01 * l.max(1e-9),
                "{file} {name}: L = {l}, lambda W = {lambda_w}"
            );
        }
    }
}

#[test]
fn abandoned_work_is_counted_as_wasted() {
    let summary = simulate(&load("scenarios/demo.toml"), 7).summary;
    let r = &summary.requests;
    assert!(r.wasted_attempts > 0 && r.wasted_cpu_s > 0.0);
    let api = &summary.services["api"];
    assert!((api.wasted_cpu_s - r.wasted_cpu_s).abs() < 1e-6);
    // A wasted attempt timed out first: there can be no more of them than timeouts.
    assert!(r.wasted_attempts <= summary.engine.events.timeouts);
}

#[test]
fn runaway_stops_at_the_in_flight_guard() {
    let mut scenario = load("scenarios/demo.toml");
    scenario.services[0].queue_capacity = None;
    scenario.guard.max_in_flight = 5_000;
    let out = simulate(&scenario, 1);
    assert!(out.summary.partial);
    let message = out.summary.stopped_by.as_deref().unwrap();
    assert!(message.contains("5000") && message.contains("guard.max_in_flight"), "{message}");
    assert!(out.summary.simulated_s < 6.0 * 3600.0);
    let r = &out.summary.requests;
    assert_eq!(r.offered, r.succeeded + r.failed + r.in_flight, "partial results are still consistent");
}
