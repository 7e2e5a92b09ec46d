//! Where the run and comparison charts put the text they place themselves: the title, the
//! numbered event badges above the panels (and the day markers among them), each panel's
//! legend and the table of events below the time axis. Everything is laid out here, in
//! pixels, before anything is drawn, with text extents measured in the embedded font, so a
//! test can check that no two boxes overlap and none leaves the canvas.
//!
//! Invariants: a badge never overlaps another badge or a day label (they are packed into
//! rows); text that would not fit its column is cut with an ellipsis; the canvas grows with
//! the number of panels, badge rows and table rows instead of squeezing them.

use plotters::prelude::*;

use super::{ChartError, FONT, TimeAxis};

/// Margin between the canvas edge and the panels.
pub(crate) const SIDE: i32 = 6;
/// Width of the legend column to the right of each panel, so a legend never hides data.
pub(crate) const LEGEND_WIDTH: i32 = 200;
/// Extra height of the bottom panel, which carries the time labels.
pub(crate) const TIME_AXIS_HEIGHT: i32 = 50;
/// What the panels' chart builders leave left and right of the plotted area.
pub(crate) const PLOT_LEFT: i32 = 10 + Y_LABEL_WIDTH;
pub(crate) const PLOT_RIGHT: i32 = 14;
pub(crate) const Y_LABEL_WIDTH: i32 = 82;

const TITLE_HEIGHT: i32 = 48;
const BADGE_FONT: u32 = 12;
const BADGE_HEIGHT: i32 = 16;
const BADGE_ROW: i32 = 20;
/// Badge rows before events are left unmarked (they stay in the table).
const MAX_BADGE_ROWS: usize = 5;
const LEGEND_FONT: u32 = 14;
const LEGEND_TOP: i32 = 40;
const LEGEND_ROW: i32 = 22;
const TABLE_FONT: u32 = 13;
const TABLE_ROW: i32 = 20;
/// Events listed before the table says how many more there are.
const MAX_TABLE_ROWS: usize = 15;

/// A box in canvas pixels, `x1` and `y1` exclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Rect {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

#[cfg_attr(not(test), allow(dead_code))]
impl Rect {
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x0 < other.x1 && other.x0 < self.x1 && self.y0 < other.y1 && other.y0 < self.y1
    }

    pub fn within(&self, width: i32, height: i32) -> bool {
        self.x0 >= 0 && self.y0 >= 0 && self.x1 <= width && self.y1 <= height
    }

    fn center_y(&self) -> i32 {
        (self.y0 + self.y1) / 2
    }
}

/// Something that happened, drawn as a vertical line across the panels with a numbered
/// badge above them and a row in the table below.
#[derive(Clone, Debug)]
pub(crate) struct EventMark {
    /// Hours since the start.
    pub hours: f64,
    pub color: RGBColor,
    /// The table's text: `09:15 alert "login-errors" fired`.
    pub text: String,
}

/// Text placed at a point with its measured box: `at` is where plotters anchors it (left
/// edge, vertical centre).
#[derive(Clone, Debug)]
pub(crate) struct Label {
    pub text: String,
    pub size: u32,
    pub at: (i32, i32),
    #[cfg_attr(not(test), allow(dead_code))]
    pub rect: Rect,
}

/// A badge: a box with the event's number (or a day's name), above the event's line.
#[derive(Clone, Debug)]
pub(crate) struct Badge {
    pub label: Label,
    pub rect: Rect,
    pub color: RGBColor,
    /// A day marker: drawn without a box.
    pub day: bool,
}

/// One legend row: the swatch's ends and the name.
#[derive(Clone, Debug)]
pub(crate) struct LegendEntry {
    /// Index of the line in its panel; `None` for the "+N more" row.
    pub line: Option<usize>,
    pub swatch: ((i32, i32), (i32, i32)),
    pub label: Label,
}

/// One row of the event table.
#[derive(Clone, Debug)]
pub(crate) struct TableEntry {
    pub badge: Rect,
    pub number: Label,
    pub color: RGBColor,
    pub text: Label,
}

/// The layout of a whole chart.
pub(crate) struct Layout {
    pub width: i32,
    pub height: i32,
    pub title: Label,
    pub badges: Vec<Badge>,
    /// Per panel, its area (plot and legend column); the last one includes the time axis.
    pub panels: Vec<Rect>,
    /// The plotted area's horizontal pixel range, the same in every panel.
    pub plot_x: std::ops::Range<i32>,
    pub legends: Vec<Vec<LegendEntry>>,
    pub table_title: Option<Label>,
    pub table: Vec<TableEntry>,
    /// Events with a number in the table but no room for a badge, and events left out of
    /// the table, in one note.
    pub table_note: Option<Label>,
}

/// The names of each panel's lines, for the legends.
pub(crate) type LegendNames<'a> = Vec<Vec<&'a str>>;

impl Layout {
    /// Lays out a chart `width` pixels wide: the title, badges for `events` (numbered from 1
    /// in the given order, which is time order) and `days` (hours, name), panels of
    /// `panel_height` with `legends`, and the event table.
    pub fn new(
        width: u32,
        title: &str,
        time: &TimeAxis,
        events: &[EventMark],
        days: &[(f64, String)],
        legends: &LegendNames<'_>,
        panel_height: i32,
    ) -> Result<Layout, ChartError> {
        let width = width as i32;
        let title = fit_title(title, width)?;
        let plot_x = SIDE + PLOT_LEFT..width - SIDE - LEGEND_WIDTH - PLOT_RIGHT;
        let x_of = |hours: f64| {
            let span = time.range.end - time.range.start;
            let fraction = if span > 0.0 { (hours - time.range.start) / span } else { 0.5 };
            plot_x.start + (f64::from(plot_x.end - plot_x.start) * fraction).round() as i32
        };

        // Badges: events and days in time order, each in the first row with room.
        let mut items: Vec<(f64, String, RGBColor, bool)> = events
            .iter()
            .enumerate()
            .map(|(idx, event)| (event.hours, (idx + 1).to_string(), event.color, false))
            .chain(days.iter().map(|(hours, name)| (*hours, name.clone(), RGBColor(0x55, 0x55, 0x55), true)))
            .collect();
        items.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut row_ends: Vec<i32> = Vec::new();
        let mut placed = Vec::new();
        let mut unmarked = 0;
        for (hours, text, color, day) in items {
            let (text_width, _) = text_size(BADGE_FONT, &text)?;
            let badge_width = text_width + 8;
            let x0 = (x_of(hours) - badge_width / 2).clamp(2, width - 2 - badge_width);
            let row = (0..MAX_BADGE_ROWS).find(|&row| row_ends.get(row).is_none_or(|&end| x0 >= end + 3));
            let Some(row) = row else {
                unmarked += 1;
                continue;
            };
            if row == row_ends.len() {
                row_ends.push(0);
            }
            row_ends[row] = x0 + badge_width;
            placed.push((row, x0, badge_width, text, color, day));
        }
        let n_rows = row_ends.len() as i32;
        let strip_bottom = TITLE_HEIGHT + n_rows * BADGE_ROW + if n_rows > 0 { 4 } else { 0 };
        let badges = placed
            .into_iter()
            .map(|(row, x0, badge_width, text, color, day)| {
                // The first row sits lowest, nearest the panels.
                let y0 = strip_bottom - 4 - (row as i32 + 1) * BADGE_ROW + (BADGE_ROW - BADGE_HEIGHT);
                let rect = Rect { x0, y0, x1: x0 + badge_width, y1: y0 + BADGE_HEIGHT };
                let label = label_at(BADGE_FONT, text, (x0 + 4, rect.center_y()))?;
                Ok(Badge { label, rect, color, day })
            })
            .collect::<Result<Vec<_>, ChartError>>()?;

        // Panels, the bottom one with the time axis.
        let n_panels = legends.len().max(1) as i32;
        let panels: Vec<Rect> = (0..n_panels)
            .map(|idx| {
                let y0 = strip_bottom + idx * panel_height;
                let extra = if idx + 1 == n_panels { TIME_AXIS_HEIGHT } else { 0 };
                Rect { x0: SIDE, y0, x1: width - SIDE, y1: y0 + panel_height + extra }
            })
            .collect();
        let legends = legends
            .iter()
            .zip(&panels)
            .map(|(names, panel)| legend(names, panel, width))
            .collect::<Result<Vec<_>, ChartError>>()?;

        // The event table, two columns, below the time axis.
        let panels_bottom = panels.last().map_or(strip_bottom, |panel| panel.y1);
        let mut y = panels_bottom + 6;
        let (table_title, mut table, mut table_note) = (None, Vec::new(), None);
        let mut table_title = table_title;
        if !events.is_empty() {
            table_title = Some(label_at(
                TABLE_FONT,
                "Events (numbered on the badges above the panels)".to_owned(),
                (SIDE + 10, y + TABLE_ROW / 2),
            )?);
            y += TABLE_ROW;
            let shown = events.len().min(MAX_TABLE_ROWS * 2);
            let per_column = shown.div_ceil(2);
            let column_width = (width - 2 * SIDE - 20) / 2;
            for (idx, event) in events.iter().take(shown).enumerate() {
                let (column, row) = (idx / per_column.max(1), idx % per_column.max(1));
                let x = SIDE + 10 + column as i32 * (column_width + 10);
                let center = y + row as i32 * TABLE_ROW + TABLE_ROW / 2;
                let number = (idx + 1).to_string();
                let (number_width, _) = text_size(BADGE_FONT, &number)?;
                let badge = Rect {
                    x0: x,
                    y0: center - BADGE_HEIGHT / 2,
                    x1: x + number_width + 8,
                    y1: center - BADGE_HEIGHT / 2 + BADGE_HEIGHT,
                };
                let number = label_at(BADGE_FONT, number, (x + 4, center))?;
                let text_x = x + 30;
                let text = fit(TABLE_FONT, &event.text, x + column_width - text_x)?;
                let text = label_at(TABLE_FONT, text, (text_x, center))?;
                table.push(TableEntry { badge, number, color: event.color, text });
            }
            y += per_column as i32 * TABLE_ROW;
            let mut notes = Vec::new();
            if shown < events.len() {
                notes.push(format!("{} more events in timeseries.csv (events column)", events.len() - shown));
            }
            if unmarked > 0 {
                notes.push(format!("{unmarked} too close to others to mark above the panels"));
            }
            if !notes.is_empty() {
                let text = fit(TABLE_FONT, &notes.join("; "), width - 2 * SIDE - 20)?;
                table_note = Some(label_at(TABLE_FONT, text, (SIDE + 10, y + TABLE_ROW / 2))?);
                y += TABLE_ROW;
            }
        }
        Ok(Layout {
            width,
            height: y + 8,
            title,
            badges,
            panels,
            plot_x,
            legends,
            table_title,
            table,
            table_note,
        })
    }

    /// Every box of text this layout placed, with its text: what the legibility test checks.
    #[cfg(test)]
    pub fn boxes(&self) -> Vec<(&str, Rect)> {
        let mut res = vec![(self.title.text.as_str(), self.title.rect)];
        res.extend(self.badges.iter().map(|badge| (badge.label.text.as_str(), badge.rect)));
        for entries in &self.legends {
            res.extend(entries.iter().map(|entry| (entry.label.text.as_str(), entry.label.rect)));
        }
        res.extend(
            self.table_title.iter().chain(&self.table_note).map(|label| (label.text.as_str(), label.rect)),
        );
        for entry in &self.table {
            res.push((entry.number.text.as_str(), entry.badge));
            res.push((entry.text.text.as_str(), entry.text.rect));
        }
        res
    }
}

/// The legend column of `panel`: a swatch and a name per line, cut to fit; rows that do
/// not fit the panel become "+N more".
fn legend(names: &[&str], panel: &Rect, width: i32) -> Result<Vec<LegendEntry>, ChartError> {
    let x0 = width - SIDE - LEGEND_WIDTH;
    let height = panel.y1 - panel.y0;
    let fits = ((height - LEGEND_TOP - 10) / LEGEND_ROW).max(1) as usize;
    let shown = if names.len() > fits { fits - 1 } else { names.len() };
    let mut res = Vec::new();
    for (idx, name) in names.iter().take(shown).enumerate() {
        let y = panel.y0 + LEGEND_TOP + idx as i32 * LEGEND_ROW;
        let text = fit(LEGEND_FONT, name, LEGEND_WIDTH - 44)?;
        res.push(LegendEntry {
            line: Some(idx),
            swatch: ((x0 + 4, y), (x0 + 30, y)),
            label: label_at(LEGEND_FONT, text, (x0 + 38, y))?,
        });
    }
    if shown < names.len() {
        let y = panel.y0 + LEGEND_TOP + shown as i32 * LEGEND_ROW;
        let text = format!("+{} more", names.len() - shown);
        res.push(LegendEntry {
            line: None,
            swatch: ((x0, y), (x0, y)),
            label: label_at(LEGEND_FONT, text, (x0 + 38, y))?,
        });
    }
    Ok(res)
}

/// The title, in the largest size from 26 down to 16 that fits, cut if even 16 does not.
fn fit_title(title: &str, width: i32) -> Result<Label, ChartError> {
    let room = width - 20;
    let mut size = 26;
    while size > 16 && text_size(size, title)?.0 > room {
        size -= 1;
    }
    let text = fit(size, title, room)?;
    let (text_width, _) = text_size(size, &text)?;
    label_at(size, text, ((width - text_width) / 2, 14 + size as i32 / 2 + 2))
}

fn label_at(size: u32, text: String, at: (i32, i32)) -> Result<Label, ChartError> {
    let (text_width, _) = text_size(size, &text)?;
    let half = size as i32 / 2 + 1;
    let rect = Rect { x0: at.0, y0: at.1 - half, x1: at.0 + text_width + 1, y1: at.1 + half };
    Ok(Label { text, size, at, rect })
}

/// The width and height of `text` in the embedded font at `size` pixels.
pub(crate) fn text_size(size: u32, text: &str) -> Result<(i32, i32), ChartError> {
    super::register_font()?;
    let font = (FONT, size).into_font();
    let (width, height) = font.box_size(text).map_err(|error| ChartError(error.to_string()))?;
    // Browsers draw the SVG in their own sans-serif: leave them a little room.
    Ok(((f64::from(width) * 1.06).ceil() as i32, height as i32))
}

/// `text`, cut with an ellipsis to fit `room` pixels at `size`.
pub(crate) fn fit(size: u32, text: &str, room: i32) -> Result<String, ChartError> {
    if text_size(size, text)?.0 <= room {
        return Ok(text.to_owned());
    }
    let chars: Vec<char> = text.chars().collect();
    let mut keep = chars.len();
    while keep > 0 {
        keep -= 1;
        let candidate: String = chars[..keep].iter().collect::<String>() + "…";
        if text_size(size, &candidate)?.0 <= room {
            return Ok(candidate);
        }
    }
    Ok(String::new())
}
