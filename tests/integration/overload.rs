//! Overload control and client behaviour under overload, end to end from the shipped
//! examples: each test would fail if its mechanism broke.

use crate::common::repo_path;
use stormsim::model::Scenario;
use stormsim::simulate;
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

/// Success rate of the requests that finished in the last `minutes` intervals.
fn tail_success(series: &Series, minutes: usize) -> f64 {
    let rows = &series.rows[series.rows.len() - minutes..];
    let succeeded: u64 = rows.iter().map(|row| row.total.succeeded).sum();
    let failed: u64 = rows.iter().map(|row| row.total.failed_total()).sum();
    succeeded as f64 / (succeeded + failed) as f64
}

const METASTABLE: &str = "scenarios/examples/metastable.toml";

#[test]
fn a_short_spike_leaves_a_retry_storm_that_outlives_it() {
    let (summary, series) = run(&variant(METASTABLE, None));
    // The spike ends at 10:07; thirty minutes later the storm is still there.
    assert!(tail_success(&series, 10) < 0.2, "{}", tail_success(&series, 10));
    let last = &series.rows.last().unwrap().total;
    assert!(
        last.attempts as f64 > 3.0 * last.offered as f64,
        "{} attempts for {}",
        last.attempts,
        last.offered
    );
    assert!(summary.slo.recovered.is_none());
    assert!(summary.requests.wasted_cpu_s > 1000.0, "abandoned work is still served");
}

/// The metastable example with its surge's keys overridden as `--param` would.
fn with_surge(factor: &str, over: &str) -> Scenario {
    use stormsim::scenario::overrides::{Parameter, Setting};
    let path = repo_path(METASTABLE);
    let text = std::fs::read_to_string(&path).unwrap();
    let factor = Parameter::from_flag("--param", &format!("sources.users.surge.factor={factor}"), 0).unwrap();
    let over = Parameter::from_flag("--param", &format!("sources.users.surge.over={over}"), 1).unwrap();
    let settings = [Setting { parameter: &factor, value: 0 }, Setting { parameter: &over, value: 0 }];
    let (loaded, _) = stormsim::scenario::load_with(&text, METASTABLE, Some(&path), None, &settings)
        .unwrap_or_else(|err| panic!("{err}"));
    loaded.scenario
}

#[test]
fn the_surge_is_a_trigger_whose_size_and_length_can_be_swept() {
    // Capacity is 1000/s against 700/s offered. At 1.25x (875/s) no queue builds, however
    // long; at 1.5x (1050/s) ten seconds leave 500 queued, which drain, while thirty leave
    // 1500 (1.5 s of work per instance, past the 1 s timeout), and the storm takes over.
    let storm = |factor, over| tail_success(&run(&with_surge(factor, over)).1, 10) < 0.5;
    assert!(!storm("1.25", "\"2m\""), "below capacity, no storm");
    assert!(!storm("1.5", "\"10s\""), "a short surge above capacity drains");
    assert!(storm("1.5", "\"30s\""), "a longer one tips it");
    assert!(storm("2", "\"10s\""), "and so does a larger short one");
}

#[test]
fn a_retry_budget_a_token_bucket_or_deadline_aware_dropping_let_it_recover() {
    for name in ["retry-budget", "token-bucket", "drop-abandoned", "codel"] {
        let (summary, series) = run(&variant(METASTABLE, Some(name)));
        assert!(tail_success(&series, 10) > 0.99, "{name}: {}", tail_success(&series, 10));
        let recovered = summary.slo.time_to_recover_s.unwrap_or(f64::INFINITY);
        assert!(recovered < 15.0 * 60.0, "{name}: recovered after {recovered} s");
    }
    let (summary, _) = run(&variant(METASTABLE, Some("drop-abandoned")));
    assert!(summary.services["api"].dropped_abandoned > 0);
}

#[test]
fn priority_shedding_keeps_the_critical_class_up() {
    // Success per class while the overload lasts (09:05 to 09:45, minutes 35 to 75).
    let during_overload = |name| {
        let (_, series) = run(&variant("scenarios/examples/shedding.toml", name));
        let rate = |class: usize| {
            let rows = &series.rows[35..75];
            let ok: u64 = rows.iter().map(|row| row.classes[class].succeeded).sum();
            let bad: u64 = rows.iter().map(|row| row.classes[class].failed_total()).sum();
            ok as f64 / (ok + bad) as f64
        };
        (rate(0), rate(1))
    };
    let (login, report) = during_overload(Some("shedding"));
    assert!(login > 0.999, "login {login}");
    assert!(report < 0.75, "report {report}");
    let (login, report) = during_overload(None);
    assert!(login < 0.9 && report < 0.9, "without shedding both suffer: {login} {report}");
}

#[test]
fn pooling_removes_exactly_the_handshake_share() {
    let cost = |name| {
        let (summary, _) = run(&variant("scenarios/examples/pooling.toml", name));
        let api = &summary.services["api"];
        (api.cpu_per_completion_ms, api.connection_cpu_s)
    };
    let (unpooled, handshakes) = cost(None);
    let (pooled, pooled_handshakes) = cost(Some("pooled"));
    assert!((unpooled - 26.0).abs() < 1e-6, "{unpooled}");
    assert!((unpooled - pooled - 6.0).abs() < 0.01, "{unpooled} - {pooled}");
    assert!(handshakes > 2000.0 && pooled_handshakes < 0.2, "{handshakes} {pooled_handshakes}");
}

#[test]
fn jitter_spreads_a_synchronized_burst_of_retries() {
    let busiest = |series: &Series| series.rows.iter().map(|row| row.total.retries).max().unwrap();
    // A backlog of 2000 jobs released at once into a service that never answers within
    // the 100 ms timeout; each job retries 3 times after a 1 s base backoff.
    let file = "scenarios/examples/jitter.toml";
    let clumped = run(&variant(file, None)).1;
    let spread = run(&variant(file, Some("full"))).1;
    // Without jitter every retry of a round lands in the same 100 ms interval.
    assert_eq!(busiest(&clumped), 2000);
    // With full jitter the first round alone is spread over 1 s, ten intervals.
    assert!(busiest(&spread) < 400, "{}", busiest(&spread));
    let total = |series: &Series| series.rows.iter().map(|row| row.total.retries).sum::<u64>();
    assert_eq!(total(&clumped), 6000);
    assert_eq!(total(&spread), 6000);
}
