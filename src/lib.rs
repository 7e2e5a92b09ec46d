//! stormsim: a discrete-event resilience simulator.

pub mod engine;
pub mod model;
pub mod simulation;
pub mod stats;

pub use simulation::{RunOutput, Simulation, simulate};
pub mod theory;
