//! `stormsim run FILE`: load a scenario, simulate it (with the runner's progress bar and
//! Ctrl-C policy), write the run folder, print the summary.

use super::replicate::{Job, Runner};
use super::{CommonArgs, Exit, load_or_exit, report_written};
use crate::engine::SimDuration;
use crate::report;
use crate::simulation::{EarlyStop, RunOutput};
use anyhow::Context;
use clap::Args;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (TOML)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Run this [variants.NAME] of the scenario (merged into the base)
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
}

pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let mut stderr = io::stderr();
    let loaded = match load_or_exit(&args.file, args.variant.as_deref(), &mut stderr)? {
        Ok(loaded) => loaded,
        Err(code) => return Ok(code),
    };
    // Refuse an --out folder before spending time on the simulation.
    let out_dir = args.common.out_dir();
    if let Err(error) = out_dir.preflight()
        && let Some(code) = report_written(Err(error), true, &mut stderr)?
    {
        return Ok(code);
    }
    let seed = args.common.seed.unwrap_or(loaded.scenario.seed);
    let job = Job { scenario: &loaded.scenario, seed };
    let Some(output) = Runner::new(args.common.quiet).run(&[job], "").pop().flatten() else {
        writeln!(stderr, "interrupted before the run began; nothing was written")?;
        return Ok(Exit::Interrupted.into());
    };
    let stdout = io::stdout();
    let styled = stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty());
    report(&args.common, &output, &loaded.resolved_toml, &mut io::stdout(), &mut stderr, styled)
}

/// Writes the run folder and prints the results: the table (or JSON) on `stdout`, where
/// the folder went and why a run stopped early on `stderr`. The results are printed even
/// when the folder cannot be written, so a long run is never lost.
pub(crate) fn report(
    common: &CommonArgs,
    output: &RunOutput,
    resolved_toml: &str,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    styled: bool,
) -> anyhow::Result<ExitCode> {
    let written = report::write_run(&common.out_dir(), output, resolved_toml);

    if common.json {
        let json = report::json::to_string(&output.summary).context("serialising the summary")?;
        stdout.write_all(json.as_bytes()).context("printing the summary")?;
    } else {
        stdout
            .write_all(report::table::render(&output.summary, styled).as_bytes())
            .context("printing the summary")?;
    }
    stdout.flush().context("printing the summary")?;

    if let Some(code) = report_written(written, common.quiet, stderr)? {
        return Ok(code);
    }

    let summary = &output.summary;
    let Some(stop) = output.stopped else { return Ok(Exit::Ok.into()) };
    writeln!(
        stderr,
        "run stopped early: {}; the results cover the first {} of simulated time",
        summary.stopped_by.as_deref().unwrap_or("a guard tripped"),
        SimDuration::from_secs_f64(summary.simulated_s),
    )?;
    Ok(match stop {
        EarlyStop::Guard(_) => Exit::Stopped,
        EarlyStop::Interrupted { .. } => Exit::Interrupted,
    }
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimTime;
    use crate::model::{GuardBound, GuardTrip};
    use crate::report::tests::{synthetic_series, synthetic_summary};

    fn common(out: PathBuf, json: bool) -> CommonArgs {
        CommonArgs { seed: None, out: Some(out), force: false, json, quiet: false }
    }

    fn call(common: &CommonArgs, output: &RunOutput) -> (ExitCode, String, String) {
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let code = report(common, output, "", &mut stdout, &mut stderr, false).unwrap();
        (code, String::from_utf8(stdout).unwrap(), String::from_utf8(stderr).unwrap())
    }

    #[test]
    fn json_mode_prints_only_the_summary_on_stdout() {
        let dir = tempfile::tempdir().unwrap();
        let output = RunOutput { summary: synthetic_summary(), series: synthetic_series(3), stopped: None };
        let (code, stdout, stderr) = call(&common(dir.path().join("run"), true), &output);
        assert_eq!(code, ExitCode::SUCCESS);
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
        assert_eq!(code, ExitCode::from(3));
        assert!(stdout.contains("partial run"), "{stdout}");
        assert!(stderr.contains("run stopped early: max_in_flight"), "{stderr}");
        assert!(dir.path().join("run/summary.json").is_file());
    }

    #[test]
    fn an_existing_out_folder_exits_2_but_still_prints_the_results() {
        let dir = tempfile::tempdir().unwrap();
        let output = RunOutput { summary: synthetic_summary(), series: synthetic_series(3), stopped: None };
        let (code, stdout, stderr) = call(&common(dir.path().to_owned(), false), &output);
        assert_eq!(code, ExitCode::from(2));
        assert!(stdout.contains("offered"));
        assert!(stderr.contains("--force"), "{stderr}");
    }
}
