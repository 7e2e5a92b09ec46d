//! The command line: argument types (clap derive), one module per verb, and the mapping
//! from outcomes to exit codes. It lives in the library so tests can call it in-process;
//! `main.rs` only parses and dispatches here.
//!
//! Results go to stdout, progress and status to stderr.
//!
//! # Exit codes
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success (also when stdout is closed early: a broken pipe) |
//! | 1 | a target was missed (`check`, `merge` of check shards), or no value in the range meets the targets (`capacity`) |
//! | 2 | usage error (clap), scenario error, or an output folder that may not be written (exists without `--force`, is not a run folder, or a file stands where it or its parent folder should be, `outputs` included) |
//! | 3 | a guard stopped the run early; the partial run folder was still written |
//! | 130 | interrupted (Ctrl-C or SIGTERM); what was simulated was written, marked partial |
//! | 4 | internal failure, e.g. the run folder could not be written (disk full, permissions; a folder that refuses writes is found before the run) |

pub mod capacity;
pub mod check;
pub mod compare;
pub mod merge;
pub mod progress;
pub mod replicate;
pub mod run;
pub mod shard;
pub mod sweep;
pub mod validate;

use crate::report::{DEFAULT_ROOT, OutDir};
use clap::{Args, Parser, Subcommand};
use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// A discrete-event resilience simulator: replay incidents, compare mitigations, gate
/// capacity in CI.
#[derive(Debug, Parser)]
#[command(name = "stormsim", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario and write its run folder (summary.json, timeseries.csv, charts).
    Run(run::RunArgs),
    /// Check scenario files without running them.
    Validate(validate::ValidateArgs),
    /// Run a scenario and hold it to its thresholds; exit 1 if one is missed.
    Check(check::CheckArgs),
    /// Compare a scenario's variants with its baseline on the same seeds.
    Compare(compare::CompareArgs),
    /// Run a scenario over a grid of parameter values; write sweep.csv, sweep.json and a chart.
    Sweep(sweep::SweepArgs),
    /// Find the smallest capacity (or largest multiplier) that meets every threshold.
    Capacity(capacity::CapacityArgs),
    /// Merge the shard files of a sharded sweep, check or compare into its results.
    Merge(merge::MergeArgs),
}

/// Flags shared by the verbs that run simulations.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Seed of the random streams [default: the scenario's `seed`]
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Write the run folder here [default: outputs/<scenario>-seed<N>, then -2, -3, ...]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace the --out folder if it holds a previous run
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Print the summary as JSON on stdout, and nothing else there
    #[arg(long)]
    pub json: bool,
    /// No progress bar and no "wrote ..." line on stderr
    #[arg(long, short)]
    pub quiet: bool,
}

impl CommonArgs {
    pub fn out_dir(&self) -> OutDir {
        match &self.out {
            Some(path) => OutDir::Explicit { path: path.clone(), force: self.force },
            None => OutDir::Default { root: PathBuf::from(DEFAULT_ROOT) },
        }
    }
}

/// Set by Ctrl-C or SIGTERM: runs stop at their next event, and no new run starts.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the signal handler (once per process) and returns the flag it sets. If no
/// handler can be installed the run simply cannot be interrupted cleanly.
pub(crate) fn interrupt_flag() -> &'static AtomicBool {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            if INTERRUPTED.swap(true, Ordering::Relaxed) {
                std::process::exit(Exit::Interrupted as i32);
            }
        });
    });
    &INTERRUPTED
}

/// The exit codes of every verb (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Ok = 0,
    TargetMissed = 1,
    Usage = 2,
    Stopped = 3,
    Internal = 4,
    /// 128 + SIGINT, the shell's convention for a run stopped by Ctrl-C.
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> ExitCode {
        ExitCode::from(exit as u8)
    }
}

/// Runs the verb and turns its outcome into an exit code, printing unexpected errors.
pub fn run(cli: Cli) -> ExitCode {
    let res = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Validate(args) => validate::run(args),
        Command::Check(args) => check::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Capacity(args) => capacity::run(args),

        Command::Merge(args) => merge::run(args),
    };
    match res {
        Ok(code) => code,
        Err(error) if is_broken_pipe(&error) => Exit::Ok.into(),
        Err(error) => {
            let _ = writeln!(io::stderr(), "error: {error:#}");
            Exit::Internal.into()
        }
    }
}

/// Loads the scenario at `file` with `variant` merged in; on failure prints the located
/// error and gives the exit code for bad input.
pub(crate) fn load_or_exit(
    file: &std::path::Path,
    variant: Option<&str>,
    stderr: &mut dyn Write,
) -> io::Result<Result<crate::scenario::Loaded, ExitCode>> {
    match crate::scenario::load_variant(file, variant) {
        Ok(loaded) => Ok(Ok(loaded)),
        Err(error) => writeln!(stderr, "{error}").map(|()| Err(Exit::Usage.into())),
    }
}

/// Says where a folder was written (unless quiet), or why not. A refused `--out` is bad
/// input: the message is printed and the exit code returned for the caller to end with.
/// Any other failure is an internal error.
pub(crate) fn report_written(
    written: Result<PathBuf, crate::report::ReportError>,
    quiet: bool,
    stderr: &mut dyn Write,
) -> anyhow::Result<Option<ExitCode>> {
    use crate::report::ReportError;
    match written {
        Ok(path) => {
            if !quiet {
                writeln!(stderr, "wrote {}", path.display())?;
            }
            Ok(None)
        }
        Err(
            error @ (ReportError::Exists { .. }
            | ReportError::NotARunFolder { .. }
            | ReportError::InvalidPath { .. }
            | ReportError::NotAFolder { .. }),
        ) => {
            writeln!(stderr, "error: {error}")?;
            Ok(Some(Exit::Usage.into()))
        }
        Err(error) => Err(error.into()),
    }
}

/// `n` consecutive seeds from `first` (wrapping past `u64::MAX`).
pub fn first_seeds(first: u64, n: u64) -> Vec<u64> {
    (0..n).map(|offset| first.wrapping_add(offset)).collect()
}

/// A closed stdout (`stormsim run ... | head`) is the reader's choice, not a failure.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<io::Error>().is_some_and(|error| error.kind() == io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn arguments_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn force_requires_out() {
        let error = Cli::try_parse_from(["stormsim", "run", "a.toml", "--force"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        let cli = Cli::try_parse_from(["stormsim", "run", "a.toml", "--out", "x", "--force", "--seed", "3"])
            .unwrap();
        let Command::Run(args) = cli.command else { panic!("expected run") };
        assert_eq!(args.common.out_dir(), OutDir::Explicit { path: PathBuf::from("x"), force: true });
        assert_eq!(args.common.seed, Some(3));
    }

    #[test]
    fn validate_needs_a_file() {
        let error = Cli::try_parse_from(["stormsim", "validate"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn broken_pipe_is_recognised_through_context() {
        let error =
            anyhow::Error::new(io::Error::from(io::ErrorKind::BrokenPipe)).context("printing the summary");
        assert!(is_broken_pipe(&error));
        assert!(!is_broken_pipe(&anyhow::anyhow!("disk full")));
    }
}
