//! Scenario files: TOML in, a checked `model::Scenario` out. The only module that knows TOML
//! exists.
//!
//! ```text
//! text ──toml+serde──▶ file::ScenarioFile ──defaults::fill──▶ (every default explicit)
//!      ──resolve─────▶ model::Scenario            and ──toml──▶ resolved_toml
//! ```
//!
//! Invariants:
//! - Every problem in a file, from a TOML syntax error to a p99 below its mean, is a
//!   `ScenarioError` naming the file, line, column and key, and what would be valid. Loading
//!   never panics, whatever the input.
//! - `resolved_toml` is the scenario with every default written out; loading it gives an
//!   identical `Scenario`.
//! - Ids (class, source, client, service) follow the byte order of the names.

pub mod cells;
mod checks;
mod concurrency;
mod defaults;
mod dependencies;
mod error;
pub mod file;
mod include;
mod limiter;
mod operations;
pub mod overrides;
mod regions;
mod resolve;
pub mod schema;
mod spanned;
pub mod surge;
mod thresholds;
mod trace;
pub mod units;
mod variants;
mod workload;

use std::path::Path;

pub use error::{Diagnostic, ScenarioError, Stage};

use crate::check::threshold::Threshold;
use crate::model::Scenario;
use error::Problem;
use file::{CpuFile, CpuTable, DistFile, ScenarioFile};
use serde::Deserialize;
use spanned::Spanned;

/// A loaded scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Loaded {
    /// The checked scenario the simulation runs.
    pub scenario: Scenario,
    /// The scenario as TOML with every default made explicit (the `scenario.resolved.toml`
    /// of a run). Loading it gives the same `scenario`.
    pub resolved_toml: String,
    /// The `[variants.NAME]` of the file, in name order (whichever was applied).
    pub variants: Vec<String>,
    /// The file's `[[thresholds]]`, checked against `scenario`.
    pub thresholds: Vec<Threshold>,
    /// Each source's surge, in source name order: the trigger `metastability` maps.
    pub surges: Vec<surge::SurgeWindow>,
    /// The file's opening comment, `#` marks removed: by convention its assumptions and
    /// what to look for, shown in reports.
    pub notes: String,
}

/// Reads and loads the scenario file at `path`; errors name it as given.
pub fn load(path: &Path) -> Result<Loaded, ScenarioError> {
    load_variant(path, None)
}

/// Reads the scenario file at `path` and loads it with the variant `variant` merged in.
pub fn load_variant(path: &Path, variant: Option<&str>) -> Result<Loaded, ScenarioError> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| ScenarioError::Io { path: path.to_path_buf(), source })?;
    load_with(&text, &path.display().to_string(), Some(path), variant, &[]).map(|(loaded, _)| loaded)
}

/// Loads a scenario from its text. `file_label` names it in errors, and its stem is the
/// default `simulation.name`.
pub fn load_str(text: &str, file_label: &str) -> Result<Loaded, ScenarioError> {
    load_str_variant(text, file_label, None)
}

/// Loads a scenario from its text with the variant `variant` (a `[variants.NAME]` of the
/// text) merged into the base; `None` loads the base. The text may not `include` files: it
/// has no folder to find them in.
pub fn load_str_variant(
    text: &str,
    file_label: &str,
    variant: Option<&str>,
) -> Result<Loaded, ScenarioError> {
    load_with(text, file_label, None, variant, &[]).map(|(loaded, _)| loaded)
}

/// Loads a scenario from its text with the variant `variant` merged in, then each of
/// `settings` (a key overridden by dotted path); also gives the file's `[sweep]` table.
/// `path` is the file the text was read from, for its includes (`None`: no includes). A
/// problem with a setting from the command line is located in that flag's text.
pub fn load_with<'s>(
    text: &'s str,
    file_label: &str,
    path: Option<&Path>,
    variant: Option<&str>,
    settings: &[overrides::Setting<'s>],
) -> Result<(Loaded, Option<overrides::SweepTable>), ScenarioError> {
    let sources = include::Sources::read(text, file_label, path)?;
    let parameters: Vec<&overrides::Parameter> = settings.iter().map(|setting| setting.parameter).collect();
    let locate = |problem: Problem| match overrides::flag_of(&problem, &parameters) {
        Some((flag, flag_text, span)) => Problem { span, ..problem }.locate(flag_text, flag),
        None => sources.locate(problem),
    };
    let mut document = sources.document()?;
    let sweep = overrides::take_sweep(document.get_mut(), text).map_err(locate)?;
    let split = variants::split(document).map_err(locate)?;
    let (mut document, variant_spans) = match variant {
        Some(name) => split.apply(name).map_err(locate)?,
        None => (split.base.clone(), Vec::new()),
    };
    let in_variant = |problem: Problem| match variant {
        Some(name) => locate(variants::attribute(problem, name, &variant_spans)),
        None => locate(problem),
    };
    overrides::apply(document.get_mut(), settings).map_err(locate)?;
    let mut file = ScenarioFile::deserialize(toml::de::Deserializer::from(document)).map_err(|error| {
        let raw = error.span().unwrap_or(0..0);
        if overrides::in_flag_space(&raw) {
            locate(Problem { span: raw, ..Problem::from_toml(&error, "") })
        } else {
            in_variant(sources.toml_problem(&error))
        }
    })?;
    defaults::fill(&mut file, file_label);
    let traced = inline_traces(&mut file, &sources, &locate).map_err(|error| match error {
        trace::TraceError::Scenario(problem) => in_variant(problem),
        trace::TraceError::Csv(error) => error,
    })?;
    let mut scenario = resolve::resolve(&file).map_err(in_variant)?;
    scenario.variant = variant.map(str::to_string);
    let thresholds = thresholds::resolve(&file.thresholds, &scenario).map_err(in_variant)?;
    let start = file.simulation.start.as_ref().map(|start| *start.get_ref());
    let surges = surge::windows(&file.sources, start);
    let mut resolved_toml = resolved_toml(file).map_err(locate)?;
    // Of the model input only: the notes below do not change a run.
    scenario.hash = hash(&resolved_toml);
    if let Some(name) = variant {
        resolved_toml.insert_str(
            resolved_toml.find('\n').map_or(0, |end| end + 1),
            &format!("# Variant \"{name}\" merged into the base.\n"),
        );
    }
    for note in traced.iter().rev() {
        resolved_toml
            .insert_str(resolved_toml.find('\n').map_or(0, |end| end + 1), &format!("# Trace {note}.\n"));
    }
    let included = sources.included();
    if !included.is_empty() {
        resolved_toml.insert_str(
            resolved_toml.find('\n').map_or(0, |end| end + 1),
            &format!("# Included: {}.\n", included.join(", ")),
        );
    }
    let notes = opening_comment(text);
    Ok((Loaded { scenario, resolved_toml, variants: split.names(), thresholds, surges, notes }, sweep))
}

/// Writes each source's trace into it as rate points (see `trace`); returns a note per
/// trace for the resolved file.
fn inline_traces(
    file: &mut ScenarioFile,
    sources: &include::Sources,
    locate: &impl Fn(Problem) -> ScenarioError,
) -> Result<Vec<String>, trace::TraceError> {
    if file.sources.values().all(|source| source.trace.is_none()) {
        return Ok(Vec::new());
    }
    let frame = resolve::trace_frame(file)?;
    trace::inline(file, &frame, &Whereabouts { sources, locate })
}

/// The loader's files as the trace reader sees them.
struct Whereabouts<'a, L> {
    sources: &'a include::Sources,
    locate: &'a L,
}

impl<L: Fn(Problem) -> ScenarioError> trace::Whereabouts for Whereabouts<'_, L> {
    fn folder_of(&self, span: std::ops::Range<usize>) -> Option<std::path::PathBuf> {
        // A value from a command-line flag is read relative to the main file.
        let offset = if overrides::in_flag_space(&span) { 0 } else { span.start };
        self.sources.folder_of(offset)
    }

    fn position_of(&self, span: std::ops::Range<usize>) -> String {
        match (self.locate)(Problem::new(span, "", "")) {
            ScenarioError::Invalid(diagnostic) => {
                format!("{}:{}:{}", diagnostic.file, diagnostic.line, diagnostic.column)
            }
            ScenarioError::Io { path, .. } => path.display().to_string(),
        }
    }
}

/// The comment lines before the first key or table, without their `#` and one space;
/// editor directives (`#:schema ./scenario.schema.json`) are not notes.
pub fn opening_comment(text: &str) -> String {
    let mut lines: Vec<&str> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#:") {
            continue;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            lines.push(comment.strip_prefix(' ').unwrap_or(comment).trim_end());
        } else if trimmed.is_empty() {
            lines.push("");
        } else {
            break;
        }
    }
    while lines.last().is_some_and(|line| line.is_empty()) {
        lines.pop();
    }
    let first = lines.iter().position(|line| !line.is_empty()).unwrap_or(lines.len());
    lines[first..].iter().map(|line| format!("{line}\n")).collect()
}

/// The fingerprint of a resolved scenario (FNV-1a 64 of its text, in hex, without the notes
/// on variants and includes): what `summary.json`, `compare.json`, `sweep.json`, check
/// reports and shard files call its hash.
pub fn hash(resolved_toml: &str) -> String {
    format!("{:016x}", crate::engine::rng::fnv1a64(resolved_toml.as_bytes()))
}

/// The filled file as TOML, with CPU shorthands written as tables.
fn resolved_toml(mut file: ScenarioFile) -> Result<String, Problem> {
    for service in file.services.values_mut() {
        expand_cpu(&mut service.cpu);
        for class in service.classes.values_mut() {
            expand_cpu(&mut class.cpu);
        }
    }
    let body = toml::to_string(&file).map_err(|error| {
        Problem::new(0..0, "", format!("internal error: cannot write the resolved scenario: {error}"))
    })?;
    Ok(format!("# Resolved by stormsim: every default is explicit.\n\n{body}"))
}

/// `cpu = "20ms"` becomes `cpu = { dist = "constant", value = "20ms" }`.
fn expand_cpu(cpu: &mut Spanned<CpuFile>) {
    if let CpuFile::Constant(value) = *cpu.get_ref() {
        *cpu.get_mut() = CpuFile::Table(CpuTable {
            dist: Spanned::new(0..0, DistFile::Constant),
            value: Some(Spanned::new(0..0, value)),
            mean: None,
            p99: None,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[simulation]
duration = "1h"

[classes.all]

[sources.users]
client = "app"
rate = "10/s"

[clients.app]
target = "api"

[services.api]
instances = 2
cores = 4
cpu = "20ms"
"#;

    const FULL: &str = r#"
[simulation]
name = "demo"
description = "free text"
duration = "5h"
start = "06:00"
interval = "30s"
seed = 7

[guard]
max_in_flight = 1_000
max_events = 5_000_000

[classes.login]
share = "30%"

[classes.browse]
share = "70%"

[sources.users]
kind = "open_loop"
client = "app"
rate = [ { at = "06:00", rate = "50/s" }, { at = "08:30", rate = "260/s" }, { at = "4h", rate = "1.5/min" }, { at = "00:30+1d", rate = "0/s" } ]

[sources.batch]
client = "gateway"
rate = "50/m"

[clients.app]
target = "gateway"
timeout = "2s"

[clients.app.retry]
max_attempts = 4
on = ["timeout"]
backoff = { base = "50ms", multiplier = 1.5, cap = "2s", jitter = "decorrelated" }

[clients.gateway]
target = "api"

[clients.gateway.retry]

[services.gateway]
instances = 2
cores = 2
workers = 64
queue = { capacity = 0 }
balancer = "least_outstanding"
cpu = { dist = "exponential", mean = "1ms" }

[services.api]
instances = 4
cores = 2
queue = { capacity = 64 }
balancer = "power_of_two_choices"
cpu = { dist = "lognormal", mean = "20ms", p99 = "60ms" }

[services.api.classes.login]
cpu = { dist = "constant", value = "30.5ms" }
"#;

    #[test]
    fn the_opening_comment_is_the_notes() {
        let text = "\n# Replay of X.\n#\n#   - an assumption\n\n[simulation] # not this\n# nor this\n";
        assert_eq!(opening_comment(text), "Replay of X.\n\n  - an assumption\n");
        assert_eq!(opening_comment("[simulation]\n# late\n"), "");
        let directive = "#:schema ./scenario.schema.json\n# Replay of X.\n[simulation]\n";
        assert_eq!(opening_comment(directive), "Replay of X.\n");
    }

    fn load(text: &str) -> Loaded {
        load_str(text, "scenarios/test.toml").unwrap_or_else(|error| panic!("{error}"))
    }

    /// Loading the resolved TOML gives the same scenario and the same resolved TOML (but
    /// for the notes on the traces it holds written out).
    fn assert_round_trip(loaded: &Loaded) {
        let again = load_str(&loaded.resolved_toml, "resolved.toml")
            .unwrap_or_else(|error| panic!("{error}\n{}", loaded.resolved_toml));
        assert_eq!(again.scenario, loaded.scenario, "{}", loaded.resolved_toml);
        let without_notes: String =
            loaded.resolved_toml.split_inclusive('\n').filter(|line| !line.starts_with("# Trace ")).collect();
        assert_eq!(again.resolved_toml, without_notes);
    }

    #[test]
    fn a_minimal_file_gets_every_default() {
        use crate::engine::SimDuration;
        use crate::model::{Balancer, CpuCost, Jitter};
        let loaded = load(MINIMAL);
        let scenario = &loaded.scenario;
        assert_eq!(scenario.name, "test");
        assert_eq!(scenario.interval, SimDuration::from_secs(60));
        assert_eq!(scenario.seed, 1);
        assert_eq!(scenario.guard.max_in_flight, 2_000_000);
        assert_eq!(scenario.guard.max_events, 2_000_000_000);
        assert_eq!(scenario.classes[0].share, 1.0);
        let retry = &scenario.clients[0].retry;
        assert_eq!(retry.max_attempts, 1, "no retry table, no retries");
        assert_eq!(retry.backoff.base, SimDuration::from_millis(100));
        assert_eq!(retry.backoff.cap, SimDuration::from_secs(20));
        assert_eq!(retry.backoff.jitter, Jitter::Full);
        assert!(retry.retry_on.timeout && retry.retry_on.rejected);
        assert_eq!(scenario.clients[0].timeout, None);
        let service = &scenario.services[0];
        assert_eq!(
            (service.workers, service.queue_capacity, service.balancer),
            (4, None, Balancer::RoundRobin)
        );
        assert_eq!(service.cpu, vec![CpuCost::Constant(SimDuration::from_millis(20))]);
        assert_round_trip(&loaded);
    }

    #[test]
    fn the_resolved_toml_writes_every_default() {
        insta::assert_snapshot!(load(MINIMAL).resolved_toml);
    }

    #[test]
    fn a_full_file_resolves_names_units_and_overrides() {
        use crate::engine::{SimDuration, SimTime};
        use crate::model::{CpuCost, SourceKind};
        let loaded = load(FULL);
        let scenario = &loaded.scenario;
        let class_names: Vec<&str> = scenario.classes.iter().map(|class| class.name.as_str()).collect();
        assert_eq!(class_names, ["browse", "login"], "ids follow name order");
        assert_eq!(scenario.start_clock, Some(SimDuration::from_secs(6 * 3600)));
        assert_eq!(scenario.seed, 7);
        assert_eq!(scenario.guard.max_in_flight, 1_000);
        let [batch, users] = &scenario.sources[..] else { panic!("two sources") };
        assert_eq!((batch.name.as_str(), batch.client.idx()), ("batch", 1));
        assert_eq!(users.client.idx(), 0);
        let SourceKind::OpenLoop { profile, .. } = &users.kind else { panic!("an open loop") };
        let hours = |h: f64| SimTime((h * 3600e9) as u64);
        assert_eq!(
            profile.points,
            vec![(hours(0.0), 50.0), (hours(2.5), 260.0), (hours(4.0), 1.5 / 60.0), (hours(18.5), 0.0)]
        );
        let [api, gateway] = &scenario.services[..] else { panic!("two services") };
        assert_eq!(scenario.clients[0].target.idx(), 1, "app calls the gateway");
        assert_eq!(scenario.clients[1].retry.max_attempts, 3, "an empty retry table means 3 attempts");
        assert_eq!(gateway.queue_capacity, Some(0));
        assert_eq!(api.workers, 2);
        assert!(matches!(api.cpu[0], CpuCost::LogNormal { .. }));
        assert_eq!(api.cpu[1], CpuCost::Constant(SimDuration(30_500_000)));
        assert_round_trip(&loaded);
    }

    #[test]
    fn toml_local_times_are_clock_times() {
        let text = MINIMAL
            .replace("duration = \"1h\"", "duration = \"1h\"\nstart = 06:00:00")
            .replace("rate = \"10/s\"", "rate = [{ at = 06:30:00, rate = \"1/s\" }]");
        let loaded = load(&text);
        assert_eq!(loaded.scenario.start_clock, Some(crate::engine::SimDuration::from_secs(6 * 3600)));
        assert_round_trip(&loaded);
    }

    #[test]
    fn missing_files_are_named() {
        let error = super::load(Path::new("/no/such/dir/scenario.toml")).unwrap_err();
        assert!(
            error.to_string().starts_with("error: cannot read scenario /no/such/dir/scenario.toml: "),
            "{error}"
        );
        assert!(error.diagnostic().is_none());
    }

    #[test]
    fn every_shipped_scenario_loads_and_round_trips() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut files = Vec::new();
        collect_toml_files(&root, &mut files);
        assert!(!files.is_empty(), "no scenario under {}", root.display());
        for path in files {
            let loaded = super::load(&path).unwrap_or_else(|error| panic!("{error}"));
            assert_round_trip(&loaded);
            for variant in &loaded.variants {
                let merged = load_variant(&path, Some(variant)).unwrap_or_else(|error| panic!("{error}"));
                let again = load_str(&merged.resolved_toml, "resolved.toml").unwrap();
                assert!(again.variants.is_empty(), "{variant}: the merged file keeps no variants");
                assert_eq!(again.scenario.services, merged.scenario.services, "{variant}");
                assert_eq!(again.thresholds, merged.thresholds);
            }
        }
    }

    const VARIANTS: &str = r#"
[variants.big.services.api]
cores = 8
cpu = { dist = "exponential", mean = "10ms" }

[variants.budget.clients.app]
limiter = "finagle"
"#;

    #[test]
    fn a_variant_is_merged_into_the_base() {
        let text = format!("{MINIMAL}{VARIANTS}");
        let base = load(&text);
        assert_eq!(base.variants, ["big", "budget"]);
        assert_eq!(base.scenario.services[0].cores, 4);
        let big = load_str_variant(&text, "t.toml", Some("big")).unwrap();
        assert_eq!(big.scenario.services[0].cores, 8);
        assert_eq!(big.scenario.services[0].instances, 2, "keys the variant leaves alone stay");
        assert_eq!(big.scenario.variant.as_deref(), Some("big"));
        assert!(big.resolved_toml.contains("# Variant \"big\" merged into the base."));
        assert!(!big.resolved_toml.contains("variants"), "{}", big.resolved_toml);
        let budget = load_str_variant(&text, "t.toml", Some("budget")).unwrap();
        assert!(budget.scenario.clients[0].limiter.is_some());
        assert_eq!(budget.scenario.services, base.scenario.services);
    }

    #[test]
    fn errors_in_a_variant_point_into_it() {
        let text = format!("{MINIMAL}{VARIANTS}").replace("cores = 8", "cores = 0");
        let error = load_str_variant(&text, "t.toml", Some("big")).unwrap_err();
        let diagnostic = error.diagnostic().unwrap();
        assert_eq!(diagnostic.key, "variants.big.services.api.cores");
        assert_eq!(text.lines().nth(diagnostic.line - 1), Some("cores = 0"));
        assert!(load_str_variant(&text, "t.toml", Some("budget")).is_ok(), "another variant is unaffected");
        let error = load_str_variant(&text, "t.toml", Some("small")).unwrap_err();
        assert!(error.to_string().starts_with("error: unknown variant \"small\""), "{error}");
        assert!(error.to_string().contains(r#"expected one of "big" or "budget""#), "{error}");
    }

    #[test]
    fn thresholds_are_resolved_and_round_trip() {
        let text = format!(
            "{MINIMAL}\n[[thresholds]]\nmetric = \"latency\"\naggregation = \"p99\"\ncomparison = \"<\"\nvalue = \"250ms\"\n\n[[thresholds]]\nmetric = \"utilisation\"\nservice = \"api\"\ncomparison = \"<=\"\nvalue = \"80%\"\nwindow = {{ sliding = \"10m\" }}\nstatistic = \"upper95\"\n"
        );
        let loaded = load(&text);
        let expressions: Vec<String> = loaded.thresholds.iter().map(ToString::to_string).collect();
        assert_eq!(
            expressions,
            ["latency.p99 < 250ms", "utilisation{service=api} <= 80% sliding 10m upper95"]
        );
        assert!(loaded.resolved_toml.contains("statistic = \"mean\""), "the default is written out");
        assert_round_trip(&loaded);
        assert_eq!(load(&loaded.resolved_toml).thresholds, loaded.thresholds);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// Whatever the text, loading returns; it never panics.
        #[test]
        fn arbitrary_text_never_panics(text in "(?s).{0,200}") {
            let _ = load_str(&text, "fuzz.toml");
        }

        /// A valid file with a few bytes changed loads or is refused with a located error.
        #[test]
        fn mutated_files_never_panic(
            edits in proptest::collection::vec((0..FULL.len(), "[\\x00-\\x7f\\u{e9}\\u{1f600}\\t\\r\\n\"=\\[\\]{},.%/:+-]{0,3}"), 1..4)
        ) {
            let mut text = FULL.to_string();
            for (at, insert) in edits {
                let mut at = at.min(text.len());
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                text.insert_str(at, &insert);
            }
            match load_str(&text, "fuzz.toml") {
                Ok(loaded) => assert_round_trip(&loaded),
                Err(error) => proptest::prop_assert!(error.to_string().starts_with("error: ")),
            }
        }
    }

    fn collect_toml_files(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
        let mut entries: Vec<_> =
            std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                collect_toml_files(&path, files);
            } else if path.extension().is_some_and(|extension| extension == "toml") {
                files.push(path);
            }
        }
    }
}
