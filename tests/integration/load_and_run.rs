//! The property every scenario text must have, whatever it holds: loading it (the base and
//! each variant) returns a scenario or a rendered error, never a panic, and a scenario that
//! loads runs a short while without panicking or hanging.
//!
//! Shared by the property tests (`fuzz_regressions.rs`) and the cargo-fuzz target
//! (`fuzz/fuzz_targets/load_and_run.rs` includes this file), so both check the same thing.

use stormsim::engine::SimDuration;
use stormsim::model::Scenario;
use stormsim::scenario::{ScenarioError, load_str, load_str_variant};
use stormsim::simulate;

/// The label fuzzed texts are loaded under.
pub const LABEL: &str = "fuzz.toml";

/// Variants run per input at most (a fuzzed file may declare hundreds).
const MAX_VARIANTS: usize = 4;

/// Simulated time of a short run.
const SHORT_RUN: SimDuration = SimDuration(2_000_000_000);

/// Loads `text` and each of its variants, renders every error and runs every scenario that
/// loads for a short while. Panics when a property does not hold.
pub fn check(text: &str) {
    let loaded = match load_str(text, LABEL) {
        Ok(loaded) => loaded,
        Err(error) => {
            check_error(&error);
            return;
        }
    };
    run_short(&loaded.scenario);
    match load_str(&loaded.resolved_toml, "resolved.toml") {
        Ok(again) => assert_eq!(
            again.scenario, loaded.scenario,
            "the resolved TOML loads as another scenario:\n{}",
            loaded.resolved_toml
        ),
        Err(error) => panic!("the resolved TOML does not load: {error}\n{}", loaded.resolved_toml),
    }
    for name in loaded.variants.iter().take(MAX_VARIANTS) {
        match load_str_variant(text, LABEL, Some(name)) {
            Ok(variant) => run_short(&variant.scenario),
            Err(error) => check_error(&error),
        }
    }
}

/// An error renders, in the crate's shape.
fn check_error(error: &ScenarioError) {
    let rendered = error.to_string();
    assert!(rendered.starts_with("error: "), "{rendered}");
    if let Some(diagnostic) = error.diagnostic() {
        assert!(diagnostic.line >= 1 && diagnostic.column >= 1, "{rendered}");
        assert_eq!(diagnostic.file, LABEL, "{rendered}");
    }
}

/// Runs `scenario` for at most `SHORT_RUN` of simulated time, with small guards, and checks
/// that every request is accounted for.
pub fn run_short(scenario: &Scenario) {
    let mut scenario = scenario.clone();
    scenario.duration = scenario.duration.min(SHORT_RUN);
    scenario.interval = scenario.interval.min(scenario.duration);
    scenario.guard.max_events = scenario.guard.max_events.min(20_000);
    scenario.guard.max_in_flight = scenario.guard.max_in_flight.min(2_000);
    let output = simulate(&scenario, scenario.seed);
    let requests = &output.summary.requests;
    assert_eq!(
        requests.offered,
        requests.succeeded + requests.failed + requests.in_flight,
        "offered = succeeded + failed + in flight"
    );
}
