//! The files of the simulated service: each line goes to the open file of its 5-minute `end`
//! window, flow log and writer; a file rotates before its text would pass the size limit; a
//! closed file is compressed (gzip text) or finished (Parquet), named, given a delivery time,
//! and queued in delivery order.

use std::collections::BTreeMap;
use std::io::Write as _;

use bytes::Bytes;
use flate2::{Compression, GzBuilder, write::GzEncoder};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::destination::KeyParts;
use super::digest::{RecordsDigest, joined_line_digest};
use super::manifest::{ByAction, ByLogStatus, ObjectSummary};
use super::options::GenerateOptions;
use super::parquet_file::{ParquetFile, ParquetLayout};
use super::record::Status;
use super::service::{FlowLogObject, WINDOW_SECS};
use super::topology::Source;

/// The earliest a file is delivered after its last interval closed, and the spread after that.
pub(crate) const MIN_DELAY: i64 = 60;
const DELAY_SPREAD: i64 = 480;
/// Text is handed to the gzip encoder in chunks of about this size.
const CHUNK: usize = 32 * 1024;

/// Which open file a line goes to: (window start, flow log, writer).
pub(crate) type FileKey = (i64, usize, u32);

/// The body of a file being written.
enum Body {
    Text {
        encoder: GzEncoder<Vec<u8>>,
        /// Lines not yet compressed: the encoder is fed in large chunks (its per-call CRC and
        /// deflate overheads dominate with one call per line).
        pending: Vec<u8>,
    },
    Parquet(ParquetFile),
}

/// One file being written.
struct FileBuilder {
    source: usize,
    window: i64,
    part: u32,
    body: Body,
    /// Size of the file's text (header and newlines included), whatever its format.
    raw_bytes: u64,
    records: u64,
    by_action: ByAction,
    by_status: ByLogStatus,
    first_end: i64,
    last_end: i64,
    digest: RecordsDigest,
}

/// The files of every flow log: open ones by [`FileKey`], and closed ones waiting for their
/// delivery time.
pub(crate) struct Files {
    options: GenerateOptions,
    sources: Vec<Source>,
    header: Vec<u8>,
    fields: Vec<String>,
    parquet: Option<ParquetLayout>,
    open: BTreeMap<FileKey, FileBuilder>,
    ready: BTreeMap<(i64, String), FlowLogObject>,
    files_rng: ChaCha8Rng,
}

impl Files {
    /// Files of `fields` (the header's names) for `sources`; Parquet when `parquet` is given.
    pub(crate) fn new(
        options: &GenerateOptions,
        sources: Vec<Source>,
        fields: Vec<String>,
        parquet: Option<ParquetLayout>,
        files_rng: ChaCha8Rng,
    ) -> Self {
        let mut header = fields.join(" ").into_bytes();
        header.push(b'\n');
        Self {
            options: options.clone(),
            sources,
            header,
            fields,
            parquet,
            open: BTreeMap::new(),
            ready: BTreeMap::new(),
            files_rng,
        }
    }

    /// Adds one line (with its `\n`) of a record ending at `end`.
    pub(crate) fn add(
        &mut self,
        key: FileKey,
        line: &[u8],
        end: i64,
        action: &str,
        status: Status,
    ) {
        let len = line.len() as u64;
        let rotate = self.open.get(&key).is_some_and(|b| {
            b.records > 0 && b.raw_bytes + len > self.options.service.rotate_bytes
        });
        let window = key.0;
        if rotate && let Some(full) = self.open.remove(&key) {
            let part = full.part;
            let flush = align_up(
                window + WINDOW_SECS,
                i64::from(self.options.service.aggregation),
            );
            self.finish(full, flush);
            let next = self.builder(key.1, window, part + 1);
            self.open.insert(key, next);
        }
        if !self.open.contains_key(&key) {
            let b = self.builder(key.1, window, 0);
            self.open.insert(key, b);
        }
        let Some(b) = self.open.get_mut(&key) else {
            return;
        };
        let text = &line[..line.len() - 1];
        match &mut b.body {
            Body::Text { encoder, pending } => {
                pending.extend_from_slice(line);
                if pending.len() >= CHUNK {
                    // Writing into a Vec cannot fail.
                    let _ = encoder.write_all(pending);
                    pending.clear();
                }
            }
            Body::Parquet(file) => file.add_line(text),
        }
        b.raw_bytes += len;
        b.records += 1;
        b.first_end = b.first_end.min(end);
        b.last_end = b.last_end.max(end);
        b.digest.add(joined_line_digest(text));
        match action {
            "ACCEPT" => b.by_action.accept += 1,
            "REJECT" => b.by_action.reject += 1,
            _ => b.by_action.none += 1,
        }
        match status {
            Status::Ok => b.by_status.ok += 1,
            Status::NoData => b.by_status.nodata += 1,
            Status::SkipData => b.by_status.skipdata += 1,
        }
    }

    fn builder(&self, source: usize, window: i64, part: u32) -> FileBuilder {
        let body = match &self.parquet {
            Some(layout) => Body::Parquet(ParquetFile::new(layout)),
            None => {
                let level = Compression::new(self.options.service.gzip_level);
                let encoder = GzBuilder::new()
                    .operating_system(255)
                    .write(Vec::with_capacity(64 * 1024), level);
                let mut pending = Vec::with_capacity(CHUNK + 1024);
                pending.extend_from_slice(&self.header);
                Body::Text { encoder, pending }
            }
        };
        FileBuilder {
            source,
            window,
            part,
            body,
            raw_bytes: self.header.len() as u64,
            records: 0,
            by_action: ByAction::default(),
            by_status: ByLogStatus::default(),
            first_end: i64::MAX,
            last_end: i64::MIN,
            digest: RecordsDigest::new(),
        }
    }

    /// Closes the files whose window ended by `t1` (the end of the interval just simulated).
    pub(crate) fn close_done(&mut self, t1: i64) {
        let done: Vec<_> = self
            .open
            .keys()
            .filter(|(w, _, _)| w + WINDOW_SECS <= t1)
            .copied()
            .collect();
        for k in done {
            if let Some(b) = self.open.remove(&k) {
                self.finish(b, t1);
            }
        }
    }

    /// Closes every open file (the period is over).
    pub(crate) fn close_all(&mut self) {
        let rest: Vec<_> = std::mem::take(&mut self.open).into_iter().collect();
        let agg = i64::from(self.options.service.aggregation);
        for ((w, _, _), b) in rest {
            self.finish(b, align_up(w + WINDOW_SECS, agg));
        }
    }

    /// The next object delivered by `until`, if any.
    pub(crate) fn pop_delivered(&mut self, until: i64) -> Option<FlowLogObject> {
        let entry = self.ready.first_entry()?;
        (entry.key().0 <= until).then(|| entry.remove())
    }

    /// Closes a file: names it, compresses or finishes it, and queues it for delivery.
    fn finish(&mut self, b: FileBuilder, flushed_at: i64) {
        let body = match b.body {
            Body::Text {
                mut encoder,
                pending,
            } => {
                // Writing into a Vec cannot fail.
                let _ = encoder.write_all(&pending);
                encoder.finish().unwrap_or_default()
            }
            Body::Parquet(file) => file.finish(),
        };
        let source = &self.sources[b.source];
        let hash: u32 = self.files_rng.random();
        let delivered_at = flushed_at + MIN_DELAY + self.files_rng.random_range(0..DELAY_SPREAD);
        let service = &self.options.service;
        let parts = KeyParts {
            account_id: &source.account_id,
            region: &source.region,
            flow_log_id: &source.flow_log_id,
            window_start: b.window,
            hash,
            file_format: service.file_format,
        };
        let key = service.layout.key(&service.destination.prefix, &parts);
        let summary = ObjectSummary {
            bucket: service.destination.bucket.clone(),
            key: key.clone(),
            fields: self.fields.clone(),
            records: b.records,
            by_action: b.by_action,
            by_log_status: b.by_status,
            first_end: b.first_end,
            last_end: b.last_end,
            gzip_bytes: body.len() as u64,
            raw_bytes: b.raw_bytes,
            records_digest: b.digest.to_hex(),
            window_start: b.window,
            delivered_at,
        };
        let object = FlowLogObject {
            bucket: summary.bucket.clone(),
            key: key.clone(),
            body: Bytes::from(body),
            delivered_at,
            summary,
        };
        self.ready.insert((delivered_at, key), object);
    }
}

/// `t` rounded up to a multiple of `step`.
pub(crate) fn align_up(t: i64, step: i64) -> i64 {
    (t + step - 1).div_euclid(step) * step
}
