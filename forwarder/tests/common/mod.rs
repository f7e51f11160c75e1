//! Shared test helpers: fixture paths, a fixed object context, dry runs into strings.
#![allow(dead_code)]

use std::io::Write as _;
use std::path::PathBuf;

use flowlog_forwarder::{BatchLimits, DryRunSummary, Input, LogTypeConfig, ObjectContext, dry_run};

/// 2025-11-25T06:00:00Z: the fixed "time of parsing" for deterministic snapshots.
pub const NOW_MS: i64 = 1_764_050_400_000;

/// A real-shaped flow-log key (segment 1 = account, 3 = region).
pub const KEY: &str = "AWSLogs/123456789010/vpcflowlogs/us-east-1/2026/11/25/123456789010_vpcflowlogs_us-east-1_fl-1234abcd_20261125T0600Z_fe123456.log.gz";

/// The default format's header line.
pub const DEFAULT_HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";

/// Path of a file under `fixtures/`.
pub fn fixture(path: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures")).join(path)
}

/// Bytes of a file under `fixtures/`.
pub fn read_fixture(path: &str) -> anyhow::Result<Vec<u8>> {
    Ok(std::fs::read(fixture(path))?)
}

/// The context every snapshot uses.
pub fn ctx() -> ObjectContext {
    ObjectContext {
        bucket: "my-flow-logs".into(),
        key: KEY.into(),
        now_ms: NOW_MS,
    }
}

/// Gzip of `data` (one member).
pub fn gzip(data: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(data)?;
    Ok(gz.finish()?)
}

/// Runs `parse`'s engine on `input`: the NDJSON output and the summary.
pub fn parse_bytes(
    config: &LogTypeConfig,
    input: &[u8],
) -> anyhow::Result<(String, DryRunSummary)> {
    let mut out = Vec::new();
    let summary = dry_run(
        config,
        ctx(),
        Input::Stream(input),
        BatchLimits::default(),
        true,
        &mut out,
    )?;
    Ok((String::from_utf8(out)?, summary))
}

/// NDJSON records, then the stderr summary line, as snapshots show them.
pub fn render(config: &LogTypeConfig, input: &[u8]) -> anyhow::Result<String> {
    let (out, summary) = parse_bytes(config, input)?;
    assert!(summary.accounting.is_balanced(), "unbalanced: {summary}");
    Ok(format!("{out}# {summary}\n"))
}
