//! The series behind the comparison chart: per configuration, the mean over seeds of each
//! interval's figures (success rate by arrival, attempts and failures per second, p99 latency, and the
//! first service's CPU, queue, ready instances and metrics staleness), with the events and
//! SLO moments of its first seed. Drawing is `report::chart`'s.

use crate::report::chart::ComparedLine;
use crate::simulation::RunOutput;
use crate::stats::{IntervalRow, ServiceFigures};

/// One line per configuration, `runs[config][seed]`, aligned with the intervals of the
/// first configuration's first run.
pub fn lines(labels: &[&str], runs: &[Vec<RunOutput>]) -> Vec<ComparedLine> {
    let n_rows =
        runs.first().and_then(|outputs| outputs.first()).map_or(0, |output| output.series.rows.len());
    let per_s = |count: fn(&IntervalRow) -> u64| {
        move |row: &IntervalRow| {
            let secs = row.end.since(row.start).as_secs_f64();
            (secs > 0.0).then(|| count(row) as f64 / secs)
        }
    };
    let service =
        |value: fn(&ServiceFigures) -> f64| move |row: &IntervalRow| row.services.first().map(value);
    labels
        .iter()
        .zip(runs)
        .map(|(label, outputs)| {
            let first = outputs.first().map(|output| &output.series);
            ComparedLine {
                label: (*label).to_string(),
                success_rate: mean_per_interval(outputs, n_rows, |row| row.total.success_rate_by_arrival()),
                attempts_per_s: mean_per_interval(outputs, n_rows, per_s(|row| row.total.attempts)),
                failed_per_s: mean_per_interval(outputs, n_rows, per_s(|row| row.total.failed_total())),
                latency_p99_ms: mean_per_interval(outputs, n_rows, |row| row.total.latency_p99_ms),
                cpu_utilisation: mean_per_interval(outputs, n_rows, service(|s| s.cpu_utilisation)),
                queue_length: mean_per_interval(outputs, n_rows, service(|s| s.queue_length_mean)),
                instances_ready: mean_per_interval(
                    outputs,
                    n_rows,
                    service(|s| f64::from(s.instances_ready)),
                ),
                metrics_staleness_s: mean_per_interval(outputs, n_rows, service(|s| s.metrics_staleness_s)),
                markers: first.map(|series| series.markers.clone()).unwrap_or_default(),
                slo: first.and_then(|series| series.slo.clone()),
                metrics_fault: first.is_some_and(|series| series.metrics_fault.first() == Some(&true)),
            }
        })
        .collect()
}

/// The mean over runs of `value` in each of the first `n_rows` intervals, skipping runs
/// without a value there.
fn mean_per_interval(
    outputs: &[RunOutput],
    n_rows: usize,
    value: impl Fn(&IntervalRow) -> Option<f64>,
) -> Vec<Option<f64>> {
    (0..n_rows)
        .map(|idx| {
            let values: Vec<f64> =
                outputs.iter().filter_map(|output| output.series.rows.get(idx).and_then(&value)).collect();
            (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{synthetic_series, synthetic_summary};

    #[test]
    fn lines_average_the_seeds_interval_by_interval() {
        let output = |scale: u64| {
            let mut series = synthetic_series(10);
            for row in &mut series.rows {
                row.total.attempts *= scale;
            }
            RunOutput { summary: synthetic_summary(), series, stopped: None }
        };
        let runs = vec![vec![output(1), output(3)], vec![output(2)]];
        let lines = lines(&["baseline", "budget"], &runs);
        assert_eq!(lines.len(), 2);
        let first = &runs[0][0].series.rows[0];
        let per_s = first.total.attempts as f64 / 60.0;
        assert!((lines[0].attempts_per_s[0].unwrap() - 2.0 * per_s).abs() < 1e-9);
        assert!((lines[1].attempts_per_s[0].unwrap() - 2.0 * per_s).abs() < 1e-9);
        assert_eq!(lines[0].success_rate[0], first.total.success_rate_by_arrival());
        assert_eq!(lines[0].success_rate.len(), 10);
    }
}
