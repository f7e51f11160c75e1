//! Upload batches: gzip-compressed JSON arrays of records within Site24x7's limits.
//!
//! Records are written straight into the open batch's JSON buffer. When a record would push the
//! batch past a cap, the batch is sealed without it (the record moves to the next batch), gzipped,
//! and queued for [`Batcher::pop_ready`]. Caps: 5,000,000 bytes of JSON like Site24x7's Fluentd
//! and Logstash plugins, and 5,000 records like its Azure collector (about 1.5 MB of flow-log
//! JSON, so requests stay small enough to retry cheaply). A single record whose JSON alone exceeds
//! the byte cap is **rejected and counted** (an unparsable line with reason "record too large"),
//! never truncated: a truncated flow record would be wrong data.

use std::collections::VecDeque;
use std::io::Write as _;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;

/// One request's worth of records, ready to POST to `/upload`.
///
/// The upload client needs only these fields; the batcher that fills them is
/// built in this module.
#[derive(Debug, Clone)]
pub struct UploadBatch {
    /// Gzip of the JSON array, sent with `Content-Encoding: gzip`.
    pub body: Bytes,
    /// Site24x7's `Log-Size` header: raw matched log text, adjusted for
    /// ignored, masked, hashed and derived fields.
    pub log_size: u64,
    /// How many records the array holds.
    pub records: usize,
    /// Size of the uncompressed JSON array in bytes.
    pub json_bytes: usize,
}

/// Default cap on a batch's uncompressed JSON, as Site24x7's own plugins use.
pub const DEFAULT_MAX_JSON_BYTES: usize = 5_000_000;
/// Default cap on records per batch.
pub const DEFAULT_MAX_RECORDS: usize = 5_000;

/// Caps and compression of batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Most bytes of JSON (the whole array, brackets included) in one batch.
    pub max_json_bytes: usize,
    /// Most records in one batch (at least 1).
    pub max_records: usize,
    /// Gzip level 0–9 (Site24x7's plugins use 9; 6 is nearly as small and much faster).
    pub gzip_level: u32,
}

impl Default for BatchLimits {
    fn default() -> Self {
        Self {
            max_json_bytes: DEFAULT_MAX_JSON_BYTES,
            max_records: DEFAULT_MAX_RECORDS,
            gzip_level: 6,
        }
    }
}

/// A record that alone is larger than the batch byte cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("record of {bytes} bytes of JSON exceeds the batch cap of {cap} bytes")]
pub struct RecordTooLarge {
    /// The record's JSON size.
    pub bytes: usize,
    /// The cap it exceeds.
    pub cap: usize,
}

/// Fills batches record by record and seals them at the caps.
#[derive(Debug)]
pub struct Batcher {
    limits: BatchLimits,
    buf: Vec<u8>,
    records: usize,
    log_size: u64,
    mark: usize,
    record_start: usize,
    scratch: Vec<u8>,
    ready: VecDeque<UploadBatch>,
    sealed: usize,
}

impl Batcher {
    /// A batcher with the given caps.
    #[must_use]
    pub fn new(limits: BatchLimits) -> Self {
        let limits = BatchLimits {
            max_records: limits.max_records.max(1),
            ..limits
        };
        Self {
            limits,
            buf: Vec::with_capacity(limits.max_json_bytes.min(1 << 20)),
            records: 0,
            log_size: 0,
            mark: 0,
            record_start: 0,
            scratch: Vec::new(),
            ready: VecDeque::new(),
            sealed: 0,
        }
    }

    /// The caps in force.
    #[must_use]
    pub fn limits(&self) -> BatchLimits {
        self.limits
    }

    /// Opens a record: returns the buffer to append exactly one JSON object to.
    pub(crate) fn begin_record(&mut self) -> &mut Vec<u8> {
        self.mark = self.buf.len();
        self.buf.push(if self.records == 0 { b'[' } else { b',' });
        self.record_start = self.buf.len();
        &mut self.buf
    }

    /// Drops the record opened by [`Batcher::begin_record`].
    pub(crate) fn abort_record(&mut self) {
        self.buf.truncate(self.mark);
    }

    /// Closes the open record, sealing the current batch first if the record does not fit.
    ///
    /// # Errors
    /// [`RecordTooLarge`] when the record alone exceeds the byte cap (it is removed).
    pub(crate) fn commit_record(&mut self, log_size: u64) -> Result<(), RecordTooLarge> {
        let len = self.buf.len() - self.record_start;
        if len + 2 > self.limits.max_json_bytes {
            self.abort_record();
            return Err(RecordTooLarge {
                bytes: len,
                cap: self.limits.max_json_bytes,
            });
        }
        let over_bytes = self.buf.len() + 1 > self.limits.max_json_bytes;
        if self.records > 0 && (over_bytes || self.records >= self.limits.max_records) {
            self.scratch.clear();
            self.scratch
                .extend_from_slice(&self.buf[self.record_start..]);
            self.buf.truncate(self.mark);
            self.seal();
            self.buf.push(b'[');
            self.record_start = 1;
            self.buf.extend_from_slice(&self.scratch);
        }
        self.records += 1;
        self.log_size += log_size;
        Ok(())
    }

    /// The JSON of the record committed last (exactly the bytes inside the batch).
    #[must_use]
    pub fn last_record(&self) -> &[u8] {
        self.buf.get(self.record_start..).unwrap_or_default()
    }

    /// A sealed batch, if one is waiting. Call after every line to keep memory bounded.
    pub fn pop_ready(&mut self) -> Option<UploadBatch> {
        self.ready.pop_front()
    }

    /// Seals what is open (if anything) and returns every batch not yet popped.
    pub fn finish(&mut self) -> Vec<UploadBatch> {
        if self.records > 0 {
            self.seal();
        }
        self.ready.drain(..).collect()
    }

    /// Records in the open batch.
    #[must_use]
    pub fn pending_records(&self) -> usize {
        self.records
    }

    /// Batches sealed so far (popped or not).
    #[must_use]
    pub fn sealed_batches(&self) -> usize {
        self.sealed
    }

    fn seal(&mut self) {
        self.buf.push(b']');
        let mut gz = GzEncoder::new(
            Vec::with_capacity(self.buf.len() / 8 + 64),
            Compression::new(self.limits.gzip_level.min(9)),
        );
        // Writing to a Vec cannot fail.
        let body = gz
            .write_all(&self.buf)
            .and_then(|()| gz.finish())
            .unwrap_or_default();
        self.ready.push_back(UploadBatch {
            body: Bytes::from(body),
            log_size: self.log_size,
            records: self.records,
            json_bytes: self.buf.len(),
        });
        self.sealed += 1;
        self.buf.clear();
        self.records = 0;
        self.log_size = 0;
        self.record_start = 0;
    }
}

impl Default for Batcher {
    fn default() -> Self {
        Self::new(BatchLimits::default())
    }
}

#[cfg(test)]
mod tests {
    use super::{BatchLimits, Batcher};

    fn push(b: &mut Batcher, json: &str) -> Result<(), super::RecordTooLarge> {
        b.begin_record().extend_from_slice(json.as_bytes());
        b.commit_record(json.len() as u64)
    }

    #[test]
    fn a_record_that_does_not_fit_starts_the_next_batch() {
        let mut b = Batcher::new(BatchLimits {
            max_json_bytes: 20,
            max_records: 10,
            gzip_level: 1,
        });
        for json in ["{\"a\":\"1\"}", "{\"b\":\"2\"}", "{\"c\":\"3\"}"] {
            push(&mut b, json).expect("fits");
        }
        let batches: Vec<_> = b.pop_ready().into_iter().chain(b.finish()).collect();
        let sizes: Vec<_> = batches.iter().map(|x| (x.records, x.json_bytes)).collect();
        assert_eq!(sizes, vec![(1, 11), (1, 11), (1, 11)]);
    }

    #[test]
    fn a_record_larger_than_the_cap_is_rejected_and_the_batch_stays_valid() {
        let mut b = Batcher::new(BatchLimits {
            max_json_bytes: 12,
            max_records: 10,
            gzip_level: 1,
        });
        push(&mut b, "{\"a\":\"1\"}").expect("fits");
        assert!(push(&mut b, "{\"a\":\"0123456789\"}").is_err());
        let batches = b.finish();
        assert_eq!(
            batches.iter().map(|x| x.records).collect::<Vec<_>>(),
            vec![1]
        );
        assert_eq!(batches[0].json_bytes, 11);
    }
}
