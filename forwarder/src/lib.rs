//! Forwards AWS VPC Flow Logs from S3 to Site24x7 AppLogs.
//!
//! Layout:
//! - [`secret`]: credentials that never print.
//! - [`event`]: Lambda payloads (S3, SQS, SNS, EventBridge) → the objects to forward.
//! - [`batch`]: upload batches within Site24x7's limits.
//! - [`upload`]: the Site24x7 upload client and its retry policy.

pub mod batch;
pub mod event;
pub mod secret;
pub mod upload;
