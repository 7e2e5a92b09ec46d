//! A refusal of a value someone gave (a flag, a key's value, a shard spec): what is wrong
//! and, when it can be said, what would be valid. The library's modules refuse with it;
//! the scenario loader locates it in the file, the application layer prints it.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// What is wrong: lowercase, no trailing period.
    pub message: String,
    pub expected: Option<String>,
}

impl Refusal {
    pub fn new(message: impl Into<String>) -> Refusal {
        Refusal { message: message.into(), expected: None }
    }

    pub fn expected(mut self, expected: impl Into<String>) -> Refusal {
        self.expected = Some(expected.into());
        self
    }

    /// The same refusal, said of `what` (`--param "x=1"`).
    pub fn of(mut self, what: &str) -> Refusal {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(expected) = &self.expected {
            write!(f, "; expected {expected}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Refusal {}

/// `"a", "b" or "c"` for a message.
pub fn quoted_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|item| format!("\"{item}\"")).collect();
    match quoted.as_slice() {
        [] => "nothing".to_string(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The candidate nearest to `name` by edit distance, if `name` is a likely typo of it.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let (distance, best) =
        candidates.into_iter().map(|candidate| (edit_distance(name, candidate), candidate)).min()?;
    (distance <= 2.max(name.chars().count() / 4)).then_some(best)
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_as_what_is_wrong_then_what_would_do() {
        let refusal =
            Refusal::new("the shard count is 0").expected("K/N with 0 <= K < N").of("--shard \"0/0\"");
        assert_eq!(
            refusal.to_string(),
            "--shard \"0/0\": the shard count is 0; expected K/N with 0 <= K < N"
        );
    }
}
