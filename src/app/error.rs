//! The one error type of the application layer: every way a command can fail, each knowing
//! its exit code. `cli::run` is the one place that prints it.

use super::Exit;
use crate::refusal::Refusal;
use crate::report::ReportError;
use crate::scenario::ScenarioError;
use crate::shard::MergeError;

/// Why a command could not give its results.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scenario file that cannot be read or is not valid, rendered with its location.
    #[error("{0}")]
    Scenario(#[from] ScenarioError),
    /// Arguments the command cannot act on, and what would be valid.
    #[error(transparent)]
    Usage(#[from] Refusal),
    /// An output that may not be written (exists, not ours, a file in the way) or could
    /// not be written.
    #[error(transparent)]
    Output(#[from] ReportError),
    /// Shard files that do not make one whole matrix, or a file that is not a shard file.
    #[error(transparent)]
    Merge(#[from] MergeError),
    /// A guard stopped one of many runs: no result is drawn from partial runs.
    #[error("{0}; no results from partial runs")]
    Stopped(String),
    /// Anything else: printing results, serialising them.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    /// The exit code this failure ends the command with.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Scenario(_) | Error::Usage(_) | Error::Merge(_) => Exit::Usage,
            Error::Output(error) if error.is_refusal() => Exit::Usage,
            Error::Output(_) | Error::Internal(_) => Exit::Internal,
            Error::Stopped(_) => Exit::Stopped,
        }
    }

    /// The text printed on stderr: `error: ` and the chain of causes; scenario diagnostics
    /// carry their own `error:` header and location.
    pub fn render(&self) -> String {
        if let Error::Scenario(error) = self {
            return error.to_string();
        }
        let mut text = format!("error: {self}");
        let mut cause = std::error::Error::source(self);
        while let Some(error) = cause {
            text.push_str(&format!(": {error}"));
            cause = error.source();
        }
        text
    }

    /// A closed stdout (`stormsim run ... | head`) is the reader's choice, not a failure.
    pub fn is_broken_pipe(&self) -> bool {
        let Error::Internal(error) = self else { return false };
        error.chain().any(|cause| {
            cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(|error| error.kind() == std::io::ErrorKind::BrokenPipe)
        })
    }
}

impl From<std::io::Error> for Error {
    /// Printing to stdout or stderr failed (a closed pipe, a full disk).
    fn from(error: std::io::Error) -> Error {
        Error::Internal(error.into())
    }
}

/// Shorthand for a refusal of the arguments.
pub fn usage(message: impl Into<String>) -> Error {
    Error::Usage(Refusal::new(message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn each_failure_knows_its_exit_code() {
        assert_eq!(usage("bad").exit(), Exit::Usage);
        let exists = Error::Output(ReportError::Exists { path: PathBuf::from("x") });
        assert_eq!(exists.exit(), Exit::Usage);
        let io = ReportError::Io {
            action: "write",
            path: PathBuf::from("x"),
            source: std::io::ErrorKind::Other.into(),
        };
        assert_eq!(Error::Output(io).exit(), Exit::Internal);
        assert_eq!(Error::Stopped("the run of seed 3 stopped early".into()).exit(), Exit::Stopped);
        assert_eq!(Error::Merge(MergeError::Empty).exit(), Exit::Usage);
    }

    #[test]
    fn errors_render_with_one_header_and_their_causes() {
        assert_eq!(usage("no thresholds").render(), "error: no thresholds");
        let io = ReportError::Io {
            action: "write in",
            path: PathBuf::from("/x"),
            source: std::io::ErrorKind::PermissionDenied.into(),
        };
        assert_eq!(Error::Output(io).render(), "error: cannot write in /x: permission denied");
        let internal = anyhow::anyhow!("disk full").context("printing the summary");
        assert_eq!(Error::Internal(internal).render(), "error: printing the summary: disk full");
        let error = crate::scenario::load_str("[simulation]\nduration = 3\n", "s.toml").unwrap_err();
        let rendered = Error::from(error).render();
        assert!(rendered.starts_with("error: ") && !rendered.starts_with("error: error:"), "{rendered}");
    }

    #[test]
    fn broken_pipe_is_recognised_through_context() {
        let error = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
            .context("printing the summary");
        assert!(Error::Internal(error).is_broken_pipe());
        assert!(!Error::Internal(anyhow::anyhow!("disk full")).is_broken_pipe());
    }
}
