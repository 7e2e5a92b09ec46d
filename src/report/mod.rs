//! Turns a finished run into a run folder and terminal text; the only module that writes
//! files.
//!
//! A run folder holds `summary.json`, `timeseries.csv`, `timeseries.om`, `chart.png`, `chart.svg`,
//! `report.html` and `scenario.resolved.toml`. Invariants:
//! - Writing is atomic: everything goes into a hidden temporary folder next to the target
//!   (`.<name>.tmp-<pid>`), each file is fsynced, then the folder is renamed into place. On
//!   any error the temporary folder is removed, so a folder with the run's name is always
//!   complete.
//! - Another run's results are never overwritten unless asked (`OutDir::Explicit` with
//!   `force`), and even then only a folder that holds a `summary.json` (or an empty one) is
//!   replaced, by renaming the old folder aside, renaming the new one in, and deleting the
//!   old one.

pub mod capacity;
pub mod chart;
pub mod check;
pub mod compare;
pub mod csv;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod metastability;
pub mod openmetrics;
pub mod sweep;
pub mod table;

use crate::engine::SimTime;
use crate::simulation::RunOutput;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// The files of a run folder, in the order they are written.
pub const SUMMARY_FILE: &str = "summary.json";
pub const TIMESERIES_FILE: &str = "timeseries.csv";
/// The series in the OpenMetrics text format, for `promtool tsdb create-blocks-from openmetrics`.
pub const OPENMETRICS_FILE: &str = "timeseries.om";
pub const CHART_PNG_FILE: &str = "chart.png";
pub const CHART_SVG_FILE: &str = "chart.svg";
pub const SCENARIO_FILE: &str = "scenario.resolved.toml";
pub use html::REPORT_FILE;

/// How a result is presented: where it came from (for a report's reader to check and
/// reproduce it) and the stretch of time its charts show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Presentation {
    /// Charts show only `[from, to)` of the run (`--window`); files keep every interval.
    pub window: Option<(SimTime, SimTime)>,
    /// The scenario file's opening comment: its assumptions, in its author's words.
    pub notes: String,
    /// The command line that produced the result.
    pub command: String,
    /// The scenario's one-line `description`.
    pub description: String,
    /// The scenario with every default written out (`scenario.resolved.toml`).
    pub resolved_toml: String,
}

/// Default `Default` root, relative to the working directory.
pub const DEFAULT_ROOT: &str = "outputs";

/// Where a run folder goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutDir {
    /// `--out DIR`: exactly this folder. If it exists it is an error, unless `force`, in
    /// which case a previous run folder there is replaced.
    Explicit { path: PathBuf, force: bool },
    /// No `--out`: `<root>/<scenario>-seed<seed>`, or the first free of `-2`, `-3`, ...
    /// after it. Never overwrites.
    Default { root: PathBuf },
}

/// Why a run folder could not be written. Every variant names the path involved.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("output folder {} already exists; pass --force to replace it, or choose another --out", .path.display())]
    Exists { path: PathBuf },
    #[error("refusing to replace {}: it is not a stormsim run folder (no {SUMMARY_FILE} in it)", .path.display())]
    NotARunFolder { path: PathBuf },
    #[error("{} cannot be a run folder: it does not end in a folder name", .path.display())]
    InvalidPath { path: PathBuf },
    #[error("cannot write {}: {} is a file, not a folder; move it or choose another --out", .path.display(), .file.display())]
    NotAFolder { path: PathBuf, file: PathBuf },
    #[error("no free output folder name after {}-{MAX_SUFFIX}", .path.display())]
    NoFreeName { path: PathBuf },
    #[error("cannot {action} {}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {}", .path.display())]
    Csv {
        path: PathBuf,
        #[source]
        source: ::csv::Error,
    },
    #[error("cannot serialise {}", .path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot draw {}", .path.display())]
    Chart {
        path: PathBuf,
        #[source]
        source: chart::ChartError,
    },
}

impl ReportError {
    /// A refusal of the output path the user gave (exists, not ours, a file in the way),
    /// found before anything is written: bad input, not a failure of the machine.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            ReportError::Exists { .. }
                | ReportError::NotARunFolder { .. }
                | ReportError::InvalidPath { .. }
                | ReportError::NotAFolder { .. }
        )
    }
}

/// Highest `-N` suffix tried for a default folder name.
const MAX_SUFFIX: u32 = 9999;

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ReportError {
    let path = path.to_owned();
    move |source| ReportError::Io { action, path, source }
}

/// A resolved destination: the folder to create, and whether an existing one there may
/// be replaced.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    path: PathBuf,
    replace: bool,
}

impl OutDir {
    /// Fails early, before a long simulation, if the run folder is certain to be refused:
    /// an explicit folder that exists without `force`, or that `force` may not replace.
    ///
    /// Also refused before anything runs: a file where the folder or one of its parents
    /// should be (`NotAFolder`), and a folder the run folder cannot be created in (`Io`,
    /// found by creating and removing an empty hidden folder there).
    pub fn preflight(&self) -> Result<(), ReportError> {
        match self {
            OutDir::Explicit { path, force } => {
                let parent = parent_or_current(path);
                match fs::symlink_metadata(path) {
                    _ if path.file_name().is_none() => Err(ReportError::InvalidPath { path: path.clone() }),
                    Err(_) => check_writable(path, &parent),
                    Ok(metadata) if metadata.is_file() => {
                        Err(ReportError::NotAFolder { path: path.clone(), file: path.clone() })
                    }
                    Ok(_) if *force => check_replaceable(path).and_then(|()| check_writable(path, &parent)),
                    Ok(_) => Err(ReportError::Exists { path: path.clone() }),
                }
            }
            OutDir::Default { root } => check_writable(root, root),
        }
    }

    /// Picks the folder for a run of `scenario_name` with `seed`.
    fn resolve(&self, scenario_name: &str, seed: u64) -> Result<Target, ReportError> {
        self.resolve_named(&format!("{}-seed{seed}", folder_name(scenario_name)))
    }

    /// Picks the folder: `--out`, or `<root>/<base>` and then the first free `-N`.
    fn resolve_named(&self, base: &str) -> Result<Target, ReportError> {
        match self {
            OutDir::Explicit { path, force } => {
                if path.file_name().is_none() {
                    return Err(ReportError::InvalidPath { path: path.clone() });
                }
                let exists = fs::symlink_metadata(path).is_ok();
                if exists && !force {
                    return Err(ReportError::Exists { path: path.clone() });
                }
                Ok(Target { path: path.clone(), replace: exists })
            }
            OutDir::Default { root } => {
                let first = root.join(base);
                if fs::symlink_metadata(&first).is_err() {
                    return Ok(Target { path: first, replace: false });
                }
                (2..=MAX_SUFFIX)
                    .map(|n| root.join(format!("{base}-{n}")))
                    .find(|candidate| fs::symlink_metadata(candidate).is_err())
                    .map(|path| Target { path, replace: false })
                    .ok_or(ReportError::NoFreeName { path: first })
            }
        }
    }
}

/// A scenario name made safe as a folder name: letters, digits, `-`, `_` and `.` kept,
/// anything else turned into `-`, never hidden, never empty.
fn folder_name(scenario_name: &str) -> String {
    let cleaned: String = scenario_name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '-' })
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    if cleaned.is_empty() { "run".to_owned() } else { cleaned.to_owned() }
}

/// Writes the run folder for `output` and returns its path.
pub fn write_run(
    dir: &OutDir,
    output: &RunOutput,
    presentation: &Presentation,
) -> Result<PathBuf, ReportError> {
    let scenario = &output.summary.scenario;
    let label = match &scenario.variant {
        Some(variant) => format!("{}-{variant}", scenario.name),
        None => scenario.name.clone(),
    };
    let target = dir.resolve(&label, output.summary.seed)?;
    write_atomically(&target, |staging| write_files(staging, output, presentation).map(drop))?;
    Ok(target.path)
}

/// Title of the charts.
fn chart_title(output: &RunOutput) -> String {
    let summary = &output.summary;
    let mut res = summary.scenario.name.clone();
    if let Some(variant) = &summary.scenario.variant {
        res.push_str(&format!(" · variant {variant}"));
    }
    res.push_str(&format!(" · seed {}", summary.seed));
    if summary.partial {
        res.push_str(" · PARTIAL (stopped early)");
    }
    res
}

/// Writes every file of a run folder into `dir`, fsyncing each; returns the chart's SVG.
fn write_files(dir: &Path, output: &RunOutput, presentation: &Presentation) -> Result<String, ReportError> {
    let path = dir.join(SUMMARY_FILE);
    let summary = json::to_string(&output.summary)
        .map_err(|source| ReportError::Json { path: path.clone(), source })?;
    write_file(&path, summary.as_bytes())?;

    // The series files are streamed to disk: held whole, each is a megabyte on a long run.
    let path = dir.join(TIMESERIES_FILE);
    let mut file = File::create(&path).map_err(io_error("create", &path))?;
    csv::write_series(&mut file, &output.series)
        .map_err(|source| ReportError::Csv { path: path.clone(), source })?;
    file.sync_all().map_err(io_error("sync", &path))?;

    let path = dir.join(OPENMETRICS_FILE);
    write_buffered(&path, |file| openmetrics::write(file, &output.series, &output.summary.scenario.name))?;

    let title = chart_title(output);
    let zoomed = presentation.window.map(|(from, to)| output.series.window(from, to));
    let series = zoomed.as_ref().unwrap_or(&output.series);
    let path = dir.join(CHART_PNG_FILE);
    chart::write_png(&path, series, &title)
        .map_err(|source| ReportError::Chart { path: path.clone(), source })?;
    File::open(&path).and_then(|file| file.sync_all()).map_err(io_error("sync", &path))?;

    let path = dir.join(CHART_SVG_FILE);
    let svg =
        chart::svg(series, &title).map_err(|source| ReportError::Chart { path: path.clone(), source })?;
    write_file(&path, svg.as_bytes())?;

    let path = dir.join(REPORT_FILE);
    write_buffered(&path, |file| html::write_run(file, output, &svg, presentation))?;

    let path = dir.join(SCENARIO_FILE);
    let mut toml = presentation.resolved_toml.clone();
    if !toml.ends_with('\n') {
        toml.push('\n');
    }
    write_file(&path, toml.as_bytes())?;
    Ok(svg)
}

/// Writes a file through a buffer with `write`, so that its text need not be held whole.
fn write_buffered(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> Result<(), ReportError> {
    let mut file = BufWriter::new(File::create(path).map_err(io_error("create", path))?);
    write(&mut file).map_err(io_error("write", path))?;
    let file = file.into_inner().map_err(|error| io_error("write", path)(error.into_error()))?;
    file.sync_all().map_err(io_error("sync", path))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let mut file = File::create(path).map_err(io_error("create", path))?;
    file.write_all(bytes).map_err(io_error("write", path))?;
    file.sync_all().map_err(io_error("sync", path))
}

/// Flushes a folder's entries (new names, renames) to disk. Folders cannot be opened for
/// syncing on every platform; there it is skipped.
fn sync_dir(path: &Path) -> Result<(), ReportError> {
    if cfg!(unix) {
        File::open(path).and_then(|dir| dir.sync_all()).map_err(io_error("sync", path))?;
    }
    Ok(())
}

/// A hidden folder next to the target, removed on drop unless it was renamed into place.
struct Staging {
    path: PathBuf,
    committed: bool,
}

impl Staging {
    /// Creates `.<name>.tmp-<pid>` in `parent` (with a `-N` suffix if that is taken, e.g.
    /// by another run in the same process).
    fn create(parent: &Path, name: &str) -> Result<Staging, ReportError> {
        let pid = std::process::id();
        for attempt in 1u32.. {
            let file_name = if attempt == 1 {
                format!(".{name}.tmp-{pid}")
            } else {
                format!(".{name}.tmp-{pid}-{attempt}")
            };
            let path = parent.join(file_name);
            match fs::create_dir(&path) {
                Ok(()) => {
                    return Ok(Staging { path, committed: false });
                }
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists && attempt < 1000 => {
                    continue;
                }
                Err(error) => return Err(io_error("create", &path)(error)),
            }
        }
        unreachable!("the loop returns by its 1000th attempt")
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            // Best effort: the error that got us here is the one worth reporting.
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// Runs `fill` on a fresh staging folder next to `target`, then moves it into place. On
/// any error nothing is left behind and an existing folder at the target is untouched.
fn write_atomically(
    target: &Target,
    fill: impl FnOnce(&Path) -> Result<(), ReportError>,
) -> Result<(), ReportError> {
    let name =
        target.path.file_name().ok_or_else(|| ReportError::InvalidPath { path: target.path.clone() })?;
    let name = name.to_string_lossy().into_owned();
    let parent = match target.path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io_error("create", &parent))?;

    if target.replace {
        check_replaceable(&target.path)?;
    }
    let mut staging = Staging::create(&parent, &name)?;
    fill(&staging.path)?;
    sync_dir(&staging.path)?;

    if target.replace && fs::symlink_metadata(&target.path).is_ok() {
        let aside = parent.join(format!(".{name}.old-{}", std::process::id()));
        fs::rename(&target.path, &aside).map_err(io_error("move aside", &target.path))?;
        if let Err(error) = fs::rename(&staging.path, &target.path) {
            // Put the previous run back; the staging folder is removed on drop.
            let _ = fs::rename(&aside, &target.path);
            return Err(io_error("rename into place", &target.path)(error));
        }
        staging.committed = true;
        // The new run is in place; failing to delete the old one must not fail the run.
        let _ = fs::remove_dir_all(&aside);
    } else {
        if fs::symlink_metadata(&target.path).is_ok() {
            return Err(ReportError::Exists { path: target.path.clone() });
        }
        fs::rename(&staging.path, &target.path).map_err(io_error("rename into place", &target.path))?;
        staging.committed = true;
    }
    sync_dir(&parent)
}

/// Writes one file atomically: a hidden temporary file next to `path`, fsynced, then renamed
/// over it, so readers see the old file or the whole new one. Missing folders on the way are
/// created (a shard file's `outputs/`, a report in a CI job's folder).
pub fn write_file_atomically(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let name = path.file_name().ok_or_else(|| ReportError::InvalidPath { path: path.to_owned() })?;
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&parent).map_err(io_error("create", &parent))?;
    let staging = parent.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    let res = write_file(&staging, bytes)
        .and_then(|()| fs::rename(&staging, path).map_err(io_error("rename into place", path)));
    if res.is_err() {
        let _ = fs::remove_file(&staging);
    }
    res?;
    sync_dir(&parent)
}

/// Writes a folder of files atomically, like a run folder: `fill` writes into a staging
/// folder that is renamed into place. Without `--out` the folder is `<root>/<base_name>`
/// (then `-2`, `-3`, ...).
pub fn write_folder(
    dir: &OutDir,
    base_name: &str,
    fill: impl FnOnce(&Path) -> Result<(), ReportError>,
) -> Result<PathBuf, ReportError> {
    let target = dir.resolve_named(&folder_name(base_name))?;
    write_atomically(&target, fill)?;
    Ok(target.path)
}

/// Writes a run's files into `dir/name` (created), for the `fill` of `write_folder`: the run
/// folders a check keeps for its failing seeds. Returns the run chart's SVG.
pub fn write_run_into(
    dir: &Path,
    name: &str,
    output: &RunOutput,
    presentation: &Presentation,
) -> Result<String, ReportError> {
    let path = dir.join(name);
    fs::create_dir(&path).map_err(io_error("create", &path))?;
    write_files(&path, output, presentation)
}

/// Writes `bytes` to `dir/name`, fsynced, for the `fill` of `write_folder`.
pub fn write_into(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), ReportError> {
    write_file(&dir.join(name), bytes)
}

/// The folder `path` is created in (`.` for a bare name).
fn parent_or_current(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

/// `target` is to be written in `folder` (which may not exist yet): its nearest existing
/// ancestor must be a folder we can create entries in. Tried by creating and removing an
/// empty hidden folder, so nothing is left behind.
fn check_writable(target: &Path, folder: &Path) -> Result<(), ReportError> {
    let mut existing = folder.to_owned();
    while fs::metadata(&existing).is_err() {
        match existing.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => existing = parent.to_owned(),
            _ => {
                existing = PathBuf::from(".");
                break;
            }
        }
    }
    if !fs::metadata(&existing).is_ok_and(|metadata| metadata.is_dir()) {
        return Err(ReportError::NotAFolder { path: target.to_owned(), file: existing });
    }
    let probe = existing.join(format!(".stormsim-write-check-{}", std::process::id()));
    fs::create_dir(&probe).map_err(io_error("write in", &existing))?;
    let _ = fs::remove_dir(&probe);
    Ok(())
}

/// Only a previous output folder (it has a `summary.json`, `sweep.json` or `compare.json`)
/// or an empty folder may be replaced,
/// so `--out ~ --force` cannot delete a home directory.
fn check_replaceable(path: &Path) -> Result<(), ReportError> {
    let metadata = fs::symlink_metadata(path).map_err(io_error("inspect", path))?;
    if !metadata.is_dir() {
        return Err(ReportError::NotARunFolder { path: path.to_owned() });
    }
    // A sweep, compare or check folder (see `app::deliver`) may be replaced like a run
    // folder.
    let is_run = [SUMMARY_FILE, "sweep.json", "compare.json", REPORT_FILE]
        .iter()
        .any(|file| path.join(file).is_file());
    let is_empty = fs::read_dir(path).map_err(io_error("read", path))?.next().is_none();
    if is_run || is_empty { Ok(()) } else { Err(ReportError::NotARunFolder { path: path.to_owned() }) }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A presentation with only the resolved scenario.
    fn resolved(toml: &str) -> Presentation {
        Presentation { resolved_toml: toml.to_owned(), ..Presentation::default() }
    }
    use crate::engine::{SimDuration, SimTime};
    use crate::model::FailureReason;
    use crate::model::limiter::BreakerPhase;
    use crate::stats::summary::{
        AlertFiring, EngineSummary, Episode, EventCounts, FailureCounts, HopSummary, MarkerSummary, Moment,
        Percentiles, RequestSummary, SCHEMA_VERSION, ScenarioInfo, ServiceSummary, SloSummary,
    };
    use crate::stats::{
        BreakerFigures, ClientFigures, IntervalRow, RequestFigures, Series, ServiceFigures, Summary,
    };
    use std::collections::BTreeMap;

    fn percentiles(count: u64, scale: f64) -> Percentiles {
        Percentiles {
            count,
            mean: Some(21.5 * scale),
            p50: Some(18.2 * scale),
            p90: Some(40.1 * scale),
            p99: Some(212.0 * scale),
            p999: Some(890.0 * scale),
            max: Some(2_004.0 * scale),
        }
    }

    fn requests(offered: u64, succeeded: u64) -> RequestSummary {
        let failed = offered - succeeded - 3;
        let timeout = failed * 2 / 3;
        RequestSummary {
            offered,
            succeeded,
            failed,
            in_flight: 3,
            in_flight_at_start: None,
            failed_by_reason: FailureCounts {
                timeout,
                rejected: failed - timeout,
                ..FailureCounts::default()
            },
            success_rate: succeeded as f64 / offered as f64,
            goodput_per_s: succeeded as f64 / 18_000.0,
            attempts: offered * 13 / 10,
            retries: offered * 3 / 10,
            amplification: 1.3,
            human_retries: 0,
            latency_ms: percentiles(succeeded, 1.0),
            attempt_latency_ms: percentiles(offered, 0.5),
            wasted_cpu_s: 412.25,
            wasted_attempts: 20_512,
        }
    }

    fn service(cpu: f64, rejected: u64) -> ServiceSummary {
        ServiceSummary {
            cpu_utilisation: cpu,
            worker_utilisation: cpu * 1.1,
            queue_length_mean: 12.345,
            queue_length_max: 256,
            arrived: 1_400_000,
            completed: 1_380_000,
            rejected,
            queue_wait_ms: percentiles(1_380_000, 0.3),
            core_wait_ms: Percentiles::default(),
            wait_probability: Some(0.25),
            core_wait_probability: Some(0.0),
            mean_in_system: 30.5,
            throughput_per_s: 76.6,
            mean_time_in_system_ms: 398.0,
            wasted_cpu_s: 300.0,
            dropped_abandoned: 0,
            cpu_per_completion_ms: 20.5,
            connection_cpu_s: 0.0,
            rejected_by_limit: 0,
            reject_cpu_s: 0.0,
            concurrency_limit_min: None,
            concurrency_limit_max: None,
            instances: 4,
            instances_ready_max: 6,
            instances_ready_min: 4,
            instance_seconds: 72_000.0,
            instance_hours: 20.0,
            errors: 0,
            wasted_attempts: 0,
        }
    }

    /// A plausible five-hour run with two classes and two services.
    pub(crate) fn synthetic_summary() -> Summary {
        Summary {
            schema_version: SCHEMA_VERSION,
            stormsim_version: "0.1.0".to_owned(),
            scenario: ScenarioInfo {
                name: "demo".to_owned(),
                hash: "9f86d081884c7d65".to_owned(),
                variant: None,
            },
            seed: 7,
            generator: "ChaCha8Rng, one stream per component".to_owned(),
            partial: false,
            stopped_by: None,
            simulated_s: 18_000.0,
            warmup_s: None,
            measured_s: None,
            requests: requests(1_080_000, 1_020_000),
            classes: BTreeMap::from([
                ("browse".to_owned(), requests(800_000, 790_000)),
                ("login".to_owned(), requests(280_000, 230_000)),
            ]),
            regions: BTreeMap::new(),
            dependencies: BTreeMap::new(),
            cells: BTreeMap::new(),
            release: None,
            services: BTreeMap::from([
                ("api".to_owned(), service(0.873, 0)),
                ("db".to_owned(), service(0.41, 1234)),
            ]),
            clients: BTreeMap::from([(
                "app".to_owned(),
                HopSummary {
                    requests: 1_080_000,
                    attempts: 1_404_000,
                    succeeded: 1_020_000,
                    failed: 60_000,
                    amplification: 1.3,
                    attempts_per_offered: 1.3,
                    hedges: 0,
                    human_retries: 0,
                    breaker: None,
                },
            )]),
            slo: SloSummary {
                target_success_rate: 0.999,
                interval_s: 60.0,
                intervals: 300,
                intervals_met: 262,
                fraction_met: 262.0 / 300.0,
                bad_minutes: 38.0,
                error_budget_burn: Some(55.6),
                first_breach: Some(Moment { t_s: 9_900.0, clock: Some("08:45:00".to_owned()) }),
                detected: Some(Moment { t_s: 10_200.0, clock: Some("08:50:00".to_owned()) }),
                time_to_detect_s: Some(300.0),
                capacity_added: None,
                recovered: None,
                time_to_recover_s: None,
                episodes: vec![Episode {
                    start: Moment { t_s: 9_900.0, clock: Some("08:45:00".to_owned()) },
                    detected: Some(Moment { t_s: 10_200.0, clock: Some("08:50:00".to_owned()) }),
                    time_to_detect_s: Some(300.0),
                    capacity_added: None,
                    recovered: None,
                    time_to_recover_s: None,
                    duration_s: 8_100.0,
                    bad_minutes: 38.0,
                }],
                worst_episode: Some(0),
                episode_count: 1,
                worst_episode_s: 8_100.0,
            },
            alerts: vec![AlertFiring {
                name: "errors".to_owned(),
                fired: Moment { t_s: 10_200.0, clock: Some("08:50:00".to_owned()) },
                resolved: Some(Moment { t_s: 12_000.0, clock: Some("09:20:00".to_owned()) }),
            }],
            timeline: vec![MarkerSummary {
                at: Moment { t_s: 10_200.0, clock: Some("08:50:00".to_owned()) },
                kind: "alert".to_owned(),
                label: "alert \"errors\" fired".to_owned(),
            }],
            engine: EngineSummary {
                events: EventCounts {
                    arrivals: 1_080_000,
                    sends: 1_404_000,
                    completions: 1_380_000,
                    timeouts: 40_000,
                    backoff_wakes: 300_000,
                    total: 4_204_000,
                },
                events_handled: 4_500_000,
                peak_in_flight: 9_000,
            },
        }
    }

    /// `n_rows` one-minute intervals from 06:00 with an incident in the middle third: load
    /// rises, retries amplify it, success drops, latency and queues climb.
    pub(crate) fn synthetic_series(n_rows: usize) -> Series {
        let rows = (0..n_rows)
            .map(|idx| {
                let phase = idx as f64 / n_rows.max(1) as f64;
                let incident = (phase - 0.5).abs() < 1.0 / 6.0;
                let offered = (6_000.0 + 3_000.0 * (phase * std::f64::consts::PI).sin()) as u64;
                let success = if incident { 0.55 + 0.3 * ((idx % 7) as f64 / 7.0) } else { 0.998 };
                let succeeded = (offered as f64 * success) as u64;
                let mut failed = [0u64; FailureReason::COUNT];
                failed[FailureReason::Timeout.index()] = (offered - succeeded) * 2 / 3;
                failed[FailureReason::Rejected.index()] = (offered - succeeded) / 3;
                let latency =
                    if incident { 900.0 + 40.0 * (idx % 5) as f64 } else { 18.0 + (idx % 3) as f64 };
                let total = RequestFigures {
                    offered,
                    attempts: if incident { offered * 5 / 2 } else { offered + offered / 50 },
                    retries: if incident { offered * 3 / 2 } else { offered / 50 },
                    succeeded,
                    failed,
                    succeeded_by_arrival: succeeded,
                    failed_by_arrival: offered - succeeded,
                    latency_p50_ms: Some(latency),
                    latency_p90_ms: Some(latency * 2.1),
                    latency_p99_ms: Some(if incident { 4_000.0 } else { latency * 6.0 }),
                    latency_max_ms: Some(if incident { 10_000.0 } else { latency * 11.0 }),
                };
                let class = |share: f64| RequestFigures {
                    offered: (total.offered as f64 * share) as u64,
                    attempts: (total.attempts as f64 * share) as u64,
                    retries: (total.retries as f64 * share) as u64,
                    succeeded: (total.succeeded as f64 * share) as u64,
                    failed: total.failed.map(|n| (n as f64 * share) as u64),
                    succeeded_by_arrival: (total.succeeded_by_arrival as f64 * share) as u64,
                    failed_by_arrival: (total.failed_by_arrival as f64 * share) as u64,
                    latency_max_ms: None,
                    ..total.clone()
                };
                let service = |load: f64| ServiceFigures {
                    cpu_utilisation: if incident { 1.0 } else { load * offered as f64 / 9_000.0 },
                    worker_utilisation: if incident { 1.0 } else { load * 1.1 * offered as f64 / 9_000.0 },
                    queue_length_mean: if incident { 120.0 * load } else { 0.4 * load },
                    queue_length_max: if incident { 256 } else { 3 },
                    arrived: total.attempts,
                    completed: total.succeeded,
                    rejected: total.failed[FailureReason::Rejected.index()],
                    queue_wait_mean_ms: (idx % 4 != 3).then_some(if incident { 800.0 } else { 0.25 }),
                    wait_probability: Some(if incident { 1.0 } else { 0.1 }),
                    wasted_cpu_s: if incident { 12.5 } else { 0.0 },
                    errors: 0,
                    stay_mean_ms: None,
                    instances_ready: 4,
                    instances_desired: 4,
                    instances_provisioning: 0,
                    instances_running_mean: 4.0,
                    metrics_staleness_s: 30.0,
                    concurrency_limit: (load > 0.5).then_some(37.5),
                    capacity_per_s: 9_000.0 / load,
                };
                let start = SimTime(idx as u64 * 60 * 1_000_000_000);
                IntervalRow {
                    start,
                    end: start.after(SimDuration::from_secs(60)),
                    classes: vec![class(0.75), class(0.25)],
                    services: vec![service(0.85), service(0.45)],
                    regions: vec![],
                    cells: vec![],
                    clients: vec![ClientFigures {
                        requests: total.offered,
                        attempts: total.attempts,
                        hedges: 0,
                        human_retries: total.offered / 100,
                        succeeded: total.succeeded,
                        failed: total.failed_total(),
                        breaker: Some(BreakerFigures {
                            state: if incident { BreakerPhase::Open } else { BreakerPhase::Closed },
                            openings: incident as u64,
                            open_s: if incident { 60.0 } else { 0.0 },
                            half_open_s: 0.0,
                        }),
                    }],
                    total,
                }
            })
            .collect();
        Series {
            interval: SimDuration::from_secs(60),
            start_clock: Some(SimDuration::from_secs(6 * 3600)),
            class_names: vec!["browse".to_owned(), "login".to_owned()],
            service_names: vec!["api".to_owned(), "db".to_owned()],
            client_names: vec!["app".to_owned()],
            region_names: vec![],
            cell_names: vec![],
            rows,
            markers: vec![],
            slo: None,
            metrics_fault: vec![],
            providers: vec![],
            calendar: None,
            warmup: SimDuration::ZERO,
        }
    }

    fn output(n_rows: usize) -> RunOutput {
        RunOutput { summary: synthetic_summary(), series: synthetic_series(n_rows), stopped: None }
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut res: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        res.sort();
        res
    }

    #[test]
    fn writes_every_file_under_the_default_name() {
        let root = tempfile::tempdir().unwrap();
        let dir = OutDir::Default { root: root.path().join("outputs") };
        let path = write_run(&dir, &output(10), &resolved("[simulation]\nname = \"demo\"")).unwrap();
        assert_eq!(path, root.path().join("outputs/demo-seed7"));
        assert_eq!(
            entries(&path),
            [
                "chart.png",
                "chart.svg",
                "report.html",
                "scenario.resolved.toml",
                "summary.json",
                "timeseries.csv",
                "timeseries.om"
            ]
        );
        assert_eq!(fs::read_to_string(path.join(SCENARIO_FILE)).unwrap(), "[simulation]\nname = \"demo\"\n");
        let summary: Summary =
            serde_json::from_str(&fs::read_to_string(path.join(SUMMARY_FILE)).unwrap()).unwrap();
        assert_eq!(summary, synthetic_summary());
        assert_eq!(entries(&root.path().join("outputs")), ["demo-seed7"]);
    }

    #[test]
    fn default_naming_picks_the_next_free_suffix() {
        let root = tempfile::tempdir().unwrap();
        let dir = OutDir::Default { root: root.path().to_owned() };
        fs::create_dir(root.path().join("demo-seed7")).unwrap();
        let second = write_run(&dir, &output(2), &resolved("")).unwrap();
        assert_eq!(second, root.path().join("demo-seed7-2"));
        let third = write_run(&dir, &output(2), &resolved("")).unwrap();
        assert_eq!(third, root.path().join("demo-seed7-3"));
        // The first folder was left alone.
        assert!(entries(&root.path().join("demo-seed7")).is_empty());
    }

    #[test]
    fn explicit_existing_folder_is_refused_without_force_and_replaced_with_it() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("run");
        let mut first = output(2);
        first.summary.seed = 1;
        write_run(&OutDir::Explicit { path: path.clone(), force: false }, &first, &resolved("")).unwrap();

        let error =
            write_run(&OutDir::Explicit { path: path.clone(), force: false }, &output(2), &resolved(""))
                .unwrap_err();
        assert!(matches!(error, ReportError::Exists { .. }));
        let message = error.to_string();
        assert!(message.contains(&path.display().to_string()) && message.contains("--force"), "{message}");

        write_run(&OutDir::Explicit { path: path.clone(), force: true }, &output(2), &resolved("")).unwrap();
        let summary: Summary =
            serde_json::from_str(&fs::read_to_string(path.join(SUMMARY_FILE)).unwrap()).unwrap();
        assert_eq!(summary.seed, 7);
        assert_eq!(entries(root.path()), ["run"]);
    }

    #[test]
    fn force_refuses_a_folder_that_is_not_a_run() {
        let root = tempfile::tempdir().unwrap();
        fs::write(root.path().join("precious.txt"), "keep me").unwrap();
        let dir = OutDir::Explicit { path: root.path().to_owned(), force: true };
        let error = write_run(&dir, &output(2), &resolved("")).unwrap_err();
        assert!(matches!(error, ReportError::NotARunFolder { .. }), "{error}");
        assert_eq!(entries(root.path()), ["precious.txt"]);
    }

    #[test]
    fn a_parent_that_is_a_file_fails_cleanly() {
        let root = tempfile::tempdir().unwrap();
        let parent = root.path().join("not-a-folder");
        fs::write(&parent, "").unwrap();
        let dir = OutDir::Explicit { path: parent.join("run"), force: false };
        let error = write_run(&dir, &output(2), &resolved("")).unwrap_err();
        assert!(error.to_string().contains("not-a-folder"), "{error}");
        assert_eq!(entries(root.path()), ["not-a-folder"]);
    }

    #[test]
    fn a_failure_while_writing_leaves_no_temporary_folder() {
        let root = tempfile::tempdir().unwrap();
        let target = Target { path: root.path().join("run"), replace: false };
        let error = write_atomically(&target, |staging| {
            write_files(staging, &output(3), &Presentation::default())?;
            Err(ReportError::Io {
                action: "write",
                path: staging.join("disk-full"),
                source: io::Error::other("disk full"),
            })
        })
        .unwrap_err();
        assert!(matches!(error, ReportError::Io { .. }));
        assert!(entries(root.path()).is_empty(), "{:?}", entries(root.path()));
    }

    #[test]
    fn a_failed_forced_replacement_keeps_the_previous_run() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("run");
        write_run(&OutDir::Explicit { path: path.clone(), force: false }, &output(2), &resolved("old"))
            .unwrap();
        let target = Target { path: path.clone(), replace: true };
        write_atomically(&target, |_| Err(ReportError::NoFreeName { path: path.clone() })).unwrap_err();
        assert_eq!(entries(root.path()), ["run"]);
        assert_eq!(fs::read_to_string(path.join(SCENARIO_FILE)).unwrap(), "old\n");
    }

    #[test]
    fn a_variant_run_folder_names_the_variant() {
        let root = tempfile::tempdir().unwrap();
        let dir = OutDir::Default { root: root.path().to_owned() };
        let mut run = output(2);
        run.summary.scenario.variant = Some("pooled".to_owned());
        assert_eq!(write_run(&dir, &run, &resolved("")).unwrap(), root.path().join("demo-pooled-seed7"));
        assert_eq!(
            write_folder(&dir, "demo-compare-seed7", |_| Ok(())).unwrap(),
            root.path().join("demo-compare-seed7")
        );
        assert_eq!(
            write_folder(&dir, "demo-compare-seed7", |_| Ok(())).unwrap(),
            root.path().join("demo-compare-seed7-2")
        );
    }

    #[test]
    fn single_files_are_replaced_whole() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("report.xml");
        write_file_atomically(&path, b"old").unwrap();
        write_file_atomically(&path, b"new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(entries(root.path()), ["report.xml"], "no temporary file is left");
        // A missing folder is created; a file in the way of one is an error naming it.
        write_file_atomically(&root.path().join("ci/reports/report.xml"), b"x").unwrap();
        assert_eq!(fs::read_to_string(root.path().join("ci/reports/report.xml")).unwrap(), "x");
        let error = write_file_atomically(&root.path().join("report.xml/inner.xml"), b"x").unwrap_err();
        assert!(error.to_string().contains("report.xml"), "{error}");
        assert_eq!(entries(root.path()), ["ci", "report.xml"]);
    }

    #[test]
    fn folder_names_are_safe() {
        assert_eq!(folder_name("demo"), "demo");
        assert_eq!(folder_name("retry storm/v2"), "retry-storm-v2");
        assert_eq!(folder_name("..hidden"), "hidden");
        assert_eq!(folder_name(""), "run");
    }
}
