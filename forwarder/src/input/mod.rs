//! The one input path: an object's bytes — from S3, a file or stdin — become rows of field
//! values, then records in batches, with the object's accounting, batch numbering and resume.
//! `parse`, `forward`, `backfill`, `lambda`, `demo` and the bench all come through
//! [`read_object`].
//!
//! The file format is told by the first bytes, never by the key ([`FileFormat::detect`]):
//! gzip text (`1f 8b`), Parquet (`PAR1`), else plain text. Text is read line by line
//! ([`lines`]); Parquet by its footer, then one row group at a time through a
//! [`RangeSource`] ([`parquet`]), so memory stays about one row group whatever the size.
//! A Parquet object that arrives as a plain stream (stdin, or gzip-wrapped) is first held in
//! memory, up to [`MAX_SPOOLED_PARQUET`] bytes.
//!
//! ```
//! use flowlog_forwarder::input::{Input, ReadJob, read_object};
//! use flowlog_forwarder::{BatchLimits, LogTypeConfig, ObjectContext};
//! let config = LogTypeConfig::builtin_vpc();
//! let text = "version srcaddr start\n2 10.0.0.1 1418530010\n";
//! let job = ReadJob::new(&config, ObjectContext::now("bucket", "key"), BatchLimits::default());
//! let mut batches = Vec::new();
//! let end = read_object(Input::Stream(text.as_bytes()), job, &mut |batch| {
//!     batches.push(batch);
//!     std::ops::ControlFlow::Continue(())
//! });
//! assert_eq!((end.accounting.records, batches.len()), (1, 1));
//! ```

mod drive;
mod lines;
mod parquet;
mod ranges;

use std::io;

pub use drive::{BatchSink, NumberedBatch, ReadEnd, ReadJob, read_object};
pub use lines::MAX_LINE_BYTES;
pub use parquet::{MAX_FOOTER_BYTES, MAX_ROW_GROUP_BYTES, ParquetError};
pub use ranges::RangeSource;

/// How an object's bytes are laid out, as its first bytes say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileFormat {
    /// Text in gzip (one or several members): what VPC Flow Logs writes as "plain-text".
    GzipText,
    /// Uncompressed text.
    PlainText,
    /// Apache Parquet (the flow log's "parquet" file format).
    Parquet,
}

impl FileFormat {
    /// Bytes [`FileFormat::detect`] needs to decide.
    pub const MAGIC_BYTES: usize = 4;

    /// The format the first bytes of an object show (fewer than four bytes is text).
    #[must_use]
    pub fn detect(head: &[u8]) -> Self {
        if head.starts_with(b"PAR1") {
            Self::Parquet
        } else if head.starts_with(&[0x1f, 0x8b]) {
            Self::GzipText
        } else {
            Self::PlainText
        }
    }

    /// How the accounting line names it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::GzipText => "gzip-text",
            Self::PlainText => "plain-text",
            Self::Parquet => "parquet",
        }
    }
}

/// Largest Parquet object held in memory when it arrives as a stream rather than with random
/// access (stdin, or a Parquet file inside gzip): 256 MiB.
pub const MAX_SPOOLED_PARQUET: usize = 256 << 20;

/// Where an object's bytes come from.
pub enum Input<R> {
    /// Bytes in order: a file, stdin, an S3 body. Text is read as it comes.
    Stream(R),
    /// Random access: a local file or an S3 object read by ranged GETs. Text is streamed
    /// from it in order; Parquet is read footer first, then row group by row group.
    Ranges(std::sync::Arc<dyn RangeSource>),
}

impl<R> std::fmt::Debug for Input<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Stream(_) => f.write_str("Input::Stream"),
            Self::Ranges(source) => write!(f, "Input::Ranges({} bytes)", source.len()),
        }
    }
}

impl Input<io::BufReader<std::fs::File>> {
    /// A local file: Parquet is read by offsets (row group by row group), text as a stream.
    /// Pipes and other files without offsets are streams.
    #[must_use]
    pub fn file(file: std::fs::File) -> Self {
        use std::os::unix::fs::FileExt as _;
        let mut head = [0u8; FileFormat::MAGIC_BYTES];
        let parquet = file.metadata().is_ok_and(|m| m.is_file())
            && file.read_exact_at(&mut head, 0).is_ok()
            && FileFormat::detect(&head) == FileFormat::Parquet;
        if parquet {
            Self::Ranges(std::sync::Arc::new(file))
        } else {
            Self::Stream(io::BufReader::with_capacity(256 * 1024, file))
        }
    }
}

/// The object's bytes could not be read to the end (records before the failure were parsed).
#[derive(Debug, thiserror::Error)]
#[error("{what} failed after line {line}: {source}")]
pub struct ReadError {
    /// "reading", "gunzip" (truncated or corrupt gzip) or "reading Parquet".
    pub what: &'static str,
    /// The last line (or Parquet row) completely read.
    pub line: u64,
    /// The I/O or decoding error; for Parquet it carries a [`ParquetError`].
    pub source: io::Error,
}
