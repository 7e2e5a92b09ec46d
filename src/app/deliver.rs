//! Delivers an outcome: its text (or JSON) on stdout, status on stderr, its files through
//! `report/`. Results are printed before anything is written, so a long run is never lost
//! to a folder that cannot be written.
//!
//! Each write takes the stream's lock for that write only: nothing here holds stdout or
//! stderr while another thread (the progress bar's) may want it.

use super::Result;
use super::outcome::{CapacityOutcome, Outcome};
use super::plan::Delivery;
use crate::engine::SimDuration;
use crate::report::capacity::SearchReport;
use crate::report::{self, DEFAULT_ROOT, OutDir, ReportError};
use crate::shard::ShardSpec;
use anyhow::Context;
use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

/// The files of a compare folder.
pub const COMPARE_FILE: &str = "compare.json";
pub const COMPARE_PNG_FILE: &str = "compare.png";
pub const COMPARE_SVG_FILE: &str = "compare.svg";

/// The files of a sweep folder.
pub const SWEEP_CSV_FILE: &str = "sweep.csv";
pub const SWEEP_JSON_FILE: &str = "sweep.json";
pub const SWEEP_PNG_FILE: &str = "sweep.png";
pub const SWEEP_SVG_FILE: &str = "sweep.svg";

/// The files of a metastability map's folder.
pub const METASTABILITY_CSV_FILE: &str = "metastability.csv";
pub const METASTABILITY_JSON_FILE: &str = "metastability.json";
pub const METASTABILITY_PNG_FILE: &str = "metastability.png";
pub const METASTABILITY_SVG_FILE: &str = "metastability.svg";

/// Where results and status go, and whether the results take colour.
pub struct Terminal<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    pub styled: bool,
}

/// Whether stdout takes colour: a terminal, and `NO_COLOR` unset or empty.
pub fn styled() -> bool {
    io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
}

impl Terminal<'_> {
    fn print(&mut self, text: &str, what: &'static str) -> Result<()> {
        self.out.write_all(text.as_bytes()).and_then(|()| self.out.flush()).context(what)?;
        Ok(())
    }

    fn status(&mut self, line: &str) -> Result<()> {
        writeln!(self.err, "{line}").context("printing")?;
        Ok(())
    }

    /// Says where a folder was written, unless quiet.
    fn announce(&mut self, written: std::result::Result<PathBuf, ReportError>, quiet: bool) -> Result<()> {
        let path = written?;
        if !quiet {
            self.status(&format!("wrote {}", path.display()))?;
        }
        Ok(())
    }
}

/// Prints the outcome and writes its files as `delivery` asks.
pub fn deliver(outcome: &Outcome, delivery: &Delivery, term: &mut Terminal<'_>) -> Result<()> {
    let out_dir = delivery.out.clone().unwrap_or(OutDir::Default { root: PathBuf::from(DEFAULT_ROOT) });
    match outcome {
        Outcome::Validated { lines, failures, files } => {
            for line in lines {
                term.print(line, "printing")?;
            }
            for failure in failures {
                term.status(failure)?;
            }
            if !failures.is_empty() {
                term.status(
                    &super::usage(format!("{} of {files} scenario files failed", failures.len())).render(),
                )?;
            }
            Ok(())
        }
        Outcome::Run(output) => {
            let written = report::write_run(&out_dir, output, &delivery.presentation);
            let text = if delivery.json {
                report::json::to_string(&output.summary).context("serialising the summary")?
            } else {
                report::table::render(&output.summary, term.styled)
            };
            term.print(&text, "printing the summary")?;
            term.announce(written, delivery.quiet)?;
            if output.stopped.is_some() {
                term.status(&format!(
                    "run stopped early: {}; the results cover the first {} of simulated time",
                    output.summary.stopped_by.as_deref().unwrap_or("a guard tripped"),
                    SimDuration::from_secs_f64(output.summary.simulated_s),
                ))?;
            }
            Ok(())
        }
        Outcome::NotStarted => term.status("interrupted before the run began; nothing was written"),
        Outcome::Sweep { sweep, runs } => {
            let (csv, json) = sweep_files(sweep, runs)?;
            let text = if delivery.json { json.clone() } else { report::sweep::table(sweep, runs) };
            term.print(&text, "printing the sweep")?;
            let base_name =
                format!("{}-sweep-seed{}", sweep.scenario, sweep.seeds.first().copied().unwrap_or(0));
            let written = report::write_folder(&out_dir, &base_name, |dir| {
                report::write_into(dir, SWEEP_CSV_FILE, csv.as_bytes())?;
                report::write_into(dir, SWEEP_JSON_FILE, json.as_bytes())?;
                let png = dir.join(SWEEP_PNG_FILE);
                let svg = report::chart::sweep::write(&png, sweep, runs)
                    .map_err(|source| ReportError::Chart { path: png.clone(), source })?;
                report::write_into(dir, SWEEP_SVG_FILE, svg.as_bytes())?;
                let html = report::html::sweep(sweep, runs, &svg, &delivery.presentation);
                report::write_into(dir, report::REPORT_FILE, html.as_bytes())
            });
            term.announce(written, delivery.quiet)
        }
        Outcome::Metastability { map, fates } => {
            let cells = map.tally(fates);
            let csv = report::metastability::csv(map, &cells).context("writing metastability.csv")?;
            let json = serde_json::to_string_pretty(&report::metastability::json(map, &cells, fates))
                .context("serialising metastability.json")?
                + "\n";
            let text = if delivery.json { json.clone() } else { report::metastability::table(map, &cells) };
            term.print(&text, "printing the map")?;
            let base_name =
                format!("{}-metastability-seed{}", map.scenario, map.seeds.first().copied().unwrap_or(0));
            let written = report::write_folder(&out_dir, &base_name, |dir| {
                report::write_into(dir, METASTABILITY_CSV_FILE, csv.as_bytes())?;
                report::write_into(dir, METASTABILITY_JSON_FILE, json.as_bytes())?;
                let png = dir.join(METASTABILITY_PNG_FILE);
                let svg = report::chart::metastability::write(&png, map, &cells)
                    .map_err(|source| ReportError::Chart { path: png.clone(), source })?;
                report::write_into(dir, METASTABILITY_SVG_FILE, svg.as_bytes())?;
                let html = report::html::metastability(map, &cells, &svg, &delivery.presentation);
                report::write_into(dir, report::REPORT_FILE, html.as_bytes())
            });
            term.announce(written, delivery.quiet)
        }
        Outcome::Check { report: check, failing } => {
            let text = if delivery.json {
                serde_json::to_string_pretty(&check.to_json()).context("serialising the verdicts")? + "\n"
            } else {
                report::check::render(check, term.styled)
            };
            term.print(&text, "printing the verdicts")?;
            if let Some(path) = &delivery.junit {
                let xml = report::junit::render(check).context("writing the JUnit report")?;
                report::write_file_atomically(path, xml.as_bytes())?;
            }
            if let Some(path) = &delivery.markdown {
                report::write_file_atomically(path, report::markdown::render(check).as_bytes())?;
            }
            // Only when asked: a check in CI leaves nothing behind by default.
            let Some(out_dir @ OutDir::Explicit { .. }) = &delivery.out else { return Ok(()) };
            // The report, and the run folder of each seed that missed a target.
            let base_name =
                format!("{}-check-seed{}", check.scenario, check.seeds.first().copied().unwrap_or(0));
            let written = report::write_folder(out_dir, &base_name, |dir| {
                let mut charts = Vec::new();
                for output in failing {
                    let name = format!("seed-{}", output.summary.seed);
                    let svg = report::write_run_into(dir, &name, output, &delivery.presentation)?;
                    charts.push((output.summary.seed, svg));
                }
                let html = report::html::check(check, &charts, &delivery.presentation);
                report::write_into(dir, report::REPORT_FILE, html.as_bytes())
            });
            term.announce(written, delivery.quiet)
        }
        Outcome::Compare { comparison, runs } => {
            let json = serde_json::to_string_pretty(&comparison.to_json())
                .context("serialising the comparison")?
                + "\n";
            let text = if delivery.json {
                json.clone()
            } else if delivery.wide {
                report::compare::render_wide(comparison, term.styled)
            } else {
                report::compare::render(comparison, term.styled)
            };
            term.print(&text, "printing the comparison")?;
            let labels: Vec<&str> = comparison.configs.iter().map(crate::compare::Config::label).collect();
            let seeds = &comparison.seeds;
            let title = format!(
                "{} · {} vs baseline · {} seeds",
                comparison.scenario,
                labels[1..].join(", "),
                seeds.len()
            );
            let base_name = format!("{}-compare-seed{}", comparison.scenario, seeds[0]);
            let written = report::write_folder(&out_dir, &base_name, |dir| {
                report::write_into(dir, COMPARE_FILE, json.as_bytes())?;
                let png = dir.join(COMPARE_PNG_FILE);
                let lines = crate::compare::series::lines(&labels, runs);
                let svg = report::chart::write_comparison(&png, &runs[0][0].series, &lines, &title)
                    .map_err(|source| ReportError::Chart { path: png.clone(), source })?;
                report::write_into(dir, COMPARE_SVG_FILE, svg.as_bytes())?;
                let html = report::html::compare(comparison, &svg, &delivery.presentation);
                report::write_into(dir, report::REPORT_FILE, html.as_bytes())
            });
            term.announce(written, delivery.quiet)
        }
        Outcome::Capacity(capacity) => {
            let CapacityOutcome { param, range, goal, thresholds, search } = capacity.as_ref();
            let report = SearchReport { param, range, goal: *goal, thresholds, search };
            let text = if delivery.json {
                serde_json::to_string_pretty(&report.to_json()).context("serialising the search")? + "\n"
            } else {
                report.render(term.styled)
            };
            term.print(&text, "printing the search")
        }
        Outcome::Text(text) => term.print(text, "printing"),
        Outcome::Sharded { path, file, of } => {
            let json = file.to_json().context("serialising the shard file")?;
            report::write_file_atomically(path, json.as_bytes())?;
            if file.interrupted {
                term.status(&format!(
                    "interrupted: wrote the {} of {of} runs that finished to {}, marked interrupted",
                    file.jobs.len(),
                    path.display()
                ))
            } else if delivery.quiet {
                Ok(())
            } else {
                let threads = file.threads.map_or(String::new(), |threads| {
                    format!(" on {threads} thread{}", if threads == 1 { "" } else { "s" })
                });
                term.status(&format!(
                    "wrote {} (shard {}, {} jobs{threads})",
                    path.display(),
                    file.shard,
                    file.jobs.len()
                ))
            }
        }
    }
}

/// The rendered files of a sweep: `sweep.csv` and `sweep.json`.
pub fn sweep_files(
    sweep: &crate::sweep::Sweep,
    runs: &[crate::sweep::MetricValues],
) -> Result<(String, String)> {
    let csv = report::sweep::csv(sweep, runs).context("writing sweep.csv")?;
    let json = serde_json::to_string_pretty(&report::sweep::json(sweep, runs))
        .context("serialising sweep.json")?
        + "\n";
    Ok((csv, json))
}

/// `outputs/<scenario>-<command>-shard<K>of<N>.json`, `-interrupted` when cut short.
pub(crate) fn default_shard_path(
    scenario: &str,
    command: &str,
    spec: ShardSpec,
    interrupted: bool,
) -> PathBuf {
    let suffix = if interrupted { "-interrupted" } else { "" };
    Path::new(DEFAULT_ROOT)
        .join(format!("{scenario}-{command}-shard{}of{}{suffix}.json", spec.index, spec.count))
}

/// `2 sources, 1 service, duration 5h00m`, then thresholds and variants when there are.
pub(crate) fn describe(loaded: &crate::scenario::Loaded) -> String {
    let scenario = &loaded.scenario;
    let mut res = format!(
        "{}, {}, duration {}",
        plural(scenario.sources.len(), "source"),
        plural(scenario.services.len(), "service"),
        SimDuration(scenario.duration.0),
    );
    if !loaded.thresholds.is_empty() {
        res.push_str(&format!(", {}", plural(loaded.thresholds.len(), "threshold")));
    }
    if !loaded.variants.is_empty() {
        res.push_str(&format!(
            ", {}: {}",
            plural(loaded.variants.len(), "variant"),
            loaded.variants.join(", ")
        ));
    }
    res
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::Exit;
    use crate::engine::SimTime;
    use crate::model::{GuardBound, GuardTrip};
    use crate::report::tests::{synthetic_series, synthetic_summary};
    use crate::simulation::{EarlyStop, RunOutput};

    fn common(out: PathBuf, json: bool) -> Delivery {
        Delivery { json, out: Some(OutDir::Explicit { path: out, force: false }), ..Delivery::default() }
    }

    /// Delivers a run's outcome: the exit code (or the error), stdout and stderr.
    fn call(delivery: &Delivery, output: &RunOutput) -> (Result<Exit>, String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let outcome = Outcome::Run(Box::new(output.clone()));
        let res = deliver(&outcome, delivery, &mut Terminal { out: &mut out, err: &mut err, styled: false })
            .map(|()| outcome.exit());
        (res, String::from_utf8(out).unwrap(), String::from_utf8(err).unwrap())
    }

    #[test]
    fn json_mode_prints_only_the_summary_on_stdout() {
        let dir = tempfile::tempdir().unwrap();
        let output = RunOutput { summary: synthetic_summary(), series: synthetic_series(3), stopped: None };
        let (code, stdout, stderr) = call(&common(dir.path().join("run"), true), &output);
        assert_eq!(code.unwrap(), Exit::Ok);
        let parsed: crate::stats::Summary = serde_json::from_str(&stdout).unwrap();
        assert_eq!(parsed, output.summary);
        assert!(stderr.starts_with("wrote "), "{stderr}");
    }

    #[test]
    fn a_partial_run_is_written_and_exits_3() {
        let dir = tempfile::tempdir().unwrap();
        let trip =
            GuardTrip { bound: GuardBound::MaxInFlight, limit: 2_000_000, at: SimTime(3_720_000_000_000) };
        let stopped = Some(EarlyStop::Guard(trip));
        let mut output = RunOutput { summary: synthetic_summary(), series: synthetic_series(3), stopped };
        output.summary.partial = true;
        output.summary.stopped_by = Some("max_in_flight (2000000) exceeded at t+1h02m".to_owned());
        let (code, stdout, stderr) = call(&common(dir.path().join("run"), false), &output);
        assert_eq!(code.unwrap(), Exit::Stopped);
        assert!(stdout.contains("partial run"), "{stdout}");
        assert!(stderr.contains("run stopped early: max_in_flight"), "{stderr}");
        assert!(dir.path().join("run/summary.json").is_file());
    }

    #[test]
    fn an_existing_out_folder_exits_2_but_still_prints_the_results() {
        let dir = tempfile::tempdir().unwrap();
        let output = RunOutput { summary: synthetic_summary(), series: synthetic_series(3), stopped: None };
        let (res, stdout, _) = call(&common(dir.path().to_owned(), false), &output);
        let error = res.unwrap_err();
        assert_eq!(error.exit(), Exit::Usage);
        assert!(stdout.contains("offered"));
        assert!(error.render().contains("--force"), "{}", error.render());
    }

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "source"), "1 source");
        assert_eq!(plural(0, "service"), "0 services");
    }

    #[test]
    fn a_shard_file_is_written_whole_and_announced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/s-sweep-shard1of2.json");
        let fingerprint: crate::shard::Fingerprint = serde_json::from_value(serde_json::json!({
            "purpose": { "command": "compare", "hashes": ["h"] },
            "stormsim_version": "0", "scenario_hash": "h", "resolved_scenario": "",
            "variant": null, "configs": ["baseline"], "seeds": [1, 2]
        }))
        .unwrap();
        let file = crate::shard::ShardFile {
            schema_version: crate::shard::SCHEMA_VERSION,
            fingerprint,
            shard: ShardSpec { index: 1, count: 2 },
            jobs: Vec::new(),
            interrupted: true,
            threads: Some(1),
        };
        let outcome = Outcome::Sharded { path: path.clone(), file: Box::new(file.clone()), of: 1 };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        deliver(
            &outcome,
            &Delivery::default(),
            &mut Terminal { out: &mut out, err: &mut err, styled: false },
        )
        .unwrap();
        assert_eq!(outcome.exit(), Exit::Interrupted);
        assert!(out.is_empty());
        let err = String::from_utf8(err).unwrap();
        assert!(err.starts_with("interrupted: wrote the 0 of 1 runs"), "{err}");
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(crate::shard::ShardFile::parse("f", &text).unwrap(), file);
    }
}
