//! The progress bar of every verb: the only place indicatif is configured. Verbs never
//! touch it; [`super::runner::Runner`] drives it for whatever runs they ask for.
//!
//! Invariants:
//! - The bar draws on stderr only, only when stderr is a terminal and `--quiet` was not
//!   given, and (unless `STORMSIM_PROGRESS=always`) only once the work has lasted more
//!   than a second, so quick runs and piped or CI output never see it.
//! - Updates come from any thread and never wait on stderr: indicatif's tick thread takes
//!   the stderr lock for each frame while holding the bar's state, so a caller that held
//!   stderr locked across the work and then updated the bar would wait for ever.

use crate::engine::time::clock_time;
use crate::engine::{SimDuration, SimTime};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};
use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Label, bar, percentage, then the message from [`message`], then the time left.
const TEMPLATE: &str = "{spinner:.green} {prefix}[{wide_bar:.cyan/blue}] {percent:>3}% · {msg} · ETA {eta}";

/// How long work must last before the bar appears (with `STORMSIM_PROGRESS=auto`).
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// The environment variable that says when the bar may be drawn.
pub const ENV: &str = "STORMSIM_PROGRESS";

/// When the bar is drawn, given a terminal on stderr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// After the work has lasted a second (the default).
    Auto,
    /// From the first update, however short the work.
    Always,
    /// Never (`--quiet`, `STORMSIM_PROGRESS=never`, or stderr is not a terminal).
    Never,
}

impl When {
    /// From `--quiet`, the environment and whether stderr is a terminal. An unknown value
    /// of the variable counts as `auto`.
    pub fn resolve(quiet: bool, env: Option<&str>, stderr_is_terminal: bool) -> When {
        match env {
            _ if quiet || !stderr_is_terminal => When::Never,
            Some("never") => When::Never,
            Some("always") => When::Always,
            _ => When::Auto,
        }
    }
}

/// Progress of one batch of runs (one run, replications, variants, grid points, or one
/// capacity probe), advanced from any thread. Dropping it clears the bar, so results
/// print on a clean line.
pub struct Progress {
    bar: ProgressBar,
    when: When,
    shown: AtomicBool,
    /// When the command's work began: the bar appears a second after that, not after the
    /// start of each batch.
    began: Instant,
    runs: u64,
    done: AtomicU64,
    /// Events handled by every run of the batch so far, for the speed.
    events: AtomicU64,
    /// The clock time of t = 0 of the runs, if their scenario names one.
    start_clock: Option<SimDuration>,
}

impl Progress {
    /// A bar, hidden for now, for `runs` runs of `total` simulated time in all, starting at
    /// the clock time `start_clock` of the scenario's day, labelled `label`.
    pub fn new(
        when: When,
        began: Instant,
        runs: u64,
        total: SimDuration,
        start_clock: Option<SimDuration>,
        label: &str,
    ) -> Progress {
        let bar = ProgressBar::with_draw_target(Some(total.0.max(1)), ProgressDrawTarget::hidden());
        let style = ProgressStyle::with_template(TEMPLATE)
            .map(|style| style.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        if !label.is_empty() {
            bar.set_prefix(format!("{label} "));
        }
        Progress {
            bar,
            when,
            shown: false.into(),
            began,
            runs,
            done: 0.into(),
            events: 0.into(),
            start_clock,
        }
    }

    /// One run covered `simulated` more time, reaching `now`, in `events` more events.
    pub fn advance(&self, simulated: SimDuration, events: u64, now: SimTime) {
        self.events.fetch_add(events, Ordering::Relaxed);
        self.bar.inc(simulated.0);
        self.refresh(now);
    }

    /// One run finished (or stopped) at `now` of its `end`; the rest counts as covered.
    pub fn run_done(&self, now: SimTime, end: SimTime) {
        self.done.fetch_add(1, Ordering::Relaxed);
        self.bar.inc(end.0.saturating_sub(now.0));
        self.refresh(now);
    }

    fn refresh(&self, now: SimTime) {
        if self.when == When::Never {
            return;
        }
        let elapsed = self.began.elapsed();
        if !self.shown.load(Ordering::Relaxed) {
            let early = self.when == When::Auto && elapsed <= SHOW_AFTER;
            if early || self.shown.swap(true, Ordering::Relaxed) {
                return;
            }
            self.bar.set_draw_target(ProgressDrawTarget::term_like_with_hz(Box::new(Margin::stderr()), 20));
            self.bar.enable_steady_tick(Duration::from_millis(200));
        }
        let speed = self.events.load(Ordering::Relaxed) as f64 / self.bar.elapsed().as_secs_f64().max(1e-3);
        let clock = day_clock(self.start_clock, now);
        self.bar.set_message(message(self.done.load(Ordering::Relaxed), self.runs, &clock, speed));
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// Stderr, reported a few columns narrower than it is. A bar as wide as the terminal
/// would wrap the `^C` the terminal echoes onto a line of its own, and clearing the bar
/// would then clear that line instead, leaving the last frame on the screen.
#[derive(Debug)]
struct Margin(console::Term);

impl Margin {
    const COLUMNS: u16 = 4;

    fn stderr() -> Margin {
        Margin(console::Term::buffered_stderr())
    }
}

impl TermLike for Margin {
    fn width(&self) -> u16 {
        self.0.size().1.saturating_sub(Self::COLUMNS).max(1)
    }
    fn height(&self) -> u16 {
        self.0.size().0
    }
    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_up(n)
    }
    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_down(n)
    }
    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_right(n)
    }
    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        self.0.move_cursor_left(n)
    }
    fn write_line(&self, line: &str) -> io::Result<()> {
        self.0.write_line(line)
    }
    fn write_str(&self, text: &str) -> io::Result<()> {
        self.0.write_str(text)
    }
    fn clear_line(&self) -> io::Result<()> {
        self.0.clear_line()
    }
    fn flush(&self) -> io::Result<()> {
        self.0.flush()
    }
}

/// One run: `08:41:12 · 8.8M events/s`, the clock its simulation has reached. Several:
/// `12/40 runs · 17.6M events/s`.
fn message(done: u64, runs: u64, clock: &str, events_per_s: f64) -> String {
    let speed = si(events_per_s);
    if runs <= 1 {
        format!("{clock} · {speed} events/s")
    } else {
        format!("{done}/{runs} runs · {speed} events/s")
    }
}

/// The time of day `now` stands for (`00:08:00+1d` past midnight), or `t+3h03m` when the
/// scenario names no clock time.
fn day_clock(start_clock: Option<SimDuration>, now: SimTime) -> String {
    match start_clock {
        Some(start) => clock_time(start, now),
        None => now.to_string(),
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NANOS_PER_SEC;

    const HOUR: u64 = 3600 * NANOS_PER_SEC;

    #[test]
    fn one_run_shows_its_clock_several_show_runs_done() {
        let clock = day_clock(Some(SimDuration(6 * HOUR)), SimTime(2 * HOUR + 41 * 60 * NANOS_PER_SEC));
        assert_eq!(message(0, 1, &clock, 3.2e6), "08:41:00 · 3.2M events/s");
        assert_eq!(message(12, 40, "ignored", 12_500.0), "12/40 runs · 12.5k events/s");
    }

    #[test]
    fn the_clock_counts_days_and_falls_back_to_elapsed_time() {
        assert_eq!(
            day_clock(Some(SimDuration(23 * HOUR)), SimTime(HOUR + 8 * 60 * NANOS_PER_SEC)),
            "00:08:00+1d"
        );
        assert_eq!(day_clock(None, SimTime(HOUR)), "t+1h00m");
    }

    #[test]
    fn template_parses() {
        assert!(ProgressStyle::with_template(TEMPLATE).is_ok());
    }

    #[test]
    fn quiet_pipes_and_the_environment_decide_when() {
        assert_eq!(When::resolve(false, None, true), When::Auto);
        assert_eq!(When::resolve(false, Some("always"), true), When::Always);
        assert_eq!(When::resolve(false, Some("never"), true), When::Never);
        assert_eq!(When::resolve(false, Some("sometimes"), true), When::Auto);
        assert_eq!(When::resolve(true, Some("always"), true), When::Never);
        assert_eq!(When::resolve(false, Some("always"), false), When::Never);
    }

    #[test]
    fn a_hidden_bar_counts_work_but_never_shows() {
        let progress = Progress::new(When::Never, Instant::now(), 2, SimDuration(200), None, "");
        progress.advance(SimDuration(50), 10, SimTime(50));
        progress.run_done(SimTime(50), SimTime(100));
        assert!(!progress.shown.load(Ordering::Relaxed));
        assert_eq!((progress.bar.position(), progress.bar.length()), (100, Some(200)));
    }

    #[test]
    fn an_eager_bar_shows_at_the_first_update() {
        let progress = Progress::new(When::Always, Instant::now(), 1, SimDuration(100), None, "probe 1");
        progress.advance(SimDuration(10), 10, SimTime(10));
        assert!(progress.shown.load(Ordering::Relaxed));
        assert_eq!(progress.bar.prefix(), "probe 1 ");
    }
}
