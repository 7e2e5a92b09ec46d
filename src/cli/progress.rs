//! The progress bar of a run: the only place indicatif is configured.
//!
//! Invariant: the bar draws on stderr only when stderr is a terminal, `--quiet` was not
//! given, and the run has already lasted more than a second of wall time, so quick runs
//! and piped or CI output never see it.

use crate::engine::{SimDuration, SimTime};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Spinner, wall time, bar, percentage, then the message from [`message`].
const TEMPLATE: &str = "{spinner:.green} {elapsed_precise} [{wide_bar:.cyan/blue}] {percent:>3}%  {msg}";

/// How long a run must last before the bar appears.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// Progress of one simulation through simulated time.
pub struct Progress {
    bar: ProgressBar,
    end: SimTime,
    started: Instant,
    visibility: Visibility,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Visibility {
    /// Quiet, or stderr is not a terminal.
    Never,
    /// Allowed, waiting for the run to last long enough.
    Pending,
    Shown,
}

impl Progress {
    /// A bar for a run ending at `end`, hidden for now.
    pub fn start(end: SimTime, quiet: bool) -> Progress {
        let visibility =
            if quiet || !std::io::stderr().is_terminal() { Visibility::Never } else { Visibility::Pending };
        let bar = ProgressBar::with_draw_target(Some(end.0.max(1)), ProgressDrawTarget::hidden());
        let style = ProgressStyle::with_template(TEMPLATE)
            .map(|style| style.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Progress { bar, end, started: Instant::now(), visibility }
    }

    /// Reports the simulated time reached, and the events handled so far when known.
    pub fn update(&mut self, now: SimTime, events_handled: Option<u64>) {
        if self.visibility == Visibility::Never {
            return;
        }
        let elapsed = self.started.elapsed();
        if self.visibility == Visibility::Pending {
            if elapsed <= SHOW_AFTER {
                return;
            }
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(250));
            self.visibility = Visibility::Shown;
        }
        self.bar.set_position(now.0.min(self.end.0));
        self.bar.set_message(message(now, self.end, elapsed, events_handled));
    }

    /// Removes the bar (if it was shown) before the results are printed.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

/// `1h02m / 5h00m simulated · 3.2M events/s` (or `· 850× real time` without an event count).
fn message(now: SimTime, end: SimTime, elapsed: Duration, events_handled: Option<u64>) -> String {
    let wall_s = elapsed.as_secs_f64().max(1e-3);
    let speed = match events_handled {
        Some(events) => format!("{} events/s", si(events as f64 / wall_s)),
        None => format!("{}× real time", si(now.as_secs_f64() / wall_s)),
    };
    format!("{} / {} simulated · {speed}", SimDuration(now.0), SimDuration(end.0))
}

/// `950`, `12.3k`, `3.2M`.
fn si(value: f64) -> String {
    if value >= 1e6 {
        format!("{:.1}M", value / 1e6)
    } else if value >= 1e4 {
        format!("{:.1}k", value / 1e3)
    } else {
        format!("{value:.0}")
    }
}

/// Progress of several runs at once (replications, variants), advanced from any thread.
/// The same rules as [`Progress`]: stderr only, a terminal only, not quiet, and only once
/// the work has lasted more than a second.
pub struct RunsProgress {
    bar: ProgressBar,
    end: SimTime,
    runs: u64,
    done: std::sync::atomic::AtomicU64,
    started: Instant,
    allowed: bool,
    shown: std::sync::atomic::AtomicBool,
}

impl RunsProgress {
    /// A bar for `runs` runs of `each` simulated time.
    pub fn start(runs: u64, each: SimTime, quiet: bool) -> RunsProgress {
        let end = SimTime(each.0.saturating_mul(runs).max(1));
        let bar = ProgressBar::with_draw_target(Some(end.0), ProgressDrawTarget::hidden());
        let style = ProgressStyle::with_template(TEMPLATE)
            .map(|style| style.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        RunsProgress {
            bar,
            end,
            runs,
            done: 0.into(),
            started: Instant::now(),
            allowed: !quiet && std::io::stderr().is_terminal(),
            shown: false.into(),
        }
    }

    /// Adds simulated time covered by one of the runs.
    pub fn advance(&self, simulated: SimDuration) {
        self.bar.inc(simulated.0);
        self.refresh();
    }

    /// Marks a run as finished.
    pub fn run_done(&self) {
        self.done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.refresh();
    }

    fn refresh(&self) {
        use std::sync::atomic::Ordering;
        if !self.allowed {
            return;
        }
        let elapsed = self.started.elapsed();
        if !self.shown.load(Ordering::Relaxed) {
            if elapsed <= SHOW_AFTER || self.shown.swap(true, Ordering::Relaxed) {
                return;
            }
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(250));
        }
        let now = SimTime(self.bar.position().min(self.end.0));
        let done = self.done.load(Ordering::Relaxed);
        self.bar.set_message(format!(
            "{done}/{} runs · {}",
            self.runs,
            message(now, self.end, elapsed, None)
        ));
    }

    /// Removes the bar (if it was shown).
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_reads_well() {
        let now = SimTime(3600 * 1_000_000_000);
        let end = SimTime(5 * 3600 * 1_000_000_000);
        assert_eq!(
            message(now, end, Duration::from_secs(2), Some(6_400_000)),
            "1h00m / 5h00m simulated · 3.2M events/s"
        );
        assert_eq!(
            message(now, end, Duration::from_secs(4), None),
            "1h00m / 5h00m simulated · 900× real time"
        );
    }

    #[test]
    fn template_parses() {
        assert!(ProgressStyle::with_template(TEMPLATE).is_ok());
    }

    #[test]
    fn quiet_bar_never_shows() {
        let mut progress = Progress::start(SimTime(100), true);
        progress.update(SimTime(50), None);
        assert_eq!(progress.visibility, Visibility::Never);
        progress.finish();
    }
}
