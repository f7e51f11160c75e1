//! The `parse` subcommand's engine: records as NDJSON, exactly as they sit in upload batches.

use std::fmt;
use std::io::{self, BufRead, Write};

use crate::accounting::Accounting;
use crate::batch::{BatchLimits, Batcher, SealedBatch};
use crate::config::LogTypeConfig;
use crate::input::{ReadError, parse_reader};
use crate::object::{LineOutcome, ObjectParser};
use crate::records::ObjectContext;

/// What a dry run saw: the object's accounting and the batches it would have sent.
#[derive(Debug)]
pub struct DryRunSummary {
    /// Per-line counts.
    pub accounting: Accounting,
    /// Batches (requests) the records fill.
    pub batches: usize,
    /// Uncompressed JSON bytes over all batches.
    pub json_bytes: usize,
    /// Gzip bytes over all batches (`None` when the run skipped compression).
    pub gzip_bytes: Option<usize>,
    /// Why the object's format is unsupported, if it is.
    pub unsupported: Option<String>,
    /// Why the input could not be read to the end, if it could not.
    pub read_error: Option<ReadError>,
}

impl DryRunSummary {
    /// Whether every line became a header, record or filtered line and the input read fully.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.accounting.unparsable == 0 && self.unsupported.is_none() && self.read_error.is_none()
    }
}

/// One line for stderr: the accounting, then batches, then any object-level problem.
impl fmt::Display for DryRunSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} log_size={} batches={} json_bytes={}",
            self.accounting, self.accounting.log_size, self.batches, self.json_bytes,
        )?;
        if let Some(gzip_bytes) = self.gzip_bytes {
            write!(f, " gzip_bytes={gzip_bytes}")?;
        }
        if let Some(reason) = &self.unsupported {
            write!(f, " unsupported=\"{reason}\"")?;
        }
        if let Some(error) = &self.read_error {
            write!(f, " error=\"{error}\"")?;
        }
        Ok(())
    }
}

/// Parses `input` (gzip or plain) as the forwarder would and writes each record's JSON, one
/// per line, to `out`: byte for byte what the upload batches contain. With `compress`, batches
/// are gzipped at the limits' level to report their request sizes; without, `gzip_bytes` is
/// `None` and the run measures the parser alone (`parse --no-compress`).
///
/// # Errors
/// Only a failure to write to `out`; unreadable input is reported in the summary.
pub fn dry_run(
    config: &LogTypeConfig,
    ctx: ObjectContext,
    input: impl BufRead,
    limits: BatchLimits,
    compress: bool,
    out: &mut impl Write,
) -> io::Result<DryRunSummary> {
    let mut parser = ObjectParser::new(config, ctx);
    let mut batcher = Batcher::new(limits);
    let level = limits.gzip_level;
    let mut totals = Totals::default();
    let mut write_error = None;
    let read = parse_reader(input, &mut parser, &mut batcher, |outcome, batcher| {
        if matches!(outcome, LineOutcome::Record { .. }) && write_error.is_none() {
            let record = batcher.last_record();
            if let Err(e) = out.write_all(record).and_then(|()| out.write_all(b"\n")) {
                write_error = Some(e);
            }
        }
        while let Some(batch) = batcher.pop_sealed() {
            totals.add(&batch, compress.then_some(level));
        }
    });
    if let Some(e) = write_error {
        return Err(e);
    }
    for batch in batcher.finish_sealed() {
        totals.add(&batch, compress.then_some(level));
    }
    out.flush()?;
    Ok(DryRunSummary {
        accounting: parser.accounting().clone(),
        batches: totals.batches,
        json_bytes: totals.json_bytes,
        gzip_bytes: compress.then_some(totals.gzip_bytes),
        unsupported: parser.unsupported().map(str::to_owned),
        read_error: read.err(),
    })
}

/// Sizes of the batches a dry run filled.
#[derive(Default)]
struct Totals {
    batches: usize,
    json_bytes: usize,
    gzip_bytes: usize,
}

impl Totals {
    fn add(&mut self, batch: &SealedBatch, gzip_level: Option<u32>) {
        self.batches += 1;
        self.json_bytes += batch.json.len();
        if let Some(level) = gzip_level {
            self.gzip_bytes += batch.compress(level).body.len();
        }
    }
}
