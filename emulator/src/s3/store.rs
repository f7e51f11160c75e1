//! The in-memory data model behind the S3 backend: buckets, objects, uploads in progress.
//!
//! Everything lives under one `std::sync::Mutex` held only for short, non-async sections, so
//! operations on different keys never observe a half-written object.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use s3s::dto::{Checksum, NotificationConfiguration, Timestamp};

use crate::notify::Rule;

/// All buckets of one emulator instance.
#[derive(Debug, Default)]
pub(crate) struct Store {
    inner: Mutex<BTreeMap<String, Bucket>>,
}

impl Store {
    /// Locks the buckets; a poisoned lock is recovered because every writer leaves the map valid.
    pub(crate) fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Bucket>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One bucket: its objects in key order (what listings need) and its configuration.
#[derive(Debug)]
pub(crate) struct Bucket {
    pub(crate) created: Timestamp,
    pub(crate) objects: BTreeMap<String, StoredObject>,
    pub(crate) uploads: HashMap<String, Upload>,
    /// The configuration exactly as the client sent it, echoed by GetBucketNotificationConfiguration.
    pub(crate) notification: NotificationConfiguration,
    /// The same configuration compiled for matching.
    pub(crate) rules: Vec<Rule>,
}

impl Bucket {
    pub(crate) fn new() -> Self {
        Self {
            created: Timestamp::from(std::time::SystemTime::now()),
            objects: BTreeMap::new(),
            uploads: HashMap::new(),
            notification: NotificationConfiguration::default(),
            rules: Vec::new(),
        }
    }
}

/// One stored object (unversioned buckets: the "null" version).
#[derive(Debug, Clone)]
pub(crate) struct StoredObject {
    pub(crate) data: Bytes,
    /// Hex MD5 for single uploads, `md5-of-md5s-N` for multipart ones; without quotes.
    pub(crate) etag: String,
    pub(crate) last_modified: Timestamp,
    pub(crate) content_type: Option<String>,
    pub(crate) content_encoding: Option<String>,
    pub(crate) cache_control: Option<String>,
    pub(crate) content_disposition: Option<String>,
    pub(crate) metadata: Option<HashMap<String, String>>,
    /// Whole-object checksums the client asked for (base64), returned on full GETs.
    pub(crate) checksum: Checksum,
    pub(crate) parts_count: Option<i32>,
    pub(crate) tags: Vec<(String, String)>,
}

/// A multipart upload in progress.
#[derive(Debug)]
pub(crate) struct Upload {
    pub(crate) key: String,
    pub(crate) initiated: Timestamp,
    pub(crate) template: StoredObject,
    pub(crate) checksum_algorithm: Option<String>,
    pub(crate) parts: BTreeMap<i32, StoredPart>,
}

/// One uploaded part.
#[derive(Debug, Clone)]
pub(crate) struct StoredPart {
    pub(crate) data: Bytes,
    pub(crate) md5: [u8; 16],
    pub(crate) last_modified: Timestamp,
    pub(crate) checksum: Checksum,
}
