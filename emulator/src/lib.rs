//! An offline testbed for the forwarder: S3, its notifications, Lambda, and Site24x7.
//!
//! Layout:
//! - [`emulator`]: the facade — [`Emulator::start`] runs everything in process on loopback
//!   ports and hands out clients, addresses and notification subscriptions.
//! - [`s3`]: an in-memory S3 on `s3s` (SigV4, checksums, multipart and part copies, versioning
//!   and delete markers, listings, ACL/policy calls, notification configuration), served by
//!   [`S3Server`].
//! - [`notify`]: S3 event records, matching bucket notification configurations, delivery to
//!   subscribers ([`Notifier`], [`Notification`]), and the SQS/SNS/EventBridge wrappers.
//! - [`ingest`]: a mock Site24x7 upload endpoint that validates, records and injects faults
//!   ([`MockSite24x7`], [`Fault`]).
//! - [`runtime_api`]: a Lambda Runtime API with asynchronous-invoke retries and dead letters
//!   ([`LambdaRuntimeApi`]).
//! - [`generator`]: seeded, realistic flow-log traffic delivered like the VPC Flow Logs service
//!   (formats, filters, S3 key layouts, 5-minute files; gzip text or Parquet; VPC or transit
//!   gateway) with a ground-truth manifest.
//!
//! The binary `flowlog-emulator serve` runs the same servers as a process;
//! `flowlog-emulator generate` runs the generator.

pub mod emulator;
pub mod generator;
pub mod ingest;
pub mod notify;
pub mod runtime_api;
pub mod s3;

pub use emulator::{Emulator, EmulatorBuilder, EmulatorError};
pub use ingest::{Fault, MockSite24x7};
pub use notify::{CreatedBy, Destination, Notification, Notifier, ObjectCreated, Subscription};
pub use runtime_api::LambdaRuntimeApi;
pub use s3::{S3Server, S3Settings, ServeError};
