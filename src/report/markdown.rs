//! A Markdown page for a CI job summary (GitHub's `$GITHUB_STEP_SUMMARY`, GitLab's report
//! pages): a heading with the outcome, then one table row per threshold.

use crate::check::CheckReport;

/// The Markdown page of `report`.
pub fn render(report: &CheckReport) -> String {
    let outcome = if report.passed() { "passed" } else { "failed" };
    let mut res = format!("## stormsim check: {} {outcome}\n\n", escape(&report.title()));
    res.push_str(&format!("{}.\n\n", report.tally()));
    res.push_str("| | threshold | observed | note |\n|---|---|---|---|\n");
    for verdict in &report.verdicts {
        let description = report.describe(verdict);
        let mark = if description.passed { "✅" } else { "❌" };
        res.push_str(&format!(
            "| {mark} | `{}` | {} | {} |\n",
            description.expression.replace('`', "'").replace('|', "\\|"),
            escape(&description.observed),
            escape(&description.note),
        ));
    }
    res
}

/// Text safe in a table cell: pipes and Markdown punctuation escaped, no line breaks.
fn escape(text: &str) -> String {
    let mut res = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' | '\\' => {
                res.push('\\');
                res.push(c);
            }
            '\n' | '\r' => res.push(' '),
            _ => res.push(c),
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heading_then_a_row_per_threshold() {
        let page = render(&crate::check::tests::report());
        let lines: Vec<&str> = page.lines().collect();
        assert_eq!(lines[0], "## stormsim check: demo (variant budget) failed");
        assert_eq!(lines[5], "|---|---|---|---|");
        assert!(lines[6].starts_with("| ✅ | `success_rate >= 90%` | "), "{page}");
        assert!(lines[7].starts_with("| ❌ | `success_rate >= 99% sliding 5m` | "), "{page}");
        assert_eq!(page.lines().filter(|line| line.starts_with("| ")).count(), 4);
        assert_eq!(escape("a|b_c"), "a\\|b\\_c");
    }
}
