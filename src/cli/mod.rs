//! The command line: argument types (clap derive) and one module per verb that turns its
//! arguments into a typed plan (`crate::app::Plan`), which `app::execute` runs. It lives in
//! the library so tests can call it in-process; `main.rs` only parses and dispatches here.
//!
//! Results go to stdout, progress and status to stderr. [`run`] is the one place that
//! prints an error; the exit code comes from the outcome or the error (see `crate::app`).

pub mod capacity;
pub mod check;
pub mod compare;
pub mod merge;
pub mod metastability;
pub mod run;
pub mod shard;
pub mod sweep;

pub use crate::app::Exit;

use crate::app::{self, Delivery, Plan};
use crate::report::{DEFAULT_ROOT, OutDir, Presentation};
use clap::{Args, CommandFactory, Parser, Subcommand};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The version, and the commit it was built from when built from a git checkout
/// (`build.rs`): `0.1.0 (3f2a9c1d7e4b)`.
pub const VERSION: &str = env!("STORMSIM_VERSION");

/// A discrete-event resilience simulator: replay incidents, compare mitigations, gate
/// capacity in CI.
#[derive(Debug, Parser)]
#[command(name = "stormsim", version = VERSION, about, long_about = None)]
pub struct Cli {
    /// Simulate on this many threads [default: the CPUs this process may use: its CPU affinity,
    /// cgroup CPU quota and SLURM_CPUS_PER_TASK]
    #[arg(long, short = 'j', value_name = "N", global = true, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a scenario and write its run folder (summary.json, timeseries.csv, charts).
    Run(run::RunArgs),
    /// Check scenario files without running them.
    Validate(ValidateArgs),
    /// Run a scenario and hold it to its thresholds; exit 1 if one is missed.
    Check(check::CheckArgs),
    /// Compare a scenario's variants with its baseline on the same seeds.
    Compare(compare::CompareArgs),
    /// Run a scenario over a grid of parameter values; write sweep.csv, sweep.json and a chart.
    Sweep(sweep::SweepArgs),
    /// Map how big and how long a surge must be to leave a service collapsed after it ends.
    ///
    /// stormsim metastability FILE --factor 1.25,1.5,2,3 --over 2s,5s,10s,20s
    Metastability(metastability::MetastabilityArgs),
    /// Find the smallest capacity (or largest multiplier) that meets every threshold.
    Capacity(capacity::CapacityArgs),
    /// Merge the shard files of a sharded sweep, check, compare or metastability map into its results.
    Merge(merge::MergeArgs),
    /// Print a shell's completion script.
    ///
    /// stormsim completions bash > ~/.local/share/bash-completion/completions/stormsim
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    ///
    /// stormsim man > ~/.local/share/man/man1/stormsim.1
    Man,
    /// Print the JSON Schema of scenario files, for editors' completion and checking.
    ///
    /// stormsim schema > scenario.schema.json; then start a scenario with
    /// #:schema ./scenario.schema.json (taplo, Even Better TOML)
    Schema,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell
    #[arg(value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files (TOML)
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print each scenario as resolved (every default written out) instead of a summary line
    #[arg(long)]
    pub print_config: bool,
}

/// `--seed`, for the verbs that simulate.
#[derive(Debug, Args)]
pub struct SeedArg {
    /// Seed of the random streams [default: the scenario's `seed`]
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

/// `--out` and `--force`, for the verbs that write a folder.
#[derive(Debug, Args)]
pub struct OutArgs {
    /// Write the run folder here [default: outputs/<scenario>-seed<N>, then -2, -3, ...]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace the --out folder if it holds a previous run
    #[arg(long, requires = "out")]
    pub force: bool,
}

impl OutArgs {
    pub fn dir(&self) -> OutDir {
        match &self.out {
            Some(path) => OutDir::Explicit { path: path.clone(), force: self.force },
            None => OutDir::Default { root: PathBuf::from(DEFAULT_ROOT) },
        }
    }
}

/// `--json` and `--quiet`, for every verb that prints results.
#[derive(Debug, Args)]
pub struct PrintArgs {
    /// Print the results as JSON on stdout, and nothing else there
    #[arg(long)]
    pub json: bool,
    /// No progress bar and no "wrote ..." line on stderr
    #[arg(long, short)]
    pub quiet: bool,
}

impl OutArgs {
    /// The folder to deliver into.
    fn delivery(&self, print: &PrintArgs) -> Delivery {
        Delivery { out: Some(self.dir()), ..print.delivery() }
    }
}

impl PrintArgs {
    fn delivery(&self) -> Delivery {
        Delivery { json: self.json, quiet: self.quiet, ..Delivery::default() }
    }
}

/// Where a plan's results come from: the scenario's notes, description and resolved text,
/// and this process's command line.
fn presentation(loaded: &crate::scenario::Loaded) -> Presentation {
    Presentation {
        notes: loaded.notes.clone(),
        command: command_line(std::env::args()),
        description: loaded.scenario.description.clone(),
        resolved_toml: loaded.resolved_toml.clone(),
        window: None,
    }
}

/// The command line as a shell would take it back: the program by its name, each argument
/// quoted when it needs to be.
fn command_line(args: impl Iterator<Item = String>) -> String {
    let quote = |arg: String| {
        let plain =
            !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:,@%+".contains(c));
        if plain { arg } else { format!("'{}'", arg.replace('\'', "'\\''")) }
    };
    let mut args = args;
    let program = args.next().map_or("stormsim".to_owned(), |program| {
        Path::new(&program).file_name().map_or(program.clone(), |name| name.to_string_lossy().into_owned())
    });
    std::iter::once(program).chain(args.map(quote)).collect::<Vec<_>>().join(" ")
}

/// Turns the verb's arguments into its plan, runs it through the one pipeline, prints its
/// error if any, and returns its exit code.
pub fn run(cli: Cli) -> ExitCode {
    app::threads::configure(cli.threads);
    let res = plan(cli.command).and_then(app::execute);
    match res {
        Ok(exit) => exit.into(),
        Err(error) if error.is_broken_pipe() => Exit::Ok.into(),
        Err(error) => {
            let _ = writeln!(io::stderr(), "{}", error.render());
            error.exit().into()
        }
    }
}

/// The plan of a verb: everything loaded and checked, nothing run.
pub fn plan(command: Command) -> app::Result<Plan> {
    match command {
        Command::Run(args) => run::plan(args),
        Command::Validate(args) => Ok(Plan::Validate { files: args.files, print_config: args.print_config }),
        Command::Check(args) => check::plan(args),
        Command::Compare(args) => compare::plan(args),
        Command::Sweep(args) => sweep::plan(args),
        Command::Capacity(args) => capacity::plan(args),
        Command::Metastability(args) => metastability::plan(args),
        Command::Merge(args) => Ok(merge::plan(args)),
        Command::Completions(args) => {
            let mut out = Vec::new();
            clap_complete::generate(args.shell, &mut Cli::command(), "stormsim", &mut out);
            Ok(Plan::Print(String::from_utf8_lossy(&out).into_owned()))
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut out).map_err(anyhow::Error::from)?;
            Ok(Plan::Print(String::from_utf8_lossy(&out).into_owned()))
        }
        Command::Schema => Ok(Plan::Print(crate::scenario::schema::text())),
    }
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
        assert_eq!(args.out.dir(), OutDir::Explicit { path: PathBuf::from("x"), force: true });
        assert_eq!(args.seed.seed, Some(3));
    }

    #[test]
    fn the_command_line_is_quoted_as_a_shell_takes_it() {
        let args = ["/usr/bin/stormsim", "check", "a b.toml", "--threshold", "success_rate >= 99%", "it's"];
        assert_eq!(
            command_line(args.iter().map(|arg| arg.to_string())),
            "stormsim check 'a b.toml' --threshold 'success_rate >= 99%' 'it'\\''s'"
        );
    }

    #[test]
    fn validate_needs_a_file() {
        let error = Cli::try_parse_from(["stormsim", "validate"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
    }

    #[test]
    fn threads_are_a_flag_of_every_verb() {
        let cli = Cli::try_parse_from(["stormsim", "sweep", "a.toml", "--threads", "3"]).unwrap();
        assert_eq!(cli.threads, Some(3));
        let cli = Cli::try_parse_from(["stormsim", "-j", "1", "check", "a.toml"]).unwrap();
        assert_eq!(cli.threads, Some(1));
        assert!(Cli::try_parse_from(["stormsim", "run", "a.toml", "--threads", "0"]).is_err());
    }
}
