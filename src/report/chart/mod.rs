//! `chart.png` and `chart.svg`: stacked panels over a shared time axis (load, success
//! rate, latency, CPU utilisation, queue length, and instances when the pool changes size),
//! drawn with plotters. Timeline entries, operator actions and alerts are vertical lines
//! across every panel, labelled in the first.
//!
//! Invariants: no system fonts are read. DejaVu Sans is embedded and registered once as
//! plotters' "sans-serif" family. Any series renders without panicking: no rows, one row,
//! missing latencies and non-finite values all give a readable (if empty) chart, because
//! missing and non-finite points break a line instead of reaching plotters.

pub mod sweep;

use crate::engine::{NANOS_PER_SEC, SimDuration};
use crate::stats::{IntervalRow, MarkerKind, Series};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;
use std::sync::OnceLock;

/// Size of both images, in pixels.
pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 1500;

/// Width of the legend column to the right of each panel, so a legend never hides data.
const LEGEND_WIDTH: u32 = 200;
/// Extra height of the bottom panel, which carries the time labels.
const TIME_AXIS_HEIGHT: u32 = 50;
pub(crate) const FONT: &str = "sans-serif";
const FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Why a chart could not be drawn or written.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ChartError(pub(crate) String);

/// Draws the chart of `series` as a PNG at `path`.
pub fn write_png(path: &Path, series: &Series, title: &str) -> Result<(), ChartError> {
    write_panels_png(path, series, &panels(series), title, HEIGHT)
}

/// Draws the chart of `series` as an SVG document.
pub fn svg(series: &Series, title: &str) -> Result<String, ChartError> {
    panels_svg(series, &panels(series), title, HEIGHT)
}

fn write_panels_png(
    path: &Path,
    series: &Series,
    panels: &[Panel],
    title: &str,
    height: u32,
) -> Result<(), ChartError> {
    register_font()?;
    let root = BitMapBackend::new(path, (WIDTH, height)).into_drawing_area();
    draw(&root, series, panels, title)?;
    root.present().map_err(to_chart_error)
}

fn panels_svg(series: &Series, panels: &[Panel], title: &str, height: u32) -> Result<String, ChartError> {
    register_font()?;
    let mut res = String::new();
    {
        let root = SVGBackend::with_string(&mut res, (WIDTH, height)).into_drawing_area();
        draw(&root, series, panels, title)?;
        root.present().map_err(to_chart_error)?;
    }
    if !res.ends_with('\n') {
        res.push('\n');
    }
    Ok(res)
}

/// One line per configuration (a baseline and its variants) on a comparison chart: its
/// success rate (a fraction) and attempts per second in each interval of the time axis,
/// `None` where there is no value.
pub struct ComparedLine {
    pub label: String,
    pub success_rate: Vec<Option<f64>>,
    pub attempts_per_s: Vec<Option<f64>>,
}

/// Height of a comparison chart (two panels).
const COMPARISON_HEIGHT: u32 = 760;

/// The comparison chart as a PNG at `path` and as an SVG document: the success-rate and
/// load panels of the run chart, one line per configuration. `axis` gives the intervals.
pub fn write_comparison(
    path: &Path,
    axis: &Series,
    lines: &[ComparedLine],
    title: &str,
) -> Result<String, ChartError> {
    let rows = &axis.rows;
    let panel_of = |values: fn(&ComparedLine) -> &Vec<Option<f64>>, scale: f64| -> Vec<Line> {
        lines
            .iter()
            .enumerate()
            .map(|(idx, compared)| Line {
                label: compared.label.clone(),
                color: PALETTE[idx % PALETTE.len()],
                width: if idx == 0 { 3 } else { 2 },
                points: rows
                    .iter()
                    .zip(values(compared))
                    .map(|(row, value)| (midpoint_hours(row), value.map(|value| value * scale)))
                    .collect(),
            })
            .collect()
    };
    let panels = [
        Panel {
            caption: "Success rate of requests finished in each interval (mean over seeds)",
            y_desc: "success rate (%)",
            scale: Scale::Fixed { top: 100.0 },
            lines: panel_of(|line| &line.success_rate, 100.0),
        },
        Panel {
            caption: "Attempts per second, retries included (mean over seeds)",
            y_desc: "attempts per second",
            scale: Scale::Linear { min_top: 1.0 },
            lines: panel_of(|line| &line.attempts_per_s, 1.0),
        },
    ];
    write_panels_png(path, axis, &panels, title, COMPARISON_HEIGHT)?;
    panels_svg(axis, &panels, title, COMPARISON_HEIGHT)
}

/// Registers the embedded font with plotters, once per process.
pub(crate) fn register_font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED
        .get_or_init(|| plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok());
    if ok { Ok(()) } else { Err(ChartError("the embedded chart font is invalid".to_owned())) }
}

pub(crate) fn to_chart_error<E: std::error::Error + Send + Sync>(
    error: DrawingAreaErrorKind<E>,
) -> ChartError {
    ChartError(error.to_string())
}

// ---------------------------------------------------------------------------------------
// What to draw: panels of lines, computed from the series without touching plotters.

/// Tableau 10, reordered so the first colours are the most distinct on white.
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4E, 0x79, 0xA7),
    RGBColor(0xF2, 0x8E, 0x2B),
    RGBColor(0x59, 0xA1, 0x4F),
    RGBColor(0xE1, 0x57, 0x59),
    RGBColor(0xB0, 0x7A, 0xA1),
    RGBColor(0x9C, 0x75, 0x5F),
    RGBColor(0x76, 0xB7, 0xB2),
    RGBColor(0xFF, 0x9D, 0xA7),
    RGBColor(0xBA, 0xB0, 0xAC),
    RGBColor(0xED, 0xC9, 0x48),
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Scale {
    /// From zero to a rounded maximum at least `min_top`.
    Linear { min_top: f64 },
    /// A fixed range, e.g. percentages.
    Fixed { top: f64 },
    /// Base-10 logarithmic, chosen when the values span a wide range.
    Log,
}

struct Line {
    label: String,
    color: RGBColor,
    /// Stroke width in pixels; lines are drawn last to first, so the first is on top.
    width: u32,
    /// (hours since the start, value); `None` breaks the line.
    points: Vec<(f64, Option<f64>)>,
}

struct Panel {
    caption: &'static str,
    y_desc: &'static str,
    scale: Scale,
    lines: Vec<Line>,
}

impl Panel {
    fn finite_values(&self) -> impl Iterator<Item = f64> + '_ {
        self.lines
            .iter()
            .flat_map(|line| line.points.iter())
            .filter_map(|&(_, y)| y.filter(|y| y.is_finite()))
    }
}

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
        points: rows.iter().map(|row| (midpoint_hours(row), value(row))).collect(),
    }
}

fn panels(series: &Series) -> Vec<Panel> {
    let rows = &series.rows;
    let load = Panel {
        caption: "Load: offered vs attempts (retries included)",
        y_desc: "requests per second",
        scale: Scale::Linear { min_top: 1.0 },
        lines: vec![
            line("offered", PALETTE[0], rows, |row| per_second(row.total.offered, row)),
            line("attempts", PALETTE[1], rows, |row| per_second(row.total.attempts, row)),
            line("succeeded", PALETTE[2], rows, |row| per_second(row.total.succeeded, row)),
        ],
    };

    let mut all = line("all requests", RGBColor(0x33, 0x33, 0x33), rows, |row| {
        row.total.success_rate().map(|rate| rate * 100.0)
    });
    all.width = 3;
    let mut success_lines = vec![all];
    if series.class_names.len() > 1 {
        for (class_idx, name) in series.class_names.iter().enumerate() {
            success_lines.push(line(
                format!("class {name}"),
                PALETTE[class_idx % PALETTE.len()],
                rows,
                |row| {
                    row.classes
                        .get(class_idx)
                        .and_then(|figures| figures.success_rate())
                        .map(|rate| rate * 100.0)
                },
            ));
        }
    }
    let success = Panel {
        caption: "Success rate of requests finished in each interval",
        y_desc: "success rate (%)",
        scale: Scale::Fixed { top: 100.0 },
        lines: success_lines,
    };

    let mut latency = Panel {
        caption: "End-to-end latency of successful requests",
        y_desc: "latency (ms)",
        scale: Scale::Linear { min_top: 1.0 },
        lines: vec![
            line("p50", PALETTE[0], rows, |row| row.total.latency_p50_ms),
            line("p99", PALETTE[3], rows, |row| row.total.latency_p99_ms),
        ],
    };
    let (low, high) = latency
        .finite_values()
        .filter(|&v| v > 0.0)
        .fold((f64::INFINITY, 0.0_f64), |(low, high), v| (low.min(v), high.max(v)));
    if high / low > 50.0 {
        latency.scale = Scale::Log;
    }

    let per_service = |value: fn(&crate::stats::ServiceFigures) -> f64| -> Vec<Line> {
        series
            .service_names
            .iter()
            .enumerate()
            .map(|(service_idx, name)| {
                line(name.clone(), PALETTE[service_idx % PALETTE.len()], rows, |row| {
                    row.services.get(service_idx).map(value)
                })
            })
            .collect()
    };
    let cpu = Panel {
        caption: "CPU utilisation per service",
        y_desc: "CPU busy (%)",
        scale: Scale::Fixed { top: 100.0 },
        lines: per_service(|figures| figures.cpu_utilisation * 100.0),
    };
    let queue = Panel {
        caption: "Queue length per service (time-average over instances' queues)",
        y_desc: "waiting attempts",
        scale: Scale::Linear { min_top: 1.0 },
        lines: per_service(|figures| figures.queue_length_mean),
    };
    let mut panels = vec![load, success, latency, cpu, queue];
    if !series.region_names.is_empty() {
        let mut lines = Vec::new();
        for (region_idx, name) in series.region_names.iter().enumerate() {
            let colour = PALETTE[region_idx % PALETTE.len()];
            lines.push(line(format!("{name} attempts"), colour, rows, |row| {
                row.regions.get(region_idx).and_then(|region| per_second(region.requests.attempts, row))
            }));
            let mut homed = line(format!("{name} offered"), colour, rows, |row| {
                row.regions.get(region_idx).and_then(|region| per_second(region.requests.offered, row))
            });
            homed.width = 1;
            lines.push(homed);
        }
        panels.push(Panel {
            caption: "Per region: attempts routed there (thick), users' requests homed there (thin)",
            y_desc: "per second",
            scale: Scale::Linear { min_top: 1.0 },
            lines,
        });
        let lines = series
            .region_names
            .iter()
            .enumerate()
            .map(|(region_idx, name)| {
                line(name.clone(), PALETTE[region_idx % PALETTE.len()], rows, |row| {
                    row.regions
                        .get(region_idx)
                        .and_then(|region| region.requests.success_rate())
                        .map(|rate| rate * 100.0)
                })
            })
            .collect();
        panels.push(Panel {
            caption: "Success rate per home region",
            y_desc: "success rate (%)",
            scale: Scale::Fixed { top: 100.0 },
            lines,
        });
    }
    let pool_changes = rows.iter().any(|row| {
        row.services.iter().zip(&rows[0].services).any(|(s, first)| {
            s.instances_ready != first.instances_ready || s.instances_desired != s.instances_ready
        })
    });
    if pool_changes {
        let mut lines = per_service(|figures| figures.instances_ready as f64);
        for (service_idx, name) in series.service_names.iter().enumerate() {
            let mut desired =
                line(format!("{name} desired"), PALETTE[service_idx % PALETTE.len()], rows, |row| {
                    row.services.get(service_idx).map(|figures| figures.instances_desired as f64)
                });
            desired.width = 1;
            lines.push(desired);
        }
        panels.push(Panel {
            caption: "Instances per service: ready (thick) and desired (thin)",
            y_desc: "instances",
            scale: Scale::Linear { min_top: 1.0 },
            lines,
        });
    }
    panels
}

/// Timeline entries, operator actions and alerts: (hours since the start, colour, label).
fn event_lines(series: &Series) -> Vec<(f64, RGBColor, String)> {
    series
        .markers
        .iter()
        .map(|marker| {
            let color = match marker.kind {
                MarkerKind::Timeline => RGBColor(0x55, 0x55, 0x55),
                MarkerKind::Alert => RGBColor(0xD6, 0x27, 0x28),
                MarkerKind::Operator => RGBColor(0x2C, 0xA0, 0x2C),
            };
            (marker.at.as_secs_f64() / 3600.0, color, marker.label.clone())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Axes: tick positions and labels chosen here rather than by plotters, so time ticks fall
// on round clock times and log axes get 1-2-5 labels.

/// The time axis: range in hours and tick positions in hours.
struct TimeAxis {
    range: std::ops::Range<f64>,
    ticks: Vec<f64>,
    /// Seconds between ticks: below a minute, clock labels show seconds.
    step_s: u64,
    start_clock: Option<SimDuration>,
}

impl TimeAxis {
    fn new(series: &Series) -> TimeAxis {
        let (start_s, mut end_s) = match (series.rows.first(), series.rows.last()) {
            (Some(first), Some(last)) => (first.start.as_secs_f64(), last.end.as_secs_f64()),
            _ => (0.0, series.interval.as_secs_f64()),
        };
        if end_s <= start_s {
            end_s = start_s + 60.0;
        }
        let clock_s = series.start_clock.map_or(0, |clock| clock.0 / NANOS_PER_SEC);
        let step = time_step(end_s - start_s);
        // Ticks fall on multiples of the step in clock time (or time since the start).
        let first = ((clock_s as f64 + start_s) / step as f64).ceil() * step as f64 - clock_s as f64;
        let ticks = (0..)
            .map(|k| first + (k * step) as f64)
            .take_while(|&t| t <= end_s + 1e-9)
            .map(|t| t / 3600.0)
            .collect();
        TimeAxis {
            range: start_s / 3600.0..end_s / 3600.0,
            ticks,
            step_s: step,
            start_clock: series.start_clock,
        }
    }

    fn label(&self, hours: f64) -> String {
        let secs = (hours * 3600.0).round().max(0.0) as u64;
        match self.start_clock {
            Some(clock) => {
                let of_day = (clock.0 / NANOS_PER_SEC + secs) % 86_400;
                let (h, m, s) = (of_day / 3600, (of_day / 60) % 60, of_day % 60);
                if self.step_s.is_multiple_of(60) {
                    format!("{h:02}:{m:02}")
                } else {
                    format!("{h:02}:{m:02}:{s:02}")
                }
            }
            None => SimDuration::from_secs(secs).to_string(),
        }
    }

    fn description(&self) -> &'static str {
        if self.start_clock.is_some() { "time of day" } else { "time since start" }
    }
}

/// A round tick step in seconds giving at most about 12 ticks over `span_s`.
fn time_step(span_s: f64) -> u64 {
    const STEPS: [u64; 17] =
        [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200];
    STEPS
        .into_iter()
        .find(|&step| span_s / step as f64 <= 12.0)
        .unwrap_or_else(|| 86_400 * ((span_s / 86_400.0 / 12.0).ceil() as u64).max(1))
}

/// The value axis of one panel: the plotted range (in log10 units for log scales), tick
/// positions in the same units, and whether to label them as powers of ten.
struct ValueAxis {
    range: std::ops::Range<f64>,
    ticks: Vec<f64>,
    log: bool,
}

impl ValueAxis {
    fn new(panel: &Panel) -> ValueAxis {
        let max = panel.finite_values().fold(f64::NEG_INFINITY, f64::max);
        match panel.scale {
            Scale::Fixed { top } => {
                let top = if max > top { nice_ceiling(max) } else { top };
                let step = nice_step(top / 5.0);
                ValueAxis { range: 0.0..top * 1.04, ticks: ticks_from_zero(step, top), log: false }
            }
            Scale::Linear { min_top } => {
                let top = nice_ceiling((max * 1.08).max(min_top));
                let step = nice_step(top / 5.0);
                ValueAxis { range: 0.0..top, ticks: ticks_from_zero(step, top), log: false }
            }
            Scale::Log => {
                let min = panel.finite_values().filter(|&v| v > 0.0).fold(f64::INFINITY, f64::min);
                // Bounds snap to 1-2-5 steps, so the axis hugs the data.
                let steps = |decade: f64| [1.0, 2.0, 5.0].map(|m| decade + f64::log10(m));
                let low_decade = min.log10().floor();
                let low = steps(low_decade)
                    .into_iter()
                    .rfind(|&tick| tick <= min.log10() + 1e-9)
                    .unwrap_or(low_decade);
                let high_decade = max.log10().floor();
                let high = steps(high_decade)
                    .into_iter()
                    .chain([high_decade + 1.0])
                    .find(|&tick| tick >= max.log10() - 1e-9)
                    .unwrap_or(high_decade + 1.0)
                    .max(low + 1.0);
                let multiples: &[f64] = if high - low <= 3.0 { &[1.0, 2.0, 5.0] } else { &[1.0] };
                let ticks = (low_decade as i32..=high.ceil() as i32)
                    .flat_map(|decade| multiples.iter().map(move |m| f64::from(decade) + m.log10()))
                    .filter(|&tick| tick >= low - 1e-9 && tick <= high + 1e-9)
                    .collect();
                ValueAxis { range: low..high, ticks, log: true }
            }
        }
    }

    /// Maps a data value to the plotted coordinate; `None` if it cannot be plotted.
    fn map(&self, value: f64) -> Option<f64> {
        if !value.is_finite() {
            None
        } else if self.log {
            (value > 0.0).then(|| value.log10())
        } else {
            Some(value)
        }
    }

    fn label(&self, coordinate: f64) -> String {
        let value = if self.log { 10f64.powf(coordinate) } else { coordinate };
        compact_number(value)
    }
}

/// A linear axis whose ticks (and grid lines) are exactly the given positions.
///
/// plotters' own `with_key_points` cannot take a label formatter on `f64` axes, hence this.
#[derive(Clone)]
pub(crate) struct Ticked {
    pub(crate) range: std::ops::Range<f64>,
    pub(crate) ticks: Vec<f64>,
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let span = self.range.end - self.range.start;
        if !span.is_finite() || span <= 0.0 {
            return (limit.0 + limit.1) / 2;
        }
        let fraction = (value - self.range.start) / span;
        // `as` saturates, so a wild value lands off-canvas instead of wrapping.
        limit.0 + (f64::from(limit.1 - limit.0) * fraction).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() { Vec::new() } else { self.ticks.clone() }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.range.clone()
    }
}

fn ticks_from_zero(step: f64, top: f64) -> Vec<f64> {
    (0..).map(|k| k as f64 * step).take_while(|&tick| tick <= top * (1.0 + 1e-9)).collect()
}

/// The smallest of 1, 2, 2.5, 5 x 10^k that is at least `raw`.
pub(crate) fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|&step| step >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * magnitude)
}

/// A round number (a multiple of a nice step) at least `value`.
fn nice_ceiling(value: f64) -> f64 {
    if !value.is_finite() || value <= 0.0 {
        return 1.0;
    }
    let step = nice_step(value / 5.0);
    (value / step - 1e-9).ceil() * step
}

/// `0.5`, `12`, `1.5k`, `25k`, `3.5M`: short tick labels.
pub(crate) fn compact_number(value: f64) -> String {
    let magnitude = value.abs();
    let trimmed = |text: String| -> String {
        if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text }
    };
    if magnitude >= 1e6 {
        format!("{}M", trimmed(format!("{:.2}", value / 1e6)))
    } else if magnitude >= 1e3 {
        format!("{}k", trimmed(format!("{:.2}", value / 1e3)))
    } else if magnitude >= 1.0 || magnitude == 0.0 {
        trimmed(format!("{value:.1}"))
    } else {
        trimmed(format!("{value:.3}"))
    }
}

// ---------------------------------------------------------------------------------------
// Drawing.

/// Fills `root`: the title, then the panels stacked, the bottom one carrying the time
/// labels.
fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    series: &Series,
    panels: &[Panel],
    title: &str,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(to_chart_error)?;
    let body = root
        .margin(14, 6, 6, 6)
        .titled(title, (FONT, 26).into_font().color(&BLACK))
        .map_err(to_chart_error)?;
    let (_, body_height) = body.dim_in_pixel();
    let n_panels = panels.len();
    let panel_height = body_height.saturating_sub(TIME_AXIS_HEIGHT) / n_panels.max(1) as u32;
    let breakpoints: Vec<i32> = (1..n_panels as u32).map(|k| (k * panel_height) as i32).collect();
    let areas = body.split_by_breakpoints::<i32, i32, _, _>([], breakpoints);

    let time = TimeAxis::new(series);
    let events = event_lines(series);
    for (panel_idx, (panel, area)) in panels.iter().zip(&areas).enumerate() {
        let bottom = panel_idx + 1 == panels.len();
        draw_panel(area, panel, &time, bottom, &events, panel_idx == 0)?;
    }
    if series.rows.is_empty() {
        let style = (FONT, 22)
            .into_font()
            .color(&RGBColor(0x70, 0x70, 0x70))
            .pos(Pos::new(HPos::Center, VPos::Center));
        let (width, height) = root.dim_in_pixel();
        root.draw(&Text::new("no intervals were recorded", (width as i32 / 2, height as i32 / 2), style))
            .map_err(to_chart_error)?;
    }
    Ok(())
}

/// One panel: axes with our own ticks, the lines (broken where values are missing, with
/// markers when there are few points), a note when nothing could be plotted, and the legend
/// in its column on the right.
fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    panel: &Panel,
    time: &TimeAxis,
    bottom: bool,
    events: &[(f64, RGBColor, String)],
    labelled: bool,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let (width, _) = area.dim_in_pixel();
    let (plot_area, legend_area) = area.split_horizontally(width.saturating_sub(LEGEND_WIDTH));
    let values = ValueAxis::new(panel);

    let mut chart = ChartBuilder::on(&plot_area)
        .caption(panel.caption, (FONT, 17).into_font().color(&BLACK))
        .margin_top(6)
        .margin_left(10)
        .margin_right(14)
        .margin_bottom(if bottom { 4 } else { 10 })
        .x_label_area_size(if bottom { TIME_AXIS_HEIGHT } else { 0 })
        .y_label_area_size(82)
        .build_cartesian_2d(
            Ticked { range: time.range.clone(), ticks: time.ticks.clone() },
            Ticked { range: values.range.clone(), ticks: values.ticks.clone() },
        )
        .map_err(to_chart_error)?;

    let grid = RGBColor(0xDD, 0xDD, 0xDD);
    let x_label = |x: &f64| time.label(*x);
    let y_label = |y: &f64| values.label(*y);
    let mut mesh = chart.configure_mesh();
    mesh.bold_line_style(grid)
        .light_line_style(TRANSPARENT)
        .axis_style(RGBColor(0x80, 0x80, 0x80))
        .label_style((FONT, 13).into_font().color(&RGBColor(0x30, 0x30, 0x30)))
        .axis_desc_style((FONT, 14).into_font().color(&RGBColor(0x30, 0x30, 0x30)))
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .y_desc(panel.y_desc);
    if bottom {
        mesh.x_desc(time.description());
    }
    mesh.draw().map_err(to_chart_error)?;

    let (low, high) = (values.range.start, values.range.end);
    for (index, (x, color, label)) in events.iter().enumerate() {
        if !time.range.contains(x) {
            continue;
        }
        let style = ShapeStyle::from(color).stroke_width(1);
        chart
            .draw_series(DashedLineSeries::new([(*x, low), (*x, high)], 6, 4, style))
            .map_err(to_chart_error)?;
        if labelled {
            // Labels step down the panel so neighbours do not overwrite each other.
            let y = high - (high - low) * (0.08 + 0.11 * (index % 6) as f64);
            let font = (FONT, 12).into_font().color(color);
            chart
                .draw_series(std::iter::once(Text::new(format!(" {}", truncate(label, 48)), (*x, y), font)))
                .map_err(to_chart_error)?;
        }
    }

    let n_points = panel.lines.iter().map(|line| line.points.len()).max().unwrap_or(0);
    let markers = n_points <= 40;
    let mut any_point = false;
    for line in panel.lines.iter().rev() {
        let style = ShapeStyle::from(&line.color).stroke_width(line.width);
        for segment in segments(&line.points, &values) {
            any_point = true;
            if segment.len() > 1 {
                chart.draw_series(LineSeries::new(segment.iter().copied(), style)).map_err(to_chart_error)?;
            }
            if markers || segment.len() == 1 {
                chart
                    .draw_series(segment.iter().map(|&point| Circle::new(point, 3, style.filled())))
                    .map_err(to_chart_error)?;
            }
        }
    }
    if !any_point && n_points > 0 {
        let style = (FONT, 16)
            .into_font()
            .color(&RGBColor(0x70, 0x70, 0x70))
            .pos(Pos::new(HPos::Center, VPos::Center));
        let center =
            ((time.range.start + time.range.end) / 2.0, (values.range.start + values.range.end) / 2.0);
        chart
            .draw_series(std::iter::once(Text::new("no data in this run", center, style)))
            .map_err(to_chart_error)?;
    }
    let legend_height = if bottom {
        legend_area.dim_in_pixel().1.saturating_sub(TIME_AXIS_HEIGHT)
    } else {
        legend_area.dim_in_pixel().1
    };
    draw_legend(&legend_area, legend_height, &panel.lines)
}

/// Runs of consecutive plottable points, in plotted coordinates.
fn segments(points: &[(f64, Option<f64>)], values: &ValueAxis) -> Vec<Vec<(f64, f64)>> {
    let mut res = Vec::new();
    let mut current = Vec::new();
    for &(x, y) in points {
        match y.and_then(|y| values.map(y)).filter(|_| x.is_finite()) {
            Some(y) => current.push((x, y)),
            None if !current.is_empty() => res.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        res.push(current);
    }
    res
}

/// The legend column: a colour swatch and a name per line, truncated to fit.
/// Entries stay within the top `height` pixels of `area`.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    height: u32,
    lines: &[Line],
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    const TOP: i32 = 40;
    const ROW: i32 = 22;
    let fits = ((height as i32 - TOP - 10) / ROW).max(1) as usize;
    let style =
        (FONT, 14).into_font().color(&RGBColor(0x20, 0x20, 0x20)).pos(Pos::new(HPos::Left, VPos::Center));
    let shown = if lines.len() > fits { fits - 1 } else { lines.len() };
    for (idx, line) in lines.iter().take(shown).enumerate() {
        let y = TOP + idx as i32 * ROW;
        area.draw(&PathElement::new(vec![(4, y), (30, y)], ShapeStyle::from(&line.color).stroke_width(3)))
            .map_err(to_chart_error)?;
        area.draw(&Text::new(truncate(&line.label, 20), (38, y), style.clone())).map_err(to_chart_error)?;
    }
    if shown < lines.len() {
        let y = TOP + shown as i32 * ROW;
        area.draw(&Text::new(format!("+{} more", lines.len() - shown), (38, y), style))
            .map_err(to_chart_error)?;
    }
    Ok(())
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_owned()
    } else {
        let mut res: String = text.chars().take(max_chars - 1).collect();
        res.push('…');
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::synthetic_series;
    use crate::stats::ServiceFigures;

    fn check_renders(series: &Series) {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("chart.png");
        write_png(&png, series, "test").unwrap();
        assert!(std::fs::metadata(&png).unwrap().len() > 1000);
        let svg = svg(series, "test").unwrap();
        assert!(svg.starts_with("<svg") && svg.len() > 1000);
    }

    /// A developer aid: `STORMSIM_CHART_PREVIEW=/tmp/preview cargo test --lib preview -- --ignored`
    /// writes the chart of a synthetic five-hour incident there, to look at after a change.
    #[test]
    #[ignore = "writes files outside the test's temporary folder"]
    fn preview() {
        let dir =
            std::path::PathBuf::from(std::env::var_os("STORMSIM_CHART_PREVIEW").unwrap_or("/tmp".into()));
        let series = synthetic_series(300);
        write_png(&dir.join("chart-preview.png"), &series, "demo · seed 7").unwrap();
        std::fs::write(dir.join("chart-preview.svg"), svg(&series, "demo · seed 7").unwrap()).unwrap();
        write_png(&dir.join("chart-preview-empty.png"), &synthetic_series(0), "empty").unwrap();
        write_png(&dir.join("chart-preview-one.png"), &synthetic_series(1), "one row").unwrap();
        let mut short = synthetic_series(40);
        short.start_clock = None;
        for row in &mut short.rows {
            row.start = crate::engine::SimTime(row.start.0 / 4);
            row.end = crate::engine::SimTime(row.end.0 / 4);
            row.total.latency_p99_ms = None;
        }
        write_png(&dir.join("chart-preview-short.png"), &short, "ten minutes, no clock").unwrap();
        write_png(&dir.join("chart-preview-many.png"), &many_services(), "many services").unwrap();
        let mut no_latency = synthetic_series(60);
        for row in &mut no_latency.rows {
            (row.total.latency_p50_ms, row.total.latency_p99_ms) = (None, None);
            row.services[0].cpu_utilisation = f64::NAN;
        }
        write_png(&dir.join("chart-preview-no-latency.png"), &no_latency, "no latency").unwrap();
    }

    /// Fourteen services, one with a very long name.
    fn many_services() -> Series {
        let mut series = synthetic_series(120);
        series.service_names = (0..14).map(|idx| format!("service-{idx}")).collect();
        series.service_names[3] = "a-service-with-a-remarkably-long-name".to_owned();
        for row in &mut series.rows {
            let template = row.services[0].clone();
            row.services = (0..14)
                .map(|idx| ServiceFigures {
                    cpu_utilisation: template.cpu_utilisation * (idx + 1) as f64 / 14.0,
                    queue_length_mean: template.queue_length_mean * idx as f64,
                    ..template.clone()
                })
                .collect();
        }
        series
    }

    #[test]
    fn renders_a_comparison() {
        let series = synthetic_series(90);
        let line = |label: &str, scale: f64| ComparedLine {
            label: label.to_owned(),
            success_rate: series
                .rows
                .iter()
                .map(|row| row.total.success_rate().map(|rate| rate * scale))
                .collect(),
            attempts_per_s: series.rows.iter().map(|row| Some(row.total.attempts as f64 / 60.0)).collect(),
        };
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("compare.png");
        let svg =
            write_comparison(&png, &series, &[line("baseline", 1.0), line("budget", 0.9)], "demo").unwrap();
        assert!(std::fs::metadata(&png).unwrap().len() > 1000);
        assert!(svg.contains("baseline") && svg.contains("budget"));
    }

    #[test]
    fn renders_many_services_with_long_names() {
        check_renders(&many_services());
    }

    #[test]
    fn renders_an_empty_series() {
        check_renders(&synthetic_series(0));
    }

    #[test]
    fn renders_a_single_row() {
        check_renders(&synthetic_series(1));
    }

    #[test]
    fn renders_missing_latencies_and_non_finite_values() {
        let mut series = synthetic_series(30);
        for row in &mut series.rows {
            row.total.latency_p50_ms = None;
            row.total.latency_p99_ms = None;
            row.services[0].cpu_utilisation = f64::NAN;
            row.services[1].queue_length_mean = f64::INFINITY;
        }
        check_renders(&series);
    }

    #[test]
    fn time_ticks_fall_on_round_clock_times() {
        let series = synthetic_series(300);
        let axis = TimeAxis::new(&series);
        let labels: Vec<String> = axis.ticks.iter().map(|&t| axis.label(t)).collect();
        assert_eq!(labels.first().map(String::as_str), Some("06:00"));
        assert!(labels.iter().all(|label| label.ends_with(":00") || label.ends_with(":30")), "{labels:?}");
    }

    #[test]
    fn tick_helpers() {
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(2.2), 2.5);
        assert_eq!(nice_ceiling(93.0), 100.0);
        assert_eq!(compact_number(1500.0), "1.5k");
        assert_eq!(compact_number(2_500_000.0), "2.5M");
        assert_eq!(compact_number(25_000.0), "25k");
        assert_eq!(compact_number(0.25), "0.25");
        assert_eq!(time_step(5.0 * 3600.0), 1800);
        assert_eq!(time_step(90.0), 10);
    }
}
