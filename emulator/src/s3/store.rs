//! The in-memory data model behind the S3 backend: buckets, their configuration, every version
//! of every key, uploads in progress and uploads recently completed.
//!
//! Everything lives under one `std::sync::Mutex` held only for short, non-async sections, so
//! operations on different keys never observe a half-written object.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use s3s::dto::{
    Checksum, CompleteMultipartUploadOutput, Grant, NotificationConfiguration, ObjectOwnership,
    PublicAccessBlockConfiguration, Timestamp,
};

use super::acl;
use super::versions::History;
use crate::notify::Rule;

/// How many completed upload ids a bucket remembers, so a retried completion answers again.
const COMPLETED_REMEMBERED: usize = 10_000;

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

/// A bucket's versioning state, as PutBucketVersioning leaves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Versioning {
    /// Never configured: one `null` version per key, and no version ids in responses.
    Unversioned,
    /// Every write gets a new version id; DELETE without a version id adds a delete marker.
    Enabled,
    /// Writes replace the `null` version; older versions stay.
    Suspended,
}

impl Versioning {
    /// Whether responses name version ids (`null` included): once versioning was ever configured.
    pub(crate) fn shows_ids(self) -> bool {
        self != Self::Unversioned
    }
}

/// One bucket: every key's versions in key order (what listings need) and its configuration.
#[derive(Debug)]
pub(crate) struct Bucket {
    pub(crate) created: Timestamp,
    pub(crate) objects: BTreeMap<String, History>,
    pub(crate) uploads: HashMap<String, Upload>,
    pub(crate) completed: CompletedUploads,
    pub(crate) versioning: Versioning,
    /// The configuration exactly as the client sent it, echoed by GetBucketNotificationConfiguration.
    pub(crate) notification: NotificationConfiguration,
    /// The same configuration compiled for matching.
    pub(crate) rules: Vec<Rule>,
    /// Grants of the bucket ACL (the owner's FULL_CONTROL by default).
    pub(crate) acl: Vec<Grant>,
    /// `None` after DeleteBucketOwnershipControls (ACLs enabled, object writer owns).
    pub(crate) ownership: Option<ObjectOwnership>,
    /// The policy document as the client sent it.
    pub(crate) policy: Option<String>,
    /// `None` after DeletePublicAccessBlock.
    pub(crate) public_access_block: Option<PublicAccessBlockConfiguration>,
}

impl Bucket {
    /// A bucket as S3 creates one today: ACLs disabled (BucketOwnerEnforced), public access
    /// blocked, versioning never configured.
    pub(crate) fn new(ownership: Option<ObjectOwnership>) -> Self {
        Self {
            created: Timestamp::from(std::time::SystemTime::now()),
            objects: BTreeMap::new(),
            uploads: HashMap::new(),
            completed: CompletedUploads::default(),
            versioning: Versioning::Unversioned,
            notification: NotificationConfiguration::default(),
            rules: Vec::new(),
            acl: acl::private(),
            ownership: Some(ownership.unwrap_or_else(|| {
                ObjectOwnership::from_static(ObjectOwnership::BUCKET_OWNER_ENFORCED)
            })),
            policy: None,
            public_access_block: Some(acl::all_blocked()),
        }
    }
}

/// One stored object version (`version_id` is `null` in buckets that never had versioning).
#[derive(Debug, Clone)]
pub(crate) struct StoredObject {
    pub(crate) version_id: String,
    pub(crate) data: Bytes,
    /// Hex MD5 for single uploads, `md5-of-md5s-N` for multipart ones; without quotes.
    pub(crate) etag: String,
    pub(crate) last_modified: Timestamp,
    pub(crate) content_type: Option<String>,
    pub(crate) content_encoding: Option<String>,
    pub(crate) content_language: Option<String>,
    pub(crate) cache_control: Option<String>,
    pub(crate) content_disposition: Option<String>,
    pub(crate) expires: Option<Timestamp>,
    pub(crate) metadata: Option<HashMap<String, String>>,
    /// `x-amz-storage-class` as sent; `None` is STANDARD.
    pub(crate) storage_class: Option<String>,
    /// Whole-object checksum (base64) and its type, returned with `x-amz-checksum-mode: ENABLED`.
    pub(crate) checksum: Checksum,
    /// The parts of a multipart object, in order; empty for a single PUT or copy.
    pub(crate) parts: Vec<PartInfo>,
    pub(crate) tags: Vec<(String, String)>,
    pub(crate) acl: Vec<Grant>,
}

impl StoredObject {
    /// An empty object with no metadata: the base the write paths fill in.
    pub(crate) fn empty(last_modified: Timestamp) -> Self {
        Self {
            version_id: "null".to_owned(),
            data: Bytes::new(),
            etag: String::new(),
            last_modified,
            content_type: None,
            content_encoding: None,
            content_language: None,
            cache_control: None,
            content_disposition: None,
            expires: None,
            metadata: None,
            storage_class: None,
            checksum: Checksum::default(),
            parts: Vec::new(),
            tags: Vec::new(),
            acl: acl::private(),
        }
    }

    /// The number of parts for `x-amz-mp-parts-count` (multipart objects only).
    pub(crate) fn parts_count(&self) -> Option<i32> {
        (!self.parts.is_empty()).then(|| i32::try_from(self.parts.len()).unwrap_or(i32::MAX))
    }
}

/// Where one part of a multipart object lies, and its checksum.
#[derive(Debug, Clone)]
pub(crate) struct PartInfo {
    pub(crate) size: u64,
    pub(crate) checksum: Checksum,
}

/// A multipart upload in progress.
#[derive(Debug)]
pub(crate) struct Upload {
    pub(crate) key: String,
    pub(crate) initiated: Timestamp,
    pub(crate) template: StoredObject,
    /// Upper-case algorithm name (`CRC32`, …) from CreateMultipartUpload.
    pub(crate) checksum_algorithm: Option<String>,
    /// Whether the object checksum is `FULL_OBJECT` (else `COMPOSITE`), when an algorithm is set.
    pub(crate) full_object: bool,
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

/// Upload ids completed recently, with what their completion answered (oldest forgotten first).
#[derive(Debug, Default)]
pub(crate) struct CompletedUploads {
    by_id: HashMap<String, (String, CompleteMultipartUploadOutput)>,
    order: VecDeque<String>,
}

impl CompletedUploads {
    /// Remembers the answer of a completion.
    pub(crate) fn remember(
        &mut self,
        upload_id: &str,
        key: &str,
        answer: &CompleteMultipartUploadOutput,
    ) {
        if self.order.len() == COMPLETED_REMEMBERED
            && let Some(oldest) = self.order.pop_front()
        {
            self.by_id.remove(&oldest);
        }
        self.order.push_back(upload_id.to_owned());
        self.by_id
            .insert(upload_id.to_owned(), (key.to_owned(), copy_answer(answer)));
    }

    /// The answer a completion of this upload id (for this key) gave, if it is remembered.
    pub(crate) fn answer(
        &self,
        upload_id: &str,
        key: &str,
    ) -> Option<CompleteMultipartUploadOutput> {
        self.by_id
            .get(upload_id)
            .filter(|(k, _)| k == key)
            .map(|(_, answer)| copy_answer(answer))
    }
}

/// The answer's fields (the output type is not `Clone`: it can carry a keep-alive future).
fn copy_answer(a: &CompleteMultipartUploadOutput) -> CompleteMultipartUploadOutput {
    CompleteMultipartUploadOutput {
        bucket: a.bucket.clone(),
        checksum_crc32: a.checksum_crc32.clone(),
        checksum_crc32c: a.checksum_crc32c.clone(),
        checksum_crc64nvme: a.checksum_crc64nvme.clone(),
        checksum_sha1: a.checksum_sha1.clone(),
        checksum_sha256: a.checksum_sha256.clone(),
        checksum_type: a.checksum_type.clone(),
        e_tag: a.e_tag.clone(),
        key: a.key.clone(),
        location: a.location.clone(),
        version_id: a.version_id.clone(),
        ..Default::default()
    }
}
