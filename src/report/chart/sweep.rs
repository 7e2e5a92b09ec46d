//! `sweep.png` and `sweep.svg`: the chosen metric over the grid. One parameter: a line of
//! the per-point mean with its 95% interval as a band and error bars. Two: a heatmap of
//! the mean, the first parameter down, the second across, with a colour bar. Three or more:
//! lines over the first parameter, one per combination of the others. The scenario's
//! threshold on the metric, if any, is a dashed line (or the heatmap's neutral colour).
//!
//! Invariants: an axis stays within the metric's domain (no negative latency, no percentage
//! below 0 or above 100 unless a value is). The heatmap's colours follow a scale where the
//! metric's differences matter: success-like ratios by their nines (the log of the failure
//! rate), so 98.5% and 99.9% differ as much as 90% and 99%; diverging (vermillion, white,
//! blue) around the threshold when there is one.
//!
//! Fonts, palette, ticks and errors are the parent module's (DejaVu Sans embedded).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{
    ChartError, Drawing, FONT, PALETTE, Ticked, compact_number, nice_step, png_and_svg, to_chart_error,
};
use crate::check::metric::{Better, Unit};
use crate::sweep::{MetricValues, Sweep, estimate};

pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 760;

/// Draws the chart as a PNG at `png` and returns it as an SVG document.
pub fn write(png: &Path, sweep: &Sweep, runs: &[MetricValues]) -> Result<String, ChartError> {
    png_and_svg(png, (WIDTH, HEIGHT), &SweepChart { sweep, runs })
}

struct SweepChart<'a> {
    sweep: &'a Sweep,
    runs: &'a [MetricValues],
}

impl Drawing for SweepChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError>
    where
        DB::ErrorType: 'static,
    {
        draw(root, self.sweep, self.runs)
    }
}

/// Per point: (low, mean, high) in plotted units; low = high = mean without an interval.
fn stats(sweep: &Sweep, runs: &[MetricValues]) -> Vec<Option<(f64, f64, f64)>> {
    let scale = unit_scale(sweep);
    sweep
        .per_point(runs, sweep.metric_index())
        .iter()
        .map(|values| {
            let estimate = estimate(values)?;
            let (low, high) = estimate.interval.unwrap_or((estimate.mean, estimate.mean));
            Some((low * scale, estimate.mean * scale, high * scale))
        })
        .collect()
}

/// Plotted units per metric unit: percent for ratios.
fn unit_scale(sweep: &Sweep) -> f64 {
    if sweep.metric.unit == Unit::Ratio { 100.0 } else { 1.0 }
}

/// The range the metric's values can take, in plotted units: 0 to 100 for ratios (they are
/// shares), from 0 for every other figure but time to detect (an alert can fire before the
/// breach).
fn domain(sweep: &Sweep) -> (f64, f64) {
    match sweep.metric.unit {
        Unit::Ratio => (0.0, 100.0),
        _ if sweep.metric.name == "slo.time_to_detect" => (f64::NEG_INFINITY, f64::INFINITY),
        _ => (0.0, f64::INFINITY),
    }
}

fn y_description(sweep: &Sweep) -> String {
    match sweep.metric.unit {
        Unit::Ratio => format!("{} (%)", sweep.metric.name),
        unit => format!("{} ({})", sweep.metric.name, unit.name()),
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    sweep: &Sweep,
    runs: &[MetricValues],
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(to_chart_error)?;
    let title = format!(
        "{}{} · {} over {} · {} seeds",
        sweep.scenario,
        sweep.variant.as_ref().map_or_else(String::new, |variant| format!(" · variant {variant}")),
        sweep.metric.name,
        sweep.axes.iter().map(|axis| axis.path.as_str()).collect::<Vec<_>>().join(" × "),
        sweep.seeds.len()
    );
    let body = root
        .margin(14, 10, 10, 10)
        .titled(&title, (FONT, 22).into_font().color(&BLACK))
        .map_err(to_chart_error)?;
    if sweep.axes.len() == 2 { heatmap(&body, sweep, runs) } else { lines(&body, sweep, runs) }
}

pub(super) fn categorical(n: usize) -> Ticked {
    Ticked { range: -0.5..n.max(1) as f64 - 0.5, ticks: (0..n).map(|idx| idx as f64).collect() }
}

pub(super) fn label_at(labels: &[String], x: f64) -> String {
    let idx = x.round();
    if idx >= 0.0 && (idx as usize) < labels.len() { labels[idx as usize].clone() } else { String::new() }
}

fn lines<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    sweep: &Sweep,
    runs: &[MetricValues],
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let stats = stats(sweep, runs);
    let Some(first) = sweep.axes.first() else { return Ok(()) };
    let n = first.values.len();
    let groups = (sweep.points.len() / n.max(1)).max(1);
    let (low, high) = stats
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &(l, _, h)| (lo.min(l), hi.max(h)));
    let (low, high) = if low.is_finite() { (low, high) } else { (0.0, 1.0) };
    let goal = sweep.threshold.as_ref().map(|goal| goal.target * unit_scale(sweep));
    let (low, high) = match goal {
        Some(goal) => (low.min(goal), high.max(goal)),
        None => (low, high),
    };
    let pad = ((high - low) * 0.08).max(high.abs() * 0.01).max(1e-9);
    let step = nice_step((high - low + 2.0 * pad) / 6.0);
    let (floor, ceiling) = domain(sweep);
    let bottom = (((low - pad) / step).floor() * step).max(floor.min(low));
    let top = (((high + pad) / step).ceil() * step).min(ceiling.max(high));
    let ticks: Vec<f64> =
        (0..).map(|k| bottom + k as f64 * step).take_while(|tick| *tick <= top + step * 1e-9).collect();
    let x_label = |x: &f64| label_at(&first.values, *x);
    let y_label = |y: &f64| compact_number(*y);
    let mut chart = axes(
        area,
        (categorical(n), &x_label, &first.path),
        (Ticked { range: bottom..top, ticks }, &y_label, &y_description(sweep)),
        true,
    )?;
    for group in 0..groups {
        let color = PALETTE[group % PALETTE.len()];
        let points: Vec<(f64, (f64, f64, f64))> = (0..n)
            .filter_map(|x| stats.get(x * groups + group).copied().flatten().map(|s| (x as f64, s)))
            .collect();
        if points.len() > 1 {
            let mut band: Vec<(f64, f64)> = points.iter().map(|&(x, (_, _, h))| (x, h)).collect();
            band.extend(points.iter().rev().map(|&(x, (l, _, _))| (x, l)));
            chart
                .draw_series(std::iter::once(Polygon::new(band, color.mix(0.15))))
                .map_err(to_chart_error)?;
        }
        for &(x, (l, _, h)) in &points {
            chart
                .draw_series(std::iter::once(PathElement::new(vec![(x, l), (x, h)], color.stroke_width(2))))
                .map_err(to_chart_error)?;
        }
        let label = if groups == 1 { "mean, 95% CI".to_string() } else { other_label(sweep, group) };
        chart
            .draw_series(LineSeries::new(points.iter().map(|&(x, (_, m, _))| (x, m)), color.stroke_width(3)))
            .map_err(to_chart_error)?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3)));
        chart
            .draw_series(points.iter().map(|&(x, (_, m, _))| Circle::new((x, m), 4, color.filled())))
            .map_err(to_chart_error)?;
    }
    if let (Some(goal), Some(threshold)) = (goal, &sweep.threshold) {
        let color = RGBColor(0xD5, 0x5E, 0x00);
        let style = color.stroke_width(2);
        chart
            .draw_series(DashedLineSeries::new([(-0.5, goal), (n.max(1) as f64 - 0.5, goal)], 10, 6, style))
            .map_err(to_chart_error)?
            .label(format!("threshold {}", threshold.text))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(0xAA, 0xAA, 0xAA))
        .label_font((FONT, 13).into_font())
        .draw()
        .map_err(to_chart_error)
}

/// The values of every axis but the first, for the legend of a line.
fn other_label(sweep: &Sweep, group: usize) -> String {
    crate::sweep::grid::label(&sweep.axes[1..], &sweep.points[group][1..])
}

/// An axis: its ticks, how to label them, and its description.
pub(super) type AxisSpec<'a> = (Ticked, &'a dyn Fn(&f64) -> String, &'a str);

/// The plot area with both axes drawn (and grid lines when asked).
pub(super) fn axes<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    x: AxisSpec<'_>,
    y: AxisSpec<'_>,
    grid: bool,
) -> Result<ChartContext<'a, DB, Cartesian2d<Ticked, Ticked>>, ChartError>
where
    DB::ErrorType: 'static,
{
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .x_label_area_size(50)
        .y_label_area_size(110)
        .build_cartesian_2d(x.0, y.0)
        .map_err(to_chart_error)?;
    let mut mesh = chart.configure_mesh();
    mesh.bold_line_style(if grid { RGBColor(0xDD, 0xDD, 0xDD) } else { WHITE })
        .light_line_style(TRANSPARENT)
        .label_style((FONT, 14).into_font())
        .axis_desc_style((FONT, 15).into_font())
        .x_label_formatter(x.1)
        .y_label_formatter(y.1)
        .x_desc(x.2)
        .y_desc(y.2);
    mesh.draw().map_err(to_chart_error)?;
    Ok(chart)
}

/// Where a value sits on the heatmap's colour scale: larger is better. Ratios count their
/// nines (`-log10` of the shortfall from 1, or of the ratio when lower is better, floored at
/// 10^-5); other figures are themselves, on a log scale when positive and spread wide.
struct ColorScale {
    nines: bool,
    log: bool,
    better: Better,
}

/// The shortfall below which ratios count as equal: 99.999%.
const FLOOR: f64 = 1e-5;

impl ColorScale {
    fn new(sweep: &Sweep, means: &[f64]) -> ColorScale {
        let nines = sweep.metric.unit == Unit::Ratio;
        let (low, high) = means.iter().fold((f64::INFINITY, 0.0_f64), |(lo, hi), &m| (lo.min(m), hi.max(m)));
        let log = !nines && low > 0.0 && high / low > 20.0;
        ColorScale { nines, log, better: sweep.metric.better }
    }

    /// The score of a value in the metric's unit (a fraction for ratios).
    fn score(&self, value: f64) -> f64 {
        if self.nines {
            let bad = if self.better == Better::Higher { 1.0 - value } else { value };
            -bad.max(FLOOR).log10()
        } else {
            let plotted = if self.log { value.max(f64::MIN_POSITIVE).log10() } else { value };
            if self.better == Better::Higher { plotted } else { -plotted }
        }
    }

    /// The value of a score, inverting `score`.
    fn value(&self, score: f64) -> f64 {
        if self.nines {
            let bad = 10f64.powf(-score);
            if self.better == Better::Higher { 1.0 - bad } else { bad }
        } else {
            let plotted = if self.better == Better::Higher { score } else { -score };
            if self.log { 10f64.powf(plotted) } else { plotted }
        }
    }
}

/// Vermillion for the worse end, white in the middle, blue for the better end (colour-blind
/// safe). `t` runs from -1 (worst) to 1 (best).
pub(super) fn diverging(t: f64) -> RGBColor {
    let (bad, mid, good) = ((0xD5, 0x5E, 0x00), (0xF7, 0xF7, 0xF7), (0x00, 0x72, 0xB2));
    let (from, to, f) = if t < 0.0 { (mid, bad, -t) } else { (mid, good, t) };
    let f = f.clamp(0.0, 1.0);
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    RGBColor(mix(from.0, to.0), mix(from.1, to.1), mix(from.2, to.2))
}

/// Maps scores to -1..1: around the threshold's score when there is one (each side
/// stretched to its extreme), else around the middle of the scores' range.
fn position(score: f64, low: f64, high: f64, middle: f64) -> f64 {
    if score >= middle {
        if high > middle { (score - middle) / (high - middle) } else { 1.0 }
    } else if middle > low {
        -(middle - score) / (middle - low)
    } else {
        -1.0
    }
}

/// Width of the colour bar's column, labels included.
pub(super) const BAR_WIDTH: u32 = 170;

fn heatmap<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    sweep: &Sweep,
    runs: &[MetricValues],
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let stats = stats(sweep, runs);
    let (rows, cols) = (&sweep.axes[0], &sweep.axes[1]);
    let unit = unit_scale(sweep);
    // Means in the metric's unit (fractions for ratios).
    let means: Vec<Option<f64>> = stats.iter().map(|s| s.map(|(_, m, _)| m / unit)).collect();
    let present: Vec<f64> = means.iter().flatten().copied().collect();
    let scale = ColorScale::new(sweep, &present);
    let scores: Vec<f64> = present.iter().map(|&m| scale.score(m)).collect();
    let goal = sweep.threshold.as_ref().map(|goal| scale.score(goal.target));
    let (mut low, mut high) =
        scores.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &s| (lo.min(s), hi.max(s)));
    if let Some(goal) = goal {
        (low, high) = (low.min(goal), high.max(goal));
    }
    if !low.is_finite() {
        (low, high) = (0.0, 1.0);
    }
    if high - low < 1e-9 {
        (low, high) = (low - 0.5, high + 0.5);
    }
    let middle = goal.unwrap_or((low + high) / 2.0);

    let (width, _) = area.dim_in_pixel();
    let (cells_area, bar_area) = area.split_horizontally(width.saturating_sub(BAR_WIDTH));
    let x_label = |x: &f64| label_at(&cols.values, *x);
    let y_label = |y: &f64| label_at(&rows.values, *y);
    let mut chart = axes(
        &cells_area,
        (categorical(cols.values.len()), &x_label, &cols.path),
        (categorical(rows.values.len()), &y_label, &rows.path),
        false,
    )?;
    for (idx, mean) in means.iter().enumerate() {
        let (row, col) = ((idx / cols.values.len()) as f64, (idx % cols.values.len()) as f64);
        let (color, label) = match mean {
            Some(mean) => {
                (diverging(position(scale.score(*mean), low, high, middle)), sweep.metric.unit.format(*mean))
            }
            None => (RGBColor(0xCC, 0xCC, 0xCC), "no value".to_string()),
        };
        let dark =
            (f64::from(color.0) * 0.299 + f64::from(color.1) * 0.587 + f64::from(color.2) * 0.114) < 128.0;
        let text = (FONT, 15)
            .into_font()
            .color(if dark { &WHITE } else { &BLACK })
            .pos(Pos::new(HPos::Center, VPos::Center));
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(col - 0.5, row - 0.5), (col + 0.5, row + 0.5)],
                color.filled(),
            )))
            .map_err(to_chart_error)?;
        chart.draw_series(std::iter::once(Text::new(label, (col, row), text))).map_err(to_chart_error)?;
    }
    colour_bar(&bar_area, sweep, &scale, (low, high, middle), goal)
}

/// The colour bar: the scale from worst (bottom) to best (top), ticks in the metric's unit,
/// and the threshold marked.
fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    sweep: &Sweep,
    scale: &ColorScale,
    (low, high, middle): (f64, f64, f64),
    goal: Option<f64>,
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let n_ticks = 6;
    let mut ticks: Vec<f64> = if scale.nines {
        // Whole nines (90%, 99%, 99.9%, ...) and the ends.
        let whole = (low.ceil() as i32..=high.floor() as i32).map(f64::from);
        let ends = [low, high];
        let mut ticks: Vec<f64> =
            whole.filter(|tick| ends.iter().all(|end| (tick - end).abs() > (high - low) * 0.06)).collect();
        ticks.extend(ends);
        ticks
    } else {
        (0..n_ticks).map(|k| low + (high - low) * f64::from(k) / f64::from(n_ticks - 1)).collect()
    };
    if let Some(goal) = goal {
        ticks.retain(|tick| (tick - goal).abs() > (high - low) * 0.08);
        ticks.push(goal);
    }
    let format = |score: &f64| {
        let value = scale.value(*score);
        let text = sweep.metric.unit.format(value);
        if scale.nines && (score - (-FLOOR.log10())).abs() < 1e-9 {
            let better = if scale.better == Better::Higher { "≥" } else { "≤" };
            format!("{better}{text}")
        } else {
            text
        }
    };
    let mut chart = ChartBuilder::on(area)
        .margin_top(10)
        .margin_bottom(60)
        .margin_left(10)
        .margin_right(10)
        .y_label_area_size(0)
        .right_y_label_area_size(110)
        .build_cartesian_2d(0.0..1.0, Ticked { range: low..high, ticks: vec![] })
        .map_err(to_chart_error)?
        .set_secondary_coord(0.0..1.0, Ticked { range: low..high, ticks });
    let steps = 60;
    for step in 0..steps {
        let (from, to) = (
            low + (high - low) * f64::from(step) / f64::from(steps),
            low + (high - low) * f64::from(step + 1) / f64::from(steps),
        );
        let color = diverging(position((from + to) / 2.0, low, high, middle));
        chart
            .draw_series(std::iter::once(Rectangle::new([(0.0, from), (1.0, to)], color.filled())))
            .map_err(to_chart_error)?;
    }
    if let Some(goal) = goal {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, goal), (1.0, goal)],
                BLACK.stroke_width(2),
            )))
            .map_err(to_chart_error)?;
    }
    chart
        .configure_secondary_axes()
        .label_style((FONT, 13).into_font())
        .y_label_formatter(&format)
        .draw()
        .map_err(to_chart_error)?;
    let caption = match &sweep.threshold {
        Some(threshold) => format!("threshold {}", threshold.text),
        None => "mean".to_string(),
    };
    let style = (FONT, 13).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Top));
    let (_, height) = area.dim_in_pixel();
    area.draw(&Text::new(caption, (10, height as i32 - 45), style)).map_err(to_chart_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::metric::{self, METRICS};
    use crate::sweep::grid::Axis;

    fn sweep(axes: usize) -> (Sweep, Vec<MetricValues>) {
        let axes: Vec<Axis> = (0..axes)
            .map(|idx| Axis {
                path: format!("services.api.p{idx}"),
                values: vec!["1".into(), "2".into(), "3".into()],
            })
            .collect();
        let sweep = Sweep::new("demo", None, "abc", axes, vec![1, 2], metric::lookup("latency.p99").unwrap());
        let runs = (0..sweep.points.len() * 2)
            .map(|job| {
                let mut values = vec![None; METRICS.len()];
                values[sweep.metric_index()] = (job % 7 != 3).then_some(100.0 + job as f64);
                values
            })
            .collect();
        (sweep, runs)
    }

    #[test]
    fn lines_and_heatmaps_render() {
        let dir = tempfile::tempdir().unwrap();
        for axes in 1..=3 {
            let (sweep, runs) = sweep(axes);
            let png = dir.path().join(format!("sweep{axes}.png"));
            let svg = write(&png, &sweep, &runs).unwrap();
            assert!(std::fs::metadata(&png).unwrap().len() > 1000);
            assert!(svg.starts_with("<svg") && svg.contains("latency.p99"), "{axes}");
        }
    }
}
