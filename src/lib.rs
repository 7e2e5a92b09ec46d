//! stormsim: a discrete-event resilience simulator.

pub mod cli;
pub mod engine;
pub mod model;
pub mod report;
pub mod scenario;
pub mod simulation;
pub mod stats;

pub use simulation::{RunOutput, Simulation, simulate};
