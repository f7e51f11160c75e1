//! Shared helpers for the end-to-end tests in `tests/`.
//!
//! Layout:
//! - [`ground_truth`]: the generator's lines vs the mock's records ([`GroundTruth`],
//!   [`Comparison`]): counts by action and log-status, digests, missing/extra/duplicates per
//!   format.
//! - [`scenario`]: traffic to send (several formats, filters and key layouts) and PUTs.
//! - [`process`]: child processes killed on drop ([`ChildGuard`]) and the forwarder binary
//!   ([`forwarder_bin`]: why it is located, not built, is explained there).
//! - [`moto`]: a `moto_server` on a free port ([`MotoServer`]).
//! - [`slowdown`]: a proxy that makes an S3 answer `503 SlowDown`.
//! - [`lambda`]: the emulator plus the forwarder binary as its Lambda function
//!   ([`lambda::LambdaTestbed`]).
//! - [`forwarder`]: how a test starts the forwarder binary against a testbed
//!   ([`ForwarderCommand`]).

pub mod forwarder;
pub mod ground_truth;
pub mod lambda;
pub mod moto;
pub mod process;
pub mod scenario;
pub mod slowdown;

pub use forwarder::{CliTarget, ForwarderCommand, accounting_lines, log_type_config};
pub use ground_truth::{Comparison, GroundTruth, Tally, gunzip};
pub use moto::MotoServer;
pub use process::{ChildGuard, forwarder_bin, workspace_root};
pub use scenario::{FlowLogRun, Traffic, every_kind_of_run, mixed_runs, put_all, put_bytes};
