//! The one integration-test binary; modules are named after the behaviour they check.

mod broken_scenarios;
mod cells;
mod chains;
mod check_compare;
mod cli;
mod common;
mod concurrency;
mod fuzz_regressions;
mod incidents;
mod includes;
mod invariants;
mod limiters;
mod load_and_run;
mod operations;
mod output_paths;
mod overload;
mod protections;
mod providers;
mod queueing;
mod regions;
mod reports;
mod schema;
mod sweep_shards;
mod terminal;
mod traces;
mod workloads;
