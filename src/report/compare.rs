//! The comparison as terminal tables: a row per metric, a column per configuration.
//!
//! The default (`render`) fits 100 columns: each row states its unit once in its label and
//! every cell is a number in it; the baseline's cell has its 95% interval, a variant's cell
//! its mean and the verdict on its paired difference (`better`, `worse`, nothing when
//! inconclusive), or `same` when every seed gave exactly the baseline's value. Variants that
//! do not fit next to each other go into further tables, each repeating the metric and the
//! baseline. The wide form (`render_wide`, `compare --wide`) puts each variant's paired
//! difference and its interval in its cell, as `compare.json` has them.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Attribute, Cell, ContentArrangement, Table};

use crate::check::metric::Unit;
use crate::compare::{Comparison, MetricRow, Outcome};
use crate::stats::confidence::Estimate;

/// The width the default table keeps within.
pub const COLUMNS: usize = 100;

/// Renders `comparison` in at most `COLUMNS` columns; `styled` adds bold for a terminal.
pub fn render(comparison: &Comparison, styled: bool) -> String {
    let mut res = wrap(
        &format!(
            "{} · baseline and {} · {} · mean of each configuration; baseline ± 95% CI",
            comparison.scenario,
            plural(comparison.configs.len().saturating_sub(1), "variant"),
            seeds_text(comparison),
        ),
        COLUMNS,
    );
    let units: Vec<RowUnit> = comparison.rows.iter().map(RowUnit::of).collect();
    // Variants side by side while they fit, at least one per table.
    let n_configs = comparison.configs.len();
    let mut first = 1;
    loop {
        let mut end = (first + 1).min(n_configs);
        while end < n_configs && width(&narrow_table(comparison, &units, first..end + 1, false)) <= COLUMNS {
            end += 1;
        }
        let mut table = narrow_table(comparison, &units, first..end, styled);
        if width(&narrow_table(comparison, &units, first..end, false)) > COLUMNS {
            table.set_content_arrangement(ContentArrangement::Dynamic).set_width(COLUMNS as u16);
        }
        res.push_str(&format!("{table}\n"));
        if end >= n_configs {
            break;
        }
        first = end;
    }
    res.push_str(&wrap(
        "better / worse: the 95% CI of the paired difference from the baseline excludes zero \
         (blank: inconclusive); same: every seed gave the baseline's value; –: no value. \
         Differences and their intervals: compare --wide, or compare.json.",
        COLUMNS,
    ));
    res
}

/// Every configuration in one table, each row in one unit, for a page that can scroll
/// sideways (the HTML report).
pub(crate) fn full_table(comparison: &Comparison) -> Table {
    let units: Vec<RowUnit> = comparison.rows.iter().map(RowUnit::of).collect();
    narrow_table(comparison, &units, 1..comparison.configs.len(), false)
}

/// The table of the baseline and the variants `configs` (indices into the comparison's
/// configurations).
fn narrow_table(
    comparison: &Comparison,
    units: &[RowUnit],
    configs: std::ops::Range<usize>,
    styled: bool,
) -> Table {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED.with_rounded_corners()).force_no_tty();
    if styled {
        table.enforce_styling();
    }
    let bold = |text: &str| Cell::new(text).add_attribute(Attribute::Bold);
    let mut header = vec![bold("metric"), bold(comparison.configs[0].label())];
    header.extend(comparison.configs[configs.clone()].iter().map(|config| bold(config.label())));
    table.set_header(header);
    for (row, unit) in comparison.rows.iter().zip(units) {
        let label = match unit.suffix {
            "" => row.label.to_string(),
            suffix => format!("{} ({suffix})", row.label),
        };
        let mut cells = vec![Cell::new(label), Cell::new(unit.baseline(row.estimates[0].as_ref()))];
        for config in configs.clone() {
            cells.push(Cell::new(unit.variant(row, config)));
        }
        table.add_row(cells);
    }
    table
}

/// How one row's numbers are written: a scale from the metric's unit and a suffix for the
/// label, chosen from the largest value so every cell of the row is in the same unit.
struct RowUnit {
    scale: f64,
    suffix: &'static str,
    percent: bool,
}

impl RowUnit {
    fn of(row: &MetricRow) -> RowUnit {
        let largest =
            row.estimates.iter().flatten().map(|estimate| estimate.mean.abs()).fold(0.0_f64, f64::max);
        let (scale, suffix) = match row.measure.metric.unit {
            Unit::Ratio => (100.0, "%"),
            Unit::Millis if largest >= 1000.0 => (1e-3, "s"),
            Unit::Millis => (1.0, "ms"),
            Unit::Seconds if largest >= 10.0 * 3600.0 => (1.0 / 3600.0, "h"),
            Unit::Seconds if largest >= 120.0 => (1.0 / 60.0, "min"),
            Unit::Seconds => (1.0, "s"),
            Unit::Minutes if largest >= 600.0 => (1.0 / 60.0, "h"),
            Unit::Minutes => (1.0, "min"),
            Unit::Hours => (1.0, "h"),
            Unit::PerSecond => (1.0, "/s"),
            Unit::Count | Unit::Number => (1.0, ""),
        };
        RowUnit { scale, suffix, percent: row.measure.metric.unit == Unit::Ratio }
    }

    /// About four significant digits; percentages near 100 keep three decimals.
    fn number(&self, value: f64) -> String {
        trimmed(value * self.scale, self.places(value))
    }

    /// Decimals for a value of this size.
    fn places(&self, value: f64) -> usize {
        let magnitude = (value * self.scale).abs();
        if self.percent && magnitude >= 99.0 {
            3
        } else if magnitude >= 1000.0 {
            0
        } else if magnitude >= 100.0 {
            1
        } else if magnitude >= 10.0 {
            2
        } else {
            3
        }
    }

    /// `58.02 ±0.72`, the mean alone from one seed, or `–`.
    fn baseline(&self, estimate: Option<&Estimate>) -> String {
        match estimate {
            Some(estimate) => match estimate.half_width() {
                Some(half) => {
                    let places = self.places(estimate.mean);
                    format!("{} ±{}", self.number(estimate.mean), trimmed(half * self.scale, places))
                }
                None => self.number(estimate.mean),
            },
            None => "–".to_string(),
        }
    }

    /// `100 better`, `154.5 worse`, `12.5` (inconclusive), `same` or `–`.
    fn variant(&self, row: &MetricRow, config: usize) -> String {
        if row.values[config] == row.values[0] && row.values[0].iter().any(Option::is_some) {
            return "same".to_string();
        }
        let Some(estimate) = &row.estimates[config] else { return "–".to_string() };
        let mean = self.number(estimate.mean);
        match row.differences.get(config - 1).map(|(_, outcome)| *outcome) {
            Some(Outcome::Better) => format!("{mean} better"),
            Some(Outcome::Worse) => format!("{mean} worse"),
            _ => mean,
        }
    }
}

/// `value` with at most `places` decimals, trailing zeros dropped.
fn trimmed(value: f64, places: usize) -> String {
    let text = format!("{value:.places$}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { &text };
    if text == "-0" { "0".to_string() } else { text.to_string() }
}

/// The widest line of a table, in columns (every character of the table is one column).
fn width(table: &Table) -> usize {
    table.to_string().lines().map(|line| line.chars().count()).max().unwrap_or(0)
}

/// `text` broken between words into lines of at most `columns`, each ending in a newline.
fn wrap(text: &str, columns: usize) -> String {
    let mut res = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > columns {
            res.push_str(&line);
            res.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        res.push_str(&line);
        res.push('\n');
    }
    res
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{n} {noun}s") }
}

/// `seeds 1-5 (5 per configuration, common random numbers)`.
fn seeds_text(comparison: &Comparison) -> String {
    let seeds = match comparison.seeds.as_slice() {
        [only] => format!("seed {only}"),
        [first, .., last] => format!("seeds {first}-{last}"),
        [] => "no seed".to_string(),
    };
    format!("{seeds} ({} per configuration, common random numbers)", comparison.seeds.len())
}

/// Renders `comparison` wide: each variant's cell adds its paired difference from the
/// baseline with its interval and verdict; `styled` adds bold for a terminal.
pub fn render_wide(comparison: &Comparison, styled: bool) -> String {
    let mut table = Table::new();
    table.load_style(UTF8_FULL_CONDENSED.with_rounded_corners()).force_no_tty();
    if styled {
        table.enforce_styling();
    }
    let mut header = vec![Cell::new("metric").add_attribute(Attribute::Bold)];
    header.extend(
        comparison.configs.iter().map(|config| Cell::new(config.label()).add_attribute(Attribute::Bold)),
    );
    table.set_header(header);
    for row in &comparison.rows {
        let unit = row.measure.metric.unit;
        let mut cells = vec![Cell::new(row.label)];
        for (idx, estimate) in row.estimates.iter().enumerate() {
            let mut text = mean_with_interval(estimate.as_ref(), unit);
            if let Some((difference, outcome)) =
                idx.checked_sub(1).and_then(|variant| row.differences.get(variant))
            {
                text.push('\n');
                text.push_str(&difference_text(difference.as_ref(), *outcome, unit));
            }
            cells.push(Cell::new(text));
        }
        table.add_row(cells);
    }
    let seeds = match comparison.seeds.as_slice() {
        [only] => format!("seed {only}"),
        [first, .., last] => format!("seeds {first}-{last}"),
        [] => "no seed".to_string(),
    };
    format!(
        "{} · {} configurations · {} ({} per configuration, common random numbers) · mean ± 95% CI; Δ: paired difference from the baseline\n{table}\n",
        comparison.scenario,
        comparison.configs.len(),
        seeds,
        comparison.seeds.len(),
    )
}

/// `74.3% ± 1.2 pp`, or the mean alone from one seed, or `no value`.
fn mean_with_interval(estimate: Option<&Estimate>, unit: Unit) -> String {
    match estimate {
        Some(estimate) => match estimate.half_width() {
            Some(half) => format!(
                "{} ± {}",
                unit.format(estimate.mean),
                unit.format_difference(half).trim_start_matches('+')
            ),
            None => unit.format(estimate.mean),
        },
        None => "no value".to_string(),
    }
}

/// `Δ +11.8 pp [+10.2 pp, +13.4 pp] better`.
fn difference_text(difference: Option<&Estimate>, outcome: Outcome, unit: Unit) -> String {
    let Some(difference) = difference else { return format!("Δ no value {}", outcome.name()) };
    let interval = match difference.interval {
        Some((low, high)) => format!(" [{}, {}]", unit.format_difference(low), unit.format_difference(high)),
        None => String::new(),
    };
    format!("Δ {}{interval} {}", unit.format_difference(difference.mean), outcome.name())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimDuration;
    use crate::report::tests::{synthetic_series, synthetic_summary};
    use crate::simulation::RunOutput;

    /// A baseline and `variants`, three seeds each: the first variant better, the second the
    /// baseline's twin, the others a little worse and slower.
    fn comparison(variants: &[&str]) -> Comparison {
        let runs = |variant: Option<&str>, idx: usize| -> Vec<RunOutput> {
            (0..3)
                .map(|seed| {
                    let mut summary = synthetic_summary();
                    summary.scenario.variant = variant.map(str::to_string);
                    let (rate, p99) = match idx {
                        0 | 2 => (0.58 + 0.01 * seed as f64, 7_638.0 + 100.0 * seed as f64),
                        1 => (1.0, 202.6 + seed as f64),
                        _ => (0.55 - 0.01 * seed as f64, 9_000.0 + idx as f64 * 10.0),
                    };
                    summary.requests.success_rate = rate;
                    summary.requests.latency_ms.p99 = Some(p99);
                    summary.requests.wasted_cpu_s = if idx == 1 { 0.0 } else { 235_476.7 + seed as f64 };
                    summary.slo.time_to_recover_s = (idx != 1).then_some(7_440.0);
                    RunOutput { summary, series: synthetic_series(30), stopped: None }
                })
                .collect()
        };
        let mut all = vec![runs(None, 0)];
        all.extend(variants.iter().enumerate().map(|(idx, name)| runs(Some(name), idx + 1)));
        crate::compare::compare(
            "000-cpu-regression-monday-peak",
            &[1, 2, 3],
            &all,
            SimDuration::from_secs(60),
        )
    }

    #[test]
    fn the_table_of_four_variants_fits_100_columns() {
        let text = render(&comparison(&["autoscaling", "pooling", "previous-monday", "scale-up"]), false);
        for line in text.lines() {
            assert!(line.chars().count() <= COLUMNS, "{} columns: {line}", line.chars().count());
        }
        let rows: Vec<&str> = text.lines().filter(|line| line.starts_with('│')).collect();
        assert!(rows.iter().all(|row| !row.contains("no value") && !row.contains("inconclusive")), "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn seven_variants_and_long_names_still_fit() {
        let names = [
            "fail-safe",
            "scheduled",
            "staleness-alert",
            "back-pressure",
            "a-very-long-variant-name-indeed",
            "b",
            "c",
        ];
        let text = render(&comparison(&names), false);
        for line in text.lines() {
            assert!(line.chars().count() <= COLUMNS, "{} columns: {line}", line.chars().count());
        }
        for name in names {
            assert!(text.contains(name), "{name}");
        }
        // The wide form is kept for --wide.
        let wide = render_wide(&comparison(&names), false);
        assert!(wide.contains("Δ ") && wide.lines().any(|line| line.chars().count() > COLUMNS));
    }

    #[test]
    fn cells_show_means_intervals_and_verdicts() {
        let estimate = Estimate::of(&[0.9, 0.92, 0.94], 0.95).unwrap();
        assert_eq!(mean_with_interval(Some(&estimate), Unit::Ratio), "92% ± 4.968 pp");
        let one = Estimate::of(&[250.0], 0.95).unwrap();
        assert_eq!(mean_with_interval(Some(&one), Unit::Millis), "250ms");
        let difference = Estimate::of(&[0.05, 0.06, 0.07], 0.95).unwrap();
        assert_eq!(
            difference_text(Some(&difference), Outcome::Better, Unit::Ratio),
            "Δ +6 pp [+3.516 pp, +8.484 pp] better"
        );
    }
}
