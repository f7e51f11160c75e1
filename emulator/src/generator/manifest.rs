//! The manifest: ground truth of a generation run (options, and per object its key, record counts
//! by action and log-status, end-time range, sizes and records digest), as JSON.
//!
//! The same traffic gives the same manifest in either file format except for
//! `options.file_format` (and the Parquet-only `options.parquet_compression` and
//! `options.row_group_rows`), each object's `key` (`.log.gz` or `.log.parquet`) and
//! `gzip_bytes` (the body's size), and `totals.gzip_bytes`. Records, counts, `raw_bytes` (the
//! text's size, on which both formats rotate), end times, delivery times and the records digests
//! (of the text lines, whatever the body) are equal.

use serde::{Deserialize, Serialize};

use super::digest::RecordsDigest;

/// Records per `action` value. Transit-gateway records have no `action`: they are all counted
/// under `-`, like NODATA and SKIPDATA records of VPCs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByAction {
    /// `ACCEPT` records.
    #[serde(rename = "ACCEPT")]
    pub accept: u64,
    /// `REJECT` records.
    #[serde(rename = "REJECT")]
    pub reject: u64,
    /// `-` records: NODATA and SKIPDATA, and every transit-gateway record.
    #[serde(rename = "-")]
    pub none: u64,
}

/// Records per `log-status` value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ByLogStatus {
    /// `OK` records.
    #[serde(rename = "OK")]
    pub ok: u64,
    /// `NODATA` records.
    #[serde(rename = "NODATA")]
    pub nodata: u64,
    /// `SKIPDATA` records.
    #[serde(rename = "SKIPDATA")]
    pub skipdata: u64,
}

/// The ground truth of one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectSummary {
    /// The bucket.
    pub bucket: String,
    /// The object key.
    pub key: String,
    /// The header's field names, in order.
    pub fields: Vec<String>,
    /// Data lines (the header not counted).
    pub records: u64,
    /// Records by action.
    pub by_action: ByAction,
    /// Records by log-status.
    pub by_log_status: ByLogStatus,
    /// Smallest `end` in the file (Unix seconds).
    pub first_end: i64,
    /// Largest `end` in the file (Unix seconds).
    pub last_end: i64,
    /// Size of the object's body: the gzip text, or the Parquet file.
    pub gzip_bytes: u64,
    /// Size of the text (header and newlines included); of the equivalent text for Parquet.
    pub raw_bytes: u64,
    /// See [`super::digest`]: 16 hex digits, from the text lines in either file format.
    pub records_digest: String,
    /// Start of the file's 5-minute `end` window (Unix seconds).
    pub window_start: i64,
    /// When the simulated service delivered it (Unix seconds; later than the window).
    pub delivered_at: i64,
}

/// Sums over all objects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Number of objects.
    pub objects: u64,
    /// Data lines.
    pub records: u64,
    /// Records by action.
    pub by_action: ByAction,
    /// Records by log-status.
    pub by_log_status: ByLogStatus,
    /// Sum of body sizes (gzip or Parquet).
    pub gzip_bytes: u64,
    /// Sum of text sizes.
    pub raw_bytes: u64,
    /// The merged records digest of every object.
    pub records_digest: String,
}

/// The options a run was made with, as plain values (what reproduces it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestOptions {
    /// Simulated start, RFC 3339 (after alignment).
    pub start: String,
    /// Simulated seconds (after alignment).
    pub duration_secs: i64,
    /// `vpc` or `transit-gateway`.
    #[serde(default = "vpc")]
    pub resource_type: String,
    /// ALL, ACCEPT or REJECT.
    pub filter: String,
    /// `default` (of the resource type) or the custom format string.
    pub format: String,
    /// The format version written in `${version}`.
    pub version: u8,
    /// The destination ARN.
    pub destination: String,
    /// `plain-text` or `parquet`.
    #[serde(default = "plain_text")]
    pub file_format: String,
    /// Parquet page codec (Parquet only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parquet_compression: Option<String>,
    /// Rows per Parquet row group (Parquet only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_group_rows: Option<usize>,
    /// Hive-compatible prefixes.
    pub hive: bool,
    /// Hourly partitions.
    pub hourly: bool,
    /// Aggregation interval, seconds.
    pub aggregation: u32,
    /// Rotation threshold (uncompressed bytes).
    pub rotate_bytes: u64,
    /// gzip level (text, and Parquet's GZIP pages).
    pub gzip_level: u32,
    /// Flow log per account and region.
    pub flow_logs: Vec<FlowLogIdentity>,
    /// VPCs per flow log.
    pub vpcs: u32,
    /// ENIs per VPC.
    pub enis_per_vpc: u32,
    /// Traffic rate multiplier.
    pub rate: f64,
    /// Parallel writers (files per window).
    pub writers: u32,
}

fn vpc() -> String {
    "vpc".to_owned()
}

fn plain_text() -> String {
    "plain-text".to_owned()
}

/// One simulated flow log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowLogIdentity {
    /// Owner account.
    pub account_id: String,
    /// Region.
    pub region: String,
    /// `fl-…`.
    pub flow_log_id: String,
}

/// The whole ground truth of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The seed.
    pub seed: u64,
    /// The options.
    pub options: ManifestOptions,
    /// Every object, in delivery order.
    pub objects: Vec<ObjectSummary>,
    /// Sums.
    pub totals: Totals,
}

impl Manifest {
    /// Builds the manifest of `objects` (in delivery order), computing the totals.
    #[must_use]
    pub fn new(seed: u64, options: ManifestOptions, objects: Vec<ObjectSummary>) -> Self {
        let mut totals = Totals::default();
        let mut digest = RecordsDigest::new();
        for o in &objects {
            totals.objects += 1;
            totals.records += o.records;
            totals.by_action.accept += o.by_action.accept;
            totals.by_action.reject += o.by_action.reject;
            totals.by_action.none += o.by_action.none;
            totals.by_log_status.ok += o.by_log_status.ok;
            totals.by_log_status.nodata += o.by_log_status.nodata;
            totals.by_log_status.skipdata += o.by_log_status.skipdata;
            totals.gzip_bytes += o.gzip_bytes;
            totals.raw_bytes += o.raw_bytes;
            if let Ok(d) = RecordsDigest::from_hex(&o.records_digest) {
                digest.merge(d);
            }
        }
        totals.records_digest = digest.to_hex();
        Self {
            seed,
            options,
            objects,
            totals,
        }
    }

    /// Pretty JSON with a trailing newline.
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}
