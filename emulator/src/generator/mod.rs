//! The VPC Flow Logs generator: realistic, seeded traffic delivered exactly like the service
//! delivers it to S3, with a manifest as ground truth.
//!
//! Layout:
//! - `fields`: the field catalogue (names, versions) and log formats (default, custom, header).
//! - `destination`: destination ARN, bucket rules, the four key layouts and file names.
//! - `options`: what a run is asked to do ([`GenerateOptions`]); parsing of times and sizes.
//! - `topology` / `traffic` / `flows` / `random`: the estate (VPCs, subnets, ENIs), its traffic
//!   patterns, and each connection aggregated per ENI and interval (crate-private engine).
//! - `record`: one record and the line writer (reused buffer, no allocation per record).
//! - `service`: windows, writers, rotation, gzip, names, delivery order ([`generate`],
//!   [`ObjectStream`]).
//! - `live`: the same objects paced in simulated real time ([`live()`]).
//! - `manifest` / `digest`: the ground truth and the order-independent records digest.
//! - `output`: a directory tree or S3 PUTs. `cli`: the `generate` subcommand.

mod destination;
mod digest;
mod error;
mod fields;
mod flows;
mod live;
mod manifest;
mod options;
mod output;
mod random;
mod record;
mod service;
mod topology;
mod traffic;

pub mod cli;

pub use destination::{Destination, KeyLayout, KeyParts, validate_bucket};
pub use digest::{RecordsDigest, joined_line_digest, line_digest};
pub use error::{ConfigError, OutputError};
pub use fields::{CATALOGUE, DEFAULT_FORMAT, Field, LogFormat};
pub use live::{LiveOptions, live};
pub use manifest::{
    ByAction, ByLogStatus, FlowLogIdentity, Manifest, ManifestOptions, ObjectSummary, Totals,
};
pub use options::{
    Filter, FlowLogService, GenerateOptions, TrafficOptions, parse_duration, parse_size,
    parse_start,
};
pub use output::{S3Target, put_object, s3_client, write_to_dir};
pub use service::{FlowLogObject, Generated, ObjectStream, WINDOW_SECS, generate};
