//! Scenario errors: which file, where in it, under which key, what is wrong and what would
//! be valid, rendered like rustc.
//!
//! Invariant: every error about the content of a file, whether toml found it (syntax, wrong
//! type, unknown key) or a later check did (p99 below mean, an unknown name), renders in the
//! same shape:
//!
//! ```text
//! error: unknown jitter "ful" at app.toml:14:22 (clients.app.retry.backoff.jitter); expected one of "none", "full", "equal" or "decorrelated"
//!   --> app.toml:14:22
//!    |
//! 14 | backoff = { jitter = "ful" }
//!    |                      ^^^^^ expected one of "none", "full", "equal" or "decorrelated"
//! ```

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use toml::de::{DeTable, DeValue};

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("error: cannot read scenario {}: {}", path.display(), unreadable(path, source))]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The text is not a valid scenario; the diagnostic says where and why.
    #[error("{0}")]
    Invalid(Box<Diagnostic>),
}

/// Why a file cannot be read, with what to do about it: the likely name of a missing file,
/// a scenario inside a folder given instead of one, a binary file.
fn unreadable(path: &std::path::Path, error: &std::io::Error) -> String {
    use std::io::ErrorKind;
    let toml_files = |folder: &std::path::Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(folder)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.file_name().to_string_lossy().into_owned())
                    .filter(|name| name.ends_with(".toml"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    match error.kind() {
        ErrorKind::NotFound => {
            let parent = path.parent().filter(|parent| !parent.as_os_str().is_empty());
            if let Some(parent) = parent.filter(|parent| !parent.is_dir()) {
                return format!("no such file (there is no folder {})", parent.display());
            }
            let folder = parent.unwrap_or(std::path::Path::new("."));
            let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
            let names = toml_files(folder);
            match crate::refusal::closest(&name, names.iter().map(String::as_str)) {
                Some(nearest) => format!("no such file (did you mean {}?)", folder.join(nearest).display()),
                None => "no such file".to_owned(),
            }
        }
        ErrorKind::IsADirectory => match toml_files(path).first() {
            Some(first) => {
                format!("it is a folder; name a scenario file in it, such as {}", path.join(first).display())
            }
            None => "it is a folder, and holds no .toml file".to_owned(),
        },
        ErrorKind::InvalidData => "it is not UTF-8 text; a scenario is a TOML text file".to_owned(),
        _ => error.to_string(),
    }
}

impl ScenarioError {
    /// The located diagnostic, unless the file could not be read at all.
    pub fn diagnostic(&self) -> Option<&Diagnostic> {
        match self {
            ScenarioError::Io { .. } => None,
            ScenarioError::Invalid(diagnostic) => Some(diagnostic),
        }
    }
}

/// Which stage found the problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// toml and serde: syntax, wrong type, unknown or missing key, malformed unit.
    Parse,
    /// The resolver: references, ranges and cross-field checks.
    Resolve,
}

/// A problem located in a scenario file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file as the user named it (or the label given to `load_str`).
    pub file: String,
    /// 1-based line of the start of the span.
    pub line: usize,
    /// 1-based column, in characters, of the start of the span.
    pub column: usize,
    /// Dotted key path such as `clients.app.retry.backoff.jitter` or `sources.users.rate[1].at`.
    /// For a syntax error it is a best guess from the surrounding keys, and empty when there is
    /// none (an error before the first key).
    pub key: String,
    /// What is wrong: lowercase, no trailing period.
    pub message: String,
    /// What would be valid, when that can be said.
    pub expected: Option<String>,
    /// Byte range in the file the problem is about.
    pub span: Range<usize>,
    pub stage: Stage,
    /// The annotated source lines, rendered when the diagnostic is made (it needs the text).
    snippet: String,
    /// When the file was included by another: `file:line:column` of each include entry
    /// that led to it, the nearest first (empty for the main file).
    pub included_from: Vec<String>,
    /// What else to know, as a last line: for a problem in a trace's CSV file, which key of
    /// which scenario file read it.
    pub note: Option<String>,
}

impl Diagnostic {
    /// The source lines with a caret under the span, as rendered under the first line.
    pub fn snippet(&self) -> &str {
        &self.snippet
    }

    /// `error: <message> at <file>:<line>:<col> (<key>); expected <valid>`.
    pub fn first_line(&self) -> String {
        let mut line = format!("error: {} at {}:{}:{}", self.message, self.file, self.line, self.column);
        if !self.key.is_empty() {
            line.push_str(&format!(" ({})", self.key));
        }
        if let Some(expected) = &self.expected {
            line.push_str(&format!("; expected {expected}"));
        }
        line
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{}", self.first_line())?;
        f.write_str(&self.snippet)?;
        if let Some((nearest, rest)) = self.included_from.split_first() {
            write!(f, "note: {} is included from {nearest}", self.file)?;
            for further in rest {
                write!(f, ", which is included from {further}")?;
            }
            writeln!(f)?;
        }
        if let Some(note) = &self.note {
            writeln!(f, "note: {note}")?;
        }
        Ok(())
    }
}

/// A problem before it is located: the checks produce these without knowing the text or the
/// file name, and `locate` turns one into a `ScenarioError`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Problem {
    pub span: Range<usize>,
    pub key: String,
    pub message: String,
    pub expected: Option<String>,
    pub stage: Stage,
}

impl Problem {
    /// A problem found by the resolver, about the value at `span` under `key`.
    pub fn new(span: Range<usize>, key: impl Into<String>, message: impl Into<String>) -> Problem {
        Problem { span, key: key.into(), message: message.into(), expected: None, stage: Stage::Resolve }
    }

    /// Adds what would be valid.
    pub fn expected(mut self, expected: impl Into<String>) -> Problem {
        self.expected = Some(expected.into());
        self
    }

    /// `Err(self)`, to end a check.
    pub fn into_err<T>(self) -> Result<T, Problem> {
        Err(self)
    }

    /// Takes toml's span and message, and works out the key path (see `key_path`). serde's
    /// words become the crate's ("field" is "key", backticks are double quotes), and
    /// `message, expected X` is split into the message and `X`, the crate's convention.
    pub fn from_toml(error: &toml::de::Error, text: &str) -> Problem {
        Problem::from_toml_at(error, text, 0)
    }

    /// Like `from_toml`, for an error whose span is `offset` bytes past its place in `text`
    /// (a document merged from included files, see `include.rs`); the problem's span is too.
    pub fn from_toml_at(error: &toml::de::Error, text: &str, offset: usize) -> Problem {
        let wording =
            error.message().replace("`\"`", "'\"'").replace('`', "\"").replace(" field \"", " key \"");
        let (message, expected) = match wording.split_once(", expected ") {
            Some((message, expected)) => (message.to_string(), Some(expected.to_string())),
            None => (wording.clone(), None),
        };
        let expected =
            expected.map(|valid| if valid == "nothing" { "nothing more on this line".into() } else { valid });
        let span = error.span().unwrap_or(0..0);
        let span = clamp_span(text, span.start.saturating_sub(offset)..span.end.saturating_sub(offset));
        let key = key_path(error, text, span.start, &message);
        let missing = message.strip_prefix("missing key \"").and_then(|rest| rest.strip_suffix('"'));
        let expected = match (expected, missing, message.as_str()) {
            (Some(valid), _, _) => Some(valid),
            (None, Some(field), _) if key == field => Some(format!("a [{field}] table")),
            (None, Some(field), _) => Some(format!("a \"{field}\" key in this table")),
            (None, None, "duplicate key") => Some("each key at most once per table".into()),
            (None, None, _) => None,
        };
        let span = span.start + offset..span.end + offset;
        let message = with_suggestion(message, expected.as_deref());
        Problem { span, key, message, expected, stage: Stage::Parse }
    }

    /// Locates the problem in `text` and renders it.
    pub fn locate(self, text: &str, file: &str) -> ScenarioError {
        let span = clamp_span(text, self.span);
        let (line, column) = line_column(text, span.start);
        let label =
            self.expected.as_ref().map_or_else(|| self.message.clone(), |valid| format!("expected {valid}"));
        let snippet = render_snippet(text, file, span.clone(), &label);
        ScenarioError::Invalid(Box::new(Diagnostic {
            file: file.to_string(),
            line,
            column,
            key: self.key,
            message: self.message,
            expected: self.expected,
            span,
            stage: self.stage,
            snippet,
            included_from: Vec::new(),
            note: None,
        }))
    }
}

/// `unknown key "instancs"` becomes `unknown key "instancs" (did you mean "instances"?)`
/// when one of the quoted names in `expected` is a likely typo of it.
pub(super) fn with_suggestion(message: String, expected: Option<&str>) -> String {
    let Some(expected) = expected else { return message };
    let Some(name) =
        message.strip_prefix("unknown ").and_then(|rest| rest.split_once(" \"")).map(|(_, rest)| rest)
    else {
        return message;
    };
    let Some(name) = name.strip_suffix('"') else { return message };
    let candidates: Vec<&str> = expected.split('"').skip(1).step_by(2).collect();
    match crate::refusal::closest(name, candidates) {
        Some(nearest) if nearest != name => format!("{message} (did you mean \"{nearest}\"?)"),
        _ => message,
    }
}

/// The dotted key path of a toml error, array indices included.
///
/// For a syntax error toml knows no key, so the path is read off a recovering re-parse (see
/// `key_near`). Otherwise toml's own path is the authority, refined by the re-parse when
/// they agree: toml leaves out array indices (`sources.users.rate.at`, where the re-parse
/// gives `sources.users.rate[1].at`), and names an unknown or missing key only in its
/// message.
fn key_path(error: &toml::de::Error, text: &str, offset: usize, message: &str) -> String {
    let (document, syntax_errors) = DeTable::parse_recoverable(text);
    let mut entries = Vec::new();
    flatten_table(document.get_ref(), "", &mut entries);
    if !syntax_errors.is_empty() {
        return key_near(&entries, text, offset);
    }
    let toml_path = toml_key_path(error);
    let field = named_key(message);
    let candidate = key_at(&entries, offset).unwrap_or_default();
    let candidate_without_indices = without_indices(&candidate);
    // A value merged in from a `[variants.NAME]` table sits under `variants.NAME.` in the text.
    let matches = |path: &str| {
        candidate_without_indices == path || candidate_without_indices.ends_with(&format!(".{path}"))
    };
    let agrees = matches(&toml_path) || field.is_some_and(|field| matches(&join_key(&toml_path, field)));
    let mut path = if agrees { candidate } else { toml_path };
    if let Some(field) = field
        && !path.ends_with(&format!(".{field}"))
        && path != field
    {
        path = join_key(&path, field);
    }
    path
}

/// The key path toml recorded for an error. toml prints it as a last line "in `a.b`" when
/// it has no source text to show, which is the only way it exposes it.
fn toml_key_path(error: &toml::de::Error) -> String {
    let mut bare = error.clone();
    bare.set_input(None);
    let rendered = bare.to_string();
    let lines: Vec<&str> = rendered.trim_end().lines().collect();
    match lines.as_slice() {
        [_, .., last] => {
            last.strip_prefix("in `").and_then(|rest| rest.strip_suffix('`')).unwrap_or("").to_string()
        }
        _ => String::new(),
    }
}

/// The key an "unknown key" or "missing key" message is about.
fn named_key(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown key \"").or_else(|| message.strip_prefix("missing key \""))?;
    rest.strip_suffix('"')
}

fn join_key(prefix: &str, key: &str) -> String {
    if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") }
}

/// `a[1].b` gives `a.b`.
fn without_indices(path: &str) -> String {
    let mut res = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => in_index = true,
            ']' => in_index = false,
            _ if !in_index => res.push(c),
            _ => {}
        }
    }
    res
}

/// One key of the document, with the spans of the key and of its value.
struct Entry {
    path: String,
    key: Range<usize>,
    value: Range<usize>,
    /// A `[header]` table, whose value span is the header line.
    header: bool,
}

fn flatten_table(table: &DeTable<'_>, prefix: &str, entries: &mut Vec<Entry>) {
    for (key, value) in table.iter() {
        let path = join_key(prefix, key.get_ref());
        let header = matches!(value.get_ref(), DeValue::Table(_)) && value.span().start < key.span().start;
        entries.push(Entry { path: path.clone(), key: key.span(), value: value.span(), header });
        flatten_value(value.get_ref(), &path, entries);
    }
}

fn flatten_value(value: &DeValue<'_>, path: &str, entries: &mut Vec<Entry>) {
    match value {
        DeValue::Table(table) => flatten_table(table, path, entries),
        DeValue::Array(array) => {
            for (item_idx, item) in array.iter().enumerate() {
                let item_path = format!("{path}[{item_idx}]");
                entries.push(Entry {
                    path: item_path.clone(),
                    key: item.span(),
                    value: item.span(),
                    header: false,
                });
                flatten_value(item.get_ref(), &item_path, entries);
            }
        }
        _ => {}
    }
}

/// The deepest key whose key or value span holds `offset`.
fn key_at(entries: &[Entry], offset: usize) -> Option<String> {
    entries
        .iter()
        .filter(|entry| entry.key.contains(&offset) || entry.value.contains(&offset))
        .max_by_key(|entry| entry.path.len())
        .map(|entry| entry.path.clone())
}

/// A best guess at the key a syntax error at `offset` is in: a key on the same line that
/// starts before the error, or else the `name` before `=` on that line, in the table the
/// previous key belongs to.
fn key_near(entries: &[Entry], text: &str, offset: usize) -> String {
    let line_start = text[..offset.min(text.len())].rfind('\n').map_or(0, |newline| newline + 1);
    let previous =
        entries.iter().filter(|entry| entry.key.start <= offset).max_by_key(|entry| entry.key.start);
    if let Some(entry) = previous
        && entry.key.start >= line_start
    {
        return key_at(entries, offset).unwrap_or_else(|| entry.path.clone());
    }
    let table = match previous {
        Some(entry) if entry.header => entry.path.clone(),
        Some(entry) => entry.path.rsplit_once('.').map_or(String::new(), |(table, _)| table.to_string()),
        None => String::new(),
    };
    let line = text[line_start..].lines().next().unwrap_or("");
    let name: String = line
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        .collect();
    let assigns = line.trim_start()[name.len()..].trim_start().starts_with('=');
    if !name.is_empty() && assigns { join_key(&table, &name) } else { table }
}

/// Keeps `span` inside `text` and on character boundaries, so rendering cannot panic.
fn clamp_span(text: &str, span: Range<usize>) -> Range<usize> {
    let floor = |mut index: usize| {
        index = index.min(text.len());
        while !text.is_char_boundary(index) {
            index -= 1;
        }
        index
    };
    let start = floor(span.start);
    let end = floor(span.end.max(span.start));
    start..end
}

/// 1-based line and character column of byte `offset`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

/// The source lines around `span` with a caret line under it, without colours.
fn render_snippet(text: &str, file: &str, span: Range<usize>, label: &str) -> String {
    let report = &[Group::with_level(Level::ERROR).element(
        Snippet::source(text).path(file).annotation(AnnotationKind::Primary.span(span).label(label)),
    )];
    let mut rendered = Renderer::plain().render(report);
    if !rendered.ends_with('\n') {
        rendered.push('\n');
    }
    rendered
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        assert_eq!(line_column(text, 11), (2, 5));
        assert_eq!(line_column(text, text.len()), (3, 1));
    }

    #[test]
    fn spans_are_clamped_to_the_text() {
        let text = "é";
        assert_eq!(clamp_span(text, 1..9), 0..2);
        assert_eq!(clamp_span(text, Range { start: 5, end: 3 }), 2..2);
    }

    #[test]
    fn rendering_survives_odd_spans() {
        for span in [0..0, 3..3, 0..100, 100..200, Range { start: 2, end: 1 }] {
            let error = Problem::new(span, "a", "boom").locate("a =\n", "f.toml");
            assert!(error.to_string().starts_with("error: boom at f.toml:"), "{error}");
        }
        let error = Problem::new(0..0, "a", "boom").locate("", "f.toml");
        assert!(error.to_string().starts_with("error: boom at f.toml:1:1 (a)"), "{error}");
    }

    #[test]
    fn toml_errors_keep_their_key_path() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct Inner {
            x: u32,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Outer {
            inner: Inner,
        }
        let error = toml::from_str::<Outer>("[inner]\nx = \"a\"").unwrap_err();
        let problem = Problem::from_toml(&error, "[inner]\nx = \"a\"");
        assert_eq!(problem.key, "inner.x");
        assert_eq!(problem.span, 12..15);
        let error = toml::from_str::<Outer>("[inner]\nx = 1\ny = 2").unwrap_err();
        let problem = Problem::from_toml(&error, "[inner]\nx = 1\ny = 2");
        assert_eq!(problem.key, "inner.y");
        assert_eq!(problem.message, "unknown key \"y\"");
        assert_eq!(problem.expected.as_deref(), Some("\"x\""));
    }
}

#[cfg(test)]
mod unreadable_tests {
    fn message(path: &std::path::Path) -> String {
        crate::scenario::load(path).unwrap_err().to_string()
    }

    #[test]
    fn a_file_that_cannot_be_read_gets_a_hint() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("monday-peak.toml"), "[simulation]\n").unwrap();
        std::fs::write(dir.path().join("binary.toml"), [0xff, 0xfe, 0x00, 0x9f]).unwrap();
        let typo = dir.path().join("monday-peek.toml");
        assert!(
            message(&typo).ends_with(&format!(
                "no such file (did you mean {}?)",
                dir.path().join("monday-peak.toml").display()
            )),
            "{}",
            message(&typo)
        );
        assert!(message(&dir.path().join("nothing-like-it.toml")).ends_with(": no such file"));
        assert!(message(&dir.path().join("no/such.toml")).contains("(there is no folder "));
        assert!(message(dir.path()).contains("it is a folder; name a scenario file in it, such as "));
        assert!(
            message(&dir.path().join("binary.toml"))
                .ends_with("it is not UTF-8 text; a scenario is a TOML text file")
        );
    }
}
