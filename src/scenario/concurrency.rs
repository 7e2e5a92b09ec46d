//! Resolves a service's `concurrency_limit`: the kind gets only its own keys, every limit
//! is from 1 to `MAX_LIMIT` with `min_limit <= initial_limit <= max_limit`, and each
//! parameter is within the range Netflix's builders accept (for `backoff_ratio`, any ratio
//! that backs off). Same rules as `resolve`: every refusal names the key, points at what the
//! user wrote and says what would be valid.

use super::spanned::Spanned;

use super::checks::{check_count, check_delay, present};
use super::defaults::is_filled;
use super::error::Problem;
use super::file::{ConcurrencyLimitFile, ConcurrencyLimitKindFile, Count, Number};
use crate::model::concurrency::{Aimd, ConcurrencyLimit, Gradient2};

/// Highest limit, and highest Gradient2 `queue_size`: 1,000,000 (as for workers).
const MAX_LIMIT: i64 = 1_000_000;
/// Longest Gradient2 `long_window`: 1,000,000 samples.
const MAX_LONG_WINDOW: i64 = 1_000_000;

/// The keys each kind takes.
fn keys(kind: ConcurrencyLimitKindFile) -> &'static [&'static str] {
    match kind {
        ConcurrencyLimitKindFile::Static => &["limit"],
        ConcurrencyLimitKindFile::Aimd => {
            &["initial_limit", "min_limit", "max_limit", "backoff_ratio", "timeout"]
        }
        ConcurrencyLimitKindFile::Gradient2 => &[
            "initial_limit",
            "min_limit",
            "max_limit",
            "smoothing",
            "rtt_tolerance",
            "long_window",
            "queue_size",
        ],
    }
}

/// An adaptive limit's bounds and starting point, checked.
struct Bounds {
    initial: u32,
    min: u32,
    max: u32,
}

pub(super) fn resolve_concurrency_limit(
    file: &ConcurrencyLimitFile,
    key: &str,
) -> Result<ConcurrencyLimit, Problem> {
    let kind = *file.kind.get_ref();
    refuse_other_kinds_keys(file, kind, key)?;
    let key = |field: &str| format!("{key}.{field}");
    match kind {
        ConcurrencyLimitKindFile::Static => {
            let Some(limit) = &file.limit else {
                return Problem::new(file.kind.span(), key("limit"), "kind \"static\" needs \"limit\"")
                    .expected("a limit such as limit = 40 (attempts in progress per instance)")
                    .into_err();
            };
            Ok(ConcurrencyLimit::Static { limit: limit_count(limit, &key("limit"), "limit")? })
        }
        ConcurrencyLimitKindFile::Aimd => {
            let bounds = resolve_bounds(file, &key)?;
            let ratio = present(&file.backoff_ratio, &key("backoff_ratio"))?;
            let backoff_ratio = ratio.get_ref().0;
            if !(backoff_ratio > 0.0 && backoff_ratio < 1.0) {
                let message = format!("backoff_ratio {backoff_ratio} is outside (0, 1)");
                let expected = concat!(
                    "a ratio above 0 and below 1 that shrinks the limit on a drop, ",
                    "such as 0.9 (Netflix's default)"
                );
                return Problem::new(ratio.span(), key("backoff_ratio"), message)
                    .expected(expected)
                    .into_err();
            }
            let timeout = present(&file.timeout, &key("timeout"))?;
            if timeout.get_ref().nanos() == 0 {
                let message = "timeout is zero, so every attempt would count as a drop";
                return Problem::new(timeout.span(), key("timeout"), message)
                    .expected("a timeout above zero such as \"5s\" (Netflix's default)")
                    .into_err();
            }
            Ok(ConcurrencyLimit::Aimd(Aimd {
                initial_limit: bounds.initial,
                min_limit: bounds.min,
                max_limit: bounds.max,
                backoff_ratio,
                timeout: check_delay(timeout, &key("timeout"))?,
            }))
        }
        ConcurrencyLimitKindFile::Gradient2 => {
            let bounds = resolve_bounds(file, &key)?;
            let long_window = present(&file.long_window, &key("long_window"))?;
            let queue_size = present(&file.queue_size, &key("queue_size"))?;
            Ok(ConcurrencyLimit::Gradient2(Gradient2 {
                initial_limit: bounds.initial,
                min_limit: bounds.min,
                max_limit: bounds.max,
                smoothing: check_smoothing(present(&file.smoothing, &key("smoothing"))?, &key("smoothing"))?,
                rtt_tolerance: check_tolerance(
                    present(&file.rtt_tolerance, &key("rtt_tolerance"))?,
                    &key("rtt_tolerance"),
                )?,
                long_window: check_count(
                    long_window,
                    &key("long_window"),
                    "long_window",
                    1..=MAX_LONG_WINDOW,
                )? as u32,
                queue_size: check_count(queue_size, &key("queue_size"), "queue_size", 0..=MAX_LIMIT)? as u32,
            }))
        }
    }
}

/// Refuses a key the kind does not take (`defaults::fill` only fills the kind's own, so a
/// refused key is always one the user wrote).
fn refuse_other_kinds_keys(
    file: &ConcurrencyLimitFile,
    kind: ConcurrencyLimitKindFile,
    key: &str,
) -> Result<(), Problem> {
    let written = [
        ("limit", file.limit.as_ref().map(Spanned::span)),
        ("initial_limit", file.initial_limit.as_ref().map(Spanned::span)),
        ("min_limit", file.min_limit.as_ref().map(Spanned::span)),
        ("max_limit", file.max_limit.as_ref().map(Spanned::span)),
        ("backoff_ratio", file.backoff_ratio.as_ref().map(Spanned::span)),
        ("timeout", file.timeout.as_ref().map(Spanned::span)),
        ("smoothing", file.smoothing.as_ref().map(Spanned::span)),
        ("rtt_tolerance", file.rtt_tolerance.as_ref().map(Spanned::span)),
        ("long_window", file.long_window.as_ref().map(Spanned::span)),
        ("queue_size", file.queue_size.as_ref().map(Spanned::span)),
    ];
    for (field, span) in written {
        if let Some(span) = span
            && !keys(kind).contains(&field)
        {
            let message = format!("\"{field}\" does not apply to kind \"{}\"", kind.keyword());
            let quoted: Vec<String> = keys(kind).iter().map(|name| format!("\"{name}\"")).collect();
            let expected = format!("kind \"{}\" takes {}", kind.keyword(), quoted.join(", "));
            return Problem::new(span, format!("{key}.{field}"), message).expected(expected).into_err();
        }
    }
    Ok(())
}

fn limit_count(value: &Spanned<Count>, key: &str, what: &str) -> Result<u32, Problem> {
    check_count(value, key, what, 1..=MAX_LIMIT).map(|n| n as u32)
}

/// `min_limit <= initial_limit <= max_limit`, each from 1 to `MAX_LIMIT`.
fn resolve_bounds(file: &ConcurrencyLimitFile, key: &impl Fn(&str) -> String) -> Result<Bounds, Problem> {
    let initial = present(&file.initial_limit, &key("initial_limit"))?;
    let min = present(&file.min_limit, &key("min_limit"))?;
    let max = present(&file.max_limit, &key("max_limit"))?;
    let (min_value, max_value) = (
        limit_count(min, &key("min_limit"), "min_limit")?,
        limit_count(max, &key("max_limit"), "max_limit")?,
    );
    if min_value > max_value {
        return bounds_crossed(min, max, key).into_err();
    }
    let initial_value = limit_count(initial, &key("initial_limit"), "initial_limit")?;
    if initial_value < min_value || initial_value > max_value {
        let (side, bound) = if initial_value < min_value {
            ("below min_limit", min_value)
        } else {
            ("above max_limit", max_value)
        };
        let message = format!("initial_limit {initial_value} is {side} {bound}");
        return Problem::new(initial.span(), key("initial_limit"), message)
            .expected(format!("an initial_limit from {min_value} to {max_value} (min_limit to max_limit)"))
            .into_err();
    }
    Ok(Bounds { initial: initial_value, min: min_value, max: max_value })
}

/// `min_limit` above `max_limit`: the error points at whichever the user wrote.
fn bounds_crossed(min: &Spanned<Count>, max: &Spanned<Count>, key: &impl Fn(&str) -> String) -> Problem {
    let (low, high) = (min.get_ref().0, max.get_ref().0);
    if is_filled(max) {
        let message = format!("min_limit {low} is above the default max_limit {high}");
        let expected = format!("a min_limit of at most {high}, or a max_limit of at least {low}");
        return Problem::new(min.span(), key("min_limit"), message).expected(expected);
    }
    let min_kind = if is_filled(min) { "the default min_limit" } else { "min_limit" };
    Problem::new(max.span(), key("max_limit"), format!("max_limit {high} is below {min_kind} {low}"))
        .expected(format!("a max_limit of at least {low}"))
}

fn check_smoothing(value: &Spanned<Number>, key: &str) -> Result<f64, Problem> {
    let smoothing = value.get_ref().0;
    if smoothing > 0.0 && smoothing <= 1.0 {
        return Ok(smoothing);
    }
    let expected = concat!(
        "a share above 0 and at most 1 of each new estimate taken into the limit, ",
        "such as 0.2 (Netflix's default)"
    );
    Problem::new(value.span(), key, format!("smoothing {smoothing} is outside (0, 1]"))
        .expected(expected)
        .into_err()
}

fn check_tolerance(value: &Spanned<Number>, key: &str) -> Result<f64, Problem> {
    let tolerance = value.get_ref().0;
    if tolerance >= 1.0 && tolerance.is_finite() {
        return Ok(tolerance);
    }
    let expected = concat!(
        "a tolerance of at least 1 (how many times the long-term RTT a sample may reach ",
        "before the limit shrinks), such as 1.5 (Netflix's default)"
    );
    Problem::new(value.span(), key, format!("rtt_tolerance {tolerance} is not a finite number >= 1"))
        .expected(expected)
        .into_err()
}
