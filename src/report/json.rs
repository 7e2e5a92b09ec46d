//! `summary.json`: the run's `Summary` as pretty JSON with a trailing newline.
//!
//! Invariant: the same `Summary` always gives the same bytes (struct fields in declaration
//! order, maps are `BTreeMap`s, floats printed by serde_json's shortest round-trip form).

use crate::stats::Summary;

/// The summary as pretty-printed JSON ending in a newline, as written to `summary.json`
/// and printed by `--json`.
pub fn to_string(summary: &Summary) -> Result<String, serde_json::Error> {
    let mut res = serde_json::to_string_pretty(summary)?;
    res.push('\n');
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::synthetic_summary;

    #[test]
    fn round_trips_and_ends_with_a_newline() {
        let summary = synthetic_summary();
        let text = to_string(&summary).unwrap();
        assert!(text.ends_with("}\n"));
        assert!(text.contains("\"schema_version\": 2"));
        let back: Summary = serde_json::from_str(&text).unwrap();
        assert_eq!(back, summary);
        assert_eq!(to_string(&back).unwrap(), text);
    }
}
