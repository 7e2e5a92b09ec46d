//! `[variants.NAME]`: named partial overrides of a scenario for A/B comparisons.
//!
//! A variant has the shape of the base file (`[variants.pooled.services.api] cpu = "30ms"`).
//! It is applied to the parsed document, before the typed deserialization: tables merge key
//! by key, any other value (arrays included) replaces the base's. Every merged value keeps
//! the span of the text that wrote it, so an error in a variant points into the variant and
//! its key starts with `variants.NAME.`.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::Problem;
use crate::refusal::quoted_list;

/// The top-level key that holds the variants.
const KEY: &str = "variants";

/// A parsed document with its variants taken out.
pub(crate) struct Split<'i> {
    pub base: Spanned<DeTable<'i>>,
    /// Each variant by name, in name order.
    variants: Vec<(String, DeTable<'i>)>,
    /// Where `variants` is written, for errors about names; `None` without variants.
    key_span: Option<Range<usize>>,
}

/// Takes `[variants.*]` out of `document`, checking that each variant is a table.
pub(crate) fn split(mut document: Spanned<DeTable<'_>>) -> Result<Split<'_>, Problem> {
    let Some((key, value)) = document.get_mut().remove_entry(KEY) else {
        return Ok(Split { base: document, variants: Vec::new(), key_span: None });
    };
    let expected = "a table such as [variants.NAME.services.api]";
    let span = value.span();
    let DeValue::Table(table) = value.into_inner() else {
        return Problem::new(span, KEY, "variants is not a table").expected(expected).into_err();
    };
    let mut variants = Vec::new();
    for (name, value) in table {
        let name_text = name.get_ref().to_string();
        let key = format!("{KEY}.{name_text}");
        let span = value.span();
        let DeValue::Table(overrides) = value.into_inner() else {
            return Problem::new(span, key, format!("variant \"{name_text}\" is not a table"))
                .expected(expected)
                .into_err();
        };
        if let Some((nested, _)) = overrides.get_key_value(KEY) {
            return Problem::new(nested.span(), format!("{key}.{KEY}"), "variants cannot be nested")
                .expected("the variant's overrides of the base scenario")
                .into_err();
        }
        variants.push((name_text, overrides));
    }
    Ok(Split { base: document, variants, key_span: Some(key.span()) })
}

impl<'i> Split<'i> {
    /// The variants' names, in name order.
    pub fn names(&self) -> Vec<String> {
        self.variants.iter().map(|(name, _)| name.clone()).collect()
    }

    /// The base document with the variant `name` merged in, and the spans the variant wrote
    /// (to attribute errors to it).
    pub fn apply(&self, name: &str) -> Result<(Spanned<DeTable<'i>>, Vec<Range<usize>>), Problem> {
        let Some((_, overrides)) = self.variants.iter().find(|(candidate, _)| candidate == name) else {
            return Err(self.unknown(name));
        };
        let mut spans = Vec::new();
        collect_spans(overrides, &mut spans);
        let mut document = self.base.clone();
        merge(document.get_mut(), overrides.clone());
        Ok((document, spans))
    }

    fn unknown(&self, name: &str) -> Problem {
        let names = self.names();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let expected = match names.as_slice() {
            [] => "a variant, but this file has no [variants.NAME] table".to_string(),
            [only] => format!("\"{only}\""),
            _ => format!("one of {}", quoted_list(&names)),
        };
        let message = super::error::with_suggestion(format!("unknown variant \"{name}\""), Some(&expected));
        Problem::new(self.key_span.clone().unwrap_or(0..0), KEY, message).expected(expected)
    }
}

/// Merges `overrides` into `base`: tables key by key, anything else replaced. Also how
/// included files are merged under the including one (`include.rs`).
pub(crate) fn merge<'i>(base: &mut DeTable<'i>, overrides: DeTable<'i>) {
    for (key, value) in overrides {
        if let Some(existing) = base.get_mut(&**key.get_ref())
            && let DeValue::Table(existing_table) = existing.get_mut()
            && let DeValue::Table(_) = value.get_ref()
        {
            let DeValue::Table(table) = value.into_inner() else { unreachable!("matched as a table") };
            merge(existing_table, table);
            continue;
        }
        // `insert` keeps the base's key, so remove first: the key must carry the variant's span.
        base.remove(&**key.get_ref());
        base.insert(key, value);
    }
}

/// The spans of every key and value in `table`, recursively.
fn collect_spans(table: &DeTable<'_>, spans: &mut Vec<Range<usize>>) {
    for (key, value) in table.iter() {
        spans.push(key.span());
        spans.push(value.span());
        collect_value_spans(value.get_ref(), spans);
    }
}

fn collect_value_spans(value: &DeValue<'_>, spans: &mut Vec<Range<usize>>) {
    match value {
        DeValue::Table(table) => collect_spans(table, spans),
        DeValue::Array(array) => {
            for item in array.iter() {
                spans.push(item.span());
                collect_value_spans(item.get_ref(), spans);
            }
        }
        _ => {}
    }
}

/// Names the variant in the key of a problem whose span lies in what the variant wrote:
/// `services.api.cores` becomes `variants.pooled.services.api.cores`.
pub(crate) fn attribute(mut problem: Problem, name: &str, spans: &[Range<usize>]) -> Problem {
    let inside = spans.iter().any(|span| span.contains(&problem.span.start) || *span == problem.span);
    let prefix = format!("{KEY}.{name}");
    if inside && !problem.span.is_empty() && !problem.key.starts_with(&format!("{prefix}.")) {
        problem.key = if problem.key.is_empty() { prefix } else { format!("{prefix}.{}", problem.key) };
    }
    problem
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_text(text: &str) -> Split<'_> {
        split(DeTable::parse(text).unwrap()).unwrap_or_else(|problem| panic!("{problem:?}"))
    }

    const TEXT: &str = r#"
[services.api]
cores = 2
cpu = { dist = "exponential", mean = "20ms" }

[variants.fast.services.api]
cpu = "5ms"

[variants.big.services.api]
cores = 8

[variants.big.services.db]
cores = 1
"#;

    #[test]
    fn variants_are_taken_out_and_listed_in_name_order() {
        let split = split_text(TEXT);
        assert_eq!(split.names(), ["big", "fast"]);
        assert!(split.base.get_ref().get("variants").is_none());
    }

    #[test]
    fn tables_merge_and_values_replace() {
        let split = split_text(TEXT);
        let (document, spans) = split.apply("big").unwrap();
        let services = document.get_ref().get("services").unwrap().get_ref();
        let api = services.get("api").unwrap().get_ref();
        assert_eq!(api.get("cores").unwrap().get_ref().as_integer().unwrap().as_str(), "8");
        assert!(api.get("cpu").unwrap().get_ref().is_table(), "untouched keys stay");
        assert!(services.get("db").is_some(), "new tables are added");
        let cores_span = api.get("cores").unwrap().span();
        assert_eq!(&TEXT[cores_span.clone()], "8");
        assert!(spans.contains(&cores_span));
        let (document, _) = split.apply("fast").unwrap();
        let api = document.get_ref().get("services").unwrap().get_ref().get("api").unwrap().get_ref();
        assert_eq!(
            api.get("cpu").unwrap().get_ref().as_str(),
            Some("5ms"),
            "a table is replaced by a string"
        );
    }

    #[test]
    fn an_unknown_name_lists_the_valid_ones() {
        let problem = split_text(TEXT).apply("fats").err().unwrap();
        assert_eq!(
            problem.message, "unknown variant \"fats\" (did you mean \"fast\"?)",
            "a swap is one edit"
        );
        assert_eq!(problem.expected.as_deref(), Some(r#"one of "big" or "fast""#));
        assert_eq!(&TEXT[problem.span.clone()], "variants");
        let problem = split_text("[simulation]\n").apply("x").err().unwrap();
        assert_eq!(
            problem.expected.as_deref(),
            Some("a variant, but this file has no [variants.NAME] table")
        );
    }

    #[test]
    fn a_variant_must_be_a_table() {
        let problem = split(DeTable::parse("variants = 3").unwrap()).err().unwrap();
        assert_eq!(problem.message, "variants is not a table");
        let problem = split(DeTable::parse("[variants]\nfast = 3").unwrap()).err().unwrap();
        assert_eq!(
            (problem.key.as_str(), problem.message.as_str()),
            ("variants.fast", "variant \"fast\" is not a table")
        );
        let problem = split(DeTable::parse("[variants.a.variants.b]\nx = 1").unwrap()).err().unwrap();
        assert_eq!(problem.message, "variants cannot be nested");
    }

    #[test]
    fn problems_in_a_variant_name_it() {
        let spans = [10..20, 30..40];
        let problem = attribute(Problem::new(12..13, "services.api.cores", "boom"), "big", &spans);
        assert_eq!(problem.key, "variants.big.services.api.cores");
        let problem = attribute(Problem::new(2..3, "services.api.cores", "boom"), "big", &spans);
        assert_eq!(problem.key, "services.api.cores", "outside the variant");
        let problem = attribute(Problem::new(12..13, "variants.big.x", "boom"), "big", &spans);
        assert_eq!(problem.key, "variants.big.x", "already named");
    }
}
