//! The metric vocabulary of thresholds and comparisons: one table, `METRICS`, naming every
//! figure a threshold may test, where it is read in `summary.json`, its unit, which way is
//! better, and how to compute it over a window of `timeseries` rows when that makes sense.
//!
//! Invariant: a metric is read from the summary as serialised (a JSON pointer), so a figure
//! added to `summary.json` later becomes testable by adding one line here. A metric whose
//! figure is missing from a run's summary evaluates to "no value", never to zero.

use crate::model::FailureReason;
use crate::stats::{RequestFigures, ServiceFigures};

/// What a metric's number is, which fixes how a threshold value is written and how the
/// figure is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A fraction, written as a percentage: `"99.9%"`.
    Ratio,
    /// Milliseconds, written as a duration: `"250ms"`.
    Millis,
    /// Seconds, written as a duration: `"30s"`.
    Seconds,
    /// Minutes, written as a duration: `"5m"`.
    Minutes,
    /// Hours, written as a number (`120`) or a duration (`"120h"`).
    Hours,
    /// Per second, written as a rate: `"300/s"`.
    PerSecond,
    /// A count of things, written as a number.
    Count,
    /// A plain number, such as an amplification factor.
    Number,
}

impl Unit {
    /// A value for people: `99.95%`, `212.5ms`, `1.25s`, `310.4/s`, `1.06`.
    pub fn format(self, value: f64) -> String {
        match self {
            Unit::Ratio => format!("{}%", decimals(value * 100.0, 3)),
            Unit::Millis if value.abs() >= 1000.0 => format!("{}s", decimals(value / 1000.0, 3)),
            Unit::Millis => format!("{}ms", decimals(value, 1)),
            Unit::Seconds => format!("{}s", decimals(value, 1)),
            Unit::Minutes => format!("{}min", decimals(value, 1)),
            Unit::Hours => format!("{}h", decimals(value, 2)),
            Unit::PerSecond => format!("{}/s", decimals(value, 2)),
            Unit::Count => decimals(value, 1),
            Unit::Number => decimals(value, 3),
        }
    }

    /// A difference between two values, signed: `+1.2 pp` for ratios, `-35ms`.
    pub fn format_difference(self, difference: f64) -> String {
        let sign = if difference < 0.0 { "-" } else { "+" };
        let magnitude = difference.abs();
        match self {
            Unit::Ratio => format!("{sign}{} pp", decimals(magnitude * 100.0, 3)),
            _ => format!("{sign}{}", self.format(magnitude)),
        }
    }

    /// The unit's name in JSON outputs.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Ratio => "ratio",
            Unit::Millis => "ms",
            Unit::Seconds => "s",
            Unit::Minutes => "min",
            Unit::Hours => "h",
            Unit::PerSecond => "per_s",
            Unit::Count => "count",
            Unit::Number => "number",
        }
    }
}

/// `value` with at most `places` decimals, trailing zeros dropped: `99.9`, `100`, `0.125`.
fn decimals(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { &text };
    if text == "-0" { "0".to_string() } else { text.to_string() }
}

/// Which direction of a metric is the good one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

impl Better {
    /// The worse of two values.
    pub fn worse(self, a: f64, b: f64) -> f64 {
        match self {
            Better::Higher => a.min(b),
            Better::Lower => a.max(b),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Better::Higher => "higher",
            Better::Lower => "lower",
        }
    }
}

/// What a metric is measured on, which decides the scopes a threshold may give it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// Requests after all retries: the whole run (`requests`) or one class (`classes.NAME`).
    Requests,
    /// A service (`services.NAME`); without a service, the services are combined.
    Service(Combine),
    /// A figure of the run as a whole, at an absolute path.
    Run,
}

/// How a service metric is combined over every service when no service is named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Combine {
    Sum,
    Max,
}

impl Combine {
    pub fn apply(self, values: impl Iterator<Item = f64>) -> Option<f64> {
        values.reduce(|a, b| match self {
            Combine::Sum => a + b,
            Combine::Max => a.max(b),
        })
    }
}

/// How a metric is computed over the rows of a window (`window` / `sliding`).
#[derive(Clone, Copy, Debug)]
pub enum Windowed {
    /// From the request figures of the rows (all requests or one class) and the window's
    /// length in seconds.
    Requests(fn(&[&RequestFigures], f64) -> Option<f64>),
    /// From one service's figures in the rows and the window's length in seconds.
    Service(fn(&[&ServiceFigures], f64) -> Option<f64>),
}

/// One metric of the vocabulary; metrics are equal when their names are.
#[derive(Clone, Copy, Debug)]
pub struct Metric {
    /// The name thresholds use, with the aggregation after a dot: `latency.p99`.
    pub name: &'static str,
    pub domain: Domain,
    /// JSON pointer to the figure in `summary.json`, from the scope's object (`requests`,
    /// `classes.NAME`, `services.NAME`) or from the root for `Domain::Run`.
    pub path: &'static str,
    /// Factor from the summary's number to the metric's unit (1/3600 for seconds to hours).
    pub scale: f64,
    pub unit: Unit,
    pub better: Better,
    /// How to compute it over a window of rows; `None`: whole runs only.
    pub windowed: Option<Windowed>,
}

impl PartialEq for Metric {
    fn eq(&self, other: &Metric) -> bool {
        self.name == other.name
    }
}

impl Metric {
    const fn new(
        name: &'static str,
        domain: Domain,
        path: &'static str,
        unit: Unit,
        better: Better,
    ) -> Metric {
        Metric { name, domain, path, scale: 1.0, unit, better, windowed: None }
    }

    const fn requests(name: &'static str, path: &'static str, unit: Unit, better: Better) -> Metric {
        Metric::new(name, Domain::Requests, path, unit, better)
    }

    const fn service(
        name: &'static str,
        combine: Combine,
        path: &'static str,
        unit: Unit,
        better: Better,
    ) -> Metric {
        Metric::new(name, Domain::Service(combine), path, unit, better)
    }

    const fn run(name: &'static str, path: &'static str, unit: Unit, better: Better) -> Metric {
        Metric::new(name, Domain::Run, path, unit, better)
    }

    const fn scaled(mut self, scale: f64) -> Metric {
        self.scale = scale;
        self
    }

    const fn windowed(mut self, windowed: Windowed) -> Metric {
        self.windowed = Some(windowed);
        self
    }

    /// The family before the dot: `latency` for `latency.p99`.
    pub fn family(&self) -> &'static str {
        self.name.split_once('.').map_or(self.name, |(family, _)| family)
    }
}

use Better::{Higher, Lower};
use Combine::{Max, Sum};
use Unit::*;
use Windowed::{Requests as Rows, Service as ServiceRows};

/// Every metric a threshold may name, in documentation order. Add a figure of
/// `summary.json` with one line.
#[rustfmt::skip]
pub static METRICS: &[Metric] = &[
    Metric::requests("success_rate", "/success_rate", Ratio, Higher).windowed(Rows(success_rate)),
    Metric::requests("goodput", "/goodput_per_s", PerSecond, Higher).windowed(Rows(goodput)),
    Metric::requests("amplification", "/amplification", Number, Lower).windowed(Rows(amplification)),
    Metric::requests("latency.mean", "/latency_ms/mean", Millis, Lower),
    Metric::requests("latency.p50", "/latency_ms/p50", Millis, Lower).windowed(Rows(|rows, _| worst_p50(rows))),
    Metric::requests("latency.p90", "/latency_ms/p90", Millis, Lower).windowed(Rows(|rows, _| worst_p90(rows))),
    Metric::requests("latency.p99", "/latency_ms/p99", Millis, Lower).windowed(Rows(|rows, _| worst_p99(rows))),
    Metric::requests("latency.p999", "/latency_ms/p999", Millis, Lower),
    Metric::requests("latency.max", "/latency_ms/max", Millis, Lower).windowed(Rows(|rows, _| worst_max(rows))),
    Metric::requests("attempt_latency.mean", "/attempt_latency_ms/mean", Millis, Lower),
    Metric::requests("attempt_latency.p99", "/attempt_latency_ms/p99", Millis, Lower),
    Metric::requests("offered", "/offered", Count, Higher).windowed(Rows(|rows, _| sum(rows, |f| f.offered))),
    Metric::requests("succeeded", "/succeeded", Count, Higher).windowed(Rows(|rows, _| sum(rows, |f| f.succeeded))),
    Metric::requests("failures", "/failed", Count, Lower).windowed(Rows(|rows, _| sum(rows, RequestFigures::failed_total))),
    Metric::requests("failures.timeout", "/failed_by_reason/timeout", Count, Lower).windowed(Rows(failed::<0>)),
    Metric::requests("failures.rejected", "/failed_by_reason/rejected", Count, Lower).windowed(Rows(failed::<1>)),
    Metric::requests("failures.dependency_error", "/failed_by_reason/dependency_error", Count, Lower).windowed(Rows(failed::<2>)),
    Metric::requests("failures.circuit_open", "/failed_by_reason/circuit_open", Count, Lower).windowed(Rows(failed::<3>)),
    Metric::requests("failures.retry_budget_exhausted", "/failed_by_reason/retry_budget_exhausted", Count, Lower).windowed(Rows(failed::<4>)),
    Metric::requests("failures.deadline_exceeded", "/failed_by_reason/deadline_exceeded", Count, Lower).windowed(Rows(failed::<5>)),
    Metric::requests("failures.no_capacity", "/failed_by_reason/no_capacity", Count, Lower).windowed(Rows(failed::<6>)),
    Metric::requests("failures.failover_capped", "/failed_by_reason/failover_capped", Count, Lower).windowed(Rows(failed::<7>)),
    Metric::requests("attempts", "/attempts", Count, Lower).windowed(Rows(|rows, _| sum(rows, |f| f.attempts))),
    Metric::requests("retries", "/retries", Count, Lower).windowed(Rows(|rows, _| sum(rows, |f| f.retries))),
    Metric::requests("wasted_cpu", "/wasted_cpu_s", Seconds, Lower),
    Metric::requests("wasted_attempts", "/wasted_attempts", Count, Lower),
    Metric::service("utilisation", Max, "/cpu_utilisation", Ratio, Lower).windowed(ServiceRows(|rows, _| mean(rows, |f| f.cpu_utilisation))),
    Metric::service("worker_utilisation", Max, "/worker_utilisation", Ratio, Lower).windowed(ServiceRows(|rows, _| mean(rows, |f| f.worker_utilisation))),
    Metric::service("queue_length.mean", Sum, "/queue_length_mean", Number, Lower).windowed(ServiceRows(|rows, _| mean(rows, |f| f.queue_length_mean))),
    Metric::service("queue_length.max", Max, "/queue_length_max", Count, Lower).windowed(ServiceRows(|rows, _| max(rows, |f| f.queue_length_max as f64))),
    Metric::service("queue_wait.mean", Max, "/queue_wait_ms/mean", Millis, Lower),
    Metric::service("queue_wait.p99", Max, "/queue_wait_ms/p99", Millis, Lower),
    Metric::service("rejected", Sum, "/rejected", Count, Lower).windowed(ServiceRows(|rows, _| Some(rows.iter().map(|f| f.rejected as f64).sum()))),
    Metric::service("instance_hours", Sum, "/instance_seconds", Hours, Lower).scaled(1.0 / 3600.0).windowed(ServiceRows(instance_hours)),
    // Figures of the `slo` object of summary.json (SLO intervals, alerting and recovery):
    Metric::run("slo.bad_minutes", "/slo/bad_minutes", Minutes, Lower),
    Metric::run("slo.time_to_detect", "/slo/time_to_detect_s", Seconds, Lower),
    Metric::run("slo.time_to_recover", "/slo/time_to_recover_s", Seconds, Lower),
    Metric::run("slo.episodes", "/slo/episode_count", Count, Lower),
    Metric::run("slo.worst_episode", "/slo/worst_episode_s", Seconds, Lower),
    Metric::run("slo.error_budget_burn", "/slo/error_budget_burn", Number, Lower),
];

/// The metric called `name`, or why there is none: an unknown aggregation of a known
/// family lists that family's aggregations, anything else lists every metric.
pub fn lookup(name: &str) -> Result<&'static Metric, (String, String)> {
    if let Some(metric) = METRICS.iter().find(|metric| metric.name == name) {
        return Ok(metric);
    }
    let (family, aggregation) = name.split_once('.').unwrap_or((name, ""));
    let in_family: Vec<&str> = METRICS
        .iter()
        .filter(|metric| metric.family() == family && metric.name.contains('.'))
        .map(|metric| &metric.name[family.len() + 1..])
        .collect();
    if !in_family.is_empty() {
        let message = if aggregation.is_empty() {
            format!("metric \"{name}\" needs an aggregation")
        } else {
            format!("unknown aggregation \"{aggregation}\" of {family}")
        };
        let expected = format!("one of {}", crate::refusal::quoted_list(&in_family));
        return Err((message, expected));
    }
    let message = match closest(name) {
        Some(suggestion) => format!("unknown metric \"{name}\" (did you mean \"{suggestion}\"?)"),
        None => format!("unknown metric \"{name}\""),
    };
    Err((message, format!("one of {}", quoted_names())))
}

/// The metric name nearest to `name` by edit distance, if it is a likely typo of it.
fn closest(name: &str) -> Option<&'static str> {
    crate::refusal::closest(name, METRICS.iter().map(|metric| metric.name))
}

/// Every metric name, quoted, for messages.
pub fn quoted_names() -> String {
    let names: Vec<&str> = METRICS.iter().map(|metric| metric.name).collect();
    crate::refusal::quoted_list(&names)
}

// ---------------------------------------------------------------------------------------
// Window computations.

fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

fn success_rate(rows: &[&RequestFigures], _secs: f64) -> Option<f64> {
    let succeeded: u64 = rows.iter().map(|f| f.succeeded).sum();
    let finished: u64 = rows.iter().map(|f| f.succeeded + f.failed_total()).sum();
    ratio(succeeded, finished)
}

fn goodput(rows: &[&RequestFigures], secs: f64) -> Option<f64> {
    (secs > 0.0).then(|| rows.iter().map(|f| f.succeeded).sum::<u64>() as f64 / secs)
}

fn amplification(rows: &[&RequestFigures], _secs: f64) -> Option<f64> {
    ratio(rows.iter().map(|f| f.attempts).sum(), rows.iter().map(|f| f.offered).sum())
}

fn sum(rows: &[&RequestFigures], count: fn(&RequestFigures) -> u64) -> Option<f64> {
    Some(rows.iter().map(|f| count(f)).sum::<u64>() as f64)
}

fn failed<const REASON: usize>(rows: &[&RequestFigures], _secs: f64) -> Option<f64> {
    debug_assert!(REASON < FailureReason::COUNT);
    Some(rows.iter().map(|f| f.failed[REASON]).sum::<u64>() as f64)
}

/// The highest interval figure: rows keep per-interval percentiles, not histograms, so a
/// window's latency is its worst interval's.
fn worst(rows: &[&RequestFigures], value: fn(&RequestFigures) -> Option<f64>) -> Option<f64> {
    rows.iter().filter_map(|f| value(f)).reduce(f64::max)
}

fn worst_p50(rows: &[&RequestFigures]) -> Option<f64> {
    worst(rows, |f| f.latency_p50_ms)
}

fn worst_p90(rows: &[&RequestFigures]) -> Option<f64> {
    worst(rows, |f| f.latency_p90_ms)
}

fn worst_p99(rows: &[&RequestFigures]) -> Option<f64> {
    worst(rows, |f| f.latency_p99_ms)
}

fn worst_max(rows: &[&RequestFigures]) -> Option<f64> {
    worst(rows, |f| f.latency_max_ms)
}

fn mean(rows: &[&ServiceFigures], value: fn(&ServiceFigures) -> f64) -> Option<f64> {
    (!rows.is_empty()).then(|| rows.iter().map(|f| value(f)).sum::<f64>() / rows.len() as f64)
}

fn max(rows: &[&ServiceFigures], value: fn(&ServiceFigures) -> f64) -> Option<f64> {
    rows.iter().map(|f| value(f)).reduce(f64::max)
}

fn instance_hours(rows: &[&ServiceFigures], secs: f64) -> Option<f64> {
    mean(rows, |f| f64::from(f.instances_ready)).map(|instances| instances * secs / 3600.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_failure_indices_match_their_reasons() {
        let mut names: Vec<&str> = METRICS.iter().map(|metric| metric.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), METRICS.len());
        for reason in FailureReason::ALL {
            let metric = lookup(&format!("failures.{}", reason.name())).unwrap();
            assert!(metric.path.ends_with(reason.name()));
            let mut figures = RequestFigures::default();
            figures.failed[reason.index()] = 7;
            let Some(Windowed::Requests(compute)) = metric.windowed else { panic!("{}", metric.name) };
            assert_eq!(compute(&[&figures], 60.0), Some(7.0), "{}", metric.name);
        }
    }

    #[test]
    fn unknown_names_list_what_is_valid() {
        let (message, expected) = lookup("sucess_rate").unwrap_err();
        assert_eq!(message, "unknown metric \"sucess_rate\" (did you mean \"success_rate\"?)");
        assert_eq!(lookup("throughput").unwrap_err().0, "unknown metric \"throughput\"");
        assert!(expected.contains("\"success_rate\"") && expected.contains("\"latency.p99\""), "{expected}");
        let (message, expected) = lookup("latency.p95").unwrap_err();
        assert_eq!(message, "unknown aggregation \"p95\" of latency");
        assert_eq!(expected, r#"one of "mean", "p50", "p90", "p99", "p999" or "max""#);
        let (message, _) = lookup("latency").unwrap_err();
        assert_eq!(message, "metric \"latency\" needs an aggregation");
    }

    #[test]
    fn values_are_printed_in_their_unit() {
        assert_eq!(Unit::Ratio.format(0.9995), "99.95%");
        assert_eq!(Unit::Ratio.format(1.0), "100%");
        assert_eq!(Unit::Ratio.format_difference(-0.0042), "-0.42 pp");
        assert_eq!(Unit::Millis.format(212.54), "212.5ms");
        assert_eq!(Unit::Millis.format(1250.0), "1.25s");
        assert_eq!(Unit::Millis.format_difference(35.0), "+35ms");
        assert_eq!(Unit::Count.format(12.0), "12");
        assert_eq!(Unit::Number.format(1.0626), "1.063");
        assert_eq!(Unit::PerSecond.format(310.4), "310.4/s");
    }

    #[test]
    fn window_success_rate_counts_finished_requests() {
        let mut a = RequestFigures { succeeded: 90, ..RequestFigures::default() };
        a.failed[0] = 10;
        let b = RequestFigures { succeeded: 100, ..RequestFigures::default() };
        assert_eq!(success_rate(&[&a, &b], 120.0), Some(190.0 / 200.0));
        assert_eq!(success_rate(&[], 0.0), None);
        assert_eq!(goodput(&[&a, &b], 100.0), Some(1.9));
    }
}
