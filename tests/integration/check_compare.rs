//! `stormsim check` and `stormsim compare` as CI drives them: exit codes, verdict lines,
//! JUnit and Markdown files, JSON, compare folders, and variants from the command line.

use assert_cmd::Command;
use predicates::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};

/// Eight minutes of a small API: 60/s, then 120/s for two minutes against about 100/s of
/// CPU, then 60/s again. The app retries timeouts twice, so the overload turns into a retry
/// storm; the `budget` variant gives it a Finagle retry budget, `bigger` two instances.
const STORM: &str = r#"
[simulation]
name = "storm"
duration = "8m"
interval = "10s"

[classes.request]

[sources.users]
client = "app"
rate = [{ at = "0s", rate = "60/s" }, { at = "1m", rate = "60/s" }, { at = "1m10s", rate = "120/s" }, { at = "3m", rate = "120/s" }, { at = "3m10s", rate = "60/s" }]

[clients.app]
target = "api"
timeout = "500ms"

[clients.app.retry]
max_attempts = 3
backoff = { base = "100ms", cap = "1s" }

[services.api]
instances = 1
cores = 2
workers = 8
queue = { capacity = 50 }
cpu = { dist = "exponential", mean = "20ms" }

[[thresholds]]
metric = "success_rate"
comparison = ">="
value = "99%"

[[thresholds]]
metric = "amplification"
comparison = "<"
value = 1.5
window = { sliding = "1m" }

[variants.budget.clients.app]
limiter = "finagle"

[variants.bigger.services.api]
instances = 2
"#;

fn stormsim() -> Command {
    Command::cargo_bin("stormsim").unwrap()
}

fn scenario(dir: &Path) -> PathBuf {
    let path = dir.join("storm.toml");
    fs::write(&path, STORM).unwrap();
    path
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn check_exits_0_when_every_target_is_met() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    stormsim()
        .args(["check", arg(&file), "--variant", "bigger"])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("✔ success_rate >= 99%"))
        .stdout(predicate::str::contains("✔ amplification < 1.5 sliding 1m"))
        .stdout(predicate::str::contains("storm (variant bigger): 2 of 2 thresholds met (seed 1)"));
}

#[test]
fn check_exits_1_and_writes_junit_and_markdown_when_a_target_is_missed() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let junit = dir.path().join("check.xml");
    let markdown = dir.path().join("check.md");
    let assert = stormsim()
        .args(["check", arg(&file), "--junit", arg(&junit), "--markdown", arg(&markdown)])
        .args(["--threshold", "latency.p99 < 10s"])
        .assert()
        .code(1);
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("✘ success_rate >= 99%") && lines[0].contains("misses by"), "{stdout}");
    assert!(lines[1].contains("worst window t+"), "a sliding window says where: {stdout}");
    assert!(lines[2].starts_with("✔ latency.p99 < 10s"), "{stdout}");

    let xml = fs::read_to_string(&junit).unwrap();
    let report = quick_junit::Report::deserialize_from_str(&xml).expect("well-formed JUnit");
    let suite = &report.test_suites[0];
    assert_eq!((suite.tests, suite.failures), (3, 2));
    let names: Vec<&str> = suite.test_cases.iter().map(|case| case.name.as_str()).collect();
    assert_eq!(names, ["success_rate >= 99%", "amplification < 1.5 sliding 1m", "latency.p99 < 10s"]);

    let page = fs::read_to_string(&markdown).unwrap();
    assert!(page.starts_with("## stormsim check: storm failed\n"), "{page}");
    let rows: Vec<&str> =
        page.lines().filter(|line| line.starts_with("| ✅") || line.starts_with("| ❌")).collect();
    assert_eq!(rows.len(), 3, "{page}");
    assert!(rows.iter().all(|row| row.matches(" | ").count() == 3), "four cells per row: {page}");
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            name.starts_with('.').then_some(name)
        })
        .collect();
    assert!(leftovers.is_empty(), "temporary files left behind: {leftovers:?}");
}

#[test]
fn check_exits_2_on_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let refused = |args: &[&str], message: &str| {
        stormsim()
            .arg("check")
            .arg(arg(&file))
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    };
    refused(
        &["--threshold", "sucess_rate >= 99%"],
        "in --threshold \"sucess_rate >= 99%\": unknown metric \"sucess_rate\" (did you mean \"success_rate\"?)",
    );
    refused(&["--threshold", "latency.p99 < 250"], "missing unit in \"250\"");
    refused(&["--variant", "budgte"], "unknown variant \"budgte\" (did you mean \"budget\"?) at ");
    refused(&["--variant", "budgte"], "expected one of \"bigger\" or \"budget\"");
    refused(
        &["--threshold", "success_rate >= 99% lower95", "--replications", "1"],
        "needs --replications 2 or more",
    );
    refused(&["--replications", "0"], "--replications");

    let typo = dir.path().join("typo.toml");
    fs::write(&typo, STORM.replacen("metric = \"amplification\"", "metric = \"amplificaton\"", 1)).unwrap();
    stormsim()
        .args(["check", arg(&typo)])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown metric \"amplificaton\" (did you mean \"amplification\"?) at ",
        ))
        .stderr(predicate::str::contains("typo.toml:34:10 (thresholds[1].metric)"));

    let bare = dir.path().join("bare.toml");
    fs::write(&bare, STORM.split("[[thresholds]]").next().unwrap()).unwrap();
    stormsim()
        .args(["check", arg(&bare)])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has no thresholds to check"));
}

#[test]
fn check_runs_as_many_seeds_as_its_confidence_bounds_need() {
    // The shipped example holds `upper95` thresholds: one seed could not give them.
    let output = stormsim()
        .args([
            "check",
            crate::common::repo_path("scenarios/examples/capacity-mmc.toml").to_str().unwrap(),
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["seeds"], serde_json::json!([1, 2, 3, 4, 5]));
    // Without a confidence bound, one seed as before.
    let dir = tempfile::tempdir().unwrap();
    let output = stormsim().args(["check", arg(&scenario(dir.path())), "--json"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["seeds"], serde_json::json!([1]));
}

#[test]
fn check_replicates_over_seeds_and_prints_json() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let run = || {
        let assert = stormsim()
            .args([
                "check",
                arg(&file),
                "--variant",
                "budget",
                "--replications",
                "3",
                "--seed",
                "5",
                "--json",
            ])
            .args(["--threshold", "success_rate >= 50% lower95", "--threshold", "success_rate >= 60%"])
            .assert()
            .code(0);
        assert.get_output().stdout.clone()
    };
    let stdout = run();
    let json: serde_json::Value = serde_json::from_slice(&stdout).expect("only JSON on stdout");
    assert_eq!(json["passed"], true);
    assert_eq!(json["seeds"], serde_json::json!([5, 6, 7]));
    assert_eq!(json["scenario"]["variant"], "budget");
    let thresholds = json["thresholds"].as_array().unwrap();
    let expressions: Vec<&str> = thresholds.iter().map(|t| t["expression"].as_str().unwrap()).collect();
    assert_eq!(
        expressions,
        ["success_rate >= 60%", "amplification < 1.5 sliding 1m", "success_rate >= 50% lower95"],
        "a command-line threshold replaces the file's on the same metric, scope, window and statistic"
    );
    assert_eq!(thresholds[0]["values"].as_array().unwrap().len(), 3);
    let ci = thresholds[2]["ci95"].as_array().unwrap();
    assert_eq!(thresholds[2]["observed"], ci[0], "lower95 is the interval's low end");
    assert_eq!(run(), stdout, "the same seeds give the same verdicts");
}

#[test]
fn compare_finds_the_retry_budget_better() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let out = dir.path().join("cmp");
    let assert = stormsim()
        .args([
            "compare",
            arg(&file),
            "--variants",
            "budget",
            "--replications",
            "3",
            "--out",
            arg(&out),
            "--json",
        ])
        .assert()
        .code(0);
    let json: serde_json::Value =
        serde_json::from_slice(&assert.get_output().stdout).expect("only JSON on stdout");
    assert_eq!(json["seeds"], serde_json::json!([1, 2, 3]));
    let configs: Vec<&str> =
        json["configs"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(configs, ["baseline", "budget"]);
    let metric = |name: &str| {
        json["metrics"].as_array().unwrap().iter().find(|m| m["metric"] == name).unwrap().clone()
    };
    let success = metric("success_rate");
    assert_eq!(success["differences"][0]["verdict"], "better", "{success:#}");
    assert!(success["differences"][0]["difference"]["mean"].as_f64().unwrap() > 0.0);
    let amplification = metric("amplification");
    assert_eq!(amplification["peak"], true);
    assert_eq!(amplification["differences"][0]["verdict"], "better", "{amplification:#}");
    assert_eq!(success["results"][0]["values"].as_array().unwrap().len(), 3);
    // The folder holds the same JSON and the chart.
    let written: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("compare.json")).unwrap()).unwrap();
    assert_eq!(written, json);
    for chart in ["compare.png", "compare.svg"] {
        assert!(fs::metadata(out.join(chart)).unwrap().len() > 1000, "{chart}");
    }
}

#[test]
fn compare_prints_a_table_and_names_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    stormsim()
        .current_dir(dir.path())
        .args(["compare", "storm.toml", "--replications", "2"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("storm · baseline and 2 variants · seeds 1-2"))
        .stdout(
            predicate::str::contains("baseline")
                .and(predicate::str::contains("bigger"))
                .and(predicate::str::contains("budget")),
        )
        .stdout(predicate::str::contains("peak amplification"))
        .stdout(predicate::str::contains("better"))
        .stderr(predicate::str::contains("wrote outputs/storm-compare-seed1"));
    let out = dir.path().join("outputs/storm-compare-seed1");
    let mut written: Vec<String> =
        fs::read_dir(&out).unwrap().map(|entry| entry.unwrap().file_name().into_string().unwrap()).collect();
    written.sort();
    assert_eq!(written, ["compare.json", "compare.png", "compare.svg", "report.html"]);
    // A compare folder may be replaced with --force, like a run folder.
    let again = ["compare", arg(&file), "--replications", "2", "--out", arg(&out)];
    stormsim().args(again).assert().code(2).stderr(predicate::str::contains("--force"));
    // --wide prints each variant's paired difference with its interval.
    stormsim()
        .args(again)
        .args(["--force", "--wide"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Δ ").and(predicate::str::contains("better")));
    stormsim()
        .args(["compare", arg(&file), "--variants", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown variant \"nope\""));
}

#[test]
fn run_and_validate_know_variants() {
    let dir = tempfile::tempdir().unwrap();
    scenario(dir.path());
    stormsim()
        .current_dir(dir.path())
        .args(["run", "storm.toml", "--variant", "budget", "--quiet"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("storm · variant budget · seed 1"));
    let folder = dir.path().join("outputs/storm-budget-seed1");
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(folder.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["scenario"]["variant"], "budget");
    let resolved = fs::read_to_string(folder.join("scenario.resolved.toml")).unwrap();
    assert!(resolved.contains("limiter = \"finagle\""), "the resolved scenario is the merged one");

    stormsim()
        .current_dir(dir.path())
        .args(["validate", "storm.toml"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("2 thresholds, 2 variants: bigger, budget"));
    let broken = dir.path().join("broken.toml");
    fs::write(&broken, STORM.replace("instances = 2", "instances = -2")).unwrap();
    stormsim()
        .args(["validate", arg(&broken)])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("(variants.bigger.services.api.instances)"));
}

/// `stormsim check` on a shipped capacity gate, with a variant or none.
fn check_gate(relative: &str, variant: Option<&str>) -> assert_cmd::assert::Assert {
    let file = crate::common::repo_path(relative);
    let mut command = assert_cmd::Command::cargo_bin("stormsim").unwrap();
    command.arg("check").arg(&file).arg("--quiet");
    if let Some(variant) = variant {
        command.args(["--variant", variant]);
    }
    command.assert()
}

#[test]
fn the_zone_loss_gate_passes_with_n_plus_one_headroom_and_fails_without() {
    let gate = "scenarios/capacity/zone-loss-at-peak.toml";
    check_gate(gate, None).code(0);
    check_gate(gate, Some("no-zone-headroom"))
        .code(1)
        .stdout(predicates::str::contains("✘ success_rate >= 99.9% sliding 10m"));
}

#[test]
fn the_capacity_gate_passes_today_and_fails_the_regressed_release() {
    let check = |variant: Option<&str>| check_gate("scenarios/capacity/monday-peak.toml", variant);
    check(None).code(0);
    check(Some("release-2026-02"))
        .code(1)
        .stdout(predicates::str::contains("✘ success_rate >= 99.9% sliding 10m"));
    check(Some("release-2026-02-scaled")).code(0);
}
