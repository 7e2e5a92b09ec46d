//! The one integration-test binary; modules are named after the behaviour they check.

mod broken_scenarios;
mod chains;
mod check_compare;
mod cli;
mod common;
mod incidents;
mod invariants;
mod limiters;
mod operations;
mod overload;
mod queueing;
mod sweep_shards;
