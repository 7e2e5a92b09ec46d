//! `stormsim metastability`: a map of a surge's size and length on a small service whose
//! boundary theory places (a backlog of more than a timeout's worth of work), monotone in
//! both; a retry budget under the spare capacity that moves it; sharded maps that merge
//! into the same bytes; and refusals that say what to write.

use assert_cmd::Command;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

/// Two instances serve 100/s; users offer 93/s (rho 0.93), give up after 4 s and retry at
/// once 3 times. A surge adds (factor - 1) x 93/s x its length to the backlog, which turns
/// into a storm once it holds over 4 s of work (400 requests): (factor - 1) x length > 4.3 s.
/// The queues hold 6 s of work, so a storm's backlog is at most 600 requests.
const SMALL: &str = r#"
[simulation]
name = "small-storm"
duration = "5m"
interval = "5s"

[slo]
success_rate = "99%"
recovery = "30s"

[classes.request]

[sources.users]
client = "app"
rate = "93/s"
surge = { at = "30s", factor = 2, over = "10s" }

[clients.app]
target = "api"
timeout = "4s"

[clients.app.retry]
max_attempts = 4
on = ["timeout", "rejected"]
backoff = { base = "0s", jitter = "none" }

[services.api]
instances = 2
cores = 1
workers = 1
queue = { capacity = 300 }
cpu = { dist = "exponential", mean = "20ms" }

[variants.tight-budget.clients.app]
limiter = { preset = "finagle", percent_can_retry = "3%", min_retries_per_sec = 0 }
"#;

/// Factors down, lengths across: (factor - 1) x length is 0.4, 2, 8 / 2, 10, 40 / 6, 30,
/// 120 seconds, each well clear of the 4.3 s the backlog needs.
const GRID: [&str; 4] = ["--factor", "1.2,2,4", "--over", "2s,10s,40s"];

fn stormsim() -> Command {
    Command::cargo_bin("stormsim").unwrap()
}

fn scenario(dir: &Path) -> PathBuf {
    let path = dir.join("small-storm.toml");
    fs::write(&path, SMALL).unwrap();
    path
}

/// Runs the map and returns `metastability.json`, parsed, from `--json`.
fn map(file: &Path, extra: &[&str]) -> Value {
    let out = file.parent().unwrap().join(format!("map{}", extra.join("").replace(['-', ' '], "")));
    let output = stormsim()
        .arg("metastability")
        .arg(file)
        .args(GRID)
        .args(["--replications", "3", "--settle", "3m", "--json", "--quiet", "--out"])
        .arg(&out)
        .args(extra)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    let written = fs::read_to_string(out.join("metastability.json")).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&written).unwrap(), json, "stdout and the folder agree");
    json
}

/// The share collapsed of each cell, factors down, lengths across.
fn shares(json: &Value) -> Vec<Vec<f64>> {
    let cells = json["cells"].as_array().unwrap();
    cells
        .chunks(3)
        .map(|row| row.iter().map(|cell| cell["collapsed_share"].as_f64().unwrap()).collect())
        .collect()
}

fn boundary(json: &Value) -> Vec<Value> {
    json["boundary"].as_array().unwrap().iter().map(|point| point["factor"].clone()).collect()
}

#[test]
fn the_boundary_is_where_the_backlog_outgrows_the_timeout_and_monotone_in_size_and_length() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let json = map(&file, &[]);
    let shares = shares(&json);
    assert_eq!(shares, [[0.0, 0.0, 1.0], [0.0, 1.0, 1.0], [1.0, 1.0, 1.0]], "{json:#}");
    for (factor, row) in shares.iter().enumerate() {
        for (length, share) in row.iter().enumerate() {
            assert!(length == 0 || *share >= row[length - 1], "longer surges collapse at least as often");
            assert!(
                factor == 0 || *share >= shares[factor - 1][length],
                "bigger surges collapse at least as often"
            );
        }
    }
    assert_eq!(boundary(&json), ["4", "2", "1.2"]);
    let cell = &json["cells"][0];
    assert_eq!(cell["collapsed_share_ci95"][0], 0.0);
    assert!((cell["collapsed_share_ci95"][1].as_f64().unwrap() - 0.5615).abs() < 1e-3, "Wilson, 0 of 3");
    // A surge that tips nothing leaves no outage behind: recovered at once.
    assert_eq!(cell["recovery"]["max_s"], 0.0);
    assert_eq!(json["cells"][8]["recovery"], Value::Null, "every seed collapsed: none recovered");

    let csv = fs::read_to_string(dir.path().join("map/metastability.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(
        header.starts_with(
            "sources.users.surge.factor,sources.users.surge.over,seeds,collapsed,collapsed_share,"
        )
    );
    assert_eq!(csv.lines().count(), 10);
    let png = fs::read(dir.path().join("map/metastability.png")).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let html = fs::read_to_string(dir.path().join("map/report.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("boundary (at least 50% of seeds collapsed"), "{html}");
}

#[test]
fn a_retry_budget_under_the_spare_capacity_moves_the_boundary_and_the_storms_recover() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let json = map(&file, &["--variant", "tight-budget"]);
    // 93/s plus 3% is under the 100/s served: every backlog drains at about 4/s, so the
    // largest (600) within the 3 minutes.
    assert_eq!(shares(&json), [[0.0; 3]; 3], "{json:#}");
    assert_eq!(boundary(&json), [Value::Null, Value::Null, Value::Null]);
    assert_eq!(json["scenario"]["variant"], "tight-budget");
    // The biggest surge still caused an outage: it took a while to recover.
    let recovery = &json["cells"][8]["recovery"];
    assert_eq!(recovery["recovered"], 3);
    assert!(recovery["p50_s"].as_f64().unwrap() > 0.0, "{recovery}");
}

#[test]
fn a_sharded_map_merges_into_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let run = |extra: &[&str]| {
        stormsim()
            .current_dir(dir.path())
            .arg("metastability")
            .arg(&file)
            .args([
                "--factor",
                "1.2,4",
                "--over",
                "2s,40s",
                "--replications",
                "2",
                "--settle",
                "1m",
                "--quiet",
            ])
            .args(extra)
            .assert()
            .success();
    };
    run(&["--out", "whole"]);
    run(&["--shard", "0/2", "--shard-file", "s0.json"]);
    run(&["--shard", "1/2", "--shard-file", "s1.json"]);
    stormsim()
        .current_dir(dir.path())
        .args(["merge", "s1.json", "s0.json", "--out", "merged", "--quiet"])
        .assert()
        .success();
    for name in ["metastability.json", "metastability.csv", "metastability.svg"] {
        let read = |folder: &str| fs::read_to_string(dir.path().join(folder).join(name)).unwrap();
        assert_eq!(read("whole"), read("merged"), "{name}");
    }
}

#[test]
fn a_scenario_without_a_surge_or_too_short_a_run_is_refused_with_what_to_write() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let no_surge = dir.path().join("calm.toml");
    fs::write(&no_surge, SMALL.replace("surge = { at = \"30s\", factor = 2, over = \"10s\" }\n", ""))
        .unwrap();
    let output = stormsim().arg("metastability").arg(&no_surge).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("has no source with a surge to map"), "{stderr}");
    assert!(stderr.contains("surge = { at = \"2m\", factor = 2, over = \"5s\" }"), "{stderr}");

    let output = stormsim()
        .arg("metastability")
        .arg(&file)
        .args(["--over", "10s,2m", "--settle", "3m"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the run lasts 5m but the map needs 6m: the surge at 30s"), "{stderr}");

    let warm = dir.path().join("warm.toml");
    fs::write(&warm, SMALL.replace("interval = \"5s\"", "interval = \"5s\"\nwarmup = \"1m\"")).unwrap();
    let output = stormsim().arg("metastability").arg(&warm).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("the surge at 30s starts inside the warm-up (1m)"), "{stderr}");

    let output = stormsim().arg("metastability").arg(&file).args(["--over", "10"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--over"), "{stderr}");

    let output = stormsim().arg("metastability").arg(&file).args(["--source", "nobody"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--source nobody"));
}
