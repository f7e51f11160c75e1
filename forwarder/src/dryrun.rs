//! The `parse` subcommand's engine: records as NDJSON, exactly as they sit in upload batches.

use std::fmt;
use std::io::{self, BufRead, Write};
use std::ops::ControlFlow;

use crate::accounting::Accounting;
use crate::batch::{BatchLimits, SealedBatch};
use crate::config::LogTypeConfig;
use crate::input::{BatchSink, FileFormat, Input, NumberedBatch, ReadError, ReadJob, read_object};
use crate::records::ObjectContext;

/// What a dry run saw: the object's accounting and the batches it would have sent.
#[derive(Debug)]
pub struct DryRunSummary {
    /// The file format the first bytes showed (`None` when they could not be read).
    pub format: Option<FileFormat>,
    /// Per-line (or per-row) counts.
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
        // Text is the common case and its line stays as it always was.
        if self.format == Some(FileFormat::Parquet) {
            write!(f, " format=parquet")?;
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

/// Parses `input` (gzip or plain text, or Parquet) as the forwarder would and writes each
/// record's JSON, one per line, to `out`: byte for byte what the upload batches contain. With
/// `compress`, batches are gzipped at the limits' level to report their request sizes;
/// without, `gzip_bytes` is `None` and the run measures the parser alone
/// (`parse --no-compress`).
///
/// # Errors
/// Only a failure to write to `out`; unreadable input is reported in the summary.
pub fn dry_run<R: BufRead>(
    config: &LogTypeConfig,
    ctx: ObjectContext,
    input: Input<R>,
    limits: BatchLimits,
    compress: bool,
    out: &mut impl Write,
) -> io::Result<DryRunSummary> {
    let mut sink = Printer {
        out,
        level: compress.then_some(limits.gzip_level),
        totals: Totals::default(),
        write_error: None,
    };
    let end = read_object(input, ReadJob::new(config, ctx, limits), &mut sink);
    if let Some(e) = sink.write_error {
        return Err(e);
    }
    sink.out.flush()?;
    let totals = sink.totals;
    Ok(DryRunSummary {
        format: end.format,
        accounting: end.accounting,
        batches: totals.batches,
        json_bytes: totals.json_bytes,
        gzip_bytes: compress.then_some(totals.gzip_bytes),
        unsupported: end.unsupported,
        read_error: end.read_error,
    })
}

/// The dry run's sink: prints each record, sizes each batch; stops at the first write error.
struct Printer<'o, W> {
    out: &'o mut W,
    level: Option<u32>,
    totals: Totals,
    write_error: Option<io::Error>,
}

impl<W: Write> BatchSink for Printer<'_, W> {
    fn record(&mut self, json: &[u8]) {
        if self.write_error.is_none()
            && let Err(e) = self
                .out
                .write_all(json)
                .and_then(|()| self.out.write_all(b"\n"))
        {
            self.write_error = Some(e);
        }
    }

    fn batch(&mut self, batch: NumberedBatch<SealedBatch>) -> ControlFlow<()> {
        self.totals.add(&batch.batch, self.level);
        if self.write_error.is_some() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
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
