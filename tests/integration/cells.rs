//! Cells and staged releases end to end: a customer's requests stay in its cell, a
//! regressing release halts after its first wave when gated and reaches every cell when
//! not, a rollback restores the cells reached, the other cells' customers see nothing,
//! and the blast radius is the hand computation.

use stormsim::simulate;
use stormsim::stats::summary::Summary;

/// Four cells, `api` in each: 1 instance x 1 core at 8 ms (125/s), customers offering
/// 100/s per cell (80% CPU) through `app` (1 s timeout, no retries, so no draw is shared
/// between cells). `api` calls `store` (in each cell too, 2 ms). At 2m a release sets api's
/// CPU multiplier to 2 (16 ms: 62/s, far below the load) in three waves of 2 minutes'
/// bake; the run lasts 12 minutes. `release` adds to or replaces the release's keys.
fn scenario(release: &str, extra: &str) -> stormsim::model::Scenario {
    let text = format!(
        r#"
[simulation]
duration = "12m"
interval = "1m"

[classes.all]

[cells]
count = 4

[sources.customers]
client = "app"
rate = "400/s"

[clients.app]
target = "api"
timeout = "1s"

[clients.store]
target = "store"
timeout = "1s"

[services.api]
cells = true
instances = 1
cores = 1
workers = 64
queue = {{ capacity = 100 }}
cpu = "8ms"
calls = [{{ client = "store" }}]

[services.store]
cells = true
instances = 1
cores = 2
cpu = "2ms"

[release]
at = "2m"
services = ["api"]
waves = [["cell-1"], ["cell-2"], ["cell-3", "cell-4"]]
bake = "2m"
{release}
{extra}
"#
    );
    stormsim::scenario::load_str(&text, "cells.toml").unwrap_or_else(|err| panic!("{err}")).scenario
}

const BAD: &str = "change = { cpu_multiplier = 2 }";
const GATE: &str = "gate = { success_rate_below = \"99%\" }";

fn run(release: &str, extra: &str) -> Summary {
    simulate(&scenario(release, extra), 7).summary
}

fn success(summary: &Summary, cell: &str) -> f64 {
    summary.cells[cell].requests.success_rate
}

#[test]
fn a_gated_regressing_release_halts_after_its_first_wave() {
    let gated = run(&format!("{BAD}\n{GATE}"), "");
    let release = gated.release.as_ref().expect("a release");
    assert_eq!(release.outcome, "halted");
    assert_eq!(release.waves_applied, 1);
    assert_eq!(release.cells_reached, ["cell-1"]);
    let halt = release.halted.as_ref().expect("halted");
    assert_eq!((halt.wave, halt.cell.as_str(), halt.figure.as_str()), (1, "cell-1", "success_rate"));
    assert!(halt.value < 0.9, "{halt:?}");
    assert_eq!(halt.at.t_s, 240.0);
    assert!(success(&gated, "cell-1") < 0.9, "{:?}", gated.cells["cell-1"]);
}

#[test]
fn without_a_gate_the_release_reaches_every_cell() {
    let ungated = run(BAD, "");
    let release = ungated.release.as_ref().expect("a release");
    assert_eq!(release.outcome, "complete");
    assert_eq!(release.waves_applied, 3);
    assert_eq!(release.cells_reached, ["cell-1", "cell-2", "cell-3", "cell-4"]);
    for cell in ["cell-1", "cell-2", "cell-3", "cell-4"] {
        assert!(success(&ungated, cell) < 0.9, "{cell}: {:?}", ungated.cells[cell]);
    }
}

#[test]
fn a_harmless_release_passes_its_gate_on_what_the_cells_saw() {
    let harmless = run(&format!("change = {{ cpu_multiplier = 1.1 }}\n{GATE}"), "");
    let release = harmless.release.as_ref().expect("a release");
    assert_eq!((release.outcome.as_str(), release.waves_applied), ("complete", 3));
    assert!(harmless.requests.success_rate > 0.999, "{:?}", harmless.requests);
}

#[test]
fn a_rollback_restores_the_cells_reached() {
    let rolled = simulate(&scenario(&format!("{BAD}\n{GATE}\nrollback = true"), ""), 7);
    let release = rolled.summary.release.as_ref().expect("a release");
    assert_eq!(release.rolled_back.as_ref().map(|at| at.t_s), Some(240.0));
    let cell = rolled.summary.cells["cell-1"].release.as_ref().expect("reached");
    assert_eq!(cell.restored.as_ref().map(|at| at.t_s), Some(240.0));
    // Once the backlog has drained, cell-1 serves its customers again.
    for minute in 7..12 {
        let rate = rolled.series.rows[minute].cells[0].requests.success_rate().expect("requests finished");
        assert!(rate > 0.999, "minute {minute}: {rate}");
    }
    let markers: Vec<&str> = rolled.series.markers.iter().map(|marker| marker.label.as_str()).collect();
    assert_eq!(markers.len(), 3, "{markers:?}");
    assert_eq!(markers[0], "release wave 1/3: cell-1 (CPU cost x2)");
    assert_eq!(markers[2], "release rolled back");
    assert!(markers[1].starts_with("release gate halts wave 1: cell-1 success rate "), "{markers:?}");
}

#[test]
fn customers_of_cells_the_release_never_reached_see_no_harm() {
    let none = run("change = { cpu_multiplier = 1 }", "");
    let gated = run(&format!("{BAD}\n{GATE}"), "");
    for cell in ["cell-2", "cell-3", "cell-4"] {
        // Cells share no draw: what an untouched cell's customers saw is bit for bit the same.
        assert_eq!(gated.cells[cell].requests, none.cells[cell].requests, "{cell}");
        assert!(success(&gated, cell) > 0.999, "{cell}");
    }
}

#[test]
fn the_blast_radius_is_share_times_exposure() {
    // Gated without rollback: cell-1 (25%) from 2m to the end at 12m, 2.5 customer-minutes.
    let gated = run(&format!("{BAD}\n{GATE}"), "");
    let blast = &gated.release.as_ref().expect("a release").blast_radius;
    assert!((blast.customer_share - 0.25).abs() < 1e-12, "{blast:?}");
    assert!((blast.customer_minutes - 2.5).abs() < 1e-9, "{blast:?}");
    assert!((blast.customer_time_share - 2.5 / 12.0).abs() < 1e-12, "{blast:?}");
    // With rollback at 4m: 0.25 x 2 = 0.5.
    let rolled = run(&format!("{BAD}\n{GATE}\nrollback = true"), "");
    let blast = &rolled.release.as_ref().expect("a release").blast_radius;
    assert!((blast.customer_minutes - 0.5).abs() < 1e-9, "{blast:?}");
    // Ungated: 0.25 x (10 + 8 + 6 + 6) = 7.5.
    let ungated = run(BAD, "");
    let blast = &ungated.release.as_ref().expect("a release").blast_radius;
    assert!((blast.customer_minutes - 7.5).abs() < 1e-9, "{blast:?}");
    assert!((blast.customer_share - 1.0).abs() < 1e-12, "{blast:?}");
}

#[test]
fn a_customer_and_its_calls_stay_in_its_cell() {
    // store is lost in cell-3 only, until its replacement boots: cell-3's customers fail
    // meanwhile (their api calls store@cell-3 and nothing else), every other cell's
    // customers succeed.
    let loss =
        "\n[[timeline]]\nat = \"1m\"\naction = \"instance_loss\"\nservice = \"store@cell-3\"\ncount = 1\n";
    let summary = run("change = { cpu_multiplier = 1 }", loss);
    assert!(success(&summary, "cell-3") < 0.9, "{:?}", summary.cells["cell-3"]);
    for cell in ["cell-1", "cell-2", "cell-4"] {
        assert!(success(&summary, cell) > 0.999, "{cell}: {:?}", summary.cells[cell]);
        // No retries: each customer's request is one attempt at its own cell's api.
        let pool = &summary.services[&format!("api@{cell}")];
        assert_eq!(pool.arrived, summary.cells[cell].requests.offered, "{cell}");
        assert_eq!(summary.cells[cell].requests.attempts, summary.cells[cell].requests.offered, "{cell}");
    }
    // Customers split by the shares: each cell gets about a quarter of 400/s for 12 minutes.
    for cell in ["cell-1", "cell-2", "cell-3", "cell-4"] {
        let offered = summary.cells[cell].requests.offered as f64;
        assert!((offered / 72_000.0 - 1.0).abs() < 0.03, "{cell}: {offered}");
    }
}

#[test]
fn each_cell_has_its_rows_in_the_time_series() {
    let output = simulate(&scenario(&format!("{BAD}\n{GATE}"), ""), 7);
    let csv = stormsim::report::csv::to_string(&output.series).expect("a csv");
    let header = csv.lines().next().expect("a header");
    let cell_1: Vec<&str> = csv.lines().filter(|line| line.contains(",cell,cell-1,")).collect();
    assert_eq!(cell_1.len(), 12, "one row a minute");
    // Minute 3 (the first wave's bake): cell-1's customers offered about 6,000 requests.
    let columns: Vec<&str> = header.split(',').collect();
    let offered = columns.iter().position(|&column| column == "offered").expect("offered");
    let row: Vec<&str> = cell_1[3].split(',').collect();
    let n: f64 = row[offered].parse().expect("a count");
    assert!((n / 6_000.0 - 1.0).abs() < 0.1, "{n}");
}
