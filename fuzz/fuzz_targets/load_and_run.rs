//! Any text as a scenario file: loading it and each of its variants returns a scenario or a
//! rendered error, and a scenario that loads runs a short while (2 simulated seconds, small
//! guards) without panicking or hanging. The checks are the property tests' own.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../../tests/integration/load_and_run.rs"]
mod load_and_run;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        load_and_run::check(text);
    }
});
