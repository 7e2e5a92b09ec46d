//! What the run chart and the comparison chart draw, computed from the series without
//! touching plotters: panels of lines, the events marked across them, and the styles that
//! keep coinciding lines apart.
//!
//! Run chart panels, top to bottom: load (offered, attempts, succeeded and each service's
//! capacity), success rate with the SLO line, failures by reason (stacked, when anything
//! failed), latency, CPU, queue length, instances (when a pool changes size) and metrics
//! staleness (when the scenario breaks a service's metrics). The comparison chart has the
//! same panels with one line per configuration.

use plotters::style::RGBColor;

use super::layout::EventMark;
use super::{ComparedLine, PALETTE, TimeAxis};
use crate::engine::SimTime;
use crate::outcome::FailureReason;
use crate::stats::{IntervalRow, MarkerKind, RequestFigures, Series, ServiceFigures, SloMarks};

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Scale {
    /// From zero to a rounded maximum at least `min_top`.
    Linear { min_top: f64 },
    /// A fixed range, e.g. percentages.
    Fixed { top: f64 },
    /// Base-10 logarithmic, chosen when the values span a wide range.
    Log,
}

/// A dash pattern: dash and gap lengths in pixels.
pub(crate) type Dash = (u32, u32);

pub(crate) struct Line {
    pub label: String,
    pub color: RGBColor,
    /// Stroke width in pixels. Lines are drawn widest first, so a thin line that coincides
    /// with a wide one shows on top of it.
    pub width: u32,
    pub dash: Option<Dash>,
    /// A reference (the SLO, a capacity): never restyled, drawn over the data.
    pub reference: bool,
    /// (hours since the start, value); `None` breaks the line.
    pub points: Vec<(f64, Option<f64>)>,
}

pub(crate) struct Panel {
    pub caption: String,
    pub y_desc: &'static str,
    pub scale: Scale,
    pub lines: Vec<Line>,
    /// The lines are layers stacked bottom-up and drawn as filled areas.
    pub stacked: bool,
}

impl Panel {
    fn new(caption: impl Into<String>, y_desc: &'static str, scale: Scale, lines: Vec<Line>) -> Panel {
        Panel { caption: caption.into(), y_desc, scale, lines, stacked: false }
    }

    /// The values the axis must show: the stacked totals for a stacked panel.
    pub fn finite_values(&self) -> Vec<f64> {
        if self.stacked {
            let n = self.lines.iter().map(|line| line.points.len()).max().unwrap_or(0);
            (0..n)
                .map(|idx| self.lines.iter().filter_map(|line| line.points.get(idx)?.1).sum::<f64>())
                .filter(|value| value.is_finite())
                .collect()
        } else {
            self.lines
                .iter()
                .flat_map(|line| line.points.iter())
                .filter_map(|&(_, y)| y.filter(|y| y.is_finite()))
                .collect()
        }
    }

    /// Switches to a log scale when the positive values span more than `ratio`.
    fn log_if_wide(mut self, ratio: f64) -> Panel {
        let (low, high) = self
            .finite_values()
            .into_iter()
            .filter(|&v| v > 0.0)
            .fold((f64::INFINITY, 0.0_f64), |(low, high), v| (low.min(v), high.max(v)));
        if high / low > ratio {
            self.scale = Scale::Log;
        }
        self
    }
}

/// Okabe and Ito's colour-blind-safe palette, black first: the configurations of a
/// comparison (the baseline in black).
pub(crate) const OKABE_ITO: [RGBColor; 8] = [
    RGBColor(0x00, 0x00, 0x00),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0xB8, 0xA0, 0x00),
];

const GREY: RGBColor = RGBColor(0x55, 0x55, 0x55);
/// Dash patterns for lines that share a colour cycle or coincide, after the solid one.
const DASHES: [Dash; 4] = [(10, 6), (3, 4), (16, 5), (6, 3)];

/// Midpoint of an interval in hours since the start: where its value is plotted.
fn midpoint_hours(row: &IntervalRow) -> f64 {
    (row.start.as_secs_f64() + row.end.as_secs_f64()) / 2.0 / 3600.0
}

fn per_second(count: u64, row: &IntervalRow) -> Option<f64> {
    let secs = row.end.since(row.start).as_secs_f64();
    (secs > 0.0).then(|| count as f64 / secs)
}

fn line(
    label: impl Into<String>,
    color: RGBColor,
    rows: &[IntervalRow],
    value: impl Fn(&IntervalRow) -> Option<f64>,
) -> Line {
    Line {
        label: label.into(),
        color,
        width: 2,
        dash: None,
        reference: false,
        points: rows.iter().map(|row| (midpoint_hours(row), value(row))).collect(),
    }
}

/// A reference line: thin, dashed, drawn over the data.
fn reference(mut line: Line, dash: Dash) -> Line {
    line.width = 2;
    line.dash = Some(dash);
    line.reference = true;
    line
}

/// A reason's colour on the failures panel, the same in every chart.
fn reason_color(reason: FailureReason) -> RGBColor {
    match reason {
        FailureReason::Timeout => RGBColor(0xD5, 0x5E, 0x00),
        FailureReason::Rejected => RGBColor(0xE6, 0x9F, 0x00),
        FailureReason::DependencyError => RGBColor(0xCC, 0x79, 0xA7),
        FailureReason::CircuitOpen => RGBColor(0x00, 0x72, 0xB2),
        FailureReason::RetryBudgetExhausted => RGBColor(0x56, 0xB4, 0xE9),
        FailureReason::DeadlineExceeded => RGBColor(0x00, 0x9E, 0x73),
        FailureReason::NoCapacity => RGBColor(0x44, 0x44, 0x44),
        FailureReason::FailoverCapped => RGBColor(0xB8, 0xA0, 0x00),
    }
}

/// The success panel's caption. Its lines follow the requests sent in each interval to
/// their outcomes (by arrival): the interval a storm starts in reads low at once, where a
/// rate of the requests finished in it still counts the calm before. The SLO is judged by
/// completion, so the run chart (`run`) also draws the total that way; the comparison chart
/// draws one mean line per configuration.
fn success_caption(slo: Option<&SloMarks>, run: bool) -> String {
    let what = match (run, slo.is_some()) {
        (true, true) => {
            "Success rate by arrival (requests sent in each interval) and by completion (the SLO's)"
        }
        (true, false) => {
            "Success rate by arrival (requests sent in each interval) and by completion (finished in it)"
        }
        (false, _) => "Success rate by arrival (requests sent in each interval), mean over seeds",
    };
    match slo {
        Some(slo) => format!("{what}; dashed: SLO {}%", (slo.target * 1e5).round() / 1e3),
        None => what.to_owned(),
    }
}

/// A success rate in percent.
fn percent(rate: Option<f64>) -> Option<f64> {
    rate.map(|rate| rate * 100.0)
}

fn slo_line(slo: Option<&SloMarks>, rows: &[IntervalRow]) -> Option<Line> {
    let slo = slo?;
    let label = format!("SLO {}%", (slo.target * 1e5).round() / 1e3);
    Some(reference(line(label, RGBColor(0xD5, 0x5E, 0x00), rows, |_| Some(slo.target * 100.0)), (8, 5)))
}

/// Whether a pool changes size or misses its desired size at some point.
fn pool_changes(rows: &[IntervalRow]) -> bool {
    rows.iter().any(|row| {
        row.services.iter().zip(&rows[0].services).any(|(s, first)| {
            s.instances_ready != first.instances_ready || s.instances_desired != s.instances_ready
        })
    })
}

/// The run chart's panels for `series`.
pub(crate) fn run_panels(series: &Series) -> Vec<Panel> {
    let rows = &series.rows;
    let service_color = |idx: usize| PALETTE[idx % PALETTE.len()];
    // A dependency's providers are charted apart: no CPU, queue or capacity of ours.
    let ours: Vec<(usize, &String)> = series
        .service_names
        .iter()
        .enumerate()
        .filter(|&(idx, _)| !series.providers.get(idx).copied().unwrap_or(false))
        .collect();
    let one_service = ours.len() == 1;

    let mut load_lines = vec![
        line("offered", PALETTE[0], rows, |row| per_second(row.total.offered, row)),
        line("attempts", PALETTE[1], rows, |row| per_second(row.total.attempts, row)),
        line("succeeded", PALETTE[2], rows, |row| per_second(row.total.succeeded, row)),
    ];
    for &(service_idx, name) in &ours {
        let capacity =
            |row: &IntervalRow| row.services.get(service_idx).map(|figures| figures.capacity_per_s);
        if rows.iter().filter_map(capacity).any(|value| value > 0.0) {
            let label = if one_service { "capacity".to_owned() } else { format!("capacity {name}") };
            let color = if one_service { GREY } else { service_color(service_idx) };
            let mut capacity = reference(line(label, color, rows, capacity), (1, 0));
            capacity.dash = None;
            load_lines.push(capacity);
        }
    }
    let load = Panel::new(
        "Load: offered, attempts (retries included), succeeded; capacity: what the ready instances serve at full CPU",
        "requests per second",
        Scale::Linear { min_top: 1.0 },
        load_lines,
    );

    let mut success_lines = vec![
        line("all, by arrival", RGBColor(0x22, 0x22, 0x22), rows, |row| {
            percent(row.total.success_rate_by_arrival())
        }),
        line("all, by completion", GREY, rows, |row| percent(row.total.success_rate())),
    ];
    success_lines[1].dash = Some(DASHES[1]);
    if series.class_names.len() > 1 {
        for (class_idx, name) in series.class_names.iter().enumerate() {
            success_lines.push(line(
                format!("class {name}"),
                PALETTE[(class_idx + 1) % PALETTE.len()],
                rows,
                |row| percent(row.classes.get(class_idx).and_then(RequestFigures::success_rate_by_arrival)),
            ));
        }
    }
    success_lines.extend(slo_line(series.slo.as_ref(), rows));
    let success = Panel::new(
        success_caption(series.slo.as_ref(), true),
        "success rate (%)",
        Scale::Fixed { top: 100.0 },
        success_lines,
    );

    let mut panels = vec![load, success];
    let reasons: Vec<FailureReason> = FailureReason::ALL
        .into_iter()
        .filter(|reason| rows.iter().any(|row| row.total.failed[reason.index()] > 0))
        .collect();
    if !reasons.is_empty() {
        let layers = reasons
            .iter()
            .map(|&reason| {
                line(reason.name(), reason_color(reason), rows, |row| {
                    per_second(row.total.failed[reason.index()], row)
                })
            })
            .collect();
        panels.push(Panel {
            stacked: true,
            ..Panel::new(
                "Failed requests per second by reason (stacked)",
                "failed per second",
                Scale::Linear { min_top: 1.0 },
                layers,
            )
        });
    }

    panels.push(
        Panel::new(
            "End-to-end latency of successful requests",
            "latency (ms)",
            Scale::Linear { min_top: 1.0 },
            vec![
                line("p50", PALETTE[0], rows, |row| row.total.latency_p50_ms),
                line("p99", PALETTE[3], rows, |row| row.total.latency_p99_ms),
            ],
        )
        .log_if_wide(50.0),
    );

    let per_service = |value: fn(&ServiceFigures) -> f64| -> Vec<Line> {
        ours.iter()
            .map(|&(service_idx, name)| {
                line(name.clone(), service_color(service_idx), rows, |row| {
                    row.services.get(service_idx).map(value)
                })
            })
            .collect()
    };
    panels.push(Panel::new(
        "CPU utilisation per service (busy share of the ready instances' cores)",
        "CPU busy (%)",
        Scale::Fixed { top: 100.0 },
        per_service(|figures| figures.cpu_utilisation * 100.0),
    ));
    panels.push(Panel::new(
        "Queue length per service: attempts waiting for a worker, summed over its instances (time-average)",
        "waiting attempts",
        Scale::Linear { min_top: 1.0 },
        per_service(|figures| figures.queue_length_mean),
    ));

    if !series.region_names.is_empty() {
        panels.extend(region_panels(series));
    }
    if series.providers.iter().any(|&provider| provider) {
        panels.extend(provider_panels(series));
    }
    if !series.cell_names.is_empty() {
        panels.extend(cell_panels(series));
    }

    if pool_changes(rows) {
        let mut lines = Vec::new();
        for &(service_idx, name) in &ours {
            let ready =
                |row: &IntervalRow| row.services.get(service_idx).map(|f| f64::from(f.instances_ready));
            let desired =
                |row: &IntervalRow| row.services.get(service_idx).map(|f| f64::from(f.instances_desired));
            let (ready_label, desired_label) = if one_service {
                ("ready".to_owned(), "desired".to_owned())
            } else {
                (format!("{name} ready"), format!("{name} desired"))
            };
            let mut ready = line(ready_label, service_color(2 * service_idx), rows, ready);
            ready.width = 3;
            let mut desired = line(desired_label, service_color(2 * service_idx + 1), rows, desired);
            desired.dash = Some(DASHES[0]);
            lines.extend([ready, desired]);
        }
        panels.push(Panel::new(
            "Instances per service: ready (solid) and desired (dashed)",
            "instances",
            Scale::Linear { min_top: 1.0 },
            lines,
        ));
    }

    let faulted: Vec<usize> = (0..series.service_names.len())
        .filter(|&idx| series.metrics_fault.get(idx).copied().unwrap_or(false))
        .collect();
    if !faulted.is_empty() {
        let lines = faulted
            .iter()
            .map(|&service_idx| {
                line(series.service_names[service_idx].clone(), service_color(service_idx), rows, |row| {
                    row.services.get(service_idx).map(|figures| figures.metrics_staleness_s / 60.0)
                })
            })
            .collect();
        panels.push(Panel::new(
            "Metrics staleness: age of the newest sample the autoscaler had",
            "staleness (min)",
            Scale::Linear { min_top: 1.0 },
            lines,
        ));
    }
    for panel in &mut panels {
        distinguish(&mut panel.lines, panel.scale);
    }
    panels
}

/// With dependencies: the calls each provider took and its errors, and its mean answer
/// time (what a breaker on latency watches).
fn provider_panels(series: &Series) -> [Panel; 2] {
    let rows = &series.rows;
    let providers: Vec<(usize, &String)> = series
        .service_names
        .iter()
        .enumerate()
        .filter(|&(idx, _)| series.providers.get(idx).copied().unwrap_or(false))
        .collect();
    let mut calls = Vec::new();
    for (rank, &(idx, name)) in providers.iter().enumerate() {
        let color = PALETTE[rank % PALETTE.len()];
        let mut took = line(format!("{name} calls"), color, rows, |row| {
            row.services.get(idx).and_then(|pool| per_second(pool.arrived, row))
        });
        took.width = 3;
        let mut errors = line(format!("{name} errors"), color, rows, |row| {
            row.services.get(idx).and_then(|pool| per_second(pool.errors, row))
        });
        errors.dash = Some(DASHES[0]);
        calls.extend([took, errors]);
    }
    let answer_times = providers
        .iter()
        .enumerate()
        .map(|(rank, &(idx, name))| {
            line(name.clone(), PALETTE[rank % PALETTE.len()], rows, |row| {
                row.services.get(idx).and_then(|pool| pool.stay_mean_ms)
            })
        })
        .collect();
    [
        Panel::new(
            "Per provider: calls reaching it (solid), answered with an error (dashed)",
            "calls per second",
            Scale::Linear { min_top: 1.0 },
            calls,
        ),
        Panel::new(
            "Mean answer time per provider (late answers included)",
            "answer time (ms)",
            Scale::Linear { min_top: 1.0 },
            answer_times,
        )
        .log_if_wide(50.0),
    ]
}

/// With regions: attempts routed to each region against users' requests homed there, and
/// each home region's success rate.
fn region_panels(series: &Series) -> [Panel; 2] {
    place_panels(
        series,
        &series.region_names,
        |row, idx| row.regions.get(idx).map(|region| &region.requests),
        ("attempts", |figures| figures.attempts),
        [
            "Per region: attempts routed there (solid), users' requests homed there (dashed)",
            "Success rate per home region",
        ],
    )
}

/// With cells: each cell's customers' requests offered and succeeded, and their success
/// rate (a release's harm shows in the cells it reached, and only there).
fn cell_panels(series: &Series) -> [Panel; 2] {
    place_panels(
        series,
        &series.cell_names,
        |row, idx| row.cells.get(idx).map(|cell| &cell.requests),
        ("succeeded", |figures| figures.succeeded),
        ["Per cell: customers' requests succeeded (solid) and offered (dashed)", "Success rate per cell"],
    )
}

/// Per place (a region, a cell) of `names`: a traffic panel (the `solid` count against the
/// requests offered there, dashed) and the place's success rate.
fn place_panels(
    series: &Series,
    names: &[String],
    figures: fn(&IntervalRow, usize) -> Option<&RequestFigures>,
    (solid_label, solid): (&str, fn(&RequestFigures) -> u64),
    [traffic_title, success_title]: [&str; 2],
) -> [Panel; 2] {
    let rows = &series.rows;
    let mut traffic = Vec::new();
    for (idx, name) in names.iter().enumerate() {
        let color = PALETTE[idx % PALETTE.len()];
        let mut counted = line(format!("{name} {solid_label}"), color, rows, |row| {
            figures(row, idx).and_then(|f| per_second(solid(f), row))
        });
        counted.width = 3;
        let mut offered = line(format!("{name} offered"), color, rows, |row| {
            figures(row, idx).and_then(|f| per_second(f.offered, row))
        });
        offered.dash = Some(DASHES[0]);
        traffic.extend([counted, offered]);
    }
    let success = names
        .iter()
        .enumerate()
        .map(|(idx, name)| {
            line(name.clone(), PALETTE[idx % PALETTE.len()], rows, |row| {
                figures(row, idx).and_then(RequestFigures::success_rate).map(|rate| rate * 100.0)
            })
        })
        .collect();
    [
        Panel::new(traffic_title, "per second", Scale::Linear { min_top: 1.0 }, traffic),
        Panel::new(success_title, "success rate (%)", Scale::Fixed { top: 100.0 }, success),
    ]
}

/// The comparison chart's panels: the run chart's, one line per configuration (the mean
/// over seeds). Per-service panels show the first service, or the first whose metrics
/// break.
pub(crate) fn comparison_panels(axis: &Series, lines: &[ComparedLine]) -> Vec<Panel> {
    let rows = &axis.rows;
    let service = axis.service_names.first().map_or("the service", String::as_str);
    let panel_of = |values: fn(&ComparedLine) -> &Vec<Option<f64>>, scale: f64| -> Vec<Line> {
        lines
            .iter()
            .enumerate()
            .map(|(idx, compared)| Line {
                label: compared.label.clone(),
                color: OKABE_ITO[idx % OKABE_ITO.len()],
                width: 2,
                // Past the palette, colours repeat with a dash.
                dash: (idx >= OKABE_ITO.len()).then(|| DASHES[(idx / OKABE_ITO.len() - 1) % DASHES.len()]),
                reference: false,
                points: rows
                    .iter()
                    .zip(values(compared))
                    .map(|(row, value)| (midpoint_hours(row), value.map(|value| value * scale)))
                    .collect(),
            })
            .collect()
    };
    let any = |values: fn(&ComparedLine) -> &Vec<Option<f64>>| {
        lines.iter().any(|line| values(line).iter().flatten().any(|&value| value > 0.0))
    };
    let slo = lines.first().and_then(|line| line.slo.as_ref());
    let mut success = panel_of(|line| &line.success_rate, 100.0);
    success.extend(slo_line(slo, rows));
    let mut panels = vec![
        Panel::new(
            "Attempts per second, retries included (mean over seeds)",
            "attempts per second",
            Scale::Linear { min_top: 1.0 },
            panel_of(|line| &line.attempts_per_s, 1.0),
        ),
        Panel::new(success_caption(slo, false), "success rate (%)", Scale::Fixed { top: 100.0 }, success),
    ];
    if any(|line| &line.failed_per_s) {
        panels.push(Panel::new(
            "Failed requests per second, every reason (mean over seeds)",
            "failed per second",
            Scale::Linear { min_top: 1.0 },
            panel_of(|line| &line.failed_per_s, 1.0),
        ));
    }
    panels.push(
        Panel::new(
            "p99 end-to-end latency of successful requests (mean over seeds)",
            "latency (ms)",
            Scale::Linear { min_top: 1.0 },
            panel_of(|line| &line.latency_p99_ms, 1.0),
        )
        .log_if_wide(50.0),
    );
    panels.push(Panel::new(
        format!("CPU utilisation of {service} (mean over seeds)"),
        "CPU busy (%)",
        Scale::Fixed { top: 100.0 },
        panel_of(|line| &line.cpu_utilisation, 100.0),
    ));
    panels.push(Panel::new(
        format!("Queue length of {service}, summed over its instances (mean over seeds)"),
        "waiting attempts",
        Scale::Linear { min_top: 1.0 },
        panel_of(|line| &line.queue_length, 1.0),
    ));
    let changes = lines.iter().any(|line| {
        let first = line.instances_ready.iter().flatten().next();
        line.instances_ready.iter().flatten().any(|value| Some(value) != first)
    });
    if changes {
        panels.push(Panel::new(
            format!("Ready instances of {service} (mean over seeds)"),
            "instances",
            Scale::Linear { min_top: 1.0 },
            panel_of(|line| &line.instances_ready, 1.0),
        ));
    }
    if lines.iter().any(|line| line.metrics_fault) {
        panels.push(Panel::new(
            format!("Metrics staleness of {service} (mean over seeds)"),
            "staleness (min)",
            Scale::Linear { min_top: 1.0 },
            panel_of(|line| &line.metrics_staleness_s, 1.0 / 60.0),
        ));
    }
    for panel in &mut panels {
        distinguish(&mut panel.lines, panel.scale);
    }
    panels
}

/// Lines that lie on top of each other for most of the run get distinguishable styles: in a
/// group of coinciding lines the first is wide and solid, each later one narrow with its own
/// dash pattern, so every colour shows (lines are drawn widest first, the narrow ones over
/// the wide one and through each other's gaps).
pub(crate) fn distinguish(lines: &mut [Line], scale: Scale) {
    let n = lines.len();
    let mut group: Vec<usize> = (0..n).collect();
    fn root(group: &mut [usize], mut idx: usize) -> usize {
        while group[idx] != idx {
            idx = group[idx];
        }
        idx
    }
    let max = lines
        .iter()
        .flat_map(|line| line.points.iter().filter_map(|point| point.1))
        .filter(|value| value.is_finite())
        .fold(0.0_f64, |max, value| max.max(value.abs()));
    for a in 0..n {
        for b in a + 1..n {
            if lines[a].reference || lines[b].reference {
                continue;
            }
            if coincide(&lines[a], &lines[b], scale, max) {
                let (root_a, root_b) = (root(&mut group, a), root(&mut group, b));
                group[root_b.max(root_a)] = root_a.min(root_b);
            }
        }
    }
    let roots: Vec<usize> = (0..n).map(|idx| root(&mut group, idx)).collect();
    for idx in 0..n {
        let members: Vec<usize> = (0..n).filter(|&other| roots[other] == roots[idx]).collect();
        if members.len() < 2 {
            continue;
        }
        let rank = members.iter().position(|&member| member == idx).unwrap_or(0);
        if rank == 0 {
            lines[idx].width = 5;
        } else {
            lines[idx].width = 2;
            lines[idx].dash = Some(DASHES[(rank - 1) % DASHES.len()]);
        }
    }
}

/// Whether two lines lie within a pixel or so of each other at most of their common points.
fn coincide(a: &Line, b: &Line, scale: Scale, max: f64) -> bool {
    let tolerance = match scale {
        Scale::Fixed { top } => top * 0.01,
        _ => max * 0.01,
    };
    let (mut both, mut close) = (0usize, 0usize);
    for (pa, pb) in a.points.iter().zip(&b.points) {
        if let (Some(va), Some(vb)) = (pa.1, pb.1)
            && va.is_finite()
            && vb.is_finite()
        {
            both += 1;
            let near = match scale {
                Scale::Log => (va - vb).abs() <= 0.02 * va.abs().max(vb.abs()),
                _ => (va - vb).abs() <= tolerance,
            };
            close += usize::from(near);
        }
    }
    both > 0 && close * 10 >= both * 6
}

/// Colours of the events' kinds on the run chart.
fn marker_color(kind: MarkerKind) -> RGBColor {
    match kind {
        MarkerKind::Timeline => GREY,
        MarkerKind::Alert => RGBColor(0xD5, 0x5E, 0x00),
        MarkerKind::Operator => RGBColor(0x00, 0x9E, 0x73),
        MarkerKind::Release => RGBColor(0xCC, 0x79, 0xA7),
    }
}

/// The run's events, in time order: timeline entries, alerts, operator actions, and the
/// SLO's first breach, detection and recovery.
pub(crate) fn run_events(series: &Series, time: &TimeAxis) -> Vec<EventMark> {
    events_of(
        series.markers.iter().map(|m| (m.at, m.kind, m.label.as_str())),
        series.slo.as_ref(),
        time,
        None,
    )
}

/// Every configuration's events (of its first seed), each in the configuration's colour and
/// named after it.
pub(crate) fn comparison_events(lines: &[ComparedLine], time: &TimeAxis) -> Vec<EventMark> {
    let mut res: Vec<EventMark> = lines
        .iter()
        .enumerate()
        .flat_map(|(idx, compared)| {
            let color = OKABE_ITO[idx % OKABE_ITO.len()];
            let markers = compared.markers.iter().map(|m| (m.at, m.kind, m.label.as_str()));
            events_of(markers, compared.slo.as_ref(), time, Some((&compared.label, color)))
        })
        .collect();
    res.sort_by(|a, b| a.hours.total_cmp(&b.hours));
    res
}

fn events_of<'a>(
    markers: impl Iterator<Item = (SimTime, MarkerKind, &'a str)>,
    slo: Option<&SloMarks>,
    time: &TimeAxis,
    config: Option<(&str, RGBColor)>,
) -> Vec<EventMark> {
    let mut res: Vec<(SimTime, RGBColor, String)> =
        markers.map(|(at, kind, label)| (at, marker_color(kind), label.to_owned())).collect();
    if let Some(slo) = slo {
        let target = format!("{}%", (slo.target * 1e5).round() / 1e3);
        let moments = [
            (slo.first_breach, RGBColor(0xCC, 0x79, 0xA7), format!("SLO first breached (< {target})")),
            (slo.detected, RGBColor(0xB8, 0xA0, 0x00), "breach detected by an alert".to_owned()),
            (slo.recovered, RGBColor(0x00, 0x72, 0xB2), "SLO recovered (a healthy stretch began)".to_owned()),
        ];
        res.extend(moments.into_iter().filter_map(|(at, color, text)| Some((at?, color, text))));
    }
    res.sort_by_key(|event| event.0);
    res.into_iter()
        .map(|(at, color, text)| {
            let hours = at.as_secs_f64() / 3600.0;
            let when = time.label_exact(hours);
            match config {
                Some((name, config_color)) => {
                    EventMark { hours, color: config_color, text: format!("{when} {name}: {text}") }
                }
                None => EventMark { hours, color, text: format!("{when} {text}") },
            }
        })
        .filter(|event| event.hours >= time.range.start && event.hours <= time.range.end)
        .collect()
}
