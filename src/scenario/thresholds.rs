//! `[[thresholds]]` → `check::Threshold`: the file's keys go through the same checks as
//! `--threshold` expressions, and each refusal becomes a located `Problem` on the key that
//! caused it.

use std::ops::Range;

use super::spanned::Spanned;

use super::error::Problem;
use super::file::{ComparisonFile, TargetFile, ThresholdFile, WindowFile};
use crate::check::threshold::{
    self, Comparison, Measure, Refusal, Statistic, Threshold, Window, parse_target, target_number,
};
use crate::model::Scenario;

/// Resolves every threshold of a file against its resolved scenario.
pub(crate) fn resolve(thresholds: &[ThresholdFile], scenario: &Scenario) -> Result<Vec<Threshold>, Problem> {
    thresholds
        .iter()
        .enumerate()
        .map(|(idx, file)| resolve_one(&format!("thresholds[{idx}]"), file, scenario))
        .collect()
}

/// A refusal about the value at `span`, under `key`.
fn located(span: Range<usize>, key: String) -> impl FnOnce(Refusal) -> Problem {
    move |refusal| {
        let problem = Problem::new(span, key, refusal.message);
        match refusal.expected {
            Some(expected) => problem.expected(expected),
            None => problem,
        }
    }
}

fn resolve_one(key: &str, file: &ThresholdFile, scenario: &Scenario) -> Result<Threshold, Problem> {
    let at = |value: &Spanned<String>, field: &str| located(value.span(), format!("{key}.{field}"));
    let aggregation = file.aggregation.as_ref();
    let metric = threshold::resolve_metric(file.metric.get_ref(), aggregation.map(|a| a.get_ref().as_str()))
        .map_err(match aggregation {
            Some(aggregation) if file.metric.get_ref().split_once('.').is_none() => {
                at(aggregation, "aggregation")
            }
            _ => at(&file.metric, "metric"),
        })?;
    let class = file.class.as_ref();
    let service = file.service.as_ref();
    let scope = threshold::resolve_scope(
        metric,
        class.map(|class| class.get_ref().as_str()),
        service.map(|service| service.get_ref().as_str()),
        scenario,
    )
    .map_err(match (class, service) {
        (_, Some(service)) => at(service, "service"),
        (Some(class), None) => at(class, "class"),
        (None, None) => at(&file.metric, "metric"),
    })?;
    let value_at = || located(file.value.span(), format!("{key}.value"));
    let (target, target_text) = match file.value.get_ref() {
        TargetFile::Text(text) => (parse_target(metric, text).map_err(value_at())?, text.clone()),
        TargetFile::Number(number) => {
            (target_number(metric, *number).map_err(value_at())?, number.to_string())
        }
    };
    let window = match &file.window {
        None => Window::Run,
        Some(window) => resolve_window(metric, window, scenario)
            .map_err(located(window.span(), format!("{key}.window")))?,
    };
    let statistic = match &file.statistic {
        Some(statistic) => Statistic::parse(statistic.get_ref()).map_err(at(statistic, "statistic"))?,
        None => Statistic::Mean,
    };
    Ok(Threshold {
        measure: Measure { metric, scope, window },
        comparison: comparison_of(*file.comparison.get_ref()),
        target,
        target_text,
        statistic,
    })
}

fn resolve_window(
    metric: &'static crate::check::metric::Metric,
    window: &Spanned<WindowFile>,
    scenario: &Scenario,
) -> Result<Window, Refusal> {
    let window = window.get_ref();
    match (&window.from, &window.to, &window.sliding) {
        (Some(from), Some(to), None) => {
            threshold::resolve_span(metric, *from.get_ref(), *to.get_ref(), scenario)
        }
        (None, None, Some(length)) => threshold::resolve_sliding(metric, *length.get_ref(), scenario),
        _ => Err(Refusal::new("a window is a span or a sliding window")
            .expected(r#"{ from = "08:00", to = "10:00" } or { sliding = "10m" }"#)),
    }
}

fn comparison_of(comparison: ComparisonFile) -> Comparison {
    match comparison {
        ComparisonFile::Less => Comparison::Less,
        ComparisonFile::LessOrEqual => Comparison::LessOrEqual,
        ComparisonFile::Greater => Comparison::Greater,
        ComparisonFile::GreaterOrEqual => Comparison::GreaterOrEqual,
    }
}
