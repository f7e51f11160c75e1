//! Per-object progress markers: a retried invocation resumes where the last
//! one stopped instead of resending, and a duplicate notification for an
//! object already delivered is skipped.
//!
//! # The guarantee (duplicates are preferred over loss)
//! - One marker per object (bucket + key) in a [`StateStore`] under
//!   `progress/`, recording the object's ETag, how many leading batches are
//!   *settled* and the last line number they cover, and `completed`.
//! - A batch is settled once Site24x7 accepted it (200 with `x-uploadid`) or
//!   its dead letter is durably stored. The marker only ever covers a
//!   contiguous prefix of settled batches ([`ProgressTracker::settled`] takes
//!   acknowledgements in any order), so **no line past the marker is ever
//!   skipped: nothing is lost by resuming**.
//! - Lines are 1-based physical lines of the decompressed object, header
//!   included. A resumed run reads the object from the start (it still needs
//!   the header for the field list), and sends only records from lines after
//!   [`ProgressMarker::lines_done`]; batches are numbered on from
//!   `batches_done`.
//! - **What can still duplicate**: the batches settled after the last
//!   completed marker write and before a crash or timeout: those not yet due
//!   (at most `save_every - 1`), those settled while a write was on its way
//!   (the pipeline writes beside its uploads, one write at a time, see
//!   [`ProgressTracker::due_write`]), and those acknowledged out of order
//!   beyond the prefix (bounded by the pipeline's in-flight limit). Also: a
//!   marker write that fails (logged, not fatal: resending is safe), a corrupt
//!   marker (treated as absent with a warning), two invocations running the
//!   same object at the same time (a marker is not a lock), and markers
//!   expired by a lifecycle rule.
//! - A `completed` marker for the same ETag means a duplicate notification is
//!   skipped. A different ETag (the object was overwritten) starts from zero.
//! - Key the marker by the ETag GetObject returned
//!   ([`crate::source::ObjectMeta::etag`]): the event's ETag may describe an
//!   older version than the bytes being read.
//! - Markers are small and kept after completion so duplicates can be
//!   recognised; an S3 lifecycle rule expiring `progress/` after a few days
//!   (longer than Lambda's 6 h maximum event age) keeps them from piling up.

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::state::{StateError, StateStore};

/// Folder of progress markers inside the state store.
pub const PROGRESS_PREFIX: &str = "progress/";
const FORMAT: u32 = 1;

/// How far one version of one object got.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressMarker {
    /// Layout version of this document (1).
    pub format: u32,
    /// Source bucket.
    pub bucket: String,
    /// Source key (decoded).
    pub key: String,
    /// The object version this progress belongs to (ETag without quotes).
    pub etag: String,
    /// The S3 version id the event named, on a versioned bucket: markers of versions of one
    /// key are kept apart, so a late notification of an older version resumes its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// Leading batches settled (accepted or dead-lettered): the next batch
    /// to send has this index.
    pub batches_done: u64,
    /// Last line number covered by those batches (0 = none).
    pub lines_done: u64,
    /// Records in those batches, for accounting across invocations.
    pub records_done: u64,
    /// Of those batches, how many went to dead letters.
    pub dead_lettered_batches: u64,
    /// Every line of the object was settled.
    pub completed: bool,
    /// Last write, RFC 3339 UTC.
    pub updated_at: String,
}

impl ProgressMarker {
    /// A marker at the very start of an object version.
    pub fn start(bucket: &str, key: &str, etag: &str) -> Self {
        Self {
            format: FORMAT,
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            etag: etag.to_owned(),
            version_id: None,
            batches_done: 0,
            lines_done: 0,
            records_done: 0,
            dead_lettered_batches: 0,
            completed: false,
            updated_at: String::new(),
        }
    }

    /// The same marker for S3 version `version_id` (when the bucket keeps versions).
    #[must_use]
    pub fn with_version(mut self, version_id: Option<&str>) -> Self {
        self.version_id = version_id.map(str::to_owned);
        self
    }
}

/// What to do with an object, from its marker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resume {
    /// Start at the beginning (no usable marker); says why.
    Start(StartReason),
    /// Skip lines up to `lines_done`, number batches from `batches_done`.
    Continue(ProgressMarker),
    /// Already delivered: a duplicate notification, skip the object.
    Done(ProgressMarker),
}

/// Why an object starts from zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartReason {
    /// Never seen.
    NoMarker,
    /// The marker belongs to an older version of the object.
    EtagChanged {
        /// The ETag the marker had.
        previous: String,
    },
    /// The marker could not be read; ignoring it can only duplicate.
    Corrupt {
        /// What is wrong with it.
        reason: String,
    },
}

/// A marker could not be read from or written to the store.
#[derive(Debug, thiserror::Error)]
#[error("progress marker for s3://{bucket}/{key} in {location}: {source}")]
pub struct ProgressError {
    /// Source bucket.
    pub bucket: String,
    /// Source key.
    pub key: String,
    /// The store's location.
    pub location: String,
    /// The store error.
    #[source]
    pub source: StateError,
}

/// Progress markers in a [`StateStore`].
#[derive(Debug, Clone)]
pub struct ProgressStore {
    store: StateStore,
}

impl ProgressStore {
    /// Markers kept in `store` under `progress/`.
    pub fn new(store: StateStore) -> Self {
        Self { store }
    }

    /// The store key of an object's marker (a digest of bucket and key).
    pub fn marker_key(bucket: &str, key: &str) -> String {
        Self::version_marker_key(bucket, key, None)
    }

    /// The store key of the marker of one version of an object (of the object itself when
    /// `version_id` is `None`, as for unversioned buckets).
    pub fn version_marker_key(bucket: &str, key: &str, version_id: Option<&str>) -> String {
        let mut hash = Sha256::new();
        hash.update(bucket.as_bytes());
        hash.update([0]);
        hash.update(key.as_bytes());
        if let Some(version) = version_id {
            hash.update([0]);
            hash.update(version.as_bytes());
        }
        format!(
            "{PROGRESS_PREFIX}{}.json",
            hex::encode(&hash.finalize()[..16])
        )
    }

    /// Reads the marker of `bucket`/`key` and decides for version `etag`.
    /// A corrupt marker is logged and treated as absent.
    ///
    /// # Errors
    /// [`ProgressError`] when the store cannot be read (the caller may then
    /// start from zero: that only duplicates).
    pub async fn load(&self, bucket: &str, key: &str, etag: &str) -> Result<Resume, ProgressError> {
        self.load_version(bucket, key, None, etag).await
    }

    /// As [`ProgressStore::load`], for S3 version `version_id` of the object.
    ///
    /// # Errors
    /// [`ProgressError`] when the store cannot be read.
    pub async fn load_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        etag: &str,
    ) -> Result<Resume, ProgressError> {
        let raw = self
            .store
            .get(&Self::version_marker_key(bucket, key, version_id))
            .await
            .map_err(|e| self.error(bucket, key, e))?;
        let Some(raw) = raw else {
            return Ok(Resume::Start(StartReason::NoMarker));
        };
        let marker = match serde_json::from_slice::<ProgressMarker>(&raw) {
            Ok(m)
                if m.format == FORMAT
                    && m.bucket == bucket
                    && m.key == key
                    && m.version_id.as_deref() == version_id =>
            {
                m
            }
            Ok(m) if m.format != FORMAT => {
                return Ok(corrupt(bucket, key, format!("unknown format {}", m.format)));
            }
            Ok(_) => return Ok(corrupt(bucket, key, "it names another object".to_owned())),
            Err(e) => return Ok(corrupt(bucket, key, e.to_string())),
        };
        Ok(if marker.etag != etag {
            Resume::Start(StartReason::EtagChanged {
                previous: marker.etag,
            })
        } else if marker.completed {
            Resume::Done(marker)
        } else {
            Resume::Continue(marker)
        })
    }

    /// Writes a marker (stamping `updated_at`).
    ///
    /// # Errors
    /// [`ProgressError`] when the write fails.
    pub async fn save(&self, marker: &ProgressMarker) -> Result<(), ProgressError> {
        let mut marker = marker.clone();
        marker.updated_at = crate::deadletter::now_rfc3339();
        let body = serde_json::to_vec(&marker).unwrap_or_default();
        self.store
            .put(
                &Self::version_marker_key(
                    &marker.bucket,
                    &marker.key,
                    marker.version_id.as_deref(),
                ),
                Bytes::from(body),
            )
            .await
            .map_err(|e| self.error(&marker.bucket, &marker.key, e))
    }

    /// Removes the marker of `bucket`/`key`.
    ///
    /// # Errors
    /// [`ProgressError`] when the delete fails.
    pub async fn clear(&self, bucket: &str, key: &str) -> Result<(), ProgressError> {
        self.store
            .delete(&Self::marker_key(bucket, key))
            .await
            .map_err(|e| self.error(bucket, key, e))
    }

    fn error(&self, bucket: &str, key: &str, source: StateError) -> ProgressError {
        ProgressError {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            location: self.store.location(),
            source,
        }
    }
}

fn corrupt(bucket: &str, key: &str, reason: String) -> Resume {
    tracing::warn!(bucket, key, %reason, "progress marker unreadable; starting the object from zero");
    Resume::Start(StartReason::Corrupt { reason })
}

/// A marker write running beside the pipeline (see [`ProgressTracker::due_write`]).
pub type MarkerWrite =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), ProgressError>> + Send>>;

/// Keeps one object's marker up to date while its batches are settled,
/// writing it every `save_every` prefix advances.
#[derive(Debug)]
pub struct ProgressTracker {
    store: ProgressStore,
    marker: ProgressMarker,
    save_every: u64,
    unsaved: u64,
    /// Settled batches beyond the contiguous prefix: index → (last line, records, dead-lettered).
    ahead: BTreeMap<u64, (u64, u64, bool)>,
}

impl ProgressTracker {
    /// Tracks from `marker` (a [`Resume::Continue`] marker or
    /// [`ProgressMarker::start`]); `save_every` ≥ 1 (1 = after every batch).
    pub fn new(store: ProgressStore, marker: ProgressMarker, save_every: u64) -> Self {
        Self {
            store,
            marker,
            save_every: save_every.max(1),
            unsaved: 0,
            ahead: BTreeMap::new(),
        }
    }

    /// The marker as it stands (possibly not yet written).
    pub fn marker(&self) -> &ProgressMarker {
        &self.marker
    }

    /// Records that batch `index` (covering lines up to `last_line`, holding
    /// `records`) was accepted, or dead-lettered, and writes the marker when due.
    /// Acknowledgements may come in any order; the marker advances over the
    /// contiguous prefix only.
    ///
    /// # Errors
    /// [`ProgressError`] when a due write fails (delivery can go on: the cost
    /// is duplicates after a crash).
    pub async fn settled(
        &mut self,
        index: u64,
        last_line: u64,
        records: u64,
        dead_lettered: bool,
    ) -> Result<(), ProgressError> {
        self.record(index, last_line, records, dead_lettered);
        match self.due_write() {
            Some(write) => write.await,
            None => Ok(()),
        }
    }

    /// [`ProgressTracker::settled`] without the write: for a pipeline that writes markers
    /// beside its uploads (see [`ProgressTracker::due_write`]).
    pub fn record(&mut self, index: u64, last_line: u64, records: u64, dead_lettered: bool) {
        if index < self.marker.batches_done {
            return;
        }
        self.ahead
            .insert(index, (last_line, records, dead_lettered));
        while let Some((last_line, records, dead)) = self.ahead.remove(&self.marker.batches_done) {
            self.marker.batches_done += 1;
            self.marker.lines_done = self.marker.lines_done.max(last_line);
            self.marker.records_done += records;
            self.marker.dead_lettered_batches += u64::from(dead);
            self.unsaved += 1;
        }
    }

    /// The write of the marker as it stands, when `save_every` advances are unsaved: a task
    /// owning a snapshot, so the pipeline goes on while it runs (one at a time, so writes land
    /// in order; batches settled meanwhile go into the next). After a failed write call
    /// [`ProgressTracker::write_failed`].
    pub fn due_write(&mut self) -> Option<MarkerWrite> {
        if self.unsaved < self.save_every {
            return None;
        }
        self.unsaved = 0;
        let store = self.store.clone();
        let marker = self.marker.clone();
        Some(Box::pin(async move { store.save(&marker).await }))
    }

    /// A write from [`ProgressTracker::due_write`] failed: the next one is due at once.
    pub fn write_failed(&mut self) {
        self.unsaved = self.unsaved.max(self.save_every);
    }

    /// Writes the marker now if anything changed since the last write.
    ///
    /// # Errors
    /// [`ProgressError`] when the write fails.
    pub async fn flush(&mut self) -> Result<(), ProgressError> {
        if self.unsaved > 0 {
            self.store.save(&self.marker).await?;
            self.unsaved = 0;
        }
        Ok(())
    }

    /// Marks the object delivered (call once every batch is settled) and
    /// writes the marker.
    ///
    /// # Errors
    /// [`ProgressError`] when the write fails.
    /// If a batch is still missing from the prefix (a pipeline bug), the
    /// marker is written as not completed, so a retry resends instead of
    /// losing.
    pub async fn complete(mut self, total_lines: u64) -> Result<ProgressMarker, ProgressError> {
        if self.ahead.is_empty() {
            self.marker.lines_done = self.marker.lines_done.max(total_lines);
            self.marker.completed = true;
        } else {
            tracing::error!(
                bucket = %self.marker.bucket,
                key = %self.marker.key,
                missing_batch = self.marker.batches_done,
                "object finished with an unsettled batch; marker left incomplete"
            );
        }
        self.store.save(&self.marker).await?;
        Ok(self.marker)
    }
}
