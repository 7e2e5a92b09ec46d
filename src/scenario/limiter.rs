//! Resolves a client's `limiter`: a preset by name, or a preset with overrides of its
//! documented parameters, each checked against the limiter's own rules.

use std::ops::Range;

use super::spanned::Spanned;

use super::error::Problem;
use super::file::{Count, LimiterFile, LimiterTable, LimiterWindowFile};
use crate::engine::SimDuration;
use crate::model::limiter::{LimiterSpec, Preset};
use crate::refusal::quoted_list;

/// A limiter, or `None` for `"none"` where switching one off is allowed (the timeline).
pub(super) fn resolve_limiter_switch(
    file: &Spanned<LimiterFile>,
    key: &str,
) -> Result<Option<LimiterSpec>, Problem> {
    match file.get_ref() {
        LimiterFile::Preset(name) if name == "none" => Ok(None),
        _ => resolve_limiter(file, key).map(Some).map_err(|problem| {
            let expected = problem.expected.clone().unwrap_or_default();
            problem.expected(format!("{expected}, or \"none\" to switch it off"))
        }),
    }
}

pub(super) fn resolve_limiter(file: &Spanned<LimiterFile>, key: &str) -> Result<LimiterSpec, Problem> {
    match file.get_ref() {
        LimiterFile::Preset(name) => Ok(preset(name, file.span(), key)?.spec()),
        LimiterFile::Table(table) => {
            let preset = preset(table.preset.get_ref(), table.preset.span(), &format!("{key}.preset"))?;
            let mut spec = preset.spec();
            for (field, span) in overrides(table) {
                let field_key = format!("{key}.{field}");
                if !takes(&spec, field) {
                    let message =
                        format!("\"{field}\" is not a parameter of the \"{}\" preset", preset.name());
                    return Problem::new(span, field_key, message).expected(parameters(&spec)).into_err();
                }
                apply(&mut spec, table, field, &field_key)?;
                if let Err(refusal) = spec.validate() {
                    return Problem::new(span, field_key, refusal.message)
                        .expected("a value within that range")
                        .into_err();
                }
            }
            Ok(spec)
        }
    }
}

fn preset(name: &str, span: Range<usize>, key: &str) -> Result<Preset, Problem> {
    Preset::from_name(name).map_err(|_| {
        let names: Vec<&str> = Preset::ALL.iter().map(|preset| preset.name()).collect();
        Problem::new(span, key, format!("unknown limiter preset \"{name}\""))
            .expected(format!("one of {}", quoted_list(&names)))
    })
}

/// The parameters each kind of limiter takes, named as in the table.
fn names(spec: &LimiterSpec) -> &'static [&'static str] {
    match spec {
        LimiterSpec::TokenBucket(_) => &["max_tokens", "token_ratio"],
        LimiterSpec::RetryQuota(_) => &["capacity", "retry_cost", "timeout_retry_cost", "no_retry_increment"],
        LimiterSpec::RetryBudget(_) => &["ttl", "min_retries_per_sec", "percent_can_retry"],
        LimiterSpec::ConcurrentRetryBudget(_) => {
            &["budget_fraction", "min_retry_concurrency", "max_requests"]
        }
        LimiterSpec::CircuitBreaker(_) => {
            &["window", "minimum_calls", "failure_rate_threshold", "wait_open", "half_open_calls"]
        }
        LimiterSpec::AdaptiveThrottle(_) => &["k", "window"],
    }
}

fn takes(spec: &LimiterSpec, field: &str) -> bool {
    names(spec).contains(&field)
}

fn parameters(spec: &LimiterSpec) -> String {
    let quoted: Vec<String> = names(spec).iter().map(|name| format!("\"{name}\"")).collect();
    format!("one of the {}'s parameters: {}", spec.kind(), quoted.join(", "))
}

/// The overridden keys in file order of the struct, with their spans.
fn overrides(t: &LimiterTable) -> Vec<(&'static str, Range<usize>)> {
    let spans: [(&'static str, Option<Range<usize>>); 18] = [
        ("max_tokens", t.max_tokens.as_ref().map(Spanned::span)),
        ("token_ratio", t.token_ratio.as_ref().map(Spanned::span)),
        ("capacity", t.capacity.as_ref().map(Spanned::span)),
        ("retry_cost", t.retry_cost.as_ref().map(Spanned::span)),
        ("timeout_retry_cost", t.timeout_retry_cost.as_ref().map(Spanned::span)),
        ("no_retry_increment", t.no_retry_increment.as_ref().map(Spanned::span)),
        ("ttl", t.ttl.as_ref().map(Spanned::span)),
        ("min_retries_per_sec", t.min_retries_per_sec.as_ref().map(Spanned::span)),
        ("percent_can_retry", t.percent_can_retry.as_ref().map(Spanned::span)),
        ("budget_fraction", t.budget_fraction.as_ref().map(Spanned::span)),
        ("min_retry_concurrency", t.min_retry_concurrency.as_ref().map(Spanned::span)),
        ("max_requests", t.max_requests.as_ref().map(Spanned::span)),
        ("window", t.window.as_ref().map(Spanned::span)),
        ("minimum_calls", t.minimum_calls.as_ref().map(Spanned::span)),
        ("failure_rate_threshold", t.failure_rate_threshold.as_ref().map(Spanned::span)),
        ("wait_open", t.wait_open.as_ref().map(Spanned::span)),
        ("half_open_calls", t.half_open_calls.as_ref().map(Spanned::span)),
        ("k", t.k.as_ref().map(Spanned::span)),
    ];
    spans.into_iter().filter_map(|(name, span)| span.map(|span| (name, span))).collect()
}

/// A count that fits the model's `u32`.
fn count(value: &Option<Spanned<Count>>, key: &str) -> Result<u32, Problem> {
    let value = value.as_ref().expect("listed as present");
    u32::try_from(value.get_ref().0).map_err(|_| {
        Problem::new(value.span(), key, format!("{} is out of range", value.get_ref().0))
            .expected("a whole number from 0 to 4294967295")
    })
}

/// Sets one overridden parameter; its kind was checked by `takes`.
fn apply(spec: &mut LimiterSpec, t: &LimiterTable, field: &str, key: &str) -> Result<(), Problem> {
    let fraction = |value: &Option<Spanned<super::units::Percent>>| {
        value.as_ref().expect("present").get_ref().fraction()
    };
    let number = |value: &Option<Spanned<super::file::Number>>| value.as_ref().expect("present").get_ref().0;
    let duration =
        |value: &Option<Spanned<super::units::Duration>>| value.as_ref().expect("present").get_ref().0;
    match spec {
        LimiterSpec::TokenBucket(p) => match field {
            "max_tokens" => p.max_tokens = count(&t.max_tokens, key)?,
            _ => p.token_ratio = number(&t.token_ratio),
        },
        LimiterSpec::RetryQuota(p) => match field {
            "capacity" => p.capacity = count(&t.capacity, key)?,
            "retry_cost" => p.retry_cost = count(&t.retry_cost, key)?,
            "timeout_retry_cost" => p.timeout_retry_cost = count(&t.timeout_retry_cost, key)?,
            _ => p.no_retry_increment = count(&t.no_retry_increment, key)?,
        },
        LimiterSpec::RetryBudget(p) => match field {
            "ttl" => p.ttl = duration(&t.ttl),
            "min_retries_per_sec" => p.min_retries_per_sec = count(&t.min_retries_per_sec, key)?,
            _ => p.percent_can_retry = fraction(&t.percent_can_retry),
        },
        LimiterSpec::ConcurrentRetryBudget(p) => match field {
            "budget_fraction" => p.budget_fraction = fraction(&t.budget_fraction),
            "max_requests" => p.max_requests = count(&t.max_requests, key)?,
            _ => p.min_retry_concurrency = count(&t.min_retry_concurrency, key)?,
        },
        LimiterSpec::CircuitBreaker(p) => match field {
            "window" => p.window = window_calls(t, key)?,
            "minimum_calls" => p.minimum_calls = count(&t.minimum_calls, key)?,
            "failure_rate_threshold" => p.failure_rate_threshold = fraction(&t.failure_rate_threshold),
            "wait_open" => p.wait_open = duration(&t.wait_open),
            _ => p.half_open_calls = count(&t.half_open_calls, key)?,
        },
        LimiterSpec::AdaptiveThrottle(p) => match field {
            "k" => p.k = number(&t.k),
            _ => p.window = window_time(t, key)?,
        },
    }
    Ok(())
}

fn window_calls(t: &LimiterTable, key: &str) -> Result<u32, Problem> {
    let window = t.window.as_ref().expect("present");
    match *window.get_ref() {
        LimiterWindowFile::Calls(calls) if (0..=u32::MAX as i64).contains(&calls) => Ok(calls as u32),
        _ => Problem::new(window.span(), key, "a circuit breaker's window is a number of calls")
            .expected("a whole number of calls such as 100")
            .into_err(),
    }
}

fn window_time(t: &LimiterTable, key: &str) -> Result<SimDuration, Problem> {
    let window = t.window.as_ref().expect("present");
    match *window.get_ref() {
        LimiterWindowFile::Time(duration) if duration.0.0 > 0 => Ok(duration.0),
        _ => Problem::new(window.span(), key, "adaptive throttling's window is a duration above zero")
            .expected("a duration such as \"2m\"")
            .into_err(),
    }
}
