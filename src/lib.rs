//! stormsim: a discrete-event resilience simulator.
//!
//! A scenario (`scenario`) resolves into plain data (`model::Scenario`); a `Simulation`
//! drives the `model::World` on the `engine`'s event queue while `stats` streams what
//! happens into histograms and interval series; `report` writes the results; `app` runs
//! commands (runner, progress, errors, exit codes) and `cli` is the command line. See ARCHITECTURE.md for the map.

pub mod app;
pub mod calendar;
pub mod capacity;
pub mod check;
pub mod cli;
pub mod compare;
pub mod engine;
pub mod ids;
pub mod metastability;
pub mod model;
pub mod outcome;
pub mod refusal;
pub mod report;
pub mod scenario;
pub mod shard;
pub mod simulation;
pub mod stats;
pub mod sweep;
pub mod theory;
pub mod units;

pub use simulation::{EarlyStop, RunOutput, Simulation, simulate};
