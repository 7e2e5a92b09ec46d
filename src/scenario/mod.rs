//! TOML → `Scenario`: the only module that knows TOML exists.
//!
//! STUB for the `report-cli` branch only: the real module is written on the scenario
//! branch and replaces this file at merge. It has the agreed API and refuses every file.

use crate::model::Scenario;
use std::path::Path;

/// A scenario ready to run, and the same scenario as TOML with every default filled in.
pub struct Loaded {
    pub scenario: Scenario,
    pub resolved_toml: String,
}

/// Why a scenario file could not be loaded (the real one renders file:line:col and a snippet).
#[derive(Debug, thiserror::Error)]
#[error("{path}: scenario loading is not available in this build (stub)")]
pub struct ScenarioError {
    path: String,
}

/// Reads, parses and resolves the scenario at `path`.
pub fn load(path: &Path) -> Result<Loaded, ScenarioError> {
    Err(ScenarioError { path: path.display().to_string() })
}
