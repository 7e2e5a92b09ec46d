//! Self-contained HTML reports, one file per `run`, `compare`, `sweep` and `check`: inline
//! CSS and SVG, no script, no fonts or images fetched, so a report opens from disk, from a
//! CI artifact or an email attachment alike.
//!
//! Each report leads with what a postmortem review asks first (what happened, the verdicts
//! or the comparison), then the charts, the tables, the scenario's own notes on its
//! assumptions, the command that reproduces it, and the resolved scenario.

use super::Presentation;
use crate::check::CheckReport;
use crate::compare::Comparison;
use crate::simulation::RunOutput;
use crate::sweep::{MetricValues, Sweep};
use comfy_table::Table;
use std::fmt::{self, Write as _};
use std::io;

/// The file name of a report in its folder.
pub const REPORT_FILE: &str = "report.html";

/// The failing seeds a check report draws; the others are listed (each has its folder).
pub const CHARTED_SEEDS: usize = 3;

const STYLE: &str = "
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; color: #1f2328; margin: 0; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 32px 64px; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.2em; margin: 32px 0 8px; border-bottom: 1px solid #d0d7de; padding-bottom: 4px; }
.meta { color: #59636e; margin: 0 0 16px; }
.warning { background: #fff1e5; border-left: 4px solid #bc4c00; padding: 8px 12px; }
table { border-collapse: collapse; margin: 8px 0 16px; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; vertical-align: top; }
th { background: #f6f8fa; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.pass { color: #1a7f37; font-weight: 600; }
td.fail { color: #cf222e; font-weight: 600; }
.better { color: #1a7f37; } .worse { color: #cf222e; } .inconclusive { color: #59636e; }
pre { background: #f6f8fa; padding: 10px 12px; overflow-x: auto; font-size: 13px; }
figure { margin: 8px 0; } figure svg { max-width: 100%; height: auto; }
details summary { cursor: pointer; color: #0969da; }
";

/// A report page under construction, written into `html` as it is built: a `String`, or a
/// file (`Sink`) for a run's report, whose chart makes it a megabyte on a long run.
struct Page<W = String> {
    html: W,
}

impl Page {
    fn new(title: &str, meta: &str) -> Page {
        Page::start(String::new(), title, meta)
    }

    fn finish(self) -> String {
        self.end()
    }
}

impl<W: fmt::Write> Page<W> {
    fn start(mut html: W, title: &str, meta: &str) -> Page<W> {
        let _ = write!(
            html,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"generator\" content=\"stormsim {}\">\n<title>{}</title>\n<style>{STYLE}</style>\n\
             </head>\n<body>\n<main>\n<h1>{}</h1>\n<p class=\"meta\">{}</p>\n",
            env!("CARGO_PKG_VERSION"),
            escape(title),
            escape(title),
            escape(meta),
        );
        Page { html }
    }

    fn heading(&mut self, text: &str) {
        let _ = writeln!(self.html, "<h2>{}</h2>", escape(text));
    }

    fn warning(&mut self, text: &str) {
        let _ = writeln!(self.html, "<p class=\"warning\">{}</p>", escape(text));
    }

    fn paragraph(&mut self, text: &str) {
        let _ = writeln!(self.html, "<p>{}</p>", escape(text));
    }

    fn pre(&mut self, text: &str) {
        let _ = writeln!(self.html, "<pre>{}</pre>", escape(text.trim_end()));
    }

    /// A chart's SVG, inlined; the XML namespace is implied in HTML. Written around the
    /// namespace rather than through a copy without it: a chart can be half a megabyte.
    fn figure(&mut self, svg: &str) {
        const XMLNS: &str = " xmlns=\"http://www.w3.org/2000/svg\"";
        let (head, tail) = match svg.find(XMLNS) {
            Some(at) => (&svg[..at], &svg[at + XMLNS.len()..]),
            None => (svg, ""),
        };
        // `head + tail`, trimmed at both ends.
        let head = head.trim_start();
        let (head, tail) = match (head.is_empty(), tail.trim_end().is_empty()) {
            (true, _) => (tail.trim(), ""),
            (false, true) => (head.trim_end(), ""),
            (false, false) => (head, tail.trim_end()),
        };
        let _ = writeln!(self.html, "<figure>\n{head}{tail}\n</figure>");
    }

    /// A terminal table (`report::table`) as an HTML table, numbers right-aligned.
    fn table(&mut self, table: &Table) {
        let _ = self.html.write_str("<table>\n");
        if let Some(header) = table.header() {
            let _ = self.html.write_str("<tr>");
            for cell in header.cell_iter() {
                let _ = write!(self.html, "<th>{}</th>", escape(&cell.content()));
            }
            let _ = self.html.write_str("</tr>\n");
        }
        for row in table.row_iter() {
            let cells: Vec<String> = row.cell_iter().map(comfy_table::Cell::content).collect();
            self.row(&cells.iter().map(String::as_str).collect::<Vec<_>>());
        }
        let _ = self.html.write_str("</table>\n");
    }

    /// A row of cells, numbers right-aligned, a sub-row's indent kept.
    fn row(&mut self, cells: &[&str]) {
        let _ = self.html.write_str("<tr>");
        for cell in cells {
            let indent = cell.len() - cell.trim_start_matches(' ').len();
            let verdict =
                ["better", "worse"].into_iter().find(|verdict| cell.ends_with(&format!(" {verdict}")));
            let attributes = if let Some(verdict) = verdict {
                format!(" class=\"num {verdict}\"")
            } else if looks_numeric(cell) {
                " class=\"num\"".to_owned()
            } else if indent > 0 {
                format!(" style=\"padding-left: {}em\"", 0.6 + indent as f64 / 2.0)
            } else {
                String::new()
            };
            let _ =
                write!(self.html, "<td{attributes}>{}</td>", escape(cell.trim_start()).replace('\n', "<br>"));
        }
        let _ = self.html.write_str("</tr>\n");
    }

    /// The scenario's notes, the command that reproduces the report, and the resolved
    /// scenario (folded).
    fn presentation(&mut self, presentation: &Presentation) {
        if !presentation.notes.trim().is_empty() {
            self.heading("The scenario's assumptions");
            self.pre(&presentation.notes);
        }
        self.heading("Reproduce");
        if !presentation.command.is_empty() {
            self.pre(&presentation.command);
        }
        self.paragraph(&format!(
            "stormsim {}; a run is a pure function of the scenario, the seed and the version.",
            env!("CARGO_PKG_VERSION")
        ));
        if !presentation.resolved_toml.is_empty() {
            let _ = writeln!(
                self.html,
                "<details>\n<summary>The resolved scenario (every default written out)</summary>\n<pre>{}</pre>\n</details>",
                escape(presentation.resolved_toml.trim_end())
            );
        }
    }

    fn end(mut self) -> W {
        let _ = self.html.write_str("</main>\n</body>\n</html>\n");
        self.html
    }
}

/// `fmt::Write` into a file, so a page is written as it is built; keeps the first error
/// for the end.
struct Sink<W> {
    out: W,
    error: Option<io::Error>,
}

impl<W: io::Write> fmt::Write for Sink<W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        if self.error.is_none()
            && let Err(error) = self.out.write_all(text.as_bytes())
        {
            self.error = Some(error);
        }
        if self.error.is_some() { Err(fmt::Error) } else { Ok(()) }
    }
}

/// Writes the report of one run to `out` (buffer it: it is written in small pieces): what
/// happened, the charts, every table, the scenario.
pub fn write_run(
    out: impl io::Write,
    output: &RunOutput,
    chart_svg: &str,
    presentation: &Presentation,
) -> io::Result<()> {
    let summary = &output.summary;
    let mut title = summary.scenario.name.clone();
    if let Some(variant) = &summary.scenario.variant {
        title.push_str(&format!(" · variant {variant}"));
    }
    let warmup = summary
        .warmup_s
        .map(|warmup_s| {
            format!(" (first {} warm-up, not measured)", crate::engine::SimDuration::from_secs_f64(warmup_s))
        })
        .unwrap_or_default();
    let meta = format!(
        "seed {} · {} simulated{warmup} · {} events · scenario hash {}",
        summary.seed,
        crate::engine::SimDuration::from_secs_f64(summary.simulated_s),
        thousands(summary.engine.events_handled),
        summary.scenario.hash,
    );
    let mut page = Page::start(Sink { out, error: None }, &title, &meta);
    if !presentation.description.is_empty() {
        page.paragraph(&presentation.description);
    }
    if summary.partial {
        let reason = summary.stopped_by.as_deref().unwrap_or("a guard tripped");
        page.warning(&format!(
            "Partial run: stopped early ({reason}); the figures cover the simulated time above."
        ));
    }
    let mut tables = super::table::tables(summary, false);
    let happened = (summary.slo.first_breach.is_some() || !summary.timeline.is_empty()).then(|| tables.pop());
    if let Some(Some(table)) = happened {
        page.heading("What happened");
        page.table(&table);
    }
    page.heading("Over time");
    page.figure(chart_svg);
    page.heading("Requests, services and clients");
    for table in &tables {
        page.table(table);
    }
    page.presentation(presentation);
    let mut sink = page.end();
    match sink.error {
        Some(error) => Err(error),
        None => sink.out.flush(),
    }
}

/// The report of a comparison: each metric per configuration, the chart, the scenario.
pub fn compare(comparison: &Comparison, chart_svg: &str, presentation: &Presentation) -> String {
    let meta = format!(
        "{} configurations · seeds {} ({} per configuration, common random numbers) · mean ± 95% CI",
        comparison.configs.len(),
        seed_range(&comparison.seeds),
        comparison.seeds.len(),
    );
    let mut page = Page::new(&format!("{} · comparison", comparison.scenario), &meta);
    page.heading("Each variant against the baseline");
    page.paragraph(
        "The baseline's mean ± the half-width of its 95% interval; each variant's mean, better or \
         worse when the 95% interval of its paired difference from the baseline (same seeds) \
         excludes zero, same when every seed matched the baseline.",
    );
    page.table(&super::compare::full_table(comparison));
    page.heading("Over time");
    page.figure(chart_svg);
    page.presentation(presentation);
    page.finish()
}

/// The report of a sweep: the table of the chosen metric per grid point, the chart, the
/// scenario.
pub fn sweep(sweep: &Sweep, runs: &[MetricValues], chart_svg: &str, presentation: &Presentation) -> String {
    let axes: Vec<&str> = sweep.axes.iter().map(|axis| axis.path.as_str()).collect();
    let meta = format!(
        "{} grid points over {} · {} seeds each ({}) · {}",
        sweep.points.len(),
        axes.join(" × "),
        sweep.seeds.len(),
        seed_range(&sweep.seeds),
        sweep.metric.name,
    );
    let mut page = Page::new(&format!("{} · sweep", sweep.scenario), &meta);
    page.heading("Over the grid");
    page.figure(chart_svg);
    page.pre(&super::sweep::table(sweep, runs));
    page.presentation(presentation);
    page.finish()
}

/// The report of a metastability map: the heatmap, then the terminal's table (cells,
/// boundary, recovery times).
pub fn metastability(
    map: &crate::metastability::Map,
    cells: &[crate::metastability::Cell],
    chart_svg: &str,
    presentation: &Presentation,
) -> String {
    let meta = format!(
        "{} x {} surges of sources.{} · {} seeds each ({}) · judged {} after each surge",
        map.factors.values.len(),
        map.durations.values.len(),
        map.source,
        map.seeds.len(),
        seed_range(&map.seeds),
        map.settle,
    );
    let variant = map.variant.as_ref().map_or_else(String::new, |variant| format!(" · {variant}"));
    let mut page = Page::new(&format!("{}{variant} · metastability", map.scenario), &meta);
    page.heading("Seeds still collapsed after the surge");
    page.figure(chart_svg);
    page.pre(&super::metastability::table(map, cells));
    page.presentation(presentation);
    page.finish()
}

/// The report of a check: each verdict, then the charts of the runs that missed a target
/// (`(seed, chart)`), the scenario.
pub fn check(report: &CheckReport, failing: &[(u64, String)], presentation: &Presentation) -> String {
    let meta = format!("{} · scenario hash {}", report.tally(), report.scenario_hash);
    let mut page = Page::new(&format!("{} · check", report.title()), &meta);
    page.heading("Verdicts");
    page.html.push_str("<table>\n<tr><th></th><th>threshold</th><th>observed</th><th>note</th></tr>\n");
    for verdict in &report.verdicts {
        let description = report.describe(verdict);
        let (class, mark) = if description.passed { ("pass", "✔ met") } else { ("fail", "✘ missed") };
        let _ = writeln!(
            page.html,
            "<tr><td class=\"{class}\">{mark}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&description.expression),
            escape(&description.observed),
            escape(&description.note),
        );
    }
    page.html.push_str("</table>\n");
    for (seed, svg) in failing.iter().take(CHARTED_SEEDS) {
        page.heading(&format!("Seed {seed}, which missed a target"));
        page.figure(svg);
    }
    if failing.len() > CHARTED_SEEDS {
        let rest: Vec<String> = failing[CHARTED_SEEDS..].iter().map(|(seed, _)| seed.to_string()).collect();
        page.paragraph(&format!(
            "Also missed a target: seeds {}; each has its run folder (seed-N/) beside this report.",
            rest.join(", ")
        ));
    }
    page.presentation(presentation);
    page.finish()
}

/// `3`, or `1-5`.
fn seed_range(seeds: &[u64]) -> String {
    match seeds {
        [only] => only.to_string(),
        [first, .., last] => format!("{first}-{last}"),
        [] => "none".to_string(),
    }
}

/// A cell that holds a figure: starts with a digit, a sign or a dash for no value, and has
/// no more letters than a unit (`ms`, `/s`, `%`).
fn looks_numeric(cell: &str) -> bool {
    let starts =
        cell.trim_start().chars().next().is_some_and(|c| c.is_ascii_digit() || matches!(c, '–' | '+' | '-'));
    starts && cell.chars().filter(|c| c.is_alphabetic()).count() <= 3
}

/// `23,631,848`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut res = String::new();
    for (idx, digit) in digits.chars().enumerate() {
        if idx > 0 && (digits.len() - idx).is_multiple_of(3) {
            res.push(',');
        }
        res.push(digit);
    }
    res
}

/// Text made safe for HTML element content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut res = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => res.push_str("&amp;"),
            '<' => res.push_str("&lt;"),
            '>' => res.push_str("&gt;"),
            '"' => res.push_str("&quot;"),
            c => res.push(c),
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An inlined chart is its SVG without the namespace, trimmed, whatever surrounds it.
    #[test]
    fn a_figure_drops_the_namespace_and_trims() {
        const XMLNS: &str = " xmlns=\"http://www.w3.org/2000/svg\"";
        for svg in [
            format!("<svg{XMLNS} width=\"4\">\n<rect/>\n</svg>\n"),
            format!("  \n<svg{XMLNS}>x</svg>"),
            format!("{XMLNS}  <svg/> "),
            format!("<svg>{XMLNS}  \n"),
            format!("<svg>{XMLNS}{XMLNS}</svg>"),
            "<svg>no namespace</svg>\n".to_owned(),
            "  ".to_owned(),
            String::new(),
        ] {
            let mut page = Page { html: String::new() };
            page.figure(&svg);
            let expected = svg.replacen(XMLNS, "", 1);
            assert_eq!(page.html, format!("<figure>\n{}\n</figure>\n", expected.trim()), "{svg:?}");
        }
    }

    #[test]
    fn text_is_escaped_and_figures_are_told_from_words() {
        assert_eq!(escape(r#"a < b & "c" > d"#), "a &lt; b &amp; &quot;c&quot; &gt; d");
        assert!(looks_numeric("6,191 ms") && looks_numeric("58.07 %") && looks_numeric("–"));
        assert!(!looks_numeric("0 retries, amplification 1.00×") && !looks_numeric("api"));
        let mut page = Page::new("t", "m");
        page.row(&["p99 latency (s)", "0.038 better", "1.981 worse", "  timeout"]);
        assert!(page.html.contains("<td class=\"num better\">0.038 better</td>"), "{}", page.html);
        assert!(page.html.contains("<td class=\"num worse\">1.981 worse</td>"));
        assert!(page.html.contains("<td style=\"padding-left: 1.6em\">timeout</td>"));
        assert_eq!(thousands(23_631_848), "23,631,848");
        assert_eq!(thousands(999), "999");
    }
}
