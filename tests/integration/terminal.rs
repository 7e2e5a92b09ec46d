//! Every long verb as a person runs it: on a real pseudo-terminal, so the progress bar is
//! drawn and Ctrl-C is delivered by the terminal, not by `kill`.
//!
//! A hang fails the test instead of stalling the suite: every wait has a generous bound
//! (a guard against hangs, not a speed test) after which the child is killed and the test
//! fails with what the terminal showed.

#![cfg(unix)]

use crate::common::repo_path;
use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long any one wait may take before the child counts as hung. Every run below
/// takes seconds at most; the bound only catches a hang.
const HANG: Duration = Duration::from_secs(300);

/// A scenario of a few seconds, with a variant, a threshold and a sweepable key, so that
/// every verb has something to do.
const SMALL: &str = r#"
[simulation]
name = "tty"
start = "08:00"
duration = "20m"
interval = "1m"

[classes.request]

[sources.users]
client = "app"
rate = "200/s"

[clients.app]
target = "api"
timeout = "1s"

[services.api]
instances = 4
cores = 2
queue = { capacity = 50 }
cpu = { dist = "exponential", mean = "10ms" }

[variants.fewer.services.api]
instances = 1

[[thresholds]]
metric = "success_rate"
comparison = ">="
value = "99%"
"#;

/// `SMALL` over a year: far longer than the moment it takes to be interrupted.
fn long() -> String {
    SMALL
        .replace("duration = \"20m\"", "duration = \"365d\"")
        .replace("interval = \"1m\"", "interval = \"10m\"")
}

/// A child process on the slave side of a new pseudo-terminal, and everything it wrote.
struct Terminal {
    child: Box<dyn Child + Send + Sync>,
    master: Box<dyn MasterPty + Send>,
    keys: Box<dyn Write + Send>,
    screen: Arc<Mutex<Vec<u8>>>,
    command: String,
}

impl Terminal {
    /// Runs `program args` in `dir` on a 100x30 terminal; `env` is added to the environment.
    fn spawn(program: &str, args: &[&str], dir: &Path, env: &[(&str, &str)]) -> Terminal {
        let pty = native_pty_system().openpty(PtySize { rows: 30, cols: 100, ..PtySize::default() }).unwrap();
        let mut command = CommandBuilder::new(program);
        command.args(args);
        command.cwd(dir);
        command.env("TERM", "xterm-256color");
        command.env_remove(stormsim::app::progress::ENV);
        for (key, value) in env {
            command.env(key, value);
        }
        let child = pty.slave.spawn_command(command).unwrap();
        // The child holds the slave now; ours must close for reads to end with the child.
        drop(pty.slave);
        let screen = Arc::new(Mutex::new(Vec::new()));
        let mut reader = pty.master.try_clone_reader().unwrap();
        let sink = Arc::clone(&screen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with an error (EIO) or EOF once the child and its terminal are gone.
            while let Ok(n @ 1..) = reader.read(&mut buf) {
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        let keys = pty.master.take_writer().unwrap();
        Terminal { child, master: pty.master, keys, screen, command: format!("{program} {}", args.join(" ")) }
    }

    /// `stormsim ARGS` on the terminal.
    fn stormsim(args: &[&str], dir: &Path, env: &[(&str, &str)]) -> Terminal {
        Terminal::spawn(env!("CARGO_BIN_EXE_stormsim"), args, dir, env)
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// Kills the child and fails the test, showing what the terminal showed.
    fn hung(&mut self, waiting_for: &str) -> ! {
        let _ = self.child.kill();
        panic!("`{}` hung waiting for {waiting_for}; the terminal showed:\n{}", self.command, self.screen());
    }

    /// Waits until the terminal shows `text`.
    fn wait_for(&mut self, text: &str) {
        let started = Instant::now();
        while !self.screen().contains(text) {
            if started.elapsed() > HANG {
                self.hung(&format!("\"{text}\""));
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "`{}` exited ({status:?}) before showing \"{text}\":\n{}",
                    self.command,
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal` (`TERM`, `INT`) to the child, as a batch system or `kill` would.
    fn signal(&mut self, signal: &str) {
        let pid = self.child.process_id().expect("a running child").to_string();
        let sent = std::process::Command::new("kill").args([&format!("-{signal}"), &pid]).status().unwrap();
        assert!(sent.success());
    }

    /// Types Ctrl-C: the terminal sends SIGINT to the foreground process group.
    fn ctrl_c(&mut self) {
        self.keys.write_all(b"\x03").unwrap();
        self.keys.flush().unwrap();
    }

    /// Waits for the child to exit; returns its exit code and the whole screen.
    fn exit(mut self) -> (u32, String) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.signal().is_none(),
                    "`{}` died of {status:?}:\n{}",
                    self.command,
                    self.screen()
                );
                // Let the reader drain what the child wrote last.
                let drained = Instant::now();
                while drained.elapsed() < Duration::from_millis(200) {
                    std::thread::sleep(Duration::from_millis(20));
                }
                drop(self.master);
                let screen = String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned();
                return (status.exit_code(), screen);
            }
            if started.elapsed() > HANG {
                self.hung("the exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

fn json(path: &Path) -> serde_json::Value {
    let text = fs::read(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    serde_json::from_slice(&text).unwrap()
}

/// Draw the bar from the first moment: these runs are too short for the default delay.
const EAGER: &[(&str, &str)] = &[("STORMSIM_PROGRESS", "always")];

/// The bar was drawn: its speed field is on the screen.
fn assert_bar_drawn(screen: &str) {
    assert!(screen.contains("events/s") && screen.contains("ETA"), "no progress bar drawn:\n{screen}");
}

/// Runs `stormsim ARGS` in `dir` with the default bar, types Ctrl-C once the terminal shows
/// `sign`, and returns the screen of a child that exited 130.
fn interrupted(args: &[&str], dir: &Path, sign: &str) -> String {
    let mut term = Terminal::stormsim(args, dir, &[]);
    term.wait_for(sign);
    term.ctrl_c();
    let (code, screen) = term.exit();
    assert_eq!(code, 130, "{screen}");
    screen
}

#[test]
fn the_readme_replay_finishes_on_a_terminal_with_its_bar() {
    let dir = tempfile::tempdir().unwrap();
    let file = repo_path("scenarios/incidents/000-cpu-regression-monday-peak.toml");
    let term = Terminal::stormsim(&["run", file.to_str().unwrap(), "--out", "run"], dir.path(), EAGER);
    let (code, screen) = term.exit();
    assert_eq!(code, 0, "{screen}");
    assert_bar_drawn(&screen);
    // One run shows the clock of the incident's day, `HH:MM:SS`.
    let clock = screen.as_bytes().windows(12).any(|w| {
        w.starts_with("· ".as_bytes())
            && [3, 4, 6, 7, 9, 10].iter().all(|&i| w[i].is_ascii_digit())
            && w[5] == b':'
            && w[8] == b':'
    });
    assert!(clock, "no clock time in the bar:\n{screen}");
    assert!(screen.contains("what happened") && screen.contains("wrote run"), "{screen}");
    assert_eq!(json(&dir.path().join("run/summary.json"))["partial"], false);
}

#[test]
fn compare_check_sweep_and_capacity_finish_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "tty.toml", SMALL);
    let file = file.to_str().unwrap();

    let (code, screen) =
        Terminal::stormsim(&["compare", file, "--replications", "3", "--out", "cmp"], dir.path(), EAGER)
            .exit();
    assert_eq!(code, 0, "{screen}");
    assert_bar_drawn(&screen);
    assert!(screen.contains("/6 runs"), "runs done of total:\n{screen}");
    assert_eq!(json(&dir.path().join("cmp/compare.json"))["configs"].as_array().unwrap().len(), 2);

    let (code, screen) = Terminal::stormsim(
        &["sweep", file, "--param", "services.api.instances=2,3,4", "--replications", "2", "--out", "sw"],
        dir.path(),
        EAGER,
    )
    .exit();
    assert_eq!(code, 0, "{screen}");
    assert_bar_drawn(&screen);
    assert!(dir.path().join("sw/sweep.csv").is_file() && dir.path().join("sw/sweep.png").is_file());

    let (code, screen) =
        Terminal::stormsim(&["check", file, "--replications", "2"], dir.path(), EAGER).exit();
    assert_eq!(code, 0, "{screen}");
    assert_bar_drawn(&screen);
    assert!(screen.contains("success_rate"), "{screen}");
    let (code, screen) =
        Terminal::stormsim(&["check", file, "--variant", "fewer", "--replications", "2"], dir.path(), EAGER)
            .exit();
    assert_eq!(code, 1, "one instance misses the target:\n{screen}");

    let (code, screen) = Terminal::stormsim(
        &["capacity", file, "--param", "services.api.instances", "--range", "1..8", "--replications", "2"],
        dir.path(),
        EAGER,
    )
    .exit();
    assert_eq!(code, 0, "{screen}");
    assert_bar_drawn(&screen);
    assert!(screen.contains("probe 1 · services.api.instances = 8"), "the probe in the bar:\n{screen}");
    assert!(screen.contains("the smallest value in 1..8"), "{screen}");
}

#[test]
fn sharded_sweep_merges_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "tty.toml", SMALL);
    let sweep =
        ["sweep", file.to_str().unwrap(), "--param", "services.api.instances=2,4", "--replications", "2"];
    for shard in ["0/2", "1/2"] {
        let name = format!("shard-{}.json", &shard[..1]);
        let args: Vec<&str> =
            sweep.iter().copied().chain(["--shard", shard, "--shard-file", &name]).collect();
        let (code, screen) = Terminal::stormsim(&args, dir.path(), EAGER).exit();
        assert_eq!(code, 0, "{screen}");
    }
    let (code, screen) =
        Terminal::stormsim(&["merge", "shard-0.json", "shard-1.json", "--out", "merged"], dir.path(), EAGER)
            .exit();
    assert_eq!(code, 0, "{screen}");
    assert!(screen.contains("wrote merged"), "{screen}");
    assert_eq!(json(&dir.path().join("merged/sweep.json"))["points"].as_array().unwrap().len(), 2);
}

#[test]
fn results_go_to_a_pipe_while_the_bar_draws_on_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "tty.toml", SMALL);
    // stderr stays on the terminal; the shell sends stdout to a file.
    let script =
        format!("exec '{}' run tty.toml --json --out run > summary.json", env!("CARGO_BIN_EXE_stormsim"));
    let (code, screen) = Terminal::spawn("sh", &["-c", &script], dir.path(), EAGER).exit();
    assert_eq!(code, 0, "{screen}");
    assert_bar_drawn(&screen);
    assert!(!screen.contains("\"requests\""), "results leaked onto the terminal:\n{screen}");
    // stdout holds the summary and nothing else: no bar, no escape codes.
    let printed = json(&dir.path().join("summary.json"));
    assert_eq!(printed, json(&dir.path().join("run/summary.json")));
}

#[test]
fn ctrl_c_on_a_terminal_writes_the_partial_run() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "long.toml", &long());
    // The default bar: it appears once the run has lasted a second.
    let screen = interrupted(&["run", "long.toml", "--out", "run"], dir.path(), "events/s");
    assert!(screen.contains("interrupted at"), "{screen}");
    let summary = json(&dir.path().join("run/summary.json"));
    assert_eq!(summary["partial"], true);
    assert!(summary["simulated_s"].as_f64().unwrap() < 365.0 * 86_400.0);
}

#[test]
fn ctrl_c_on_a_terminal_keeps_what_compare_and_sweep_finished() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "long.toml", &long());

    let screen = interrupted(&["compare", "long.toml", "--replications", "2"], dir.path(), "runs ·");
    assert!(screen.contains("marked interrupted"), "{screen}");
    let partial = json(&dir.path().join("outputs/tty-compare-shard0of1-interrupted.json"));
    assert_eq!(partial["interrupted"], true);

    // The grid point of ten minutes finishes its five runs; the year-long one is cut short.
    let screen = interrupted(
        &["sweep", "long.toml", "--param", "simulation.duration=10m,365d"],
        dir.path(),
        "5/10 runs",
    );
    assert!(screen.contains("interrupted: wrote the 5 of 10 runs that finished"), "{screen}");
    let partial = dir.path().join("outputs/tty-sweep-shard0of1-interrupted.json");
    assert_eq!(json(&partial)["jobs"].as_array().unwrap().len(), 5);
    assert!(!dir.path().join("outputs/tty-sweep-seed1").exists(), "no sweep folder that looks whole");
    // merge refuses it and says why.
    let merged = std::process::Command::new(env!("CARGO_BIN_EXE_stormsim"))
        .args(["merge", partial.to_str().unwrap()])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(merged.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&merged.stderr).contains("partial result of an interrupted run"));
}

#[test]
fn sigterm_from_a_batch_system_writes_the_partial_run_and_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "long.toml", &long());
    let mut term = Terminal::stormsim(&["run", "long.toml", "--out", "run"], dir.path(), &[]);
    term.wait_for("events/s");
    term.signal("TERM");
    let (code, screen) = term.exit();
    assert_eq!(code, 130, "{screen}");
    let summary = json(&dir.path().join("run/summary.json"));
    assert_eq!(summary["partial"], true);
    assert!(summary["stopped_by"].as_str().unwrap().starts_with("interrupted at"));
    let simulated = summary["simulated_s"].as_f64().unwrap();
    assert!(simulated > 0.0 && simulated < 365.0 * 86_400.0);
    let mut names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["long.toml", "run"], "nothing half-written beside the run folder");
}

#[test]
fn ctrl_c_on_a_terminal_stops_a_capacity_search() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "long.toml", &long());
    let screen = interrupted(
        &[
            "capacity",
            "long.toml",
            "--param",
            "services.api.instances",
            "--range",
            "1..8",
            "--replications",
            "2",
        ],
        dir.path(),
        "probe 1 · services.api.instances = 8",
    );
    assert!(screen.contains("interrupted after 0 probes: no answer"), "{screen}");
}

#[test]
fn two_ctrl_c_on_a_terminal_end_the_run() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "long.toml", &long());
    let mut term = Terminal::stormsim(&["run", "long.toml", "--out", "run"], dir.path(), &[]);
    term.wait_for("events/s");
    term.ctrl_c();
    term.ctrl_c();
    let (code, screen) = term.exit();
    assert_eq!(code, 130, "{screen}");
}
