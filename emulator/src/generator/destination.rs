//! Where the service writes: the destination ARN (bucket and optional subfolder) and the S3 key
//! layout (plain or Hive-compatible, daily or hourly partitions, 5-minute file names ending
//! `.log.gz` or `.log.parquet`).

use std::fmt::Write as _;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Timelike};

use super::error::ConfigError;
use super::options::FileFormat;

/// A validated `arn:aws:s3:::bucket[/subfolder/]` destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// The bucket name.
    pub bucket: String,
    /// The subfolder, with a trailing `/`, or empty.
    pub prefix: String,
}

impl Destination {
    /// Parses a destination ARN as CreateFlowLogs would accept it.
    ///
    /// # Errors
    /// [`ConfigError::Destination`] for a non-S3 ARN, [`ConfigError::Bucket`] for a bad bucket
    /// name, [`ConfigError::ReservedSubfolder`] for `AWSLogs` used as a subfolder.
    pub fn parse(arn: &str) -> Result<Self, ConfigError> {
        let bad = |reason: &str| ConfigError::Destination {
            arn: arn.to_owned(),
            reason: reason.to_owned(),
        };
        let rest = ["arn:aws:s3:::", "arn:aws-cn:s3:::", "arn:aws-us-gov:s3:::"]
            .iter()
            .find_map(|p| arn.strip_prefix(p))
            .ok_or_else(|| {
                if arn.starts_with("arn:") {
                    bad("not an S3 bucket ARN; flow logs to S3 need an `arn:aws:s3:::` destination")
                } else {
                    bad("not an ARN")
                }
            })?;
        let (bucket, folder) = rest.split_once('/').unwrap_or((rest, ""));
        validate_bucket(bucket)?;
        let mut prefix = String::new();
        for segment in folder.split('/').filter(|s| !s.is_empty()) {
            if segment == "AWSLogs" {
                return Err(ConfigError::ReservedSubfolder {
                    arn: arn.to_owned(),
                });
            }
            prefix.push_str(segment);
            prefix.push('/');
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix,
        })
    }

    /// The ARN form, `arn:aws:s3:::bucket/prefix/`.
    #[must_use]
    pub fn arn(&self) -> String {
        format!("arn:aws:s3:::{}/{}", self.bucket, self.prefix)
    }
}

impl FromStr for Destination {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Checks the S3 bucket naming rules (general purpose buckets).
///
/// # Errors
/// [`ConfigError::Bucket`] naming the rule that is broken.
pub fn validate_bucket(bucket: &str) -> Result<(), ConfigError> {
    let bad = |reason: &str| {
        Err(ConfigError::Bucket {
            bucket: bucket.to_owned(),
            reason: reason.to_owned(),
        })
    };
    if !(3..=63).contains(&bucket.len()) {
        return bad("must be 3 to 63 characters long");
    }
    if !bucket
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return bad("only lowercase letters, digits, dots and hyphens are allowed");
    }
    let first_last_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !first_last_ok(bucket.as_bytes()[0]) || !first_last_ok(bucket.as_bytes()[bucket.len() - 1]) {
        return bad("must begin and end with a letter or digit");
    }
    if bucket.contains("..") || bucket.contains(".-") || bucket.contains("-.") {
        return bad("dots may not be adjacent to each other or to hyphens");
    }
    if bucket.parse::<std::net::Ipv4Addr>().is_ok() {
        return bad("must not be formatted as an IP address");
    }
    if bucket.starts_with("xn--") || bucket.starts_with("sthree-") {
        return bad("must not start with `xn--` or `sthree-`");
    }
    if bucket.ends_with("-s3alias") || bucket.ends_with("--ol-s3") {
        return bad("must not end with `-s3alias` or `--ol-s3`");
    }
    Ok(())
}

/// The four key layouts of the S3 destination options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct KeyLayout {
    /// Hive-compatible prefixes (`aws-account-id=…/year=…`).
    pub hive: bool,
    /// Hourly partitions (one more level, `HH/` or `hour=HH/`).
    pub hourly: bool,
}

/// What one object key is built from.
#[derive(Debug, Clone, Copy)]
pub struct KeyParts<'a> {
    /// The flow log owner's account.
    pub account_id: &'a str,
    /// The flow log's region.
    pub region: &'a str,
    /// The flow log id, `fl-…`.
    pub flow_log_id: &'a str,
    /// Start of the file's 5-minute window (Unix seconds).
    pub window_start: i64,
    /// The file's hash (written as 8 hex digits).
    pub hash: u32,
    /// Decides the key's ending, `.log.gz` or `.log.parquet`.
    pub file_format: FileFormat,
}

impl KeyLayout {
    /// The object key (without bucket) of a file, as the service names it.
    #[must_use]
    pub fn key(&self, prefix: &str, parts: &KeyParts<'_>) -> String {
        let t = DateTime::from_timestamp(parts.window_start, 0).unwrap_or_default();
        let (account, region) = (parts.account_id, parts.region);
        let mut key = String::with_capacity(160);
        key.push_str(prefix);
        // Writing to a String cannot fail.
        let _ = if self.hive {
            write!(
                key,
                "AWSLogs/aws-account-id={account}/aws-service=vpcflowlogs/aws-region={region}/year={:04}/month={:02}/day={:02}/",
                t.year(),
                t.month(),
                t.day()
            )
        } else {
            write!(
                key,
                "AWSLogs/{account}/vpcflowlogs/{region}/{:04}/{:02}/{:02}/",
                t.year(),
                t.month(),
                t.day()
            )
        };
        if self.hourly {
            let _ = if self.hive {
                write!(key, "hour={:02}/", t.hour())
            } else {
                write!(key, "{:02}/", t.hour())
            };
        }
        let _ = write!(
            key,
            "{account}_vpcflowlogs_{region}_{}_{:04}{:02}{:02}T{:02}{:02}Z_{:08x}{}",
            parts.flow_log_id,
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            parts.hash,
            parts.file_format.key_suffix()
        );
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_parse_or_explain_the_fix() {
        type Case<'a> = (&'a str, Result<(&'a str, &'a str), &'a str>);
        let table: &[Case<'_>] = &[
            ("arn:aws:s3:::my-bucket", Ok(("my-bucket", ""))),
            ("arn:aws:s3:::my-bucket/", Ok(("my-bucket", ""))),
            (
                "arn:aws:s3:::my-bucket/my-logs/",
                Ok(("my-bucket", "my-logs/")),
            ),
            ("arn:aws:s3:::my-bucket/a/b", Ok(("my-bucket", "a/b/"))),
            ("arn:aws:s3:::my-bucket/AWSLogs/", Err("reserved")),
            ("arn:aws:s3:::my-bucket/x/AWSLogs", Err("reserved")),
            (
                "arn:aws:logs:us-east-1:123456789012:log-group:x",
                Err("not an S3 bucket ARN"),
            ),
            ("my-bucket", Err("not an ARN")),
            ("arn:aws:s3:::My_Bucket/", Err("lowercase")),
            ("arn:aws:s3:::ab", Err("3 to 63")),
            ("arn:aws:s3:::-ab", Err("begin and end")),
            ("arn:aws:s3:::a..b", Err("adjacent")),
            ("arn:aws:s3:::192.168.1.1", Err("IP address")),
        ];
        for (arn, expected) in table {
            let got = Destination::parse(arn);
            match (expected, got) {
                (Ok((bucket, prefix)), Ok(d)) => {
                    assert_eq!(
                        (d.bucket.as_str(), d.prefix.as_str()),
                        (*bucket, *prefix),
                        "{arn}"
                    );
                }
                (Err(reason), Err(e)) => assert!(e.to_string().contains(reason), "{arn}: {e}"),
                (_, got) => panic!("{arn}: unexpected {got:?}"),
            }
        }
    }

    #[test]
    fn keys_follow_the_four_layouts() {
        let parts = KeyParts {
            account_id: "123456789012",
            region: "us-east-1",
            flow_log_id: "fl-1234abcd",
            window_start: 1_529_511_600, // 2018-06-20T16:20:00Z
            hash: 0xfe12_3456,
            file_format: FileFormat::PlainText,
        };
        let name = "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20180620T1620Z_fe123456.log.gz";
        let table = [
            (
                false,
                false,
                "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/",
            ),
            (
                false,
                true,
                "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/16/",
            ),
            (
                true,
                false,
                "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2018/month=06/day=20/",
            ),
            (
                true,
                true,
                "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2018/month=06/day=20/hour=16/",
            ),
        ];
        for (hive, hourly, dir) in table {
            let key = KeyLayout { hive, hourly }.key("logs/", &parts);
            assert_eq!(
                key,
                format!("logs/{dir}{name}"),
                "hive={hive} hourly={hourly}"
            );
            let parquet = KeyParts {
                file_format: FileFormat::Parquet,
                ..parts
            };
            assert_eq!(
                KeyLayout { hive, hourly }.key("logs/", &parquet),
                format!("logs/{dir}{}", name.replace(".log.gz", ".log.parquet")),
            );
        }
    }
}
