//! Push-based parsing for async bodies: an object's bytes (gzip or plain) arrive chunk by chunk
//! and sealed batches come out, with the same parser, batcher and line limit as
//! [`crate::parse_reader`] (tests check both give identical batches).
//!
//! ```text
//! let mut stream = ObjectStream::new(&config, ctx, BatchLimits::default());
//! while let Some(chunk) = body.next().await {
//!     stream.push(&chunk?)?;
//!     while let Some(batch) = stream.pop_ready() { upload(batch).await? }
//! }
//! let end = stream.finish();   // last batches, accounting, any truncation error
//! ```

use std::io::{self, Write};

use flate2::write::MultiGzDecoder;

use crate::accounting::Accounting;
use crate::batch::{BatchLimits, Batcher, UploadBatch};
use crate::config::LogTypeConfig;
use crate::input::{MAX_LINE_BYTES, ReadError};
use crate::object::ObjectParser;
use crate::records::ObjectContext;

/// Splits pushed bytes into lines and feeds them to the parser.
struct Feeder<'c> {
    parser: ObjectParser<'c>,
    batcher: Batcher,
    partial: Vec<u8>,
    /// Length of the current line once it passed the limit (0 while within it).
    overflow: usize,
}

impl Feeder<'_> {
    fn take(&mut self, mut data: &[u8]) {
        while let Some(i) = data.iter().position(|&b| b == b'\n') {
            if self.partial.is_empty() && self.overflow == 0 && i <= MAX_LINE_BYTES {
                // The whole line is in this chunk: no copy.
                self.parser.feed_line(&data[..i], &mut self.batcher);
            } else {
                self.append(&data[..i]);
                self.end_line();
            }
            data = &data[i + 1..];
        }
        self.append(data);
    }

    fn append(&mut self, part: &[u8]) {
        if self.overflow > 0 {
            self.overflow += part.len();
        } else if self.partial.len() + part.len() > MAX_LINE_BYTES {
            self.overflow = self.partial.len() + part.len();
            self.partial = Vec::new();
        } else {
            self.partial.extend_from_slice(part);
        }
    }

    fn end_line(&mut self) {
        if self.overflow > 0 {
            self.parser.feed_too_long(self.overflow, MAX_LINE_BYTES);
            self.overflow = 0;
        } else {
            self.parser.feed_line(&self.partial, &mut self.batcher);
        }
        self.partial.clear();
    }

    fn finish_line(&mut self) {
        if !self.partial.is_empty() || self.overflow > 0 {
            self.end_line();
        }
    }
}

impl Write for Feeder<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.take(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What an object's stream ended with.
#[derive(Debug)]
pub struct StreamEnd {
    /// The object's line counts (balanced).
    pub accounting: Accounting,
    /// Batches not yet popped, the last one included.
    pub batches: Vec<UploadBatch>,
    /// Why the object is unsupported (transit-gateway header), if it is.
    pub unsupported: Option<String>,
    /// Why the bytes could not be read to the end (truncated or corrupt gzip), if so.
    pub error: Option<ReadError>,
}

/// One object parsed from pushed chunks.
pub struct ObjectStream<'c> {
    /// The feeder while the input is plain text or not yet recognised.
    plain: Option<Feeder<'c>>,
    /// The feeder behind a gzip decoder once the magic bytes were seen.
    gzip: Option<Box<MultiGzDecoder<Feeder<'c>>>>,
    /// First bytes, kept until two are known.
    head: Vec<u8>,
    decided: bool,
    error: Option<ReadError>,
}

impl<'c> ObjectStream<'c> {
    /// A stream for one object.
    #[must_use]
    pub fn new(config: &'c LogTypeConfig, ctx: ObjectContext, limits: BatchLimits) -> Self {
        let feeder = Feeder {
            parser: ObjectParser::new(config, ctx),
            batcher: Batcher::new(limits),
            partial: Vec::new(),
            overflow: 0,
        };
        Self {
            plain: Some(feeder),
            gzip: None,
            head: Vec::new(),
            decided: false,
            error: None,
        }
    }

    /// Feeds the next chunk of the object's bytes.
    ///
    /// # Errors
    /// [`ReadError`] when the gzip data is corrupt; later pushes fail the same way and
    /// [`ObjectStream::finish`] reports it with the accounting.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), ReadError> {
        if let Some(error) = &self.error {
            return Err(copy_error(error));
        }
        if !self.decided {
            self.head.extend_from_slice(chunk);
            if self.head.len() < 2 {
                return Ok(());
            }
            let head = std::mem::take(&mut self.head);
            let result = self.decide(&head);
            return self.check(result);
        }
        let result = match (&mut self.gzip, &mut self.plain) {
            (Some(decoder), _) => decoder.write_all(chunk),
            (None, Some(feeder)) => {
                feeder.take(chunk);
                Ok(())
            }
            (None, None) => Ok(()),
        };
        self.check(result)
    }

    /// A sealed batch, if one is waiting: call after every push to keep memory bounded.
    pub fn pop_ready(&mut self) -> Option<UploadBatch> {
        self.feeder_mut()?.batcher.pop_ready()
    }

    /// The counts so far.
    #[must_use]
    pub fn accounting(&self) -> Accounting {
        self.feeder()
            .map(|f| f.parser.accounting().clone())
            .unwrap_or_default()
    }

    /// Ends the object: the last line, the last batches, the accounting, any truncation.
    #[must_use]
    pub fn finish(mut self) -> StreamEnd {
        if !self.decided {
            let head = std::mem::take(&mut self.head);
            let result = self.decide(&head);
            let _ = self.check(result);
        }
        if self.error.is_none()
            && let Some(decoder) = &mut self.gzip
        {
            let result = decoder.try_finish();
            let _ = self.check(result);
        }
        let error = self.error.take();
        match self.feeder_mut() {
            Some(feeder) => {
                feeder.finish_line();
                StreamEnd {
                    accounting: feeder.parser.accounting().clone(),
                    batches: feeder.batcher.finish(),
                    unsupported: feeder.parser.unsupported().map(str::to_owned),
                    error,
                }
            }
            None => StreamEnd {
                accounting: Accounting::default(),
                batches: Vec::new(),
                unsupported: None,
                error,
            },
        }
    }

    fn decide(&mut self, head: &[u8]) -> io::Result<()> {
        self.decided = true;
        if head.starts_with(&[0x1f, 0x8b]) {
            if let Some(feeder) = self.plain.take() {
                let mut decoder = Box::new(MultiGzDecoder::new(feeder));
                let result = decoder.write_all(head);
                self.gzip = Some(decoder);
                return result;
            }
        } else if let Some(feeder) = &mut self.plain {
            feeder.take(head);
        }
        Ok(())
    }

    fn check(&mut self, result: io::Result<()>) -> Result<(), ReadError> {
        let Err(source) = result else { return Ok(()) };
        let line = self.accounting().lines;
        let what = if self.gzip.is_some() {
            "gunzip"
        } else {
            "reading"
        };
        let error = ReadError { what, line, source };
        let copy = copy_error(&error);
        self.error = Some(error);
        Err(copy)
    }

    fn feeder(&self) -> Option<&Feeder<'c>> {
        self.gzip
            .as_deref()
            .map(MultiGzDecoder::get_ref)
            .or(self.plain.as_ref())
    }

    fn feeder_mut(&mut self) -> Option<&mut Feeder<'c>> {
        match &mut self.gzip {
            Some(decoder) => Some(decoder.get_mut()),
            None => self.plain.as_mut(),
        }
    }
}

fn copy_error(error: &ReadError) -> ReadError {
    ReadError {
        what: error.what,
        line: error.line,
        source: io::Error::new(error.source.kind(), error.source.to_string()),
    }
}
