//! Workloads from real traffic (#19): closed-loop users against Little's law and exact
//! mean value analysis, a closed loop riding out what tips an open source into a retry
//! storm, bursty arrivals against G/M/1, and both shipped examples through every verb.

use crate::common::{load, repo_path};
use crate::queueing::{batch_means, check_queueing, queue_wait_s};
use assert_cmd::Command;
use stormsim::model::{Scenario, SourceKind};
use stormsim::scenario::{load_str, load_variant};
use stormsim::stats::Series;
use stormsim::{simulate, theory};

const CLOSED_LOOP: &str = "scenarios/examples/closed-loop.toml";
const TRAFFIC_TRACE: &str = "scenarios/examples/traffic-trace.toml";

/// A closed loop around one server: 20 users thinking 1 s (exponential) in front of an
/// exponential server of mean 40 ms, no timeout: the machine-repairman model, which mean
/// value analysis solves exactly (X = 18.0/s, R = 111 ms; utilisation 72%).
const REPAIRMAN: &str = r#"
[simulation]
duration = "3000s"
interval = "30s"

[classes.job]

[sources.users]
kind = "closed_loop"
client = "caller"
users = 20
think_time = { dist = "exponential", mean = "1s" }

[clients.caller]
target = "server"

[services.server]
instances = 1
cores = 1
workers = 1
cpu = { dist = "exponential", mean = "40ms" }
"#;

#[test]
fn closed_loop_throughput_follows_littles_law_and_mean_value_analysis() {
    let scenario = load_str(REPAIRMAN, "repairman.toml").unwrap_or_else(|err| panic!("{err}")).scenario;
    let output = simulate(&scenario, 1);
    let (users, service, think) = (20.0, 0.04, 1.0);
    let (mva_throughput, mva_response) = theory::mva_single_server(20, service, think);
    let interval_s = scenario.interval.as_secs_f64();
    let throughput =
        batch_means(output.series.rows.iter().map(|row| row.total.succeeded as f64 / interval_s));
    let response = output.summary.requests.latency_ms.mean.expect("requests finished") / 1e3;
    // Little's law over the whole loop: N = X (R + Z), with R as measured.
    let little = users / (response + think);
    println!(
        "closed loop: X measured {:.3} ± {:.3}/s, N/(R+Z) = {little:.3}/s with R = {:.1} ms; MVA X = {mva_throughput:.3}/s, R = {:.1} ms",
        throughput.mean,
        throughput.half_width,
        response * 1e3,
        mva_response * 1e3
    );
    assert!(
        (little - throughput.mean).abs() <= throughput.half_width,
        "Little's law: N/(R+Z) = {little} against X = {} ± {}",
        throughput.mean,
        throughput.half_width
    );
    // R follows from X through the same identity, so X's interval bounds it.
    let (low, high) = (throughput.mean - throughput.half_width, throughput.mean + throughput.half_width);
    assert!(
        (users / high - think..=users / low - think).contains(&mva_response),
        "MVA's R = {mva_response} outside what the measured X allows"
    );
    check_queueing("closed loop throughput (1/s)", throughput, mva_throughput, 0.02);
    let utilisation = batch_means(output.series.rows.iter().map(|row| row.services[0].cpu_utilisation));
    check_queueing("closed loop utilisation", utilisation, mva_throughput * service, 0.03);
}

#[test]
fn users_join_and_leave_as_their_profile_says() {
    // 0 users, then 10 from 1 minute, 40 from 2 minutes (a 30 s ramp), 5 from 4 minutes on;
    // each request takes 1 ms, each think 1 s: about N requests per second.
    let text = REPAIRMAN
        .replace("duration = \"3000s\"", "duration = \"6m\"")
        .replace("interval = \"30s\"", "interval = \"10s\"")
        .replace(
            "users = 20",
            "users = [{ at = \"0s\", users = 0 }, { at = \"59s\", users = 0 }, { at = \"1m\", users = 10 }, { at = \"2m\", users = 10 }, { at = \"2m30s\", users = 40 }, { at = \"3m59s\", users = 40 }, { at = \"4m\", users = 5 }]",
        )
        .replace("think_time = { dist = \"exponential\", mean = \"1s\" }", "think_time = \"1s\"")
        .replace("mean = \"40ms\"", "mean = \"1ms\"");
    let scenario = load_str(&text, "profile.toml").unwrap_or_else(|err| panic!("{err}")).scenario;
    let series = simulate(&scenario, 1).series;
    let per_second = |from: usize, to: usize| {
        let rows = &series.rows[from..to];
        rows.iter().map(|row| row.total.offered).sum::<u64>() as f64 / (10.0 * rows.len() as f64)
    };
    assert_eq!(per_second(0, 6), 0.0, "no users in the first minute");
    assert!((per_second(7, 12) - 10.0).abs() < 0.5, "{}", per_second(7, 12));
    assert!((per_second(16, 24) - 40.0).abs() < 1.5, "{}", per_second(16, 24));
    // Users leave as they finish: within a think time of the fall.
    assert!((per_second(25, 36) - 5.0).abs() < 0.3, "{}", per_second(25, 36));
}

/// Success rate of the requests that finished in the last `minutes` intervals.
fn tail_success(series: &Series, minutes: usize) -> f64 {
    let rows = &series.rows[series.rows.len() - minutes..];
    let succeeded: u64 = rows.iter().map(|row| row.total.succeeded).sum();
    let failed: u64 = rows.iter().map(|row| row.total.failed_total()).sum();
    succeeded as f64 / (succeeded + failed) as f64
}

fn variant(relative: &str, name: Option<&str>) -> Scenario {
    load_variant(&repo_path(relative), name).unwrap_or_else(|err| panic!("{err}")).scenario
}

#[test]
fn a_closed_loop_rides_out_the_trigger_that_tips_an_open_source_into_a_storm() {
    // The open twin: the same file with its users replaced by metastable.toml's source,
    // 700/s with the rate doubled for two minutes at 10:05.
    let text = std::fs::read_to_string(repo_path(CLOSED_LOOP)).unwrap();
    let users = &text[text.find("kind = \"closed_loop\"").unwrap()..text.find("\n\n[clients.app]").unwrap()];
    let open_text = text.replace(
        users,
        "client = \"app\"\nrate = \"700/s\"\nsurge = { at = \"10:05\", factor = 2, over = \"2m\" }",
    );
    let open = load_str(&open_text, "open-twin.toml").unwrap_or_else(|err| panic!("{err}")).scenario;
    let open_series = simulate(&open, 1).series;
    let open_tail = tail_success(&open_series, 10);
    assert!(open_tail < 0.2, "the open source collapses for good: {open_tail}");

    let closed = variant(CLOSED_LOOP, None);
    let output = simulate(&closed, 1);
    let closed_tail = tail_success(&output.series, 10);
    // Before the trigger the users offer what the open source does.
    let before: u64 = output.series.rows[1..5].iter().map(|row| row.total.offered).sum();
    let offered_per_s = before as f64 / 240.0;
    println!(
        "open tail success {open_tail:.4}, closed {closed_tail:.4}; closed offers {offered_per_s:.1}/s before"
    );
    assert!((offered_per_s - 700.0).abs() < 15.0, "{offered_per_s}");
    assert!(closed_tail > 0.999, "{closed_tail}");
    assert!(output.summary.slo.recovered.is_some() || output.summary.slo.first_breach.is_none());

    // Tripled users: attempts time out and are retried during the trigger, and it recovers.
    let triple = simulate(&variant(CLOSED_LOOP, Some("triple")), 1);
    let during: u64 = triple.series.rows[5..8].iter().map(|row| row.total.retries).sum();
    let tail = tail_success(&triple.series, 10);
    println!("triple: {during} retries during the trigger, tail success {tail:.4}");
    assert!(during > 1000, "the trigger bites: {during} retries");
    assert!(tail > 0.999, "{tail}");
}

#[test]
fn bursty_arrivals_wait_as_gm1_says() {
    let scenario = load("scenarios/validation/gm1.toml");
    let SourceKind::OpenLoop { cv, .. } = scenario.sources[0].kind else {
        panic!("gm1.toml has an open source")
    };
    assert_eq!(cv, 2.0);
    let series = simulate(&scenario, 1).series;
    let exact = theory::gamma_m1_wait(0.7, 1.0, 2.0).unwrap();
    let poisson = theory::mm1_wait(0.7, 1.0).unwrap();
    let kingman = theory::kingman_wait(0.7, 1.0, 2.0, 1.0).unwrap();
    let wait = batch_means(queue_wait_s(&series));
    println!(
        "G/M/1 cv 2: Wq measured {:.3} s, exact {exact:.3} s, Kingman {kingman:.3} s, M/M/1 {poisson:.3} s: {:.2} x Poisson's",
        wait.mean,
        wait.mean / poisson
    );
    assert!(wait.mean > 2.0 * poisson, "bursts lengthen the wait");
    check_queueing("G/M/1 (gamma cv 2) wait (s)", wait, exact, 0.10);
    check_queueing(
        "G/M/1 (gamma cv 2) P(wait)",
        batch_means(series.rows.iter().filter_map(|row| row.services[0].wait_probability)),
        theory::gamma_m1_wait_probability(0.7, 1.0, 2.0).unwrap(),
        0.03,
    );
    check_queueing(
        "G/M/1 (gamma cv 2) utilisation",
        batch_means(series.rows.iter().map(|row| row.services[0].cpu_utilisation)),
        0.7,
        0.03,
    );
}

#[test]
fn a_trace_replays_its_rates_scaled_and_shifted() {
    let scenario = variant(TRAFFIC_TRACE, None);
    let SourceKind::OpenLoop { profile, .. } = &scenario.sources[0].kind else { panic!("an open source") };
    // 09:00 on the run is 09:00 of the trace's Monday; its 5-minute rows hold as steps.
    let csv = std::fs::read_to_string(repo_path("scenarios/examples/traces/monday.csv")).unwrap();
    let rate_at = |time: &str| -> f64 {
        let line = csv.lines().find(|line| line.starts_with(&format!("2026-02-16T{time}:00Z,"))).unwrap();
        line.split(',').nth(1).unwrap().parse().unwrap()
    };
    assert_eq!(profile.points[0].1, 1.3 * rate_at("09:00"));
    let at = |minutes: u64| stormsim::engine::SimTime(minutes * 60_000_000_000);
    let point = profile.points.iter().find(|(time, _)| *time == at(5)).unwrap();
    assert_eq!(point.1, 1.3 * rate_at("09:05"));
    let held = profile.points.iter().find(|(time, _)| time.0 == at(10).0 - 1).unwrap();
    assert_eq!(held.1, 1.3 * rate_at("09:05"), "a step holds until 1 ns before the next row");
    assert!(profile.points.last().unwrap().0 >= at(90), "the profile reaches the run's end");
    // The run offers what the trace says, over the run.
    let expected: f64 = (0..18)
        .map(|step| 1.3 * rate_at(&format!("{:02}:{:02}", 9 + step / 12, step % 12 * 5)) * 300.0)
        .sum();
    let offered = simulate(&scenario, 1).summary.requests.offered as f64;
    println!("trace: offered {offered}, the trace's integral {expected:.0}");
    assert!((offered - expected).abs() < 4.0 * expected.sqrt(), "{offered} against {expected}");
}

fn stormsim() -> Command {
    Command::cargo_bin("stormsim").unwrap()
}

/// Runs a verb as a user would, from the repository's root; returns its JSON.
fn verb(args: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut command = stormsim();
    command.current_dir(repo_path("")).args(args).args(["--json", "--quiet"]);
    if args[0] != "check" {
        command.args(["--out", out.to_str().unwrap()]);
    }
    let assert = command.assert().code(0);
    serde_json::from_slice(&assert.get_output().stdout).expect("only JSON on stdout")
}

#[test]
fn the_closed_loop_example_runs_through_every_verb() {
    let run = verb(&["run", CLOSED_LOOP]);
    assert!(run["requests"]["success_rate"].as_f64().unwrap() > 0.99, "{}", run["requests"]);
    let compare = verb(&["compare", CLOSED_LOOP, "--replications", "1"]);
    let configs: Vec<&str> = compare["configs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|config| config["name"].as_str().unwrap())
        .collect();
    assert_eq!(configs, ["baseline", "triple"]);
    let sweep = verb(&[
        "sweep",
        CLOSED_LOOP,
        "--param",
        "sources.users.users=350,700",
        "--metric",
        "goodput",
        "--replications",
        "1",
    ]);
    let goodput = |point: usize| sweep["points"][point]["summary"]["goodput"]["mean"].as_f64().unwrap();
    // Twice the users, twice the goodput while the pool has room: X = N / (R + Z).
    assert!((goodput(1) / goodput(0) - 2.0).abs() < 0.1, "{} {}", goodput(0), goodput(1));
    let check = verb(&["check", CLOSED_LOOP]);
    assert_eq!(check["passed"], true, "{check:#}");
}

#[test]
fn the_trace_example_runs_through_every_verb() {
    let run = verb(&["run", TRAFFIC_TRACE]);
    assert!(run["requests"]["offered"].as_u64().unwrap() > 400_000, "{}", run["requests"]);
    let compare = verb(&["compare", TRAFFIC_TRACE, "--variants", "bursty", "--replications", "1"]);
    let p99 = compare["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|metric| metric["metric"] == "latency.p99")
        .unwrap();
    let values: Vec<f64> = p99["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|result| result["estimate"]["mean"].as_f64().unwrap())
        .collect();
    assert!(values[1] > values[0], "bursty arrivals raise the p99: {values:?}");
    let sweep = verb(&[
        "sweep",
        TRAFFIC_TRACE,
        "--param",
        "sources.users.trace.scale=1,1.3",
        "--metric",
        "goodput",
        "--replications",
        "1",
    ]);
    let goodput = |point: usize| sweep["points"][point]["summary"]["goodput"]["mean"].as_f64().unwrap();
    assert!((goodput(1) / goodput(0) - 1.3).abs() < 0.02, "{} {}", goodput(0), goodput(1));
    let check = verb(&["check", TRAFFIC_TRACE]);
    assert_eq!(check["passed"], true, "{check:#}");
}
