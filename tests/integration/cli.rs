//! The command line as a user drives it: exit codes, run folders, `--json`, refusals.

use crate::common::repo_path;
use assert_cmd::Command;
use predicates::prelude::*;
use std::fs;
use std::path::Path;

/// A small scenario: two minutes of 50/s into one instance with a 10 ms constant cost.
const SMALL: &str = r#"
[simulation]
name = "small"
duration = "2m"
interval = "10s"

[classes.request]

[sources.users]
client = "app"
rate = "50/s"

[clients.app]
target = "api"
timeout = "500ms"

[clients.app.retry]
max_attempts = 2

[services.api]
instances = 2
cores = 1
workers = 4
queue = { capacity = 20 }
cpu = "10ms"
"#;

fn stormsim() -> Command {
    Command::cargo_bin("stormsim").unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn run_writes_a_complete_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "small.toml", SMALL);
    let out = dir.path().join("run");
    stormsim()
        .args(["run", scenario.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains("success rate"))
        .stderr(predicate::str::contains("wrote"));
    for file in ["summary.json", "timeseries.csv", "chart.png", "chart.svg", "scenario.resolved.toml"] {
        let len = fs::metadata(out.join(file)).map(|m| m.len()).unwrap_or(0);
        assert!(len > 0, "{file} missing or empty");
    }
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["schema_version"], 2);
    assert_eq!(summary["partial"], false);
    // 12 intervals of 10 s, each with a total, a class, a service and a client row, plus
    // the header.
    let csv = fs::read_to_string(out.join("timeseries.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 12 * 4);
    // The resolved scenario is itself a valid scenario.
    stormsim().args(["validate", out.join("scenario.resolved.toml").to_str().unwrap()]).assert().success();
}

#[test]
fn json_flag_prints_only_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "small.toml", SMALL);
    let out = dir.path().join("run");
    let assert = stormsim()
        .args(["run", scenario.to_str().unwrap(), "--json", "--quiet", "--out", out.to_str().unwrap()])
        .assert()
        .success();
    let stdout = &assert.get_output().stdout;
    let printed: serde_json::Value = serde_json::from_slice(stdout).expect("stdout is one JSON document");
    let written: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(printed, written);
    assert!(assert.get_output().stderr.is_empty(), "--quiet keeps stderr clean");
}

#[test]
fn same_seed_is_byte_identical_and_another_seed_differs() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = repo_path("scenarios/demo.toml");
    let run = |name: &str, seed: &str| {
        let out = dir.path().join(name);
        stormsim()
            .args([
                "run",
                scenario.to_str().unwrap(),
                "--quiet",
                "--seed",
                seed,
                "--out",
                out.to_str().unwrap(),
            ])
            .assert()
            .success();
        let read = |file: &str| fs::read(out.join(file)).unwrap();
        (read("summary.json"), read("timeseries.csv"))
    };
    let first = run("a", "11");
    let again = run("b", "11");
    let other = run("c", "12");
    assert!(first.0 == again.0, "summary.json differs between two runs with seed 11");
    assert!(first.1 == again.1, "timeseries.csv differs between two runs with seed 11");
    assert!(first.0 != other.0 && first.1 != other.1, "seed 12 gave the same results as seed 11");
}

#[test]
fn an_existing_out_folder_is_kept_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "small.toml", SMALL);
    let out = dir.path().join("run");
    let args = ["run", scenario.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()];
    stormsim().args(args).assert().success();
    let before = fs::read(out.join("summary.json")).unwrap();
    stormsim().args(args).args(["--seed", "9"]).assert().code(2).stderr(predicate::str::contains("--force"));
    assert_eq!(fs::read(out.join("summary.json")).unwrap(), before, "the refused run changed nothing");
    stormsim().args(args).args(["--seed", "9", "--force"]).assert().success();
    assert_ne!(fs::read(out.join("summary.json")).unwrap(), before);
}

#[test]
fn default_folders_never_overwrite_each_other() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "small.toml", SMALL);
    for _ in 0..2 {
        stormsim().current_dir(dir.path()).args(["run", "small.toml", "--quiet"]).assert().success();
    }
    assert!(dir.path().join("outputs/small-seed1/summary.json").is_file());
    assert!(dir.path().join("outputs/small-seed1-2/summary.json").is_file());
}

#[test]
fn a_broken_scenario_exits_2_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let broken = SMALL.replace("cpu = \"10ms\"", "cpu = \"10\"");
    write(dir.path(), "broken.toml", &broken);
    for verb in ["run", "validate"] {
        stormsim()
            .current_dir(dir.path())
            .args([verb, "broken.toml"])
            .assert()
            .code(2)
            .stderr(predicate::str::starts_with("error:").and(predicate::str::contains("broken.toml:25:")))
            .stdout(predicate::str::is_empty());
    }
    assert!(!dir.path().join("outputs").exists(), "nothing written for a broken scenario");
}

#[test]
fn validate_accepts_every_shipped_scenario() {
    let mut files = Vec::new();
    let folders = [
        "scenarios",
        "scenarios/validation",
        "scenarios/bench",
        "scenarios/examples",
        "scenarios/incidents",
        "scenarios/capacity",
    ];
    for folder in folders {
        for entry in fs::read_dir(repo_path(folder)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|ext| ext == "toml") {
                files.push(path);
            }
        }
    }
    assert!(files.len() >= 25);
    stormsim().arg("validate").args(&files).assert().success().stdout(predicate::str::contains("ok:"));
}

#[test]
fn print_config_writes_every_default_and_loads_back() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "small.toml", SMALL);
    let assert =
        stormsim().args(["validate", "--print-config", scenario.to_str().unwrap()]).assert().success();
    let resolved = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    for default in ["seed = 1", "balancer = \"round_robin\"", "jitter = \"full\"", "max_in_flight = 2000000"]
    {
        assert!(resolved.contains(default), "{default} missing from:\n{resolved}");
    }
    let again = write(dir.path(), "resolved.toml", &resolved);
    stormsim().args(["validate", again.to_str().unwrap()]).assert().success();
}

#[test]
fn a_runaway_stops_at_its_guard_and_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    let runaway = SMALL
        .replace("queue = { capacity = 20 }", "")
        .replace("rate = \"50/s\"", "rate = \"500/s\"")
        .replace("[classes.request]", "[guard]\nmax_in_flight = 2000\n\n[classes.request]");
    let scenario = write(dir.path(), "runaway.toml", &runaway);
    let out = dir.path().join("run");
    stormsim()
        .args(["run", scenario.to_str().unwrap(), "--out", out.to_str().unwrap()])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("guard.max_in_flight"));
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["partial"], true);
}

#[test]
fn usage_errors_exit_2() {
    stormsim().arg("frobnicate").assert().code(2);
    stormsim().args(["run"]).assert().code(2);
    stormsim()
        .args(["run", "does-not-exist.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does-not-exist.toml"));
}

#[test]
fn small_summary_is_pinned() {
    // A fixed-seed run pins the generator streams and the model: any change to either
    // shows up here and must be deliberate (it changes every published result).
    let dir = tempfile::tempdir().unwrap();
    let scenario = write(dir.path(), "small.toml", SMALL);
    let out = dir.path().join("run");
    stormsim()
        .args(["run", scenario.to_str().unwrap(), "--quiet", "--out", out.to_str().unwrap()])
        .assert()
        .success();
    let summary: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("summary.json")).unwrap()).unwrap();
    insta::assert_json_snapshot!(summary, { ".stormsim_version" => "[version]" });
}

#[test]
fn every_output_names_the_scenario_by_one_hash() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{SMALL}\n[variants.more.services.api]\ninstances = 3\n\n[[thresholds]]\nmetric = \"success_rate\"\ncomparison = \">=\"\nvalue = \"50%\"\n"
    );
    let file = write(dir.path(), "hashed.toml", &text);
    let file = file.to_str().unwrap();
    let json_of = |args: &[&str]| -> serde_json::Value {
        let output = stormsim().current_dir(dir.path()).args(args).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let summary = json_of(&["run", file, "--json", "--quiet", "--out", "run"]);
    let hash = summary["scenario"]["hash"].as_str().unwrap().to_owned();
    assert_eq!(hash.len(), 16, "{hash}");
    assert_eq!(json_of(&["check", file, "--json", "--quiet"])["scenario"]["hash"], hash.as_str());
    let sweep = json_of(&[
        "sweep",
        file,
        "--param",
        "services.api.workers=4,5",
        "--replications",
        "1",
        "--json",
        "--quiet",
    ]);
    assert_eq!(sweep["scenario"]["hash"], hash.as_str());
    let compare = json_of(&["compare", file, "--replications", "1", "--json", "--quiet"]);
    assert_eq!(compare["configs"][0]["hash"], hash.as_str());
    // A variant is another input, with its own hash, the same in every output.
    let variant = json_of(&["run", file, "--variant", "more", "--json", "--quiet", "--out", "more"]);
    assert_ne!(variant["scenario"]["hash"], hash.as_str());
    assert_eq!(compare["configs"][1]["hash"], variant["scenario"]["hash"]);
}

#[test]
fn completions_load_in_bash_and_the_man_page_names_every_verb() {
    let script = stormsim().args(["completions", "bash"]).assert().success().get_output().stdout.clone();
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "stormsim.bash", &String::from_utf8(script).unwrap());
    // Sourced by bash, the script registers a completion for stormsim that offers the verbs.
    let probe = format!(
        "source {}; COMP_WORDS=(stormsim ca); COMP_CWORD=1; _stormsim stormsim ca stormsim; echo \"${{COMPREPLY[@]}}\"",
        path.display()
    );
    let output = std::process::Command::new("bash").args(["-c", &probe]).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout).trim(), "capacity");
    for shell in ["zsh", "fish", "powershell"] {
        stormsim()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("stormsim"));
    }
    stormsim()
        .args(["completions", "tcsh"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("possible values"));

    let man = stormsim().arg("man").assert().success().get_output().stdout.clone();
    let man = String::from_utf8(man).unwrap();
    assert!(man.starts_with(".ie") && man.contains(".TH stormsim 1"), "{}", &man[..200.min(man.len())]);
    for verb in ["run", "validate", "check", "compare", "sweep", "capacity", "merge", "completions", "man"] {
        assert!(
            man.contains(&format!("stormsim\\-{verb}")) || man.contains(&format!("\n{verb}\n")),
            "{verb}"
        );
    }
}

#[test]
fn version_names_the_release() {
    let output = stormsim().arg("--version").assert().success().get_output().stdout.clone();
    let text = String::from_utf8(output).unwrap();
    assert!(text.starts_with(&format!("stormsim {}", env!("CARGO_PKG_VERSION"))), "{text}");
    // Built from a git checkout, it names the commit.
    let checkout = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|output| output.status.success());
    if let Some(head) = checkout {
        let head = String::from_utf8(head.stdout).unwrap();
        assert!(text.contains(&format!("({})", head.trim())) || !text.contains('('), "{text}");
    }
}
