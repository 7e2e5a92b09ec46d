//! Single keys overridden by dotted path, for sweeps and capacity searches: the `[sweep]`
//! table of a file (`"services.api.instances" = [4, 6, 8]`) and `--param PATH=V1,V2,...`.
//!
//! An override becomes a nested table (`services.api.instances = 6` is
//! `{ services = { api = { instances = 6 } } }`) merged into the parsed document the way a
//! variant is (`variants::merge`), before the typed read. Every value keeps a span: in the
//! file for `[sweep]`, or in the text of its command-line flag, so an error names the file,
//! line, column and key, or the flag.
//!
//! Invariant: a path's tables (every segment but the last) must exist in the base; only the
//! last key may be new, and the typed read checks it like any other key.

use crate::refusal::{Refusal, quoted_list};
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::Problem;

/// The top-level key of a sweep.
pub(crate) const SWEEP_KEY: &str = "sweep";
/// Keys of `[sweep]` that are settings, not parameters.
const SETTINGS: &[&str] = &["replications", "metric"];

/// Spans at or above this offset point into a flag's text, not the file's.
const FLAG_SPANS: usize = usize::MAX / 2;
/// Room for each flag's text in the span space.
const FLAG_STRIDE: usize = 1 << 20;

/// Where a parameter was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// In the scenario file; spans are the file's.
    File,
    /// On the command line: the flag (`--param`), its argument as given, and the flag's
    /// position among the command line's overrides; spans are in `text`.
    Flag { flag: String, text: String, index: usize },
}

/// One value a parameter takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamValue {
    /// For tables and columns: a string without its quotes (`2s`), anything else as written.
    pub label: String,
    /// The value as TOML (`"2s"`, `16`, `1.5`).
    pub literal: String,
    /// Where it is written, in its origin's text.
    pub span: Range<usize>,
}

/// A swept key and its values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parameter {
    /// `services.api.instances`.
    pub path: String,
    pub values: Vec<ParamValue>,
    pub origin: Origin,
    /// Where the path is written, in its origin's text.
    pub path_span: Range<usize>,
}

/// The `[sweep]` table of a file: its parameters (in key order) and settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SweepTable {
    pub parameters: Vec<Parameter>,
    pub replications: Option<u64>,
    pub metric: Option<(String, Range<usize>)>,
}

/// One override to apply: a parameter and the index of its value.
#[derive(Clone, Copy, Debug)]
pub struct Setting<'a> {
    pub parameter: &'a Parameter,
    pub value: usize,
}

impl Parameter {
    /// `PATH=V1,V2,...` from the command line flag `flag`; `index` is its position among
    /// the flags (so its spans are told apart). Values are TOML (`16`, `1.5`, `"2s"`), or
    /// taken as strings when they are not (`2s`).
    pub fn from_flag(flag: &str, text: &str, index: usize) -> Result<Parameter, Refusal> {
        let Some((path, values)) = text.split_once('=') else {
            return Err(Refusal::new(format!("{flag} \"{text}\" has no '='"))
                .expected("PATH=V1,V2,... such as services.api.instances=4,6,8"));
        };
        let path_span = span_of_trimmed(text, 0, path);
        let path = path.trim();
        check_path_syntax(path).map_err(|refusal| refusal.of(&format!("{flag} \"{text}\"")))?;
        let mut offset = path_span.end.max(text.find('=').unwrap_or(0)) + 1;
        let mut parsed = Vec::new();
        for raw in values.split(',') {
            let span = span_of_trimmed(text, offset, raw);
            offset += raw.len() + 1;
            let value = raw.trim();
            if value.is_empty() {
                return Err(
                    Refusal::new(format!("{flag} \"{text}\" has an empty value")).expected("PATH=V1,V2,...")
                );
            }
            parsed.push(ParamValue::from_text(value, span));
        }
        let origin = Origin::Flag { flag: flag.to_string(), text: text.to_string(), index };
        Ok(Parameter { path: path.to_string(), values: parsed, origin, path_span })
    }

    /// A parameter with values made by the program (a capacity probe), reported against the
    /// flag text that asked for them.
    pub fn probe(flag: &str, text: &str, path: &str, literals: &[String]) -> Result<Parameter, Refusal> {
        check_path_syntax(path).map_err(|refusal| refusal.of(&format!("{flag} \"{text}\"")))?;
        let all = 0..text.len();
        let values = literals.iter().map(|literal| ParamValue::from_text(literal, all.clone())).collect();
        let origin = Origin::Flag { flag: flag.to_string(), text: text.to_string(), index: 0 };
        Ok(Parameter { path: path.to_string(), values, origin, path_span: all })
    }

    /// A span of this parameter's text in the span space of the merged document.
    fn global(&self, span: &Range<usize>) -> Range<usize> {
        match &self.origin {
            Origin::File => span.clone(),
            Origin::Flag { index, .. } => {
                let base = FLAG_SPANS + index * FLAG_STRIDE;
                base + span.start.min(FLAG_STRIDE - 1)..base + span.end.min(FLAG_STRIDE - 1)
            }
        }
    }

    /// The override of value `idx` as a nested table, every span pointing where it was written.
    fn table(&self, idx: usize) -> Result<DeTable<'_>, Problem> {
        let value = &self.values[idx];
        let value_span = self.global(&value.span);
        let parsed = DeValue::parse(&value.literal)
            .map_err(|_| Problem::new(value_span.clone(), self.path.clone(), "not a TOML value"))?
            .into_inner();
        let mut node = Spanned::new(value_span.clone(), respan(parsed, &value_span));
        let key_span = self.global(&self.path_span);
        for segment in self.path.rsplit('.') {
            let mut table = DeTable::new();
            table.insert(Spanned::new(key_span.clone(), segment.into()), node);
            node = Spanned::new(key_span.clone(), DeValue::Table(table));
        }
        match node.into_inner() {
            DeValue::Table(table) => Ok(table),
            _ => unreachable!("built as a table"),
        }
    }

    /// Checks that every table on the path exists in `base`.
    fn check_tables(&self, base: &DeTable<'_>) -> Result<(), Problem> {
        let segments: Vec<&str> = self.path.split('.').collect();
        let mut table = base;
        for (depth, segment) in segments[..segments.len() - 1].iter().enumerate() {
            let so_far = segments[..=depth].join(".");
            let next = table.get(*segment).map(|value| value.get_ref());
            match next {
                Some(DeValue::Table(inner)) => table = inner,
                Some(_) => {
                    return Problem::new(
                        self.global(&self.path_span),
                        self.path.clone(),
                        format!("\"{so_far}\" is not a table"),
                    )
                    .expected("a path to a key inside a table, such as services.api.instances")
                    .into_err();
                }
                None => {
                    let names: Vec<&str> = table.iter().map(|(key, _)| key.get_ref().as_ref()).collect();
                    let expected = if names.is_empty() {
                        "a table the scenario has".to_string()
                    } else {
                        format!("one of {}", quoted_list(&names))
                    };
                    return Problem::new(
                        self.global(&self.path_span),
                        self.path.clone(),
                        format!("the scenario has no \"{so_far}\""),
                    )
                    .expected(expected)
                    .into_err();
                }
            }
        }
        Ok(())
    }
}

impl ParamValue {
    /// A value as given on the command line: TOML if it parses as a TOML value, a string
    /// otherwise.
    fn from_text(text: &str, span: Range<usize>) -> ParamValue {
        match DeValue::parse(text) {
            Ok(value) => {
                ParamValue { label: label_of(value.get_ref(), text), literal: text.to_string(), span }
            }
            Err(_) => {
                ParamValue { label: text.to_string(), literal: toml::Value::from(text).to_string(), span }
            }
        }
    }
}

fn label_of(value: &DeValue<'_>, literal: &str) -> String {
    match value.as_str() {
        Some(text) => text.to_string(),
        None => literal.to_string(),
    }
}

/// The span of `part.trim()`, where `part` starts at byte `offset` of its text.
fn span_of_trimmed(_text: &str, offset: usize, part: &str) -> Range<usize> {
    let start = offset + (part.len() - part.trim_start().len());
    start..start + part.trim().len()
}

fn check_path_syntax(path: &str) -> Result<(), Refusal> {
    let valid = path.split('.').all(|segment| {
        !segment.is_empty() && segment.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
    });
    if !valid || !path.contains('.') {
        return Err(Refusal::new(format!("\"{path}\" is not a dotted path"))
            .expected("a key such as services.api.instances or clients.app.timeout"));
    }
    Ok(())
}

/// `value` with every nested span set to `span`.
fn respan<'i>(value: DeValue<'i>, span: &Range<usize>) -> DeValue<'i> {
    match value {
        DeValue::Array(array) => {
            let mut res = toml::de::DeArray::new();
            for item in array {
                res.push(Spanned::new(span.clone(), respan(item.into_inner(), span)));
            }
            DeValue::Array(res)
        }
        DeValue::Table(table) => {
            let mut res = DeTable::new();
            for (key, item) in table {
                res.insert(
                    Spanned::new(span.clone(), key.into_inner()),
                    Spanned::new(span.clone(), respan(item.into_inner(), span)),
                );
            }
            DeValue::Table(res)
        }
        other => other,
    }
}

/// Applies `settings` to `document`, checking each path against it first.
pub(crate) fn apply<'i>(document: &mut DeTable<'i>, settings: &[Setting<'i>]) -> Result<(), Problem> {
    for setting in settings {
        setting.parameter.check_tables(document)?;
        let table = setting.parameter.table(setting.value)?;
        super::variants::merge(document, table);
    }
    Ok(())
}

/// Takes `[sweep]` out of `document` and reads it; `text` is the file's.
pub(crate) fn take_sweep(document: &mut DeTable<'_>, text: &str) -> Result<Option<SweepTable>, Problem> {
    let Some(value) = document.remove(SWEEP_KEY) else { return Ok(None) };
    let expected = "a table such as [sweep] \"services.api.instances\" = [4, 6, 8]";
    let span = value.span();
    let DeValue::Table(table) = value.into_inner() else {
        return Problem::new(span, SWEEP_KEY, "sweep is not a table").expected(expected).into_err();
    };
    let mut sweep = SweepTable::default();
    for (name, value) in table {
        let name_text = name.get_ref().to_string();
        let key = format!("{SWEEP_KEY}.{name_text}");
        let value_span = value.span();
        match name_text.as_str() {
            "replications" => {
                let count =
                    value.get_ref().as_integer().and_then(|integer| integer.as_str().parse::<u64>().ok());
                match count {
                    Some(count) if (1..=100_000).contains(&count) => sweep.replications = Some(count),
                    _ => {
                        return Problem::new(
                            value_span,
                            key,
                            "replications is not a whole number from 1 to 100000",
                        )
                        .expected("a number such as replications = 5")
                        .into_err();
                    }
                }
            }
            "metric" => match value.get_ref().as_str() {
                Some(metric) => {
                    if let Err((message, expected)) = crate::check::metric::lookup(metric) {
                        return Problem::new(value_span, key, message).expected(expected).into_err();
                    }
                    sweep.metric = Some((metric.to_string(), value_span));
                }
                None => {
                    return Problem::new(value_span, key, "metric is not a string")
                        .expected("a metric name such as metric = \"success_rate\"")
                        .into_err();
                }
            },
            _ => {
                if let Err(refusal) = check_path_syntax(&name_text) {
                    let mut names = vec!["a dotted path such as \"services.api.instances\""];
                    names.extend(SETTINGS.iter().map(|setting| match *setting {
                        "replications" => "\"replications\"",
                        _ => "\"metric\"",
                    }));
                    return Problem::new(name.span(), key, refusal.message)
                        .expected(names.join(", "))
                        .into_err();
                }
                let items = match value.get_ref() {
                    DeValue::Array(items) if !items.is_empty() => items,
                    _ => {
                        return Problem::new(value_span, key, "a swept key takes a list of values")
                            .expected("a non-empty array such as [4, 6, 8]")
                            .into_err();
                    }
                };
                let values = items
                    .iter()
                    .map(|item| {
                        let span = item.span();
                        let literal = text.get(span.clone()).unwrap_or_default().to_string();
                        ParamValue { label: label_of(item.get_ref(), &literal), literal, span }
                    })
                    .collect();
                sweep.parameters.push(Parameter {
                    path: name_text,
                    values,
                    origin: Origin::File,
                    path_span: name.span(),
                });
            }
        }
    }
    Ok(Some(sweep))
}

/// If `problem` is about a flag's text, the flag's text, its name and the problem's span in
/// that text.
pub(crate) fn flag_of<'p>(
    problem: &Problem,
    parameters: &[&'p Parameter],
) -> Option<(&'p str, &'p str, Range<usize>)> {
    if problem.span.start < FLAG_SPANS {
        return None;
    }
    let index = (problem.span.start - FLAG_SPANS) / FLAG_STRIDE;
    let base = FLAG_SPANS + index * FLAG_STRIDE;
    parameters.iter().find_map(|parameter| match &parameter.origin {
        Origin::Flag { flag, text, index: own } if *own == index => Some((
            flag.as_str(),
            text.as_str(),
            problem.span.start - base..problem.span.end.max(problem.span.start) - base,
        )),
        _ => None,
    })
}

/// Whether a span is in the flag space (used where toml clamps spans to the file).
pub(crate) fn in_flag_space(span: &Range<usize>) -> bool {
    span.start >= FLAG_SPANS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_values_and_spans() {
        let parameter = Parameter::from_flag("--param", "clients.app.timeout = 2s, \"5s\",10", 0).unwrap();
        assert_eq!(parameter.path, "clients.app.timeout");
        let labels: Vec<&str> = parameter.values.iter().map(|value| value.label.as_str()).collect();
        assert_eq!(labels, ["2s", "5s", "10"]);
        let literals: Vec<&str> = parameter.values.iter().map(|value| value.literal.as_str()).collect();
        assert_eq!(literals, ["\"2s\"", "\"5s\"", "10"]);
        let text = "clients.app.timeout = 2s, \"5s\",10";
        assert_eq!(&text[parameter.values[1].span.clone()], "\"5s\"");
        assert_eq!(&text[parameter.path_span.clone()], "clients.app.timeout");
        assert!(
            Parameter::from_flag("--param", "instances=4", 0)
                .unwrap_err()
                .to_string()
                .contains("not a dotted path")
        );
        assert!(Parameter::from_flag("--param", "a.b", 0).unwrap_err().to_string().contains("has no '='"));
        assert!(
            Parameter::from_flag("--param", "a.b=1,,2", 0).unwrap_err().to_string().contains("empty value")
        );
    }

    #[test]
    fn a_setting_becomes_a_nested_table() {
        let parameter = Parameter::from_flag("--param", "services.api.instances=4,6", 1).unwrap();
        let mut document = DeTable::parse("[services.api]\ncores = 2\n").unwrap().into_inner();
        apply(&mut document, &[Setting { parameter: &parameter, value: 1 }]).unwrap();
        let api = document.get("services").unwrap().get_ref().get("api").unwrap().get_ref();
        assert_eq!(api.get("instances").unwrap().get_ref().as_integer().unwrap().as_str(), "6");
        assert!(api.get("cores").is_some());
        let span = api.get("instances").unwrap().span();
        let problem = Problem::new(span, "services.api.instances", "boom");
        let (flag, text, local) = flag_of(&problem, &[&parameter]).unwrap();
        assert_eq!((flag, &text[local]), ("--param", "6"));
    }

    #[test]
    fn a_path_needs_its_tables() {
        let parameter = Parameter::from_flag("--param", "services.apj.instances=4", 0).unwrap();
        let mut document = DeTable::parse("[services.api]\ncores = 2\n").unwrap().into_inner();
        let problem = apply(&mut document, &[Setting { parameter: &parameter, value: 0 }]).unwrap_err();
        assert_eq!(problem.message, "the scenario has no \"services.apj\"");
        assert_eq!(problem.expected.as_deref(), Some("one of \"api\""));
    }

    #[test]
    fn the_sweep_table_is_taken_out() {
        let text = "[sweep]\nreplications = 3\nmetric = \"goodput\"\n\"services.api.instances\" = [4, 6]\n\"clients.app.timeout\" = [\"2s\"]\n";
        let mut document = DeTable::parse(text).unwrap().into_inner();
        let sweep = take_sweep(&mut document, text).unwrap().unwrap();
        assert!(document.get("sweep").is_none());
        assert_eq!(sweep.replications, Some(3));
        assert_eq!(sweep.metric.as_ref().map(|(name, _)| name.as_str()), Some("goodput"));
        let paths: Vec<&str> = sweep.parameters.iter().map(|parameter| parameter.path.as_str()).collect();
        assert_eq!(paths.len(), 2);
        assert!(paths.contains(&"services.api.instances"));
        let timeout =
            sweep.parameters.iter().find(|parameter| parameter.path == "clients.app.timeout").unwrap();
        assert_eq!((timeout.values[0].label.as_str(), timeout.values[0].literal.as_str()), ("2s", "\"2s\""));
        let bad = "[sweep]\n\"services.api.instances\" = 4\n";
        let mut document = DeTable::parse(bad).unwrap().into_inner();
        assert_eq!(take_sweep(&mut document, bad).unwrap_err().message, "a swept key takes a list of values");
    }
}
