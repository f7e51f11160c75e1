//! Errors of the generator: invalid options (each says what is wrong and how to fix it) and
//! failures to write the generated objects.

/// An option that the VPC Flow Logs service (or the generator) would refuse.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// The log format is not `default` nor a valid custom format.
    #[error("invalid log format `{format}`: {reason}")]
    Format {
        /// The format as given.
        format: String,
        /// What is wrong, and what is expected.
        reason: String,
    },
    /// The destination is not an S3 bucket ARN.
    #[error(
        "invalid destination `{arn}`: {reason} (expected `arn:aws:s3:::bucket` or `arn:aws:s3:::bucket/subfolder/`)"
    )]
    Destination {
        /// The destination as given.
        arn: String,
        /// What is wrong.
        reason: String,
    },
    /// The bucket name breaks the S3 naming rules.
    #[error("invalid bucket name `{bucket}`: {reason}")]
    Bucket {
        /// The bucket as given.
        bucket: String,
        /// Which rule it breaks.
        reason: String,
    },
    /// `AWSLogs` is reserved by the service and may not be a subfolder.
    #[error(
        "invalid destination `{arn}`: `AWSLogs` is reserved for the service's own folder and cannot be used as a subfolder name; choose another prefix"
    )]
    ReservedSubfolder {
        /// The destination as given.
        arn: String,
    },
    /// The aggregation interval is neither 60 nor 600 seconds.
    #[error("invalid aggregation interval {0} s: VPC Flow Logs supports 60 or 600")]
    Aggregation(u32),
    /// A start time that is not RFC 3339.
    #[error(
        "invalid start time `{value}`: {reason} (expected RFC 3339, e.g. 2026-01-15T08:00:00Z)"
    )]
    Start {
        /// The value as given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// A duration that is not like `90s`, `5m`, `1h`, `2h30m`, `1d`.
    #[error("invalid duration `{value}`: {reason} (expected e.g. 90s, 5m, 1h, 2h30m, 1d)")]
    Duration {
        /// The value as given.
        value: String,
        /// What is wrong.
        reason: String,
    },
    /// An account id that is not twelve digits.
    #[error("invalid account id `{0}`: an AWS account id is 12 digits")]
    AccountId(String),
    /// A region that does not look like `us-east-1`.
    #[error("invalid region `{0}`: expected a region code such as us-east-1")]
    Region(String),
    /// A numeric option out of its range.
    #[error("invalid option {name} = {value}: {reason}")]
    Range {
        /// The option.
        name: &'static str,
        /// Its value.
        value: String,
        /// The allowed range.
        reason: String,
    },
}

/// An object body that cannot be read back as flow-log text.
#[derive(Debug, thiserror::Error)]
pub enum ReadBackError {
    /// The gzip stream does not decode.
    #[error("not a readable gzip flow-log object: {0}")]
    Gzip(std::io::Error),
    /// The Parquet file does not decode, or holds a column type flow logs do not use.
    #[error("not a readable Parquet flow-log object: {0}")]
    Parquet(String),
    /// Plain text that is not UTF-8.
    #[error("not UTF-8 text: {0}")]
    Text(String),
}

/// A failure while delivering generated objects somewhere.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// Writing a file under the output directory failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The S3 PUT failed.
    #[error("cannot put s3://{bucket}/{key}: {message}")]
    Put {
        /// The bucket.
        bucket: String,
        /// The key.
        key: String,
        /// The error as the SDK reports it (never contains credentials).
        message: String,
    },
}
