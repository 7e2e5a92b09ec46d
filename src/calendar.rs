//! The calendar a scenario may name (`[simulation] date` and `timezone`), so that its
//! series carry real timestamps that Grafana, pandas and Prometheus read.
//!
//! The simulation itself never sees it: time stays `u64` nanoseconds from the start. Only
//! outputs turn an instant into a date, through the IANA time zone database bundled with
//! `jiff` (so a run's timestamps do not depend on the machine's zone files), with the
//! offset in force at each instant (a run across a daylight-saving change shows both).

use crate::engine::SimTime;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// When t = 0 is, and in which time zone clock times are read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Calendar {
    /// Unix time of t = 0, in seconds.
    pub origin_unix_s: i64,
    /// An IANA time zone name, such as `"America/New_York"`.
    pub timezone: String,
}

/// Why a date or time zone was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum CalendarError {
    Date(String),
    TimeZone,
}

impl Calendar {
    /// The calendar of a run that starts at `clock_s` seconds after midnight of `date`
    /// (`"2026-02-23"`) in `timezone`. A clock time that a daylight-saving change skips
    /// is read as the offset before the change would have it (jiff's "compatible" rule).
    pub fn new(date: &str, clock_s: u64, timezone: &str) -> Result<Calendar, CalendarError> {
        let day: Date = date.parse().map_err(|err: jiff::Error| CalendarError::Date(err.to_string()))?;
        let zone = TimeZone::get(timezone).map_err(|_| CalendarError::TimeZone)?;
        let midnight = day.to_zoned_datetime(zone).map_err(|err| CalendarError::Date(err.to_string()))?;
        let origin = midnight.timestamp().as_second() + clock_s as i64;
        Ok(Calendar { origin_unix_s: origin, timezone: timezone.to_string() })
    }

    /// Unix time of `at`, in seconds.
    pub fn unix_seconds(&self, at: SimTime) -> f64 {
        self.origin_unix_s as f64 + at.0 as f64 / 1e9
    }

    /// `at` as ISO 8601 with the offset in force then: `2026-02-23T09:15:00-05:00`
    /// (fractions of a second only when there are some).
    pub fn iso(&self, at: SimTime) -> String {
        let nanos = self.origin_unix_s as i128 * 1_000_000_000 + at.0 as i128;
        let zone = TimeZone::get(&self.timezone).unwrap_or(TimeZone::UTC);
        match Timestamp::from_nanosecond(nanos) {
            Ok(instant) => {
                let zoned = instant.to_zoned_datetime(zone);
                let format = if nanos % 1_000_000_000 == 0 {
                    "%Y-%m-%dT%H:%M:%S%:z"
                } else {
                    "%Y-%m-%dT%H:%M:%S%.f%:z"
                };
                zoned.strftime(format).to_string()
            }
            Err(_) => String::new(),
        }
    }
}

/// Every time zone name the bundled database knows, for "did you mean".
pub fn timezone_names() -> Vec<String> {
    jiff::tz::db().available().map(|name| name.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SimTime {
        SimTime(secs * 1_000_000_000)
    }

    #[test]
    fn a_new_york_morning_reads_with_its_offset_and_unix_time() {
        // 2026-02-23 06:00 EST is 11:00 UTC.
        let calendar = Calendar::new("2026-02-23", 6 * 3600, "America/New_York").unwrap();
        assert_eq!(calendar.origin_unix_s, 1_771_844_400);
        assert_eq!(calendar.iso(at(0)), "2026-02-23T06:00:00-05:00");
        assert_eq!(calendar.iso(at(3 * 3600 + 15 * 60)), "2026-02-23T09:15:00-05:00");
        assert_eq!(calendar.iso(SimTime(500_000_000)), "2026-02-23T06:00:00.5-05:00");
        assert_eq!(calendar.unix_seconds(at(60)), 1_771_844_460.0);
    }

    #[test]
    fn a_run_across_midnight_and_daylight_saving_changes_date_and_offset() {
        // 2026-03-08 02:00 EST the clocks go forward: 01:30 is -05:00, 03:30 is -04:00.
        let calendar = Calendar::new("2026-03-07", 23 * 3600, "America/New_York").unwrap();
        assert_eq!(calendar.iso(at(2 * 3600 + 30 * 60)), "2026-03-08T01:30:00-05:00");
        assert_eq!(calendar.iso(at(3 * 3600 + 30 * 60)), "2026-03-08T03:30:00-04:00");
        let utc = Calendar::new("2026-02-02", 23 * 3600 + 30 * 60, "UTC").unwrap();
        assert_eq!(utc.iso(at(3600)), "2026-02-03T00:30:00+00:00");
    }

    #[test]
    fn bad_dates_and_unknown_zones_are_refused() {
        assert!(matches!(Calendar::new("2026-02-30", 0, "UTC"), Err(CalendarError::Date(_))));
        assert!(matches!(Calendar::new("23/02/2026", 0, "UTC"), Err(CalendarError::Date(_))));
        assert_eq!(Calendar::new("2026-02-23", 0, "America/Newyork"), Err(CalendarError::TimeZone));
        assert!(timezone_names().iter().any(|name| name == "America/New_York"));
    }
}
