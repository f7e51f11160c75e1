//! An in-memory S3 on `s3s`: the operations this product touches, SigV4, checksums, notifications.
//!
//! Layout:
//! - [`settings`]: credentials, region, object size cap (defaults documented there).
//! - `server`: binding, the hyper-util accept loop, request ids, graceful shutdown ([`S3Server`]).
//! - `backend`: the `s3s::S3` implementation, one thin method per operation, delegating to
//!   `buckets`, `objects`, `multipart`, `listing` and `notification_config`.
//! - `store`: the data model; `body`: size cap and checksum verification of uploads.

mod backend;
mod body;
mod buckets;
mod listing;
mod multipart;
mod notification_config;
mod objects;
mod server;
pub mod settings;
mod store;

pub use server::{S3Server, ServeError, build_service};
pub use settings::S3Settings;
