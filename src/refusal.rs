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

/// The candidate nearest to `name` by edit distance (ties to the one closest in length), if
/// `name` is a likely typo of it: a few edits away, and sharing at least one character.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let length = name.chars().count();
    let (distance, _, best) = candidates
        .into_iter()
        .map(|candidate| {
            (edit_distance(name, candidate), candidate.chars().count().abs_diff(length), candidate)
        })
        .min()?;
    (distance <= 2.max(length / 4) && distance < length).then_some(best)
}

/// Edit distance in characters, a swap of neighbours counting as one edit (optimal string
/// alignment): `=>` is one edit from `>=`.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut rows = vec![(0..=b.len()).collect::<Vec<usize>>()];
    for i in 1..=a.len() {
        let mut row = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            row[j] = (rows[i - 1][j] + 1).min(row[j - 1] + 1).min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                row[j] = row[j].min(rows[i - 2][j - 2] + 1);
            }
        }
        rows.push(row);
    }
    rows[a.len()][b.len()]
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

    #[test]
    fn a_typo_finds_its_name_and_a_stranger_finds_none() {
        assert_eq!(closest("instancs", ["instances", "cores"]), Some("instances"));
        assert_eq!(closest("=>", ["<", "<=", ">", ">="]), Some(">="), "a swap is one edit");
        assert_eq!(closest("c", ["a", "b"]), None, "one letter shares nothing with another");
        assert_eq!(closest("latency", ["cores", "workers"]), None);
        assert_eq!(closest("x", []), None);
    }
}
