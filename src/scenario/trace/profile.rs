//! A trace's rows to the rate points of the run: times placed on the run (the scenario's
//! date, or the first row, then the shift), values turned into rates per second (a count
//! divided by its interval) and scaled, joined by steps or lines, and cut to the run.
//!
//! A step is two points 1 ns apart, as a surge's are, so the profile stays piecewise-linear
//! with strictly increasing times. Invariant: the trace covers the run, from t = 0 to its
//! end (the last row standing for an interval as wide as the one before); the rates are
//! those the run uses, nothing is extrapolated.

use super::super::error::Problem;
use super::super::file::{InterpolationFile, TraceValuesFile};
use super::super::resolve::MAX_RATE_PER_SECOND;
use super::Frame;
use super::read::{Row, Time};
use crate::units::Duration;

const NANOS_PER_SEC: i128 = 1_000_000_000;
const NANOS_PER_DAY: i128 = 86_400 * NANOS_PER_SEC;

/// How the rows become rates.
pub(super) struct Settings {
    pub values: TraceValuesFile,
    pub interpolation: InterpolationFile,
    pub scale: f64,
    /// Nanoseconds, signed.
    pub shift: i128,
}

/// Why the rows give no profile for the run.
pub(super) enum Refusal {
    /// A cell (span in the CSV text).
    Cell(Problem),
    /// The scale takes a rate past the limit: message, expected.
    Scale(String, String),
    /// The trace does not cover the run: message, expected.
    Coverage(String, String),
}

/// The rate points `(ns from t = 0, per second)` of `rows` over `[0, frame.duration)`:
/// the first at t = 0, the last at or after the end.
pub(super) fn points(rows: &[Row], settings: &Settings, frame: &Frame) -> Result<Vec<(u64, f64)>, Refusal> {
    let origin = match (rows[0].time, frame.origin_unix_s) {
        (Time::Offset(_), _) => 0,
        (Time::Instant(_), Some(origin_s)) => i128::from(origin_s) * NANOS_PER_SEC,
        (Time::Instant(first), None) => first,
    };
    let times: Vec<i128> = rows.iter().map(|row| row.time.nanos() - origin + settings.shift).collect();
    // Each row stands for the interval up to the next; the last for one as wide as the one
    // before (a single row, for ever).
    let width = |idx: usize| match (times.get(idx + 1), idx.checked_sub(1)) {
        (Some(next), _) => Some(next - times[idx]),
        (None, Some(before)) => Some(times[idx] - times[before]),
        (None, None) => None,
    };
    let mut rates = Vec::with_capacity(rows.len());
    for (idx, row) in rows.iter().enumerate() {
        let rate = match settings.values {
            TraceValuesFile::Rate => row.value,
            TraceValuesFile::Count => match width(idx) {
                Some(width) => row.value * NANOS_PER_SEC as f64 / width as f64,
                None => {
                    let problem = Problem::new(row.value_span.clone(), "", "a count on the only row has no interval")
                        .expected("at least two rows (a count spans its row's time to the next's), or values = \"rate\"");
                    return Err(Refusal::Cell(problem));
                }
            },
        };
        rates.push(check_rate(row, rate, settings.scale)?);
    }
    let end = width(rows.len() - 1).map(|width| times[rows.len() - 1] + width);
    check_coverage(times[0], end, i128::from(frame.duration.0), settings.shift)?;
    let joined = join(&times, &rates, settings.interpolation);
    Ok(cut(&joined, i128::from(frame.duration.0)))
}

/// The scaled rate, within the limit every rate has.
fn check_rate(row: &Row, rate: f64, scale: f64) -> Result<f64, Refusal> {
    let limit = MAX_RATE_PER_SECOND;
    if rate > limit {
        let problem = Problem::new(
            row.value_span.clone(),
            "",
            format!("rate {rate}/s is above the limit of {limit}/s"),
        )
        .expected(format!("a rate of at most {limit}/s"));
        return Err(Refusal::Cell(problem));
    }
    let scaled = rate * scale;
    if scaled > limit {
        return Err(Refusal::Scale(
            format!(
                "scale {scale} takes the trace's rate {rate}/s to {scaled}/s, above the limit of {limit}/s"
            ),
            format!("a scale of at most {}", limit / rate),
        ));
    }
    Ok(scaled)
}

/// The trace, from its first row to the end of its last row's interval (`None`: for ever),
/// must cover the run `[0, duration)`.
fn check_coverage(first: i128, end: Option<i128>, duration: i128, shift: i128) -> Result<(), Refusal> {
    let covered = match end {
        Some(end) => format!("{} to {}", relative(first), relative(end)),
        None => format!("{} on", relative(first)),
    };
    let run = format!("t+0s to {}", relative(duration));
    if first > 0 {
        return Err(Refusal::Coverage(
            format!("the trace covers {covered}, so the run's first {} have no traffic", magnitude(first)),
            format!(
                "a trace that covers the run ({run}): a shift of {} or less, or rows from earlier",
                signed(shift - first)
            ),
        ));
    }
    let Some(end) = end.filter(|&end| end < duration) else { return Ok(()) };
    let hint = if end <= 0 {
        // Wholly before the run: whole days bring it to the run's first day.
        let days = (-first) / NANOS_PER_DAY;
        format!(
            "shift = {}, which brings the trace's first row to the run's first day",
            signed(shift + days * NANOS_PER_DAY)
        )
    } else {
        "a trace with rows until the run's end, a shorter simulation.duration, or another shift".into()
    };
    Err(Refusal::Coverage(format!("the trace covers {covered}, not the whole run ({run})"), hint))
}

/// The rate points of the rows, joined by steps or straight lines.
fn join(times: &[i128], rates: &[f64], interpolation: InterpolationFile) -> Vec<(i128, f64)> {
    let mut points = Vec::with_capacity(2 * times.len());
    for (idx, (&at, &rate)) in times.iter().zip(rates).enumerate() {
        points.push((at, rate));
        if interpolation == InterpolationFile::Step
            && let Some(&next) = times.get(idx + 1)
            && next - 1 > at
        {
            points.push((next - 1, rate));
        }
    }
    points
}

/// The points over `[0, duration)`: the rate at t = 0 first, then the points after it up
/// to the first at or past the end.
fn cut(points: &[(i128, f64)], duration: i128) -> Vec<(u64, f64)> {
    let mut res = vec![(0, rate_at(points, 0))];
    for &(at, rate) in points.iter().filter(|&&(at, _)| at > 0) {
        // Past the end only the first point counts; a trace centuries long stays in range.
        res.push((at.min(i128::from(u64::MAX)) as u64, rate));
        if at >= duration {
            break;
        }
    }
    res
}

/// The rate at `t` of points joined by straight lines, constant before the first and
/// after the last.
fn rate_at(points: &[(i128, f64)], t: i128) -> f64 {
    let after = points.partition_point(|&(at, _)| at <= t);
    match (after.checked_sub(1).map(|idx| points[idx]), points.get(after)) {
        (Some((t0, r0)), Some(&(t1, r1))) => r0 + (r1 - r0) * (t - t0) as f64 / (t1 - t0) as f64,
        (Some((_, r0)), None) => r0,
        (None, Some(&(_, r1))) => r1,
        (None, None) => 0.0,
    }
}

/// `t+5h`, `t-7d`: a time relative to the run's start.
fn relative(nanos: i128) -> String {
    let sign = if nanos < 0 { '-' } else { '+' };
    format!("t{sign}{}", magnitude(nanos))
}

/// `"7d"`, `"-1h"`: a shift as the file writes it.
fn signed(nanos: i128) -> String {
    if nanos < 0 { format!("\"-{}\"", magnitude(nanos)) } else { format!("\"{}\"", magnitude(nanos)) }
}

/// The length of `nanos` either way, as a duration (at most `u64` nanoseconds, 584 years).
fn magnitude(nanos: i128) -> Duration {
    Duration(crate::engine::SimDuration(nanos.unsigned_abs().min(u128::from(u64::MAX)) as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimDuration;

    const MINUTE: i128 = 60 * NANOS_PER_SEC;

    fn rows(times: &[i128], values: &[f64]) -> Vec<Row> {
        times
            .iter()
            .zip(values)
            .map(|(&time, &value)| Row { time: Time::Offset(time), value, value_span: 0..0 })
            .collect()
    }

    fn frame(minutes: u64) -> Frame {
        Frame {
            duration: SimDuration::from_secs(60 * minutes),
            origin_unix_s: None,
            zone: jiff::tz::TimeZone::UTC,
        }
    }

    fn settings(values: TraceValuesFile, interpolation: InterpolationFile) -> Settings {
        Settings { values, interpolation, scale: 1.0, shift: 0 }
    }

    /// The profile's integral over `[0, end)`, constant after its last point.
    fn integral(points: &[(u64, f64)], end: u64) -> f64 {
        let mut points = points.to_vec();
        if let Some(&(last, rate)) = points.last()
            && last < end
        {
            points.push((end, rate));
        }
        let mut total = 0.0;
        for pair in points.windows(2) {
            let (t0, r0) = pair[0];
            let (t1, r1) = pair[1];
            let (t1, r1) = if t1 > end {
                (end, r0 + (r1 - r0) * (end - t0) as f64 / (t1 - t0) as f64)
            } else {
                (t1, r1)
            };
            if t0 < end {
                total += (t1 - t0) as f64 / 1e9 * (r0 + r1) / 2.0;
            }
        }
        total
    }

    #[test]
    fn counts_in_steps_keep_each_interval_s_count() {
        let rows = rows(&[0, MINUTE, 2 * MINUTE], &[600.0, 1200.0, 300.0]);
        let Ok(points) = points(&rows, &settings(TraceValuesFile::Count, InterpolationFile::Step), &frame(3))
        else {
            panic!("refused")
        };
        assert_eq!(points[0], (0, 10.0));
        assert_eq!(points[1], (60_000_000_000 - 1, 10.0));
        assert_eq!(points[2], (60_000_000_000, 20.0));
        let total = integral(&points, 180_000_000_000);
        assert!((total - 2100.0).abs() < 1e-3, "{total}");
    }

    #[test]
    fn lines_scale_and_a_shift_that_skips_the_first_rows() {
        let rows = rows(&[0, 10 * MINUTE, 20 * MINUTE], &[100.0, 200.0, 100.0]);
        let settings = Settings {
            scale: 2.0,
            shift: -5 * MINUTE,
            ..settings(TraceValuesFile::Rate, InterpolationFile::Linear)
        };
        let Ok(points) = points(&rows, &settings, &frame(10)) else { panic!("refused") };
        assert_eq!(points, [(0, 300.0), (300_000_000_000, 400.0), (900_000_000_000, 200.0)]);
    }

    #[test]
    fn a_trace_must_cover_the_run() {
        let short = rows(&[0, MINUTE], &[1.0, 1.0]);
        let rate = settings(TraceValuesFile::Rate, InterpolationFile::Step);
        assert!(points(&short, &rate, &frame(2)).is_ok(), "the last row stands for a minute");
        let Err(Refusal::Coverage(message, _)) = points(&short, &rate, &frame(3)) else { panic!("accepted") };
        assert_eq!(message, "the trace covers t+0s to t+2m, not the whole run (t+0s to t+3m)");
        let late = Settings { shift: MINUTE, ..rate };
        let Err(Refusal::Coverage(message, expected)) = points(&short, &late, &frame(1)) else {
            panic!("accepted")
        };
        assert_eq!(message, "the trace covers t+1m to t+3m, so the run's first 1m have no traffic");
        assert!(expected.contains("a shift of \"0s\" or less"), "{expected}");
    }

    #[test]
    fn timestamps_centuries_apart_stay_in_range() {
        let year = 365 * NANOS_PER_DAY;
        let rows: Vec<Row> = [-2000 * year, 8000 * year]
            .iter()
            .map(|&time| Row { time: Time::Instant(time), value: 1.0, value_span: 0..0 })
            .collect();
        let rate = settings(TraceValuesFile::Count, InterpolationFile::Step);
        let Ok(joined) = points(&rows, &rate, &frame(60)) else { panic!("refused") };
        assert_eq!(joined.len(), 2);
        assert_eq!(joined[1].0, u64::MAX, "the point past the end is clamped");
        let dated = Frame { origin_unix_s: Some(0), ..frame(60) };
        let late = [Row { time: Time::Instant(8000 * year), value: 1.0, value_span: 0..0 }];
        let rate = settings(TraceValuesFile::Rate, InterpolationFile::Step);
        let Err(Refusal::Coverage(message, _)) = points(&late, &rate, &dated) else { panic!("accepted") };
        assert!(message.starts_with("the trace covers t+213503d"), "{message}");
    }

    #[test]
    fn a_trace_a_week_before_the_run_suggests_the_shift() {
        let day = rows(&[0, 12 * 60 * MINUTE], &[1.0, 2.0]);
        let week = 7 * NANOS_PER_DAY;
        let dated = Frame { origin_unix_s: Some((week / NANOS_PER_SEC) as i64), ..frame(60) };
        let instants: Vec<Row> =
            day.into_iter().map(|row| Row { time: Time::Instant(row.time.nanos()), ..row }).collect();
        let rate = settings(TraceValuesFile::Rate, InterpolationFile::Step);
        let Err(Refusal::Coverage(_, expected)) = points(&instants, &rate, &dated) else {
            panic!("accepted")
        };
        assert!(expected.starts_with("shift = \"7d\""), "{expected}");
        let shifted = Settings { shift: week, ..rate };
        assert!(points(&instants, &shifted, &dated).is_ok());
    }
}
