//! Unit-bearing values and their text form: durations, rates, clock times, percentages and
//! profile time points. The scenario file and the command line (`--threshold`) write them
//! the same way, so they sit below both `scenario` and `check`; how they deserialize from
//! TOML is `scenario::units`'s.
//!
//! Invariants: a number is never accepted without its unit, nothing negative, NaN or
//! infinite gets through, and every value serializes back to a string that parses to the
//! identical value (durations are exact nanoseconds, rates and percentages keep their `f64`
//! bit for bit), so a resolved scenario can be written out and read back unchanged.

use std::fmt;
use std::str::FromStr;

use crate::engine::{NANOS_PER_SEC, SimDuration};

/// Why a unit string was refused. The text follows the crate's message convention: what is
/// wrong, then `, expected ...` with what would be valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitError(pub String);

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UnitError {}

fn fail<T>(message: String) -> Result<T, UnitError> {
    Err(UnitError(message))
}

pub(crate) const DURATION_EXPECTED: &str = r#"expected a duration with a unit, such as "250ms", "1.5s", "5m" or "1h30m" (units: ns, us, ms, s, m, min, h, d)"#;
pub(crate) const RATE_EXPECTED: &str =
    r#"expected a rate such as "1200/s", "50/min" or "3/h" (per s, m, min or h)"#;
pub(crate) const CLOCK_EXPECTED: &str =
    r#"expected a clock time "HH:MM" or "HH:MM:SS", optionally followed by "+1d" for the next day"#;
pub(crate) const PERCENT_EXPECTED: &str = r#"expected a percentage such as "25%" or "99.9%""#;

const NANOS_PER_MINUTE: u64 = 60 * NANOS_PER_SEC;
const NANOS_PER_HOUR: u64 = 60 * NANOS_PER_MINUTE;
const NANOS_PER_DAY: u64 = 24 * NANOS_PER_HOUR;

// ---------------------------------------------------------------------------------------
// Duration
// ---------------------------------------------------------------------------------------

/// A span of time written with units, e.g. `"250ms"`, `"1.5s"`, `"1h30m"`.
///
/// Components may be chained (`"1h30m"`, `"1m 30s"`, `"30 s"`) and carry decimals (`"1.5s"`); a
/// fraction finer than a nanosecond is rounded to the nearest nanosecond.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(pub SimDuration);

impl Duration {
    pub fn nanos(self) -> u64 {
        self.0.0
    }
}

/// Nanoseconds in one `unit`, or `None` for an unknown unit.
fn duration_unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "ms" => 1_000_000,
        "s" => NANOS_PER_SEC,
        "m" | "min" => NANOS_PER_MINUTE,
        "h" => NANOS_PER_HOUR,
        "d" => NANOS_PER_DAY,
        _ => return None,
    })
}

/// Splits `"12.5rest"` into `("12", "5", "rest")`; the fraction is empty when absent.
fn split_decimal(text: &str) -> (&str, &str, &str) {
    let int_len = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (int_part, rest) = text.split_at(int_len);
    let Some(after_dot) = rest.strip_prefix('.') else {
        return (int_part, "", rest);
    };
    let frac_len = after_dot.find(|c: char| !c.is_ascii_digit()).unwrap_or(after_dot.len());
    let (frac_part, rest) = after_dot.split_at(frac_len);
    (int_part, frac_part, rest)
}

/// `int.frac * unit_nanos`, exactly, rounded to the nearest nanosecond; `None` on overflow.
fn scaled_nanos(int_part: &str, frac_part: &str, unit_nanos: u64) -> Option<u64> {
    let int_value: u128 = if int_part.is_empty() { 0 } else { int_part.parse().ok()? };
    // Digits past the 18th are below 1e-18 of a day's nanoseconds: they cannot matter.
    let frac_digits = &frac_part[..frac_part.len().min(18)];
    let frac_value: u128 = if frac_digits.is_empty() { 0 } else { frac_digits.parse().ok()? };
    let frac_scale = 10u128.pow(frac_digits.len() as u32);
    let unit = u128::from(unit_nanos);
    let whole = int_value.checked_mul(unit)?;
    let fraction = (frac_value * unit + frac_scale / 2) / frac_scale;
    u64::try_from(whole.checked_add(fraction)?).ok()
}

impl FromStr for Duration {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Duration, UnitError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return fail(format!("empty duration, {DURATION_EXPECTED}"));
        }
        if trimmed.starts_with('-') {
            return fail(format!("negative duration \"{text}\", {DURATION_EXPECTED}"));
        }
        let mut total: u64 = 0;
        let mut rest = trimmed;
        while !rest.is_empty() {
            let (int_part, frac_part, after_number) = split_decimal(rest);
            if int_part.is_empty() {
                return fail(format!("\"{text}\" is not a duration, {DURATION_EXPECTED}"));
            }
            let after_number = after_number.trim_start();
            let unit_len = after_number
                .find(|c: char| c.is_ascii_digit() || c.is_whitespace() || c == '.')
                .unwrap_or(after_number.len());
            let (unit, after_unit) = after_number.split_at(unit_len);
            if unit.is_empty() {
                return fail(missing_duration_unit(text, int_part, frac_part));
            }
            let Some(unit_nanos) = duration_unit_nanos(unit) else {
                return fail(format!("unknown unit \"{unit}\" in duration \"{text}\", {DURATION_EXPECTED}"));
            };
            let component = scaled_nanos(int_part, frac_part, unit_nanos);
            match component.and_then(|nanos| total.checked_add(nanos)) {
                Some(sum) => total = sum,
                None => {
                    return fail(format!(
                        "duration \"{text}\" is too long, expected at most 213503d (u64 nanoseconds)"
                    ));
                }
            }
            rest = after_unit.trim_start();
        }
        Ok(Duration(SimDuration(total)))
    }
}

/// The message for a bare number, suggesting the units it might have meant.
pub(crate) fn missing_duration_unit(text: &str, int_part: &str, frac_part: &str) -> String {
    let number = if frac_part.is_empty() { int_part.to_string() } else { format!("{int_part}.{frac_part}") };
    format!(
        "missing unit in \"{text}\", expected a duration with a unit: write \"{number}s\", \"{number}ms\", \"{number}m\", ... (units: ns, us, ms, s, m, min, h, d)"
    )
}

impl fmt::Display for Duration {
    /// The exact, canonical form: `"1h30m"`, `"2d"`, `"1.5s"`, `"250ms"`, `"0s"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.0.0;
        if nanos == 0 {
            return f.write_str("0s");
        }
        if nanos < NANOS_PER_SEC {
            let (unit, unit_nanos) = match nanos {
                1_000_000.. => ("ms", 1_000_000),
                1_000.. => ("us", 1_000),
                _ => ("ns", 1),
            };
            return write_decimal(f, nanos, unit_nanos, unit);
        }
        let mut rest = nanos;
        for (unit, unit_nanos) in [("d", NANOS_PER_DAY), ("h", NANOS_PER_HOUR), ("m", NANOS_PER_MINUTE)] {
            if rest >= unit_nanos {
                write!(f, "{}{unit}", rest / unit_nanos)?;
                rest %= unit_nanos;
            }
        }
        if rest > 0 {
            write_decimal(f, rest, NANOS_PER_SEC, "s")?;
        }
        Ok(())
    }
}

/// Writes `nanos / unit_nanos` as an exact decimal with trailing zeros dropped.
fn write_decimal(f: &mut fmt::Formatter<'_>, nanos: u64, unit_nanos: u64, unit: &str) -> fmt::Result {
    let whole = nanos / unit_nanos;
    let fraction = nanos % unit_nanos;
    if fraction == 0 {
        return write!(f, "{whole}{unit}");
    }
    let width = unit_nanos.ilog10() as usize;
    let digits = format!("{fraction:0width$}");
    write!(f, "{whole}.{}{unit}", digits.trim_end_matches('0'))
}

// ---------------------------------------------------------------------------------------
// Rate
// ---------------------------------------------------------------------------------------

/// Events per unit of time, e.g. `"1200/s"`, `"50/min"`, `"3/h"`. Keeps the number and unit
/// as written, so it serializes back as the user wrote it.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Rate {
    /// The number before the `/`: finite and >= 0.
    value: f64,
    /// Seconds in the unit after the `/`: 1, 60 or 3600.
    unit_seconds: u32,
}

impl Rate {
    /// A rate per second (finite and >= 0): one read from a trace, written out as `"N/s"`.
    pub fn from_per_second(per_second: f64) -> Rate {
        debug_assert!(per_second.is_finite() && per_second >= 0.0, "{per_second}");
        Rate { value: per_second + 0.0, unit_seconds: 1 }
    }

    /// The rate per second: finite and >= 0.
    pub fn per_second(self) -> f64 {
        self.value / f64::from(self.unit_seconds)
    }

    fn unit(self) -> &'static str {
        match self.unit_seconds {
            1 => "s",
            60 => "min",
            _ => "h",
        }
    }
}

impl FromStr for Rate {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Rate, UnitError> {
        let Some((number, unit)) = text.split_once('/') else {
            return fail(missing_rate_unit(text.trim()));
        };
        let number = number.trim();
        let unit_seconds = match unit.trim() {
            "s" => 1,
            "m" | "min" => 60,
            "h" => 3600,
            other => return fail(format!("unknown unit \"/{other}\" in rate \"{text}\", {RATE_EXPECTED}")),
        };
        let value = parse_plain_number(number)
            .ok_or_else(|| UnitError(format!("\"{text}\" is not a rate, {RATE_EXPECTED}")))?;
        if value.is_nan() {
            return fail(format!("rate \"{text}\" is not a number, {RATE_EXPECTED}"));
        }
        if value.is_infinite() {
            return fail(format!("rate \"{text}\" is infinite, expected a finite rate such as \"1200/s\""));
        }
        if value < 0.0 {
            return fail(format!(
                "negative rate \"{text}\", expected a rate >= 0 such as \"0/s\" or \"1200/s\""
            ));
        }
        // Adding 0.0 turns -0.0 into +0.0, so "-0/s" and "0/s" are the same rate.
        Ok(Rate { value: value + 0.0, unit_seconds })
    }
}

/// Parses a decimal number as Rust does, but recognises the spellings of NaN and infinity
/// explicitly so the caller can name them.
fn parse_plain_number(number: &str) -> Option<f64> {
    let lower = number.trim_start_matches(['+', '-']).to_ascii_lowercase();
    if lower == "nan" {
        return Some(f64::NAN);
    }
    if lower == "inf" || lower == "infinity" {
        return Some(if number.starts_with('-') { f64::NEG_INFINITY } else { f64::INFINITY });
    }
    let well_formed = !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-' | '_'));
    if !well_formed {
        return None;
    }
    number.replace('_', "").parse().ok()
}

pub(crate) fn missing_rate_unit(number: &str) -> String {
    format!(
        "missing unit in rate \"{number}\", expected a rate with a unit: write \"{number}/s\", \"{number}/min\" or \"{number}/h\""
    )
}

impl fmt::Display for Rate {
    /// The number as written (the shortest decimal that reads back to the same `f64`) and
    /// the unit, with `/m` spelled `/min`: `"1200/s"`, `"50/min"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.value, self.unit())
    }
}

// ---------------------------------------------------------------------------------------
// ClockTime
// ---------------------------------------------------------------------------------------

/// A wall-clock time on the scenario's day: `"08:41"`, `"08:41:30"`, `"00:08+1d"`.
///
/// Stored as the time since midnight of the scenario's first day, so `"00:08+1d"` is
/// 24 h 8 min.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(pub SimDuration);

impl ClockTime {
    pub fn since_midnight(self) -> SimDuration {
        self.0
    }

    pub(crate) fn from_parts(days: u64, hours: u64, minutes: u64, seconds: u64) -> ClockTime {
        let secs = ((days * 24 + hours) * 60 + minutes) * 60 + seconds;
        ClockTime(SimDuration::from_secs(secs))
    }
}

/// Parses a field of exactly `digits.0..=digits.1` ASCII digits no greater than `max`.
fn clock_field(text: &str, digits: (usize, usize), max: u64) -> Option<u64> {
    let ok_len = (digits.0..=digits.1).contains(&text.len());
    if !ok_len || !text.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|value| *value <= max)
}

/// The number of days in a `"+Nd"` suffix (at most 365, the longest run).
fn day_suffix(suffix: &str) -> Option<u64> {
    let days = suffix.strip_prefix('+')?.strip_suffix('d')?;
    if days.is_empty() || days.len() > 3 || !days.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    days.parse().ok().filter(|days| *days <= 365)
}

impl FromStr for ClockTime {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<ClockTime, UnitError> {
        let invalid = || UnitError(format!("\"{text}\" is not a clock time, {CLOCK_EXPECTED}"));
        let trimmed = text.trim();
        let (time, days) = match trimmed.find('+') {
            Some(plus) => (&trimmed[..plus], day_suffix(&trimmed[plus..]).ok_or_else(invalid)?),
            None => (trimmed, 0),
        };
        let fields: Vec<&str> = time.split(':').collect();
        let (hours, minutes, seconds) = match fields.as_slice() {
            [h, m] => (h, m, "00"),
            [h, m, s] => (h, m, *s),
            _ => return Err(invalid()),
        };
        if *hours == "24" && *minutes == "00" && seconds == "00" {
            return fail(format!(
                "\"{text}\" is not a clock time, expected \"00:00+{}d\" for midnight at the end of the day",
                days + 1
            ));
        }
        let hours = clock_field(hours, (1, 2), 23).ok_or_else(invalid)?;
        let minutes = clock_field(minutes, (2, 2), 59).ok_or_else(invalid)?;
        let seconds = clock_field(seconds, (2, 2), 59).ok_or_else(invalid)?;
        Ok(ClockTime::from_parts(days, hours, minutes, seconds))
    }
}

impl fmt::Display for ClockTime {
    /// `"HH:MM"`, `"HH:MM:SS"` when seconds are set, then `"+Nd"` on a later day.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.0 / NANOS_PER_SEC;
        let (days, hours, minutes, seconds) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
        write!(f, "{hours:02}:{minutes:02}")?;
        if seconds > 0 {
            write!(f, ":{seconds:02}")?;
        }
        if days > 0 {
            write!(f, "+{days}d")?;
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Percent
// ---------------------------------------------------------------------------------------

/// A percentage written with its sign, e.g. `"25%"`; stored as written (25.0), so it
/// serializes back unchanged.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Percent {
    percent: f64,
}

impl Percent {
    pub const HUNDRED: Percent = Percent { percent: 100.0 };

    /// A percentage from a fraction (0.25 gives `"25%"`), for defaults.
    pub fn from_fraction(fraction: f64) -> Percent {
        Percent { percent: fraction * 100.0 + 0.0 }
    }

    /// The value as written: `"25%"` gives 25.0.
    pub fn percent(self) -> f64 {
        self.percent
    }

    /// The value as a fraction: `"25%"` gives 0.25.
    pub fn fraction(self) -> f64 {
        self.percent / 100.0
    }
}

impl FromStr for Percent {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<Percent, UnitError> {
        let trimmed = text.trim();
        let Some(number) = trimmed.strip_suffix('%') else {
            return fail(format!("missing % in \"{text}\", {PERCENT_EXPECTED}: write \"{trimmed}%\""));
        };
        let percent = parse_plain_number(number.trim())
            .ok_or_else(|| UnitError(format!("\"{text}\" is not a percentage, {PERCENT_EXPECTED}")))?;
        if !percent.is_finite() {
            return fail(format!("\"{text}\" is not a finite percentage, {PERCENT_EXPECTED}"));
        }
        if percent < 0.0 {
            return fail(format!("negative percentage \"{text}\", {PERCENT_EXPECTED}"));
        }
        Ok(Percent { percent: percent + 0.0 })
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", self.percent)
    }
}

// ---------------------------------------------------------------------------------------
// TimePoint
// ---------------------------------------------------------------------------------------

/// When something happens: a clock time on the scenario's day (`"08:41"`) or a duration
/// from the start of the run (`"90m"`). A clock time is recognised by its colon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimePoint {
    Clock(ClockTime),
    FromStart(Duration),
}

impl FromStr for TimePoint {
    type Err = UnitError;

    fn from_str(text: &str) -> Result<TimePoint, UnitError> {
        if text.contains(':') {
            return text.parse().map(TimePoint::Clock);
        }
        text.parse::<Duration>()
            .map(TimePoint::FromStart)
            .map_err(|err| UnitError(format!("{err}, or a clock time such as \"08:41\"")))
    }
}

impl fmt::Display for TimePoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimePoint::Clock(clock) => clock.fmt(f),
            TimePoint::FromStart(duration) => duration.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duration(text: &str) -> u64 {
        text.parse::<Duration>().unwrap_or_else(|err| panic!("{text}: {err}")).nanos()
    }

    fn duration_error(text: &str) -> String {
        text.parse::<Duration>().unwrap_err().0
    }

    #[test]
    fn durations_accept_every_unit_and_compounds() {
        assert_eq!(duration("100ns"), 100);
        assert_eq!(duration("2us"), 2_000);
        assert_eq!(duration("250ms"), 250_000_000);
        assert_eq!(duration("1.5s"), 1_500_000_000);
        assert_eq!(duration("5m"), 300 * NANOS_PER_SEC);
        assert_eq!(duration("5min"), 300 * NANOS_PER_SEC);
        assert_eq!(duration("1h30m"), 5400 * NANOS_PER_SEC);
        assert_eq!(duration("1h 30m 15s"), 5415 * NANOS_PER_SEC);
        assert_eq!(duration("30 s"), 30 * NANOS_PER_SEC);
        assert_eq!(duration("1d"), 86_400 * NANOS_PER_SEC);
        assert_eq!(duration("0.5ms"), 500_000);
        assert_eq!(duration("0s"), 0);
        assert_eq!(duration("1.0000000005s"), 1_000_000_001, "rounds half up to the nanosecond");
        assert_eq!(duration("18446744073709551615ns"), u64::MAX);
    }

    #[test]
    fn durations_refuse_missing_units_and_nonsense() {
        assert_eq!(
            duration_error("30"),
            "missing unit in \"30\", expected a duration with a unit: write \"30s\", \"30ms\", \"30m\", ... (units: ns, us, ms, s, m, min, h, d)"
        );
        assert!(duration_error("1h30").starts_with("missing unit in \"1h30\""));
        assert!(duration_error("30 parsecs").starts_with("unknown unit \"parsecs\""));
        assert!(duration_error("-5s").starts_with("negative duration"));
        assert!(duration_error("").starts_with("empty duration"));
        assert!(duration_error("NaNs").contains("is not a duration"));
        assert!(duration_error("inf s").contains("is not a duration"));
        assert!(duration_error(".5s").contains("is not a duration"));
        assert!(duration_error("1e3s").starts_with("unknown unit \"e\""));
        assert!(duration_error("18446744073709551616ns").contains("too long"));
        assert!(duration_error("300000d").contains("too long"));
        assert!(duration_error("213503d 1d").contains("too long"));
    }

    #[test]
    fn durations_display_exactly_and_round_trip() {
        let cases = [
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5us"),
            (250_000_000, "250ms"),
            (1_500_000_000, "1.5s"),
            (5400 * NANOS_PER_SEC, "1h30m"),
            (NANOS_PER_DAY + NANOS_PER_SEC + 1, "1d1.000000001s"),
            (u64::MAX, "213503d23h34m33.709551615s"),
        ];
        for (nanos, text) in cases {
            assert_eq!(Duration(SimDuration(nanos)).to_string(), text);
            assert_eq!(duration(text), nanos, "{text}");
        }
    }

    proptest::proptest! {
        #[test]
        fn every_duration_displays_and_parses_back(nanos: u64) {
            let text = Duration(SimDuration(nanos)).to_string();
            proptest::prop_assert_eq!(duration(&text), nanos, "{}", text);
        }

        #[test]
        fn every_rate_displays_and_parses_back(value in 0.0..1e12f64, unit in "s|m|min|h") {
            let rate: Rate = format!("{value}/{unit}").parse().unwrap();
            let again: Rate = rate.to_string().parse().unwrap();
            proptest::prop_assert_eq!(rate.per_second().to_bits(), again.per_second().to_bits());
        }
    }

    #[test]
    fn rates_are_per_second_and_round_trip() {
        let rate = |text: &str| text.parse::<Rate>().unwrap().per_second();
        assert_eq!(rate("1200/s"), 1200.0);
        assert_eq!(rate("60/m"), 1.0);
        assert_eq!(rate("60/min"), 1.0);
        assert_eq!(rate("3600/h"), 1.0);
        assert_eq!(rate("0.5 / s"), 0.5);
        assert_eq!(rate("1_000/s"), 1000.0);
        assert_eq!(rate("-0/s").to_bits(), 0.0f64.to_bits());
        assert_eq!("50/m".parse::<Rate>().unwrap().to_string(), "50/min");
        assert_eq!("1e3/h".parse::<Rate>().unwrap().to_string(), "1000/h");
        for text in ["50/m", "3/h", "0.1/s", "1e9/s", "1/h"] {
            let parsed: Rate = text.parse().unwrap();
            let again: Rate = parsed.to_string().parse().unwrap();
            assert_eq!(parsed.per_second().to_bits(), again.per_second().to_bits(), "{text}");
        }
    }

    #[test]
    fn rates_refuse_nan_infinity_negatives_and_missing_units() {
        let error = |text: &str| text.parse::<Rate>().unwrap_err().0;
        assert!(error("100").starts_with("missing unit in rate \"100\""), "{}", error("100"));
        assert!(error("NaN/s").contains("not a number"));
        assert!(error("inf/s").contains("infinite"));
        assert!(error("-5/s").starts_with("negative rate"));
        assert!(error("5/d").starts_with("unknown unit \"/d\""));
        assert!(error("five/s").contains("is not a rate"));
    }

    #[test]
    fn clock_times_with_seconds_and_next_day() {
        let clock = |text: &str| text.parse::<ClockTime>().unwrap().since_midnight().0 / NANOS_PER_SEC;
        assert_eq!(clock("08:41"), 8 * 3600 + 41 * 60);
        assert_eq!(clock("8:41"), 8 * 3600 + 41 * 60);
        assert_eq!(clock("08:41:30"), 8 * 3600 + 41 * 60 + 30);
        assert_eq!(clock("00:08+1d"), 86_400 + 8 * 60);
        assert_eq!(clock("23:59:59+2d"), 3 * 86_400 - 1);
        for text in ["24:00", "08:60", "08:4", "08", "8:41:60", "08:41+d", "08:41+1", "08:41-1d", "ab:cd", ""]
        {
            assert!(text.parse::<ClockTime>().is_err(), "{text}");
        }
        assert!(("24:00".parse::<ClockTime>().unwrap_err().0).contains("00:00+1d"));
        for text in ["08:41", "08:41:30", "00:08+1d", "00:00"] {
            assert_eq!(text.parse::<ClockTime>().unwrap().to_string(), text);
        }
    }

    #[test]
    fn percentages_keep_the_written_value() {
        let percent: Percent = "99.9%".parse().unwrap();
        assert_eq!(percent.percent(), 99.9);
        assert!((percent.fraction() - 0.999).abs() < 1e-15);
        assert_eq!(percent.to_string(), "99.9%");
        assert!("90".parse::<Percent>().unwrap_err().0.contains("write \"90%\""));
        assert!("-1%".parse::<Percent>().is_err());
        assert!("NaN%".parse::<Percent>().is_err());
        assert!("inf%".parse::<Percent>().is_err());
    }

    #[test]
    fn time_points_are_clock_times_or_durations() {
        assert_eq!("08:41".parse::<TimePoint>().unwrap(), TimePoint::Clock("08:41".parse().unwrap()));
        assert_eq!("90m".parse::<TimePoint>().unwrap(), TimePoint::FromStart("90m".parse().unwrap()));
        assert!("90".parse::<TimePoint>().unwrap_err().0.contains("or a clock time"));
    }
}
