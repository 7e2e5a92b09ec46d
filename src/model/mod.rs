//! The vocabulary of `design/model.md` as plain data and behaviour; no I/O, no TOML.

pub mod alert;
pub mod autoscaler;
pub mod balancer;
pub mod cell;
pub mod concurrency;
pub mod event;
pub mod ids;
pub mod instance;
pub mod lifecycle;
pub mod limiter;
pub mod metrics;
pub mod overload;
pub mod region;
pub mod request;
pub mod retry;
pub mod service;
pub mod source;
pub mod spec;
pub mod timeline;
pub mod users;
pub mod world;

pub use crate::outcome::FailureReason;
pub use event::Event;
pub use spec::*;
pub use world::{GuardBound, GuardTrip, World};
