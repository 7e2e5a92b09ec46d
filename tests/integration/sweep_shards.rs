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
                threads: Some(threads as u64),
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

/// A script of `deploy/slurm/` run by bash with the variables submit.sh exports, as a Slurm
/// task would run it (no other Slurm variable leaks in from the test's environment).
fn slurm_script(script: &str, file: &Path, results: &Path) -> std::process::Command {
    let mut command = std::process::Command::new("bash");
    command
        .arg(common_path(&format!("deploy/slurm/{script}")))
        .env("STORMSIM", env!("CARGO_BIN_EXE_stormsim"))
        .env("SCENARIO", file)
        .env("RESULTS", results)
        .env("SHARDS", "2")
        .env("SUBMIT", "/opt/stormsim/submit.sh")
        .env_remove("JOB_COMPLETION_INDEX")
        .env_remove("SLURM_CPUS_PER_TASK");
    command
}

/// Issue 20: a failed task leaves the merge naming it with the command that reruns it, and
/// the rerun (an array of that one task) writes the right shard.
#[test]
fn r20_the_slurm_scripts_merge_name_a_missing_shard_and_a_rerun_completes_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), SMALL);
    let whole = dir.path().join("whole");
    stormsim().args(["sweep", arg(&file), "--quiet", "--out", arg(&whole)]).assert().code(0);
    let results = dir.path().join("results");
    let task = |id: &str, count: &str| {
        let output = slurm_script("sweep.sbatch", &file, &results)
            .env("SLURM_ARRAY_TASK_ID", id)
            .env("SLURM_ARRAY_TASK_MIN", id)
            .env("SLURM_ARRAY_TASK_COUNT", count)
            .env("SLURM_CPUS_PER_TASK", "1")
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stderr).unwrap()
    };
    let merge = || slurm_script("merge.sbatch", &file, &results).output().unwrap();
    // Task 0 of the array 0-1 ran; task 1 failed. An old sweep/ sits in the folder.
    let stderr = task("0", "2");
    assert!(stderr.contains("(shard 0/2, 2 jobs on 1 thread)"), "{stderr}");
    fs::create_dir_all(results.join("sweep")).unwrap();
    let failed = merge();
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("error: missing shard 1 of 2"), "{stderr}");
    assert!(
        stderr.contains(&format!("  /opt/stormsim/submit.sh --rerun 1 {}\n", results.display())),
        "{stderr}"
    );
    assert!(!results.join("sweep").exists(), "no sweep/ that looks current");
    // Shard 0 cut short by its time limit (stormsim writes what finished, marked interrupted).
    let shard_0 = results.join("shard-0.json");
    let whole_0 = fs::read_to_string(&shard_0).unwrap();
    let at = whole_0.rfind(",\"threads\":").unwrap();
    fs::write(&shard_0, format!("{},\"interrupted\":true{}", &whole_0[..at], &whole_0[at..])).unwrap();
    let failed = merge();
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert!(stderr.contains("shard 0 of 2 is the partial result of an interrupted run"), "{stderr}");
    assert!(stderr.contains("shards without a whole result: 0,1 (of 2)"), "{stderr}");
    assert!(stderr.contains("submit.sh --rerun 0,1 "), "{stderr}");
    // Each rerun is an array of one task (`submit.sh --rerun 1` submits `--array=1`), which
    // still computes its own shard of 2, not the whole sweep.
    task("0", "1");
    task("1", "1");
    let merged = merge();
    assert!(merged.status.success(), "{}", String::from_utf8_lossy(&merged.stderr));
    assert_eq!(folder(&results.join("sweep")), folder(&whole));
    // A binary the nodes cannot see is named.
    let output = slurm_script("sweep.sbatch", &file, &results)
        .env("STORMSIM", dir.path().join("nowhere/stormsim"))
        .env("SLURM_ARRAY_TASK_ID", "0")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&output.stderr).contains("set STORMSIM to its path"));
}

/// A folder on the PATH with an `sbatch` that records its arguments and answers job ids,
/// and an `sinfo` that describes one partition `debug` of 2-CPU nodes with 4000 MB and 2 h.
fn fake_slurm(dir: &Path) -> (PathBuf, PathBuf) {
    let bin = dir.join("fake-slurm");
    fs::create_dir_all(&bin).unwrap();
    let log = dir.join("sbatch.log");
    let sbatch = format!(
        "#!/bin/sh\necho \"$*\" >> {}\nn=$(wc -l < {})\necho $((100 + n))\n",
        log.display(),
        log.display()
    );
    let sinfo = "#!/bin/sh\ncase \"$*\" in\n*%P*) echo 'debug*'; echo long ;;\n*%c*) echo '2 4000'; echo '1 4000' ;;\n*%l*) echo '2:00:00' ;;\nesac\n";
    for (name, text) in [("sbatch", sbatch.as_str()), ("sinfo", sinfo)] {
        fs::write(bin.join(name), text).unwrap();
        std::process::Command::new("chmod").arg("+x").arg(bin.join(name)).status().unwrap();
    }
    (bin, log)
}

#[test]
fn r20_submit_fits_the_partition_records_the_submission_and_reruns_a_shard() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), SMALL);
    let (bin, log) = fake_slurm(dir.path());
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let results = dir.path().join("results");
    let submit = |args: &[&str]| {
        std::process::Command::new("bash")
            .arg(common_path("deploy/slurm/submit.sh"))
            .args(args)
            .env("PATH", &path)
            .env("STORMSIM", env!("CARGO_BIN_EXE_stormsim"))
            .env_remove("RESULTS")
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let refused = |args: &[&str], expected: &str| {
        let output = submit(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!log.exists(), "{args:?} submitted nothing");
    };
    let out = arg(&results);
    refused(&["--cpus", "4", "--results", out, arg(&file), "2"], "ask for --cpus 2 or fewer");
    refused(&["--mem", "8G", "--results", out, arg(&file), "2"], "ask for --mem 4000M or less");
    refused(&["--time", "1-0", "--results", out, arg(&file), "2"], "ask for --time 2:00:00 or less");
    refused(&["--time", "soon", arg(&file)], "expected a Slurm time");
    refused(&["--results", out, arg(&file), "2", "--param", "services.api.nope=1"], "nothing was submitted");

    let output =
        submit(&["--cpus", "2", "--mem", "1G", "--results", out, arg(&file), "2", "--replications", "3"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("array job 101: shards 0-1 of 2"), "{stdout}");
    assert!(stdout.contains("merge job 102: runs after the array, whatever its outcome"), "{stdout}");
    let calls = fs::read_to_string(&log).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert!(
        calls[0].starts_with("--parsable --array=0-1 --cpus-per-task=2 --time=1:00:00 --mem=1G "),
        "{}",
        calls[0]
    );
    assert!(calls[0].ends_with("/deploy/slurm/sweep.sbatch --replications 3"), "{}", calls[0]);
    assert!(calls[1].starts_with("--parsable --dependency=afterany:101 "), "{}", calls[1]);
    // A results folder holding that sweep is not reused by accident.
    let again = submit(&["--results", out, arg(&file), "2"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("holds an earlier sweep; pass --force"));
    // The rerun submits shard 1 alone, with the recorded flags, and a merge after it.
    let output = submit(&["--time", "30", "--rerun", "1", out]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let calls = fs::read_to_string(&log).unwrap();
    let calls: Vec<&str> = calls.lines().collect();
    assert!(
        calls[2].starts_with("--parsable --array=1 --cpus-per-task=2 --time=30 --mem=1G "),
        "{}",
        calls[2]
    );
    assert!(calls[2].ends_with("/deploy/slurm/sweep.sbatch --replications 3"), "{}", calls[2]);
    assert!(calls[3].starts_with("--parsable --dependency=afterany:103 "), "{}", calls[3]);
    let output = submit(&["--rerun", "2", out]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("there is no shard 2; shards are 0 to 1"));
    let missing = std::process::Command::new("bash")
        .arg(common_path("deploy/slurm/submit.sh"))
        .arg(arg(&file))
        .env("PATH", &path)
        .env("STORMSIM", dir.path().join("nowhere"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&missing.stderr).contains("set STORMSIM to its path"));
}

/// The shell script a manifest's container runs: the block under `args: - |`.
fn container_script(manifest: &str) -> String {
    let mut lines = manifest.lines().skip_while(|line| line.trim() != "- |");
    let marker = lines.next().expect("an args block");
    let indent = marker.len() - marker.trim_start().len();
    lines
        .take_while(|line| line.trim().is_empty() || line.len() - line.trim_start().len() > indent)
        .map(|line| line.get(indent + 2..).unwrap_or("").to_string() + "\n")
        .collect()
}

#[test]
fn the_indexed_job_runs_one_shard_per_index_and_the_merge_job_names_missing_ones() {
    let manifest = fs::read_to_string(common_path("deploy/kubernetes/sweep-job.yaml")).unwrap();
    let merge_manifest = fs::read_to_string(common_path("deploy/kubernetes/merge-job.yaml")).unwrap();
    assert!(manifest.contains("completionMode: Indexed"));
    let value_after = |manifest: &str, key: &str| -> String {
        let start = manifest.find(key).unwrap() + key.len();
        let line = manifest[start..].lines().next().unwrap();
        line.split('#').next().unwrap().trim().trim_matches('"').to_string()
    };
    let completions = value_after(&manifest, "completions:");
    let shards = value_after(&manifest, "name: STORMSIM_SHARDS\n              value:");
    assert_eq!(completions, shards, "STORMSIM_SHARDS must equal completions");
    assert_eq!(value_after(&merge_manifest, "name: STORMSIM_SHARDS\n              value:"), shards);
    // Requests equal limits in whole CPUs: the threads stormsim starts are the CPUs it asked for.
    let resources = |key: &str| value_after(&manifest, key);
    assert_eq!(resources("requests:"), resources("limits:"));
    assert!(resources("limits:").contains("cpu: \"2\""), "{}", resources("limits:"));
    let count: u64 = shards.parse().unwrap();

    // Run each pod's command as Kubernetes would, with the volumes replaced by folders.
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path(), SMALL);
    let whole = dir.path().join("whole");
    stormsim().args(["sweep", arg(&file), "--quiet", "--out", arg(&whole)]).assert().code(0);
    let results = dir.path().join("results");
    fs::create_dir_all(&results).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_stormsim")).parent().unwrap().to_path_buf();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let pod = |script: &str, index: Option<u64>| {
        let script = script.replace("/scenario/scenario.toml", arg(&file)).replace("/results", arg(&results));
        let mut command = std::process::Command::new("sh");
        command
            .args(["-c", &script])
            .env("PATH", &path)
            .env("STORMSIM_SHARDS", &shards)
            .env_remove("SLURM_ARRAY_TASK_ID")
            .env_remove("SLURM_CPUS_PER_TASK");
        if let Some(index) = index {
            command.env("JOB_COMPLETION_INDEX", index.to_string());
        }
        command.output().unwrap()
    };
    let (sweep, merge) = (container_script(&manifest), container_script(&merge_manifest));
    // Index 3 failed for good.
    for index in (0..count).filter(|index| *index != 3) {
        assert!(pod(&sweep, Some(index)).status.success());
    }
    let failed = pod(&merge, None);
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("missing shard 3 of {count}")), "{stderr}");
    assert!(stderr.contains("shards without a whole result: 3 (of"), "{stderr}");
    assert!(!results.join("sweep").exists());
    // The Job applied again: whole shards finish at once, shard 3 runs.
    for index in 0..count {
        let output = pod(&sweep, Some(index));
        assert!(output.status.success());
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(stdout.contains("is already whole"), index != 3, "{index}: {stdout}");
    }
    let merged = pod(&merge, None);
    assert!(merged.status.success(), "{}", String::from_utf8_lossy(&merged.stderr));
    assert_eq!(folder(&results.join("sweep")), folder(&whole));
}
