//! Forwards AWS VPC Flow Logs from S3 to Site24x7 AppLogs.
//!
//! Layout:
//! - [`secret`]: credentials that never print.
//! - [`batch`]: upload batches within Site24x7's limits.
//! - [`source`]: the S3 client (testbed or AWS) and objects read as bounded streams.
//! - [`state`]: a small key/value store (local directory or S3 prefix) for the two below.
//! - [`deadletter`]: batches that could not be delivered, kept for `replay`.
//! - [`progress`]: per-object markers so a retried invocation resumes, not resends.

pub mod batch;
pub mod deadletter;
pub mod progress;
pub mod secret;
pub mod source;
pub mod state;
