//! Reading a `Measure` off one finished run: from `summary.json` for the whole run, from
//! the time series for a window.
//!
//! Invariant: a figure that is absent (no successful request for a latency, no interval in a
//! window, a field this summary does not have) is `None`, never zero. The warm-up's
//! intervals are in no window, as they are in no figure of the summary.

use serde_json::Value;

use super::metric::{Combine, Domain, Metric, Windowed};
use super::threshold::{Measure, Scope, Window};
use crate::engine::SimTime;
use crate::simulation::RunOutput;
use crate::stats::{IntervalRow, Series};

/// A run as thresholds see it: its summary as JSON and its series.
pub struct RunView<'a> {
    summary: Value,
    series: &'a Series,
}

impl<'a> RunView<'a> {
    pub fn new(output: &'a RunOutput) -> RunView<'a> {
        // A `Summary` is plain data; serialising it cannot fail.
        let summary = serde_json::to_value(&output.summary).unwrap_or(Value::Null);
        RunView { summary, series: &output.series }
    }
}

/// The value of a measure in one run, and for a window, where it was taken.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Observation {
    pub value: Option<f64>,
    /// The intervals the value comes from: the span, or the worst sliding window.
    pub window: Option<(SimTime, SimTime)>,
}

impl Measure {
    pub fn observe(&self, run: &RunView<'_>) -> Observation {
        match &self.window {
            Window::Run => {
                Observation { value: whole_run(self.metric, &self.scope, &run.summary), window: None }
            }
            Window::Span { start, end, .. } => {
                let rows: Vec<&IntervalRow> = run
                    .series
                    .measured_rows()
                    .iter()
                    .filter(|row| row.start >= *start && row.start < *end)
                    .collect();
                let value = windowed(self.metric, &self.scope, run.series, &rows);
                Observation { value, window: span_of(&rows) }
            }
            Window::Sliding { intervals, .. } => {
                let rows: Vec<&IntervalRow> = run.series.measured_rows().iter().collect();
                let width = (*intervals).clamp(1, rows.len().max(1));
                let mut worst = Observation { value: None, window: None };
                for group in rows.windows(width) {
                    let Some(value) = windowed(self.metric, &self.scope, run.series, group) else { continue };
                    let is_worse =
                        worst.value.is_none_or(|current| self.metric.better.worse(value, current) != current);
                    if is_worse {
                        worst = Observation { value: Some(value), window: span_of(group) };
                    }
                }
                worst
            }
        }
    }
}

fn span_of(rows: &[&IntervalRow]) -> Option<(SimTime, SimTime)> {
    Some((rows.first()?.start, rows.last()?.end))
}

/// A figure of `summary.json`.
fn whole_run(metric: &Metric, scope: &Scope, summary: &Value) -> Option<f64> {
    let read = |object: &Value| {
        object.pointer(metric.path).and_then(Value::as_f64).map(|value| value * metric.scale)
    };
    match (metric.domain, scope) {
        (Domain::Requests, Scope::All) => read(summary.get("requests")?),
        (Domain::Requests, Scope::Class(name)) => read(summary.get("classes")?.get(name)?),
        (Domain::Service(_), Scope::Service(name)) => read(summary.get("services")?.get(name)?),
        (Domain::Service(combine), Scope::All) => {
            let services = summary.get("services")?.as_object()?;
            let values: Option<Vec<f64>> = services.values().map(read).collect();
            combine.apply(values?.into_iter())
        }
        (Domain::Run, Scope::All) => read(summary),
        // Refused when the threshold was made.
        _ => None,
    }
}

/// A metric over a group of consecutive rows.
fn windowed(metric: &Metric, scope: &Scope, series: &Series, rows: &[&IntervalRow]) -> Option<f64> {
    let secs: f64 = rows.iter().map(|row| row.end.since(row.start).as_secs_f64()).sum();
    let index = |names: &[String], name: &str| names.iter().position(|candidate| candidate == name);
    match (metric.windowed?, scope) {
        (Windowed::Requests(compute), Scope::All) => {
            compute(&rows.iter().map(|row| &row.total).collect::<Vec<_>>(), secs)
        }
        (Windowed::Requests(compute), Scope::Class(name)) => {
            let class = index(&series.class_names, name)?;
            let figures: Option<Vec<_>> = rows.iter().map(|row| row.classes.get(class)).collect();
            compute(&figures?, secs)
        }
        (Windowed::Service(compute), Scope::Service(name)) => {
            service_value(compute, rows, index(&series.service_names, name)?, secs)
        }
        (Windowed::Service(compute), Scope::All) => {
            let Domain::Service(combine) = metric.domain else { return None };
            let values: Option<Vec<f64>> = (0..series.service_names.len())
                .map(|service| service_value(compute, rows, service, secs))
                .collect();
            Combine::apply(combine, values?.into_iter())
        }
        _ => None,
    }
}

fn service_value(
    compute: fn(&[&crate::stats::ServiceFigures], f64) -> Option<f64>,
    rows: &[&IntervalRow],
    service: usize,
    secs: f64,
) -> Option<f64> {
    let figures: Option<Vec<_>> = rows.iter().map(|row| row.services.get(service)).collect();
    compute(&figures?, secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::metric;
    use crate::report::tests::{synthetic_series, synthetic_summary};

    fn output() -> RunOutput {
        RunOutput { summary: synthetic_summary(), series: synthetic_series(60), stopped: None }
    }

    fn measure(name: &str, scope: Scope, window: Window) -> Measure {
        Measure { metric: metric::lookup(name).unwrap(), scope, window }
    }

    fn minutes(m: u64) -> SimTime {
        SimTime(m * 60 * 1_000_000_000)
    }

    #[test]
    fn whole_run_figures_come_from_the_summary() {
        let output = output();
        let run = RunView::new(&output);
        let observe = |name: &str, scope: Scope| measure(name, scope, Window::Run).observe(&run).value;
        let summary = synthetic_summary();
        assert_eq!(observe("success_rate", Scope::All), Some(summary.requests.success_rate));
        assert_eq!(observe("latency.p99", Scope::Class("login".into())), Some(212.0));
        assert_eq!(
            observe("failures.timeout", Scope::All),
            Some(summary.requests.failed_by_reason.timeout as f64)
        );
        assert_eq!(observe("utilisation", Scope::Service("db".into())), Some(0.41));
        assert_eq!(observe("utilisation", Scope::All), Some(0.873), "the busiest service");
        assert_eq!(observe("instance_hours", Scope::All), Some(2.0 * 72_000.0 / 3600.0), "summed");
        assert_eq!(observe("slo.bad_minutes", Scope::All), Some(38.0));
        assert_eq!(observe("slo.time_to_recover", Scope::All), None, "it never recovered");
    }

    #[test]
    fn a_span_window_reads_the_intervals_that_start_in_it() {
        let output = output();
        let run = RunView::new(&output);
        // Rows 20..40 are the synthetic incident; 25..35 lie inside it.
        let span = |from: u64, to: u64| Window::Span {
            from: crate::units::TimePoint::FromStart(crate::units::Duration(crate::engine::SimDuration(
                minutes(from).0,
            ))),
            to: crate::units::TimePoint::FromStart(crate::units::Duration(crate::engine::SimDuration(
                minutes(to).0,
            ))),
            start: minutes(from),
            end: minutes(to),
        };
        let observation = measure("success_rate", Scope::All, span(25, 35)).observe(&run);
        assert_eq!(observation.window, Some((minutes(25), minutes(35))));
        let expected = {
            let rows = &output.series.rows[25..35];
            let succeeded: u64 = rows.iter().map(|row| row.total.succeeded).sum();
            let failed: u64 = rows.iter().map(|row| row.total.failed_total()).sum();
            succeeded as f64 / (succeeded + failed) as f64
        };
        assert_eq!(observation.value, Some(expected));
        assert!(expected < 0.9);
        let quiet = measure("success_rate", Scope::All, span(0, 10)).observe(&run);
        assert!(quiet.value.unwrap() > 0.99);
        let p99 = measure("latency.p99", Scope::All, span(0, 10)).observe(&run);
        let worst_row =
            output.series.rows[..10].iter().filter_map(|row| row.total.latency_p99_ms).fold(0.0, f64::max);
        assert_eq!(p99.value, Some(worst_row));
        let empty = measure("success_rate", Scope::All, span(500, 600)).observe(&run);
        assert_eq!((empty.value, empty.window), (None, None));
    }

    #[test]
    fn a_sliding_window_reports_the_worst_window_and_where_it_is() {
        let output = output();
        let run = RunView::new(&output);
        let sliding = Window::Sliding { length: "5m".parse().unwrap(), intervals: 5 };
        let observation = measure("success_rate", Scope::All, sliding.clone()).observe(&run);
        let (start, end) = observation.window.unwrap();
        assert_eq!(end.since(start).as_secs_f64(), 300.0);
        assert!(start >= minutes(20) && end <= minutes(40), "inside the incident: {start}..{end}");
        let whole = measure("success_rate", Scope::All, Window::Run).observe(&run).value.unwrap();
        assert!(observation.value.unwrap() < whole);
        // Lower is better for amplification: its worst window is its highest.
        let amplification = measure("amplification", Scope::All, sliding.clone()).observe(&run);
        assert!((amplification.value.unwrap() - 2.5).abs() < 1e-3, "{:?}", amplification.value);
        // A window longer than the run is the whole series.
        let long = Window::Sliding { length: "10h".parse().unwrap(), intervals: 600 };
        let observation = measure("offered", Scope::All, long).observe(&run);
        let offered: u64 = output.series.rows.iter().map(|row| row.total.offered).sum();
        assert_eq!(observation.value, Some(offered as f64));
        // Per service and combined.
        let cpu = measure("utilisation", Scope::Service("db".into()), sliding.clone()).observe(&run);
        let cpu_all = measure("utilisation", Scope::All, sliding).observe(&run);
        assert!(cpu.value.unwrap() <= cpu_all.value.unwrap());
    }

    #[test]
    fn windows_leave_the_warm_up_out() {
        let mut output = output();
        output.series.warmup = crate::engine::SimDuration::from_secs(30 * 60);
        let run = RunView::new(&output);
        // The synthetic incident is rows 20..40: with a 30-minute warm-up, its worst stretch
        // left to measure starts at 30 minutes.
        let sliding = Window::Sliding { length: "5m".parse().unwrap(), intervals: 5 };
        let observation = measure("success_rate", Scope::All, sliding).observe(&run);
        let (start, end) = observation.window.unwrap();
        assert!(start >= minutes(30) && end <= minutes(40), "{start}..{end}");
        let long = Window::Sliding { length: "10h".parse().unwrap(), intervals: 600 };
        let offered: u64 = output.series.rows[30..].iter().map(|row| row.total.offered).sum();
        assert_eq!(measure("offered", Scope::All, long).observe(&run).value, Some(offered as f64));
    }
}
