//! Bounded-memory readers over an object body: counting, gzip detection,
//! and the blocking-side `BufRead` adapter.

use std::io::{self, BufRead, BufReader, Read};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::bufread::MultiGzDecoder;
use tokio::io::AsyncRead;
use tokio_util::io::SyncIoBridge;

use super::error::ReadError;

/// Size of the buffer between the network and the decoder.
pub const INPUT_BUFFER: usize = 64 * 1024;
/// Size of the buffer between the decoder and the line parser.
pub const OUTPUT_BUFFER: usize = 64 * 1024;

/// A body as async bytes.
pub(crate) type AsyncBody = Pin<Box<dyn AsyncRead + Send>>;

/// How the stored bytes are encoded, from [`crate::input::FileFormat`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    /// gzip, possibly several members back to back.
    Gzip,
    /// Plain text.
    None,
}

/// Shared count of body bytes received, readable from any thread while a
/// blocking reader consumes the body ("bytes in" for accounting).
#[derive(Debug, Clone, Default)]
pub struct ByteCounter(Arc<AtomicU64>);

impl ByteCounter {
    /// Bytes of the stored (possibly compressed) object received so far.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    pub(crate) fn add(&self, n: usize) {
        self.0.fetch_add(n as u64, Ordering::Relaxed);
    }
}

/// The decoded text of an object as a blocking [`BufRead`], for a synchronous
/// parser running in [`tokio::task::spawn_blocking`].
///
/// Memory is fixed whatever the object's size: one [`INPUT_BUFFER`], the gzip
/// window, and one [`OUTPUT_BUFFER`] (see [`ObjectReader::buffer_capacity`]);
/// the body is pulled from the network only as fast as it is read.
/// Errors are `io::Error`s carrying a [`ReadError`] that names the object.
pub struct ObjectReader {
    /// Built on first read: flate2 parses the gzip header in its constructor,
    /// which must not happen on an async thread.
    inner: Option<Box<dyn BufRead + Send>>,
    input: Option<BufReader<SyncIoBridge<AsyncBody>>>,
    compression: Compression,
    capacity: usize,
    counter: ByteCounter,
    bucket: String,
    key: String,
}

impl ObjectReader {
    pub(crate) fn new(
        body: AsyncBody,
        compression: Compression,
        handle: tokio::runtime::Handle,
        counter: ByteCounter,
        bucket: String,
        key: String,
    ) -> Self {
        let bridge = SyncIoBridge::new_with_handle(body, handle);
        let capacity = match compression {
            Compression::Gzip => INPUT_BUFFER + OUTPUT_BUFFER,
            Compression::None => INPUT_BUFFER,
        };
        Self {
            inner: None,
            input: Some(BufReader::with_capacity(INPUT_BUFFER, bridge)),
            compression,
            capacity,
            counter,
            bucket,
            key,
        }
    }

    fn ready(&mut self) -> &mut Box<dyn BufRead + Send> {
        decoder(&mut self.inner, &mut self.input, self.compression)
    }

    /// Bytes this reader buffers at most (not counting the decoder's fixed
    /// 32 KiB window): the memory bound, independent of the object's size.
    pub fn buffer_capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes of the stored object received so far.
    pub fn compressed_bytes(&self) -> u64 {
        self.counter.get()
    }

    fn name_error(&self, error: io::Error) -> io::Error {
        name_error(error, &self.bucket, &self.key, &self.counter)
    }
}

/// The reader of the decoded text, built on first use from the buffered body. Takes fields,
/// not the whole reader, so a caller can still name an error from the others.
fn decoder<'a>(
    inner: &'a mut Option<Box<dyn BufRead + Send>>,
    input: &mut Option<BufReader<SyncIoBridge<AsyncBody>>>,
    compression: Compression,
) -> &'a mut Box<dyn BufRead + Send> {
    inner.get_or_insert_with(|| {
        let input = input.take().expect("input is present until inner is built");
        match compression {
            Compression::Gzip => Box::new(BufReader::with_capacity(
                OUTPUT_BUFFER,
                MultiGzDecoder::new(input),
            )),
            Compression::None => Box::new(input),
        }
    })
}

/// `error` as a [`ReadError`] naming the object and the offset reached, unless it already is
/// one (the network side's errors are named where they happen).
fn name_error(error: io::Error, bucket: &str, key: &str, counter: &ByteCounter) -> io::Error {
    if ReadError::find(&error).is_some() {
        return error;
    }
    ReadError::Gzip {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        offset: counter.get(),
        source: error,
    }
    .into_io()
}

impl std::fmt::Debug for ObjectReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObjectReader")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

impl Read for ObjectReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.ready().read(buf).map_err(|e| self.name_error(e))
    }
}

impl BufRead for ObjectReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        // Called for every line: one call through the decoder's layers, the error named from
        // fields the returned borrow does not hold.
        let Self {
            inner,
            input,
            compression,
            bucket,
            key,
            counter,
            ..
        } = self;
        decoder(inner, input, *compression)
            .fill_buf()
            .map_err(|error| name_error(error, bucket, key, counter))
    }

    fn consume(&mut self, amt: usize) {
        self.ready().consume(amt);
    }
}
