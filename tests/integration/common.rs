//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use stormsim::model::Scenario;

/// A path inside the repository.
pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Loads a shipped scenario, panicking with the rendered error if it does not load.
pub fn load(relative: &str) -> Scenario {
    stormsim::scenario::load(&repo_path(relative)).unwrap_or_else(|err| panic!("{err}")).scenario
}
