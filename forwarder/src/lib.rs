//! Forwards AWS VPC Flow Logs from S3 to Site24x7 AppLogs: a drop-in for `s3-sender.py`.
//!
//! Layout (data flows top to bottom):
//! - [`limits`]: every bound on untrusted input (sizes, regex groups, logged text).
//! - [`config`]: `logTypeConfig` decoded and validated ([`LogTypeConfig`]).
//! - [`pattern`]: Python/Java regexes translated for Rust.
//! - [`timestamp`]: `dateFormat`/`timezone` → `_zl_timestamp`.
//! - [`flowlog`]: flow-log fields (v2–v8), formats, header lines, whitespace splitting.
//! - [`input`]: the one input path: an object (gzip or plain text, or Parquet; from S3, a file
//!   or stdin) → rows of field values → records in numbered batches ([`read_object`]).
//! - [`object`]: one object line by line ([`ObjectParser`] → [`LineOutcome`]).
//! - [`records`]: Site24x7 record rendering, straight into the batch buffer.
//! - [`batch`]: JSON + gzip batches within Site24x7's caps ([`Batcher`] → [`UploadBatch`]).
//! - [`accounting`]: per-object counts that add up ([`Accounting`]).
//! - [`dryrun`]: the `parse` subcommand ([`dry_run`]).
//! - [`event`]: Lambda payloads (S3, SQS, SNS, EventBridge) → the objects to forward.
//! - [`upload`]: the Site24x7 upload client and its retry policy.
//! - [`source`]: the S3 client (testbed or AWS) and objects read as bounded streams.
//! - [`state`]: a small key/value store (local directory or S3 prefix) for the two below.
//! - [`deadletter`]: batches that could not be delivered, kept for `replay`.
//! - [`progress`]: per-object markers so a retried invocation resumes, not resends.
//! - [`secret`]: credentials that never print.
//! - [`settings`]: everything the binary configures ([`Settings`]).
//! - [`pipeline`]: the production path: [`Forwarder`] forwards objects and Lambda payloads.
//! - [`report`]: per-object accounting lines and outcomes ([`ObjectReport`]).
//! - [`lambda`]: the Lambda runtime glue (`lambda` subcommand).
//! - `demo` (cargo feature `demo`, on by default): the whole chain offline, in process.
//!
//! Streaming use, one object:
//! ```
//! use flowlog_forwarder::{Batcher, LogTypeConfig, ObjectContext, ObjectParser};
//! let config = LogTypeConfig::builtin_vpc();
//! let mut parser = ObjectParser::new(&config, ObjectContext::now("my-bucket", "AWSLogs/x.log"));
//! let mut batcher = Batcher::default();
//! for line in ["version srcaddr start", "2 10.0.0.1 1418530010"] {
//!     parser.feed_line(line.as_bytes(), &mut batcher);
//!     while let Some(_batch) = batcher.pop_ready() { /* upload it */ }
//! }
//! let last = batcher.finish();
//! assert_eq!(last.iter().map(|b| b.records).sum::<usize>(), 1);
//! assert!(parser.accounting().is_balanced());
//! ```

pub mod accounting;
pub mod batch;
pub mod config;
pub mod deadletter;
#[cfg(feature = "demo")]
pub mod demo;
pub mod dryrun;
pub mod event;
pub mod flowlog;
pub mod input;
mod json;
pub mod lambda;
pub mod limits;
pub mod object;
pub mod pattern;
pub mod pipeline;
pub mod progress;
pub mod records;
pub mod report;
pub mod secret;
pub mod settings;
pub mod source;
pub mod state;
pub mod timestamp;
pub mod upload;

pub use accounting::Accounting;
pub use batch::{BatchLimits, Batcher, RecordTooLarge, SealedBatch, UploadBatch};
pub use config::{ConfigError, LogTypeConfig};
pub use dryrun::{DryRunSummary, dry_run};
pub use flowlog::{FieldSpec, FieldType, FlowFormat, FormatError};
pub use input::{FileFormat, Input, MAX_LINE_BYTES, ReadError, ReadJob, read_object};
pub use object::{LineOutcome, ObjectParser, Unparsable, UnparsableReason};
pub use pipeline::{Forwarder, InvocationError, ListError, SetupError};
pub use records::ObjectContext;
pub use report::{InvocationReport, ObjectError, ObjectOutcome, ObjectReport};
pub use secret::Secret;
pub use settings::{Settings, StateLocation};
pub use timestamp::DateFormat;
