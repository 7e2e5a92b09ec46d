//! `sweep.png` and `sweep.svg`: the chosen metric over the grid. One parameter: a line of
//! the per-point mean with its 95% interval as a band and error bars. Two: a heatmap of
//! the mean, the first parameter down, the second across, green for the better end. Three
//! or more: lines over the first parameter, one per combination of the others.
//!
//! Fonts, palette, ticks and errors are the parent module's (DejaVu Sans embedded).

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{ChartError, FONT, PALETTE, Ticked, compact_number, nice_step, register_font, to_chart_error};
use crate::check::metric::{Better, Unit};
use crate::sweep::{MetricValues, Sweep, estimate};

pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 760;

/// Draws the chart as a PNG at `png` and returns it as an SVG document.
pub fn write(png: &Path, sweep: &Sweep, runs: &[MetricValues]) -> Result<String, ChartError> {
    register_font()?;
    {
        let root = BitMapBackend::new(png, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, sweep, runs)?;
        root.present().map_err(to_chart_error)?;
    }
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        draw(&root, sweep, runs)?;
        root.present().map_err(to_chart_error)?;
    }
    if !svg.ends_with('\n') {
        svg.push('\n');
    }
    Ok(svg)
}

/// Per point: (low, mean, high) in plotted units; low = high = mean without an interval.
fn stats(sweep: &Sweep, runs: &[MetricValues]) -> Vec<Option<(f64, f64, f64)>> {
    let scale = if sweep.metric.unit == Unit::Ratio { 100.0 } else { 1.0 };
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

fn categorical(n: usize) -> Ticked {
    Ticked { range: -0.5..n.max(1) as f64 - 0.5, ticks: (0..n).map(|idx| idx as f64).collect() }
}

fn label_at(labels: &[String], x: f64) -> String {
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
    let pad = ((high - low) * 0.08).max(high.abs() * 0.01).max(1e-9);
    let step = nice_step((high - low + 2.0 * pad) / 6.0);
    let bottom = ((low - pad) / step).floor() * step;
    let top = ((high + pad) / step).ceil() * step;
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
type AxisSpec<'a> = (Ticked, &'a dyn Fn(&f64) -> String, &'a str);

/// The plot area with both axes drawn (and grid lines when asked).
fn axes<'a, DB: DrawingBackend>(
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
    let means: Vec<Option<f64>> = stats.iter().map(|s| s.map(|(_, m, _)| m)).collect();
    let (low, high) = means
        .iter()
        .flatten()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &m| (lo.min(m), hi.max(m)));
    let x_label = |x: &f64| label_at(&cols.values, *x);
    let y_label = |y: &f64| label_at(&rows.values, *y);
    let mut chart = axes(
        area,
        (categorical(cols.values.len()), &x_label, &cols.path),
        (categorical(rows.values.len()), &y_label, &rows.path),
        false,
    )?;
    let (bad, good) = (RGBColor(0xE1, 0x57, 0x59), RGBColor(0x59, 0xA1, 0x4F));
    let scale = if sweep.metric.unit == Unit::Ratio { 0.01 } else { 1.0 };
    let text = (FONT, 15).into_font().color(&BLACK).pos(Pos::new(HPos::Center, VPos::Center));
    for (idx, mean) in means.iter().enumerate() {
        let (row, col) = ((idx / cols.values.len()) as f64, (idx % cols.values.len()) as f64);
        let (color, label) = match mean {
            Some(mean) => {
                let span = high - low;
                let mut t = if span > 0.0 { (mean - low) / span } else { 1.0 };
                if sweep.metric.better == Better::Lower {
                    t = 1.0 - t;
                }
                let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
                (
                    RGBColor(mix(bad.0, good.0), mix(bad.1, good.1), mix(bad.2, good.2)),
                    sweep.metric.unit.format(mean * scale),
                )
            }
            None => (RGBColor(0xCC, 0xCC, 0xCC), "no value".to_string()),
        };
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(col - 0.5, row - 0.5), (col + 0.5, row + 0.5)],
                color.mix(0.8).filled(),
            )))
            .map_err(to_chart_error)?;
        chart
            .draw_series(std::iter::once(Text::new(label, (col, row), text.clone())))
            .map_err(to_chart_error)?;
    }
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
