//! stormsim: a discrete-event resilience simulator.

pub mod engine;
pub mod model;
pub mod scenario;
pub mod stats;
pub mod simulation;

pub use simulation::{RunOutput, Simulation, simulate};
