//! `timeseries.om`: the run's series in the OpenMetrics text format, which
//! `promtool tsdb create-blocks-from openmetrics` turns into Prometheus blocks for Grafana.
//!
//! Every family is a gauge of one interval's figure, sampled at the interval's end. The
//! timestamps are Unix seconds: from the scenario's date and time zone when it names them,
//! otherwise from 1970-01-01T00:00:00Z at t = 0. Families are written whole, one after the
//! other, each series in time order, as the format requires; the file ends with `# EOF`.

use crate::stats::{IntervalRow, RequestFigures, Series, ServiceFigures};
use std::io::{self, Write};

/// One family: its name, help text, unit, and its value in one row's figures `F`.
struct Family<F> {
    name: &'static str,
    help: &'static str,
    unit: Option<&'static str>,
    value: fn(&F) -> Option<f64>,
}

/// Writes the series as OpenMetrics text to `out` (buffer it: the text is written in
/// small pieces, and as a file's worth of text it would be held whole for nothing).
/// `scenario` labels every sample, so several runs can be loaded into one Prometheus.
pub fn write(mut out: impl Write, series: &Series, scenario: &str) -> io::Result<()> {
    let time = |row: &IntervalRow| match &series.calendar {
        Some(calendar) => calendar.unix_seconds(row.end),
        None => row.end.0 as f64 / 1e9,
    };
    let scenario = escape(scenario);
    // Request families over the total and each class.
    let requests: [Family<RequestFigures>; 6] = [
        family("stormsim_requests_offered", "Requests offered in the interval.", None, |f| {
            Some(f.offered as f64)
        }),
        family("stormsim_requests_succeeded", "Requests that succeeded in the interval.", None, |f| {
            Some(f.succeeded as f64)
        }),
        family("stormsim_requests_failed", "Requests that failed for good in the interval.", None, |f| {
            Some(f.failed_total() as f64)
        }),
        family("stormsim_success_ratio", "Succeeded over finished requests.", Some("ratio"), |f| {
            f.success_rate()
        }),
        family("stormsim_latency_p50_seconds", "Median latency of successes.", Some("seconds"), |f| {
            f.latency_p50_ms.map(|ms| ms / 1e3)
        }),
        family(
            "stormsim_latency_p99_seconds",
            "99th percentile latency of successes.",
            Some("seconds"),
            |f| f.latency_p99_ms.map(|ms| ms / 1e3),
        ),
    ];
    for family in requests {
        header(&mut out, &family)?;
        let mut scopes = vec![(String::new(), None)];
        scopes.extend(
            series
                .class_names
                .iter()
                .enumerate()
                .map(|(idx, name)| (format!(",class=\"{}\"", escape(name)), Some(idx))),
        );
        for (labels, class) in scopes {
            for row in &series.rows {
                let figures = match class {
                    None => &row.total,
                    Some(idx) => match row.classes.get(idx) {
                        Some(figures) => figures,
                        None => continue,
                    },
                };
                if let Some(v) = (family.value)(figures) {
                    sample(&mut out, family.name, &format!("scenario=\"{scenario}\"{labels}"), v, time(row))?;
                }
            }
        }
    }
    // Service families, one series per pool.
    let services: [Family<ServiceFigures>; 4] = [
        family("stormsim_cpu_utilisation_ratio", "Busy share of the ready cores.", Some("ratio"), |f| {
            Some(f.cpu_utilisation)
        }),
        family("stormsim_queue_length", "Attempts waiting for a worker, time-average.", None, |f| {
            Some(f.queue_length_mean)
        }),
        family("stormsim_instances_ready", "Ready instances at the interval's end.", None, |f| {
            Some(f64::from(f.instances_ready))
        }),
        family("stormsim_service_rejected", "Attempts turned away at the door.", None, |f| {
            Some(f.rejected as f64)
        }),
    ];
    for family in services {
        header(&mut out, &family)?;
        for (idx, name) in series.service_names.iter().enumerate() {
            let labels = format!("scenario=\"{scenario}\",service=\"{}\"", escape(name));
            for row in &series.rows {
                if let Some(v) = row.services.get(idx).and_then(family.value) {
                    sample(&mut out, family.name, &labels, v, time(row))?;
                }
            }
        }
    }
    out.write_all(b"# EOF\n")?;
    out.flush()
}

fn family<F>(
    name: &'static str,
    help: &'static str,
    unit: Option<&'static str>,
    value: fn(&F) -> Option<f64>,
) -> Family<F> {
    Family { name, help, unit, value }
}

fn header<F>(out: &mut impl Write, family: &Family<F>) -> io::Result<()> {
    writeln!(out, "# TYPE {} gauge", family.name)?;
    if let Some(unit) = family.unit {
        writeln!(out, "# UNIT {} {unit}", family.name)?;
    }
    writeln!(out, "# HELP {} {}", family.name, family.help)
}

fn sample(out: &mut impl Write, name: &str, labels: &str, value: f64, time: f64) -> io::Result<()> {
    if value.is_finite() {
        writeln!(out, "{name}{{{labels}}} {value} {time}")?;
    }
    Ok(())
}

/// A label value with `\`, `"` and newlines escaped.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}
