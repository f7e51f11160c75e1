//! What forwarding one object (and one invocation) came to: the accounting line, the outcome
//! and typed errors that name the object and the fix.
//!
//! The counts of an [`ObjectReport`] always add up:
//! `lines = header + records_sent + filtered + unparsable + dead_lettered_records +
//! resumed_lines + unsent_records` ([`ObjectReport::is_balanced`]); `unsent_records` is 0 unless
//! the object failed part-way (then its marker makes the retry send them).

use std::fmt;

use crate::deadletter::DeadLetterError;
use crate::event::SqsBatchResponse;
use crate::limits::excerpt;
use crate::object::Unparsable;
use crate::source::{ReadError, SourceError};
use crate::upload::UploadError;

/// Why an object could not be forwarded (completely). Each names `s3://bucket/key` and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    /// GetObject failed: missing key or bucket, access denied, or S3 kept failing.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The body broke or the gzip is corrupt (records before the failure were forwarded).
    #[error(transparent)]
    Read(ReadError),
    /// Reading failed in another way.
    #[error("s3://{bucket}/{key}: reading failed after line {line}: {message}")]
    ReadIo {
        /// Source bucket.
        bucket: String,
        /// Source key.
        key: String,
        /// Last line read.
        line: u64,
        /// The I/O error.
        message: String,
    },
    /// Every line was unparsable: the object is not a VPC flow log (or the regex is wrong).
    #[error(
        "s3://{bucket}/{key}: not a VPC flow log: all {unparsable} line(s) unparsable (first: \
         {first}); fix: point the trigger only at flow-log prefixes (AWSLogs/…/vpcflowlogs/), or \
         check the regex of logTypeConfig"
    )]
    NotAFlowLog {
        /// Source bucket.
        bucket: String,
        /// Source key.
        key: String,
        /// Unparsable lines.
        unparsable: u64,
        /// The first unparsable line and why.
        first: String,
    },
    /// A header the forwarder cannot use (it names a field twice).
    #[error(
        "s3://{bucket}/{key}: unsupported flow-log format: {reason}; fix: check the flow log's \
         format (each field once), or point the trigger only at flow-log prefixes"
    )]
    Unsupported {
        /// Source bucket.
        bucket: String,
        /// Source key.
        key: String,
        /// Why.
        reason: String,
    },
    /// Site24x7 refused `logTypeConfig` (bad apiKey / logType): everything stops.
    #[error("s3://{bucket}/{key}: {source}")]
    Configuration {
        /// Source bucket.
        bucket: String,
        /// Source key.
        key: String,
        /// The upload error; its message names the `logTypeConfig` key and the fix.
        source: UploadError,
    },
    /// A batch could not be delivered and its dead letter could not be stored either.
    #[error(
        "s3://{bucket}/{key}: a batch failed ({upload}) and could not be dead-lettered: {source}"
    )]
    DeadLetterStore {
        /// Source bucket.
        bucket: String,
        /// Source key.
        key: String,
        /// Why the upload failed.
        upload: String,
        /// Why the dead letter could not be written.
        source: DeadLetterError,
    },
    /// Stopped because another object of the invocation hit a configuration error.
    #[error(
        "s3://{bucket}/{key}: not forwarded: stopped after a configuration error on another object"
    )]
    Aborted {
        /// Source bucket.
        bucket: String,
        /// Source key.
        key: String,
    },
    /// The parsing task died (a bug): the object is left for the retry.
    #[error("s3://{bucket}/{key}: internal error: {message}; the retry will resend")]
    Internal {
        /// Source bucket.
        bucket: String,
        /// Source key.
        key: String,
        /// What happened.
        message: String,
    },
}

impl ObjectError {
    /// Whether this is Site24x7 refusing the configuration (stop everything).
    #[must_use]
    pub fn is_configuration(&self) -> bool {
        matches!(self, Self::Configuration { .. })
    }

    /// Whether retrying can never help: Site24x7 refused the configuration (and the objects
    /// that stopped because of it), or the object's name is an invalid request.
    #[must_use]
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Configuration { .. } | Self::Aborted { .. } => true,
            Self::Source(e) => e.is_invalid_request(),
            _ => false,
        }
    }
}

/// How an object ended.
#[derive(Debug)]
pub enum ObjectOutcome {
    /// Every record was accepted by Site24x7.
    Delivered,
    /// The object has no lines: nothing to send (not an error).
    Empty,
    /// A progress marker says this object version was already done: a duplicate notification.
    /// With `dead_lettered_batches > 0` its dead letters still wait for `replay` (a failure).
    Duplicate {
        /// Batches of the earlier run that went to dead letters.
        dead_lettered_batches: u64,
    },
    /// The key is under the forwarder's own state prefix: never forwarded.
    OwnState,
    /// Everything was settled, but some batches went to dead letters (a failure: `replay`).
    DeadLettered,
    /// The object failed.
    Failed(ObjectError),
}

impl ObjectOutcome {
    /// A short name for logs: `delivered`, `empty`, `duplicate`, …
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Delivered => "delivered",
            Self::Empty => "empty",
            Self::Duplicate { .. } => "duplicate",
            Self::OwnState => "own_state",
            Self::DeadLettered => "dead_lettered",
            Self::Failed(_) => "failed",
        }
    }

    /// Whether the invocation must report failure for this object (so Lambda retries).
    #[must_use]
    pub fn is_failure(&self) -> bool {
        match self {
            Self::Delivered | Self::Empty | Self::OwnState => false,
            Self::Duplicate {
                dead_lettered_batches,
            } => *dead_lettered_batches > 0,
            Self::DeadLettered | Self::Failed(_) => true,
        }
    }

    /// The error, when the object failed.
    #[must_use]
    pub fn error(&self) -> Option<&ObjectError> {
        match self {
            Self::Failed(e) => Some(e),
            _ => None,
        }
    }
}

/// The accounting of one object, logged once as a structured line ([`ObjectReport::emit`]).
#[derive(Debug)]
pub struct ObjectReport {
    /// Source bucket.
    pub bucket: String,
    /// Source key (decoded).
    pub key: String,
    /// ETag GetObject returned (without quotes).
    pub etag: Option<String>,
    /// Lines read (header included).
    pub lines: u64,
    /// Header lines.
    pub header: u64,
    /// Records accepted by Site24x7 in this run.
    pub records_sent: u64,
    /// Lines dropped by `filterConfig`.
    pub filtered: u64,
    /// Lines that gave no record.
    pub unparsable: u64,
    /// Records in batches stored as dead letters in this run.
    pub dead_lettered_records: u64,
    /// Record lines skipped because an earlier run already settled them (resume).
    pub resumed_lines: u64,
    /// Records parsed but not settled because the object failed part-way.
    pub unsent_records: u64,
    /// Batches uploaded or dead-lettered in this run.
    pub batches: u64,
    /// Upload retries (requests beyond the first, over all batches).
    pub retries: u64,
    /// `x-uploadid` of every accepted batch.
    pub upload_ids: Vec<String>,
    /// Ids of dead letters written.
    pub dead_letter_ids: Vec<String>,
    /// Stored (compressed) bytes read from S3.
    pub bytes_in: u64,
    /// Gzip bytes sent to Site24x7 (accepted batches).
    pub bytes_out: u64,
    /// Wall time.
    pub seconds: f64,
    /// The first unparsable lines and why.
    pub unparsable_examples: Vec<Unparsable>,
    /// How it ended.
    pub outcome: ObjectOutcome,
}

impl ObjectReport {
    /// An empty report for `bucket`/`key` with the given outcome (skips and early failures).
    #[must_use]
    pub fn new(bucket: &str, key: &str, outcome: ObjectOutcome) -> Self {
        Self {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            etag: None,
            lines: 0,
            header: 0,
            records_sent: 0,
            filtered: 0,
            unparsable: 0,
            dead_lettered_records: 0,
            resumed_lines: 0,
            unsent_records: 0,
            batches: 0,
            retries: 0,
            upload_ids: Vec::new(),
            dead_letter_ids: Vec::new(),
            bytes_in: 0,
            bytes_out: 0,
            seconds: 0.0,
            unparsable_examples: Vec::new(),
            outcome,
        }
    }

    /// Whether the counts add up (they always should; tests check it).
    #[must_use]
    pub fn is_balanced(&self) -> bool {
        self.lines
            == self.header
                + self.records_sent
                + self.filtered
                + self.unparsable
                + self.dead_lettered_records
                + self.resumed_lines
                + self.unsent_records
    }

    /// Writes the accounting line: `info` when fine, `error` when the object failed.
    pub fn emit(&self) {
        let error = self.outcome.error().map(ToString::to_string);
        macro_rules! line {
            ($level:ident) => {
                tracing::$level!(
                    bucket = %excerpt(&self.bucket),
                    key = %excerpt(&self.key),
                    etag = self.etag.as_deref().unwrap_or(""),
                    lines = self.lines,
                    header = self.header,
                    records_sent = self.records_sent,
                    filtered = self.filtered,
                    unparsable = self.unparsable,
                    dead_lettered_records = self.dead_lettered_records,
                    resumed_lines = self.resumed_lines,
                    unsent_records = self.unsent_records,
                    batches = self.batches,
                    retries = self.retries,
                    upload_ids = ?self.upload_ids,
                    bytes_in = self.bytes_in,
                    bytes_out = self.bytes_out,
                    seconds = self.seconds,
                    outcome = self.outcome.name(),
                    error = error.as_deref().unwrap_or(""),
                    "object accounting"
                )
            };
        }
        if self.outcome.is_failure() {
            line!(error);
        } else {
            line!(info);
        }
    }
}

/// One summary line for the CLI's stderr.
impl fmt::Display for ObjectReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "s3://{}/{} {} lines={} header={} sent={} filtered={} unparsable={} \
             dead_lettered={} resumed={} unsent={} batches={} retries={} bytes_in={} \
             bytes_out={} seconds={:.3}",
            excerpt(&self.bucket),
            excerpt(&self.key),
            self.outcome.name(),
            self.lines,
            self.header,
            self.records_sent,
            self.filtered,
            self.unparsable,
            self.dead_lettered_records,
            self.resumed_lines,
            self.unsent_records,
            self.batches,
            self.retries,
            self.bytes_in,
            self.bytes_out,
            self.seconds
        )?;
        if let Some(error) = self.outcome.error() {
            write!(f, " error=\"{error}\"")?;
        }
        Ok(())
    }
}

/// What one Lambda payload came to.
#[derive(Debug, Default)]
pub struct InvocationReport {
    /// One report per object, in event order.
    pub objects: Vec<ObjectReport>,
    /// Records or messages that could not be decoded (their text).
    pub event_errors: Vec<String>,
    /// Events skipped on purpose (`s3:TestEvent`, not object-created).
    pub skipped_events: usize,
    /// For SQS payloads: the messages Lambda must redeliver.
    pub sqs: Option<SqsBatchResponse>,
}

impl InvocationReport {
    /// Objects whose outcome is a failure.
    pub fn failed(&self) -> impl Iterator<Item = &ObjectReport> {
        self.objects.iter().filter(|o| o.outcome.is_failure())
    }

    /// Whether anything failed (an object or a record that could not be decoded).
    #[must_use]
    pub fn has_failures(&self) -> bool {
        self.failed().next().is_some() || !self.event_errors.is_empty()
    }

    /// Whether retrying the whole invocation may help: no configuration error, and some object
    /// failed for a reason that can pass. Records that could not be decoded never can.
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        let error = |r: &ObjectReport| {
            r.outcome
                .error()
                .map(|e| (e.is_configuration(), e.is_permanent()))
        };
        !self
            .failed()
            .any(|r| error(r).is_some_and(|(configuration, _)| configuration))
            && self
                .failed()
                .any(|r| !error(r).is_some_and(|(_, permanent)| permanent))
    }

    /// Records accepted over all objects.
    #[must_use]
    pub fn records_sent(&self) -> u64 {
        self.objects.iter().map(|o| o.records_sent).sum()
    }
}
