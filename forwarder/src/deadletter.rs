//! Dead letters: batches that could not be delivered, kept with enough
//! context to replay them later, so nothing is lost silently.
//!
//! Each dead letter is two objects in a [`StateStore`] under `deadletter/`:
//! `{id}.json.gz`, the gzip payload exactly as it would be POSTed, and
//! `{id}.meta.json`, the headers and context (see [`DeadLetterMeta`]). The
//! payload is written first and the meta last, so a meta file means a
//! complete dead letter; deleting goes the other way round. A crash between
//! the two writes leaves an orphan payload that is never listed (and whose
//! batch, not being marked as settled, is sent again by the retried
//! invocation).
//!
//! The `apiKey` (`X-DeviceKey`) is never stored: the replaying process adds
//! its own, and [`DeadLetterStore::redacting`] scrubs the secret from every
//! stored text in case an error message quoted it. The upload URL is stored without
//! user, password or query values ([`crate::upload::redacted_url`]).
//!
//! Ids are deterministic per (bucket, key, ETag, batch index): the same batch
//! dead-lettered twice (a retried invocation) is stored once, not replayed twice.
//!
//! Replaying, with whatever sends a batch to Site24x7:
//!
//! ```no_run
//! # async fn demo(store: flowlog_forwarder::deadletter::DeadLetterStore) -> anyhow::Result<()> {
//! async fn upload(batch: flowlog_forwarder::batch::UploadBatch, log_type: &str) -> Result<(), String> {
//!     # let _ = (batch, log_type);
//!     Ok(()) // the upload client's call goes here
//! }
//! let report = store
//!     .replay(|letter| async move { upload(letter.to_batch(), &letter.context.log_type).await })
//!     .await?;
//! println!("replayed {} failed {} remaining {}", report.replayed, report.failed, report.remaining);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::batch::UploadBatch;
use crate::limits::excerpt;
use crate::secret::Secret;
use crate::state::{StateError, StateStore};

/// Folder of dead letters inside the state store.
pub const DEADLETTER_PREFIX: &str = "deadletter/";
const META_SUFFIX: &str = ".meta.json";
const BODY_SUFFIX: &str = ".json.gz";
const FORMAT: u32 = 1;

/// Where a failed batch came from and why it failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetterContext {
    /// Source bucket.
    pub bucket: String,
    /// Source key (decoded).
    pub key: String,
    /// Source ETag (without quotes), when known.
    pub etag: Option<String>,
    /// Source S3 version id, on versioned buckets (part of the id: versions never collide).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// 0-based index of the batch within the object.
    pub batch_index: u64,
    /// First line number (1-based) of the object in the batch.
    pub first_line: u64,
    /// Last line number in the batch.
    pub last_line: u64,
    /// The final error, as the upload client reported it.
    pub error: String,
    /// Upload attempts made.
    pub attempts: u32,
    /// When it was given up, RFC 3339 UTC (see [`now_rfc3339`]).
    pub failed_at: String,
    /// Site24x7 log type (`X-LogType`).
    pub log_type: String,
    /// Where it was POSTed (stored without credentials: [`crate::upload::redacted_url`]).
    pub upload_url: String,
}

/// A batch that could not be delivered: the payload as is plus its context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    /// Gzip of the JSON array, unchanged.
    pub body: Bytes,
    /// The `Log-Size` header value.
    pub log_size: u64,
    /// Records in the array.
    pub records: usize,
    /// Uncompressed JSON size.
    pub json_bytes: usize,
    /// Origin and failure.
    pub context: DeadLetterContext,
}

/// Stable name of a dead letter in the store.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeadLetterId(String);

impl DeadLetterId {
    /// The id as stored (32 hex characters).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeadLetterId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `.meta.json` document: everything but the payload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeadLetterMeta {
    /// Layout version of this document (1).
    pub format: u32,
    /// The dead letter's id.
    pub id: String,
    /// `Log-Size` header value.
    pub log_size: u64,
    /// Records in the payload.
    pub records: usize,
    /// Uncompressed JSON size.
    pub json_bytes: usize,
    /// Payload size in bytes, checked on read.
    pub body_bytes: usize,
    /// SHA-256 (hex) of the payload, checked on read.
    pub body_sha256: String,
    /// The request headers that go with the payload, minus `X-DeviceKey`.
    pub headers: BTreeMap<String, String>,
    /// Origin and failure.
    pub context: DeadLetterContext,
}

/// A dead-letter operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DeadLetterError {
    /// The store could not be read or written.
    #[error("dead letters in {location}: {source}")]
    Store {
        /// The store's location.
        location: String,
        /// The store error.
        #[source]
        source: StateError,
    },
    /// A stored dead letter is unreadable.
    #[error(
        "dead letter {id} in {location} is damaged: {reason}; inspect the files \
         `deadletter/{id}.*` and delete them once handled"
    )]
    Corrupt {
        /// Its id.
        id: String,
        /// The store's location.
        location: String,
        /// What is wrong.
        reason: String,
    },
}

/// The current time in RFC 3339 UTC with milliseconds, for `failed_at`.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl DeadLetter {
    /// A dead letter for a batch that failed with `context`.
    pub fn from_batch(batch: &UploadBatch, context: DeadLetterContext) -> Self {
        Self {
            body: batch.body.clone(),
            log_size: batch.log_size,
            records: batch.records,
            json_bytes: batch.json_bytes,
            context,
        }
    }

    /// The batch to send again.
    pub fn to_batch(&self) -> UploadBatch {
        UploadBatch {
            body: self.body.clone(),
            log_size: self.log_size,
            records: self.records,
            json_bytes: self.json_bytes,
        }
    }

    /// The deterministic id: the same batch of the same object version always
    /// gets the same id.
    pub fn id(&self) -> DeadLetterId {
        let c = &self.context;
        let mut hash = Sha256::new();
        for part in [
            c.bucket.as_str(),
            c.key.as_str(),
            c.etag.as_deref().unwrap_or(""),
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        // Unversioned objects keep the ids they always had.
        if let Some(version) = &c.version_id {
            hash.update(version.as_bytes());
            hash.update([0]);
        }
        hash.update(c.batch_index.to_be_bytes());
        DeadLetterId(hex::encode(&hash.finalize()[..16]))
    }

    /// The headers Site24x7 expects with this payload, except `X-DeviceKey`
    /// (which the sender adds from its own configuration).
    pub fn headers(&self) -> BTreeMap<String, String> {
        [
            ("X-LogType", self.context.log_type.clone()),
            ("X-StreamMode", "1".to_owned()),
            ("Log-Size", self.log_size.to_string()),
            ("Content-Type", "application/json".to_owned()),
            ("Content-Encoding", "gzip".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

/// Outcome of [`DeadLetterStore::replay`]; `remaining` is what is still stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplayReport {
    /// Dead letters the sender accepted.
    pub replayed: usize,
    /// Dead letters that could not be read or were not accepted (kept).
    pub failed: usize,
    /// Dead letters still stored after the run.
    pub remaining: usize,
    /// One line per problem: id and reason.
    pub problems: Vec<(DeadLetterId, String)>,
}

/// Dead letters in a [`StateStore`].
#[derive(Debug, Clone)]
pub struct DeadLetterStore {
    store: StateStore,
    secrets: Vec<Secret>,
}

impl DeadLetterStore {
    /// Dead letters kept in `store` under `deadletter/`.
    pub fn new(store: StateStore) -> Self {
        Self {
            store,
            secrets: Vec::new(),
        }
    }

    /// Scrubs `secret` (the apiKey) from every stored text.
    #[must_use]
    pub fn redacting(mut self, secret: Secret) -> Self {
        if !secret.is_empty() {
            self.secrets.push(secret);
        }
        self
    }

    /// The underlying store.
    pub fn store(&self) -> &StateStore {
        &self.store
    }

    /// Stores a dead letter (payload, then meta) and returns its id.
    ///
    /// # Errors
    /// [`DeadLetterError::Store`] when either write fails.
    pub async fn write(&self, letter: &DeadLetter) -> Result<DeadLetterId, DeadLetterError> {
        let id = letter.id();
        let mut context = letter.context.clone();
        context.upload_url = crate::upload::redacted_url(&context.upload_url);
        for text in [
            &mut context.error,
            &mut context.upload_url,
            &mut context.key,
            &mut context.log_type,
        ] {
            for secret in &self.secrets {
                *text = text.replace(secret.expose(), "<redacted>");
            }
        }
        let meta = DeadLetterMeta {
            format: FORMAT,
            id: id.0.clone(),
            log_size: letter.log_size,
            records: letter.records,
            json_bytes: letter.json_bytes,
            body_bytes: letter.body.len(),
            body_sha256: hex::encode(Sha256::digest(&letter.body)),
            headers: letter.headers(),
            context,
        };
        let meta = serde_json::to_vec_pretty(&meta).map_err(|e| self.corrupt(&id, e))?;
        self.store
            .put(&body_key(&id), letter.body.clone())
            .await
            .map_err(|e| self.store_error(e))?;
        self.store
            .put(&meta_key(&id), Bytes::from(meta))
            .await
            .map_err(|e| self.store_error(e))?;
        tracing::warn!(
            dead_letter = %id,
            location = %self.store.location(),
            bucket = %excerpt(&letter.context.bucket),
            key = %excerpt(&letter.context.key),
            batch_index = letter.context.batch_index,
            records = letter.records,
            "batch dead-lettered"
        );
        Ok(id)
    }

    /// Every complete dead letter, sorted by id.
    ///
    /// # Errors
    /// [`DeadLetterError::Store`] when listing fails.
    pub async fn list(&self) -> Result<Vec<DeadLetterId>, DeadLetterError> {
        let keys = self
            .store
            .list(DEADLETTER_PREFIX)
            .await
            .map_err(|e| self.store_error(e))?;
        Ok(keys
            .iter()
            .filter_map(|k| k.strip_prefix(DEADLETTER_PREFIX)?.strip_suffix(META_SUFFIX))
            .filter(|id| !id.contains('/'))
            .map(|id| DeadLetterId(id.to_owned()))
            .collect())
    }

    /// Reads a dead letter's meta document only.
    ///
    /// # Errors
    /// [`DeadLetterError::Corrupt`] when it is missing or unreadable.
    pub async fn read_meta(&self, id: &DeadLetterId) -> Result<DeadLetterMeta, DeadLetterError> {
        let raw = self
            .store
            .get(&meta_key(id))
            .await
            .map_err(|e| self.store_error(e))?
            .ok_or_else(|| self.corrupt(id, "the meta file is missing"))?;
        let meta: DeadLetterMeta = serde_json::from_slice(&raw).map_err(|e| self.corrupt(id, e))?;
        if meta.format != FORMAT {
            return Err(self.corrupt(id, format!("unknown format {}", meta.format)));
        }
        Ok(meta)
    }

    /// Reads a dead letter, checking the payload against its recorded digest.
    ///
    /// # Errors
    /// [`DeadLetterError::Corrupt`] when a part is missing or does not match.
    pub async fn read(&self, id: &DeadLetterId) -> Result<DeadLetter, DeadLetterError> {
        let meta = self.read_meta(id).await?;
        let body = self
            .store
            .get(&body_key(id))
            .await
            .map_err(|e| self.store_error(e))?
            .ok_or_else(|| self.corrupt(id, "the payload file is missing"))?;
        if body.len() != meta.body_bytes || hex::encode(Sha256::digest(&body)) != meta.body_sha256 {
            return Err(self.corrupt(id, "the payload does not match its recorded SHA-256"));
        }
        Ok(DeadLetter {
            body,
            log_size: meta.log_size,
            records: meta.records,
            json_bytes: meta.json_bytes,
            context: meta.context,
        })
    }

    /// Deletes a dead letter (meta first, so a crash never leaves a listed
    /// dead letter without its payload).
    ///
    /// # Errors
    /// [`DeadLetterError::Store`] when a delete fails.
    pub async fn delete(&self, id: &DeadLetterId) -> Result<(), DeadLetterError> {
        self.store
            .delete(&meta_key(id))
            .await
            .map_err(|e| self.store_error(e))?;
        self.store
            .delete(&body_key(id))
            .await
            .map_err(|e| self.store_error(e))
    }

    /// Sends every dead letter through `send` and deletes each one only after
    /// `send` returned `Ok` (Site24x7 accepted it). Failures are kept and
    /// counted; the run goes on with the next one. A dead letter accepted but
    /// not deleted (store error) is reported and would be sent again next time.
    ///
    /// # Errors
    /// [`DeadLetterError::Store`] only when the listing itself fails.
    pub async fn replay<F, Fut, E>(&self, mut send: F) -> Result<ReplayReport, DeadLetterError>
    where
        F: FnMut(DeadLetter) -> Fut,
        Fut: Future<Output = Result<(), E>>,
        E: fmt::Display,
    {
        let ids = self.list().await?;
        let mut report = ReplayReport {
            remaining: ids.len(),
            ..ReplayReport::default()
        };
        for id in ids {
            let letter = match self.read(&id).await {
                Ok(letter) => letter,
                Err(e) => {
                    report.failed += 1;
                    report.problems.push((id, e.to_string()));
                    continue;
                }
            };
            if let Err(e) = send(letter).await {
                tracing::warn!(dead_letter = %id, error = %e, "replay not accepted; kept");
                report.failed += 1;
                report.problems.push((id, format!("not accepted: {e}")));
                continue;
            }
            report.replayed += 1;
            match self.delete(&id).await {
                Ok(()) => {
                    report.remaining -= 1;
                    tracing::info!(dead_letter = %id, "replayed and deleted");
                }
                Err(e) => report.problems.push((
                    id,
                    format!("accepted but not deleted (would be sent again): {e}"),
                )),
            }
        }
        Ok(report)
    }

    fn store_error(&self, source: StateError) -> DeadLetterError {
        DeadLetterError::Store {
            location: self.store.location(),
            source,
        }
    }

    fn corrupt(&self, id: &DeadLetterId, reason: impl fmt::Display) -> DeadLetterError {
        DeadLetterError::Corrupt {
            id: id.0.clone(),
            location: self.store.location(),
            reason: reason.to_string(),
        }
    }
}

fn meta_key(id: &DeadLetterId) -> String {
    format!("{DEADLETTER_PREFIX}{id}{META_SUFFIX}")
}

fn body_key(id: &DeadLetterId) -> String {
    format!("{DEADLETTER_PREFIX}{id}{BODY_SUFFIX}")
}
