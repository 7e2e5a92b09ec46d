//! The comparison as a terminal table: a row per metric, a column per configuration. Each
//! cell is the mean over seeds with its 95% interval; a variant's cell adds its paired
//! difference from the baseline and the verdict.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Attribute, Cell, Table};

use crate::check::metric::Unit;
use crate::compare::{Comparison, Outcome};
use crate::stats::confidence::Estimate;

/// Renders `comparison`; `styled` adds bold for a terminal.
pub fn render(comparison: &Comparison, styled: bool) -> String {
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
