//! `metastability.png` and `metastability.svg`: the map as a heatmap, the surge's length
//! across and its factor up, each cell coloured by the share of seeds still collapsed
//! (white none, vermillion all) and labelled `collapsed/seeds`; the boundary (from where at
//! least half the seeds stay collapsed) is a thick black step line along the cells' edges.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::sweep::{BAR_WIDTH, axes, categorical, diverging, label_at};
use super::{ChartError, Drawing, FONT, Ticked, png_and_svg, to_chart_error};
use crate::metastability::{BOUNDARY_SHARE, Cell, Map};

pub const WIDTH: u32 = 1100;
pub const HEIGHT: u32 = 720;

/// Draws the chart as a PNG at `png` and returns it as an SVG document.
pub fn write(png: &Path, map: &Map, cells: &[Cell]) -> Result<String, ChartError> {
    png_and_svg(png, (WIDTH, HEIGHT), &Heatmap { map, cells })
}

struct Heatmap<'a> {
    map: &'a Map,
    cells: &'a [Cell],
}

impl Drawing for Heatmap<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ChartError>
    where
        DB::ErrorType: 'static,
    {
        draw(root, self.map, self.cells)
    }
}

/// The colour of a share collapsed: white at 0, vermillion at 1.
fn colour(share: f64) -> RGBColor {
    diverging(-share)
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    map: &Map,
    cells: &[Cell],
) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(to_chart_error)?;
    let title = format!(
        "{}{} · still collapsed {} after the surge · {} seeds per cell",
        map.scenario,
        map.variant.as_ref().map_or_else(String::new, |variant| format!(" · variant {variant}")),
        map.settle,
        map.seeds.len()
    );
    let body = root
        .margin(14, 10, 10, 10)
        .titled(&title, (FONT, 22).into_font().color(&BLACK))
        .map_err(to_chart_error)?;
    let (width, _) = body.dim_in_pixel();
    let (cells_area, bar_area) = body.split_horizontally(width.saturating_sub(BAR_WIDTH));
    let (factors, lengths) = (&map.factors.values, &map.durations.values);
    let x_label = |x: &f64| label_at(lengths, *x);
    let y_label = |y: &f64| {
        label_at(factors, *y).parse::<f64>().map_or_else(|_| label_at(factors, *y), |f| format!("x{f}"))
    };
    let x_desc = format!("surge length ({})", map.durations.path);
    let y_desc = format!("surge factor ({})", map.factors.path);
    let mut chart = axes(
        &cells_area,
        (categorical(lengths.len()), &x_label, &x_desc),
        (categorical(factors.len()), &y_label, &y_desc),
        false,
    )?;
    for cell in cells {
        let (x, y) = (cell.length as f64, cell.factor as f64);
        let fill = colour(cell.share);
        let dark =
            (f64::from(fill.0) * 0.299 + f64::from(fill.1) * 0.587 + f64::from(fill.2) * 0.114) < 140.0;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                fill.filled(),
            )))
            .map_err(to_chart_error)?;
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)],
                RGBColor(0xBB, 0xBB, 0xBB).stroke_width(1),
            )))
            .map_err(to_chart_error)?;
        let ink = if dark { WHITE } else { BLACK };
        let big = (FONT, 17).into_font().color(&ink).pos(Pos::new(HPos::Center, VPos::Center));
        let small = (FONT, 12).into_font().color(&ink).pos(Pos::new(HPos::Center, VPos::Center));
        let interval = format!("{:.0}-{:.0}%", cell.interval.0 * 100.0, cell.interval.1 * 100.0);
        chart
            .draw_series([
                Text::new(format!("{}/{}", cell.collapsed, cell.seeds), (x, y + 0.08), big),
                Text::new(interval, (x, y - 0.18), small),
            ])
            .map_err(to_chart_error)?;
    }
    // The boundary: under each column's first collapsed cell, joined by vertical steps.
    let top = factors.len() as f64 - 0.5;
    let mut line: Vec<(f64, f64)> = Vec::new();
    for (length, factor) in map.boundary(cells).iter().enumerate() {
        let y = factor.map_or(top, |factor| factor as f64 - 0.5);
        line.push((length as f64 - 0.5, y));
        line.push((length as f64 + 0.5, y));
    }
    chart
        .draw_series(std::iter::once(PathElement::new(line, BLACK.stroke_width(4))))
        .map_err(to_chart_error)?;
    colour_bar(&bar_area)
}

/// The colour bar: 0% (bottom) to 100% of seeds collapsed.
fn colour_bar<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> Result<(), ChartError>
where
    DB::ErrorType: 'static,
{
    let ticks: Vec<f64> = (0..=4).map(|k| f64::from(k) * 0.25).collect();
    let mut chart = ChartBuilder::on(area)
        .margin_top(10)
        .margin_bottom(60)
        .margin_left(10)
        .margin_right(10)
        .y_label_area_size(0)
        .right_y_label_area_size(110)
        .build_cartesian_2d(0.0..1.0, Ticked { range: 0.0..1.0, ticks: vec![] })
        .map_err(to_chart_error)?
        .set_secondary_coord(0.0..1.0, Ticked { range: 0.0..1.0, ticks });
    let steps = 50;
    for step in 0..steps {
        let (from, to) = (f64::from(step) / f64::from(steps), f64::from(step + 1) / f64::from(steps));
        chart
            .draw_series(std::iter::once(Rectangle::new(
                [(0.0, from), (1.0, to)],
                colour((from + to) / 2.0).filled(),
            )))
            .map_err(to_chart_error)?;
    }
    chart
        .configure_secondary_axes()
        .label_style((FONT, 13).into_font())
        .y_label_formatter(&|share: &f64| format!("{:.0}%", share * 100.0))
        .draw()
        .map_err(to_chart_error)?;
    let style = (FONT, 13).into_font().color(&BLACK).pos(Pos::new(HPos::Left, VPos::Top));
    let (_, height) = area.dim_in_pixel();
    area.draw(&Text::new("seeds collapsed", (10, height as i32 - 50), style.clone()))
        .map_err(to_chart_error)?;
    let y = height as i32 - 22;
    area.draw(&PathElement::new(vec![(10, y), (34, y)], BLACK.stroke_width(4))).map_err(to_chart_error)?;
    let boundary = format!("boundary: ≥{:.0}% above", BOUNDARY_SHARE * 100.0);
    area.draw(&Text::new(boundary, (40, y - 7), style)).map_err(to_chart_error)?;
    Ok(())
}
