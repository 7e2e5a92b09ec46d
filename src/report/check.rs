//! `check`'s verdicts for the terminal: a line per threshold, then the tally.

use crate::check::{CheckReport, Description};

/// The verdict lines: a mark, the expression, the observed value, the note; `styled`
/// colours the marks (green met, red missed).
pub fn render(report: &CheckReport, styled: bool) -> String {
    let descriptions: Vec<Description> =
        report.verdicts.iter().map(|verdict| report.describe(verdict)).collect();
    let width = descriptions.iter().map(|d| d.expression.chars().count()).max().unwrap_or(0);
    let mut res = String::new();
    for description in &descriptions {
        let mark = match (description.passed, styled) {
            (true, false) => "✔",
            (false, false) => "✘",
            (true, true) => "\x1b[32m✔\x1b[0m",
            (false, true) => "\x1b[1;31m✘\x1b[0m",
        };
        res.push_str(&format!(
            "{mark} {:<width$}  observed {}",
            description.expression, description.observed
        ));
        if !description.note.is_empty() {
            res.push_str(&format!("  ({})", description.note));
        }
        res.push('\n');
    }
    res.push_str(&format!("{}: {}\n", report.title(), report.tally()));
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::tests::report;

    #[test]
    fn verdict_lines_come_with_marks_values_and_misses() {
        let text = render(&report(), false);
        let styled = render(&report(), true);
        assert!(styled.starts_with("\x1b[32m✔\x1b[0m success_rate >= 90%") && styled.contains("\x1b[1;31m✘"));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("✔ success_rate >= 90% "), "{text}");
        assert!(lines[1].starts_with("✘ success_rate >= 99% sliding 5m  observed "), "{text}");
        assert!(lines[1].contains("misses by ") && lines[1].contains("worst window 06:"), "{text}");
        assert!(
            lines[2].starts_with("✘ slo.time_to_recover <= 5m")
                && lines[2].contains("no value in 2 of 2 runs"),
            "{text}"
        );
        assert_eq!(lines[3], "demo (variant budget): 1 of 3 thresholds met (2 runs, seeds 1-2)");
    }
}
