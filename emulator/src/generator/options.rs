//! What a generation run is asked to do: the flow log as configured in AWS (resource type,
//! filter, format, destination, file format, key layout, aggregation), the simulated period, and
//! the size of the traffic.

use std::fmt;
use std::str::FromStr;

use chrono::DateTime;

use super::destination::{Destination, KeyLayout};
use super::error::ConfigError;
use super::fields::{LogFormat, ResourceType};
use super::parquet_file::ParquetOptions;

/// Which records the flow log captures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Filter {
    /// Accepted and rejected traffic.
    #[default]
    All,
    /// Accepted traffic only.
    Accept,
    /// Rejected traffic only.
    Reject,
}

impl FromStr for Filter {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "ALL" => Ok(Self::All),
            "ACCEPT" => Ok(Self::Accept),
            "REJECT" => Ok(Self::Reject),
            _ => Err(ConfigError::Range {
                name: "filter",
                value: s.to_owned(),
                reason: "expected ALL, ACCEPT or REJECT".into(),
            }),
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::All => "ALL",
            Self::Accept => "ACCEPT",
            Self::Reject => "REJECT",
        })
    }
}

/// The file format of delivered objects (`DestinationOptions.FileFormat`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FileFormat {
    /// gzip text with a header line, keys ending `.log.gz`.
    #[default]
    PlainText,
    /// Apache Parquet, keys ending `.log.parquet`.
    Parquet,
}

impl FileFormat {
    /// AWS's option value: `plain-text` or `parquet`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PlainText => "plain-text",
            Self::Parquet => "parquet",
        }
    }

    /// The end of the object keys: `.log.gz` or `.log.parquet`.
    #[must_use]
    pub fn key_suffix(self) -> &'static str {
        match self {
            Self::PlainText => ".log.gz",
            Self::Parquet => ".log.parquet",
        }
    }
}

impl FromStr for FileFormat {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "plain-text" | "text" => Ok(Self::PlainText),
            "parquet" => Ok(Self::Parquet),
            _ => Err(ConfigError::Range {
                name: "file-format",
                value: s.to_owned(),
                reason: "expected plain-text or parquet".into(),
            }),
        }
    }
}

impl fmt::Display for FileFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The flow log as created with CreateFlowLogs, plus how the simulated service writes files.
#[derive(Debug, Clone)]
pub struct FlowLogService {
    /// VPC flow logs, or transit-gateway flow logs (which take only ALL, 60 s, and their own
    /// fields; see [`FlowLogService::transit_gateway`]).
    pub resource_type: ResourceType,
    /// Owner accounts (12 digits); one flow log per account and region.
    pub account_ids: Vec<String>,
    /// Regions, e.g. `us-east-1`.
    pub regions: Vec<String>,
    /// Traffic filter. NODATA and SKIPDATA records are status records, kept under every filter.
    pub filter: Filter,
    /// Log format; `default` is the resource type's default format.
    pub format: LogFormat,
    /// Destination bucket and subfolder.
    pub destination: Destination,
    /// Hive-compatible prefixes and/or hourly partitions.
    pub layout: KeyLayout,
    /// Plain text (gzip) or Parquet.
    pub file_format: FileFormat,
    /// Codec and row-group size of Parquet objects.
    pub parquet: ParquetOptions,
    /// Aggregation interval: 60 or 600 seconds.
    pub aggregation: u32,
    /// A file is closed and a new one started before its text would exceed this many
    /// uncompressed bytes (75 MB like the service; set a few KB in tests). Parquet objects rotate
    /// on the size of the same text, so both file formats split the records alike.
    pub rotate_bytes: u64,
    /// gzip compression level (0–9) of text objects and of Parquet's GZIP pages.
    pub gzip_level: u32,
    /// Parallel writers: each ENI is handled by one, so a window has up to this many files.
    pub writers: u32,
}

impl Default for FlowLogService {
    fn default() -> Self {
        Self {
            resource_type: ResourceType::Vpc,
            account_ids: vec!["123456789012".into()],
            regions: vec!["us-east-1".into()],
            filter: Filter::All,
            format: LogFormat::default_format(),
            destination: Destination {
                bucket: "flowlogs-demo".into(),
                prefix: String::new(),
            },
            layout: KeyLayout::default(),
            file_format: FileFormat::PlainText,
            parquet: ParquetOptions::default(),
            aggregation: 600,
            rotate_bytes: 75 * 1024 * 1024,
            gzip_level: 3,
            writers: 2,
        }
    }
}

impl FlowLogService {
    /// A transit-gateway flow log as AWS allows it: the transit-gateway default format, all
    /// traffic, 60-second aggregation; the rest as [`FlowLogService::default`].
    #[must_use]
    pub fn transit_gateway() -> Self {
        Self {
            resource_type: ResourceType::TransitGateway,
            aggregation: 60,
            ..Self::default()
        }
    }
}

/// Size of the simulated estate and of its traffic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrafficOptions {
    /// VPCs per flow log (per account and region); with transit-gateway logs each is attached
    /// to the region's transit gateway.
    pub vpcs: u32,
    /// ENIs per VPC (a repeating mix of kinds; 13 gives one of each pattern).
    pub enis_per_vpc: u32,
    /// Multiplies all rates; 1.0 ≈ 375 records per minute per VPC at an average hour.
    pub rate: f64,
}

impl Default for TrafficOptions {
    fn default() -> Self {
        Self {
            vpcs: 2,
            enis_per_vpc: 13,
            rate: 1.0,
        }
    }
}

/// Everything a run depends on: same options ⇒ byte-identical objects and manifest.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// The seed of all randomness.
    pub seed: u64,
    /// Simulated start (Unix seconds); rounded down to a whole 5-minute window and interval.
    pub start: i64,
    /// Simulated length in seconds; rounded up likewise.
    pub duration_secs: i64,
    /// The flow log.
    pub service: FlowLogService,
    /// The traffic.
    pub traffic: TrafficOptions,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            seed: 1,
            start: 1_768_464_000, // 2026-01-15T08:00:00Z
            duration_secs: 3600,
            service: FlowLogService::default(),
            traffic: TrafficOptions::default(),
        }
    }
}

/// Parses an RFC 3339 time into Unix seconds.
///
/// # Errors
/// [`ConfigError::Start`] with the parser's reason.
pub fn parse_start(text: &str) -> Result<i64, ConfigError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp())
        .map_err(|e| ConfigError::Start {
            value: text.to_owned(),
            reason: e.to_string(),
        })
}

/// Parses `90s`, `5m`, `1h`, `2h30m`, `1d` (or a plain number of seconds) into seconds.
///
/// # Errors
/// [`ConfigError::Duration`] for anything else, or zero.
pub fn parse_duration(text: &str) -> Result<i64, ConfigError> {
    let bad = |reason: &str| ConfigError::Duration {
        value: text.to_owned(),
        reason: reason.to_owned(),
    };
    if let Ok(secs) = text.parse::<i64>() {
        return if secs > 0 {
            Ok(secs)
        } else {
            Err(bad("must be positive"))
        };
    }
    let (mut total, mut number) = (0i64, None::<i64>);
    for c in text.chars() {
        if let Some(d) = c.to_digit(10) {
            number = Some(
                number
                    .unwrap_or(0)
                    .saturating_mul(10)
                    .saturating_add(i64::from(d)),
            );
            continue;
        }
        let unit = match c {
            'd' => 86_400,
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad(&format!("unexpected `{c}`"))),
        };
        let n = number
            .take()
            .ok_or_else(|| bad("a unit needs a number before it"))?;
        total = total.saturating_add(n.saturating_mul(unit));
    }
    if number.is_some() {
        return Err(bad("the last number has no unit"));
    }
    if total <= 0 {
        return Err(bad("must be positive"));
    }
    Ok(total)
}

/// Parses sizes like `75MB`, `64KiB`, `4096` into bytes.
///
/// # Errors
/// [`ConfigError::Range`] when the text is not a size.
pub fn parse_size(text: &str) -> Result<u64, ConfigError> {
    let bad = || ConfigError::Range {
        name: "size",
        value: text.to_owned(),
        reason: "expected e.g. 4096, 64KiB, 75MB".into(),
    };
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (n, unit) = text.split_at(split);
    let n: u64 = n.parse().map_err(|_| bad())?;
    let mult = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" | "k" => 1000,
        "kib" => 1024,
        "mb" | "m" => 1_000_000,
        "mib" => 1024 * 1024,
        "gb" | "g" => 1_000_000_000,
        _ => return Err(bad()),
    };
    Ok(n * mult)
}

pub(crate) fn validate_account(id: &str) -> Result<(), ConfigError> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ConfigError::AccountId(id.to_owned()))
    }
}

pub(crate) fn validate_region(region: &str) -> Result<(), ConfigError> {
    let parts: Vec<&str> = region.split('-').collect();
    let ok = parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(ConfigError::Region(region.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_or_explain() {
        let table: &[(&str, Option<i64>)] = &[
            ("90s", Some(90)),
            ("5m", Some(300)),
            ("1h", Some(3600)),
            ("2h30m", Some(9000)),
            ("1d", Some(86_400)),
            ("600", Some(600)),
            ("0", None),
            ("1x", None),
            ("h", None),
            ("10m5", None),
            ("", None),
        ];
        for (text, expected) in table {
            assert_eq!(parse_duration(text).ok(), *expected, "{text}");
        }
    }

    #[test]
    fn start_times_must_be_rfc3339() {
        assert_eq!(
            parse_start("2018-06-20T16:20:00Z").ok(),
            Some(1_529_511_600)
        );
        let err = parse_start("yesterday")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("RFC 3339"), "{err}");
    }

    #[test]
    fn sizes_accept_units() {
        assert_eq!(parse_size("4096").ok(), Some(4096));
        assert_eq!(parse_size("64KiB").ok(), Some(65_536));
        assert_eq!(parse_size("75MB").ok(), Some(75_000_000));
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn file_formats_use_aws_option_values() {
        assert_eq!(
            "plain-text".parse::<FileFormat>().ok(),
            Some(FileFormat::PlainText)
        );
        assert_eq!(
            "parquet".parse::<FileFormat>().ok(),
            Some(FileFormat::Parquet)
        );
        assert_eq!(FileFormat::Parquet.key_suffix(), ".log.parquet");
        assert_eq!(FileFormat::PlainText.to_string(), "plain-text");
        let err = "csv".parse::<FileFormat>().err().map(|e| e.to_string());
        assert!(err.is_some_and(|e| e.contains("plain-text or parquet")));
    }

    #[test]
    fn accounts_and_regions_are_checked() {
        assert!(validate_account("123456789012").is_ok());
        assert!(validate_account("12345").is_err());
        assert!(validate_region("ap-southeast-2").is_ok());
        assert!(validate_region("useast1").is_err());
    }
}
