//! A source's kind and the keys each kind takes: an open loop's `rate` (a trace has been
//! written into it by then, see `trace`), `arrivals` and `surge`; a closed loop's `users`
//! and `think_time`. A key of the other kind is refused, naming the kind it belongs to.

use super::checks::{check_count, time_from_start};
use super::error::Problem;
use super::file::{SourceFile, UsersFile};
use super::resolve::{TimeKind, out_of_order, resolve_profile, resolve_time_distribution};
use super::spanned::Spanned;
use super::units::ClockTime;
use crate::engine::SimTime;
use crate::model::{SourceKind, UsersProfile};

/// Most users of one closed-loop source: 1,000,000 (each holds at least a request in
/// flight; the default guard stops a run at 2,000,000).
const MAX_USERS: i64 = 1_000_000;

/// What a think time is, for messages.
const THINK_TIME: TimeKind = TimeKind {
    what: "think time",
    above_zero: "a think time above zero such as \"1s\" (\"1ms\" for users who barely pause)",
};

/// Highest coefficient of variation of an open loop's gaps: 10 (a gamma of shape 0.01,
/// whose gaps are mostly near zero: already one burst after another).
const MAX_CV: f64 = 10.0;

/// The open loop's keys: a rate (or a trace written into it), its gaps and its surge.
pub(super) fn open_loop(
    name: &Spanned<String>,
    source: &SourceFile,
    start: Option<ClockTime>,
) -> Result<SourceKind, Problem> {
    let key = format!("sources.{}", name.get_ref());
    let closed_only = [
        ("users", source.users.as_ref().map(Spanned::span)),
        ("think_time", source.think_time.as_ref().map(Spanned::span)),
    ];
    for (field, span) in closed_only {
        if let Some(span) = span {
            return Problem::new(
                span,
                format!("{key}.{field}"),
                format!("{field} is a key of a closed_loop source"),
            )
            .expected("kind = \"closed_loop\" beside users and think_time, or a rate for an open loop")
            .into_err();
        }
    }
    let Some(rate) = &source.rate else {
        return Problem::new(name.span(), format!("{key}.rate"), format!("source \"{}\" has no rate", name.get_ref()))
            .expected(
                "rate = \"100/s\", a profile [{ at, rate }], or trace = { file = \"...\" }; or kind = \"closed_loop\" with users and think_time",
            )
            .into_err();
    };
    let mut profile = resolve_profile(rate, &format!("{key}.rate"), start)?;
    if let Some(surge) = &source.surge {
        profile = super::surge::apply(profile, surge.get_ref(), &format!("{key}.surge"), start)?;
    }
    let cv = match &source.arrivals {
        Some(arrivals) => check_cv(&arrivals.get_ref().cv, &format!("{key}.arrivals.cv"))?,
        None => 1.0,
    };
    Ok(SourceKind::OpenLoop { profile, cv })
}

/// The closed loop's keys: its users and their think time.
pub(super) fn closed_loop(
    name: &Spanned<String>,
    source: &SourceFile,
    start: Option<ClockTime>,
) -> Result<SourceKind, Problem> {
    let key = format!("sources.{}", name.get_ref());
    let open_only = [
        ("rate", source.rate.as_ref().map(Spanned::span)),
        ("arrivals", source.arrivals.as_ref().map(Spanned::span)),
        ("surge", source.surge.as_ref().map(Spanned::span)),
    ];
    for (field, span) in open_only {
        if let Some(span) = span {
            let expected = match field {
                "surge" => "a users profile that rises for a while, for a closed loop's surge",
                _ => "users and think_time for a closed loop, or kind = \"open_loop\"",
            };
            return Problem::new(
                span,
                format!("{key}.{field}"),
                format!("{field} is a key of an open_loop source"),
            )
            .expected(expected)
            .into_err();
        }
    }
    let missing = |field: &str, example: &str| {
        let message = format!("closed-loop source \"{}\" has no {field}", name.get_ref());
        Problem::new(name.span(), format!("{key}.{field}"), message).expected(example.to_string())
    };
    let users = source
        .users
        .as_ref()
        .ok_or_else(|| missing("users", "users = 50, or a profile [{ at = \"0s\", users = 50 }, ...]"))?;
    let think_time = source.think_time.as_ref().ok_or_else(|| {
        missing("think_time", "think_time = \"5s\", or { dist = \"exponential\", mean = \"5s\" }")
    })?;
    let users = resolve_users(users, &format!("{key}.users"), start)?;
    let think_time = resolve_time_distribution(think_time, &format!("{key}.think_time"), &THINK_TIME)?;
    Ok(SourceKind::ClosedLoop { users, think_time })
}

/// A constant is a one-point profile; a profile has a point at least, its times strictly
/// increase, every count is within the limit, and a constant is at least one user.
fn resolve_users(
    users: &Spanned<UsersFile>,
    key: &str,
    start: Option<ClockTime>,
) -> Result<UsersProfile, Problem> {
    let points = match users.get_ref() {
        UsersFile::Constant(count) => {
            let count = check_count(&Spanned::new(users.span(), *count), key, "users", 1..=MAX_USERS)?;
            return Ok(UsersProfile { points: vec![(SimTime::ZERO, count as u32)] });
        }
        UsersFile::Profile(points) => points,
    };
    if points.is_empty() {
        return Problem::new(users.span(), key, "users profile is empty")
            .expected(r#"at least one point such as [{ at = "0s", users = 50 }], or a count such as 50"#)
            .into_err();
    }
    let mut resolved: Vec<(SimTime, u32)> = Vec::with_capacity(points.len());
    for (point_idx, point) in points.iter().enumerate() {
        let point_key = format!("{key}[{point_idx}]");
        let at = time_from_start(&point.at, &format!("{point_key}.at"), start)?;
        if let Some(&(previous, _)) = resolved.last()
            && at <= previous
        {
            let previous_at = &points[point_idx - 1].at;
            return out_of_order(&point.at, previous_at, at, previous, &format!("{point_key}.at")).into_err();
        }
        let count = check_count(&point.users, &format!("{point_key}.users"), "users", 0..=MAX_USERS)?;
        resolved.push((at, count as u32));
    }
    Ok(UsersProfile { points: resolved })
}

/// A coefficient of variation in `[0, MAX_CV]`.
fn check_cv(cv: &Spanned<super::file::Number>, key: &str) -> Result<f64, Problem> {
    let value = cv.get_ref().0;
    if (0.0..=MAX_CV).contains(&value) {
        return Ok(value + 0.0);
    }
    Problem::new(cv.span(), key, format!("coefficient of variation {value} is out of range"))
        .expected(format!(
            "a number from 0 (evenly spaced) to {MAX_CV}: 1 is Poisson, 2 to 4 bursty traffic, such as 3"
        ))
        .into_err()
}
