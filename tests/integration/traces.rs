//! Traces of measured traffic (`trace = { file = ... }`): the CSV forms Prometheus, Grafana
//! and CloudWatch export, the path relative to the scenario file, and every refusal located
//! in the CSV (file, line, column, with the key that read it) or at the scenario's key.

use proptest::prelude::*;
use std::fs;
use std::path::Path;
use stormsim::model::SourceKind;
use stormsim::scenario::load;

/// A scenario whose source reads `traces/day.csv`, with `TRACE` standing for the trace's
/// other keys.
const SCENARIO: &str = r#"[simulation]
duration = "30m"
interval = "1m"

[classes.request]

[sources.users]
client = "app"
trace = { file = "traces/day.csv"TRACE }

[clients.app]
target = "api"

[services.api]
instances = 2
cores = 2
cpu = "10ms"
"#;

/// Writes `files` (name, text) under a new temporary folder.
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }
    dir
}

/// The scenario with `keys` added to its trace, beside `csv` as `traces/day.csv`.
fn traced(keys: &str, csv: &str) -> tempfile::TempDir {
    folder(&[("scenario.toml", &SCENARIO.replace("TRACE", keys)), ("traces/day.csv", csv)])
}

/// The rendered error of loading `scenario.toml` in `dir`, the folder written as `DIR`.
fn refused(dir: &Path) -> String {
    match load(&dir.join("scenario.toml")) {
        Ok(_) => panic!("the scenario loaded, but it should be refused"),
        Err(error) => error.to_string().replace(&dir.display().to_string(), "DIR"),
    }
}

/// The rate points of the loaded scenario's source, `(nanoseconds, per second)`.
fn points(dir: &Path) -> Vec<(u64, f64)> {
    let loaded = load(&dir.join("scenario.toml")).unwrap_or_else(|error| panic!("{error}"));
    let SourceKind::OpenLoop { profile, .. } = &loaded.scenario.sources[0].kind else { panic!("open loop") };
    profile.points.iter().map(|&(at, rate)| (at.0, rate)).collect()
}

/// `seconds` in nanoseconds.
const fn s(seconds: u64) -> u64 {
    seconds * 1_000_000_000
}

/// Ten-minute rows of requests per second, times as offsets in seconds.
const OFFSETS: &str = "0,100\n600,200\n1200,50\n";

#[test]
fn offsets_become_steps_and_lines() {
    let dir = traced("", OFFSETS);
    assert_eq!(
        points(dir.path()),
        [(0, 100.0), (s(600) - 1, 100.0), (s(600), 200.0), (s(1200) - 1, 200.0), (s(1200), 50.0)]
    );
    let dir = traced(", interpolation = \"linear\", scale = 2", OFFSETS);
    assert_eq!(points(dir.path()), [(0, 200.0), (s(600), 400.0), (s(1200), 100.0)]);
    let dir = traced(", shift = \"-5m\"", "0s,100\n10m,200\n20m,50\n30m,10\n");
    assert_eq!(points(dir.path())[..3], [(0, 100.0), (s(300) - 1, 100.0), (s(300), 200.0)]);
}

#[test]
fn counts_per_interval_are_divided_by_their_width() {
    // CloudWatch's Sum of RequestCount per minute, with its header and epoch seconds.
    let csv = "Timestamp,Sum\n1771232400,6000\n1771233000,3000\n1771233600,600\n";
    let dir = traced(", values = \"count\", time_column = \"Timestamp\", value_column = \"Sum\"", csv);
    assert_eq!(points(dir.path())[..3], [(0, 10.0), (s(600) - 1, 10.0), (s(600), 5.0)]);
}

#[test]
fn grafana_exports_are_read_with_their_quotes_and_milliseconds() {
    let csv =
        "\"Time\",\"api\"\n\"1771232400000\",\"12.5\"\n\"1771233000000\",\"13\"\n\"1771233600000\",\"14\"\n";
    let dir = traced(", interpolation = \"linear\"", csv);
    assert_eq!(points(dir.path()), [(0, 12.5), (s(600), 13.0), (s(1200), 14.0)]);
}

#[test]
fn timestamps_are_placed_on_the_scenario_s_date() {
    // The run starts at 09:10 on 2026-02-23; the trace is last Monday's, shifted a week.
    let csv = "time,rps\n2026-02-16T09:00:00Z,1\n2026-02-16T09:20:00Z,2\n2026-02-16T09:40:00Z,3\n";
    let keys = ", shift = \"7d\"";
    let text = SCENARIO
        .replace("TRACE", keys)
        .replace("duration = \"30m\"", "duration = \"30m\"\ndate = \"2026-02-23\"\nstart = \"09:10\"");
    let dir = folder(&[("scenario.toml", &text), ("traces/day.csv", csv)]);
    assert_eq!(points(dir.path())[..3], [(0, 1.0), (s(600) - 1, 1.0), (s(600), 2.0)]);
    // Without the shift the trace is a week before the run, and the error says so.
    let dir = folder(&[("scenario.toml", &text.replace(keys, "")), ("traces/day.csv", csv)]);
    insta::assert_snapshot!(refused(dir.path()));
}

#[test]
fn the_resolved_scenario_holds_the_rate_points() {
    let dir = traced("", OFFSETS);
    let loaded = load(&dir.path().join("scenario.toml")).unwrap();
    let resolved = loaded.resolved_toml.replace(&dir.path().display().to_string(), "DIR");
    assert!(
        resolved.contains("# Trace sources.users.trace: DIR/traces/day.csv (3 rows, rate, step) written out as rate points.\n"),
        "{resolved}"
    );
    assert!(!resolved.contains("trace ="), "{resolved}");
    let again = stormsim::scenario::load_str(&loaded.resolved_toml, "resolved.toml").unwrap();
    assert_eq!(again.scenario, loaded.scenario);
    // The hash follows the trace's data.
    fs::write(dir.path().join("traces/day.csv"), OFFSETS.replace("200", "201")).unwrap();
    let changed = load(&dir.path().join("scenario.toml")).unwrap();
    assert_ne!(changed.scenario.hash, loaded.scenario.hash);
}

/// One snapshot per refused trace: the scenario's trace keys and the CSV.
macro_rules! refused {
    ($($name:ident: $keys:expr, $csv:expr;)+) => {
        $(
            #[test]
            fn $name() {
                let dir = traced($keys, $csv);
                insta::assert_snapshot!(refused(dir.path()));
            }
        )+
    };
}

refused! {
    a_value_that_is_not_a_number: "", "time,value\n0,100\n600,n/a\n1200,50\n";
    an_empty_value: "", "0,100\n600,\n1200,50\n";
    a_time_that_is_not_a_time: "", "0,100\nlater,200\n1200,50\n";
    times_out_of_order: "", "0,100\n1200,200\n600,50\n";
    timestamps_mixed_with_offsets: "", "0,100\n2026-02-16T09:10:00Z,200\n";
    a_row_without_its_value: "", "0,100\n600\n1200,50\n";
    a_negative_rate: "", "0,100\n600,-5\n1200,50\n";
    an_unknown_column_name: ", value_column = \"rsp\"", "time,rps\n0,100\n600,200\n1200,50\n";
    a_column_number_past_the_rows: ", value_column = 3", OFFSETS;
    a_trace_that_ends_before_the_run: "", "0,100\n600,200\n";
    a_trace_that_starts_after_the_run: ", shift = \"5m\"", OFFSETS;
    a_count_on_a_single_row: ", values = \"count\"", "0,100\n";
    a_scale_past_the_rate_limit: ", scale = 1000", "0,100\n600,5e6\n1200,50\n";
    an_empty_trace: "", "time,value\n";
}

#[test]
fn a_missing_trace_names_the_path_from_the_scenario_s_folder() {
    let dir = folder(&[("scenarios/scenario.toml", &SCENARIO.replace("TRACE", ""))]);
    let error = match load(&dir.path().join("scenarios/scenario.toml")) {
        Ok(_) => panic!("loaded"),
        Err(error) => error.to_string().replace(&dir.path().display().to_string(), "DIR"),
    };
    insta::assert_snapshot!(error);
}

#[test]
fn a_trace_in_an_included_file_is_relative_to_that_file() {
    let base = SCENARIO.replace("TRACE", "");
    let dir = folder(&[
        ("shared/base.toml", &base),
        ("shared/traces/day.csv", OFFSETS),
        ("main.toml", "include = [\"shared/base.toml\"]\n\n[services.api]\ninstances = 3\n"),
    ]);
    let loaded = load(&dir.path().join("main.toml")).unwrap_or_else(|error| panic!("{error}"));
    assert_eq!(loaded.scenario.services[0].instances, 3);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    /// Mangled CSV files load or are refused with a rendered error located in the CSV or
    /// the scenario, never a panic; a trace that loads runs a short while.
    #[test]
    fn mangled_traces_never_panic(
        edits in prop::collection::vec((any::<usize>(), "[0-9a-zT:Z.,\"#\\n +-]{0,4}"), 0..6),
        keys in prop::sample::select(vec!["", ", interpolation = \"linear\"", ", values = \"count\"", ", shift = \"-10m\"", ", scale = 0.5"]),
    ) {
        let mut csv = "time,value\n2026-02-16T09:00:00Z,10\n2026-02-16T09:10:00Z,20\n2026-02-16T09:20:00Z,5\n2026-02-16T09:30:00Z,1\n2026-02-16T09:40:00Z,7\n".to_string();
        for (at, insert) in edits {
            let at = at % (csv.len() + 1);
            csv.insert_str(at, &insert);
        }
        let dir = traced(keys, &csv);
        match load(&dir.path().join("scenario.toml")) {
            Ok(loaded) => crate::load_and_run::run_short(&loaded.scenario),
            Err(error) => {
                let rendered = error.to_string();
                prop_assert!(rendered.starts_with("error: "), "{}", rendered);
                let diagnostic = error.diagnostic().expect("located");
                prop_assert!(diagnostic.file.ends_with("day.csv") || diagnostic.file.ends_with("scenario.toml"), "{}", rendered);
            }
        }
    }
}
