//! The checks every section of the resolver shares: keys `defaults::fill` must have filled,
//! names that refer to other tables, whole numbers, times and delays. They sit apart from
//! `resolve` so the section resolvers (`operations`, `concurrency`) use them without
//! depending on the resolver that calls them.

use std::ops::RangeInclusive;

use super::spanned::Spanned;

use super::error::Problem;
use super::file::{Count, Named};
use super::units::{ClockTime, Duration, TimePoint};
use crate::engine::{SimDuration, SimTime};
use crate::refusal::quoted_list;

/// Longest boot, warm-up, window or delay: 1 day.
const MAX_DELAY: SimDuration = SimDuration::from_secs(86_400);

/// A key `defaults::fill` always fills; its absence is a bug, reported rather than panicked.
pub(super) fn present<'a, T>(value: &'a Option<T>, key: &str) -> Result<&'a T, Problem> {
    value
        .as_ref()
        .ok_or_else(|| Problem::new(0..0, key, format!("internal error: no default was filled in for {key}")))
}

/// The names of a named table, in id order.
pub(super) fn names<T>(table: &Named<T>) -> Vec<&str> {
    table.keys().map(|name| name.get_ref().as_str()).collect()
}

/// The id of the entry `reference` names, or an error listing the valid names.
pub(super) fn lookup(
    names: &[&str],
    reference: &Spanned<String>,
    key: &str,
    what: &str,
) -> Result<usize, Problem> {
    let name = reference.get_ref();
    names.iter().position(|candidate| candidate == name).ok_or_else(|| {
        let expected = match names {
            [] => format!("a name, but no [{what}s.NAME] table is defined"),
            [only] => format!("\"{only}\""),
            _ => format!("one of {}", quoted_list(names)),
        };
        let message = super::error::with_suggestion(format!("unknown {what} \"{name}\""), Some(&expected));
        Problem::new(reference.span(), key, message).expected(expected)
    })
}

/// A whole number within `range`; the message names the limit that was crossed.
pub(super) fn check_count(
    value: &Spanned<Count>,
    key: &str,
    what: &str,
    range: RangeInclusive<i64>,
) -> Result<i64, Problem> {
    let count = value.get_ref().0;
    if range.contains(&count) {
        return Ok(count);
    }
    let (min, max) = (*range.start(), *range.end());
    let message = if count < min {
        format!("{what} {count} is below the minimum of {min}")
    } else {
        format!("{what} {count} is above the limit of {max}")
    };
    Problem::new(value.span(), key, message)
        .expected(format!("a whole number from {min} to {max}"))
        .into_err()
}

/// A profile time as a time since t = 0; a clock time needs `simulation.start`, and must
/// not be before it.
pub(super) fn time_from_start(
    at: &Spanned<TimePoint>,
    key: &str,
    start: Option<ClockTime>,
) -> Result<SimTime, Problem> {
    let clock = match *at.get_ref() {
        TimePoint::FromStart(offset) => return Ok(SimTime(offset.nanos())),
        TimePoint::Clock(clock) => clock,
    };
    let Some(start) = start else {
        let message = format!("clock time {clock} needs simulation.start");
        let expected = r#"simulation.start = "HH:MM" (the clock time at t = 0), or a duration from the start such as "90m""#;
        return Problem::new(at.span(), key, message).expected(expected).into_err();
    };
    if clock < start {
        let next_day = ClockTime(SimDuration(clock.since_midnight().0 + 86_400_000_000_000));
        let message = format!("clock time {clock} is before the start {start}");
        let expected = format!("a time at or after {start}, or \"{next_day}\" for the next day");
        return Problem::new(at.span(), key, message).expected(expected).into_err();
    }
    Ok(SimTime(clock.since_midnight().0 - start.since_midnight().0))
}

/// A delay from 0 to a day.
pub(super) fn check_delay(value: &Spanned<Duration>, key: &str) -> Result<SimDuration, Problem> {
    let delay = value.get_ref().0;
    if delay <= MAX_DELAY {
        return Ok(delay);
    }
    Problem::new(value.span(), key, format!("{} is longer than a day", value.get_ref()))
        .expected("a duration of at most \"1d\"")
        .into_err()
}
