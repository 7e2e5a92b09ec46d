//! `timeseries.csv`: one flat row per interval per scope (the total, each class, each
//! service, each client, each region or cell), for spreadsheets and dataframes.
//!
//! Invariant: byte-identical output for the same `Series`. Floats are printed with at
//! most six decimals and no trailing zeros, times exactly from integer nanoseconds, and a
//! cell that does not apply to the row's scope (or has no value, like the latency of an
//! interval where nothing succeeded) is empty.

use crate::engine::{NANOS_PER_SEC, SimDuration, SimTime};
use crate::model::FailureReason;
use crate::stats::{ClientFigures, RequestFigures, Series, ServiceFigures};
use std::io;

/// Columns before the failure reasons. A scenario with a date adds `timestamp` (ISO 8601
/// with the offset in force) after `clock`.
const LEADING: [&str; 9] =
    ["time_s", "clock", "scope", "name", "offered", "attempts", "retries", "succeeded", "failed"];
const TIMESTAMP: &str = "timestamp";

/// Request columns after the failure reasons. `success_rate` counts the requests that
/// finished in the interval; the `*_by_arrival` columns follow the requests offered in it
/// to their outcomes, whenever they came (empty on region and cell rows).
const REQUEST_TRAILING: [&str; 9] = [
    "success_rate",
    "success_rate_by_arrival",
    "succeeded_by_arrival",
    "failed_by_arrival",
    "goodput_per_s",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p99_ms",
    "latency_max_ms",
];

/// Service columns, empty on request rows.
const SERVICE: [&str; 15] = [
    "cpu_utilisation",
    "worker_utilisation",
    "queue_length_mean",
    "queue_length_max",
    "arrived",
    "completed",
    "service_rejected",
    "queue_wait_mean_ms",
    "wasted_cpu_s",
    "instances_ready",
    "instances_desired",
    "instances_provisioning",
    "instances_running_mean",
    "metrics_staleness_s",
    "concurrency_limit",
];

/// Client (hop) columns, empty on other rows. A client row also fills `attempts`,
/// `succeeded` and `failed` (every request through the hop, downstream calls included).
const CLIENT: [&str; 7] = [
    "hop_requests",
    "hedges",
    "human_retries",
    "breaker_state",
    "breaker_openings",
    "breaker_open_s",
    "breaker_half_open_s",
];

/// Region columns, only in a scenario with regions, empty on other rows. A region row
/// fills the request cells with its users' requests (homed there; `attempts` and `retries`
/// are those routed there) and the service cells with its pools added up.
const REGION: [&str; 2] = ["failover_attempts", "failover_refused"];

/// Provider columns, only in a scenario with external dependencies, filled on the rows of
/// the providers' pools: answers that were errors, and the mean answer time.
const PROVIDER: [&str; 2] = ["errors", "answer_mean_ms"];

/// Only in a scenario with a warm-up, before `events`: `true` on every row of an interval
/// in the warm-up (left out of the summary), `false` after it.
const WARMUP: &str = "warmup";

/// The last column: timeline entries, operator actions and alerts of the interval, on its
/// `total` row, separated by `"; "`.
const EVENTS: &str = "events";

/// Which columns a series gets. A scenario with regions adds `failover_capped` to the
/// failure reasons; one without writes exactly the columns it always did, so adding
/// regions to stormsim changed no existing file.
#[derive(Clone, Copy)]
struct Layout {
    reasons: &'static [FailureReason],
    regional: bool,
    providers: bool,
}

impl Layout {
    fn of(series: &Series) -> Layout {
        let n_reasons =
            if series.region_names.is_empty() { FailureReason::COUNT - 1 } else { FailureReason::COUNT };
        Layout {
            reasons: &FailureReason::ALL[..n_reasons],
            regional: !series.region_names.is_empty(),
            providers: series.providers.iter().any(|&provider| provider),
        }
    }

    fn n_region_cells(self) -> usize {
        if self.regional { REGION.len() } else { 0 }
    }

    fn n_provider_cells(self) -> usize {
        if self.providers { PROVIDER.len() } else { 0 }
    }

    /// Number of request cells (offered through latency_max_ms).
    fn n_request_cells(self) -> usize {
        5 + self.reasons.len() + REQUEST_TRAILING.len()
    }
}

/// The header row of `series`, in column order.
pub fn header(series: &Series) -> Vec<&'static str> {
    let layout = Layout::of(series);
    let mut res =
        Vec::with_capacity(LEADING.len() + layout.n_request_cells() + SERVICE.len() + CLIENT.len() + 1);
    res.extend(LEADING);
    if series.calendar.is_some() {
        res.insert(2, TIMESTAMP);
    }
    res.extend(layout.reasons.iter().map(|reason| reason.name()));
    res.extend(REQUEST_TRAILING);
    res.extend(SERVICE);
    res.extend(CLIENT);
    if layout.regional {
        res.extend(REGION);
    }
    if layout.providers {
        res.extend(PROVIDER);
    }
    if series.warmup > SimDuration::ZERO {
        res.push(WARMUP);
    }
    res.push(EVENTS);
    res
}

/// Writes the header and every row of `series` to `writer`.
pub fn write_series<W: io::Write>(writer: W, series: &Series) -> Result<(), csv::Error> {
    let mut out = csv::Writer::from_writer(writer);
    let layout = Layout::of(series);
    let header = header(series);
    out.write_record(&header)?;
    for row in &series.rows {
        let time_s = exact_seconds(row.start);
        let clock = series.start_clock.map(|start| clock_time(start, row.start)).unwrap_or_default();
        let timestamp = series.calendar.as_ref().map(|calendar| calendar.iso(row.start));
        let warmup = (series.warmup > SimDuration::ZERO).then(|| series.in_warmup(row).to_string());
        // Every row of the interval gets the timestamp after its clock, when there is one,
        // and its warm-up flag before the events, when the scenario has a warm-up.
        let emit = |out: &mut csv::Writer<W>, record: &mut Vec<String>| {
            if let Some(timestamp) = &timestamp {
                record.insert(2, timestamp.clone());
            }
            if let Some(warmup) = &warmup {
                record.insert(record.len() - 1, warmup.clone());
            }
            out.write_record(&*record)
        };
        let interval_s = row.end.since(row.start).as_secs_f64();

        let events: Vec<&str> = series
            .markers
            .iter()
            .filter(|marker| marker.at >= row.start && marker.at < row.end)
            .map(|marker| marker.label.as_str())
            .collect();
        let mut record = Vec::with_capacity(header.len());
        let push_request = |record: &mut Vec<String>, scope: &str, name: &str, figures, events: String| {
            record.clear();
            record.extend([time_s.clone(), clock.clone(), scope.to_owned(), name.to_owned()]);
            request_cells(record, layout, figures, interval_s, true);
            record.extend(std::iter::repeat_n(
                String::new(),
                SERVICE.len() + CLIENT.len() + layout.n_region_cells() + layout.n_provider_cells(),
            ));
            record.push(events);
        };
        push_request(&mut record, "total", "", &row.total, events.join("; "));
        emit(&mut out, &mut record)?;
        for (class_idx, figures) in row.classes.iter().enumerate() {
            push_request(
                &mut record,
                "class",
                name_of(&series.class_names, class_idx),
                figures,
                String::new(),
            );
            emit(&mut out, &mut record)?;
        }
        for (service_idx, figures) in row.services.iter().enumerate() {
            record.clear();
            record.extend([
                time_s.clone(),
                clock.clone(),
                "service".to_owned(),
                name_of(&series.service_names, service_idx).to_owned(),
            ]);
            record.extend(std::iter::repeat_n(String::new(), layout.n_request_cells()));
            service_cells(&mut record, figures);
            record.extend(std::iter::repeat_n(String::new(), CLIENT.len() + layout.n_region_cells()));
            if layout.providers {
                if series.providers.get(service_idx).copied().unwrap_or(false) {
                    record.extend([figures.errors.to_string(), optional(figures.stay_mean_ms)]);
                } else {
                    record.extend(std::iter::repeat_n(String::new(), PROVIDER.len()));
                }
            }
            record.push(String::new());
            emit(&mut out, &mut record)?;
        }
        for (client_idx, figures) in row.clients.iter().enumerate() {
            record.clear();
            record.extend([
                time_s.clone(),
                clock.clone(),
                "client".to_owned(),
                name_of(&series.client_names, client_idx).to_owned(),
            ]);
            client_cells(&mut record, layout, figures);
            record.extend(std::iter::repeat_n(
                String::new(),
                layout.n_region_cells() + layout.n_provider_cells() + 1,
            ));
            emit(&mut out, &mut record)?;
        }
        for (region_idx, figures) in row.regions.iter().enumerate() {
            let name = name_of(&series.region_names, region_idx);
            let leading = [time_s.as_str(), clock.as_str(), "region", name];
            place_cells(&mut record, leading, layout, (&figures.requests, &figures.pools), interval_s);
            record.extend(std::iter::repeat_n(String::new(), CLIENT.len()));
            record.extend([figures.failover_attempts.to_string(), figures.failover_refused.to_string()]);
            record.extend(std::iter::repeat_n(String::new(), layout.n_provider_cells() + 1));
            emit(&mut out, &mut record)?;
        }
        for (cell_idx, figures) in row.cells.iter().enumerate() {
            let name = name_of(&series.cell_names, cell_idx);
            let leading = [time_s.as_str(), clock.as_str(), "cell", name];
            place_cells(&mut record, leading, layout, (&figures.requests, &figures.pools), interval_s);
            let trailing = CLIENT.len() + layout.n_region_cells() + layout.n_provider_cells() + 1;
            record.extend(std::iter::repeat_n(String::new(), trailing));
            emit(&mut out, &mut record)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// The whole CSV as a string (for tests and small series).
pub fn to_string(series: &Series) -> Result<String, csv::Error> {
    let mut buffer = Vec::new();
    write_series(&mut buffer, series)?;
    // The csv writer only emits the UTF-8 it was given.
    Ok(String::from_utf8(buffer).unwrap_or_default())
}

/// Starts the row of a place (a region, a cell): its time, scope and name. Its request
/// cells are its users' requests, its service cells its pools added up.
fn place_cells(
    record: &mut Vec<String>,
    leading: [&str; 4],
    layout: Layout,
    (requests, pools): (&RequestFigures, &ServiceFigures),
    interval_s: f64,
) {
    record.clear();
    record.extend(leading.map(str::to_owned));
    request_cells(record, layout, requests, interval_s, false);
    service_cells(record, pools);
}

fn name_of(names: &[String], idx: usize) -> &str {
    names.get(idx).map(String::as_str).unwrap_or("?")
}

/// The request cells of a row; `by_arrival` when the row's scope counts outcomes by
/// arrival (the total and the classes).
fn request_cells(
    record: &mut Vec<String>,
    layout: Layout,
    figures: &RequestFigures,
    interval_s: f64,
    by_arrival: bool,
) {
    record.extend([
        figures.offered.to_string(),
        figures.attempts.to_string(),
        figures.retries.to_string(),
        figures.succeeded.to_string(),
        figures.failed_total().to_string(),
    ]);
    record.extend(layout.reasons.iter().map(|reason| figures.failed[reason.index()].to_string()));
    let goodput = (interval_s > 0.0).then(|| figures.succeeded as f64 / interval_s);
    record.push(optional(figures.success_rate()));
    if by_arrival {
        record.extend([
            optional(figures.success_rate_by_arrival()),
            figures.succeeded_by_arrival.to_string(),
            figures.failed_by_arrival.to_string(),
        ]);
    } else {
        record.extend(std::iter::repeat_n(String::new(), 3));
    }
    record.extend([
        optional(goodput),
        optional(figures.latency_p50_ms),
        optional(figures.latency_p90_ms),
        optional(figures.latency_p99_ms),
        optional(figures.latency_max_ms),
    ]);
}

fn service_cells(record: &mut Vec<String>, figures: &ServiceFigures) {
    record.extend([
        decimal(figures.cpu_utilisation),
        decimal(figures.worker_utilisation),
        decimal(figures.queue_length_mean),
        figures.queue_length_max.to_string(),
        figures.arrived.to_string(),
        figures.completed.to_string(),
        figures.rejected.to_string(),
        optional(figures.queue_wait_mean_ms),
        decimal(figures.wasted_cpu_s),
        figures.instances_ready.to_string(),
        figures.instances_desired.to_string(),
        figures.instances_provisioning.to_string(),
        decimal(figures.instances_running_mean),
        decimal(figures.metrics_staleness_s),
        optional(figures.concurrency_limit),
    ]);
}

/// A client row from `offered` on: the shared request cells it has, then its own.
fn client_cells(record: &mut Vec<String>, layout: Layout, figures: &ClientFigures) {
    record.extend([
        String::new(),
        figures.attempts.to_string(),
        String::new(),
        figures.succeeded.to_string(),
        figures.failed.to_string(),
    ]);
    record.extend(std::iter::repeat_n(String::new(), layout.n_request_cells() - 5 + SERVICE.len()));
    record.extend([
        figures.requests.to_string(),
        figures.hedges.to_string(),
        figures.human_retries.to_string(),
    ]);
    match &figures.breaker {
        Some(breaker) => record.extend([
            breaker.state.name().to_owned(),
            breaker.openings.to_string(),
            decimal(breaker.open_s),
            decimal(breaker.half_open_s),
        ]),
        None => record.extend(std::iter::repeat_n(String::new(), 4)),
    }
}

fn optional(value: Option<f64>) -> String {
    value.map(decimal).unwrap_or_default()
}

/// At most six decimals, trailing zeros removed; empty for NaN and infinities.
pub(crate) fn decimal(value: f64) -> String {
    if !value.is_finite() {
        return String::new();
    }
    let mut res = format!("{value:.6}");
    if res.contains('.') {
        let trimmed = res.trim_end_matches('0').trim_end_matches('.').len();
        res.truncate(trimmed);
    }
    if res == "-0" { "0".to_owned() } else { res }
}

/// Seconds since the start, exact: `60`, `90.5`, `0.000001`.
fn exact_seconds(at: SimTime) -> String {
    let (secs, nanos) = (at.0 / NANOS_PER_SEC, at.0 % NANOS_PER_SEC);
    if nanos == 0 {
        return secs.to_string();
    }
    let fraction = format!("{nanos:09}");
    format!("{secs}.{}", fraction.trim_end_matches('0'))
}

pub(crate) use crate::engine::time::clock_time;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::synthetic_series;

    #[test]
    fn header_and_first_interval() {
        let series = synthetic_series(3);
        let text = to_string(&series).unwrap();
        // The header and the first interval: total, two classes, two services, a client.
        let first: Vec<&str> = text.lines().take(7).collect();
        insta::assert_snapshot!(first.join("\n"));
    }

    #[test]
    fn every_row_has_every_column_and_output_is_deterministic() {
        let series = synthetic_series(5);
        let text = to_string(&series).unwrap();
        let n_columns = header(&series).len();
        assert_eq!(n_columns, 9 + 7 + 9 + 15 + 7 + 1);
        for line in text.lines() {
            assert_eq!(line.split(',').count(), n_columns, "{line}");
        }
        assert_eq!(text.lines().count(), 1 + 5 * 6);
        assert_eq!(to_string(&series).unwrap(), text);
    }

    #[test]
    fn a_warm_up_flags_every_row_before_the_events_column() {
        let mut series = synthetic_series(4);
        assert!(!header(&series).contains(&"warmup"), "no warm-up, no column");
        series.warmup = SimDuration::from_secs(120);
        let columns = header(&series);
        assert_eq!(&columns[columns.len() - 2..], ["warmup", "events"]);
        let text = to_string(&series).unwrap();
        let flags: Vec<&str> =
            text.lines().skip(1).map(|line| line.split(',').rev().nth(1).unwrap()).collect();
        // Six rows per interval; the first two intervals are the warm-up.
        assert_eq!(flags.len(), 24);
        assert!(flags[..12].iter().all(|&flag| flag == "true"), "{flags:?}");
        assert!(flags[12..].iter().all(|&flag| flag == "false"), "{flags:?}");
    }

    #[test]
    fn numbers_are_formatted_exactly() {
        assert_eq!(decimal(0.1 + 0.2), "0.3");
        assert_eq!(decimal(12.0), "12");
        assert_eq!(decimal(-0.0000001), "0");
        assert_eq!(decimal(f64::NAN), "");
        assert_eq!(decimal(f64::INFINITY), "");
        assert_eq!(exact_seconds(SimTime(90 * NANOS_PER_SEC + 500_000_000)), "90.5");
        assert_eq!(exact_seconds(SimTime(0)), "0");
        assert_eq!(
            clock_time(SimDuration::from_secs(23 * 3600 + 59 * 60), SimTime(120 * NANOS_PER_SEC)),
            "00:01:00+1d"
        );
    }
}
