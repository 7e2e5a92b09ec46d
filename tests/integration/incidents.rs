//! The incident replays of `scenarios/incidents/` show their postmortem's signature, and the
//! signature comes from load, capacity and timeouts: nothing in the files says when to fail.

use crate::common::{load, repo_path};
use stormsim::model::Scenario;
use stormsim::simulate;
use stormsim::stats::{IntervalRow, Series, Summary};

const CPU_REGRESSION: &str = "scenarios/incidents/000-cpu-regression-monday-peak.toml";
const BLIND_AUTOSCALER: &str = "scenarios/incidents/001-blind-autoscaler.toml";
const SLOW_PROVIDER: &str = "scenarios/incidents/002-slow-primary-provider.toml";
const BACKLOG_STORM: &str = "scenarios/incidents/004-backlog-retry-storm-regional-cascade.toml";

/// Loads one of a shipped incident's variants.
fn variant(relative: &str, name: &str) -> Scenario {
    stormsim::scenario::load_variant(&repo_path(relative), Some(name))
        .unwrap_or_else(|err| panic!("{err}"))
        .scenario
}

fn run(scenario: &Scenario) -> (Summary, Series) {
    let output = simulate(scenario, scenario.seed);
    assert!(output.stopped.is_none(), "{:?}", output.summary.stopped_by);
    (output.summary, output.series)
}

/// Seconds from the start of a clock time `HH:MM` on the scenario's day (`+1d` after
/// midnight).
fn at(scenario: &Scenario, clock: &str, next_day: bool) -> f64 {
    let (h, m) = clock.split_once(':').unwrap();
    let secs = h.parse::<f64>().unwrap() * 3600.0 + m.parse::<f64>().unwrap() * 60.0;
    secs + if next_day { 86_400.0 } else { 0.0 } - scenario.start_clock.unwrap().as_secs_f64()
}

fn rows_between(series: &Series, from_s: f64, to_s: f64) -> impl Iterator<Item = &IntervalRow> {
    series.rows.iter().filter(move |row| row.start.as_secs_f64() >= from_s && row.end.as_secs_f64() <= to_s)
}

fn marker_time(summary: &Summary, kind: &str) -> f64 {
    summary
        .timeline
        .iter()
        .find(|marker| marker.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} marker"))
        .at
        .t_s
}

#[test]
fn cpu_regression_fails_only_at_the_peak_with_gateway_timeouts_and_recovers_after_the_scale_out() {
    let scenario = load(CPU_REGRESSION);
    let (summary, series) = run(&scenario);
    let slo = &summary.slo;

    // The morning is clean until the peak: no breach before 09:00.
    let breach = slo.first_breach.as_ref().expect("the peak breaches the SLO").t_s;
    assert!(breach > at(&scenario, "09:00", false), "breached at {breach}");
    assert!(breach < at(&scenario, "09:45", false), "breached at {breach}");
    for row in rows_between(&series, 0.0, at(&scenario, "09:00", false)) {
        assert!(row.total.success_rate().unwrap_or(1.0) >= 0.999, "{:?}", row.start);
    }
    // The collapse is deep, and it is gateway timeouts (504s), not rejections (503s).
    let worst = series.rows.iter().filter_map(|row| row.total.success_rate()).fold(1.0, f64::min);
    assert!(worst < 0.5, "worst interval {worst}");
    let failed = &summary.requests.failed_by_reason;
    assert!(failed.timeout > 10 * failed.rejected, "{failed:?}");

    // Detected by the alert within minutes; recovery only after the operator's scale-out
    // and the boot delay, and a few minutes later at most.
    assert!(slo.time_to_detect_s.unwrap() <= 600.0, "{:?}", slo.time_to_detect_s);
    let scale_out = marker_time(&summary, "operator");
    let operator = summary.timeline.iter().find(|marker| marker.kind == "operator").unwrap();
    assert!(
        operator.label.ends_with(": on-call finds the CPU regression and scales out"),
        "the alert's note goes with its operator action: {}",
        operator.label
    );
    let recovered = slo.recovered.as_ref().expect("recovers").t_s;
    let boot = 300.0;
    assert!(recovered >= scale_out + boot - 60.0, "recovered {recovered}, scale-out {scale_out}");
    assert!(recovered <= scale_out + boot + 600.0, "recovered {recovered}, scale-out {scale_out}");
    assert!(slo.capacity_added.as_ref().unwrap().t_s >= scale_out + boot);
    assert_eq!(summary.services["backend"].instances_ready_max, 24);

    // The chart shows what a review asks for first, and the capacity line is the CPU
    // arithmetic of the file: 16 x 2 cores at 55 ms x 1.35, about 431/s.
    let capacity = series.rows[0].services[0].capacity_per_s;
    assert!((capacity - 32.0 / (0.055 * 1.35)).abs() < 0.5, "capacity {capacity}/s");
    let chart = chart_text(&series);
    for expected in [
        "\ncapacity\n",
        "\nSLO 99.9%\n",
        "Failed requests per second by reason",
        "\ntimeout\n",
        "\nrejected\n",
        "SLO first breached (&lt; 99.9%)",
        "breach detected by an alert",
        "SLO recovered",
        "operator: backend: scale to 24",
        "Instances per service",
    ] {
        assert!(chart.contains(expected), "{expected} is missing from the chart");
    }
    assert!(!chart.contains("Metrics staleness"), "no metrics fault, no staleness panel");
    assert!(!chart.contains("day 2"), "the run ends the day it starts");
}

/// The run chart's SVG, whose text elements hold every caption, legend entry and event.
fn chart_text(series: &Series) -> String {
    stormsim::report::chart::svg(series, "chart").unwrap()
}

#[test]
fn the_previous_monday_and_the_mitigations_meet_the_slo() {
    for name in ["previous-monday", "pooling", "autoscaling"] {
        let (summary, _) = run(&variant(CPU_REGRESSION, name));
        assert!(summary.slo.first_breach.is_none(), "{name}: {:?}", summary.slo.first_breach);
        assert!(summary.requests.success_rate > 0.999, "{name}: {}", summary.requests.success_rate);
        assert!(summary.alerts.is_empty(), "{name}");
    }
}

#[test]
fn graceful_degradation_keeps_every_login_by_shedding_the_admin_requests() {
    let scenario = variant(CPU_REGRESSION, "graceful-degradation");
    let (summary, series) = run(&scenario);
    let (login, admin) = (&summary.classes["login"], &summary.classes["admin"]);
    assert!(login.success_rate > 0.9995, "login {}", login.success_rate);
    assert!(admin.success_rate < 0.9, "admin {}: it absorbs the shortfall", admin.success_rate);
    assert_eq!(admin.failed_by_reason.rejected, admin.failed, "shed at the door, not timed out");
    // Through the peak, interval by interval, logins stay above the 99.9% SLO.
    for row in rows_between(&series, at(&scenario, "09:00", false), at(&scenario, "12:00", false)) {
        let login = row.classes[1].success_rate().unwrap();
        assert!(login >= 0.999, "{:?}: login {login}", row.start);
    }
}

#[test]
fn blind_autoscaler_holds_the_pool_flat_until_the_morning_outgrows_it() {
    let scenario = load(BLIND_AUTOSCALER);
    let (summary, series) = run(&scenario);
    let outage = at(&scenario, "19:00", false);
    let operator = marker_time(&summary, "operator");

    // From the metrics outage to the operator's action, the pool does not move, though the
    // load falls overnight and then more than doubles.
    let frozen: Vec<u32> =
        rows_between(&series, outage + 60.0, operator).map(|row| row.services[0].instances_ready).collect();
    assert!(frozen.windows(2).all(|w| w[0] == w[1]), "the pool moved while blind");
    let frozen_at = frozen[0];
    let staleness =
        rows_between(&series, operator - 60.0, operator).next().unwrap().services[0].metrics_staleness_s;
    assert!(staleness > 12.0 * 3600.0, "the newest sample is {staleness} s old");

    // Nothing visible overnight; failures begin in the morning once demand passes the
    // frozen capacity (about 20 requests/s per instance at 100% CPU).
    let breach = summary.slo.first_breach.as_ref().expect("the morning breaches").t_s;
    assert!(breach > at(&scenario, "07:00", true), "breached at {breach}");
    let breach_row = series.rows.iter().find(|row| row.start.as_secs_f64() == breach).unwrap();
    let offered_per_s = breach_row.total.offered as f64 / 60.0;
    let capacity = frozen_at as f64 * 20.0;
    assert!(offered_per_s > 0.8 * capacity, "breach at {offered_per_s}/s with capacity {capacity}/s");

    // Both services on the shared pool fail together.
    let worst = |class: usize| {
        rows_between(&series, breach, operator)
            .filter_map(|row| row.classes[class].success_rate())
            .fold(1.0, f64::min)
    };
    assert!(worst(0) < 0.9 && worst(1) < 0.9, "auth {} telephony {}", worst(0), worst(1));

    // The manual scale-out recovers over minutes (8-minute boot), not at once.
    let recovered = summary.slo.recovered.as_ref().expect("recovers").t_s;
    assert!(recovered >= operator + 8.0 * 60.0 - 60.0, "recovered {recovered}, operator {operator}");

    // The chart has the metrics staleness (the scenario breaks the metrics), both classes
    // beside all requests, and a day marker at midnight.
    let chart = chart_text(&series);
    for expected in [
        "Metrics staleness",
        "\nclass auth\n",
        "\nclass telephony\n",
        "\nday 2 · 00:00\n",
        "app: metrics stop",
    ] {
        assert!(chart.contains(expected), "{expected} is missing from the chart");
    }
}

#[test]
fn an_autoscaler_that_scales_out_when_blind_keeps_up() {
    let scenario = variant(BLIND_AUTOSCALER, "fail-safe");
    let (summary, series) = run(&scenario);
    let ready_after_outage = rows_between(&series, at(&scenario, "19:30", false), f64::MAX)
        .map(|row| row.services[0].instances_ready)
        .min()
        .unwrap();
    assert_eq!(ready_after_outage, 30, "scaled out to blind_instances once the data went stale");
    assert!(summary.slo.bad_minutes <= 2.0, "{} bad minutes", summary.slo.bad_minutes);
}

#[test]
fn a_staleness_alert_detects_the_outage_the_evening_before() {
    let scenario = variant(BLIND_AUTOSCALER, "staleness-alert");
    let (summary, _) = run(&scenario);
    let stale = summary.alerts.iter().find(|alert| alert.name == "metrics-stale").expect("fired");
    let outage = at(&scenario, "19:00", false);
    assert!(stale.fired.t_s > outage && stale.fired.t_s < outage + 1800.0, "fired at {}", stale.fired.t_s);
    // Restored overnight, the autoscaler sees the morning: no breach at all.
    assert!(summary.slo.first_breach.is_none(), "{:?}", summary.slo.first_breach);
}

const AUTH: usize = 0;
const PRIMARY: usize = 1;
const BACKUP: usize = 2;
const PUSH: usize = 0;

#[test]
fn slow_primary_provider_holds_every_worker_so_push_authentications_fail_too() {
    let scenario = load(SLOW_PROVIDER);
    let (summary, series) = run(&scenario);
    let (slow, partial) = (at(&scenario, "15:20", false), at(&scenario, "16:05", false));

    // Clean until the provider turns slow; the breach comes from the held workers.
    let breach = summary.slo.first_breach.as_ref().expect("the slow provider breaches the SLO").t_s;
    assert!(breach >= slow && breach < slow + 180.0, "breached at {breach}");
    for row in rows_between(&series, slow + 120.0, partial) {
        let auth = &row.services[AUTH];
        assert!(auth.worker_utilisation > 0.99, "{:?}: {auth:?}", row.start);
        assert!(auth.cpu_utilisation < 0.3, "the CPU idles while the workers wait");
        // Push authentications never call the provider, and still fail: turned away at
        // the door of a pool whose workers all wait on the primary.
        let push = row.classes[PUSH].success_rate().unwrap();
        assert!(push < 0.95, "{:?}: push {push}", row.start);
        assert!(row.total.failed[stormsim::outcome::FailureReason::Rejected.index()] > 0);
        // The backup could have served them, but sees only the calls that outlast 15 s.
        assert!(row.services[BACKUP].arrived < row.services[PRIMARY].arrived / 2);
    }
    // The provider's partial recovery frees the workers and the failures fall.
    let recovered = summary.slo.recovered.as_ref().expect("recovers").t_s;
    assert!(recovered >= partial && recovered <= partial + 300.0, "recovered at {recovered}");
    let provider = &summary.dependencies["telephony"].providers["primary"];
    assert!(provider.errors > 10_000 && provider.late > 1_000, "{provider:?}");
}

#[test]
fn a_short_provider_timeout_fails_over_and_keeps_the_slo_one_too_short_does_not() {
    let scenario = variant(SLOW_PROVIDER, "short-timeout");
    let (summary, series) = run(&scenario);
    assert!(summary.requests.success_rate > 0.9995, "{}", summary.requests.success_rate);
    let (slow, partial) = (at(&scenario, "15:20", false), at(&scenario, "16:05", false));
    for row in rows_between(&series, slow + 60.0, partial) {
        assert!(row.services[AUTH].worker_utilisation < 0.8, "{:?}", row.start);
        // Most calls time out on the primary and are answered by the backup.
        assert!(row.services[BACKUP].arrived * 2 > row.services[PRIMARY].arrived, "{:?}", row.start);
    }
    // 250 ms fails over the primary's healthy slow tail, before the fault as well: the
    // backup takes a third of the calls, and those it answers after 250 ms fail.
    let too_short = variant(SLOW_PROVIDER, "too-short");
    let (summary, series) = run(&too_short);
    let before = rows_between(&series, 0.0, at(&too_short, "15:20", false));
    let (primary, backup): (u64, u64) = before
        .fold((0, 0), |(p, b), row| (p + row.services[PRIMARY].arrived, b + row.services[BACKUP].arrived));
    assert!(backup * 3 > primary, "{backup} of {primary} calls failed over while the primary was healthy");
    assert!(summary.requests.success_rate < 0.97, "{}", summary.requests.success_rate);
    assert!(summary.slo.first_breach.as_ref().is_some_and(|breach| breach.t_s < 120.0));
}

#[test]
fn a_breaker_shifts_the_calls_to_the_backup_before_the_pool_fills() {
    let (summary, series) = run(&variant(SLOW_PROVIDER, "breaker"));
    assert!(summary.slo.bad_minutes <= 2.0, "{} bad minutes", summary.slo.bad_minutes);
    assert!(
        summary.timeline.iter().any(|marker| marker.label.contains("provider telephony/primary ejected"))
    );
    let backup = &summary.dependencies["telephony"].providers["backup"];
    assert!(
        backup.refused * 1000 < backup.calls,
        "the backup takes nearly all within its 40 at once: {backup:?}"
    );
    assert!(series.rows.iter().all(|row| row.services[AUTH].worker_utilisation < 0.9));
}

/// Incident 004, or one of its variants.
fn backlog_storm(name: Option<&str>) -> Scenario {
    match name {
        Some(name) => variant(BACKLOG_STORM, name),
        None => load(BACKLOG_STORM),
    }
}

fn pool(series: &Series, name: &str) -> usize {
    series.service_names.iter().position(|pool| pool == name).unwrap_or_else(|| panic!("no pool {name}"))
}

/// Total succeeded, attempts and offered over some rows.
fn sums<'a>(rows: impl Iterator<Item = &'a IntervalRow>) -> (u64, u64, u64, usize) {
    rows.fold((0, 0, 0, 0), |(ok, attempts, offered, n), row| {
        (ok + row.total.succeeded, attempts + row.total.attempts, offered + row.total.offered, n + 1)
    })
}

#[test]
fn backlog_storm_outlives_the_surge_spreads_west_and_survives_both_scale_outs() {
    let scenario = backlog_storm(None);
    let (summary, series) = run(&scenario);
    let t = |clock: &str| at(&scenario, clock, !clock.starts_with("23"));
    let (east, west) = (pool(&series, "identity@eastus"), pool(&series, "identity@westus"));

    // Clean until the backlog resumes at 00:07.
    for row in rows_between(&series, 0.0, t("00:07")) {
        assert!(row.total.success_rate().unwrap_or(1.0) >= 0.999, "{:?}", row.start);
    }
    // East US saturates first; West US after it, carried there by East US's retries.
    let saturated = |pool: usize| {
        let row = series.rows.iter().find(|row| {
            row.services[pool].cpu_utilisation > 0.95 && row.services[pool].queue_length_mean > 100.0
        });
        row.expect("the pool saturates").start.as_secs_f64()
    };
    let (east_at, west_at) = (saturated(east), saturated(west));
    assert!(east_at >= t("00:07") && east_at < west_at && west_at <= east_at + 300.0, "{east_at} {west_at}");

    // Goodput falls while attempts rise: from 00:20 to the drain, fewer than 5% of the
    // evening's successes for more than 10 attempts per offered request.
    let (ok_before, _, _, n_before) = sums(rows_between(&series, 0.0, t("00:07")));
    let (ok_storm, attempts_storm, offered_storm, n_storm) =
        sums(rows_between(&series, t("00:20"), t("03:55")));
    let goodput = |ok: u64, n: usize| ok as f64 / n as f64;
    assert!(
        goodput(ok_storm, n_storm) < 0.05 * goodput(ok_before, n_before),
        "{ok_storm} in {n_storm} intervals"
    );
    let amplification = attempts_storm as f64 / offered_storm as f64;
    assert!(amplification > 10.0, "{amplification} attempts per offered request");

    // Both scale-outs complete (00:50, 02:00), and leave both regions collapsed.
    for (done, instances, until) in [("00:50", 9, "01:45"), ("02:00", 14, "03:55")] {
        for pool in [east, west] {
            let row = rows_between(&series, t(done), f64::MAX).next().unwrap();
            assert_eq!(row.services[pool].instances_ready, instances, "{done}");
        }
        for row in rows_between(&series, t(done) + 600.0, t(until)) {
            assert!(row.total.success_rate().unwrap_or(0.0) < 0.05, "{:?}", row.start);
            for region in &row.regions {
                assert!(region.requests.success_rate().unwrap_or(0.0) < 0.05, "{:?}", row.start);
            }
        }
    }

    // The alert detects it; the drain then the ramp recover it, before the postmortem's 06:05.
    assert!(summary.slo.time_to_detect_s.unwrap() <= 600.0, "{:?}", summary.slo.time_to_detect_s);
    let recovered = summary.slo.recovered.as_ref().expect("recovers").t_s;
    assert!(recovered > t("04:25") && recovered < t("06:05"), "recovered at {recovered}");
    for row in rows_between(&series, t("05:45"), f64::MAX) {
        assert!(row.total.success_rate().unwrap_or(1.0) >= 0.999, "{:?}", row.start);
    }

    // The chart has both regions' panels.
    let chart = chart_text(&series);
    for expected in ["Success rate per home region", "\nidentity@westus\n", "identity@westus: admit 0%"] {
        assert!(chart.contains(expected), "{expected} is missing from the chart");
    }
}

#[test]
fn backlog_storm_the_same_surge_without_retries_drains_in_minutes() {
    let scenario = backlog_storm(Some("surge-without-retries"));
    let (summary, _) = run(&scenario);
    let recovered = summary.slo.recovered.as_ref().expect("recovers").t_s;
    assert!(recovered < at(&scenario, "00:20", true), "recovered at {recovered}");
    assert!(summary.regions["westus"].requests.success_rate >= 0.999, "West US is not touched");
}

#[test]
fn backlog_storm_restored_at_once_collapses_again() {
    // After the drain, the workflows requeued meanwhile return together: without the ramp
    // the pools tip over again, and nothing recovers by the end of the run.
    let (summary, series) = run(&backlog_storm(Some("restore-at-once")));
    assert!(summary.slo.recovered.is_none(), "{:?}", summary.slo.recovered);
    let last = series.rows.last().unwrap();
    assert!(last.total.success_rate().unwrap_or(0.0) < 0.5, "{:?}", last.total);
}

#[test]
fn backlog_storm_a_retry_budget_does_not_end_it_alone_while_failed_workflows_are_requeued() {
    // The hypothesis "a retry budget alone lets it recover without the drain", as the model
    // answers it. The budget keeps West US whole (it starves the failover) but not East US:
    // requeued workflows are new requests, which the budget does not bound.
    let scenario = backlog_storm(Some("retry-budget-alone"));
    let (summary, _) = run(&scenario);
    assert!(summary.slo.first_breach.is_some());
    assert!(summary.slo.recovered.is_none(), "{:?}", summary.slo.recovered);
    assert!(summary.regions["eastus"].requests.success_rate < 0.9);
    assert!(summary.regions["westus"].requests.success_rate >= 0.999);

    // With the operators' scale-outs it recovers, without a drain, once the second one is in.
    let scenario = backlog_storm(Some("retry-budget"));
    let recovered = run(&scenario).0.slo.recovered.expect("recovers").t_s;
    let second = at(&scenario, "02:00", true);
    assert!(recovered >= second && recovered <= second + 900.0, "recovered at {recovered}");

    // Without the requeues the budget alone is enough: it recovers as fast as no retries.
    let scenario = backlog_storm(Some("retry-budget-no-requeue"));
    let recovered = run(&scenario).0.slo.recovered.expect("recovers").t_s;
    assert!(recovered < at(&scenario, "00:20", true), "recovered at {recovered}");
}

const BLAST_RADIUS: &str = "scenarios/incidents/003-blast-radius-cells.toml";

/// Incident 000's regression rolled over eight cells, in the variant `name`.
fn blast_radius(name: Option<&str>) -> Summary {
    let scenario = match name {
        Some(name) => variant(BLAST_RADIUS, name),
        None => load(BLAST_RADIUS),
    };
    run(&scenario).0
}

#[test]
fn a_latency_gate_halts_the_regressing_release_after_the_first_cell_and_confines_the_harm() {
    let gated = blast_radius(Some("gated"));
    let release = gated.release.as_ref().expect("a release");
    assert_eq!(release.outcome, "halted");
    assert_eq!(release.cells_reached, ["cell-1"]);
    let halt = release.halted.as_ref().expect("the gate halted it");
    assert_eq!((halt.wave, halt.cell.as_str(), halt.figure.as_str()), (1, "cell-1", "latency_p99_ms"));
    assert_eq!(halt.at.clock.as_deref(), Some("08:45:00"), "at the end of the first bake, before any error");
    // cell-1 keeps the bad build and collapses at the peak; the other cells never notice.
    assert!(gated.cells["cell-1"].requests.success_rate < 0.6);
    for cell in 2..=8 {
        let rate = gated.cells[&format!("cell-{cell}")].requests.success_rate;
        assert!(rate > 0.999, "cell-{cell}: {rate}");
    }
    // One eighth of the customers, from 08:00 to the end at 12:00: 0.125 x 240 minutes.
    assert!((release.blast_radius.customer_share - 0.125).abs() < 1e-9);
    assert!((release.blast_radius.customer_minutes - 30.0).abs() < 1e-6);
    // Rolled back at the halt, nobody is harmed: 0.125 x 45 minutes of exposure.
    let rolled_back = blast_radius(Some("gated-rollback"));
    assert!(rolled_back.requests.success_rate > 0.9999, "{}", rolled_back.requests.success_rate);
    let radius = &rolled_back.release.as_ref().unwrap().blast_radius;
    assert!((radius.customer_minutes - 5.625).abs() < 1e-6, "{radius:?}");
}

#[test]
fn without_a_gate_the_release_reaches_every_cell_and_an_error_gate_halts_only_at_the_peak() {
    let ungated = blast_radius(None);
    let release = ungated.release.as_ref().unwrap();
    assert_eq!((release.outcome.as_str(), release.cells_reached.len()), ("complete", 8));
    for (name, cell) in &ungated.cells {
        assert!(cell.requests.success_rate < 0.7, "{name}: {}", cell.requests.success_rate);
    }
    // Off-peak the regression costs latency, not errors: a gate on errors alone passes the
    // first cell and halts only once the second wave's cells have collapsed at the peak.
    let success_gate = blast_radius(Some("success-gate"));
    let release = success_gate.release.as_ref().unwrap();
    let halt = release.halted.as_ref().expect("halted");
    assert_eq!((halt.wave, halt.figure.as_str()), (2, "success_rate"));
    assert_eq!(release.cells_reached, ["cell-1", "cell-2", "cell-3"]);
    assert!((release.blast_radius.customer_share - 0.375).abs() < 1e-9);
}
