//! The HTML reports as a reader opens them: one self-contained file per run, comparison,
//! sweep and check, with the scenario's notes, the command and the resolved scenario.

use assert_cmd::Command;
use std::fs;
use std::path::{Path, PathBuf};

/// Two minutes of 50/s into two single-core instances, with notes and a variant.
const NOTED: &str = r#"# A small service for the report tests.
#
# Assumptions: 50/s, 10 ms of CPU each, two instances <at 25% busy>.

[simulation]
name = "noted"
description = "a quiet service"
duration = "2m"
interval = "10s"

[classes.request]

[sources.users]
client = "app"
rate = "50/s"

[clients.app]
target = "api"
timeout = "500ms"

[services.api]
instances = 2
cores = 1
cpu = "10ms"

[variants.one.services.api]
instances = 1
"#;

fn stormsim(args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("stormsim").unwrap().args(args).assert()
}

fn scenario(dir: &Path) -> PathBuf {
    let path = dir.join("noted.toml");
    fs::write(&path, NOTED).unwrap();
    path
}

/// The page's headings, in order: its structure.
fn headings(html: &str) -> Vec<String> {
    html.split("<h")
        .skip(1)
        .filter(|part| part.starts_with('1') || part.starts_with('2'))
        .filter_map(|part| part.split_once('>').and_then(|(_, rest)| rest.split_once("</h")))
        .map(|(text, _)| text.to_owned())
        .collect()
}

/// Opens from disk with nothing fetched: no script, no link or source outside the page.
fn assert_self_contained(html: &str) {
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    for forbidden in ["http://", "https://", "<script", "src=", "<link", "@import", "url("] {
        assert!(!html.contains(forbidden), "the report holds {forbidden:?}");
    }
}

#[test]
fn a_run_folder_holds_a_self_contained_report() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let out = dir.path().join("run");
    stormsim(&["run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--seed", "4", "-q"]).success();
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert_self_contained(&html);
    insta::assert_snapshot!(headings(&html).join("\n"), @r"
    noted
    Over time
    Requests, services and clients
    The scenario's assumptions
    Reproduce
    ");
    assert!(html.contains("seed 4 · 2m simulated"), "the headline names the seed");
    assert!(html.contains("a quiet service"));
    assert!(html.contains("two instances &lt;at 25% busy&gt;"), "the notes, escaped");
    assert!(html.contains(&format!("--out {}", out.display())), "the command that made it");
    assert!(html.contains("[services.api]"), "the resolved scenario");
    assert_eq!(html.matches("<svg").count(), 1, "the run chart, inlined");
    assert!(html.contains("<th>service</th>") && html.contains("<td>api</td>"), "the services table");
}

#[test]
fn a_breach_puts_what_happened_first() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let out = dir.path().join("run");
    // One instance with a 30 ms cost at 50/s is overloaded (150% busy): the SLO breaks.
    let args = ["run", file.to_str().unwrap(), "--out", out.to_str().unwrap(), "--variant", "one", "-q"];
    fs::write(&file, NOTED.replace("cpu = \"10ms\"", "cpu = \"30ms\"")).unwrap();
    stormsim(&args).success();
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert_eq!(headings(&html)[..3], ["noted · variant one", "What happened", "Over time"]);
    assert!(html.contains("SLO first breached"));
}

#[test]
fn check_out_keeps_the_report_and_the_seeds_that_missed() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let out = dir.path().join("check");
    let base = ["check", file.to_str().unwrap(), "--replications", "4", "--out", out.to_str().unwrap(), "-q"];
    // p99 of a 10 ms cost at 25% busy is above 10 ms in every seed: all four miss.
    let missed =
        [&base[..], &["--threshold", "latency.p99 < 10ms", "--threshold", "success_rate >= 99%"]].concat();
    stormsim(&missed).code(1);
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert_self_contained(&html);
    assert!(html.contains("✘ missed") && html.contains("✔ met"));
    assert_eq!(html.matches("<svg").count(), 3, "three failing seeds are drawn");
    assert!(html.contains("Also missed a target: seeds 4"));
    for seed in 1..=4 {
        let folder = out.join(format!("seed-{seed}"));
        assert!(folder.join("summary.json").is_file() && folder.join("report.html").is_file(), "{seed}");
    }

    // A check that passes keeps only its report; --force replaces the folder.
    let met = [&base[..], &["--threshold", "success_rate >= 99%", "--force"]].concat();
    stormsim(&met).success();
    let entries: Vec<_> = fs::read_dir(&out).unwrap().map(|entry| entry.unwrap().file_name()).collect();
    assert_eq!(entries, ["report.html"]);
}

#[test]
fn compare_and_sweep_folders_hold_their_report() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let compare = dir.path().join("compare");
    stormsim(&[
        "compare",
        file.to_str().unwrap(),
        "--replications",
        "2",
        "--out",
        compare.to_str().unwrap(),
        "-q",
    ])
    .success();
    let html = fs::read_to_string(compare.join("report.html")).unwrap();
    assert_self_contained(&html);
    assert_eq!(
        headings(&html)[..3],
        ["noted · comparison", "Each variant against the baseline", "Over time"]
    );
    assert!(html.contains("<th>baseline</th><th>one</th>"));

    let sweep = dir.path().join("sweep");
    let param = "services.api.instances=1,2";
    stormsim(&[
        "sweep",
        file.to_str().unwrap(),
        "--param",
        param,
        "--replications",
        "2",
        "--out",
        sweep.to_str().unwrap(),
        "-q",
    ])
    .success();
    let html = fs::read_to_string(sweep.join("report.html")).unwrap();
    assert_self_contained(&html);
    assert_eq!(headings(&html)[..2], ["noted · sweep", "Over the grid"]);
    assert!(html.contains("services.api.instances=2"));
}

#[test]
fn window_zooms_the_charts_and_keeps_every_interval_in_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = scenario(dir.path());
    let (whole, zoomed) = (dir.path().join("whole"), dir.path().join("zoomed"));
    stormsim(&["run", file.to_str().unwrap(), "--out", whole.to_str().unwrap(), "-q"]).success();
    let args =
        ["run", file.to_str().unwrap(), "--out", zoomed.to_str().unwrap(), "--window", "30s..1m30s", "-q"];
    stormsim(&args).success();
    for kept in ["timeseries.csv", "summary.json"] {
        assert_eq!(fs::read(whole.join(kept)).unwrap(), fs::read(zoomed.join(kept)).unwrap(), "{kept}");
    }
    let (whole_svg, zoomed_svg) = (
        fs::read_to_string(whole.join("chart.svg")).unwrap(),
        fs::read_to_string(zoomed.join("chart.svg")).unwrap(),
    );
    // The time axis's labels: the whole run ends at 2m; the zoomed chart stops at 1m30s.
    assert!(whole_svg.contains(">\n2m\n<") || whole_svg.contains(">2m<"), "the whole run's axis reaches 2m");
    assert!(
        !zoomed_svg.contains(">\n2m\n<") && !zoomed_svg.contains(">2m<"),
        "the zoomed axis stops before 2m"
    );

    let bad = ["run", file.to_str().unwrap(), "--window", "09:00..10:00", "-q"];
    stormsim(&bad).code(2).stderr(predicates::str::contains("needs simulation.start"));
}

#[test]
fn the_readme_gallery_regenerates_from_its_script() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(root.join("docs/gallery/regenerate"))
        .current_dir(root)
        .env("STORMSIM", env!("CARGO_BIN_EXE_stormsim"))
        .env("GALLERY", out.path())
        .status()
        .unwrap();
    assert!(status.success());
    let readme = fs::read_to_string(root.join("README.md")).unwrap();
    let committed: Vec<_> = fs::read_dir(root.join("docs/gallery"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".png"))
        .collect();
    assert!(committed.len() >= 2, "a picture per shipped incident");
    for name in committed {
        let fresh = fs::read(out.path().join(&name)).unwrap_or_default();
        assert!(fresh.starts_with(b"\x89PNG"), "{name} is regenerated by the script");
        assert!(readme.contains(&format!("docs/gallery/{name}")), "the README shows {name}");
    }
}

/// A dated run across a daylight-saving change: `timeseries.csv` carries ISO 8601 times with
/// the offset in force, and `timeseries.om` is OpenMetrics that promtool turns into blocks
/// (or, where promtool is not installed, that keeps to the format's grammar).
#[test]
fn a_dated_run_writes_iso_timestamps_and_openmetrics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dated.toml");
    let dated = NOTED
        .replace(
            "duration = \"2m\"",
            "duration = \"2h\"\nstart = \"01:30\"\ndate = \"2026-03-08\"\ntimezone = \"America/New_York\"",
        )
        .replace("interval = \"10s\"", "interval = \"10m\"");
    fs::write(&path, dated).unwrap();
    let out = dir.path().join("run");
    stormsim(&["run", path.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]).success();

    let csv = fs::read_to_string(out.join("timeseries.csv")).unwrap();
    assert!(csv.starts_with("time_s,clock,timestamp,scope,"), "{}", &csv[..60]);
    assert!(csv.contains("\n0,01:30:00,2026-03-08T01:30:00-05:00,total,"));
    // 02:00 EST does not exist that night: the clocks jump to 03:00 EDT.
    // `clock` counts from the start, as timeline times do; `timestamp` is the wall clock.
    assert!(csv.contains("\n1800,02:00:00,2026-03-08T03:00:00-04:00,total,"), "{csv}");

    let om = fs::read_to_string(out.join("timeseries.om")).unwrap();
    assert!(om.ends_with("# EOF\n"));
    // 01:40 EST, the first interval's end, is 06:40 UTC: 1772952000.
    assert!(om.contains("stormsim_requests_offered{scenario=\"noted\"} 30"), "{}", &om[..400]);
    assert!(om.contains(" 1772952000\n"), "{}", &om[..400]);
    check_openmetrics_grammar(&om);
    match std::process::Command::new("promtool").arg("--version").output() {
        Ok(_) => {
            let blocks = dir.path().join("blocks");
            let status = std::process::Command::new("promtool")
                .args(["tsdb", "create-blocks-from", "openmetrics"])
                .arg(out.join("timeseries.om"))
                .arg(&blocks)
                .status()
                .unwrap();
            assert!(status.success(), "promtool refused timeseries.om");
            assert!(fs::read_dir(&blocks).unwrap().count() > 0, "promtool wrote no block");
        }
        Err(_) => eprintln!("promtool is not installed: timeseries.om checked against the grammar only"),
    }
}

/// The OpenMetrics text rules the export relies on: metadata before a family's samples,
/// families not interleaved, numbers where numbers go, one `# EOF` at the end.
fn check_openmetrics_grammar(text: &str) {
    let mut seen: Vec<&str> = Vec::new();
    let mut current = "";
    let mut last_time: std::collections::HashMap<String, f64> = Default::default();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"));
    for line in &lines[..lines.len() - 1] {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert_eq!(kind, "gauge");
            assert!(!seen.contains(&name), "family {name} written twice");
            seen.push(name);
            current = name;
        } else if let Some(rest) = line.strip_prefix("# UNIT ").or_else(|| line.strip_prefix("# HELP ")) {
            assert!(rest.starts_with(current), "{line}");
        } else {
            let (series, rest) = line.split_once("} ").unwrap_or_else(|| panic!("not a sample: {line}"));
            assert!(series.starts_with(&format!("{current}{{")), "{line} outside its family");
            let (value, time) = rest.split_once(' ').unwrap();
            value.parse::<f64>().unwrap_or_else(|_| panic!("value of {line}"));
            let time: f64 = time.parse().unwrap_or_else(|_| panic!("timestamp of {line}"));
            let previous = last_time.insert(series.to_string(), time);
            assert!(previous.is_none_or(|previous| previous < time), "{line} goes back in time");
        }
    }
}
