//! External dependencies end to end: a slow primary provider against the caller's provider
//! timeout, failover per request and by breaker, a slow provider without errors, and a
//! provider's concurrency limit.

use stormsim::simulate;
use stormsim::stats::summary::{ProviderSummary, Summary};
use stormsim::stats::{MarkerKind, Series};

/// `api` (2 instances x 32 workers, 5 ms of CPU) makes one call to the telephony dependency
/// per request, through `sms`, whose client table ends with `sms`. 50 requests/s for 8
/// minutes; the primary answers in 200 ms on average, the backup in 300 ms, normally about
/// 10 workers of the 64 are held. `fault` is appended (the timeline).
fn scenario(sms: &str, backup: &str, fault: &str) -> stormsim::model::Scenario {
    let text = format!(
        r#"
[simulation]
duration = "8m"
interval = "1m"

[classes.all]

[sources.users]
client = "app"
rate = "50/s"

[clients.app]
target = "api"
timeout = "60s"

[clients.sms]
target = "telephony"
{sms}

[services.api]
instances = 2
cores = 2
workers = 32
queue = {{ capacity = 20 }}
cpu = "5ms"
calls = [{{ client = "sms" }}]

[dependencies.telephony]

[[dependencies.telephony.providers]]
name = "primary"
latency = {{ dist = "exponential", mean = "200ms" }}

[[dependencies.telephony.providers]]
name = "backup"
latency = {{ dist = "exponential", mean = "300ms" }}
{backup}
{fault}
"#
    );
    stormsim::scenario::load_str(&text, "providers.toml").unwrap_or_else(|err| panic!("{err}")).scenario
}

/// From 2m to 6m the primary answers 25 times slower (5 s on average); with `errors`, that
/// share of its answers are errors too.
fn slow_primary(errors: &str) -> String {
    let mut timeline = String::from(
        "[[timeline]]\nat = \"2m\"\naction = \"latency_multiplier\"\nservice = \"telephony/primary\"\nvalue = 25\n\n\
         [[timeline]]\nat = \"6m\"\naction = \"latency_multiplier\"\nservice = \"telephony/primary\"\nvalue = 1\n",
    );
    if !errors.is_empty() {
        timeline.push_str(&format!(
            "\n[[timeline]]\nat = \"2m\"\naction = \"error_rate\"\nservice = \"telephony/primary\"\nerrors = \"{errors}\"\n\n\
             [[timeline]]\nat = \"6m\"\naction = \"error_rate\"\nservice = \"telephony/primary\"\nerrors = \"0%\"\n"
        ));
    }
    timeline
}

const PRIMARY: usize = 1;
const BACKUP: usize = 2;

fn provider<'a>(summary: &'a Summary, name: &str) -> &'a ProviderSummary {
    &summary.dependencies["telephony"].providers[name]
}

/// Calls reaching a provider in minute `minute`.
fn calls(series: &Series, minute: usize, pool: usize) -> u64 {
    series.rows[minute].services[pool].arrived
}

fn success_rate(series: &Series, minute: usize) -> f64 {
    series.rows[minute].total.success_rate().unwrap_or(0.0)
}

#[test]
fn a_long_provider_timeout_holds_the_callers_workers_and_even_backup_calls_fail() {
    let sms = "timeout = \"10s\"\nretry = { max_attempts = 2, on = [\"timeout\", \"error\", \"rejected\"] }";
    let output = simulate(&scenario(sms, "", &slow_primary("")), 1);
    let series = &output.series;
    // 50/s x 5 s needs 250 workers; the API has 64: they are all held, its queue is full
    // and most requests are turned away before they reach any provider.
    for minute in 3..6 {
        let api = &series.rows[minute].services[0];
        assert!(api.worker_utilisation > 0.99, "minute {minute}: {api:?}");
        assert!(api.rejected > 1_500, "minute {minute}: {api:?}");
        assert!(success_rate(series, minute) < 0.5, "minute {minute}");
    }
    assert!(success_rate(series, 1) > 0.999 && success_rate(series, 7) > 0.999, "fine before and after");
    // The backup is idle though it could have served them: calls fail over only after 10 s.
    assert!(calls(series, 4, BACKUP) < calls(series, 1, PRIMARY) / 5);
}

#[test]
fn a_short_provider_timeout_fails_over_and_succeeds_through_the_backup() {
    let sms = "timeout = \"1s\"\nretry = { max_attempts = 2, on = [\"timeout\", \"error\", \"rejected\"] }";
    let output = simulate(&scenario(sms, "", &slow_primary("")), 1);
    let series = &output.series;
    for minute in 3..6 {
        assert_eq!(series.rows[minute].services[0].rejected, 0, "minute {minute}");
        // The primary answers within 1 s for 1 - e^(-1/5) = 18% of calls; the others fail
        // over, and fail for good only when the backup too takes over 1 s (e^(-1/0.3) =
        // 3.6%): 82% x 3.6% = 2.9% fail.
        let rate = success_rate(series, minute);
        assert!(rate > 0.955 && rate < 0.985, "minute {minute}: {rate}");
        let (primary, backup) = (calls(series, minute, PRIMARY), calls(series, minute, BACKUP));
        let failed_over = backup as f64 / primary as f64;
        assert!((failed_over - 0.82).abs() < 0.05, "minute {minute}: {primary} {backup}");
    }
    let primary = provider(&output.summary, "primary");
    // 4 minutes x 50/s x 82%: 9,840 timed out on the primary, answered after.
    assert!(primary.late > 9_000, "the timed-out calls are answered late: {primary:?}");
    assert_eq!(primary.priority, 1);
    let backup = provider(&output.summary, "backup");
    let accounted = backup.succeeded + backup.errors + backup.late + backup.refused;
    assert!(backup.calls - accounted < 10, "calls add up, but for those out at the end: {backup:?}");
}

#[test]
fn the_breaker_shifts_all_traffic_to_the_backup_probes_and_shifts_back() {
    let sms = "timeout = \"1s\"\nretry = { max_attempts = 2, on = [\"timeout\", \"error\", \"rejected\"] }\n\
               failover = { error_rate_above = \"50%\", window = \"10s\", min_samples = 20, shift_back_after = \"1m\" }";
    let output = simulate(&scenario(sms, "", &slow_primary("50%")), 1);
    let series = &output.series;
    for minute in 3..6 {
        let (primary, backup) = (calls(series, minute, PRIMARY), calls(series, minute, BACKUP));
        // Once a minute the primary is probed: a window's worth of calls, then it is out.
        assert!(primary < 200, "minute {minute}: {primary} calls to the primary");
        assert!(backup > 2_800, "minute {minute}: {backup} calls to the backup");
        assert!(success_rate(series, minute) > 0.99, "minute {minute}");
    }
    // Shifted back after the primary recovered.
    let (primary, backup) = (calls(series, 7, PRIMARY), calls(series, 7, BACKUP));
    assert!(primary > 2_900 && backup < 100, "{primary} {backup}");
    let ejections =
        series.markers.iter().filter(|marker| marker.label.contains("provider telephony/primary ejected"));
    assert!(ejections.clone().count() >= 4, "ejected, probed and ejected again each minute");
    assert!(ejections.clone().all(|marker| marker.kind == MarkerKind::Alert));
}

#[test]
fn a_provider_slow_without_errors_is_caught_by_the_breakers_latency_threshold() {
    // No errors and a timeout longer than the slow answers: only latency tells.
    let sms =
        "timeout = \"30s\"\nretry = { max_attempts = 2, on = [\"timeout\", \"error\", \"rejected\"] }\n";
    let breaker = "failover = { latency_above = \"1s\", window = \"10s\", min_samples = 20, shift_back_after = \"1m\" }";
    let watched = simulate(&scenario(&format!("{sms}{breaker}"), "", &slow_primary("")), 1);
    let blind = simulate(&scenario(sms, "", &slow_primary("")), 1);
    assert!(watched.series.markers.iter().any(|marker| marker.label.contains("primary ejected")));
    assert!(!blind.series.markers.iter().any(|marker| marker.label.contains("ejected")));
    for minute in 3..6 {
        let backup = calls(&watched.series, minute, BACKUP);
        let rate = success_rate(&watched.series, minute);
        // Each probe sends the primary full traffic again until its slow answers come back
        // and eject it: a few seconds of held workers a minute.
        assert!(backup > 2_500 && rate > 0.97, "minute {minute}: {backup} {rate}");
        assert!(success_rate(&blind.series, minute) < 0.5, "minute {minute}: the workers are held");
    }
    assert_eq!(provider(&blind.summary, "primary").errors, 0);
}

#[test]
fn per_request_failover_off_keeps_retries_on_the_primary() {
    let sms = "timeout = \"1s\"\nretry = { max_attempts = 2, on = [\"timeout\", \"error\", \"rejected\"] }\n\
               failover = { per_request = false }";
    let output = simulate(&scenario(sms, "", &slow_primary("")), 1);
    assert_eq!(provider(&output.summary, "backup").calls, 0);
    // Two tries on the primary, each answered within 1 s for 18%: at most 1 - 0.82^2 =
    // 33%, and less, as two tries and a backoff hold a worker longer than the API has.
    let rate = success_rate(&output.series, 4);
    assert!(rate > 0.15 && rate < 0.34, "{rate}");
}

#[test]
fn a_provider_over_its_concurrency_refuses_calls_at_once() {
    // Every call goes to the backup (the primary errs on all), which takes 5 at once:
    // 50/s x 300 ms = 15 wanted, so most are refused and fail fast.
    let sms = "timeout = \"1s\"\nretry = { max_attempts = 2, on = [\"timeout\", \"error\", \"rejected\"] }";
    let fault = "[[timeline]]\nat = \"1m\"\naction = \"error_rate\"\nservice = \"telephony/primary\"\nerrors = \"100%\"\n";
    let output = simulate(&scenario(sms, "concurrency = 5", fault), 1);
    let backup = provider(&output.summary, "backup");
    assert!(backup.refused > backup.calls / 3, "{backup:?}");
    assert!(output.summary.services["api"].rejected == 0, "refused calls fail fast: no worker is held");
    assert!(output.summary.requests.failed_by_reason.dependency_error > backup.refused / 2);
    assert!(!output.summary.services.contains_key("telephony/backup"), "providers are not our services");
}

#[test]
fn timeseries_csv_has_provider_columns_only_with_dependencies() {
    let sms = "timeout = \"1s\"";
    let output = simulate(&scenario(sms, "", &slow_primary("50%")), 1);
    let csv = stormsim::report::csv::to_string(&output.series).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let (errors, mean) = (
        header.iter().position(|c| *c == "errors").expect("an errors column"),
        header.iter().position(|c| *c == "answer_mean_ms").expect("an answer_mean_ms column"),
    );
    let row = lines.find(|line| line.starts_with("180,") && line.contains(",telephony/primary,")).unwrap();
    let cells: Vec<&str> = row.split(',').collect();
    assert!(cells[errors].parse::<u64>().unwrap() > 100, "{row}");
    assert!(cells[mean].parse::<f64>().unwrap() > 1_000.0, "{row}");
    let api = csv.lines().find(|line| line.starts_with("180,") && line.contains(",api,")).unwrap();
    assert_eq!(api.split(',').nth(errors), Some(""), "not a provider: {api}");
    let plain =
        stormsim::report::csv::header(&simulate(&crate::common::load("scenarios/demo.toml"), 1).series);
    assert!(!plain.contains(&"errors"), "a scenario without dependencies keeps its columns");
}
