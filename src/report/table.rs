//! The short human summary printed to the terminal after a run: what users saw (requests)
//! and how each service coped.
//!
//! Invariant: pure text from a `Summary`, with ANSI styling only when the caller says the
//! output is a terminal, so the same summary always renders to the same string.

use crate::engine::SimDuration;
use crate::model::FailureReason;
use crate::stats::Summary;
use crate::stats::summary::{FailureCounts, HopSummary, Moment, Percentiles, RequestSummary};
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Attribute, Cell, CellAlignment, Color, Table};
use std::fmt::Write as _;

/// Renders the summary; `styled` adds bold and colour for a terminal.
pub fn render(summary: &Summary, styled: bool) -> String {
    let mut res = String::new();
    let name = match &summary.scenario.variant {
        Some(variant) => format!("{} · variant {variant}", summary.scenario.name),
        None => summary.scenario.name.clone(),
    };
    let mut headline = format!(
        "{} · seed {} · {} simulated · {} events",
        name,
        summary.seed,
        SimDuration::from_secs_f64(summary.simulated_s),
        count(summary.engine.events_handled),
    );
    if let Some(warmup_s) = summary.warmup_s {
        let _ = write!(headline, " · first {} warm-up, not measured", SimDuration::from_secs_f64(warmup_s));
    }
    if styled {
        headline = format!("\x1b[1m{headline}\x1b[0m");
    }
    res.push_str(&headline);
    res.push('\n');
    if summary.partial {
        let reason = summary.stopped_by.as_deref().unwrap_or("a guard tripped");
        let warning =
            format!("partial run: stopped early ({reason}); figures cover the simulated time above");
        if styled {
            let _ = writeln!(res, "\x1b[1;31m{warning}\x1b[0m");
        } else {
            let _ = writeln!(res, "{warning}");
        }
    }
    for table in tables(summary, styled) {
        res.push_str(&table.to_string());
        res.push('\n');
    }
    res
}

/// The summary's tables, in the order printed: requests, services (if any), client hops
/// (when there are several or one has hedges, human retries or a breaker), and what
/// happened (when the SLO was breached or the timeline has markers).
pub fn tables(summary: &Summary, styled: bool) -> Vec<Table> {
    let mut res = vec![requests_table(summary, styled)];
    if !summary.services.is_empty() {
        res.push(services_table(summary, styled));
    }
    if !summary.dependencies.is_empty() {
        res.push(providers_table(summary, styled));
    }
    let hops = &summary.clients;
    let notable = |hop: &HopSummary| hop.hedges > 0 || hop.human_retries > 0 || hop.breaker.is_some();
    if hops.len() > 1 || hops.values().any(notable) {
        res.push(clients_table(summary, styled));
    }
    if !summary.cells.is_empty() {
        res.push(cells_table(summary, styled));
    }
    if summary.slo.first_breach.is_some() || !summary.timeline.is_empty() {
        res.push(operations_table(summary, styled));
    }
    res
}

/// When failures started, when they were detected, when capacity came back and when the
/// SLO recovered, then every timeline marker.
fn operations_table(summary: &Summary, styled: bool) -> Table {
    let mut table = new_table(styled);
    let slo = &summary.slo;
    table.set_header(header(&["what happened", "when", ""]));
    let when = |moment: &Option<Moment>| match moment {
        Some(Moment { clock: Some(clock), .. }) => clock.clone(),
        Some(Moment { t_s, .. }) => format!("t+{}", SimDuration::from_secs_f64(*t_s)),
        None => "–".to_owned(),
    };
    let signed = |seconds: Option<f64>, what: &str| match seconds {
        Some(s) if s < 0.0 => format!("{} before the first breach", SimDuration::from_secs_f64(-s)),
        Some(s) => format!("{what} {}", SimDuration::from_secs_f64(s)),
        None => String::new(),
    };
    let target = percent(slo.target_success_rate);
    let breached = match slo.episodes.len() {
        0 | 1 => format!("SLO first breached (< {target})"),
        n => format!("SLO breached (< {target}), longest of {n} outages"),
    };
    table.add_row(vec![breached, when(&slo.first_breach), String::new()]);
    table.add_row(vec![
        "detected by an alert".to_owned(),
        when(&slo.detected),
        signed(slo.time_to_detect_s, "time to detect"),
    ]);
    table.add_row(vec!["capacity added".to_owned(), when(&slo.capacity_added), String::new()]);
    table.add_row(vec![
        "recovered".to_owned(),
        when(&slo.recovered),
        signed(slo.time_to_recover_s, "time to recover"),
    ]);
    let burn = slo.error_budget_burn.map_or("–".to_owned(), |burn| format!("{}x", significant(burn)));
    table.add_row(vec![
        "bad minutes".to_owned(),
        decimal(slo.bad_minutes),
        format!("{} of intervals met the SLO, error budget burn {burn}", percent(slo.fraction_met)),
    ]);
    if slo.episodes.len() > 1 {
        const LISTED: usize = 6;
        let mut outages: Vec<String> = slo
            .episodes
            .iter()
            .take(LISTED)
            .map(|episode| {
                let lasted = SimDuration::from_secs_f64(episode.duration_s);
                let open = if episode.recovered.is_none() { "+, not recovered" } else { "" };
                format!("{} for {lasted}{open}", when(&Some(episode.start.clone())))
            })
            .collect();
        if slo.episodes.len() > LISTED {
            outages.push(format!("and {} more", slo.episodes.len() - LISTED));
        }
        table.add_row(vec!["outage episodes".to_owned(), slo.episodes.len().to_string(), outages.join("; ")]);
    }
    for marker in &summary.timeline {
        table.add_row(vec![
            format!("  {}", marker.kind),
            when(&Some(marker.at.clone())),
            marker.label.clone(),
        ]);
    }
    table
}

/// Each client hop: its traffic, how much it amplified, and its protections at work.
fn clients_table(summary: &Summary, styled: bool) -> Table {
    let mut table = new_table(styled);
    table.set_header(header(&[
        "client",
        "requests",
        "attempts",
        "per request",
        "per offered",
        "hedges",
        "human retries",
        "breaker",
    ]));
    for (name, hop) in &summary.clients {
        let breaker = hop.breaker.as_ref().map_or("–".to_owned(), |breaker| {
            format!(
                "opened {}×, open {}, {} at the end",
                breaker.openings,
                SimDuration::from_secs_f64(breaker.open_s),
                breaker.state_at_end.replace('_', "-")
            )
        });
        table.add_row(vec![
            name.clone(),
            count(hop.requests),
            count(hop.attempts),
            format!("{}×", decimal(hop.amplification)),
            format!("{}×", decimal(hop.attempts_per_offered)),
            count(hop.hedges),
            count(hop.human_retries),
            breaker,
        ]);
    }
    for column in 1..7 {
        if let Some(column) = table.column_mut(column) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

/// Each cell: its customers' share, what they saw, and what the release did to it; then
/// the release's outcome and blast radius.
fn cells_table(summary: &Summary, styled: bool) -> Table {
    let mut table = new_table(styled);
    table.set_header(header(&["cell", "customers", "offered", "success rate", "p99", "release"]));
    for (name, cell) in &summary.cells {
        let release = cell.release.as_ref().map_or("not reached".to_owned(), |release| {
            let restored = release.restored.as_ref().map_or(String::new(), |_| ", rolled back".to_owned());
            format!(
                "wave {}, {} exposed{restored}",
                release.wave,
                SimDuration::from_secs_f64(release.impacted_s)
            )
        });
        let p99 =
            cell.requests.latency_ms.p99.map_or("–".to_owned(), |ms| format!("{} ms", significant(ms)));
        table.add_row(vec![
            name.clone(),
            percent(cell.customer_share),
            count(cell.requests.offered),
            percent(cell.requests.success_rate),
            p99,
            release,
        ]);
    }
    if let Some(release) = &summary.release {
        let outcome = match &release.halted {
            Some(halt) => format!("halted after wave {} on {} of {}", halt.wave, halt.figure, halt.cell),
            None => release.outcome.replace('_', " "),
        };
        let rolled_back = release.rolled_back.as_ref().map_or(String::new(), |_| ", rolled back".to_owned());
        let blast = &release.blast_radius;
        table.add_row(vec![
            "release".to_owned(),
            percent(blast.customer_share),
            String::new(),
            String::new(),
            String::new(),
            format!(
                "{}: {outcome}{rolled_back}; {} customer-minutes ({} of customer-time)",
                release.change,
                decimal(blast.customer_minutes),
                percent(blast.customer_time_share)
            ),
        ]);
    }
    for column in 1..5 {
        if let Some(column) = table.column_mut(column) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

fn new_table(styled: bool) -> Table {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED.with_rounded_corners()).force_no_tty();
    if styled {
        table.enforce_styling();
    }
    table
}

fn header(titles: &[&str]) -> Vec<Cell> {
    titles.iter().map(|title| Cell::new(title).add_attribute(Attribute::Bold)).collect()
}

fn requests_table(summary: &Summary, styled: bool) -> Table {
    let requests = &summary.requests;
    let plain =
        |label: &str, value: String, note: String| vec![Cell::new(label), Cell::new(value), Cell::new(note)];
    let success = |label: &str, requests: &RequestSummary, note: &str| {
        let cell = Cell::new(percent(requests.success_rate));
        let cell = if styled {
            cell.fg(rate_colour(requests.success_rate)).add_attribute(Attribute::Bold)
        } else {
            cell
        };
        vec![Cell::new(label), cell, Cell::new(note)]
    };

    let mut rows = vec![plain("offered", count(requests.offered), String::new())];
    if let Some(at_start) = requests.in_flight_at_start {
        rows.push(plain("in flight at the start", count(at_start), "when the warm-up ended".to_owned()));
    }
    rows.extend([
        plain("succeeded", count(requests.succeeded), String::new()),
        plain("failed", count(requests.failed), String::new()),
    ]);
    for (reason, n) in failures(&requests.failed_by_reason) {
        rows.push(plain(&format!("  {}", reason.name().replace('_', " ")), count(n), String::new()));
    }
    if requests.in_flight > 0 {
        rows.push(plain("in flight at the end", count(requests.in_flight), String::new()));
    }
    let rule = match requests.in_flight_at_start {
        Some(_) => "succeeded / (offered + in flight at the start)",
        None => "succeeded / offered",
    };
    rows.push(success("success rate", requests, rule));
    if summary.classes.len() > 1 {
        for (name, class) in &summary.classes {
            rows.push(success(&format!("  class {name}"), class, ""));
        }
    }
    rows.push(plain(
        "goodput",
        format!("{} /s", decimal(requests.goodput_per_s)),
        "successes per second".to_owned(),
    ));
    rows.push(plain(
        "attempts",
        count(requests.attempts),
        format!("{} retries, amplification {}×", count(requests.retries), decimal(requests.amplification)),
    ));
    rows.push(plain(
        "latency p50 / p99 / max",
        latencies(&requests.latency_ms),
        "end to end, successes".to_owned(),
    ));
    rows.push(plain(
        "wasted CPU",
        format!("{} s", decimal(requests.wasted_cpu_s)),
        format!("on {} attempts already given up", count(requests.wasted_attempts)),
    ));

    let mut table = new_table(styled);
    table.set_header(header(&["requests", "", ""]));
    table.add_rows(rows);
    if let Some(column) = table.column_mut(1) {
        column.set_cell_alignment(CellAlignment::Right);
    }
    table
}

/// One row per service. The concurrency-limit columns (rejections by the limit, the
/// limit's range) and the rejection-CPU column appear only when some service has them, so
/// the table stays narrow for scenarios without.
fn services_table(summary: &Summary, styled: bool) -> Table {
    let services = &summary.services;
    let limits = services.values().any(|service| service.concurrency_limit_max.is_some());
    let reject_cpu = services.values().any(|service| service.reject_cpu_s > 0.0);
    let mut titles =
        vec!["service", "CPU", "workers", "queue mean", "queue max", "rejected", "queue wait mean"];
    if limits {
        titles.extend(["by limit", "limit"]);
    }
    if reject_cpu {
        titles.push("reject CPU");
    }
    titles.extend(["instances", "instance-hours"]);
    let mut table = new_table(styled);
    table.set_header(header(&titles));
    let range = |min: u32, max: u32| if min == max { count(max as u64) } else { format!("{min}–{max}") };
    for (name, service) in services {
        let rejected = Cell::new(count(service.rejected));
        let rejected = if styled && service.rejected > 0 { rejected.fg(Color::Red) } else { rejected };
        let mut row = vec![
            Cell::new(name),
            Cell::new(percent(service.cpu_utilisation)),
            Cell::new(percent(service.worker_utilisation)),
            Cell::new(decimal(service.queue_length_mean)),
            Cell::new(count(service.queue_length_max)),
            rejected,
            Cell::new(
                service.queue_wait_ms.mean.map_or("–".to_owned(), |ms| format!("{} ms", significant(ms))),
            ),
        ];
        if limits {
            let limit = match (service.concurrency_limit_min, service.concurrency_limit_max) {
                (Some(min), Some(max)) => range(min, max),
                _ => "–".to_owned(),
            };
            row.extend([Cell::new(count(service.rejected_by_limit)), Cell::new(limit)]);
        }
        if reject_cpu {
            row.push(Cell::new(format!("{} s", decimal(service.reject_cpu_s))));
        }
        row.extend([
            Cell::new(range(service.instances_ready_min, service.instances_ready_max)),
            Cell::new(decimal(service.instance_hours)),
        ]);
        table.add_row(row);
    }
    for idx in 1..titles.len() {
        if let Some(column) = table.column_mut(idx) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

/// Each dependency's providers in priority order: where the calls went and how each
/// answered.
fn providers_table(summary: &Summary, styled: bool) -> Table {
    let titles = [
        "provider",
        "calls",
        "share",
        "succeeded",
        "errors",
        "late",
        "refused",
        "success",
        "answer p50 / p99",
    ];
    let mut table = new_table(styled);
    table.set_header(header(&titles));
    for (dependency, figures) in &summary.dependencies {
        let mut providers: Vec<_> = figures.providers.iter().collect();
        providers.sort_by_key(|(_, provider)| provider.priority);
        for (name, provider) in providers {
            let success = Cell::new(percent(provider.success_rate));
            let success = if styled && provider.calls > 0 {
                success.fg(rate_colour(provider.success_rate))
            } else {
                success
            };
            let part = |value: Option<f64>| value.map_or("–".to_owned(), significant);
            table.add_row(vec![
                Cell::new(format!("{dependency}/{name}")),
                Cell::new(count(provider.calls)),
                Cell::new(percent(provider.share_of_calls)),
                Cell::new(count(provider.succeeded)),
                Cell::new(count(provider.errors)),
                Cell::new(count(provider.late)),
                Cell::new(count(provider.refused)),
                success,
                Cell::new(format!(
                    "{} / {} ms",
                    part(provider.latency_ms.p50),
                    part(provider.latency_ms.p99)
                )),
            ]);
        }
    }
    for idx in 1..titles.len() {
        if let Some(column) = table.column_mut(idx) {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

/// Non-zero failure counts, in `FailureReason` order.
fn failures(counts: &FailureCounts) -> Vec<(FailureReason, u64)> {
    FailureReason::ALL
        .into_iter()
        .map(|reason| {
            let n = match reason {
                FailureReason::Timeout => counts.timeout,
                FailureReason::Rejected => counts.rejected,
                FailureReason::DependencyError => counts.dependency_error,
                FailureReason::CircuitOpen => counts.circuit_open,
                FailureReason::RetryBudgetExhausted => counts.retry_budget_exhausted,
                FailureReason::DeadlineExceeded => counts.deadline_exceeded,
                FailureReason::NoCapacity => counts.no_capacity,
                FailureReason::FailoverCapped => counts.failover_capped.unwrap_or(0),
            };
            (reason, n)
        })
        .filter(|&(_, n)| n > 0)
        .collect()
}

fn rate_colour(rate: f64) -> Color {
    if rate >= 0.99 {
        Color::Green
    } else if rate >= 0.9 {
        Color::Yellow
    } else {
        Color::Red
    }
}

fn latencies(latency: &Percentiles) -> String {
    let part = |value: Option<f64>| value.map_or("–".to_owned(), significant);
    format!("{} / {} / {} ms", part(latency.p50), part(latency.p99), part(latency.max))
}

/// `1,234,567`.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut res = String::with_capacity(digits.len() + digits.len() / 3);
    for (idx, digit) in digits.chars().enumerate() {
        if idx > 0 && (digits.len() - idx).is_multiple_of(3) {
            res.push(',');
        }
        res.push(digit);
    }
    res
}

/// `94.44 %` from a fraction; `–` when not a number.
fn percent(fraction: f64) -> String {
    if fraction.is_finite() { format!("{:.2} %", fraction * 100.0) } else { "–".to_owned() }
}

/// Two decimals below 100, none above, with thousands separators.
fn decimal(value: f64) -> String {
    if !value.is_finite() {
        "–".to_owned()
    } else if value.abs() >= 100.0 {
        let rounded = value.round();
        let sign = if rounded < 0.0 { "-" } else { "" };
        format!("{sign}{}", count(rounded.abs() as u64))
    } else {
        format!("{value:.2}")
    }
}

/// About three significant digits: `0.123`, `4.56`, `78.9`, `1,234`.
fn significant(value: f64) -> String {
    let magnitude = value.abs();
    if !value.is_finite() {
        "–".to_owned()
    } else if magnitude >= 100.0 {
        decimal(value)
    } else if magnitude >= 10.0 {
        format!("{value:.1}")
    } else if magnitude >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::synthetic_summary;

    #[test]
    fn plain_summary() {
        let text = render(&synthetic_summary(), false);
        assert!(!text.contains('\x1b'));
        insta::assert_snapshot!(text);
    }

    #[test]
    fn limit_and_rejection_cpu_columns_appear_only_when_a_service_has_them() {
        let mut summary = synthetic_summary();
        let plain = render(&summary, false);
        assert!(!plain.contains("by limit") && !plain.contains("reject CPU"));
        let api = summary.services.values_mut().next().unwrap();
        api.rejected = 567;
        api.rejected_by_limit = 567;
        api.concurrency_limit_min = Some(12);
        api.concurrency_limit_max = Some(40);
        api.reject_cpu_s = 2.5;
        let text = render(&summary, false);
        let header = text.lines().find(|line| line.contains("service")).unwrap();
        let titles: Vec<&str> = header.split(['│', '┆']).map(str::trim).collect();
        for title in ["by limit", "limit", "reject CPU"] {
            assert!(titles.contains(&title), "no {title:?} column: {header}");
        }
        let row = text.lines().find(|line| line.contains("│ api")).unwrap();
        assert!(row.contains("567") && row.contains("12–40") && row.contains("2.50 s"), "{row}");
        let other = text.lines().find(|line| line.contains("│ db")).unwrap();
        assert!(other.contains("┆     – ┆"), "a service without a limit shows none: {other}");
    }

    #[test]
    fn styled_summary_has_colour() {
        assert!(render(&synthetic_summary(), true).contains('\x1b'));
    }

    #[test]
    fn formats() {
        assert_eq!(count(0), "0");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(100), "100");
        assert_eq!(decimal(1234.5), "1,235");
        assert_eq!(decimal(f64::NAN), "–");
        assert_eq!(significant(0.01234), "0.012");
        assert_eq!(significant(45.67), "45.7");
    }
}
