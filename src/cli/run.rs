//! `stormsim run FILE`: load a scenario, simulate it (with the runner's progress bar and
//! Ctrl-C policy), write the run folder, print the summary.

use super::{OutArgs, PrintArgs, SeedArg};
use crate::app::{self, Exit, Job, Runner};
use crate::engine::SimDuration;
use crate::report;
use crate::scenario;
use crate::simulation::{EarlyStop, RunOutput};
use anyhow::Context;
use clap::Args;
use std::io::{self, Write};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (TOML)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[command(flatten)]
    pub seed: SeedArg,
    #[command(flatten)]
    pub out: OutArgs,
    #[command(flatten)]
    pub print: PrintArgs,
    /// Run this [variants.NAME] of the scenario (merged into the base)
    #[arg(long, value_name = "NAME")]
    pub variant: Option<String>,
}

pub fn run(args: RunArgs) -> app::Result<Exit> {
    let loaded = scenario::load_variant(&args.file, args.variant.as_deref())?;
    // Refuse an --out folder before spending time on the simulation.
    args.out.dir().preflight()?;
    let seed = args.seed.seed.unwrap_or(loaded.scenario.seed);
    let job = Job { scenario: &loaded.scenario, seed };
    let Some(output) = Runner::new(args.print.quiet).run(&[job], "").pop().flatten() else {
        writeln!(io::stderr(), "interrupted before the run began; nothing was written")
            .map_err(anyhow::Error::from)?;
        return Ok(Exit::Interrupted);
    };
    report(&args, &output, &loaded.resolved_toml, &mut io::stdout(), &mut io::stderr(), super::styled())
}

/// Writes the run folder and prints the results: the table (or JSON) on `stdout`, where
/// the folder went and why a run stopped early on `stderr`. The results are printed even
/// when the folder cannot be written, so a long run is never lost.
pub(crate) fn report(
    args: &RunArgs,
    output: &RunOutput,
    resolved_toml: &str,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
    styled: bool,
) -> app::Result<Exit> {
    let written = report::write_run(&args.out.dir(), output, resolved_toml);
    let text = if args.print.json {
        report::json::to_string(&output.summary).context("serialising the summary")?
    } else {
        report::table::render(&output.summary, styled)
    };
    stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).context("printing the summary")?;
    match written {
        Ok(path) if !args.print.quiet => writeln!(stderr, "wrote {}", path.display()).context("printing")?,
        Ok(_) => {}
        Err(error) => return Err(error.into()),
    }
    let Some(stop) = output.stopped else { return Ok(Exit::Ok) };
    writeln!(
        stderr,
        "run stopped early: {}; the results cover the first {} of simulated time",
        output.summary.stopped_by.as_deref().unwrap_or("a guard tripped"),
        SimDuration::from_secs_f64(output.summary.simulated_s),
    )
    .context("printing")?;
    Ok(match stop {
        EarlyStop::Guard(_) => Exit::Stopped,
        EarlyStop::Interrupted { .. } => Exit::Interrupted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimTime;
    use crate::model::{GuardBound, GuardTrip};
    use crate::report::tests::{synthetic_series, synthetic_summary};

    fn common(out: PathBuf, json: bool) -> RunArgs {
        RunArgs {
            file: PathBuf::from("s.toml"),
            seed: SeedArg { seed: None },
            out: OutArgs { out: Some(out), force: false },
            print: PrintArgs { json, quiet: false },
            variant: None,
        }
    }

    fn call(args: &RunArgs, output: &RunOutput) -> (app::Result<Exit>, String, String) {
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let res = report(args, output, "", &mut stdout, &mut stderr, false);
        (res, String::from_utf8(stdout).unwrap(), String::from_utf8(stderr).unwrap())
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
}
