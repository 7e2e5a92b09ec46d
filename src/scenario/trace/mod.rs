//! `trace = { file = "traces/monday.csv", ... }` on a source: its rate read from a CSV file of
//! measured traffic, as Prometheus, Grafana or CloudWatch export it.
//!
//! ```text
//! CSV text ──read──▶ rows (time, value, spans) ──profile──▶ rate points ──▶ sources.NAME.rate
//! ```
//!
//! A trace becomes an ordinary rate profile before the resolver sees the file (step
//! interpolation is a profile whose points are doubled at each step, 1 ns apart), so the
//! arrival process is the one every source has, and the resolved scenario holds the rate
//! points themselves: it stands on its own, and its hash changes when the CSV does.
//!
//! Invariants: the path is relative to the scenario file that names it; a bad cell is an
//! error located in the CSV (its file, line and column, with the scenario key that read it
//! in a note); the trace must cover the whole run (nothing is extrapolated).

mod profile;
mod read;

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::defaults::{TRACE_INTERPOLATION, TRACE_TIME_COLUMN, TRACE_VALUE_COLUMN, TRACE_VALUES};
use super::error::{Problem, ScenarioError};
use super::file::{
    InterpolationFile, Number, ProfilePoint, RateFile, ScenarioFile, SourceKindFile, TraceValuesFile,
};
use super::spanned::Spanned;
use super::units::{Duration, Rate, TimePoint};
use crate::engine::SimDuration;

/// `trace = { file = "traces/monday.csv", scale = 1.3, shift = "7d" }`: a source's rate
/// read from a CSV file of measured traffic.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TraceFile {
    /// The CSV file, relative to the scenario file that names it. A header row is
    /// optional; `#` starts a comment line.
    pub file: Spanned<String>,
    /// The column of times, by its header name or its number from 1; omitted: 1. A time
    /// is an RFC 3339 timestamp (`2026-02-16T09:00:00Z`; without an offset, in
    /// `simulation.timezone`), Unix seconds (from 1e8) or milliseconds (from 1e11), or an
    /// offset from the run's start (`"90s"`, or seconds below 1e8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_column: Option<Spanned<ColumnFile>>,
    /// The column of values, by its header name or its number from 1; omitted: 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_column: Option<Spanned<ColumnFile>>,
    /// `"rate"` (requests per second) or `"count"` (requests from the row's time to the next
    /// row's; the last row's interval is as wide as the one before); omitted: `"rate"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Spanned<TraceValuesFile>>,
    /// `"step"` (each row's rate holds until the next row) or `"linear"` (straight lines
    /// between rows); omitted: `"step"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpolation: Option<Spanned<InterpolationFile>>,
    /// Multiplies every rate (1.3: the traffic grown by 30%); omitted: 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<Spanned<Number>>,
    /// Moves the trace later (`"7d"`: last Monday replayed as this Monday) or earlier
    /// (`"-1h"`: its first hour skipped). Timestamps are placed on `simulation.date` and
    /// `start` when the scenario has a date, else the first row is t = 0; offsets count from
    /// t = 0. Omitted: `"0s"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift: Option<Spanned<Shift>>,
}

/// A column of a trace: its header name, or its number from 1.
#[derive(Clone, Debug, PartialEq)]
pub enum ColumnFile {
    Number(i64),
    Name(String),
}

/// A signed duration: `"7d"`, `"-1h"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shift {
    pub negative: bool,
    pub duration: Duration,
}

impl Shift {
    /// In nanoseconds, signed.
    fn nanos(self) -> i128 {
        let nanos = i128::from(self.duration.nanos());
        if self.negative { -nanos } else { nanos }
    }
}

/// Longest shift either way: 366 days (a year's trace replayed a year on).
const MAX_SHIFT: Duration = Duration(SimDuration::from_secs(366 * 86_400));
/// Most columns a column number may name.
const MAX_COLUMN: i64 = 10_000;

/// Why a trace could not be written into its source.
pub(crate) enum TraceError {
    /// About a key of the scenario file.
    Scenario(Problem),
    /// About the CSV file, already located in it.
    Csv(ScenarioError),
}

impl From<Problem> for TraceError {
    fn from(problem: Problem) -> TraceError {
        TraceError::Scenario(problem)
    }
}

/// How a trace's times are placed on the run, from `[simulation]`.
pub(crate) struct Frame {
    pub duration: SimDuration,
    /// Unix time of t = 0 in seconds, when the scenario has a date.
    pub origin_unix_s: Option<i64>,
    /// Where timestamps without an offset are read: the scenario's zone, or UTC.
    pub zone: jiff::tz::TimeZone,
}

/// Where the loader's files are, for reading traces and pointing at their keys.
pub(crate) trait Whereabouts {
    /// The folder of the file that wrote `span`; `None` for text not read from a file.
    fn folder_of(&self, span: Range<usize>) -> Option<PathBuf>;
    /// `file:line:column` of `span`, for a note.
    fn position_of(&self, span: Range<usize>) -> String;
}

/// Reads every source's trace and writes it into the source as `rate` points, the trace
/// removed. Returns one line per trace for the resolved file's header.
pub(crate) fn inline(
    file: &mut ScenarioFile,
    frame: &Frame,
    whereabouts: &impl Whereabouts,
) -> Result<Vec<String>, TraceError> {
    let mut notes = Vec::new();
    for (name, source) in file.sources.iter_mut() {
        let Some(trace) = source.trace.take() else { continue };
        let key = format!("sources.{}.trace", name.get_ref());
        if let Some(kind) = source.kind.as_ref().filter(|kind| *kind.get_ref() != SourceKindFile::OpenLoop) {
            let message =
                format!("a trace gives a rate, which a {} source does not have", kind.get_ref().keyword());
            return Err(Problem::new(trace.span(), key, message)
                .expected("kind = \"open_loop\" beside a trace, or users and think_time for a closed loop")
                .into());
        }
        if let Some(rate) = &source.rate {
            return Err(Problem::new(
                rate.span(),
                format!("sources.{}.rate", name.get_ref()),
                "both rate and trace",
            )
            .expected("one of them: the rate as written, or the rate a trace file holds")
            .into());
        }
        let (points, note) = read_trace(trace.get_ref(), &key, frame, whereabouts)?;
        let span = trace.span();
        let points = points
            .into_iter()
            .map(|(at, rate)| ProfilePoint {
                at: Spanned::new(span.clone(), TimePoint::FromStart(Duration(SimDuration(at)))),
                rate: Spanned::new(span.clone(), Rate::from_per_second(rate)),
            })
            .collect();
        source.rate = Some(Spanned::new(span, RateFile::Profile(points)));
        notes.push(note);
    }
    Ok(notes)
}

/// One trace's rate points `(ns from t = 0, per second)` over the run, and its note.
fn read_trace(
    trace: &TraceFile,
    key: &str,
    frame: &Frame,
    whereabouts: &impl Whereabouts,
) -> Result<(Vec<(u64, f64)>, String), TraceError> {
    let file_key = format!("{key}.file");
    let path = trace_path(&trace.file, &file_key, whereabouts)?;
    let label = path.display().to_string();
    let text = read_text(&path, &label, &trace.file, &file_key)?;
    let columns = [
        column(trace.time_column.as_ref(), TRACE_TIME_COLUMN, &format!("{key}.time_column"))?,
        column(trace.value_column.as_ref(), TRACE_VALUE_COLUMN, &format!("{key}.value_column"))?,
    ];
    let scale = match &trace.scale {
        Some(scale) => super::operations::check_factor(scale, &format!("{key}.scale"))?,
        None => 1.0,
    };
    let shift = match &trace.shift {
        Some(shift) => check_shift(shift, &format!("{key}.shift"))?,
        None => 0,
    };
    let csv_problem = |problem: Problem| {
        let reference = whereabouts.position_of(trace.file.span());
        let mut error = Problem { key: key.to_string(), ..problem }.locate(&text, &label);
        if let ScenarioError::Invalid(diagnostic) = &mut error {
            diagnostic.note = Some(format!("{label} is the trace of {key}.file at {reference}"));
        }
        TraceError::Csv(error)
    };
    let rows = read::read(&text, &columns, &frame.zone).map_err(|error| match error {
        read::Error::Cell(problem) => csv_problem(problem),
        read::Error::Key(problem) => TraceError::Scenario(problem),
    })?;
    if rows.is_empty() {
        return Err(Problem::new(trace.file.span(), file_key, format!("trace {label} has no rows"))
            .expected("a CSV file with a time and a value on each row")
            .into());
    }
    let settings = profile::Settings {
        values: trace.values.as_ref().map_or(TRACE_VALUES, |values| *values.get_ref()),
        interpolation: trace.interpolation.as_ref().map_or(TRACE_INTERPOLATION, |how| *how.get_ref()),
        scale,
        shift,
    };
    let points = profile::points(&rows, &settings, frame).map_err(|refusal| match refusal {
        profile::Refusal::Cell(problem) => csv_problem(problem),
        profile::Refusal::Scale(message, expected) => {
            let scale = trace.scale.as_ref().map_or(trace.file.span(), Spanned::span);
            TraceError::Scenario(Problem::new(scale, format!("{key}.scale"), message).expected(expected))
        }
        profile::Refusal::Coverage(message, expected) => {
            let (span, at) = match &trace.shift {
                Some(shift) => (shift.span(), format!("{key}.shift")),
                None => (trace.file.span(), file_key.clone()),
            };
            TraceError::Scenario(Problem::new(span, at, message).expected(expected))
        }
    })?;
    let note = format!(
        "{key}: {label} ({} rows, {}, {}) written out as rate points",
        rows.len(),
        settings.values.keyword(),
        settings.interpolation.keyword()
    );
    Ok((points, note))
}

/// The trace's path, relative to the folder of the scenario file that names it.
fn trace_path(file: &Spanned<String>, key: &str, whereabouts: &impl Whereabouts) -> Result<PathBuf, Problem> {
    let name = file.get_ref();
    if name.trim().is_empty() {
        return Problem::new(file.span(), key, "empty file name")
            .expected("a CSV file such as \"traces/monday.csv\", relative to the scenario file")
            .into_err();
    }
    let Some(folder) = whereabouts.folder_of(file.span()) else {
        return Problem::new(
            file.span(),
            key,
            "a trace needs a scenario file: this text was not read from one, so there is no folder to find the trace in",
        )
        .expected("the scenario saved as a file and loaded from there, or rate points written out")
        .into_err();
    };
    // `components` drops the `.` in `./traces/monday.csv`, so labels read cleanly.
    Ok(folder.join(name).components().collect())
}

/// The CSV text; a missing or unreadable file is refused at the `file` key, naming the
/// path as resolved.
fn read_text(path: &Path, label: &str, file: &Spanned<String>, key: &str) -> Result<String, Problem> {
    let refuse = |reason: String| {
        Problem::new(file.span(), key, format!("cannot read trace {label}: {reason}"))
            .expected("a CSV file, relative to the folder of the scenario file that names it")
    };
    if std::fs::metadata(path).is_ok_and(|metadata| !metadata.is_file()) {
        return Err(refuse("it is a folder".into()));
    }
    let bytes = std::fs::read(path).map_err(|error| {
        let reason = error.to_string();
        refuse(reason.split(" (os error").next().unwrap_or_default().to_lowercase())
    })?;
    String::from_utf8(bytes).map_err(|_| refuse("it is not UTF-8 text".into()))
}

/// A column selector: a number from 1, or a header name.
fn column(column: Option<&Spanned<ColumnFile>>, default: i64, key: &str) -> Result<read::Column, Problem> {
    let Some(written) = column else {
        return Ok(read::Column {
            select: read::Select::Number(default as usize - 1),
            span: 0..0,
            key: key.into(),
        });
    };
    let select = match written.get_ref() {
        ColumnFile::Number(number) if (1..=MAX_COLUMN).contains(number) => {
            read::Select::Number(*number as usize - 1)
        }
        ColumnFile::Number(number) => {
            return Problem::new(written.span(), key, format!("column {number} does not exist"))
                .expected(format!("a column number from 1 to {MAX_COLUMN}, or a header name"))
                .into_err();
        }
        ColumnFile::Name(name) if name.trim().is_empty() => {
            return Problem::new(written.span(), key, "empty column name")
                .expected("a name in the trace's header row, or a column number from 1")
                .into_err();
        }
        ColumnFile::Name(name) => read::Select::Name(name.trim().to_string()),
    };
    Ok(read::Column { select, span: written.span(), key: key.into() })
}

fn check_shift(shift: &Spanned<Shift>, key: &str) -> Result<i128, Problem> {
    let value = *shift.get_ref();
    if value.duration > MAX_SHIFT {
        return Problem::new(shift.span(), key, format!("shift {value} is longer than {MAX_SHIFT}"))
            .expected(format!("a shift of at most {MAX_SHIFT} either way, such as \"7d\" or \"-1h\""))
            .into_err();
    }
    Ok(value.nanos())
}

// ---------------------------------------------------------------------------------------
// Hand-read values: a column is a number or a name, a shift a duration with a sign.
// ---------------------------------------------------------------------------------------

impl<'de> Deserialize<'de> for ColumnFile {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ColumnVisitor)
    }
}

struct ColumnVisitor;

impl Visitor<'_> for ColumnVisitor {
    type Value = ColumnFile;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(r#"a column's header name such as "value", or its number from 1 such as 2"#)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<ColumnFile, E> {
        Ok(ColumnFile::Name(text.to_string()))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<ColumnFile, E> {
        Ok(ColumnFile::Number(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<ColumnFile, E> {
        Ok(ColumnFile::Number(value.min(i64::MAX as u64) as i64))
    }
}

impl Serialize for ColumnFile {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ColumnFile::Number(number) => serializer.serialize_i64(*number),
            ColumnFile::Name(name) => serializer.serialize_str(name),
        }
    }
}

impl JsonSchema for ColumnFile {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("ColumnFile")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A trace's column: its header name such as \"value\", or its number from 1 such as 2.",
            "anyOf": [{ "type": "integer", "minimum": 1 }, { "type": "string", "minLength": 1 }],
        })
    }
}

impl FromStr for Shift {
    type Err = super::units::UnitError;

    fn from_str(text: &str) -> Result<Shift, Self::Err> {
        let trimmed = text.trim();
        let (negative, rest) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
        };
        let duration: Duration = rest.parse()?;
        Ok(Shift { negative: negative && duration.nanos() > 0, duration })
    }
}

impl fmt::Display for Shift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        write!(f, "{}", self.duration)
    }
}

impl<'de> Deserialize<'de> for Shift {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ShiftVisitor)
    }
}

struct ShiftVisitor;

impl Visitor<'_> for ShiftVisitor {
    type Value = Shift;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(r#"a duration with a unit, such as "7d" (later) or "-1h" (earlier)"#)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Shift, E> {
        text.parse().map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Shift, E> {
        Err(E::custom(format!(
            "missing unit in shift {value}, expected a duration with a unit such as \"{value}s\", \"{value}h\" or \"{value}d\""
        )))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Shift, E> {
        self.visit_i64(value as i64)
    }
}

impl Serialize for Shift {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl JsonSchema for Shift {
    fn schema_name() -> Cow<'static, str> {
        Cow::Borrowed("Shift")
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration with a unit, later such as \"7d\" or earlier such as \"-1h\".",
            "type": "string",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shift_is_a_signed_duration() {
        let later: Shift = "7d".parse().unwrap();
        assert_eq!(later.nanos(), 7 * 86_400 * 1_000_000_000);
        let earlier: Shift = " -1h30m".parse().unwrap();
        assert_eq!(earlier.nanos(), -5400 * 1_000_000_000);
        assert_eq!(earlier.to_string(), "-1h30m");
        assert_eq!("-0s".parse::<Shift>().unwrap().to_string(), "0s");
        assert!("-".parse::<Shift>().is_err());
        assert!("--1h".parse::<Shift>().is_err());
    }
}
