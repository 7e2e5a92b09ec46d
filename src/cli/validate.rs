//! `stormsim validate FILE... [--print-config]`: load each scenario and report what it
//! holds (or print it with every default written out), or why it cannot be run.

use crate::app::{self, Exit};
use crate::engine::SimDuration;
use crate::model::Scenario;
use crate::scenario;
use clap::Args;
use std::io::{self, Write};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files (TOML)
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Print each scenario as resolved (every default written out) instead of a summary line
    #[arg(long)]
    pub print_config: bool,
}

/// Every file is checked, each failure printed as it is found; one failure is the error.
pub fn run(args: ValidateArgs) -> app::Result<Exit> {
    let (mut stdout, mut stderr) = (io::stdout(), io::stderr());
    let mut failures = Vec::new();
    for file in &args.files {
        match load_with_variants(file) {
            Ok(loaded) if args.print_config => stdout.write_all(loaded.resolved_toml.as_bytes())?,
            Ok(loaded) => writeln!(stdout, "ok: {} ({})", file.display(), describe(&loaded))?,
            Err(error) if args.files.len() == 1 => return Err(error.into()),
            Err(error) => {
                writeln!(stderr, "{error}")?;
                failures.push(file);
            }
        }
    }
    match failures.len() {
        0 => Ok(Exit::Ok),
        n => Err(app::usage(format!("{n} of {} scenario files failed", args.files.len()))),
    }
}

/// Loads the base scenario, then each of its variants; the first error stops.
fn load_with_variants(file: &std::path::Path) -> Result<scenario::Loaded, scenario::ScenarioError> {
    let loaded = scenario::load(file)?;
    for variant in &loaded.variants {
        scenario::load_variant(file, Some(variant))?;
    }
    Ok(loaded)
}

/// `2 sources, 1 service, duration 5h00m`, then thresholds and variants when there are.
fn describe(loaded: &scenario::Loaded) -> String {
    let scenario: &Scenario = &loaded.scenario;
    let mut res = format!(
        "{}, {}, duration {}",
        plural(scenario.sources.len(), "source"),
        plural(scenario.services.len(), "service"),
        SimDuration(scenario.duration.0),
    );
    if !loaded.thresholds.is_empty() {
        res.push_str(&format!(", {}", plural(loaded.thresholds.len(), "threshold")));
    }
    if !loaded.variants.is_empty() {
        res.push_str(&format!(
            ", {}: {}",
            plural(loaded.variants.len(), "variant"),
            loaded.variants.join(", ")
        ));
    }
    res
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals() {
        assert_eq!(plural(1, "source"), "1 source");
        assert_eq!(plural(0, "service"), "0 services");
    }
}
