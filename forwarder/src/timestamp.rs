//! `dateFormat` and `timezone`: turning a record's date field into `_zl_timestamp` (epoch ms).
//!
//! Kinds, as Site24x7's senders understand them:
//! - `unix`: whole (or fractional) seconds, e.g. a flow log's `start`;
//! - any other value containing `unix` (`unix-ms`, `unixms` …): already milliseconds;
//! - `agent_time`: the time the forwarder parses the object;
//! - anything else: a Python `strftime` pattern. Without a year (`%Y`/`%y`) the current year is
//!   appended, as the reference does; without a zone (`%z`) the profile's `timezone` applies
//!   (UTC when none is configured).

use std::fmt::Write as _;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

use crate::limits::excerpt;

/// How a record's date field is read (`dateFormat`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateFormat {
    /// `unix`: epoch seconds.
    UnixSeconds,
    /// A value containing `unix` other than `unix` itself: epoch milliseconds.
    UnixMillis,
    /// `agent_time`: the time of parsing, whatever the record says.
    AgentTime,
    /// A strftime pattern, translated once to chrono's dialect.
    Strftime(StrftimePattern),
}

/// A Python strftime pattern translated for chrono, with the facts parsing needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrftimePattern {
    /// The pattern as configured (kept for messages).
    pub original: String,
    chrono: String,
    has_year: bool,
    has_zone: bool,
}

/// Why a `dateFormat` or `timezone` value cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateFormatError {
    /// Not `unix`, `agent_time` or a pattern with `%` directives.
    #[error(
        "unknown dateFormat {:?}: use `unix`, `unix-ms`, `agent_time` or a strftime pattern such as `%d/%b/%Y:%H:%M:%S %z`",
        excerpt(.0)
    )]
    Unknown(String),
    /// A pattern chrono cannot format and parse back.
    #[error(
        "dateFormat {:?} cannot be used: a directive is unsupported or the pattern does not round-trip; use the directives %Y %y %m %b %B %d %H %I %p %M %S %f %z %j",
        excerpt(.0)
    )]
    Unusable(String),
    /// A `timezone` that is not a `+HHMM` offset.
    #[error(
        "timezone {:?} is not an offset: write it as +0530, -0800 or +05:30",
        excerpt(.0)
    )]
    Timezone(String),
}

impl DateFormat {
    /// Interprets a configured `dateFormat` (`None` means `agent_time`).
    ///
    /// # Errors
    /// [`DateFormatError`] when the value is neither a known kind nor a usable pattern.
    pub fn parse(value: Option<&str>) -> Result<Self, DateFormatError> {
        let Some(value) = value.map(str::trim) else {
            return Ok(Self::AgentTime);
        };
        if value == "unix" {
            return Ok(Self::UnixSeconds);
        }
        if value.contains("unix") {
            return Ok(Self::UnixMillis);
        }
        if value == "agent_time" {
            return Ok(Self::AgentTime);
        }
        if !value.contains('%') {
            return Err(DateFormatError::Unknown(value.to_owned()));
        }
        StrftimePattern::new(value).map(Self::Strftime)
    }

    /// The record's time in epoch milliseconds, or `None` when `value` does not fit the format
    /// or is before 1970 (a negative `_zl_timestamp` is no time Site24x7 can show: such a line
    /// is counted unparsable, never sent with a made-up time).
    ///
    /// `offset_s` is the profile's `timezone` in seconds east of UTC; `now_ms` is the time of
    /// parsing (for `agent_time` and for the year of year-less patterns).
    #[must_use]
    pub fn epoch_ms(&self, value: &str, offset_s: i32, now_ms: i64) -> Option<i64> {
        let ms = match self {
            Self::UnixSeconds => unix_seconds_ms(value),
            Self::UnixMillis => unix_millis(value),
            Self::AgentTime => Some(now_ms),
            Self::Strftime(pattern) => pattern.epoch_ms(value, offset_s, now_ms),
        }?;
        (ms >= 0).then_some(ms)
    }
}

/// Epoch milliseconds: digits with an optional `+`, surrounding whitespace ignored; no sign
/// of minus (a time before 1970 is refused).
fn unix_millis(value: &str) -> Option<i64> {
    let digits = value.trim();
    let digits = digits.strip_prefix('+').unwrap_or(digits);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Epoch seconds (an optional `+`, digits, optionally a `.` and a fraction) to milliseconds,
/// in one pass over the bytes: this runs once per record. A `-` sign is refused: a time
/// before 1970 is not a flow's time.
fn unix_seconds_ms(value: &str) -> Option<i64> {
    let bytes = value.as_bytes();
    let digits = match bytes.split_first() {
        Some((b'-', _)) => return None,
        Some((b'+', rest)) => rest,
        _ => bytes,
    };
    let whole = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    if whole == 0 {
        return None;
    }
    let mut seconds = 0i64;
    for &b in &digits[..whole] {
        seconds = seconds.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    let frac = match digits[whole..].split_first() {
        None => &[][..],
        Some((b'.', frac)) if frac.iter().all(u8::is_ascii_digit) => frac,
        Some(_) => return None,
    };
    let mut millis = 0i64;
    for (i, &b) in frac.iter().take(3).enumerate() {
        millis += i64::from(b - b'0') * [100, 10, 1][i];
    }
    seconds.checked_mul(1000)?.checked_add(millis)
}

/// Parses `+0530`, `-0800`, `+05:30`, `Z`, `UTC` or `GMT` into seconds east of UTC.
///
/// # Errors
/// [`DateFormatError::Timezone`] for anything else.
pub fn parse_offset(value: &str) -> Result<i32, DateFormatError> {
    let v = value.trim();
    if v.is_empty() || matches!(v, "Z" | "UTC" | "GMT") {
        return Ok(0);
    }
    let bad = || DateFormatError::Timezone(value.to_owned());
    let (sign, rest) = match v.as_bytes()[0] {
        b'+' => (1, &v[1..]),
        b'-' => (-1, &v[1..]),
        _ => return Err(bad()),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let hours: i32 = digits[..2].parse().map_err(|_| bad())?;
    let minutes: i32 = digits[2..].parse().map_err(|_| bad())?;
    if hours > 23 || minutes > 59 {
        return Err(bad());
    }
    Ok(sign * (hours * 3600 + minutes * 60))
}

impl StrftimePattern {
    /// Translates and checks a Python strftime pattern.
    ///
    /// # Errors
    /// [`DateFormatError::Unusable`] when chrono cannot format and parse the pattern back.
    pub fn new(original: &str) -> Result<Self, DateFormatError> {
        let unusable = || DateFormatError::Unusable(original.to_owned());
        // Python's %f is microseconds; chrono's six-digit form is %6f.
        let mut chrono_fmt = original.replace("%f", "%6f");
        let has_year = ["%Y", "%y", "%G", "%s"]
            .iter()
            .any(|d| original.contains(d));
        let has_zone = ["%z", "%:z", "%s"].iter().any(|d| original.contains(d));
        if !has_year {
            chrono_fmt.push_str(" %Y");
        }
        if StrftimeItems::new(&chrono_fmt).any(|item| matches!(item, Item::Error)) {
            return Err(unusable());
        }
        let pattern = Self {
            original: original.to_owned(),
            chrono: chrono_fmt,
            has_year,
            has_zone,
        };
        // Round trip a known instant: catches directives chrono formats but cannot parse (%Z).
        let probe = FixedOffset::east_opt(19_800)
            .and_then(|tz| tz.with_ymd_and_hms(2021, 3, 26, 3, 28, 12).single())
            .ok_or_else(unusable)?;
        let mut text = String::new();
        write!(text, "{}", probe.format(&pattern.chrono)).map_err(|_| unusable())?;
        // The formatted probe already carries the appended year.
        let parsed = pattern.parse_prepared(&text, 19_800);
        if parsed.is_none() {
            return Err(unusable());
        }
        Ok(pattern)
    }

    fn epoch_ms(&self, value: &str, offset_s: i32, now_ms: i64) -> Option<i64> {
        if self.has_year {
            return self.parse_prepared(value, offset_s);
        }
        let year = DateTime::<Utc>::from_timestamp_millis(now_ms)?
            .with_timezone(&FixedOffset::east_opt(offset_s)?)
            .year();
        self.parse_prepared(&format!("{value} {year}"), offset_s)
    }

    /// Parses a value that already has the year appended when the pattern lacks one.
    fn parse_prepared(&self, value: &str, offset_s: i32) -> Option<i64> {
        let value = value.trim();
        if self.has_zone {
            return DateTime::parse_from_str(value, &self.chrono)
                .ok()
                .map(|t| t.timestamp_millis());
        }
        let naive = NaiveDateTime::parse_from_str(value, &self.chrono)
            .ok()
            .or_else(|| {
                NaiveDate::parse_from_str(value, &self.chrono)
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
            })?;
        let local = FixedOffset::east_opt(offset_s)?
            .from_local_datetime(&naive)
            .single()?;
        Some(local.timestamp_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::{DateFormat, parse_offset};

    const NOW: i64 = 1_764_050_400_000; // 2025-11-25T06:00:00Z

    #[test]
    fn every_date_format_kind_gives_epoch_milliseconds() {
        let cases: &[(&str, &str, i32, Option<i64>)] = &[
            ("unix", "1418530010", 0, Some(1_418_530_010_000)),
            ("unix", "1418530010.5", 0, Some(1_418_530_010_500)),
            ("unix", "-", 0, None),
            ("unix-ms", "1418530010123", 0, Some(1_418_530_010_123)),
            ("unix-ms", "-1418530010123", 0, None),
            ("unix-ms", "+5", 0, Some(5)),
            ("%Y-%m-%d", "1969-12-31", 0, None),
            ("agent_time", "whatever", 0, Some(NOW)),
            (
                "%d/%b/%Y:%H:%M:%S %z",
                "26/Mar/2021:03:28:12 +0530",
                0,
                Some(1_616_709_492_000),
            ),
            (
                "%Y-%m-%d %H:%M:%S",
                "2021-03-25 22:28:12",
                0,
                Some(1_616_711_292_000),
            ),
            (
                "%Y-%m-%d %H:%M:%S",
                "2021-03-26 03:58:12",
                19_800,
                Some(1_616_711_292_000),
            ),
            (
                "%Y-%m-%d %H:%M:%S.%f",
                "2021-03-25 22:28:12.250000",
                0,
                Some(1_616_711_292_250),
            ),
            (
                "%b %d %H:%M:%S",
                "Nov 24 10:00:00",
                0,
                Some(1_763_978_400_000),
            ),
            ("%Y-%m-%d", "2021-03-25", 0, Some(1_616_630_400_000)),
            ("%Y-%m-%d %H:%M:%S", "not a date", 0, None),
        ];
        for (format, value, offset, expected) in cases {
            let parsed = DateFormat::parse(Some(format)).expect("valid format");
            assert_eq!(
                parsed.epoch_ms(value, *offset, NOW),
                *expected,
                "format {format:?} value {value:?} offset {offset}"
            );
        }
    }

    #[test]
    fn unix_seconds_take_a_sign_and_a_fraction_and_nothing_else() {
        let cases: &[(&str, Option<i64>)] = &[
            ("0", Some(0)),
            ("+7", Some(7_000)),
            ("-7", None),
            ("-0", None),
            ("5.", Some(5_000)),
            ("5.1", Some(5_100)),
            ("5.123456", Some(5_123)),
            ("9223372036854775", Some(9_223_372_036_854_775_000)),
            ("9223372036854776", None),
            ("92233720368547758070", None),
            ("", None),
            ("+", None),
            ("-", None),
            (".5", None),
            ("-.5", None),
            ("5.x", None),
            ("5.1.2", None),
            (" 5", None),
            ("5 ", None),
            ("5e3", None),
            ("\u{661}", None),
        ];
        let unix = DateFormat::parse(Some("unix")).expect("valid format");
        for (value, expected) in cases {
            assert_eq!(unix.epoch_ms(value, 0, NOW), *expected, "{value:?}");
        }
    }

    #[test]
    fn unusable_or_unknown_date_formats_are_rejected() {
        for format in ["iso8601", "%Q", "%Y-%m-%d %", ""] {
            assert!(
                DateFormat::parse(Some(format)).is_err(),
                "{format:?} should be rejected"
            );
        }
    }

    #[test]
    fn timezone_offsets_parse_in_every_written_form() {
        let cases = [
            ("+0530", 19_800),
            ("-0800", -28_800),
            ("+05:30", 19_800),
            ("UTC", 0),
        ];
        for (text, seconds) in cases {
            assert_eq!(parse_offset(text), Ok(seconds), "{text}");
        }
        assert!(parse_offset("Asia/Kolkata").is_err());
    }
}
