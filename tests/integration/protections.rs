//! Client protections beyond retry limiters, end to end from TOML: hedged requests, human
//! retries, an overall deadline, and a circuit breaker's state over time.

use crate::common::repo_path;
use stormsim::model::Scenario;
use stormsim::simulate;
use stormsim::stats::summary::HopSummary;
use stormsim::stats::{Series, Summary};

fn variant(relative: &str, name: Option<&str>) -> Scenario {
    stormsim::scenario::load_variant(&repo_path(relative), name)
        .unwrap_or_else(|err| panic!("{err}"))
        .scenario
}

fn run(scenario: &Scenario) -> (Summary, Series) {
    let output = simulate(scenario, scenario.seed);
    (output.summary, output.series)
}

/// 50 requests/s for 5 minutes through client `app` (its extra keys given) into `api`,
/// whose attempts take `cpu` on plenty of cores, or are all rejected with `queue = 0`.
fn scenario(client: &str, service: &str) -> Scenario {
    let text = format!(
        r#"
[simulation]
duration = "5m"
interval = "1m"

[classes.request]

[sources.users]
client = "app"
rate = "50/s"

[clients.app]
target = "api"
{client}

[services.api]
instances = 1
{service}
"#
    );
    stormsim::scenario::load_str(&text, "protections.toml").unwrap_or_else(|err| panic!("{err}")).scenario
}

fn app(summary: &Summary) -> &HopSummary {
    &summary.clients["app"]
}

/// Users' requests balance: offered = succeeded + failed + in flight.
fn assert_conserved(summary: &Summary) {
    let requests = &summary.requests;
    assert_eq!(requests.offered, requests.succeeded + requests.failed + requests.in_flight, "{requests:?}");
}

/// Every finished request made exactly `n` attempts: between `n` per finished request and
/// `n` per request, with no more than `n` for those still out at the end.
fn assert_attempts_per_request(hop: &HopSummary, n: u64) {
    let finished = hop.succeeded + hop.failed;
    let in_flight = hop.requests - finished;
    assert!(in_flight < hop.requests / 20, "{hop:?}");
    assert!(hop.attempts >= n * finished && hop.attempts <= n * hop.requests, "{n} per request: {hop:?}");
}

const DEAD: &str = "cores = 1000\nworkers = 1000\ncpu = \"10s\"";
/// The first attempt takes the one worker for good; every later one is rejected.
const REJECTING: &str = "cores = 1\nworkers = 1\nqueue = { capacity = 0 }\ncpu = \"1h\"";

#[test]
fn a_hedging_client_sends_every_hedge_to_a_dead_service_and_no_more() {
    let client = "timeout = \"1s\"\nhedge = { delay = \"100ms\", max_attempts = 3 }";
    let (summary, _) = run(&scenario(client, DEAD));
    let hop = app(&summary);
    assert_conserved(&summary);
    // Hedges at 100 ms and 200 ms, then every attempt times out: 3 per request (fewer
    // for the requests still out at the end).
    assert_attempts_per_request(hop, 3);
    assert_eq!(hop.hedges, hop.attempts - hop.requests);
    assert_eq!(summary.requests.failed_by_reason.timeout, summary.requests.failed);
}

#[test]
fn a_fatal_failure_settles_a_hedged_request_at_once() {
    // Only timeouts are non-fatal: a rejection ends the request before any hedge.
    let client =
        "timeout = \"1s\"\nhedge = { delay = \"100ms\", max_attempts = 3 }\nretry = { on = [\"timeout\"] }";
    let (summary, _) = run(&scenario(client, REJECTING));
    let hop = app(&summary);
    // The first request hedges once, after 100 ms, and that rejection ends it.
    assert_eq!((hop.attempts, hop.hedges), (hop.requests + 1, 1), "{hop:?}");
    // A non-fatal rejection sends the next hedge at once instead.
    let client =
        "timeout = \"1s\"\nhedge = { delay = \"100ms\", max_attempts = 3 }\nretry = { on = [\"rejected\"] }";
    let (summary, _) = run(&scenario(client, REJECTING));
    assert_attempts_per_request(app(&summary), 3);
    // All but the first request, whose first attempt holds the worker until it times out.
    assert_eq!(summary.requests.failed_by_reason.rejected + 1, summary.requests.failed);
}

#[test]
fn hedging_cuts_the_tail_and_losers_are_wasted_work() {
    let file = "scenarios/examples/hedging.toml";
    let (base, _) = run(&variant(file, None));
    let (hedged, _) = run(&variant(file, Some("hedged")));
    assert_conserved(&hedged);
    let p99 = |summary: &Summary| summary.requests.latency_ms.p99.unwrap();
    assert!(p99(&hedged) < 0.6 * p99(&base), "p99 {} -> {}", p99(&base), p99(&hedged));
    // Hedges go out for the slowest few percent only, and each request is answered once.
    let hop = app(&hedged);
    let share = hop.hedges as f64 / hop.requests as f64;
    assert!((0.03..0.15).contains(&share), "hedges per request {share}");
    assert!(hedged.requests.success_rate > 0.999);
    assert!(hedged.requests.wasted_cpu_s > 100.0 * base.requests.wasted_cpu_s.max(1.0));
}

#[test]
fn hedging_too_early_saturates_the_tier() {
    let file = "scenarios/examples/hedging.toml";
    let (aggressive, _) = run(&variant(file, Some("aggressive")));
    assert_conserved(&aggressive);
    assert!(aggressive.requests.success_rate < 0.5, "{}", aggressive.requests.success_rate);
    assert!(aggressive.services["search"].cpu_utilisation > 0.95);
}

#[test]
fn users_who_always_retry_by_hand_try_exactly_their_limit() {
    let client = "human_retry = { probability = \"100%\", think_time = \"2s\", max_retries = 2 }";
    let (summary, _) = run(&scenario(client, REJECTING));
    let requests = &summary.requests;
    assert_conserved(&summary);
    // Each user tries three times (no automatic retries) and is counted once.
    let finished = requests.succeeded + requests.failed;
    assert_eq!(requests.succeeded, 0);
    assert!(requests.human_retries >= 2 * finished && requests.human_retries <= 2 * requests.offered);
    assert_eq!(app(&summary).requests, requests.offered + requests.human_retries);
}

#[test]
fn the_share_of_users_who_retry_follows_the_probability() {
    let client = "human_retry = { probability = \"40%\", think_time = \"1s\" }";
    let (summary, _) = run(&scenario(client, REJECTING));
    let share = summary.requests.human_retries as f64 / summary.requests.offered as f64;
    assert!((share - 0.4).abs() < 0.03, "{share}");
    let (nobody, _) =
        run(&scenario("human_retry = { probability = \"0%\", think_time = \"1s\" }", REJECTING));
    assert_eq!(nobody.requests.human_retries, 0);
}

#[test]
fn a_user_retry_that_succeeds_counts_once_with_its_think_time() {
    // The service fails 90% of answers; users try again after about 1 s, up to 5 times.
    let client = "human_retry = { probability = \"100%\", think_time = \"1s\", max_retries = 5 }";
    let (summary, _) =
        run(&scenario(client, "cores = 100\nworkers = 100\ncpu = \"1ms\"\nerror_rate = \"90%\""));
    let requests = &summary.requests;
    assert_conserved(&summary);
    let expected_success = 1.0 - 0.9f64.powi(6);
    let finished = (requests.succeeded + requests.failed) as f64;
    let success = requests.succeeded as f64 / finished;
    assert!((success - expected_success).abs() < 0.03, "{success} vs {expected_success}");
    assert!(requests.latency_ms.p50.unwrap() > 300.0, "most successes came after a think time");
}

#[test]
fn human_retries_add_load_during_a_surge() {
    let file = "scenarios/examples/human-retries.toml";
    let (base, series) = run(&variant(file, None));
    let (patient, _) = run(&variant(file, Some("patient")));
    assert_conserved(&base);
    assert!(base.requests.human_retries > 0 && patient.requests.human_retries == 0);
    assert!(base.requests.attempts > patient.requests.attempts);
    // The users' tries show in the series during the surge (12:00 to 12:05), not before.
    let tries = |minute: usize| series.rows[minute].clients[0].human_retries;
    assert_eq!(tries(5), 0);
    assert!(tries(12) > 1_000, "{}", tries(12));
}

#[test]
fn an_overall_deadline_stops_retries_that_would_outlive_it() {
    let retry = "retry = { max_attempts = 10, backoff = { base = \"10ms\", jitter = \"none\" } }";
    let client = format!("timeout = \"300ms\"\ndeadline = \"1s\"\n{retry}");
    let (summary, _) = run(&scenario(&client, DEAD));
    let hop = app(&summary);
    // Attempts at 0, 0.31, 0.63 and 0.97 s; the fourth is cut at the deadline, and the
    // retry after it is never sent.
    assert_attempts_per_request(hop, 4);
    assert_eq!(summary.requests.failed_by_reason.deadline_exceeded, summary.requests.failed);
    let (without, _) = run(&scenario(&format!("timeout = \"300ms\"\n{retry}"), DEAD));
    assert_attempts_per_request(app(&without), 10);
}

#[test]
fn a_breaker_fails_fast_on_a_slow_dependency_and_reports_its_state_over_time() {
    let file = "scenarios/examples/circuit-breaker.toml";
    let (base, _) = run(&variant(file, None));
    let (guarded, series) = run(&variant(file, Some("breaker")));
    assert!(base.classes["browse"].success_rate < 0.95, "{}", base.classes["browse"].success_rate);
    assert!(guarded.classes["browse"].success_rate > 0.999);
    let breaker = guarded.clients["payments"].breaker.as_ref().expect("payments has a breaker");
    assert!(base.clients["payments"].breaker.is_none());
    // Open through the ten slow minutes, re-opened by each minute's failed trials.
    assert!((8..=12).contains(&breaker.openings), "{breaker:?}");
    assert!((540.0..=660.0).contains(&breaker.open_s), "{breaker:?}");
    assert_eq!(breaker.state_at_end, "closed");
    let state = |minute: usize| series.rows[minute].clients[1].breaker.unwrap().state.name();
    assert_eq!((state(2), state(8), state(20)), ("closed", "open", "closed"));
    let open_s: f64 = series.rows.iter().map(|row| row.clients[1].breaker.unwrap().open_s).sum();
    assert!((open_s - breaker.open_s).abs() < 1e-6, "the series adds up to the summary");
}
