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

/// Every scenario file shipped under `scenarios/`, in path order.
pub fn shipped_scenarios() -> Vec<PathBuf> {
    fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(dir).unwrap().map(|entry| entry.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                collect(&path, files);
            } else if path.extension().is_some_and(|extension| extension == "toml") {
                files.push(path);
            }
        }
    }
    let mut files = Vec::new();
    collect(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"), &mut files);
    assert!(!files.is_empty());
    files
}
