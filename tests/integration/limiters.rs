//! Retry limiters and client protections, end to end from TOML: under total failure each
//! one bounds the retries (or the attempts) the way its system documents.

use stormsim::simulate;
use stormsim::stats::summary::RequestSummary;

/// 200 requests/s for 10 minutes into a service that never answers in time: every attempt
/// times out after 100 ms, and the client would try 4 times.
fn dead_service(limiter: Option<&str>) -> RequestSummary {
    simulate(&dead_scenario(limiter, ""), 1).summary.requests
}

fn dead_scenario(limiter: Option<&str>, extra: &str) -> stormsim::model::Scenario {
    let limiter_line = limiter.map(|name| format!("limiter = \"{name}\"")).unwrap_or_default();
    let text = format!(
        r#"
[simulation]
duration = "10m"
interval = "1m"

[classes.request]

[sources.users]
client = "app"
rate = "200/s"

[clients.app]
target = "api"
timeout = "100ms"
{limiter_line}

[clients.app.retry]
max_attempts = 4
backoff = {{ base = "10ms", multiplier = 2.0, cap = "1s", jitter = "full" }}

[services.api]
instances = 1
cores = 1000
workers = 1000
cpu = "10s"
{extra}
"#
    );
    stormsim::scenario::load_str(&text, "dead.toml").unwrap_or_else(|err| panic!("{err}")).scenario
}

#[test]
fn a_limiter_switched_on_by_the_timeline_caps_retries_from_then_on() {
    let extra = "[[timeline]]\nat = \"5m\"\naction = \"limiter\"\nclient = \"app\"\nlimiter = \"grpc\"\n\n\
                 [[timeline]]\nat = \"8m\"\naction = \"limiter\"\nclient = \"app\"\nlimiter = \"none\"\n";
    let series = simulate(&dead_scenario(None, extra), 1).series;
    let amplification = |m: usize| {
        let row = &series.rows[m].total;
        row.attempts as f64 / row.offered as f64
    };
    assert!(amplification(3) > 3.9, "before: {}", amplification(3));
    assert!(amplification(6) < 1.1, "grpc on: {}", amplification(6));
    assert!(amplification(9) > 3.9, "switched off again: {}", amplification(9));
}

#[test]
fn without_a_limiter_every_request_makes_every_attempt() {
    let r = dead_service(None);
    assert!(r.amplification > 3.99, "{}", r.amplification);
    assert_eq!(r.succeeded, 0);
}

#[test]
fn finagle_budget_caps_retries_near_twenty_percent_plus_ten_per_second() {
    // 20% of 200/s plus 10/s of reserve: 50 retries/s, an amplification of about 1.25.
    let r = dead_service(Some("finagle"));
    assert!((1.2..=1.3).contains(&r.amplification), "amplification {}", r.amplification);
    assert!(r.failed_by_reason.retry_budget_exhausted > 0);
}

#[test]
fn grpc_token_bucket_stops_retrying_once_half_the_tokens_are_gone() {
    // Every failure costs a token and nothing refunds: after 5 failures the bucket sits at
    // half and no retry passes again.
    let r = dead_service(Some("grpc"));
    assert!(r.retries <= 10, "retries {}", r.retries);
    assert!(r.amplification < 1.001);
}

#[test]
fn aws_quota_pays_for_fifty_timeout_retries_then_refuses() {
    // 500 tokens at 10 per retry after a timeout, and no success ever refunds.
    let r = dead_service(Some("aws-standard"));
    assert_eq!(r.retries, 50);
}

#[test]
fn envoy_budget_bounds_concurrent_retries() {
    let unlimited = dead_service(None);
    let r = dead_service(Some("envoy"));
    assert!(r.amplification > 1.0 && r.amplification < unlimited.amplification, "{}", r.amplification);
    assert!(r.failed_by_reason.retry_budget_exhausted > 0);
}

#[test]
fn envoy_circuit_breaking_caps_the_attempts_in_flight() {
    // At most 10 attempts out at once, each held 100 ms until its timeout: at most 100
    // attempts a second of the 200 offered; the rest fail locally.
    let table = "[clients.app.limiter]\npreset = \"envoy\"\nmax_requests = 10\n";
    let summary = simulate(&dead_scenario(None, table), 1).summary;
    let attempts_per_s = summary.requests.attempts as f64 / summary.simulated_s;
    assert!(attempts_per_s <= 100.5, "{attempts_per_s}");
    assert!(summary.requests.failed_by_reason.circuit_open as f64 > 0.4 * summary.requests.offered as f64);
}

#[test]
fn resilience4j_breaker_opens_and_fails_fast() {
    let r = dead_service(Some("resilience4j"));
    // Open for 60 s after each window of failures: most requests never leave the client.
    assert!(r.failed_by_reason.circuit_open as f64 > 0.8 * r.offered as f64, "{r:?}");
    assert!(r.attempts < r.offered / 2);
}

#[test]
fn sre_throttling_rejects_locally_once_nothing_is_accepted() {
    let r = dead_service(Some("sre"));
    // No attempt is ever accepted, so p = requests / (requests + 1) tends to 1.
    assert!(r.failed_by_reason.rejected as f64 > 0.9 * r.offered as f64, "{r:?}");
}

#[test]
fn preset_parameters_can_be_overridden() {
    // Finagle's budget with half the requests allowed as retries instead of 20%: under total
    // failure amplification rises towards 1.5 (plus the 10/s floor over 200/s).
    let table = "[clients.app.limiter]\npreset = \"finagle\"\npercent_can_retry = \"50%\"\n";
    let overridden = simulate(&dead_scenario(None, table), 1).summary.requests.amplification;
    let finagle = dead_service(Some("finagle")).amplification;
    assert!((finagle - 1.25).abs() < 0.05, "finagle {finagle}");
    assert!((overridden - 1.55).abs() < 0.07, "overridden {overridden}");
}
