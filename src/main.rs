//! The `stormsim` binary: parse the arguments, run the verb, exit with its code.
//!
//! Everything else lives in the library (`stormsim::cli`), so tests can drive it
//! in-process. Exit codes are documented there.

use clap::Parser;
use std::process::ExitCode;
use stormsim::cli::{self, Cli};

fn main() -> ExitCode {
    cli::run(Cli::parse())
}
