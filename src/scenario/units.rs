//! The unit-bearing values of `crate::units` as a scenario file writes them: each
//! deserializes from its string, a bare TOML number is refused with a message that suggests
//! the unit, and a TOML local time (`start = 06:00`) is taken where a clock time belongs.
//! Each serializes back to its string, so `scenario.resolved.toml` reads back unchanged.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::units::{
    CLOCK_EXPECTED, DURATION_EXPECTED, PERCENT_EXPECTED, RATE_EXPECTED, missing_duration_unit,
    missing_rate_unit,
};
pub use crate::units::{ClockTime, Duration, Percent, Rate, TimePoint, UnitError};

/// Deserializes a unit type from a string; bare TOML numbers get a message that suggests
/// adding the unit, TOML local times are accepted where a clock time is.
struct UnitVisitor<T> {
    expecting: &'static str,
    /// Turns a bare number (as written) into the "missing unit" message.
    bare_number: fn(&str) -> String,
    /// Accepts a TOML local time (`start = 06:00`), where a clock time makes sense.
    from_local_time: Option<fn(ClockTime) -> T>,
}

impl<'de, T: FromStr<Err = UnitError>> Visitor<'de> for UnitVisitor<T> {
    type Value = T;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        text.parse().map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<T, E> {
        Err(E::custom((self.bare_number)(&value.to_string())))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<T, E> {
        Err(E::custom((self.bare_number)(&value.to_string())))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<T, E> {
        Err(E::custom((self.bare_number)(&value.to_string())))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        let datetime = toml::value::Datetime::deserialize(de::value::MapAccessDeserializer::new(map))?;
        let local_time = match (datetime.date, datetime.time, datetime.offset) {
            (None, Some(time), None) => time,
            _ => {
                return Err(de::Error::custom(format!(
                    "\"{datetime}\" is not a clock time, {CLOCK_EXPECTED}"
                )));
            }
        };
        let Some(wrap) = self.from_local_time else {
            return Err(de::Error::custom(format!("unexpected time of day {datetime}, {}", self.expecting)));
        };
        if local_time.nanosecond.unwrap_or(0) != 0 {
            return Err(de::Error::custom(format!(
                "fractional seconds in clock time {datetime}, {CLOCK_EXPECTED}"
            )));
        }
        let clock = ClockTime::from_parts(
            0,
            local_time.hour.into(),
            local_time.minute.into(),
            local_time.second.unwrap_or(0).into(),
        );
        Ok(wrap(clock))
    }
}

fn duration_bare_number(number: &str) -> String {
    missing_duration_unit(number, number, "")
}

/// A bare number where a percentage belongs; a number up to 1 may be a fraction, so both
/// readings are offered.
fn percent_bare_number(number: &str) -> String {
    let as_fraction = number.parse::<f64>().ok().filter(|value| *value > 0.0 && *value <= 1.0);
    let suggestion = match as_fraction {
        Some(fraction) => {
            format!("\"{}%\" if {number} is a fraction, or \"{number}%\"", (fraction * 1e11).round() / 1e9)
        }
        None => format!("\"{number}%\""),
    };
    format!("missing % in {number}, {PERCENT_EXPECTED}: write {suggestion}")
}

fn clock_bare_number(number: &str) -> String {
    format!("{number} is not a clock time, {CLOCK_EXPECTED}")
}

fn time_point_bare_number(number: &str) -> String {
    format!(
        "missing unit in {number}, expected a duration from the start such as \"{number}s\" or \"{number}m\", or a clock time such as \"08:41\""
    )
}

/// A decimal number as the unit parsers take it (`1_000`, `.5`, `2.5e3`).
const NUMBER: &str = r"\+?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9]+)?";
/// One or more `number unit` components: `"250ms"`, `"1h30m"`, `"1m 30s"`.
const DURATION_PATTERN: &str = r"(?:[0-9]+(?:\.[0-9]*)?\s*(?:ns|us|µs|ms|s|min|m|h|d)\s*)+";
/// `HH:MM` or `HH:MM:SS`, then `+Nd` (up to 365) for a later day.
const CLOCK_PATTERN: &str = r"(?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?(?:\+(?:[0-9]{1,2}|[0-2][0-9]{2}|3[0-5][0-9]|36[0-5])d)?";

/// The JSON Schema of a unit type: a string matching `pattern`, explained as the error
/// messages explain it, so an editor's hover says what the loader would.
fn unit_schema(description: &str, pattern: String, examples: &[&str]) -> Schema {
    json_schema!({
        "type": "string",
        "description": description,
        "pattern": format!(r"^\s*(?:{pattern})\s*$"),
        "examples": examples,
    })
}

macro_rules! string_serde {
    ($type:ty, $expecting:expr, $bare_number:expr, $from_local_time:expr) => {
        impl<'de> Deserialize<'de> for $type {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_any(UnitVisitor {
                    expecting: $expecting,
                    bare_number: $bare_number,
                    from_local_time: $from_local_time,
                })
            }
        }

        impl Serialize for $type {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }
    };
}

string_serde!(Duration, DURATION_EXPECTED, duration_bare_number, None);
string_serde!(Rate, RATE_EXPECTED, missing_rate_unit, None);
string_serde!(Percent, PERCENT_EXPECTED, percent_bare_number, None);
string_serde!(ClockTime, CLOCK_EXPECTED, clock_bare_number, Some(|clock| clock));
string_serde!(
    TimePoint,
    "a clock time such as \"08:41\" or a duration from the start such as \"90m\"",
    time_point_bare_number,
    Some(TimePoint::Clock)
);

macro_rules! unit_json_schema {
    ($type:ty, $name:literal, $description:expr, $pattern:expr, $examples:expr) => {
        impl JsonSchema for $type {
            fn schema_name() -> Cow<'static, str> {
                Cow::Borrowed($name)
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                unit_schema($description, $pattern, $examples)
            }
        }
    };
}

unit_json_schema!(
    Duration,
    "Duration",
    "A duration with a unit: \"250ms\", \"1.5s\", \"5m\" or \"1h30m\" (units: ns, us, ms, s, m, min, h, d).",
    DURATION_PATTERN.to_string(),
    &["250ms", "1.5s", "1h30m"]
);
unit_json_schema!(
    Rate,
    "Rate",
    "A rate: \"1200/s\", \"50/min\" or \"3/h\" (per s, m, min or h).",
    format!(r"{NUMBER}\s*/\s*(?:s|min|m|h)"),
    &["1200/s", "50/min"]
);
unit_json_schema!(
    Percent,
    "Percent",
    "A percentage with its sign: \"25%\" or \"99.9%\".",
    format!(r"{NUMBER}\s*%"),
    &["25%", "99.9%"]
);
unit_json_schema!(
    ClockTime,
    "ClockTime",
    "A clock time on the scenario's day, \"HH:MM\" or \"HH:MM:SS\", with \"+1d\" for the next day.",
    CLOCK_PATTERN.to_string(),
    &["08:30", "00:15+1d"]
);
unit_json_schema!(
    TimePoint,
    "TimePoint",
    "When: a clock time on the scenario's day (\"08:41\", \"00:15+1d\") or a duration from the start (\"90m\").",
    format!("{CLOCK_PATTERN}|{DURATION_PATTERN}"),
    &["08:41", "90m"]
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_percentage_suggests_both_readings() {
        assert!(percent_bare_number("0.07").ends_with(r#"write "7%" if 0.07 is a fraction, or "0.07%""#));
        assert!(percent_bare_number("25").ends_with(r#"write "25%""#));
    }

    #[derive(Deserialize, Debug)]
    struct Holder {
        duration: Option<Duration>,
        start: Option<ClockTime>,
        at: Option<TimePoint>,
    }

    #[test]
    fn deserialize_hints_at_units_for_bare_numbers_and_takes_toml_times() {
        let error = toml::from_str::<Holder>("duration = 30").unwrap_err();
        assert!(error.message().starts_with("missing unit in \"30\""), "{}", error.message());
        let holder: Holder = toml::from_str("start = 06:30:00\nat = 07:00:00").unwrap();
        assert_eq!(holder.start, Some("06:30".parse().unwrap()));
        assert_eq!(holder.at, Some("07:00".parse().unwrap()));
        let holder: Holder = toml::from_str("duration = \"1m30s\"").unwrap();
        assert_eq!(holder.duration, Some("90s".parse().unwrap()));
        assert!(toml::from_str::<Holder>("duration = 06:30:00").is_err());
        assert!(toml::from_str::<Holder>("start = 2026-01-01").is_err());
    }
}
