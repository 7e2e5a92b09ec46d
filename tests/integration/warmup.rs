//! Issue #18: figures users can trust. A warm-up left out of every figure (statistics reset
//! at its end, requests in flight then counted when they settle), the success rate of the
//! requests that arrived in each interval beside that of those that finished in it, and
//! thresholds on the SLO that read the worst outage episode.

use stormsim::check::measure::RunView;
use stormsim::check::threshold::parse_expression;
use stormsim::engine::SimDuration;
use stormsim::model::Scenario;
use stormsim::report::csv;
use stormsim::simulate;
use stormsim::stats::RequestFigures;

fn load_text(text: &str) -> Scenario {
    stormsim::scenario::load_str(text, "warmup.toml").unwrap_or_else(|error| panic!("{error}")).scenario
}

/// `STORM_MID_INTERVAL` with a busier service (some requests always queue) and the first
/// five minutes as warm-up.
fn busy_storm(warmup: bool) -> Scenario {
    let text =
        STORM_MID_INTERVAL.replace(r#"cpu = "10ms""#, r#"cpu = { dist = "exponential", mean = "300ms" }"#);
    let text =
        if warmup { text.replace("[classes.request]", "warmup = \"5m\"\n\n[classes.request]") } else { text };
    load_text(&text)
}

#[test]
fn a_warm_up_leaves_its_intervals_out_and_requests_are_still_conserved() {
    let out = simulate(&busy_storm(true), 7);
    let (summary, series) = (&out.summary, &out.series);
    assert_eq!((summary.warmup_s, summary.measured_s), (Some(300.0), Some(420.0)));
    let r = &summary.requests;
    assert!(r.failed > 0 && r.retries > 0, "the storm comes after the warm-up: {r:?}");
    let at_start = r.in_flight_at_start.expect("with a warm-up");
    assert!(at_start > 0, "requests straddle the cut");
    assert_eq!(r.offered + at_start, r.succeeded + r.failed + r.in_flight);
    for (name, class) in &summary.classes {
        let at_start = class.in_flight_at_start.unwrap();
        assert_eq!(
            class.offered + at_start,
            class.succeeded + class.failed + class.in_flight,
            "class {name}"
        );
    }
    assert!(r.success_rate <= 1.0);
    // The summary counts exactly what the rows after the warm-up count.
    let measured = series.measured_rows();
    assert_eq!((series.rows.len(), measured.len()), (12, 7));
    assert_eq!(measured[0].start.as_secs_f64(), 300.0);
    let sum = |count: fn(&RequestFigures) -> u64| measured.iter().map(|row| count(&row.total)).sum::<u64>();
    assert_eq!(r.offered, sum(|f| f.offered));
    assert_eq!(r.succeeded, sum(|f| f.succeeded));
    assert_eq!(r.failed, sum(RequestFigures::failed_total));
    assert_eq!(r.attempts, sum(|f| f.attempts));
    assert_eq!(
        summary.slo.intervals,
        measured.iter().filter(|row| row.total.success_rate().is_some()).count() as u64
    );
    let api = &summary.services["api"];
    assert_eq!(api.arrived, measured.iter().map(|row| row.services[0].arrived).sum::<u64>());
    assert!((api.instance_seconds - 2.0 * 420.0).abs() < 1e-6, "{}", api.instance_seconds);
    // The same run without the warm-up: the same series, the whole run in the summary.
    let whole = simulate(&busy_storm(false), 7);
    assert_eq!(whole.series.rows, series.rows);
    assert!(whole.summary.requests.offered > r.offered);
    // The series keeps every interval and marks the warm-up's.
    let text = csv::to_string(series).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let column = header.iter().position(|name| *name == "warmup").expect("a warmup column");
    let flags: Vec<&str> = text.lines().skip(1).map(|line| line.split(',').nth(column).unwrap()).collect();
    let per_interval = flags.len() / series.rows.len();
    assert!(flags[..5 * per_interval].iter().all(|&flag| flag == "true"));
    assert!(flags[5 * per_interval..].iter().all(|&flag| flag == "false"));
}

#[test]
fn without_a_warm_up_nothing_changes_but_the_new_columns() {
    let out = simulate(&busy_storm(false), 7);
    let summary = &out.summary;
    assert_eq!(
        (summary.warmup_s, summary.measured_s, summary.requests.in_flight_at_start),
        (None, None, None)
    );
    let json = serde_json::to_string(summary).unwrap();
    assert!(
        !json.contains("\"warmup_s\"")
            && !json.contains("in_flight_at_start")
            && !json.contains("measured_s")
    );
    assert!(!csv::header(&out.series).contains(&"warmup"));
    let r = &summary.requests;
    assert_eq!(r.offered, r.succeeded + r.failed + r.in_flight);
}

/// A service's CPU cost turns 1,000 times dearer (10 s a request) at 5m40s, two thirds into
/// an interval. A request then fails only after three 25 s attempts: those sent in the last
/// 20 s of that interval fail in later ones. By completion the interval reads 100% (every
/// request that finished in it was sent before the storm); by arrival about a third of its
/// requests failed (a few sent first after the change still got through).
const STORM_MID_INTERVAL: &str = r#"
[simulation]
duration = "12m"

[classes.request]

[sources.users]
client = "app"
rate = "20/s"

[clients.app]
target = "api"
timeout = "25s"
retry = { max_attempts = 3, on = ["timeout"], backoff = { base = "100ms", cap = "1s", jitter = "none" } }

[services.api]
instances = 2
cores = 4
workers = 64
cpu = "10ms"

[[timeline]]
at = "5m40s"
action = "cpu_multiplier"
service = "api"
value = 1000
"#;

#[test]
fn success_by_arrival_reads_the_storm_in_the_interval_it_starts() {
    let out = simulate(&load_text(STORM_MID_INTERVAL), 1);
    let rows = &out.series.rows;
    let storm = &rows[5].total;
    let (by_completion, by_arrival) =
        (storm.success_rate().unwrap(), storm.success_rate_by_arrival().unwrap());
    println!("interval 00:05-00:06: success by completion {by_completion:.4}, by arrival {by_arrival:.4}");
    assert_eq!(by_completion, 1.0, "every request finished in it was sent before the storm");
    assert!((by_arrival - 2.0 / 3.0).abs() < 0.05, "a third sent after 5m40s fails: {by_arrival}");
    assert!(rows[..5].iter().all(|row| row.total.success_rate_by_arrival() == Some(1.0)));
    // The outcomes by arrival add up to the run's: every arrival once, every outcome once.
    let summary = &out.summary.requests;
    let sum = |count: fn(&RequestFigures) -> u64| rows.iter().map(|row| count(&row.total)).sum::<u64>();
    assert_eq!(sum(|f| f.offered), summary.offered);
    assert_eq!(sum(|f| f.succeeded_by_arrival), summary.succeeded);
    assert_eq!(sum(|f| f.failed_by_arrival), summary.failed);
    assert_eq!(sum(|f| f.succeeded_by_arrival), sum(|f| f.succeeded));
    for row in rows {
        let unsettled = row.total.offered - row.total.succeeded_by_arrival - row.total.failed_by_arrival;
        assert!(unsettled <= row.total.offered);
        assert_eq!(row.classes[0].succeeded_by_arrival, row.total.succeeded_by_arrival);
    }
    assert_eq!(
        sum(|f| f.offered) - sum(|f| f.succeeded_by_arrival) - sum(|f| f.failed_by_arrival),
        summary.in_flight,
        "what has not settled by arrival is what is in flight at the end"
    );
    // Both columns are in the CSV, by name.
    let text = csv::to_string(&out.series).unwrap();
    let header = text.lines().next().unwrap();
    assert!(header.contains(",success_rate,success_rate_by_arrival,succeeded_by_arrival,failed_by_arrival,"));
}

/// An error blip in the first minute (a limiter shedding its first requests does the same),
/// then a 15-minute outage from 20m.
const BLIP_THEN_OUTAGE: &str = r#"
[simulation]
duration = "1h"

[classes.request]

[sources.users]
client = "app"
rate = "20/s"

[clients.app]
target = "api"

[services.api]
instances = 2
cores = 4
cpu = "10ms"

[slo]
success_rate = "99%"
recovery = "5m"

[[timeline]]
at = "0s"
action = "error_rate"
service = "api"
errors = "100%"

[[timeline]]
at = "1m"
action = "error_rate"
service = "api"
errors = "0%"

[[timeline]]
at = "20m"
action = "error_rate"
service = "api"
errors = "100%"

[[timeline]]
at = "35m"
action = "error_rate"
service = "api"
errors = "0%"
"#;

#[test]
fn thresholds_on_the_slo_read_the_worst_episode_and_skip_the_warm_up() {
    let mut scenario = load_text(BLIP_THEN_OUTAGE);
    let observe = |scenario: &Scenario, expression: &str| {
        let threshold = parse_expression(expression, scenario).unwrap_or_else(|refusal| panic!("{refusal}"));
        let out = simulate(scenario, 1);
        threshold.measure.observe(&RunView::new(&out)).value
    };
    let slo = simulate(&scenario, 1).summary.slo;
    assert_eq!(slo.episode_count, 2, "{:?}", slo.episodes);
    assert_eq!(slo.worst_episode, Some(1));
    assert_eq!(slo.time_to_recover_s, Some(900.0), "the outage's, not the blip's 60 s");
    assert_eq!(observe(&scenario, "slo.time_to_recover <= 20m"), Some(900.0));
    assert_eq!(observe(&scenario, "slo.worst_episode <= 20m"), Some(900.0));
    assert_eq!(observe(&scenario, "slo.episodes <= 1"), Some(2.0));
    assert_eq!(observe(&scenario, "slo.bad_minutes <= 5m"), Some(16.0));
    // With the first ten minutes as warm-up the blip is gone from every figure.
    scenario.warmup = SimDuration::from_secs(600);
    assert_eq!(observe(&scenario, "slo.episodes <= 1"), Some(1.0));
    assert_eq!(observe(&scenario, "slo.bad_minutes <= 5m"), Some(15.0));
    assert_eq!(observe(&scenario, "slo.time_to_recover <= 20m"), Some(900.0));
    assert_eq!(observe(&scenario, "success_rate >= 99% sliding 1m"), Some(0.0));
    let refusal = parse_expression("success_rate >= 99% from 0m to 5m", &scenario).unwrap_err();
    assert!(refusal.to_string().contains("within the warm-up"), "{refusal}");
}

#[test]
fn a_warm_up_is_set_by_param_like_any_key() {
    use stormsim::scenario::overrides::{Parameter, Setting};
    let load = |text: &str| {
        let parameter = Parameter::from_flag("--param", text, 0).unwrap();
        let settings = [Setting { parameter: &parameter, value: 0 }];
        stormsim::scenario::load_with(BLIP_THEN_OUTAGE, "warmup.toml", None, None, &settings)
            .map(|(loaded, _)| loaded.scenario.warmup)
            .map_err(|error| error.to_string())
    };
    assert_eq!(load("simulation.warmup=10m"), Ok(SimDuration::from_secs(600)));
    let refusal = load("simulation.warmup=90s").unwrap_err();
    assert!(refusal.contains("--param") && refusal.contains("not a whole number of intervals"), "{refusal}");
}
