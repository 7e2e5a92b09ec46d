//! A trace's CSV text to rows: each record's time and value, with the byte span each cell
//! was read from, so that a bad cell is shown at its file, line and column.
//!
//! The `csv` crate reads the records (quotes, `#` comments, ragged rows); each record's
//! cells are then found again in the text from the record's byte position, for the spans.
//! A first row whose time cell is not a time is a header; a column named by its header
//! name needs one.

use std::ops::Range;

use jiff::Timestamp;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;

use super::super::error::Problem;
use super::super::units::Duration;

/// Most rows of a trace: a year of one-minute rows, twice over.
pub(super) const MAX_ROWS: usize = 1_000_000;

/// Numbers from here on are Unix seconds (1973-03-03 on); below, offsets in seconds (3
/// years, far beyond the longest run).
const UNIX_SECONDS_FROM: f64 = 1e8;
/// Numbers from here on are Unix milliseconds (2001-09-09 on, as Grafana exports them);
/// as seconds they would be past the year 5000.
const UNIX_MILLIS_FROM: f64 = 1e11;
/// Numbers from here on are no time: as milliseconds they would be past the year 30000.
const UNIX_MILLIS_TO: f64 = 1e15;

const TIME_EXPECTED: &str = "an RFC 3339 timestamp such as 2026-02-16T09:00:00Z, Unix seconds such as 1771232400, or an offset from the run's start such as 90s or 90";
const VALUE_EXPECTED: &str = "a number >= 0 such as 120.5";

/// Which column a trace reads a cell from, and the key that chose it.
pub(super) struct Column {
    pub select: Select,
    /// Where the key is written (`0..0` for the default).
    pub span: Range<usize>,
    pub key: String,
}

pub(super) enum Select {
    /// 0-based.
    Number(usize),
    Name(String),
}

/// A trace's time: an instant, or an offset from the run's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Time {
    /// Nanoseconds since the Unix epoch.
    Instant(i128),
    /// Nanoseconds from t = 0.
    Offset(i128),
}

impl Time {
    pub fn nanos(self) -> i128 {
        match self {
            Time::Instant(nanos) | Time::Offset(nanos) => nanos,
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Time::Instant(_) => "a timestamp",
            Time::Offset(_) => "an offset from the start",
        }
    }
}

/// One row: its time and value, and where the value was read in the text.
#[derive(Clone, Debug)]
pub(super) struct Row {
    pub time: Time,
    pub value: f64,
    pub value_span: Range<usize>,
}

/// Why the rows could not be read.
pub(super) enum Error {
    /// A cell of the CSV (span in its text).
    Cell(Problem),
    /// A key of the scenario (span in its text): a column the header does not name.
    Key(Problem),
}

/// Reads the rows of `text`; times without an offset are read in `zone`. Times strictly
/// increase and are all of one kind; values are finite and >= 0.
pub(super) fn read(text: &str, columns: &[Column; 2], zone: &TimeZone) -> Result<Vec<Row>, Error> {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bom = text.len() - body.len();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(body.as_bytes());
    let mut indices: Option<[usize; 2]> = None;
    let mut rows: Vec<Row> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|error| {
            let at = error.position().map_or(0, |position| position.byte() as usize) + bom;
            Error::Cell(Problem::new(at..at, "", format!("unreadable CSV: {error}")).expected("a CSV file"))
        })?;
        let start = record.position().map_or(0, |position| position.byte() as usize);
        let spans: Vec<Range<usize>> =
            cell_spans(body, start).into_iter().map(|span| span.start + bom..span.end + bom).collect();
        let [time_idx, value_idx] = match indices {
            Some(indices) => indices,
            None => {
                let (found, header) = header_indices(&record, columns, zone)?;
                indices = Some(found);
                if header {
                    continue;
                }
                found
            }
        };
        if rows.len() == MAX_ROWS {
            let problem = Problem::new(span_of(&spans, 0), "", format!("more than {MAX_ROWS} rows"))
                .expected(format!(
                    "a trace of at most {MAX_ROWS} rows (a year of one-minute rows is 525,600)"
                ));
            return Err(Error::Cell(problem));
        }
        let time_span = span_of(&spans, time_idx);
        let value_span = span_of(&spans, value_idx);
        let cell = |idx: usize, span: &Range<usize>| {
            record.get(idx).ok_or_else(|| {
                let end = spans.last().map_or(span.end, |last| last.end);
                Error::Cell(
                    Problem::new(
                        end..end,
                        "",
                        format!(
                            "row has {}, no column {}{}",
                            columns_text(record.len()),
                            idx + 1,
                            separator_hint(&record)
                        ),
                    )
                    .expected(format!(
                        "a time in column {} and a value in column {} on every row",
                        time_idx + 1,
                        value_idx + 1
                    )),
                )
            })
        };
        let time_text = cell(time_idx, &time_span)?;
        let value_text = cell(value_idx, &value_span)?;
        let time = parse_time(time_text, zone).map_err(|message| {
            Error::Cell(Problem::new(time_span.clone(), "", message).expected(TIME_EXPECTED))
        })?;
        if let Some(previous) = rows.last() {
            check_order(previous, time, time_text, &time_span)?;
        }
        let value = parse_value(value_text).map_err(|message| {
            Error::Cell(Problem::new(value_span.clone(), "", message).expected(VALUE_EXPECTED))
        })?;
        rows.push(Row { time, value, value_span });
    }
    Ok(rows)
}

/// The columns' indices, from the first record: it is a header when a column is chosen by
/// name, or when its time cell is not a time. Returns the indices and whether it is one.
fn header_indices(
    first: &csv::StringRecord,
    columns: &[Column; 2],
    zone: &TimeZone,
) -> Result<([usize; 2], bool), Error> {
    let by_name = columns.iter().any(|column| matches!(column.select, Select::Name(_)));
    let header = by_name
        || match columns[0].select {
            Select::Number(idx) => first.get(idx).is_some_and(|cell| parse_time(cell, zone).is_err()),
            Select::Name(_) => true,
        };
    let names: Vec<&str> = first.iter().collect();
    let mut indices = [0; 2];
    for (slot, column) in columns.iter().enumerate() {
        indices[slot] = match &column.select {
            Select::Number(idx) => *idx,
            Select::Name(name) => names.iter().position(|candidate| candidate == name).ok_or_else(|| {
                let named: Vec<&str> = names.iter().copied().filter(|name| !name.is_empty()).collect();
                let expected = match named.as_slice() {
                    [] => "a column number from 1: the first row names no column".to_string(),
                    _ => format!(
                        "one of {} (the trace's first row, its header), or a column number from 1",
                        crate::refusal::quoted_list(&named)
                    ),
                };
                let message = super::super::error::with_suggestion(
                    format!("unknown column \"{name}\""),
                    Some(&expected),
                );
                Error::Key(Problem::new(column.span.clone(), column.key.clone(), message).expected(expected))
            })?,
        };
    }
    Ok((indices, header))
}

/// Times strictly increase, and a trace does not mix timestamps with offsets.
fn check_order(previous: &Row, time: Time, text: &str, span: &Range<usize>) -> Result<(), Error> {
    let refuse = |message: String, expected: &str| {
        Error::Cell(Problem::new(span.clone(), "", message).expected(expected))
    };
    if std::mem::discriminant(&previous.time) != std::mem::discriminant(&time) {
        return Err(refuse(
            format!("time {text} is {}, but the rows before are {}", time.kind(), previous.time.kind()),
            "times of one kind on every row",
        ));
    }
    if time.nanos() <= previous.time.nanos() {
        return Err(refuse(
            format!("time {text} is not after the previous row's"),
            "rows in strictly increasing time order, one per time",
        ));
    }
    Ok(())
}

/// A time cell: a number (an offset in seconds, or Unix seconds or milliseconds, by size),
/// a duration with a unit (an offset), or a timestamp (RFC 3339, or a date and time read in
/// `zone`).
pub(super) fn parse_time(cell: &str, zone: &TimeZone) -> Result<Time, String> {
    if let Ok(number) = cell.parse::<f64>()
        && cell.bytes().all(|byte| byte.is_ascii_digit() || matches!(byte, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        if !(number.is_finite() && number >= 0.0) {
            return Err(format!("time {cell} is negative"));
        }
        if number >= UNIX_MILLIS_TO {
            return Err(format!("time {cell} is too large for Unix milliseconds"));
        }
        return Ok(if number >= UNIX_MILLIS_FROM {
            Time::Instant((number * 1e6).round() as i128)
        } else if number >= UNIX_SECONDS_FROM {
            Time::Instant((number * 1e9).round() as i128)
        } else {
            Time::Offset((number * 1e9).round() as i128)
        });
    }
    if cell.bytes().next().is_some_and(|byte| byte.is_ascii_digit())
        && let Ok(offset) = cell.parse::<Duration>()
    {
        return Ok(Time::Offset(i128::from(offset.nanos())));
    }
    if let Ok(instant) = cell.parse::<Timestamp>() {
        return Ok(Time::Instant(instant.as_nanosecond()));
    }
    let civil = cell
        .parse::<DateTime>()
        .or_else(|_| cell.parse::<Date>().map(|date| date.to_datetime(jiff::civil::Time::midnight())));
    if let Ok(civil) = civil
        && let Ok(zoned) = civil.to_zoned_datetime(zone.clone())
    {
        return Ok(Time::Instant(zoned.timestamp().as_nanosecond()));
    }
    match cell {
        "" => Err("empty time".into()),
        _ => Err(format!("\"{cell}\" is not a time")),
    }
}

/// A value cell: a finite number >= 0.
fn parse_value(cell: &str) -> Result<f64, String> {
    match cell.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Ok(value + 0.0),
        Ok(value) if value.is_nan() => Err("value NaN is not a number (a gap in the export?)".into()),
        Ok(value) if value < 0.0 => Err(format!("negative value {cell}")),
        Ok(_) => Err(format!("value {cell} is infinite")),
        Err(_) if cell.is_empty() => Err("empty value (a gap in the export?)".into()),
        Err(_) => Err(format!("\"{cell}\" is not a number")),
    }
}

/// For a row of one cell that holds a `;` or a tab: the hint that the file is not
/// comma-separated.
fn separator_hint(record: &csv::StringRecord) -> &'static str {
    match record.iter().next() {
        Some(cell) if record.len() == 1 && cell.contains(';') => {
            " (cells separated by \";\"? a trace is comma-separated)"
        }
        Some(cell) if record.len() == 1 && cell.contains('\t') => {
            " (cells separated by tabs? a trace is comma-separated)"
        }
        _ => "",
    }
}

/// `"1 column"`, `"2 columns"`.
fn columns_text(n: usize) -> String {
    if n == 1 { "1 column".into() } else { format!("{n} columns") }
}

/// The span of cell `idx`, or the end of the record when it has no such cell.
fn span_of(spans: &[Range<usize>], idx: usize) -> Range<usize> {
    match spans.get(idx) {
        Some(span) => span.clone(),
        None => spans.last().map_or(0..0, |last| last.end..last.end),
    }
}

/// The spans of the cells of the record starting at byte `start`: separated by commas,
/// ended by a line break outside quotes; each without its spaces and quotes.
fn cell_spans(text: &str, start: usize) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut at = start.min(bytes.len());
    // The csv crate's position of a record may be that of the blank or comment lines it
    // skipped before it.
    while at < bytes.len() && matches!(bytes[at], b'\n' | b'\r' | b'#') {
        if bytes[at] == b'#' {
            at = bytes[at..]
                .iter()
                .position(|&byte| byte == b'\n')
                .map_or(bytes.len(), |newline| at + newline);
        }
        at += 1;
    }
    at = at.min(bytes.len());
    loop {
        let cell_start = at;
        let mut quoted = false;
        while at < bytes.len() {
            match bytes[at] {
                b'"' => quoted = !quoted,
                b',' | b'\n' | b'\r' if !quoted => break,
                _ => {}
            }
            at += 1;
        }
        spans.push(trimmed(bytes, cell_start..at));
        if at < bytes.len() && bytes[at] == b',' {
            at += 1;
        } else {
            return spans;
        }
    }
}

/// `span` without surrounding ASCII spaces, then without a pair of quotes.
fn trimmed(bytes: &[u8], mut span: Range<usize>) -> Range<usize> {
    while span.start < span.end && bytes[span.start].is_ascii_whitespace() {
        span.start += 1;
    }
    while span.end > span.start && bytes[span.end - 1].is_ascii_whitespace() {
        span.end -= 1;
    }
    if span.end >= span.start + 2 && bytes[span.start] == b'"' && bytes[span.end - 1] == b'"' {
        span = span.start + 1..span.end - 1;
    }
    span
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns() -> [Column; 2] {
        [
            Column { select: Select::Number(0), span: 0..0, key: "t".into() },
            Column { select: Select::Number(1), span: 0..0, key: "v".into() },
        ]
    }

    fn rows(text: &str) -> Vec<Row> {
        match read(text, &columns(), &TimeZone::UTC) {
            Ok(rows) => rows,
            Err(Error::Cell(problem) | Error::Key(problem)) => panic!("{problem:?}"),
        }
    }

    fn refused(text: &str) -> (String, String) {
        match read(text, &columns(), &TimeZone::UTC) {
            Ok(_) => panic!("read"),
            Err(Error::Cell(problem) | Error::Key(problem)) => {
                (problem.message, text[problem.span].to_string())
            }
        }
    }

    #[test]
    fn every_time_format_is_read() {
        let utc = TimeZone::UTC;
        let nine = 1_771_232_400_i128 * 1_000_000_000;
        assert_eq!(parse_time("2026-02-16T09:00:00Z", &utc), Ok(Time::Instant(nine)));
        assert_eq!(parse_time("2026-02-16T10:00:00+01:00", &utc), Ok(Time::Instant(nine)));
        assert_eq!(parse_time("2026-02-16 09:00:00", &utc), Ok(Time::Instant(nine)));
        assert_eq!(parse_time("1771232400", &utc), Ok(Time::Instant(nine)));
        assert_eq!(parse_time("1771232400.5", &utc), Ok(Time::Instant(nine + 500_000_000)));
        assert_eq!(parse_time("1771232400000", &utc), Ok(Time::Instant(nine)));
        assert_eq!(parse_time("90", &utc), Ok(Time::Offset(90_000_000_000)));
        assert_eq!(parse_time("1m30s", &utc), Ok(Time::Offset(90_000_000_000)));
        let new_york = TimeZone::get("America/New_York").unwrap();
        assert_eq!(parse_time("2026-02-16 04:00", &new_york), Ok(Time::Instant(nine)));
        assert!(parse_time("yesterday", &utc).is_err());
        assert!(parse_time("-5", &utc).is_err());
        assert!(parse_time("nan", &utc).is_err());
        assert!(parse_time("1e300", &utc).is_err(), "no overflow past the year 30000");
        assert!(parse_time("0001-01-01T00:00:00Z", &utc).is_ok());
    }

    #[test]
    fn headers_comments_quotes_and_spans() {
        let text = "\u{feff}# exported\n\"time\",\"value\"\n\"0\",\"10.5\"\n\n 60 , 20\n";
        let rows = rows(text);
        assert_eq!(rows.len(), 2, "header, comment and blank line skipped");
        assert_eq!((rows[0].time, rows[0].value), (Time::Offset(0), 10.5));
        assert_eq!(&text[rows[0].value_span.clone()], "10.5");
        assert_eq!(&text[rows[1].value_span.clone()], "20");
    }

    #[test]
    fn bad_cells_are_pointed_at() {
        assert_eq!(refused("0,1\n60,x\n"), ("\"x\" is not a number".into(), "x".into()));
        assert_eq!(refused("0,1\n60,\n"), ("empty value (a gap in the export?)".into(), "".into()));
        assert_eq!(refused("0,1\n0,2\n").0, "time 0 is not after the previous row's");
        assert_eq!(
            refused("0,1\n1771232400,2\n").0,
            "time 1771232400 is a timestamp, but the rows before are an offset from the start"
        );
        assert_eq!(refused("0,1\n60\n").0, "row has 1 column, no column 2");
        assert_eq!(refused("0,1\n60,-3\n"), ("negative value -3".into(), "-3".into()));
        assert!(refused("0;1\n60;2\n").0.ends_with("(cells separated by \";\"? a trace is comma-separated)"));
    }

    #[test]
    fn columns_by_name_need_the_header() {
        let named = [
            Column { select: Select::Name("ts".into()), span: 3..5, key: "t".into() },
            Column { select: Select::Name("rps".into()), span: 7..9, key: "v".into() },
        ];
        let text = "host,rps,ts\na,5,0\nb,6,60\n";
        let Ok(rows) = read(text, &named, &TimeZone::UTC) else { panic!("read") };
        assert_eq!((rows[1].time, rows[1].value), (Time::Offset(60_000_000_000), 6.0));
        let Err(Error::Key(problem)) = read("host,rsp,ts\n", &named, &TimeZone::UTC) else {
            panic!("refused")
        };
        assert_eq!(problem.span, 7..9);
        assert_eq!(problem.message, "unknown column \"rps\" (did you mean \"rsp\"?)");
    }
}
