//! Simulated time: integer nanoseconds, so ordering is exact and runs are reproducible.
//!
//! Invariant: there is no `f64` clock and no epsilon. Conversions to and from floating
//! seconds happen only at the edges (scenario units, statistics, reports).

use std::fmt;

/// An instant on the simulation clock, in nanoseconds since the start of the run.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct SimDuration(pub u64);

pub const NANOS_PER_SEC: u64 = 1_000_000_000;

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// Seconds since the start, for statistics and reports.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }

    /// `self + d`, saturating at the end of representable time (about 584 years), so a
    /// timer set past the horizon simply never fires.
    #[inline]
    pub fn after(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }

    /// Time elapsed since `earlier` (zero if `earlier` is later).
    #[inline]
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_secs(s: u64) -> SimDuration {
        SimDuration(s * NANOS_PER_SEC)
    }

    pub const fn from_millis(ms: u64) -> SimDuration {
        SimDuration(ms * 1_000_000)
    }

    /// Rounds to the nearest nanosecond; negative or NaN inputs give zero, huge ones saturate.
    pub fn from_secs_f64(s: f64) -> SimDuration {
        let ns = s * NANOS_PER_SEC as f64;
        if ns.is_nan() || ns <= 0.0 {
            SimDuration(0)
        } else if ns >= u64::MAX as f64 {
            SimDuration(u64::MAX)
        } else {
            // `+ 0.5` then truncate: rounds positive values without a libm call.
            SimDuration((ns + 0.5) as u64)
        }
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / NANOS_PER_SEC as f64
    }
}

impl std::ops::AddAssign for SimDuration {
    /// Saturating, like every clock arithmetic here.
    #[inline]
    fn add_assign(&mut self, other: SimDuration) {
        self.0 = self.0.saturating_add(other.0);
    }
}

impl fmt::Display for SimDuration {
    /// Compact human form: `1h02m03.004s`, `250ms`, `0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        if ns == 0 {
            return f.write_str("0s");
        }
        if ns < NANOS_PER_SEC {
            return if ns.is_multiple_of(1_000_000) {
                write!(f, "{}ms", ns / 1_000_000)
            } else if ns.is_multiple_of(1_000) {
                write!(f, "{}us", ns / 1_000)
            } else {
                write!(f, "{ns}ns")
            };
        }
        let total_secs = ns / NANOS_PER_SEC;
        let frac_ms = (ns % NANOS_PER_SEC) / 1_000_000;
        let (h, m, s) = (total_secs / 3600, (total_secs / 60) % 60, total_secs % 60);
        if h > 0 {
            write!(f, "{h}h{m:02}m")?;
        } else if m > 0 {
            write!(f, "{m}m")?;
        }
        if s > 0 || frac_ms > 0 || (h == 0 && m == 0) {
            if h > 0 || m > 0 {
                write!(f, "{s:02}")?;
            } else {
                write!(f, "{s}")?;
            }
            if frac_ms > 0 {
                write!(f, ".{frac_ms:03}")?;
            }
            f.write_str("s")?;
        }
        Ok(())
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t+{}", SimDuration(self.0))
    }
}

/// Time of day `HH:MM:SS` of `at` for a run starting at `start`, with `+1d` (`+2d`, ...)
/// past midnight, as scenario files write clock times, so a time read in an output can be
/// pasted into a timeline or `--window`.
pub fn clock_time(start: SimDuration, at: SimTime) -> String {
    let total = start.0 / 1_000_000_000 + at.0 / 1_000_000_000;
    let (day, secs) = (total / 86_400, total % 86_400);
    let clock = format!("{:02}:{:02}:{:02}", secs / 3600, (secs / 60) % 60, secs % 60);
    if day == 0 { clock } else { format!("{clock}+{day}d") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_compact() {
        assert_eq!(SimDuration(0).to_string(), "0s");
        assert_eq!(SimDuration::from_millis(250).to_string(), "250ms");
        assert_eq!(SimDuration::from_secs(90).to_string(), "1m30s");
        assert_eq!(SimDuration::from_secs(3600).to_string(), "1h00m");
        assert_eq!(SimDuration(3723 * NANOS_PER_SEC + 4_000_000).to_string(), "1h02m03.004s");
        assert_eq!(SimDuration(1500).to_string(), "1500ns");
    }

    #[test]
    fn arithmetic_saturates_instead_of_wrapping() {
        assert_eq!(SimTime(u64::MAX - 1).after(SimDuration(10)), SimTime::MAX);
        assert_eq!(SimTime(5).since(SimTime(9)), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(f64::NAN), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(-1.0), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(1e30), SimDuration(u64::MAX));
        assert_eq!(SimDuration::from_secs_f64(0.25), SimDuration::from_millis(250));
    }
}
