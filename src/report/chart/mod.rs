//! `chart.png` and `chart.svg`, and the comparison chart: stacked panels over a shared time
//! axis, drawn with plotters. `panels.rs` decides what to draw (the panels, their lines and
//! styles, the events), `layout.rs` where the chart's own text goes (title, numbered event
//! badges, legends, the event table); this module draws both.
//!
//! Invariants: no system fonts are read. DejaVu Sans is embedded and registered once as
//! plotters' "sans-serif" family. Any series renders without panicking: no rows, one row,
//! missing latencies and non-finite values all give a readable (if empty) chart, because
//! missing and non-finite points break a line instead of reaching plotters. Event labels
//! never sit on the data: each event is a numbered badge above the panels and a row of the
//! table below them, laid out so that no two overlap.

mod band;
mod layout;
pub mod metastability;
mod panels;
mod png;
pub mod sweep;

use crate::engine::{NANOS_PER_SEC, SimDuration};
use crate::stats::{Marker, Series, SloMarks};
use layout::{EventMark, LEGEND_WIDTH, Layout, PLOT_LEFT, PLOT_RIGHT, Rect, TIME_AXIS_HEIGHT, Y_LABEL_WIDTH};
use panels::{Panel, Scale};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;
use std::sync::OnceLock;

/// Width of every chart, in pixels.
pub const WIDTH: u32 = 1200;
/// A typical run chart's height. A chart's real height follows its panels, badge rows and
/// events; the PNG has it and the SVG states it.
pub const HEIGHT: u32 = 1500;
/// Height of one panel.
const PANEL_HEIGHT: i32 = 190;
pub(crate) const FONT: &str = "sans-serif";
const FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Why a chart could not be drawn or written.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ChartError(pub(crate) String);

/// Draws the chart of `series` as a PNG at `path`.
pub fn write_png(path: &Path, series: &Series, title: &str) -> Result<(), ChartError> {
    Chart::run(series, title).png(path)
}

/// Draws the chart of `series` as an SVG document.
pub fn svg(series: &Series, title: &str) -> Result<String, ChartError> {
    Chart::run(series, title).svg()
}

/// One line per configuration (a baseline and its variants) on a comparison chart: per
/// interval of the time axis, the mean over seeds of each figure, `None` where no seed has
/// a value; and the events of its first seed.
pub struct ComparedLine {
    pub label: String,
    /// By arrival (the requests sent in the interval), a fraction.
    pub success_rate: Vec<Option<f64>>,
    pub attempts_per_s: Vec<Option<f64>>,
    pub failed_per_s: Vec<Option<f64>>,
    pub latency_p99_ms: Vec<Option<f64>>,
    /// The first service's, a fraction.
    pub cpu_utilisation: Vec<Option<f64>>,
    /// The first service's, summed over its instances.
    pub queue_length: Vec<Option<f64>>,
    /// The first service's.
    pub instances_ready: Vec<Option<f64>>,
    /// The first service's, in seconds.
    pub metrics_staleness_s: Vec<Option<f64>>,
    /// Timeline entries, alerts and operator actions of the first seed.
    pub markers: Vec<Marker>,
    /// The SLO and its moments in the first seed.
    pub slo: Option<SloMarks>,
    /// The configuration breaks the first service's metrics.
    pub metrics_fault: bool,
}

/// The comparison chart as a PNG at `path` and as an SVG document: the run chart's panels,
/// one line per configuration, and every configuration's events. `axis` gives the
/// intervals.
pub fn write_comparison(
    path: &Path,
    axis: &Series,
    lines: &[ComparedLine],
    title: &str,
) -> Result<String, ChartError> {
    let chart = Chart::comparison(axis, lines, title);
    chart.png(path)?;
    chart.svg()
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

/// Okabe and Ito's colour-blind-safe palette without black (blue, orange, bluish green,
/// vermillion, reddish purple, sky blue, a darkened yellow, grey): lines within a panel.
pub(crate) const PALETTE: [RGBColor; 8] = [
    RGBColor(0x00, 0x72, 0xB2),
    RGBColor(0xE6, 0x9F, 0x00),
    RGBColor(0x00, 0x9E, 0x73),
    RGBColor(0xD5, 0x5E, 0x00),
    RGBColor(0xCC, 0x79, 0xA7),
    RGBColor(0x56, 0xB4, 0xE9),
    RGBColor(0xB8, 0xA0, 0x00),
    RGBColor(0x77, 0x77, 0x77),
];

/// A chart ready to lay out and draw.
struct Chart<'a> {
    title: &'a str,
    time: TimeAxis,
    panels: Vec<Panel>,
    events: Vec<EventMark>,
    days: Vec<(f64, String)>,
    /// The end of the warm-up in hours, when the scenario has one: the stretch before it is
    /// shaded on every panel (the event table names it).
    warmup: Option<f64>,
    empty: bool,
}

impl<'a> Chart<'a> {
    fn run(series: &Series, title: &'a str) -> Chart<'a> {
        let time = TimeAxis::new(series);
        let mut events = panels::run_events(series, &time);
        with_warmup_end(&mut events, series, &time);
        let days = time.days();
        let panels = panels::run_panels(series);
        Chart {
            title,
            panels,
            events,
            days,
            warmup: warmup_hours(series),
            time,
            empty: series.rows.is_empty(),
        }
    }

    fn comparison(axis: &Series, lines: &[ComparedLine], title: &'a str) -> Chart<'a> {
        let time = TimeAxis::new(axis);
        let mut events = panels::comparison_events(lines, &time);
        with_warmup_end(&mut events, axis, &time);
        let days = time.days();
        let panels = panels::comparison_panels(axis, lines);
        Chart { title, panels, events, days, warmup: warmup_hours(axis), time, empty: axis.rows.is_empty() }
    }

    fn layout(&self) -> Result<Layout, ChartError> {
        let names = self
            .panels
            .iter()
            .map(|panel| panel.lines.iter().map(|line| line.label.as_str()).collect())
            .collect();
        Layout::new(WIDTH, self.title, &self.time, &self.events, &self.days, &names, PANEL_HEIGHT)
    }

    fn png(&self, path: &Path) -> Result<(), ChartError> {
        register_font()?;
        let layout = self.layout()?;
        band::write_png(path, (WIDTH, layout.height as u32), |root| self.draw(root, &layout))
    }

    fn svg(&self) -> Result<String, ChartError> {
        register_font()?;
        let layout = self.layout()?;
        let mut res = String::new();
        {
            let root = SVGBackend::with_string(&mut res, (WIDTH, layout.height as u32)).into_drawing_area();
            self.draw(&root, &layout)?;
            root.present().map_err(to_chart_error)?;
        }
        if !res.ends_with('\n') {
            res.push('\n');
        }
        Ok(res)
    }
}

/// A chart of a fixed size that draws the same on any backend, so its PNG and its SVG are
/// one drawing (`png_and_svg`).
pub(crate) trait Drawing {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError>
    where
        DB::ErrorType: 'static;
}

/// Draws `chart` as a PNG of `size` at `png` and returns it as an SVG document.
pub(crate) fn png_and_svg(png: &Path, size: (u32, u32), chart: &impl Drawing) -> Result<String, ChartError> {
    register_font()?;
    band::write_png(png, size, |root| chart.draw(root))?;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        chart.draw(&root)?;
        root.present().map_err(to_chart_error)?;
    }
    if !svg.ends_with('\n') {
        svg.push('\n');
    }
    Ok(svg)
}

/// The end of the series' warm-up in hours since the start; `None` without one.
fn warmup_hours(series: &Series) -> Option<f64> {
    (series.warmup > SimDuration::ZERO).then(|| series.warmup.as_secs_f64() / 3600.0)
}

/// Adds the end of the warm-up to `events`, in time order, when it is on the axis.
fn with_warmup_end(events: &mut Vec<EventMark>, series: &Series, time: &TimeAxis) {
    let Some(hours) = warmup_hours(series) else { return };
    if hours < time.range.start || hours > time.range.end {
        return;
    }
    let text = format!(
        "{} warm-up ends (shaded before it): the summary measures from here",
        time.label_exact(hours)
    );
    events.push(EventMark { hours, color: WARMUP_EDGE, text });
    events.sort_by(|a, b| a.hours.total_cmp(&b.hours));
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

    /// An instant for the event table: `09:15`, `09:15:30` off the minute, `00:07+1d`
    /// past midnight.
    fn label_exact(&self, hours: f64) -> String {
        let secs = (hours * 3600.0).round().max(0.0) as u64;
        match self.start_clock {
            Some(clock) => {
                let total = clock.0 / NANOS_PER_SEC + secs;
                let (day, of_day) = (total / 86_400, total % 86_400);
                let (h, m, s) = (of_day / 3600, (of_day / 60) % 60, of_day % 60);
                let time = if s == 0 { format!("{h:02}:{m:02}") } else { format!("{h:02}:{m:02}:{s:02}") };
                if day == 0 { time } else { format!("{time}+{day}d") }
            }
            None => SimDuration::from_secs(secs).to_string(),
        }
    }

    /// Midnights inside the axis, in hours since the start, each with the day it begins
    /// (`day 2` is the day after the start's); none without a clock.
    fn days(&self) -> Vec<(f64, String)> {
        let Some(clock) = self.start_clock else { return Vec::new() };
        let clock_s = (clock.0 / NANOS_PER_SEC) as f64;
        (1..)
            .map(|day: u32| (f64::from(day) * 86_400.0 - clock_s, day))
            .skip_while(|&(at_s, _)| at_s <= self.range.start * 3600.0)
            .take_while(|&(at_s, _)| at_s < self.range.end * 3600.0)
            .map(|(at_s, day)| (at_s / 3600.0, format!("day {} · 00:00", day + 1)))
            .collect()
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
        let max = panel.finite_values().into_iter().fold(f64::NEG_INFINITY, f64::max);
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
                let min =
                    panel.finite_values().into_iter().filter(|&v| v > 0.0).fold(f64::INFINITY, f64::min);
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

const TEXT: RGBColor = RGBColor(0x20, 0x20, 0x20);
const DAY_LINE: RGBColor = RGBColor(0x88, 0x88, 0x88);
/// The warm-up's band (drawn translucent) and its end's event line.
const WARMUP_BAND: RGBColor = RGBColor(0x99, 0x99, 0x99);
const WARMUP_EDGE: RGBColor = RGBColor(0x66, 0x66, 0x66);

impl Chart<'_> {
    /// Fills `root` as `layout` says: the title, the badges, the panels stacked (the bottom
    /// one carrying the time labels) and the event table.
    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
        layout: &Layout,
    ) -> Result<(), ChartError>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(to_chart_error)?;
        let title = &layout.title;
        draw_label(root, title, &BLACK)?;
        for badge in &layout.badges {
            draw_badge(root, &badge.rect, &badge.label, badge.color, badge.day)?;
        }
        for (panel_idx, (panel, rect)) in self.panels.iter().zip(&layout.panels).enumerate() {
            let bottom = panel_idx + 1 == self.panels.len();
            let area = root
                .clone()
                .shrink((rect.x0, rect.y0), ((rect.x1 - rect.x0) as u32, (rect.y1 - rect.y0) as u32));
            self.draw_panel(&area, panel, bottom, layout)?;
            draw_legend(root, panel, &layout.legends[panel_idx])?;
        }
        if let Some(label) = &layout.table_title {
            draw_label(root, label, &TEXT)?;
        }
        for entry in &layout.table {
            draw_badge(root, &entry.badge, &entry.number, entry.color, false)?;
            draw_label(root, &entry.text, &TEXT)?;
        }
        if let Some(label) = &layout.table_note {
            draw_label(root, label, &RGBColor(0x70, 0x70, 0x70))?;
        }
        if self.empty {
            let style = (FONT, 22)
                .into_font()
                .color(&RGBColor(0x70, 0x70, 0x70))
                .pos(Pos::new(HPos::Center, VPos::Center));
            root.draw(&Text::new("no intervals were recorded", (layout.width / 2, layout.height / 2), style))
                .map_err(to_chart_error)?;
        }
        Ok(())
    }

    /// One panel: axes with our own ticks, the day and event lines, the data (lines broken
    /// where values are missing, with markers when there are few points, or stacked areas),
    /// and a note when nothing could be plotted.
    fn draw_panel<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        panel: &Panel,
        bottom: bool,
        layout: &Layout,
    ) -> Result<(), ChartError>
    where
        DB::ErrorType: 'static,
    {
        let time = &self.time;
        let (width, _) = area.dim_in_pixel();
        let (plot_area, _) = area.split_horizontally(width.saturating_sub(LEGEND_WIDTH as u32));
        let values = ValueAxis::new(panel);
        let caption_room = plot_area.dim_in_pixel().0 as i32 - PLOT_LEFT - PLOT_RIGHT;
        let caption = layout::fit(16, &panel.caption, caption_room)?;

        let mut chart = ChartBuilder::on(&plot_area)
            .caption(caption, (FONT, 16).into_font().color(&BLACK))
            .margin_top(6)
            .margin_left(PLOT_LEFT - Y_LABEL_WIDTH)
            .margin_right(PLOT_RIGHT)
            .margin_bottom(if bottom { 4 } else { 10 })
            .x_label_area_size(if bottom { TIME_AXIS_HEIGHT } else { 0 })
            .y_label_area_size(Y_LABEL_WIDTH)
            .build_cartesian_2d(
                Ticked { range: time.range.clone(), ticks: time.ticks.clone() },
                Ticked { range: values.range.clone(), ticks: values.ticks.clone() },
            )
            .map_err(to_chart_error)?;
        debug_assert_eq!(
            chart.plotting_area().get_pixel_range().0,
            layout.plot_x,
            "layout and plotters agree"
        );

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
        if let Some(end) = self.warmup.filter(|&end| end > time.range.start) {
            let band = [(time.range.start, low), (end.min(time.range.end), high)];
            chart
                .draw_series(std::iter::once(Rectangle::new(band, WARMUP_BAND.mix(0.18).filled())))
                .map_err(to_chart_error)?;
        }
        for (x, _) in &self.days {
            chart
                .draw_series(LineSeries::new([(*x, low), (*x, high)], DAY_LINE.stroke_width(2)))
                .map_err(to_chart_error)?;
        }
        for event in &self.events {
            let style = ShapeStyle::from(&event.color).stroke_width(1);
            chart
                .draw_series(DashedLineSeries::new([(event.hours, low), (event.hours, high)], 6, 4, style))
                .map_err(to_chart_error)?;
        }

        let n_points = panel.lines.iter().map(|line| line.points.len()).max().unwrap_or(0);
        let mut any_point = false;
        if panel.stacked {
            any_point = draw_stacked(&mut chart, panel, &values)?;
        } else {
            let markers = n_points <= 40;
            // Widest first, so narrower lines that coincide show on top; references last.
            let mut order: Vec<usize> = (0..panel.lines.len()).rev().collect();
            order.sort_by_key(|&idx| (panel.lines[idx].reference, std::cmp::Reverse(panel.lines[idx].width)));
            for idx in order {
                let line = &panel.lines[idx];
                let style = ShapeStyle::from(&line.color).stroke_width(line.width);
                for segment in segments(&line.points, &values) {
                    any_point = true;
                    if segment.len() > 1 {
                        match line.dash {
                            Some((dash, gap)) => chart
                                .draw_series(DashedLineSeries::new(segment.iter().copied(), dash, gap, style))
                                .map(|_| ()),
                            None => {
                                chart.draw_series(LineSeries::new(segment.iter().copied(), style)).map(|_| ())
                            }
                        }
                        .map_err(to_chart_error)?;
                    }
                    if (markers || segment.len() == 1) && !line.reference {
                        chart
                            .draw_series(segment.iter().map(|&point| Circle::new(point, 3, style.filled())))
                            .map_err(to_chart_error)?;
                    }
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
        Ok(())
    }
}

/// A stacked panel: each layer a filled area on the ones before it, with its top edge
/// drawn. Missing values count as zero. Whether anything was drawn.
fn draw_stacked<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<Ticked, Ticked>>,
    panel: &Panel,
    values: &ValueAxis,
) -> Result<bool, ChartError>
where
    DB::ErrorType: 'static,
{
    let n = panel.lines.iter().map(|line| line.points.len()).max().unwrap_or(0);
    let mut below = vec![0.0; n];
    let mut any = false;
    for line in &panel.lines {
        let above: Vec<f64> = below
            .iter()
            .zip(&line.points)
            .map(|(base, point)| base + point.1.filter(|value| value.is_finite()).unwrap_or(0.0))
            .collect();
        let xs: Vec<f64> = line.points.iter().map(|point| point.0).collect();
        let clamp = |value: f64| values.map(value).unwrap_or(0.0).min(values.range.end);
        let mut outline: Vec<(f64, f64)> = xs.iter().zip(&above).map(|(&x, &y)| (x, clamp(y))).collect();
        let top = outline.clone();
        outline.extend(xs.iter().zip(&below).rev().map(|(&x, &y)| (x, clamp(y))));
        if above.iter().zip(&below).any(|(a, b)| a > b) {
            any = true;
            chart
                .draw_series(std::iter::once(Polygon::new(outline, line.color.mix(0.75).filled())))
                .map_err(to_chart_error)?;
            chart
                .draw_series(LineSeries::new(top, ShapeStyle::from(&line.color).stroke_width(1)))
                .map_err(to_chart_error)?;
        }
        below = above;
    }
    Ok(any)
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

/// The legend column of a panel, as laid out: a swatch in the line's style and its name.
fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    panel: &Panel,
    entries: &[layout::LegendEntry],
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    for entry in entries {
        if let Some(line) = entry.line.and_then(|idx| panel.lines.get(idx)) {
            let (from, to) = entry.swatch;
            let style = ShapeStyle::from(&line.color).stroke_width(line.width.clamp(2, 6));
            if panel.stacked {
                root.draw(&Rectangle::new(
                    [(from.0, from.1 - 6), (to.0, to.1 + 6)],
                    line.color.mix(0.75).filled(),
                ))
            } else if let Some((dash, gap)) = line.dash {
                root.draw(&plotters::element::DashedPathElement::new(
                    vec![from, to],
                    dash.min(8),
                    gap.min(5),
                    style,
                ))
            } else {
                root.draw(&PathElement::new(vec![from, to], style))
            }
            .map_err(to_chart_error)?;
        }
        draw_label(root, &entry.label, &TEXT)?;
    }
    Ok(())
}

fn draw_label<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    label: &layout::Label,
    color: &RGBColor,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let style = (FONT, label.size).into_font().color(color).pos(Pos::new(HPos::Left, VPos::Center));
    root.draw(&Text::new(label.text.as_str(), label.at, style)).map_err(to_chart_error)
}

/// A badge: white text on the event's colour, or grey text in a grey frame for a day.
fn draw_badge<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    rect: &Rect,
    label: &layout::Label,
    color: RGBColor,
    day: bool,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let corners = [(rect.x0, rect.y0), (rect.x1, rect.y1)];
    if day {
        root.draw(&Rectangle::new(corners, WHITE.filled())).map_err(to_chart_error)?;
        root.draw(&Rectangle::new(corners, ShapeStyle::from(&color).stroke_width(1)))
            .map_err(to_chart_error)?;
        draw_label(root, label, &color)
    } else {
        root.draw(&Rectangle::new(corners, color.filled())).map_err(to_chart_error)?;
        draw_label(root, label, &WHITE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::synthetic_series;
    use crate::stats::{MarkerKind, ServiceFigures};

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

    fn compared(labels: &[&str], n_rows: usize) -> (Series, Vec<ComparedLine>) {
        let runs: Vec<Vec<crate::simulation::RunOutput>> = labels
            .iter()
            .enumerate()
            .map(|(idx, _)| {
                let mut series = incident_series(n_rows);
                for row in &mut series.rows {
                    row.total.attempts += idx as u64;
                }
                vec![crate::simulation::RunOutput {
                    summary: crate::report::tests::synthetic_summary(),
                    series,
                    stopped: None,
                }]
            })
            .collect();
        (runs[0][0].series.clone(), crate::compare::series::lines(labels, &runs))
    }

    /// `chart` drawn whole on plotters' own bitmap and saved by it, and drawn in bands: the
    /// two files are the same bytes.
    fn check_bands_draw_the_whole(chart: &Chart) {
        register_font().unwrap();
        let layout = chart.layout().unwrap();
        let size = (WIDTH, layout.height as u32);
        let dir = tempfile::tempdir().unwrap();
        let whole = dir.path().join("whole.png");
        {
            let root = BitMapBackend::new(&whole, size).into_drawing_area();
            chart.draw(&root, &layout).unwrap();
            root.present().unwrap();
        }
        let banded = dir.path().join("banded.png");
        band::write_png(&banded, size, |root| chart.draw(root, &layout)).unwrap();
        assert!(std::fs::read(&banded).unwrap() == std::fs::read(&whole).unwrap(), "{}", chart.title);
    }

    #[test]
    fn a_chart_drawn_in_bands_is_the_chart_drawn_whole() {
        for (series, title) in [
            (incident_series(300), "incident"),
            (many_services(), "many services"),
            (synthetic_series(0), "empty"),
            (synthetic_series(1), "one row"),
        ] {
            check_bands_draw_the_whole(&Chart::run(&series, title));
        }
        let (axis, lines) = compared(&["baseline", "budget"], 90);
        check_bands_draw_the_whole(&Chart::comparison(&axis, &lines, "comparison"));
    }

    #[test]
    fn renders_a_comparison() {
        let (axis, lines) = compared(&["baseline", "budget"], 90);
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("compare.png");
        let svg = write_comparison(&png, &axis, &lines, "demo").unwrap();
        assert!(std::fs::metadata(&png).unwrap().len() > 1000);
        for expected in [
            "\nbaseline\n",
            "\nbudget\n",
            "p99 end-to-end latency",
            "CPU utilisation of api",
            "Metrics staleness",
        ] {
            assert!(svg.contains(expected), "{expected}");
        }
        // Each configuration's events are in the table, named after it.
        assert!(svg.contains("baseline: alert") && svg.contains("budget: alert"), "every variant's events");
    }

    /// A synthetic incident with everything a chart can show: an SLO with its moments, a
    /// metrics fault on the first service, a pool that grows, events bunched together, one
    /// at each end of the run, and a run that crosses midnight.
    fn incident_series(n_rows: usize) -> Series {
        let mut series = synthetic_series(n_rows);
        series.start_clock = Some(SimDuration::from_secs(22 * 3600));
        let minute = |m: u64| crate::engine::SimTime(m * 60 * NANOS_PER_SEC);
        let end = n_rows as u64;
        series.slo = Some(SloMarks {
            target: 0.999,
            first_breach: Some(minute(end / 3)),
            detected: Some(minute(end / 3 + 2)),
            recovered: Some(minute(2 * end / 3 + 1)),
        });
        series.metrics_fault = vec![true, false];
        for (idx, row) in series.rows.iter_mut().enumerate() {
            row.services[0].instances_ready = if idx > n_rows / 2 { 6 } else { 4 };
            row.services[0].instances_desired = if idx + 5 > n_rows / 2 { 6 } else { 4 };
        }
        let mut marker = |at: u64, kind: MarkerKind, label: &str| {
            series.markers.push(Marker { at: minute(at), kind, label: label.to_owned() });
        };
        marker(
            0,
            MarkerKind::Timeline,
            "api: metrics stop (a certificate renewal fails between observability components)",
        );
        for k in 0..4 {
            marker(end / 3 + k, MarkerKind::Alert, "alert \"errors\" fired");
        }
        marker(end / 3 + 3, MarkerKind::Operator, "operator: api: scale to 6 (after alert \"errors\")");
        marker(
            end.saturating_sub(1),
            MarkerKind::Timeline,
            "api: metrics restored (certificate fixed at the very end)",
        );
        series
    }

    #[test]
    fn every_panel_shows_when_the_run_has_its_feature() {
        let svg = svg(&incident_series(300), "incident").unwrap();
        for expected in [
            "Load: offered",
            "\ncapacity api\n",
            "\ncapacity db\n",
            "\nSLO 99.9%\n",
            "Failed requests per second by reason",
            "\ntimeout\n",
            "\nrejected\n",
            "End-to-end latency",
            "CPU utilisation per service",
            "summed over its instances",
            "Instances per service",
            "\napi ready\n",
            "\napi desired\n",
            "Metrics staleness",
            "\nday 2 · 00:00\n",
            "SLO first breached (&lt; 99.9%)",
            "breach detected by an alert",
            "SLO recovered",
            "operator: api: scale to 6",
        ] {
            assert!(svg.contains(expected), "{expected} is missing");
        }
        // Without the feature, no panel: no failures, no fault, a steady pool, one day.
        let mut plain = synthetic_series(60);
        for row in &mut plain.rows {
            row.total.failed = [0; crate::outcome::FailureReason::COUNT];
        }
        let svg = super::svg(&plain, "plain").unwrap();
        for absent in ["by reason", "Metrics staleness", "Instances per service", "day 2", "SLO", "Events ("]
        {
            assert!(!svg.contains(absent), "{absent} should not be drawn");
        }
    }

    /// Every box of text the layout placed: none overlaps another, none leaves the canvas.
    fn check_legible(layout: &Layout) {
        let boxes = layout.boxes();
        for (idx, (text, rect)) in boxes.iter().enumerate() {
            assert!(rect.within(layout.width, layout.height), "{text:?} at {rect:?} leaves the canvas");
            for (other, other_rect) in &boxes[idx + 1..] {
                assert!(
                    !rect.overlaps(other_rect),
                    "{text:?} at {rect:?} overlaps {other:?} at {other_rect:?}"
                );
            }
        }
        // Badges sit between the title and the first panel.
        let first_panel = layout.panels[0].y0;
        for badge in &layout.badges {
            assert!(badge.rect.y0 > layout.title.rect.y1 && badge.rect.y1 <= first_panel, "{badge:?}");
        }
    }

    #[test]
    fn labels_never_collide_or_leave_the_canvas() {
        for n_rows in [0, 1, 30, 300] {
            let series = incident_series(n_rows);
            let chart = Chart::run(
                &series,
                "a run whose title is long enough to need a smaller font to fit the width of the chart at all",
            );
            check_legible(&chart.layout().unwrap());
        }
        let chart = Chart::run(&many_services(), "many services");
        check_legible(&chart.layout().unwrap());
        let labels =
            ["baseline", "fail-safe", "scheduled", "staleness-alert", "back-pressure", "a", "b", "c", "d"];
        let (axis, lines) = compared(&labels, 300);
        let chart = Chart::comparison(&axis, &lines, "comparison");
        let layout = chart.layout().unwrap();
        check_legible(&layout);
        assert!(layout.table.len() > 20, "{} events", layout.table.len());
    }

    #[test]
    fn a_warm_up_is_shaded_and_named_among_the_events() {
        let mut series = incident_series(300);
        series.warmup = SimDuration::from_secs(60 * 60);
        let chart = Chart::run(&series, "warm-up");
        assert_eq!(chart.warmup, Some(1.0));
        let layout = chart.layout().unwrap();
        check_legible(&layout);
        let svg = svg(&series, "warm-up").unwrap();
        assert!(svg.contains("warm-up ends (shaded before it)"), "the event table names it");
        let shaded = |svg: &str| svg.matches(r##"opacity="0.18" fill="#999999""##).count();
        assert_eq!(shaded(&svg), chart.panels.len(), "one band per panel");
        // A zoom past the warm-up shows neither the band nor its end.
        let hours = |h: u64| crate::engine::SimTime(h * 3600 * NANOS_PER_SEC);
        let zoomed = series.window(hours(2), hours(3));
        let svg = super::svg(&zoomed, "zoomed").unwrap();
        assert_eq!(shaded(&svg), 0);
        assert!(!svg.contains("warm-up ends"));
    }

    #[test]
    fn coinciding_lines_get_distinct_styles() {
        let series = incident_series(60);
        let mut same = series.clone();
        for row in &mut same.rows {
            row.total.attempts = row.total.offered;
        }
        let panels = panels::run_panels(&same);
        let load = &panels[0];
        let (offered, attempts) = (&load.lines[0], &load.lines[1]);
        assert_eq!((offered.label.as_str(), attempts.label.as_str()), ("offered", "attempts"));
        assert!(offered.width > attempts.width && attempts.dash.is_some(), "attempts lies on offered");
        // Classes with the same success rate as all requests stand apart too, each its way.
        let success = &panels[1];
        let styles: Vec<(u32, Option<(u32, u32)>)> =
            success.lines.iter().filter(|line| !line.reference).map(|line| (line.width, line.dash)).collect();
        for (idx, style) in styles.iter().enumerate() {
            assert!(!styles[idx + 1..].contains(style), "{styles:?}");
        }
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
