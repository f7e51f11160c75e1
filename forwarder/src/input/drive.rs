//! The loop every reader shares: each line or row through the [`ObjectParser`], records into
//! batches, sealed batches numbered and handed to a [`BatchSink`], settled lines skipped on
//! resume.

use std::io::{self, BufRead, Read};
use std::ops::ControlFlow;
use std::sync::Arc;

use bytes::Bytes;

use super::lines::{self, Line, Lines, MAX_LINE_BYTES};
use super::parquet;
use super::{FileFormat, Input, MAX_SPOOLED_PARQUET, RangeSource, ReadError};
use crate::accounting::Accounting;
use crate::batch::{BatchLimits, Batcher, SealedBatch, UploadBatch};
use crate::config::LogTypeConfig;
use crate::object::{LineOutcome, ObjectParser};
use crate::records::ObjectContext;

/// A batch with its place in the object: sealed JSON from the reader, then the compressed
/// upload body.
#[derive(Debug)]
pub struct NumberedBatch<B = UploadBatch> {
    /// 0-based index within the object (continues from the marker on resume).
    pub index: u64,
    /// Line (or row) of its first record.
    pub first_line: u64,
    /// Line (or row) of its last record.
    pub last_line: u64,
    /// The payload.
    pub batch: B,
}

/// What to read an object with, and where a resumed read starts sending.
#[derive(Debug, Clone)]
pub struct ReadJob<'a> {
    /// The `logTypeConfig` records are built with.
    pub config: &'a LogTypeConfig,
    /// Bucket, key and time of parsing.
    pub ctx: ObjectContext,
    /// Batch caps and gzip level.
    pub limits: BatchLimits,
    /// Lines up to this one were settled by an earlier run: their records are not sent.
    pub skip_through: u64,
    /// Index of the first batch sent.
    pub first_index: u64,
}

impl<'a> ReadJob<'a> {
    /// A job that reads the object from its start.
    #[must_use]
    pub fn new(config: &'a LogTypeConfig, ctx: ObjectContext, limits: BatchLimits) -> Self {
        Self {
            config,
            ctx,
            limits,
            skip_through: 0,
            first_index: 0,
        }
    }
}

/// Where sealed batches go: the pipeline's channel to its uploads, the dry run's totals.
pub trait BatchSink {
    /// A record was just written (its JSON, as it sits in the batch): the dry run prints it.
    fn record(&mut self, _json: &[u8]) {}

    /// A batch is full (or the object ended). `Break` stops the read: nothing more is parsed.
    fn batch(&mut self, batch: NumberedBatch<SealedBatch>) -> ControlFlow<()>;
}

impl<F: FnMut(NumberedBatch<SealedBatch>) -> ControlFlow<()>> BatchSink for F {
    fn batch(&mut self, batch: NumberedBatch<SealedBatch>) -> ControlFlow<()> {
        self(batch)
    }
}

/// How a read ended.
#[derive(Debug)]
pub struct ReadEnd {
    /// The format the first bytes showed (`None` when not even they could be read).
    pub format: Option<FileFormat>,
    /// Counts of every line or row read (resumed ones included).
    pub accounting: Accounting,
    /// Records of lines at or before the marker, not sent again.
    pub resumed: u64,
    /// Why the object's header cannot be used (it names a field twice), if so.
    pub unsupported: Option<String>,
    /// Why the object could not be read to the end, if so.
    pub read_error: Option<ReadError>,
    /// The sink stopped the read.
    pub stopped: bool,
}

/// Reads a whole object (gzip or plain text, or Parquet) and hands every sealed batch to
/// `sink`, the last one included. Never panics on bad input: a damaged object ends the read
/// with [`ReadEnd::read_error`], the records before it having been delivered to `sink`.
pub fn read_object<R: BufRead>(
    input: Input<R>,
    job: ReadJob<'_>,
    sink: &mut impl BatchSink,
) -> ReadEnd {
    let mut driver = Driver::new(&job, sink);
    let (format, read) = match input {
        Input::Stream(reader) => read_stream(reader, &mut driver),
        Input::Ranges(source) => read_ranges(source, &mut driver),
    };
    driver.finish(format, read.err())
}

fn read_stream<R: BufRead>(
    mut reader: R,
    driver: &mut Driver<'_, '_, impl BatchSink>,
) -> (Option<FileFormat>, Result<(), ReadError>) {
    let reading = |source| ReadError {
        what: "reading",
        line: 0,
        source,
    };
    let mut head = [0u8; FileFormat::MAGIC_BYTES];
    let got = match read_head(&mut reader, &mut head) {
        Ok(got) => got,
        Err(source) => return (None, Err(reading(source))),
    };
    let format = FileFormat::detect(&head[..got]);
    let reader = io::Cursor::new(head[..got].to_vec()).chain(reader);
    let read = match format {
        FileFormat::Parquet => spool(reader)
            .map_err(reading)
            .and_then(|bytes| parquet::read(&bytes, driver)),
        FileFormat::GzipText => read_text(lines::decoded(reader, true), "gunzip", driver),
        FileFormat::PlainText => read_text(reader, "reading", driver),
    };
    (Some(format), read)
}

fn read_ranges(
    source: Arc<dyn RangeSource>,
    driver: &mut Driver<'_, '_, impl BatchSink>,
) -> (Option<FileFormat>, Result<(), ReadError>) {
    let want = usize::try_from(source.len()).map_or(FileFormat::MAGIC_BYTES, |len| {
        len.min(FileFormat::MAGIC_BYTES)
    });
    let head = match source.read_range(0, want) {
        Ok(head) => head,
        Err(source) => {
            let error = ReadError {
                what: "reading",
                line: 0,
                source,
            };
            return (None, Err(error));
        }
    };
    let format = FileFormat::detect(&head);
    let read = match format {
        FileFormat::Parquet => parquet::read(&*source, driver),
        FileFormat::GzipText | FileFormat::PlainText => {
            let stream =
                io::BufReader::with_capacity(64 * 1024, super::ranges::Sequential::new(source));
            return read_stream(stream, driver);
        }
    };
    (Some(format), read)
}

/// Reads up to `head.len()` bytes (fewer only at the end), retrying interrupted reads.
fn read_head(reader: &mut impl Read, head: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < head.len() {
        match reader.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// A Parquet object that came as a stream, held whole (Parquet's footer is at its end).
fn spool(reader: impl Read) -> io::Result<Bytes> {
    let mut bytes = Vec::new();
    let limit = u64::try_from(MAX_SPOOLED_PARQUET).unwrap_or(u64::MAX);
    reader.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() > MAX_SPOOLED_PARQUET {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "a Parquet object read as a stream is held in memory, and this one is over \
                 {MAX_SPOOLED_PARQUET} bytes; read it from a file or from S3 instead, which \
                 take it row group by row group"
            ),
        ));
    }
    Ok(Bytes::from(bytes))
}

fn read_text<R: BufRead>(
    reader: R,
    what: &'static str,
    driver: &mut Driver<'_, '_, impl BatchSink>,
) -> Result<(), ReadError> {
    let mut lines = Lines::new(reader, MAX_LINE_BYTES);
    loop {
        let line = driver.parser.accounting().lines;
        let next = match lines.next_line() {
            Ok(None) => return Ok(()),
            Ok(Some(Line::Text(text))) => {
                driver.next(|parser, batcher| parser.feed_line(text, batcher))
            }
            Ok(Some(Line::TooLong(bytes))) => {
                driver.next(|parser, _| parser.feed_too_long(bytes, MAX_LINE_BYTES))
            }
            Err(source) => return Err(ReadError { what, line, source }),
        };
        if next.is_break() {
            return Ok(());
        }
    }
}

/// The state of one read: the parser, the batch being filled, numbering and resume.
pub(super) struct Driver<'c, 's, S> {
    pub(super) parser: ObjectParser<'c>,
    batcher: Batcher,
    /// Records of resumed lines land here and are thrown away: resumed lines still go
    /// through the parser, so the header sets the fields and the counts stay whole.
    discard: Batcher,
    skip_through: u64,
    index: u64,
    open_first: Option<u64>,
    prev_record_line: u64,
    resumed: u64,
    stopped: bool,
    sink: &'s mut S,
}

impl<'c, 's, S: BatchSink> Driver<'c, 's, S> {
    fn new(job: &ReadJob<'c>, sink: &'s mut S) -> Self {
        Self {
            parser: ObjectParser::new(job.config, job.ctx.clone()),
            batcher: Batcher::new(job.limits),
            discard: Batcher::new(BatchLimits {
                max_records: usize::MAX,
                gzip_level: 0,
                ..job.limits
            }),
            skip_through: job.skip_through,
            index: job.first_index,
            open_first: None,
            prev_record_line: 0,
            resumed: 0,
            stopped: false,
            sink,
        }
    }

    /// Feeds the next line or row with `feed` and routes its record: `Break` once the sink
    /// stopped the read.
    pub(super) fn next(
        &mut self,
        feed: impl FnOnce(&mut ObjectParser<'c>, &mut Batcher) -> LineOutcome,
    ) -> ControlFlow<()> {
        let line = self.parser.accounting().lines + 1;
        if line <= self.skip_through {
            if matches!(
                feed(&mut self.parser, &mut self.discard),
                LineOutcome::Record { .. }
            ) {
                self.resumed += 1;
                while self.discard.pop_sealed().is_some() {}
            }
            return ControlFlow::Continue(());
        }
        if !matches!(
            feed(&mut self.parser, &mut self.batcher),
            LineOutcome::Record { .. }
        ) {
            return ControlFlow::Continue(());
        }
        self.sink.record(self.batcher.last_record());
        // A batch is sealed only when a record does not fit: the sealed batch ends at the
        // previous record, and this record opens the next one.
        while let Some(batch) = self.batcher.pop_sealed() {
            let first_line = self.open_first.take().unwrap_or(line);
            self.send(batch, first_line);
            if self.stopped {
                return ControlFlow::Break(());
            }
        }
        self.open_first.get_or_insert(line);
        self.prev_record_line = line;
        ControlFlow::Continue(())
    }

    fn send(&mut self, batch: SealedBatch, first_line: u64) {
        let numbered = NumberedBatch {
            index: self.index,
            first_line,
            last_line: self.prev_record_line,
            batch,
        };
        self.index += 1;
        if self.sink.batch(numbered).is_break() {
            self.stopped = true;
        }
    }

    fn finish(mut self, format: Option<FileFormat>, read_error: Option<ReadError>) -> ReadEnd {
        if !self.stopped {
            for batch in self.batcher.finish_sealed() {
                let first_line = self.open_first.take().unwrap_or(self.prev_record_line);
                self.send(batch, first_line);
                if self.stopped {
                    break;
                }
            }
        }
        ReadEnd {
            format,
            accounting: self.parser.accounting().clone(),
            resumed: self.resumed,
            unsupported: self.parser.unsupported().map(str::to_owned),
            read_error,
            stopped: self.stopped,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;
    use std::sync::Arc;

    use super::{Input, ReadJob, read_object};
    use crate::batch::BatchLimits;
    use crate::config::LogTypeConfig;
    use crate::records::ObjectContext;

    /// Every record's JSON and the summary's counts, reading `input`.
    fn read(input: Input<&[u8]>) -> (Vec<Vec<u8>>, u64, u64) {
        let config = LogTypeConfig::builtin_vpc();
        let ctx = ObjectContext {
            bucket: "b".into(),
            key: "k".into(),
            now_ms: 0,
        };
        let limits = BatchLimits {
            max_records: 2,
            ..BatchLimits::default()
        };
        let mut bodies = Vec::new();
        let end = read_object(
            input,
            ReadJob::new(&config, ctx, limits),
            &mut |batch: super::NumberedBatch<crate::batch::SealedBatch>| {
                bodies.push(batch.batch.json.clone());
                ControlFlow::Continue(())
            },
        );
        (bodies, end.accounting.lines, end.accounting.records)
    }

    #[test]
    fn text_read_by_offsets_gives_what_the_stream_gives() {
        let text = "version srcaddr start\n2 10.0.0.1 1418530010\n2 10.0.0.2 1418530011\n2 10.0.0.3 1418530012\n";
        let streamed = read(Input::Stream(text.as_bytes()));
        let by_offsets = read(Input::Ranges(Arc::new(bytes::Bytes::from(text))));
        assert_eq!(streamed.1, 4);
        assert_eq!((streamed.2, streamed.0.len()), (3, 2));
        assert_eq!(by_offsets, streamed);
    }
}
