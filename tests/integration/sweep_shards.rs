//! `stormsim sweep`, `capacity`, sharding and `merge`: grids and their outputs, located
//! errors, a capacity search with a known answer, and sharded runs that merge into exactly
//! the unsharded results, whatever the shard or thread count.

use assert_cmd::Command;
use clap::Parser;
use predicates::prelude::*;
use proptest::prelude::*;
use std::fs;
use std::path::{Path, PathBuf};
use stormsim::app::Runner;
use stormsim::cli::{Cli, Command as Verb, sweep};
use stormsim::shard::{self, SCHEMA_VERSION, ShardFile, ShardSpec};

/// Twenty seconds of a small service: cheap enough for many grid points.
const SMALL: &str = r#"
[simulation]
name = "small"
duration = "20s"
interval = "5s"

[classes.request]

[sources.users]
client = "app"
rate = "40/s"

[clients.app]
target = "api"
timeout = "200ms"

[services.api]
instances = 1
cores = 1
cpu = { dist = "exponential", mean = "25ms" }

[[thresholds]]
metric = "success_rate"
comparison = ">="
value = "95%"

[variants.bigger.services.api]
instances = 2

[sweep]
"services.api.instances" = [1, 2]
replications = 2
metric = "success_rate"
"#;

fn stormsim() -> Command {
    Command::cargo_bin("stormsim").unwrap()
}

fn scenario(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("small.toml");
    fs::write(&path, text).unwrap();
    path
}

fn arg(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn sweep_args(args: &[&str]) -> sweep::SweepArgs {
    let mut all = vec!["stormsim", "sweep"];
    all.extend_from_slice(args);
    match Cli::try_parse_from(all).unwrap().command {
        Verb::Sweep(args) => args,
        _ => unreachable!("parsed a sweep"),
    }
}

/// `sweep.csv` and `sweep.json` of a prepared sweep, run whole or as `shards` merged, on a
/// rayon pool of `threads`.
fn rendered(prepared: &sweep::Prepared, shards: u64, threads: usize) -> (String, String) {
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let fingerprint = prepared.fingerprint();
    let configs: Vec<_> = prepared.points.iter().collect();
    let files: Vec<(String, ShardFile)> = (0..shards)
        .map(|index| {
            let spec = ShardSpec::new(index, shards).unwrap();
            let jobs = pool
                .install(|| Runner::new(true).run_matrix(&configs, &fingerprint.seeds, Some(spec), false))
                .unwrap();
            let file = ShardFile {
                schema_version: SCHEMA_VERSION,
                fingerprint: fingerprint.clone(),
                shard: spec,
                jobs,
                interrupted: false,
            };
            // Through the file format, as `merge` reads it.
            let json = file.to_json().unwrap();
            (format!("shard-{index}"), serde_json::from_str(&json).unwrap())
        })
        .rev()
        .collect();
    let (merged, jobs) = shard::merge(files).unwrap();
    let stormsim::shard::Purpose::Sweep { axes, metric } = &merged.purpose else {
        panic!("a sweep's shards")
    };
    let sweep = stormsim::sweep::Sweep::from_fingerprint(&merged, axes, metric, &prepared.sweep.scenario)
        .unwrap()
        .with_thresholds(&prepared.base.thresholds);
    assert_eq!(sweep, prepared.sweep);
    let runs: Vec<_> = jobs.iter().map(|job| stormsim::sweep::metric_values(&job.summary)).collect();
    stormsim::app::deliver::sweep_files(&sweep, &runs).unwrap()
}

fn unsharded(prepared: &sweep::Prepared) -> (String, String) {
    let configs: Vec<_> = prepared.points.iter().collect();
    let jobs = Runner::new(true).run_matrix(&configs, &prepared.sweep.seeds, None, false).unwrap();
    let runs: Vec<_> = jobs.iter().map(|job| stormsim::sweep::metric_values(&job.summary)).collect();
    stormsim::app::deliver::sweep_files(&prepared.sweep, &runs).unwrap()
}

#[test]
fn a_sweep_writes_its_csv_json_and_chart() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), SMALL);
    let out = dir.path().join("out");
    stormsim()
        .args(["sweep", arg(&file), "--param", "clients.app.timeout=100ms,1s", "--out", arg(&out)])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("success_rate over 4 points x 2 seeds\n"))
        .stdout(predicate::str::contains("services.api.instances=2 clients.app.timeout=1s  "));
    let csv = fs::read_to_string(out.join("sweep.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 4 * 2, "{csv}");
    assert!(
        lines[0].starts_with("services.api.instances,clients.app.timeout,seed,success_rate,goodput,"),
        "{csv}"
    );
    assert!(lines[1].starts_with("1,100ms,1,") && lines[8].starts_with("2,1s,2,"), "{csv}");
    assert!(!lines[0].contains("slo.time_to_recover"), "a metric no run has is left out: {}", lines[0]);
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(json["points"].as_array().unwrap().len(), 4);
    assert_eq!(json["points"][3]["parameters"]["clients.app.timeout"], "1s");
    assert_eq!(json["points"][3]["runs"].as_array().unwrap().len(), 2);
    let summary = &json["points"][0]["summary"]["success_rate"];
    assert!(summary["mean"].as_f64().unwrap() < 0.9 && summary["ci95"].is_array(), "{summary}");
    assert!(fs::metadata(out.join("sweep.png")).unwrap().len() > 1000);
    assert!(fs::read_to_string(out.join("sweep.svg")).unwrap().contains("success_rate"));
    // A second sweep into the same folder needs --force.
    stormsim().args(["sweep", arg(&file), "--out", arg(&out), "--quiet"]).assert().code(2);
    stormsim().args(["sweep", arg(&file), "--out", arg(&out), "--force", "--quiet"]).assert().code(0);
}

#[test]
fn bad_paths_and_values_are_located_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), SMALL);
    stormsim()
        .args(["sweep", arg(&file), "--param", "services.api.instances=2,four"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "error: invalid type: string \"four\" at --param:1:26 (services.api.instances)",
        ));
    stormsim()
        .args(["sweep", arg(&file), "--param", "services.apu.instances=2"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("error: the scenario has no \"services.apu\" at --param:1:1"))
        .stderr(predicate::str::contains("expected one of \"api\""));
    let broken = scenario(dir.path(), &SMALL.replace("= [1, 2]", "= [1, 0]"));
    stormsim()
        .args(["sweep", arg(&broken)])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("small.toml:31:32 (services.api.instances)"))
        .stderr(predicate::str::contains("services.api.instances"));
    let broken = scenario(
        dir.path(),
        &SMALL.replace(
            "replications = 2\nmetric = \"success_rate\"",
            "replications = 2\nmetric = \"sucess_rate\"",
        ),
    );
    stormsim()
        .args(["sweep", arg(&broken)])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "error: unknown metric \"sucess_rate\" (did you mean \"success_rate\"?) at ",
        ))
        .stderr(predicate::str::contains("small.toml:33:10 (sweep.metric)"));
}

#[test]
fn a_sweep_is_the_same_on_one_or_two_threads_and_one_or_three_shards() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), SMALL);
    let prepared =
        sweep::prepare(&sweep_args(&[arg(&file), "--param", "clients.app.timeout=100ms,1s"])).unwrap();
    let whole = unsharded(&prepared);
    assert_eq!(rendered(&prepared, 1, 1), whole);
    assert_eq!(rendered(&prepared, 1, 2), whole);
    assert_eq!(rendered(&prepared, 3, 1), whole);
    assert_eq!(rendered(&prepared, 3, 2), whole);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    /// For small random grids, seeds and shard counts, merged shards equal one unsharded run
    /// byte for byte.
    #[test]
    fn merged_shards_equal_an_unsharded_sweep(
        instances in proptest::sample::subsequence(vec![1u32, 2, 3], 1..=3),
        timeouts in proptest::sample::subsequence(vec!["50ms", "150ms", "1s"], 0..=2),
        replications in 1u64..=3,
        seed in 1u64..1000,
        shards in 1u64..=4,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let file = scenario(dir.path(), SMALL);
        let instances = format!("services.api.instances={}", instances.iter().map(u32::to_string).collect::<Vec<_>>().join(","));
        let replications = replications.to_string();
        let seed = seed.to_string();
        let mut args = vec![arg(&file), "--param", instances.as_str(), "--replications", replications.as_str(), "--seed", seed.as_str()];
        let timeouts = format!("clients.app.timeout={}", timeouts.join(","));
        if timeouts.len() > "clients.app.timeout=".len() {
            args.extend(["--param", timeouts.as_str()]);
        }
        let prepared = sweep::prepare(&sweep_args(&args)).unwrap();
        prop_assert_eq!(rendered(&prepared, shards, 2), unsharded(&prepared));
    }
}

/// The files of a folder, by name. A report is kept up to where it names its presentation
/// (the scenario's notes, the command line), which differs between `merge` and the verb.
fn folder(path: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = fs::read_dir(path)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            let mut bytes = fs::read(entry.path()).unwrap();
            if name == "report.html" {
                let text = String::from_utf8(bytes).unwrap();
                let end = ["<h2>The scenario's assumptions</h2>", "<h2>Reproduce</h2>"]
                    .iter()
                    .filter_map(|heading| text.find(heading))
                    .min()
                    .expect("a report names its presentation");
                bytes = text.as_bytes()[..end].to_vec();
            }
            (name, bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn sharded_sweeps_merge_into_the_unsharded_folder_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), SMALL);
    let whole = dir.path().join("whole");
    stormsim().args(["sweep", arg(&file), "--quiet", "--out", arg(&whole)]).assert().code(0);
    stormsim()
        .args(["sweep", arg(&file), "--shard", "1/2", "--plan"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("2 configurations x 2 seeds = 4 jobs over 2 shards"))
        .stdout(predicate::str::contains("3\t1/2 *\t2\tservices.api.instances=2\n"));
    let shard = |index: u64| dir.path().join(format!("shard-{index}.json"));
    for index in 0..2 {
        stormsim()
            .args([
                "sweep",
                arg(&file),
                "--quiet",
                "--shard",
                &format!("{index}/2"),
                "--shard-file",
                arg(&shard(index)),
            ])
            .assert()
            .code(0);
    }
    // The Kubernetes way: the index from JOB_COMPLETION_INDEX, the count from STORMSIM_SHARDS.
    let from_env = dir.path().join("from-env.json");
    stormsim()
        .args(["sweep", arg(&file), "--quiet", "--shard-file", arg(&from_env)])
        .env("JOB_COMPLETION_INDEX", "1")
        .env("STORMSIM_SHARDS", "2")
        .assert()
        .code(0);
    assert_eq!(fs::read(&from_env).unwrap(), fs::read(shard(1)).unwrap());

    stormsim().args(["merge", arg(&shard(0))]).assert().code(2).stderr("error: missing shard 1 of 2\n");
    stormsim()
        .args(["merge", arg(&shard(0)), arg(&shard(0))])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("shard 0/2 is given twice"));
    let other = dir.path().join("other.json");
    let other_scenario = scenario(dir.path(), &SMALL.replace("40/s", "41/s"));
    stormsim()
        .args(["sweep", arg(&other_scenario), "--quiet", "--shard", "1/2", "--shard-file", arg(&other)])
        .assert()
        .code(0);
    stormsim().args(["merge", arg(&shard(0)), arg(&other)]).assert().code(2).stderr(
        predicate::str::contains("does not belong with").and(predicate::str::contains("scenario hash")),
    );

    let merged = dir.path().join("merged");
    stormsim()
        .args(["merge", arg(&shard(1)), arg(&shard(0)), "--quiet", "--out", arg(&merged)])
        .assert()
        .code(0);
    assert_eq!(folder(&merged), folder(&whole));
}

#[test]
fn sharded_check_and_compare_merge_into_the_unsharded_results() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), SMALL);
    let whole = stormsim().args(["check", arg(&file), "--replications", "3", "--json"]).assert().code(1);
    for index in 0..2 {
        stormsim()
            .args(["check", arg(&file), "--replications", "3", "--quiet", "--shard", &format!("{index}/2")])
            .args(["--shard-file", arg(&dir.path().join(format!("check-{index}.json")))])
            .assert()
            .code(0);
    }
    let merged = stormsim()
        .args([
            "merge",
            arg(&dir.path().join("check-0.json")),
            arg(&dir.path().join("check-1.json")),
            "--json",
        ])
        .assert()
        .code(1);
    assert_eq!(merged.get_output().stdout, whole.get_output().stdout);

    let whole_out = dir.path().join("compare-whole");
    stormsim()
        .args(["compare", arg(&file), "--replications", "2", "--quiet", "--out", arg(&whole_out)])
        .assert()
        .code(0);
    for index in 0..3 {
        stormsim()
            .args(["compare", arg(&file), "--replications", "2", "--quiet", "--shard", &format!("{index}/3")])
            .args(["--shard-file", arg(&dir.path().join(format!("compare-{index}.json")))])
            .assert()
            .code(0);
    }
    let merged_out = dir.path().join("compare-merged");
    stormsim()
        .arg("merge")
        .args((0..3).map(|index| dir.path().join(format!("compare-{index}.json"))))
        .args(["--quiet", "--out", arg(&merged_out)])
        .assert()
        .code(0);
    assert_eq!(folder(&merged_out), folder(&whole_out));
}

#[test]
fn capacity_finds_the_erlang_c_crossing_of_an_mmc_queue() {
    use stormsim::theory::mmc_wait;
    // lambda 50/s, mu 10/s, target 30 ms: far from both neighbours relative to the noise.
    let target = 0.030;
    assert!(mmc_wait(50.0, 10.0, 6).unwrap() > 1.9 * target);
    assert!(mmc_wait(50.0, 10.0, 7).unwrap() < 0.6 * target);
    let file = common_path("scenarios/examples/capacity-mmc.toml");
    stormsim()
        .args(["capacity", arg(&file), "--param", "services.backend.cores", "--range", "6..16", "--quiet"])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("services.backend.cores = 7: the smallest value in 6..16"))
        .stdout(predicate::str::contains("fails at 6: queue_wait.mean{service=backend} < 30ms upper95"));
    let assert = stormsim()
        .args([
            "capacity",
            arg(&file),
            "--param",
            "services.backend.cores",
            "--range",
            "2..5",
            "--json",
            "--quiet",
        ])
        .assert()
        .code(1);
    let json: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    assert_eq!((json["found"].as_bool(), json["probes"].as_array().unwrap().len()), (Some(false), 1));
    stormsim()
        .args(["capacity", arg(&file), "--param", "services.backend.coers", "--range", "6..16"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "error: unknown key \"coers\" (did you mean \"cores\"?) at --param:1:1",
        ));
    stormsim()
        .args(["capacity", arg(&file), "--param", "services.backend.cores", "--range", "7..6"])
        .assert()
        .code(2);
}

#[test]
fn capacity_finds_the_largest_multiplier_below_the_erlang_c_crossing() {
    use stormsim::theory::mmc_wait;
    // With 8 cores, a CPU multiplier m makes mu = 10/m; find m* where Wq = 30 ms.
    let (mut low, mut high) = (0.5, 1.6);
    for _ in 0..60 {
        let mid = (low + high) / 2.0;
        if mmc_wait(50.0, 10.0 / mid, 8).is_some_and(|wait| wait < 0.030) { low = mid } else { high = mid }
    }
    let file = common_path("scenarios/examples/capacity-mmc.toml");
    let assert = stormsim()
        .args(["capacity", arg(&file), "--param", "services.backend.cpu_multiplier", "--range", "0.5..2"])
        .args(["--maximize", "--tolerance", "0.02", "--json", "--quiet"])
        .assert()
        .code(0);
    let json: serde_json::Value = serde_json::from_slice(&assert.get_output().stdout).unwrap();
    let answer = json["answer"].as_f64().unwrap();
    let failing = json["failing_neighbour"].as_f64().unwrap();
    assert!(failing - answer <= 0.02 && failing > answer, "{json}");
    assert!((answer - low).abs() < 0.08, "answer {answer}, Erlang C crossing {low}");
}

fn common_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

#[test]
fn the_slurm_scripts_run_a_sharded_sweep_and_merge_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), SMALL);
    let whole = dir.path().join("whole");
    stormsim().args(["sweep", arg(&file), "--quiet", "--out", arg(&whole)]).assert().code(0);
    let results = dir.path().join("results");
    let run = |script: &str, task: Option<u32>| {
        let mut command = std::process::Command::new("bash");
        command
            .arg(common_path(&format!("deploy/slurm/{script}")))
            .env("STORMSIM", env!("CARGO_BIN_EXE_stormsim"))
            .env("SCENARIO", &file)
            .env("RESULTS", &results)
            .env_remove("JOB_COMPLETION_INDEX");
        if let Some(task) = task {
            // An array submitted as --array=3-4: task ids start at 3.
            command.env("SLURM_ARRAY_TASK_ID", (task + 3).to_string()).env("SLURM_ARRAY_TASK_MIN", "3");
            command.env("SLURM_ARRAY_TASK_COUNT", "2");
        }
        let status = command.status().unwrap();
        assert!(status.success(), "{script} {task:?}");
    };
    run("sweep.sbatch", Some(1));
    run("sweep.sbatch", Some(0));
    run("merge.sbatch", None);
    assert_eq!(folder(&results.join("sweep")), folder(&whole));
}

#[test]
fn the_indexed_job_runs_one_shard_per_index() {
    let manifest = fs::read_to_string(common_path("deploy/kubernetes/sweep-job.yaml")).unwrap();
    assert!(manifest.contains("completionMode: Indexed"));
    let value_after = |key: &str| -> String {
        let start = manifest.find(key).unwrap() + key.len();
        manifest[start..]
            .lines()
            .next()
            .unwrap()
            .trim()
            .trim_matches('"')
            .split_whitespace()
            .next()
            .unwrap()
            .trim_matches('"')
            .to_string()
    };
    let completions = value_after("completions:");
    let shards = {
        let at = manifest.find("name: STORMSIM_SHARDS").unwrap();
        let rest = &manifest[at..];
        let start = rest.find("value:").unwrap() + "value:".len();
        rest[start..].lines().next().unwrap().split('#').next().unwrap().trim().trim_matches('"').to_string()
    };
    assert_eq!(completions, shards, "STORMSIM_SHARDS must equal completions");
    let count: u64 = shards.parse().unwrap();
    let command = manifest
        .lines()
        .find(|line| line.trim_start().starts_with("- stormsim sweep"))
        .unwrap()
        .trim_start()
        .trim_start_matches("- ")
        .to_string();
    // Run each pod's command as Kubernetes would, with the volumes replaced by folders.
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), SMALL);
    let whole = dir.path().join("whole");
    stormsim().args(["sweep", arg(&file), "--quiet", "--out", arg(&whole)]).assert().code(0);
    let results = dir.path().join("results");
    fs::create_dir_all(&results).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_stormsim")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let command = command.replace("/scenario/scenario.toml", arg(&file)).replace("/results", arg(&results));
    for index in 0..count {
        let status = std::process::Command::new("sh")
            .args(["-c", &command])
            .env("PATH", &path)
            .env("JOB_COMPLETION_INDEX", index.to_string())
            .env("STORMSIM_SHARDS", &shards)
            .env_remove("SLURM_ARRAY_TASK_ID")
            .status()
            .unwrap();
        assert!(status.success());
    }
    let merged = dir.path().join("merged");
    stormsim()
        .arg("merge")
        .args((0..count).map(|index| results.join(format!("shard-{index}.json"))))
        .args(["--quiet", "--out", arg(&merged)])
        .assert()
        .code(0);
    assert_eq!(folder(&merged), folder(&whole));
}
