//! The application layer between the command line and the library. `cli/` turns each
//! verb's arguments into a typed [`Plan`]; [`execute`] runs it through the one pipeline:
//! the one runner of simulations (with its progress bar and Ctrl-C policy), the verb's
//! finish into an [`Outcome`], delivery to the terminal and to files (`deliver`, rendering
//! through `report/`), and the exit code (`Outcome::exit`, `Error::exit`). The library below
//! knows nothing of terminals, signals or exit codes.
//!
//! # Exit codes
//!
//! | code | meaning |
//! |------|---------|
//! | 0 | success (also when stdout is closed early: a broken pipe) |
//! | 1 | a target was missed (`check`, `merge` of check shards), or no value in the range meets the targets (`capacity`) |
//! | 2 | usage error (clap), scenario error, or an output folder that may not be written (exists without `--force`, is not a run folder, or a file stands where it or its parent folder should be, `outputs` included) |
//! | 3 | a guard stopped the run early; the partial run folder was still written |
//! | 4 | internal failure, e.g. the run folder could not be written (disk full, permissions; a folder that refuses writes is found before the run) |
//! | 130 | interrupted (Ctrl-C or SIGTERM); what was simulated was written, marked partial |

pub mod deliver;
pub mod error;
pub mod outcome;
pub mod pipeline;
pub mod plan;
pub mod progress;
pub mod runner;
pub mod threads;

pub use error::{Error, usage};
pub use outcome::Outcome;
pub use pipeline::execute;
pub use plan::{Delivery, Plan};
pub use runner::{Job, Runner};

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// The result of a command's step.
pub type Result<T> = std::result::Result<T, Error>;

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

/// Set by Ctrl-C or SIGTERM: runs stop at their next event, and no new run starts.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Installs the signal handler (once per process) and returns the flag it sets; a second
/// signal exits at once. If no handler can be installed the run simply cannot be
/// interrupted cleanly.
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

/// `n` consecutive seeds from `first` (wrapping past `u64::MAX`).
pub fn first_seeds(first: u64, n: u64) -> Vec<u64> {
    (0..n).map(|offset| first.wrapping_add(offset)).collect()
}
