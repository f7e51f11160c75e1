//! Upload batches: gzip-compressed JSON arrays of records within Site24x7's limits.
//!
//! Records are written into a small staging buffer that stays in the core's cache, and moved
//! into the open batch's JSON buffer in large copies (see [`STAGE_BYTES`] for why). When a
//! record would push the batch past a cap, the batch is sealed without it (the record moves
//! to the next batch) and queued. Caps: 5,000,000 bytes of JSON like Site24x7's Fluentd and
//! Logstash plugins, and 5,000 records like its Azure collector (about 1.7 MB of flow-log JSON, so requests stay small
//! enough to retry cheaply). A single record whose JSON alone exceeds the byte cap is
//! **rejected and counted** (an unparsable line with reason "record too large"), never
//! truncated: a truncated flow record would be wrong data.
//!
//! Sealing and compressing are separate steps: [`Batcher::pop_sealed`] hands out the JSON so
//! the pipeline can gzip batches on every core while the next ones are parsed;
//! [`Batcher::pop_ready`] compresses in place for callers that need no parallelism.
//! Compression is libdeflate: whole-buffer, so for the same CPU it gives smaller bodies than
//! streaming zlib; BENCHMARKS.md has the measurements behind the default level.

use std::collections::VecDeque;
use std::io::Write as _;
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use libdeflater::{CompressionLvl, Compressor};

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

/// A sealed batch before compression: the JSON array and what its request will declare.
#[derive(Debug, Clone)]
pub struct SealedBatch {
    /// The JSON array, brackets included.
    pub json: Vec<u8>,
    /// Site24x7's `Log-Size` header for it.
    pub log_size: u64,
    /// How many records the array holds.
    pub records: usize,
}

impl SealedBatch {
    /// Gzips the JSON at `level` (see [`gzip`]) into the request body.
    #[must_use]
    pub fn compress(&self, level: u32) -> UploadBatch {
        UploadBatch {
            body: Bytes::from(gzip(&self.json, level)),
            log_size: self.log_size,
            records: self.records,
            json_bytes: self.json.len(),
        }
    }
}

/// Default cap on a batch's uncompressed JSON, as Site24x7's own plugins use.
pub const DEFAULT_MAX_JSON_BYTES: usize = 5_000_000;
/// Default cap on records per batch.
pub const DEFAULT_MAX_RECORDS: usize = 5_000;
/// Default gzip level of upload bodies (0–12; chosen by measurement in BENCHMARKS.md).
pub const DEFAULT_GZIP_LEVEL: u32 = 6;
/// Highest gzip level (libdeflate's 10–12 search hardest, for little gain on flow logs).
pub const MAX_GZIP_LEVEL: u32 = 12;

/// Caps and compression of batches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchLimits {
    /// Most bytes of JSON (the whole array, brackets included) in one batch.
    pub max_json_bytes: usize,
    /// Most records in one batch (at least 1).
    pub max_records: usize,
    /// Gzip level 0–12 (0 stores; above 12 counts as 12).
    pub gzip_level: u32,
}

impl Default for BatchLimits {
    fn default() -> Self {
        Self {
            max_json_bytes: DEFAULT_MAX_JSON_BYTES,
            max_records: DEFAULT_MAX_RECORDS,
            gzip_level: DEFAULT_GZIP_LEVEL,
        }
    }
}

/// A libdeflate compressor with its level and its output space, reused across batches.
struct PooledCompressor {
    level: u32,
    compressor: Compressor,
    scratch: Vec<u8>,
}

/// Idle compressors. Making one costs more than compressing a small batch, and each holds a
/// batch-sized output buffer, so they are shared by whichever thread compresses next: there are
/// only ever as many as batches compressed at once (the pipeline bounds that to the cores).
static IDLE_COMPRESSORS: Mutex<Vec<PooledCompressor>> = Mutex::new(Vec::new());

/// Idle compressors kept at most (several levels in one process, e.g. the benchmark's sweep).
const MAX_IDLE_COMPRESSORS: usize = 16;

/// Idle batch JSON buffers, kept for reuse. A fresh megabyte-sized buffer costs a page fault
/// per 4 KiB every time it is filled; a reused one is already mapped.
static IDLE_BUFFERS: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// Idle buffers kept at most: a few per core are in use at once.
const MAX_IDLE_BUFFERS: usize = 8;

/// Buffers smaller than this are not worth keeping.
const MIN_KEPT_BUFFER: usize = 64 * 1024;

/// An empty buffer of at least `capacity` bytes, reused when one is idle.
fn take_buffer(capacity: usize) -> Vec<u8> {
    let idle = IDLE_BUFFERS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .pop();
    match idle {
        Some(mut buf) => {
            buf.clear();
            buf.reserve(capacity);
            buf
        }
        None => Vec::with_capacity(capacity),
    }
}

/// Gives a buffer back for [`take_buffer`].
fn recycle_buffer(buf: Vec<u8>) {
    if buf.capacity() < MIN_KEPT_BUFFER {
        return;
    }
    let mut idle = IDLE_BUFFERS.lock().unwrap_or_else(PoisonError::into_inner);
    if idle.len() < MAX_IDLE_BUFFERS {
        idle.push(buf);
    }
}

/// Gzips `data` at `level` (0–12, clamped): one gzip member, no name, no mtime, so equal input
/// gives equal bytes. The one compressor of upload bodies, also used by the benchmark floor.
#[must_use]
pub fn gzip(data: &[u8], level: u32) -> Vec<u8> {
    let level = level.min(MAX_GZIP_LEVEL);
    let idle = {
        let mut pool = IDLE_COMPRESSORS
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        pool.iter()
            .position(|c| c.level == level)
            .map(|i| pool.swap_remove(i))
    };
    let mut this = idle.unwrap_or_else(|| PooledCompressor {
        level,
        // In range by the clamp above, so the default is never taken.
        compressor: Compressor::new(CompressionLvl::new(level as i32).unwrap_or_default()),
        scratch: Vec::new(),
    });
    let bound = this.compressor.gzip_compress_bound(data.len());
    if this.scratch.len() < bound {
        this.scratch.resize(bound, 0);
    }
    let body = match this.compressor.gzip_compress(data, &mut this.scratch) {
        // Copied out at its size: the output space stays with the compressor.
        Ok(written) => this.scratch[..written].to_vec(),
        // Not expected (the space is libdeflate's own worst case); never send an empty body.
        Err(_) => gzip_streaming(data, level),
    };
    let mut pool = IDLE_COMPRESSORS
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if pool.len() >= MAX_IDLE_COMPRESSORS {
        pool.remove(0);
    }
    pool.push(this);
    body
}

/// The same gzip through flate2's streaming encoder (levels above 9 count as 9).
fn gzip_streaming(data: &[u8], level: u32) -> Vec<u8> {
    let mut encoder = GzEncoder::new(
        Vec::with_capacity(data.len() / 8 + 64),
        Compression::new(level.min(9)),
    );
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(data);
    encoder.finish().unwrap_or_default()
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
    /// Where the open batch's newest records are written (see [`STAGE_BYTES`]); `buf` holds
    /// the ones before.
    stage: Vec<u8>,
    /// In `stage`: where the open record's separator starts, and where its JSON starts.
    mark: usize,
    record_start: usize,
    scratch: Vec<u8>,
    ready: VecDeque<SealedBatch>,
    sealed: usize,
}

/// Records are written into a small buffer that stays in the core's cache, and moved into the
/// batch this many bytes at a time. Written record by record, a batch's megabytes cost a miss
/// per cache line whenever another core last held that memory (the batch before, compressed
/// there): measured, that made writing records three times dearer inside `forward` than in
/// `parse`. One large copy moves whole cache lines instead.
const STAGE_BYTES: usize = 32 * 1024;

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
            buf: take_buffer(limits.max_json_bytes.min(1 << 20)),
            records: 0,
            log_size: 0,
            stage: Vec::with_capacity(2 * STAGE_BYTES),
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
        if self.stage.len() >= STAGE_BYTES {
            self.buf.extend_from_slice(&self.stage);
            self.stage.clear();
        }
        self.mark = self.stage.len();
        self.stage.push(if self.records == 0 { b'[' } else { b',' });
        self.record_start = self.stage.len();
        &mut self.stage
    }

    /// Drops the record opened by [`Batcher::begin_record`].
    pub(crate) fn abort_record(&mut self) {
        self.stage.truncate(self.mark);
    }

    /// Closes the open record, sealing the current batch first if the record does not fit.
    ///
    /// # Errors
    /// [`RecordTooLarge`] when the record alone exceeds the byte cap (it is removed).
    pub(crate) fn commit_record(&mut self, log_size: u64) -> Result<(), RecordTooLarge> {
        let len = self.stage.len() - self.record_start;
        if len + 2 > self.limits.max_json_bytes {
            self.abort_record();
            return Err(RecordTooLarge {
                bytes: len,
                cap: self.limits.max_json_bytes,
            });
        }
        let over_bytes = self.buf.len() + self.stage.len() + 1 > self.limits.max_json_bytes;
        if self.records > 0 && (over_bytes || self.records >= self.limits.max_records) {
            self.scratch.clear();
            self.scratch
                .extend_from_slice(&self.stage[self.record_start..]);
            self.stage.truncate(self.mark);
            self.seal();
            self.stage.push(b'[');
            self.record_start = 1;
            self.stage.extend_from_slice(&self.scratch);
        }
        self.records += 1;
        self.log_size += log_size;
        Ok(())
    }

    /// The JSON of the record committed last (exactly the bytes inside the batch).
    #[must_use]
    pub fn last_record(&self) -> &[u8] {
        self.stage.get(self.record_start..).unwrap_or_default()
    }

    /// A sealed batch, compressed, if one is waiting. Call after every line to keep memory
    /// bounded.
    pub fn pop_ready(&mut self) -> Option<UploadBatch> {
        let level = self.limits.gzip_level;
        self.pop_sealed().map(|batch| batch.compress(level))
    }

    /// A sealed batch, not yet compressed, if one is waiting (for compressing elsewhere).
    pub fn pop_sealed(&mut self) -> Option<SealedBatch> {
        self.ready.pop_front()
    }

    /// Seals what is open (if anything) and returns every batch not yet popped, compressed.
    pub fn finish(&mut self) -> Vec<UploadBatch> {
        let level = self.limits.gzip_level;
        self.finish_sealed()
            .iter()
            .map(|batch| batch.compress(level))
            .collect()
    }

    /// Seals what is open (if anything) and returns every batch not yet popped, uncompressed.
    pub fn finish_sealed(&mut self) -> Vec<SealedBatch> {
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
        self.buf.extend_from_slice(&self.stage);
        self.stage.clear();
        self.buf.push(b']');
        // The next batch starts with room for one like this one, so it grows no more.
        let capacity = self.buf.capacity();
        let json = std::mem::replace(&mut self.buf, take_buffer(capacity));
        self.ready.push_back(SealedBatch {
            json,
            log_size: self.log_size,
            records: self.records,
        });
        self.sealed += 1;
        self.records = 0;
        self.log_size = 0;
        self.record_start = 0;
    }
}

/// Every sealed batch, whoever compressed it (the pipeline, [`Batcher::pop_ready`], a dry
/// run), gives its JSON buffer back for the next batch.
impl Drop for SealedBatch {
    fn drop(&mut self) {
        recycle_buffer(std::mem::take(&mut self.json));
    }
}

impl Drop for Batcher {
    fn drop(&mut self) {
        recycle_buffer(std::mem::take(&mut self.buf));
    }
}

impl Default for Batcher {
    fn default() -> Self {
        Self::new(BatchLimits::default())
    }
}

#[cfg(test)]
mod tests {
    use super::{BatchLimits, Batcher, gzip, gzip_streaming};

    /// The test inputs are UTF-8 JSON.
    fn gunzip(body: &[u8]) -> Vec<u8> {
        std::io::read_to_string(flate2::read::GzDecoder::new(body))
            .expect("valid gzip of UTF-8")
            .into_bytes()
    }

    #[test]
    fn every_level_gives_gzip_that_decodes_to_the_input_and_is_deterministic() {
        let json: Vec<u8> = (0..2000)
            .flat_map(|i| format!("{{\"srcport\":\"{i}\",\"action\":\"ACCEPT\"}},").into_bytes())
            .collect();
        for level in 0..=13 {
            let body = gzip(&json, level);
            assert_eq!(gunzip(&body), json, "level {level}");
            assert_eq!(gzip(&json, level), body, "level {level} twice");
        }
        assert!(gzip(&json, 6).len() < json.len() / 10);
        assert_eq!(gunzip(&gzip(b"", 6)), b"");
        assert_eq!(gunzip(&gzip_streaming(&json, 12)), json);
    }

    #[test]
    fn pooled_compressors_give_correct_bodies_on_every_thread() {
        let json = b"[{\"a\":\"1\"}]".repeat(100);
        let bodies: Vec<Vec<u8>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|_| scope.spawn(|| (0..20).map(|_| gzip(&json, 6)).collect::<Vec<_>>()))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("no panic"))
                .collect()
        });
        // A compressor handed between threads keeps no state from its last batch.
        assert_eq!(bodies.len(), 80);
        assert!(bodies.iter().all(|b| gunzip(b) == json));
    }

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
    fn batches_written_through_the_stage_hold_every_record_once_in_order() {
        let cap = 100_000;
        let mut b = Batcher::new(BatchLimits {
            max_json_bytes: cap,
            max_records: 10_000,
            gzip_level: 1,
        });
        let records: Vec<String> = (0..5000)
            .map(|i| format!("{{\"n\":\"{i:0>90}\"}}"))
            .collect();
        let mut sealed = Vec::new();
        for (i, record) in records.iter().enumerate() {
            if i % 7 == 3 {
                // A filtered line: begun, then dropped.
                b.begin_record().extend_from_slice(b"{\"dropped\":\"1\"}");
                b.abort_record();
            }
            push(&mut b, record).expect("fits");
            assert_eq!(b.last_record(), record.as_bytes());
            sealed.extend(std::iter::from_fn(|| b.pop_sealed()));
        }
        sealed.extend(b.finish_sealed());
        let mut seen = Vec::new();
        for batch in &sealed {
            assert!(batch.json.len() <= cap);
            let values: Vec<serde_json::Value> =
                serde_json::from_slice(&batch.json).expect("a JSON array");
            assert_eq!(values.len(), batch.records);
            seen.extend(values.iter().map(ToString::to_string));
        }
        assert_eq!(seen, records);
        // Sealed by bytes, full to within a record, each after several moves out of the stage.
        assert!(sealed[0].json.len() > cap - 100 && cap > 3 * super::STAGE_BYTES);
    }

    #[test]
    fn a_reused_buffer_starts_empty() {
        super::recycle_buffer(vec![b'x'; super::MIN_KEPT_BUFFER]);
        assert!(super::take_buffer(16).is_empty());
        // Through batches: each round's batch is dropped, so the next may get its buffer.
        let big = "x".repeat(super::MIN_KEPT_BUFFER);
        for round in 0..3 {
            let mut b = Batcher::default();
            push(&mut b, &format!("{{\"r\":\"{round}{big}\"}}")).expect("fits");
            let batch = b.finish_sealed().remove(0);
            let upload = batch.compress(1);
            drop(batch);
            let json = String::from_utf8(gunzip(&upload.body)).expect("UTF-8");
            assert_eq!(json, format!("[{{\"r\":\"{round}{big}\"}}]"));
        }
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
