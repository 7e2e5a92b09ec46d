//! `include = ["common.toml", ...]`: a scenario file built on shared files.
//!
//! Paths are relative to the including file. Each included file is itself a partial scenario
//! (and may include others); they are merged in order, then the including file's own tables
//! are merged over them with the variants' deep merge (`variants::merge`): tables key by key,
//! any other value replaced, so the including file wins.
//!
//! Every file gets its own stretch of one virtual offset space (`Source::offset`): the spans
//! of its parsed document are shifted into that stretch before merging, so after the merge a
//! span still says which file wrote it. `Sources::locate` maps a problem back to its file,
//! line and column, and names the chain of files that included it.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::error::{Problem, ScenarioError, line_column};
use super::variants;

/// The top-level key that lists included files.
pub(crate) const KEY: &str = "include";

/// Most files in one chain of includes, the including file first.
pub(crate) const MAX_DEPTH: usize = 16;

/// Most files in one scenario, the main one included (a file included twice counts twice),
/// so that a few files including each other many times over cannot make loading crawl.
pub(crate) const MAX_FILES: usize = 256;

/// One file of a scenario: the main file or an included one.
struct Source {
    /// The file as named in errors: the main file as the user gave it, an included one as
    /// its folder joined with the included path.
    label: String,
    /// Where it was read from (`None` for text given to `load_str`).
    path: Option<PathBuf>,
    text: String,
    /// Where its spans start in the virtual offset space.
    offset: usize,
    /// The file that included it, and the (virtual) span of the include entry there.
    parent: Option<(usize, Range<usize>)>,
    /// The files it includes, in order.
    includes: Vec<usize>,
}

/// The main file and every file it includes, directly or not.
pub(crate) struct Sources {
    list: Vec<Source>,
}

impl Sources {
    /// Reads the main file's text and, recursively, every file it includes. `path` is where
    /// the text was read from; without one, an `include` is refused.
    pub fn read(text: &str, label: &str, path: Option<&Path>) -> Result<Sources, ScenarioError> {
        let mut sources = Sources { list: Vec::new() };
        sources.add(text.to_string(), label.to_string(), path.map(Path::to_path_buf), None)?;
        Ok(sources)
    }

    /// The labels of the included files, in the order they were read.
    pub fn included(&self) -> Vec<&str> {
        self.list[1..].iter().map(|source| source.label.as_str()).collect()
    }

    fn add(
        &mut self,
        text: String,
        label: String,
        path: Option<PathBuf>,
        parent: Option<(usize, Range<usize>)>,
    ) -> Result<usize, ScenarioError> {
        let offset = self.list.last().map_or(0, |last| last.offset + last.text.len() + 1);
        let index = self.list.len();
        self.list.push(Source { label, path, text, offset, parent, includes: Vec::new() });
        let entries = {
            let source = &self.list[index];
            let document = DeTable::parse(&source.text).map_err(|error| {
                let mut problem = Problem::from_toml(&error, &source.text);
                problem.span = problem.span.start + offset..problem.span.end + offset;
                self.locate(problem)
            })?;
            entries(document.get_ref(), offset).map_err(|problem| self.locate(problem))?
        };
        for (included, span) in entries {
            let child = self.read_included(index, &included, span.clone())?;
            let (text, label, path) = child;
            let child = self.add(text, label, Some(path), Some((index, span)))?;
            self.list[index].includes.push(child);
        }
        Ok(index)
    }

    /// Reads the file `included` names, refusing a missing file, a loop and a chain too long.
    fn read_included(
        &self,
        from: usize,
        included: &str,
        span: Range<usize>,
    ) -> Result<(String, String, PathBuf), ScenarioError> {
        let refuse = |message: String, expected: &str| {
            self.locate(Problem::new(span.clone(), KEY, message).expected(expected))
        };
        let Some(including) = &self.list[from].path else {
            return Err(refuse(
                "include needs a scenario file: this text was not read from one, so there is no folder to find included files in".into(),
                "the included tables written out in this text, or the text saved as a file and loaded from there",
            ));
        };
        let chain = self.chain(from);
        if self.list.len() >= MAX_FILES {
            return Err(refuse(
                format!("more than {MAX_FILES} files in one scenario, counting each include"),
                "fewer includes",
            ));
        }
        if chain.len() >= MAX_DEPTH {
            return Err(refuse(
                format!("includes nested more than {MAX_DEPTH} files deep: {}", chain_text(&chain, included)),
                "fewer levels of include",
            ));
        }
        // `components` drops the `.` in `dir/./common.toml`, so labels read cleanly.
        let path: PathBuf = including.parent().unwrap_or(Path::new("")).join(included).components().collect();
        let label = path.display().to_string();
        if std::fs::metadata(&path).is_ok_and(|metadata| !metadata.is_file()) {
            return Err(refuse(
                format!("included {label} is not a file; include chain {}", chain_text(&chain, &label)),
                "a path to a scenario file, relative to the including file's folder",
            ));
        }
        let text = std::fs::read_to_string(&path).map_err(|error| {
            let reason = error.to_string();
            let reason = reason.split(" (os error").next().unwrap_or_default().to_lowercase();
            refuse(
                format!(
                    "cannot read included file {label}: {reason}; include chain {}",
                    chain_text(&chain, &label)
                ),
                "a path to a scenario file, relative to the including file's folder",
            )
        })?;
        let canonical = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        let loops = self.ancestors(from).into_iter().any(|ancestor| {
            self.list[ancestor]
                .path
                .as_ref()
                .is_some_and(|seen| std::fs::canonicalize(seen).unwrap_or_else(|_| seen.clone()) == canonical)
        });
        if loops {
            return Err(refuse(
                format!("include loop: {}", chain_text(&chain, &label)),
                "includes that never lead back to a file that includes them",
            ));
        }
        Ok((text, label, path))
    }

    /// `from` and the files that included it, the main file last.
    fn ancestors(&self, from: usize) -> Vec<usize> {
        let mut res = vec![from];
        while let Some((parent, _)) = self.list[*res.last().expect("never empty")].parent {
            res.push(parent);
        }
        res
    }

    /// The labels from the main file down to `from`.
    fn chain(&self, from: usize) -> Vec<&str> {
        let mut labels: Vec<&str> =
            self.ancestors(from).into_iter().map(|index| self.list[index].label.as_str()).collect();
        labels.reverse();
        labels
    }

    /// The main file's document with every include merged under it, spans in the virtual
    /// offset space.
    pub fn document(&self) -> Result<Spanned<DeTable<'_>>, ScenarioError> {
        self.merged(0)
    }

    fn merged(&self, index: usize) -> Result<Spanned<DeTable<'_>>, ScenarioError> {
        let source = &self.list[index];
        let document = DeTable::parse(&source.text).map_err(|error| {
            let mut problem = Problem::from_toml(&error, &source.text);
            problem.span = problem.span.start + source.offset..problem.span.end + source.offset;
            self.locate(problem)
        })?;
        let span = document.span();
        let mut own = document.into_inner();
        own.remove(KEY);
        if source.offset > 0 {
            shift_table(&mut own, source.offset);
        }
        let span = span.start + source.offset..span.end + source.offset;
        if source.includes.is_empty() {
            return Ok(Spanned::new(span, own));
        }
        let mut merged = DeTable::new();
        for &child in &source.includes {
            variants::merge(&mut merged, self.merged(child)?.into_inner());
        }
        variants::merge(&mut merged, own);
        Ok(Spanned::new(span, merged))
    }

    /// The source whose stretch of the offset space holds `offset`.
    fn source_at(&self, offset: usize) -> usize {
        self.list.iter().rposition(|source| source.offset <= offset).unwrap_or(0)
    }

    /// The folder of the file whose stretch holds `offset`; `None` for text not read from
    /// a file.
    pub fn folder_of(&self, offset: usize) -> Option<PathBuf> {
        let path = self.list[self.source_at(offset)].path.as_ref()?;
        Some(path.parent().unwrap_or(Path::new("")).to_path_buf())
    }

    /// A problem from toml's deserializer of the merged document, located in its file.
    pub fn toml_problem(&self, error: &toml::de::Error) -> Problem {
        let source = &self.list[self.source_at(error.span().map_or(0, |span| span.start))];
        Problem::from_toml_at(error, &source.text, source.offset)
    }

    /// Locates `problem` (its span in the virtual offset space) in the file that holds it,
    /// with the chain of include entries that led there.
    pub fn locate(&self, mut problem: Problem) -> ScenarioError {
        let index = self.source_at(problem.span.start);
        let source = &self.list[index];
        problem.span = problem.span.start - source.offset..problem.span.end.saturating_sub(source.offset);
        let mut error = problem.locate(&source.text, &source.label);
        let mut included_from = Vec::new();
        let mut at = source.parent.clone();
        while let Some((parent, span)) = at {
            let parent_source = &self.list[parent];
            let local = span.start.saturating_sub(parent_source.offset).min(parent_source.text.len());
            let local = (0..=local).rev().find(|&i| parent_source.text.is_char_boundary(i)).unwrap_or(0);
            let (line, column) = line_column(&parent_source.text, local);
            included_from.push(format!("{}:{line}:{column}", parent_source.label));
            at = parent_source.parent.clone();
        }
        if let ScenarioError::Invalid(diagnostic) = &mut error {
            diagnostic.included_from = included_from;
        }
        error
    }
}

/// `a.toml → b.toml → c.toml`.
fn chain_text(chain: &[&str], last: &str) -> String {
    let mut res = chain.join(" → ");
    res.push_str(" → ");
    res.push_str(last);
    res
}

/// The paths an `include` lists, with the (virtual) span of each.
fn entries(document: &DeTable<'_>, offset: usize) -> Result<Vec<(String, Range<usize>)>, Problem> {
    let Some(value) = document.get(KEY) else {
        return Ok(Vec::new());
    };
    let shift = |span: Range<usize>| span.start + offset..span.end + offset;
    let expected = "an array of file names such as [\"common.toml\"], relative to this file";
    let DeValue::Array(array) = value.get_ref() else {
        return Problem::new(shift(value.span()), KEY, "include is not an array")
            .expected(expected)
            .into_err();
    };
    let mut res = Vec::new();
    for (index, item) in array.iter().enumerate() {
        let key = format!("{KEY}[{index}]");
        match item.get_ref() {
            DeValue::String(path) if !path.trim().is_empty() => {
                res.push((path.to_string(), shift(item.span())));
            }
            DeValue::String(_) => {
                return Problem::new(shift(item.span()), key, "empty file name")
                    .expected(expected)
                    .into_err();
            }
            _ => {
                return Problem::new(shift(item.span()), key, "an included file is not a string")
                    .expected(expected)
                    .into_err();
            }
        }
    }
    Ok(res)
}

/// Moves every span in `table` `by` bytes on.
fn shift_table(table: &mut DeTable<'_>, by: usize) {
    let old = std::mem::take(table);
    for (key, mut value) in old {
        shift_value(&mut value, by);
        let span = key.span();
        table.insert(Spanned::new(span.start + by..span.end + by, key.into_inner()), value);
    }
}

fn shift_value(value: &mut Spanned<DeValue<'_>>, by: usize) {
    let span = value.span();
    let mut inner = std::mem::replace(value.get_mut(), DeValue::Boolean(false));
    match &mut inner {
        DeValue::Table(table) => shift_table(table, by),
        DeValue::Array(array) => {
            for item in array.iter_mut() {
                shift_value(item, by);
            }
        }
        _ => {}
    }
    *value = Spanned::new(span.start + by..span.end + by, inner);
}
