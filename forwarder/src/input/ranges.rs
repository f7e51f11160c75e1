//! Random access to an object's bytes: what Parquet needs (its footer is at the end). A local
//! file reads at offsets; an S3 object answers ranged GETs (`crate::source::S3Ranges`).

use std::io::{self, Read};
use std::sync::Arc;

use bytes::Bytes;

/// An object whose bytes can be read at any offset.
pub trait RangeSource: Send + Sync {
    /// The object's size in bytes.
    fn len(&self) -> u64;

    /// Whether the object has no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `len` bytes from `start`; fewer only where the object ends.
    ///
    /// # Errors
    /// The I/O (or S3) error, naming the object where the source knows it.
    fn read_range(&self, start: u64, len: usize) -> io::Result<Bytes>;
}

impl RangeSource for std::fs::File {
    fn len(&self) -> u64 {
        self.metadata().map_or(0, |m| m.len())
    }

    fn read_range(&self, start: u64, len: usize) -> io::Result<Bytes> {
        use std::os::unix::fs::FileExt as _;
        let len = len.min(
            usize::try_from(RangeSource::len(self).saturating_sub(start)).unwrap_or(usize::MAX),
        );
        let mut buf = vec![0u8; len];
        self.read_exact_at(&mut buf, start)?;
        Ok(Bytes::from(buf))
    }
}

impl RangeSource for Bytes {
    fn len(&self) -> u64 {
        self.as_ref().len() as u64
    }

    fn read_range(&self, start: u64, len: usize) -> io::Result<Bytes> {
        let size = self.as_ref().len();
        let start = usize::try_from(start).unwrap_or(usize::MAX).min(size);
        Ok(self.slice(start..start.saturating_add(len).min(size)))
    }
}

/// A [`RangeSource`] read from start to end, for a text object that came with random access.
pub(super) struct Sequential {
    source: Arc<dyn RangeSource>,
    offset: u64,
}

impl Sequential {
    pub(super) fn new(source: Arc<dyn RangeSource>) -> Self {
        Self { source, offset: 0 }
    }
}

impl Read for Sequential {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.offset >= self.source.len() {
            return Ok(0);
        }
        let chunk = self.source.read_range(self.offset, buf.len())?;
        buf[..chunk.len()].copy_from_slice(&chunk);
        self.offset += chunk.len() as u64;
        Ok(chunk.len())
    }
}
