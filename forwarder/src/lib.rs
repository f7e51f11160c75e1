//! Forwards AWS VPC Flow Logs from S3 to Site24x7 AppLogs.
//!
//! Layout:
//! - [`secret`]: credentials that never print.
//! - [`batch`]: upload batches within Site24x7's limits.

pub mod batch;
pub mod secret;
