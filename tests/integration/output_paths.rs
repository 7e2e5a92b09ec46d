//! Output paths that cannot hold a run folder are refused before anything runs, with an
//! error naming the path, and nothing is written: exit 2 when something stands in the way
//! (a file where the folder or its parent should be), exit 4 when the system refuses the
//! write (permissions, a read-only file system).

use assert_cmd::Command;
use predicates::prelude::*;
use std::fs;
use std::path::Path;

const SMALL: &str = r#"
[simulation]
name = "small"
duration = "1m"
interval = "10s"

[classes.request]

[sources.users]
client = "app"
rate = "20/s"

[clients.app]
target = "api"

[services.api]
instances = 1
cores = 1
cpu = "10ms"

[variants.two.services.api]
instances = 2
"#;

fn stormsim() -> Command {
    Command::cargo_bin("stormsim").unwrap()
}

/// A temporary folder holding `small.toml`.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("small.toml"), SMALL).unwrap();
    dir
}

/// The names in `dir`, sorted (hidden ones included).
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn out_naming_an_existing_file_exits_2_and_keeps_the_file() {
    let dir = scratch();
    fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    for force in [false, true] {
        let mut command = stormsim();
        command.current_dir(dir.path()).args(["run", "small.toml", "--out", "notes.txt"]);
        if force {
            command.arg("--force");
        }
        command.assert().code(2).stdout("").stderr(predicate::str::starts_with(
            "error: cannot write notes.txt: notes.txt is a file, not a folder; move it or choose another --out",
        ));
    }
    assert_eq!(fs::read_to_string(dir.path().join("notes.txt")).unwrap(), "mine");
    assert_eq!(entries(dir.path()), ["notes.txt", "small.toml"], "nothing written");
}

#[test]
fn out_under_a_file_exits_2() {
    let dir = scratch();
    fs::write(dir.path().join("notes.txt"), "mine").unwrap();
    stormsim()
        .current_dir(dir.path())
        .args(["run", "small.toml", "--out", "notes.txt/run"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::starts_with(
            "error: cannot write notes.txt/run: notes.txt is a file, not a folder",
        ));
    assert_eq!(entries(dir.path()), ["notes.txt", "small.toml"], "nothing written");
}

#[test]
fn a_default_outputs_root_that_is_a_file_exits_2() {
    let dir = scratch();
    fs::write(dir.path().join("outputs"), "not a folder").unwrap();
    for verb in ["run", "compare"] {
        stormsim()
            .current_dir(dir.path())
            .args([verb, "small.toml", "--quiet"])
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::starts_with(
                "error: cannot write outputs: outputs is a file, not a folder; move it or choose another --out",
            ));
    }
    assert_eq!(fs::read_to_string(dir.path().join("outputs")).unwrap(), "not a folder");
    assert_eq!(entries(dir.path()), ["outputs", "small.toml"], "nothing written");
}

#[cfg(unix)]
#[test]
fn out_under_a_read_only_folder_exits_4_before_running() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch();
    let locked = dir.path().join("locked");
    fs::create_dir(&locked).unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o555)).unwrap();
    // Root (as in many containers) may write in a read-only folder whatever its mode; then
    // there is nothing to refuse, and this case cannot be checked here.
    let probe = locked.join("probe");
    if fs::create_dir(&probe).is_ok() {
        fs::remove_dir(&probe).unwrap();
        fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
        eprintln!("skipped: running as root, a read-only folder is writable (see the /sys case below)");
        return;
    }
    let assert =
        stormsim().current_dir(dir.path()).args(["run", "small.toml", "--out", "locked/run"]).assert();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();
    assert.code(4).stdout("").stderr(predicate::str::starts_with("error: cannot write in locked: "));
    assert!(entries(&locked).is_empty(), "nothing written");
}

/// Even root cannot create folders in sysfs: the refusal the read-only folder case checks for
/// other users, on a machine where tests run as root.
#[cfg(target_os = "linux")]
#[test]
fn out_where_the_system_refuses_writes_exits_4_before_running() {
    let sys = Path::new("/sys/kernel");
    if !sys.is_dir() || fs::create_dir(sys.join("stormsim-check")).is_ok() {
        eprintln!("skipped: /sys/kernel is missing or writable here");
        return;
    }
    let dir = scratch();
    stormsim()
        .current_dir(dir.path())
        .args(["run", "small.toml", "--out", "/sys/kernel/stormsim-run"])
        .assert()
        .code(4)
        .stdout("")
        .stderr(predicate::str::starts_with("error: cannot write in /sys/kernel: "));
    assert_eq!(entries(dir.path()), ["small.toml"], "nothing written");
}
