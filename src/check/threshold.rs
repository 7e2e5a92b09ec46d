//! Thresholds: a metric, optionally scoped to a class or a service and limited to a window,
//! compared with a target, over replications through a statistic.
//!
//! The same checks serve the `[[thresholds]]` of a scenario file (where `scenario` turns a
//! `Refusal` into a located error) and `--threshold EXPR` on the command line, whose
//! grammar is:
//!
//! ```text
//! METRIC[{class=NAME}|{service=NAME}] OP TARGET [from TIME to TIME | sliding DURATION] [STATISTIC]
//! success_rate >= 99.9%
//! latency.p99{class=login} < 250ms from 08:00 to 10:00
//! success_rate >= 95% sliding 10m lower95
//! ```
//!
//! Invariant: a `Threshold` only exists for a known metric, an existing class or service,
//! a window inside the run that the metric can be computed over, and a target in the
//! metric's unit. `Display` writes the expression back in the grammar above.

use std::fmt;

use super::metric::{self, Domain, Metric, Unit};
use crate::engine::{SimDuration, SimTime};
use crate::model::Scenario;
use crate::refusal::quoted_list;
use crate::units::{ClockTime, Duration, Percent, Rate, TimePoint, UnitError};

/// Why a threshold was refused.
pub use crate::refusal::Refusal;

/// What part of the run a metric is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// All requests, or every service combined.
    All,
    Class(String),
    Service(String),
}

/// How the observed value is compared with the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Comparison {
    pub const SYMBOLS: &'static [&'static str] = &["<", "<=", ">", ">="];

    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
        }
    }

    pub fn from_symbol(symbol: &str) -> Option<Comparison> {
        Some(match symbol {
            "<" => Comparison::Less,
            "<=" => Comparison::LessOrEqual,
            ">" => Comparison::Greater,
            ">=" => Comparison::GreaterOrEqual,
            _ => return None,
        })
    }

    /// Whether `observed` meets `target`. Values equal to about nine significant digits
    /// count as equal, so `99.9%` is met by a success rate of exactly 999/1000 although
    /// neither is exact in binary.
    pub fn holds(self, observed: f64, target: f64) -> bool {
        let equal = (observed - target).abs() <= 1e-9 * observed.abs().max(target.abs());
        match self {
            Comparison::Less => observed < target && !equal,
            Comparison::LessOrEqual => observed < target || equal,
            Comparison::Greater => observed > target && !equal,
            Comparison::GreaterOrEqual => observed > target || equal,
        }
    }
}

/// How the values of several replications become the one value compared with the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Statistic {
    Mean,
    /// The worst replication, by the metric's direction.
    Worst,
    /// The low end of the two-sided confidence interval of the mean, at this percentage.
    Lower(u8),
    /// The high end of the two-sided confidence interval of the mean.
    Upper(u8),
}

const STATISTIC_EXPECTED: &str =
    r#""mean", "worst", "lower95" or "upper95" (a bound at any whole confidence from 50 to 99: "lower90")"#;

impl Statistic {
    /// The confidence level of a bound, as a fraction.
    pub fn confidence(self) -> Option<f64> {
        match self {
            Statistic::Lower(level) | Statistic::Upper(level) => Some(f64::from(level) / 100.0),
            Statistic::Mean | Statistic::Worst => None,
        }
    }

    pub fn parse(text: &str) -> Result<Statistic, Refusal> {
        let bound = |digits: &str| digits.parse::<u8>().ok().filter(|level| (50..=99).contains(level));
        let statistic = match text {
            "mean" => Some(Statistic::Mean),
            "worst" => Some(Statistic::Worst),
            _ => match (text.strip_prefix("lower"), text.strip_prefix("upper")) {
                (Some(digits), _) => bound(digits).map(Statistic::Lower),
                (_, Some(digits)) => bound(digits).map(Statistic::Upper),
                _ => None,
            },
        };
        statistic
            .ok_or_else(|| Refusal::new(format!("unknown statistic \"{text}\"")).expected(STATISTIC_EXPECTED))
    }
}

impl fmt::Display for Statistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statistic::Mean => f.write_str("mean"),
            Statistic::Worst => f.write_str("worst"),
            Statistic::Lower(level) => write!(f, "lower{level}"),
            Statistic::Upper(level) => write!(f, "upper{level}"),
        }
    }
}

/// The part of the run a threshold looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Window {
    /// The whole run, from `summary.json`.
    Run,
    /// The intervals that start in `[start, end)`, as written (`from`, `to`) and resolved.
    Span { from: TimePoint, to: TimePoint, start: SimTime, end: SimTime },
    /// Every run of `intervals` consecutive intervals; the worst one counts.
    Sliding { length: Duration, intervals: usize },
}

/// A metric of a part of the run: what a threshold tests and a comparison row shows.
#[derive(Clone, Debug, PartialEq)]
pub struct Measure {
    pub metric: &'static Metric,
    pub scope: Scope,
    pub window: Window,
}

impl fmt::Display for Measure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.metric.name)?;
        match &self.scope {
            Scope::All => Ok(()),
            Scope::Class(name) => write!(f, "{{class={name}}}"),
            Scope::Service(name) => write!(f, "{{service={name}}}"),
        }
    }
}

/// One threshold, checked and resolved against a scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    pub measure: Measure,
    pub comparison: Comparison,
    /// The target in the metric's unit (a fraction for ratios, milliseconds for latencies).
    pub target: f64,
    /// The target as written, for messages: `"99.9%"`.
    pub target_text: String,
    pub statistic: Statistic,
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.measure, self.comparison.symbol(), self.target_text)?;
        match &self.measure.window {
            Window::Run => {}
            Window::Span { from, to, .. } => write!(f, " from {from} to {to}")?,
            Window::Sliding { length, .. } => write!(f, " sliding {length}")?,
        }
        if self.statistic != Statistic::Mean {
            write!(f, " {}", self.statistic)?;
        }
        Ok(())
    }
}

impl Threshold {
    /// Whether two thresholds test the same thing: the same metric, scope, window and
    /// statistic (so one given on the command line replaces one from the file).
    pub fn same_measure(&self, other: &Threshold) -> bool {
        self.measure == other.measure && self.statistic == other.statistic
    }
}

// ---------------------------------------------------------------------------------------
// Checks shared by the file and the command line.

/// The metric named `name`, with an optional separate aggregation (`latency` + `p99`).
pub fn resolve_metric(name: &str, aggregation: Option<&str>) -> Result<&'static Metric, Refusal> {
    let full = match aggregation {
        Some(aggregation) => format!("{name}.{aggregation}"),
        None => name.to_string(),
    };
    metric::lookup(&full).map_err(|(message, expected)| Refusal::new(message).expected(expected))
}

/// The scope given by a class or a service name, checked against the metric and the
/// scenario's names.
pub fn resolve_scope(
    metric: &Metric,
    class: Option<&str>,
    service: Option<&str>,
    scenario: &Scenario,
) -> Result<Scope, Refusal> {
    let name = metric.name;
    match (metric.domain, class, service) {
        (_, Some(_), Some(_)) => Err(Refusal::new("a threshold has a class or a service, not both")
            .expected("one of class or service")),
        (_, None, None) => Ok(Scope::All),
        (Domain::Requests, Some(class), None) => {
            let names: Vec<&str> = scenario.classes.iter().map(|class| class.name.as_str()).collect();
            known(&names, class, "class").map(|()| Scope::Class(class.to_string()))
        }
        (Domain::Service(_), None, Some(service)) => {
            let names: Vec<&str> = scenario.services.iter().map(|service| service.name.as_str()).collect();
            known(&names, service, "service").map(|()| Scope::Service(service.to_string()))
        }
        (Domain::Requests, None, Some(_)) => {
            Err(Refusal::new(format!("{name} is measured on requests, not services"))
                .expected("no scope (all requests) or a class"))
        }
        (Domain::Service(_), Some(_), None) => {
            Err(Refusal::new(format!("{name} is measured per service, not per class"))
                .expected("no scope (every service) or a service"))
        }
        (Domain::Run, _, _) => {
            Err(Refusal::new(format!("{name} is a figure of the whole run")).expected("no class or service"))
        }
    }
}

fn known(names: &[&str], name: &str, what: &str) -> Result<(), Refusal> {
    if names.contains(&name) {
        return Ok(());
    }
    let expected = match names {
        [] => format!("a name, but no [{what}es.NAME] table is defined"),
        [only] => format!("\"{only}\""),
        _ => format!("one of {}", quoted_list(names)),
    };
    Err(Refusal::new(format!("unknown {what} \"{name}\"")).expected(expected))
}

/// A target written as text, in the metric's unit.
pub fn parse_target(metric: &Metric, text: &str) -> Result<f64, Refusal> {
    let unit_error = |error: UnitError| {
        let (message, expected) = error.0.split_once(", expected ").unwrap_or((&error.0, ""));
        let refusal = Refusal::new(format!("{message} for {}", metric.name));
        if expected.is_empty() { refusal } else { refusal.expected(expected) }
    };
    let duration = |text: &str| text.parse::<Duration>().map(|d| d.0.as_secs_f64()).map_err(unit_error);
    match metric.unit {
        Unit::Ratio => text.parse::<Percent>().map(Percent::fraction).map_err(unit_error),
        Unit::Millis => duration(text).map(|secs| secs * 1e3),
        Unit::Seconds => duration(text),
        Unit::Minutes => duration(text).map(|secs| secs / 60.0),
        Unit::Hours if text.trim().ends_with('h') => duration(text).map(|secs| secs / 3600.0),
        Unit::PerSecond => text.parse::<Rate>().map(Rate::per_second).map_err(unit_error),
        Unit::Hours | Unit::Count | Unit::Number => match text.trim().replace('_', "").parse::<f64>() {
            Ok(value) => target_number(metric, value),
            Err(_) => {
                Err(Refusal::new(format!("\"{text}\" is not a number")).expected(unit_example(metric.unit)))
            }
        },
    }
}

/// A target written as a bare number, which only counts and plain numbers take.
pub fn target_number(metric: &Metric, value: f64) -> Result<f64, Refusal> {
    match metric.unit {
        Unit::Hours | Unit::Count | Unit::Number if value.is_finite() && value >= 0.0 => Ok(value),
        Unit::Hours | Unit::Count | Unit::Number => {
            Err(Refusal::new(format!("target {value} is not a finite number >= 0"))
                .expected(unit_example(metric.unit)))
        }
        unit => Err(Refusal::new(format!("missing unit in the target {value} of {}", metric.name))
            .expected(unit_example(unit))),
    }
}

/// What a target of `unit` looks like.
pub fn unit_example(unit: Unit) -> &'static str {
    match unit {
        Unit::Ratio => r#"a percentage such as "99.9%""#,
        Unit::Millis | Unit::Seconds | Unit::Minutes => r#"a duration such as "250ms", "30s" or "5m""#,
        Unit::Hours => r#"a number of hours such as 120, or "120h""#,
        Unit::PerSecond => r#"a rate such as "300/s""#,
        Unit::Count => "a whole number such as 100",
        Unit::Number => "a number such as 1.5",
    }
}

/// A `from`..`to` window: clock times need the scenario's start; both must fall in the run.
pub fn resolve_span(
    metric: &Metric,
    from: TimePoint,
    to: TimePoint,
    scenario: &Scenario,
) -> Result<Window, Refusal> {
    windowable(metric)?;
    let start = since_start(from, scenario)?;
    let end = since_start(to, scenario)?;
    if end <= start {
        return Err(Refusal::new(format!("window ends at {to}, not after its start {from}"))
            .expected("a window whose \"to\" is after its \"from\""));
    }
    let duration = SimTime(scenario.duration.0);
    if start >= duration {
        return Err(Refusal::new(format!(
            "window starts at {from}, after the run's end (t+{})",
            scenario.duration
        ))
        .expected("a window inside the run"));
    }
    let warmup = SimTime(scenario.warmup.0);
    if end <= warmup {
        return Err(Refusal::new(format!(
            "window ends at {to}, within the warm-up (the first {}, measured by nothing)",
            Duration(scenario.warmup)
        ))
        .expected("a window that ends after the warm-up"));
    }
    Ok(Window::Span { from, to, start, end: end.min(duration) })
}

/// A sliding window: a whole number of the scenario's intervals.
pub fn resolve_sliding(metric: &Metric, length: Duration, scenario: &Scenario) -> Result<Window, Refusal> {
    windowable(metric)?;
    let interval = scenario.interval.0;
    let length_nanos = length.nanos();
    if length_nanos == 0 || !length_nanos.is_multiple_of(interval) {
        return Err(Refusal::new(format!(
            "sliding window {length} is not a whole number of intervals ({})",
            Duration(scenario.interval)
        ))
        .expected(format!("a multiple of simulation.interval ({})", Duration(scenario.interval))));
    }
    Ok(Window::Sliding { length, intervals: (length_nanos / interval) as usize })
}

fn windowable(metric: &Metric) -> Result<(), Refusal> {
    if metric.windowed.is_some() {
        return Ok(());
    }
    let with_windows: Vec<&str> =
        metric::METRICS.iter().filter(|metric| metric.windowed.is_some()).map(|metric| metric.name).collect();
    Err(Refusal::new(format!("{} has no per-interval series, so it cannot have a window", metric.name))
        .expected(format!("no window, or one of the metrics with series: {}", quoted_list(&with_windows))))
}

/// A time point as a time since t = 0.
fn since_start(point: TimePoint, scenario: &Scenario) -> Result<SimTime, Refusal> {
    match point {
        TimePoint::FromStart(offset) => Ok(SimTime(offset.nanos())),
        TimePoint::Clock(clock) => {
            let Some(start) = scenario.start_clock else {
                return Err(Refusal::new(format!("clock time {clock} needs simulation.start")).expected(
                    r#"a duration from the start such as "90m", or simulation.start in the scenario"#,
                ));
            };
            let at = clock.since_midnight();
            if at < start {
                return Err(Refusal::new(format!(
                    "clock time {clock} is before the start {}",
                    clock_text(start)
                ))
                .expected("a time at or after the start"));
            }
            Ok(SimTime(at.0 - start.0))
        }
    }
}

fn clock_text(since_midnight: SimDuration) -> String {
    ClockTime(since_midnight).to_string()
}

// ---------------------------------------------------------------------------------------
// The command-line expression.

const EXPRESSION_EXAMPLE: &str = r#"an expression such as "success_rate >= 99.9%" or "latency.p99{class=login} < 250ms from 08:00 to 10:00""#;

/// Parses `--threshold EXPR` against `scenario`.
pub fn parse_expression(text: &str, scenario: &Scenario) -> Result<Threshold, Refusal> {
    let (left, comparison, right) = split_comparison(text)?;
    let (name, scope_class, scope_service) = parse_metric_ref(left)?;
    let metric = resolve_metric(name, None)?;
    let scope = resolve_scope(metric, scope_class, scope_service, scenario)?;
    let mut words = right.split_whitespace();
    let target_text = words.next().ok_or_else(|| {
        Refusal::new(format!("no target after \"{}\"", comparison.symbol()))
            .expected(unit_example(metric.unit))
    })?;
    let target = parse_target(metric, target_text)?;
    let mut window = Window::Run;
    let mut statistic = None;
    while let Some(word) = words.next() {
        let mut value_of = |what: &str| {
            words.next().ok_or_else(|| {
                Refusal::new(format!("\"{word}\" needs {what} after it")).expected(EXPRESSION_EXAMPLE)
            })
        };
        match word {
            "from" if window == Window::Run => {
                let from = time_point(value_of("a time")?)?;
                let to_word = value_of("\"to\" and a time")?;
                if to_word != "to" {
                    return Err(Refusal::new(format!(
                        "expected \"to\" after \"from {from}\", found \"{to_word}\""
                    ))
                    .expected("from TIME to TIME"));
                }
                let to = time_point(value_of("a time")?)?;
                window = resolve_span(metric, from, to, scenario)?;
            }
            "sliding" if window == Window::Run => {
                let length_text = value_of("a duration")?;
                let length = length_text.parse::<Duration>().map_err(|error| Refusal::new(error.0))?;
                window = resolve_sliding(metric, length, scenario)?;
            }
            "from" | "sliding" => {
                return Err(Refusal::new("a threshold has one window")
                    .expected("one \"from .. to ..\" or \"sliding\""));
            }
            _ if statistic.is_none()
                && (word.starts_with("lower")
                    || word.starts_with("upper")
                    || matches!(word, "mean" | "worst")) =>
            {
                statistic = Some(Statistic::parse(word)?);
            }
            _ => {
                return Err(Refusal::new(format!("unexpected \"{word}\" after the target")).expected(
                    format!(
                        "\"from TIME to TIME\", \"sliding DURATION\" or a statistic ({STATISTIC_EXPECTED})"
                    ),
                ));
            }
        }
    }
    Ok(Threshold {
        measure: Measure { metric, scope, window },
        comparison,
        target,
        target_text: target_text.to_string(),
        statistic: statistic.unwrap_or(Statistic::Mean),
    })
}

/// Splits `left OP right` at the first comparison operator outside braces.
fn split_comparison(text: &str) -> Result<(&str, Comparison, &str), Refusal> {
    let mut depth = 0usize;
    for (at, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            '<' | '>' if depth == 0 => {
                let long = text[at + 1..].starts_with('=');
                let symbol = if long { &text[at..at + 2] } else { &text[at..at + 1] };
                let comparison = Comparison::from_symbol(symbol).expect("a symbol from SYMBOLS");
                return Ok((text[..at].trim(), comparison, text[at + symbol.len()..].trim()));
            }
            '=' | '!' if depth == 0 => {
                let symbol: String = text[at..].chars().take_while(|c| matches!(c, '=' | '!')).collect();
                return Err(Refusal::new(format!("unsupported comparison \"{symbol}\" in \"{text}\""))
                    .expected(format!("one of {}", quoted_list(Comparison::SYMBOLS))));
            }
            _ => {}
        }
    }
    Err(Refusal::new(format!("no comparison in \"{text}\"")).expected(EXPRESSION_EXAMPLE))
}

/// `name` or `name{class=NAME}` / `name{service=NAME}`.
fn parse_metric_ref(text: &str) -> Result<(&str, Option<&str>, Option<&str>), Refusal> {
    if text.is_empty() {
        return Err(Refusal::new("no metric before the comparison").expected(EXPRESSION_EXAMPLE));
    }
    let Some((name, rest)) = text.split_once('{') else { return Ok((text, None, None)) };
    let scope = rest.strip_suffix('}').ok_or_else(|| {
        Refusal::new(format!("unclosed scope in \"{text}\"")).expected("{class=NAME} or {service=NAME}")
    })?;
    match scope.split_once('=').map(|(key, value)| (key.trim(), value.trim())) {
        Some(("class", class)) if !class.is_empty() => Ok((name.trim(), Some(class), None)),
        Some(("service", service)) if !service.is_empty() => Ok((name.trim(), None, Some(service))),
        _ => {
            Err(Refusal::new(format!("unknown scope {{{scope}}}")).expected("{class=NAME} or {service=NAME}"))
        }
    }
}

fn time_point(text: &str) -> Result<TimePoint, Refusal> {
    text.parse::<TimePoint>().map_err(|error| {
        let (message, expected) = error.0.split_once(", expected ").unwrap_or((&error.0, ""));
        Refusal::new(message).expected(expected)
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn scenario() -> Scenario {
        crate::scenario::load_str(
            r#"
[simulation]
duration = "2h"
start = "08:00"
interval = "1m"

[classes.login]
share = "50%"

[classes.browse]
share = "50%"

[sources.users]
client = "app"
rate = "10/s"

[clients.app]
target = "api"

[services.api]
instances = 1
cores = 1
cpu = "1ms"
"#,
            "t.toml",
        )
        .unwrap()
        .scenario
    }

    fn parse(text: &str) -> Result<Threshold, Refusal> {
        parse_expression(text, &scenario())
    }

    fn refusal(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn comparisons_at_the_boundary() {
        use Comparison::*;
        assert!(GreaterOrEqual.holds(0.999, 0.999) && LessOrEqual.holds(0.999, 0.999));
        assert!(!Greater.holds(0.999, 0.999) && !Less.holds(0.999, 0.999));
        // 99.9% parses to 0.9990000000000001; 999/1000 is 0.999: equal, not below.
        let target = parse_target(metric::lookup("success_rate").unwrap(), "99.9%").unwrap();
        assert!(GreaterOrEqual.holds(999.0 / 1000.0, target));
        assert!(!Greater.holds(999.0 / 1000.0, target));
        assert!(!GreaterOrEqual.holds(0.998_999, target));
        assert!(Less.holds(249.999, 250.0) && !Less.holds(250.0, 250.0) && !Less.holds(250.001, 250.0));
        assert!(Greater.holds(0.0, -1e-300) && GreaterOrEqual.holds(0.0, 0.0) && !Greater.holds(0.0, 0.0));
    }

    #[test]
    fn expressions_parse_and_print_back() {
        for text in [
            "success_rate >= 99.9%",
            "latency.p99{class=login} < 250ms",
            "utilisation{service=api} <= 80%",
            "success_rate > 95% from 08:30 to 09:30 lower95",
            "amplification < 1.5 sliding 10m worst",
            "goodput >= 9/s upper90",
            "failures.timeout <= 100 from 30m to 1h",
        ] {
            let threshold = parse(text).unwrap_or_else(|error| panic!("{text}: {error}"));
            assert_eq!(threshold.to_string(), text);
        }
        let threshold = parse("latency.p99<250ms").unwrap();
        assert_eq!((threshold.comparison, threshold.target), (Comparison::Less, 250.0));
        let threshold = parse("success_rate >= 95% from 08:30 to 09:30").unwrap();
        let hour = 3_600_000_000_000;
        assert_eq!(
            threshold.measure.window,
            Window::Span {
                from: "08:30".parse().unwrap(),
                to: "09:30".parse().unwrap(),
                start: SimTime(hour / 2),
                end: SimTime(hour * 3 / 2)
            }
        );
        let threshold = parse("success_rate >= 95% sliding 10m").unwrap();
        assert_eq!(
            threshold.measure.window,
            Window::Sliding { length: "10m".parse().unwrap(), intervals: 10 }
        );
        assert_eq!(parse("instance_hours < 3").unwrap().target, 3.0);
        assert_eq!(parse("instance_hours < 90m").unwrap_err().message, "\"90m\" is not a number");
    }

    #[test]
    fn expression_errors_say_what_is_wrong() {
        assert!(refusal("sucess_rate >= 99%").starts_with("unknown metric \"sucess_rate\" (did you mean \"success_rate\"?); expected one of \"success_rate\""));
        assert_eq!(
            refusal("latency.p95 < 250ms"),
            r#"unknown aggregation "p95" of latency; expected one of "mean", "p50", "p90", "p99", "p999" or "max""#
        );
        assert!(refusal("success_rate 99%").starts_with("no comparison in \"success_rate 99%\""));
        assert_eq!(
            refusal("success_rate == 99%"),
            r#"unsupported comparison "==" in "success_rate == 99%"; expected one of "<", "<=", ">" or ">=""#
        );
        assert!(
            refusal("success_rate >= 99")
                .starts_with("missing % in \"99\" for success_rate; expected a percentage")
        );
        assert!(refusal("latency.p99 < 250").starts_with("missing unit in \"250\""));
        assert!(refusal("success_rate >=").starts_with("no target after \">=\""));
        assert_eq!(
            refusal("success_rate{class=logon} >= 99%"),
            r#"unknown class "logon"; expected one of "browse" or "login""#
        );
        assert!(
            refusal("success_rate{service=api} >= 99%").starts_with("success_rate is measured on requests")
        );
        assert!(refusal("utilisation{class=login} < 80%").starts_with("utilisation is measured per service"));
        assert!(refusal("success_rate{zone=a} >= 99%").starts_with("unknown scope {zone=a}"));
        assert!(refusal("success_rate >= 99% lower100").starts_with("unknown statistic \"lower100\""));
        assert!(refusal("success_rate >= 99% today").starts_with("unexpected \"today\" after the target"));
        assert!(
            refusal("success_rate >= 99% from 09:00 to 08:00").starts_with("window ends at 08:00, not after")
        );
        assert!(
            refusal("success_rate >= 99% from 07:00 to 08:00")
                .starts_with("clock time 07:00 is before the start 08:00")
        );
        assert!(refusal("success_rate >= 99% from 09:00 until 10:00").starts_with("expected \"to\" after"));
        assert!(
            refusal("success_rate >= 99% sliding 90s")
                .starts_with("sliding window 1m30s is not a whole number of intervals (1m)")
        );
        assert!(
            refusal("latency.mean < 1s sliding 10m").starts_with("latency.mean has no per-interval series")
        );
        assert!(
            refusal("success_rate >= 99% from 5h to 6h")
                .starts_with("window starts at 5h, after the run's end")
        );
    }
}
