//! The VPC Flow Logs generator: realistic, seeded traffic of VPCs or transit gateways, delivered
//! exactly like the service delivers it to S3 (gzip text or Parquet), with a manifest as ground
//! truth.
//!
//! Layout:
//! - `fields`: the field catalogue (names, versions, resource types) and log formats (default,
//!   custom, header).
//! - `destination`: destination ARN, bucket rules, the four key layouts and file names.
//! - `options`: what a run is asked to do ([`GenerateOptions`]); parsing of times and sizes.
//! - `topology` / `traffic` / `flows` / `random`: the estate (VPCs, subnets, ENIs), its traffic
//!   patterns, and each connection aggregated per ENI and interval (crate-private engine).
//! - `transit` / `transit_traffic`: transit gateways and attachments over that estate, the
//!   traffic between VPCs through them, and their records and line writer.
//! - `record`: one VPC record and the line writer (reused buffer, no allocation per record).
//! - `service`: the run interval by interval ([`generate`], [`ObjectStream`]); `files`: windows,
//!   writers, rotation, gzip or Parquet bodies, names, delivery order.
//! - `parquet_file`: the Parquet schema, column buffers and row groups.
//! - `live`: the same objects paced in simulated real time ([`live()`]).
//! - `manifest` / `digest`: the ground truth and the order-independent records digest;
//!   `readback`: an object's text whatever its format ([`object_text`]).
//! - `output`: a directory tree or S3 PUTs. `cli`: the `generate` subcommand.

mod destination;
mod digest;
mod error;
mod fields;
mod files;
mod flows;
mod live;
mod manifest;
mod options;
mod output;
mod parquet_file;
mod random;
mod readback;
mod record;
mod service;
mod topology;
mod traffic;
mod transit;
mod transit_traffic;

pub mod cli;

pub use destination::{Destination, KeyLayout, KeyParts, validate_bucket};
pub use digest::{RecordsDigest, joined_line_digest, line_digest};
pub use error::{ConfigError, OutputError, ReadBackError};
pub use fields::{
    CATALOGUE, DEFAULT_FORMAT, Field, LogFormat, ResourceType, TRANSIT_GATEWAY_CATALOGUE,
    TRANSIT_GATEWAY_DEFAULT_FORMAT,
};
pub use live::{LiveOptions, live};
pub use manifest::{
    ByAction, ByLogStatus, FlowLogIdentity, Manifest, ManifestOptions, ObjectSummary, Totals,
};
pub use options::{
    FileFormat, Filter, FlowLogService, GenerateOptions, TrafficOptions, parse_duration,
    parse_size, parse_start,
};
pub use output::{S3Target, put_object, s3_client, write_to_dir};
pub use parquet_file::{
    ColumnType, DEFAULT_ROW_GROUP_ROWS, ParquetCompression, ParquetOptions, column_name,
    column_type,
};
pub use readback::object_text;
pub use service::{FlowLogObject, Generated, ObjectStream, WINDOW_SECS, generate};
