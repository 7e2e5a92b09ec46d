//! The vocabulary of `design/model.md` as plain data and behaviour; no I/O, no TOML.

pub mod outcome;
pub mod spec;

pub use outcome::FailureReason;
pub use spec::*;
