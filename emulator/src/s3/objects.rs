//! Object writes and deletes: PutObject (conditions, ACL, storage class, `Expires`), DeleteObject
//! and DeleteObjects (delete markers in versioned buckets), CopyObject (by version, with
//! copy-source conditions).

use s3s::dto::*;
use s3s::{S3Error, S3Request, S3Response, S3Result, s3_error};

use super::acl::{self, GrantHeaders};
use super::backend::{Backend, context, no_such_bucket};
use super::body::{Claims, checksum_of, receive};
use super::checksums::{self, has_any_checksum};
use super::conditions::{Conditions, check_copy_source_conditions, now_ts};
use super::read::len_i64;
use super::store::{Bucket, StoredObject};
use super::tagging::parse_tagging_header;
use super::versioning::{Found, NewVersion, invalid_version_id};
use super::versions::{Removal, Version, is_well_formed};
use crate::notify::CreatedBy;

/// The storage class to store: `None` for STANDARD.
///
/// # Errors
/// InvalidStorageClass for a class S3 does not have.
pub(crate) fn storage_class(given: Option<&StorageClass>) -> S3Result<Option<String>> {
    let Some(class) = given.map(StorageClass::as_str) else {
        return Ok(None);
    };
    const KNOWN: [&str; 11] = [
        StorageClass::STANDARD,
        StorageClass::REDUCED_REDUNDANCY,
        StorageClass::STANDARD_IA,
        StorageClass::ONEZONE_IA,
        StorageClass::INTELLIGENT_TIERING,
        StorageClass::GLACIER,
        StorageClass::DEEP_ARCHIVE,
        StorageClass::OUTPOSTS,
        StorageClass::GLACIER_IR,
        StorageClass::SNOW,
        StorageClass::EXPRESS_ONEZONE,
    ];
    if !KNOWN.contains(&class) {
        return Err(s3_error!(
            InvalidStorageClass,
            "The storage class you specified is not valid: {class}"
        ));
    }
    Ok((class != StorageClass::STANDARD).then(|| class.to_owned()))
}

/// Removes one key's version, or the key under the bucket's versioning rules, as
/// DeleteObject and DeleteObjects do.
fn delete_one(
    b: &mut Bucket,
    key: &str,
    version_id: Option<&str>,
) -> Result<DeletedObject, S3Error> {
    if let Some(id) = version_id
        && !is_well_formed(id)
    {
        return Err(invalid_version_id(id));
    }
    let versioning = b.versioning;
    let history = b.objects.entry(key.to_owned()).or_default();
    let deleted = match version_id {
        Some(id) => {
            let removed = history.remove(id);
            let marker = matches!(removed, Some(Version::DeleteMarker(_)));
            DeletedObject {
                key: Some(key.to_owned()),
                version_id: Some(id.to_owned()),
                delete_marker: marker.then_some(true),
                delete_marker_version_id: marker.then(|| id.to_owned()),
            }
        }
        None => match history.delete(versioning, now_ts()) {
            Removal::Removed => DeletedObject {
                key: Some(key.to_owned()),
                ..Default::default()
            },
            Removal::Marker(id) => DeletedObject {
                key: Some(key.to_owned()),
                version_id: None,
                delete_marker: Some(true),
                delete_marker_version_id: Some(id),
            },
        },
    };
    if history.is_empty() {
        b.objects.remove(key);
    }
    Ok(deleted)
}

impl Backend {
    /// Fails with NoSuchBucket unless the bucket exists (checked before reading a body).
    pub(crate) fn require_bucket(&self, bucket: &str) -> S3Result<()> {
        if self.store.lock().contains_key(bucket) {
            Ok(())
        } else {
            Err(no_such_bucket(bucket))
        }
    }

    /// The object ACL a write sets (private when it sets none), checked against the bucket.
    pub(crate) fn write_acl(
        &self,
        bucket: &str,
        canned: Option<&ObjectCannedACL>,
        headers: &GrantHeaders<'_>,
    ) -> S3Result<Vec<Grant>> {
        let grants = acl::requested(canned.map(ObjectCannedACL::as_str), headers, None)?
            .unwrap_or_else(acl::private);
        self.check_object_acl(bucket, &grants)?;
        Ok(grants)
    }

    pub(crate) async fn op_put_object(
        &self,
        req: S3Request<PutObjectInput>,
    ) -> S3Result<S3Response<PutObjectOutput>> {
        let ctx = context(&req);
        // PostObject reaches us through s3s's default `post_object`, as a PUT input sent with POST.
        let created_by = if req.method == http::Method::POST {
            CreatedBy::Post
        } else {
            CreatedBy::Put
        };
        let input = req.input;
        self.require_bucket(&input.bucket)?;
        let acl = self.write_acl(
            &input.bucket,
            input.acl.as_ref(),
            &GrantHeaders {
                full_control: input.grant_full_control.as_deref(),
                read: input.grant_read.as_deref(),
                read_acp: input.grant_read_acp.as_deref(),
                write: None,
                write_acp: input.grant_write_acp.as_deref(),
            },
        )?;
        let storage_class = storage_class(input.storage_class.as_ref())?;
        let claims = Claims {
            checksum: checksum_of(
                input.checksum_crc32.as_ref(),
                input.checksum_crc32c.as_ref(),
                input.checksum_sha1.as_ref(),
                input.checksum_sha256.as_ref(),
                input.checksum_crc64nvme.as_ref(),
            ),
            algorithm: input
                .checksum_algorithm
                .as_ref()
                .map(ChecksumAlgorithm::as_str),
            content_md5: input.content_md5.as_deref(),
            length: input.content_length.and_then(|l| u64::try_from(l).ok()),
        };
        let received = receive(
            input.body,
            self.settings.max_object_size,
            claims,
            &req.headers,
            req.trailing_headers.as_ref(),
        )
        .await?;
        let mut checksum = received.checksum;
        if has_any_checksum(&checksum) {
            checksum.checksum_type = Some(ChecksumType::from_static(ChecksumType::FULL_OBJECT));
        }
        let etag = hex::encode(received.md5);
        let mut object = StoredObject::empty(now_ts());
        object.data = received.data;
        object.etag.clone_from(&etag);
        object.content_type = input.content_type;
        object.content_encoding = input.content_encoding;
        object.content_language = input.content_language;
        object.cache_control = input.cache_control;
        object.content_disposition = input.content_disposition;
        object.expires = input.expires;
        object.metadata = input.metadata;
        object.storage_class = storage_class;
        object.checksum = checksum.clone();
        object.acl = acl;
        object.tags = input
            .tagging
            .as_deref()
            .map(parse_tagging_header)
            .unwrap_or_default();
        let size = len_i64(object.data.len());
        let written = self.store_object(
            &ctx,
            NewVersion {
                created_by,
                bucket: &input.bucket,
                key: &input.key,
                object,
                if_match: input.if_match.as_ref(),
                if_none_match: input.if_none_match.as_ref(),
            },
        )?;
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(ETag::Strong(etag)),
            checksum_crc32: checksum.checksum_crc32,
            checksum_crc32c: checksum.checksum_crc32c,
            checksum_sha1: checksum.checksum_sha1,
            checksum_sha256: checksum.checksum_sha256,
            checksum_crc64nvme: checksum.checksum_crc64nvme,
            checksum_type: checksum.checksum_type,
            size: Some(size),
            version_id: written.shown_version,
            ..Default::default()
        }))
    }

    pub(crate) fn op_delete_object(
        &self,
        req: S3Request<DeleteObjectInput>,
    ) -> S3Result<S3Response<DeleteObjectOutput>> {
        let input = req.input;
        let mut buckets = self.store.lock();
        let b = buckets
            .get_mut(&input.bucket)
            .ok_or_else(|| no_such_bucket(&input.bucket))?;
        let deleted = delete_one(b, &input.key, input.version_id.as_deref())?;
        Ok(S3Response::new(DeleteObjectOutput {
            delete_marker: deleted.delete_marker,
            version_id: deleted.version_id.or(deleted.delete_marker_version_id),
            request_charged: None,
        }))
    }

    pub(crate) fn op_delete_objects(
        &self,
        req: S3Request<DeleteObjectsInput>,
    ) -> S3Result<S3Response<DeleteObjectsOutput>> {
        let input = req.input;
        let mut buckets = self.store.lock();
        let b = buckets
            .get_mut(&input.bucket)
            .ok_or_else(|| no_such_bucket(&input.bucket))?;
        let quiet = input.delete.quiet.unwrap_or(false);
        let mut deleted = Vec::new();
        let mut errors = Vec::new();
        for id in input.delete.objects {
            match delete_one(b, &id.key, id.version_id.as_deref()) {
                Ok(d) if !quiet => deleted.push(d),
                Ok(_) => {}
                Err(e) => errors.push(Error {
                    code: Some(e.code().as_str().to_owned()),
                    key: Some(id.key),
                    message: e.message().map(str::to_owned),
                    version_id: id.version_id,
                }),
            }
        }
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: Some(deleted),
            errors: (!errors.is_empty()).then_some(errors),
            request_charged: None,
        }))
    }

    pub(crate) fn op_copy_object(
        &self,
        req: S3Request<CopyObjectInput>,
    ) -> S3Result<S3Response<CopyObjectOutput>> {
        let ctx = context(&req);
        let input = req.input;
        let CopySource::Bucket {
            bucket: src_bucket,
            key: src_key,
            version_id: src_version,
        } = &input.copy_source
        else {
            return Err(s3_error!(
                NotImplemented,
                "Only bucket/key copy sources are supported by the emulator (no access point ARNs)"
            ));
        };
        self.require_bucket(&input.bucket)?;
        let source = self.copy_source(src_bucket, src_key, src_version.as_deref())?;
        check_copy_source_conditions(
            &source.object,
            &Conditions {
                if_match: input.copy_source_if_match.as_ref(),
                if_none_match: input.copy_source_if_none_match.as_ref(),
                if_modified_since: input.copy_source_if_modified_since.as_ref(),
                if_unmodified_since: input.copy_source_if_unmodified_since.as_ref(),
            },
        )?;
        let replace = input
            .metadata_directive
            .as_ref()
            .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
        let storage_class = storage_class(input.storage_class.as_ref())?;
        let same_key = **src_bucket == *input.bucket && **src_key == *input.key;
        if same_key && !replace && src_version.is_none() && storage_class.is_none() {
            return Err(s3_error!(
                InvalidRequest,
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."
            ));
        }
        let acl = self.write_acl(
            &input.bucket,
            input.acl.as_ref(),
            &GrantHeaders {
                full_control: input.grant_full_control.as_deref(),
                read: input.grant_read.as_deref(),
                read_acp: input.grant_read_acp.as_deref(),
                write: None,
                write_acp: input.grant_write_acp.as_deref(),
            },
        )?;
        let mut object = source.object;
        object.last_modified = now_ts();
        object.storage_class = storage_class;
        object.acl = acl;
        if replace {
            object.metadata = input.metadata;
            object.content_type = input.content_type;
            object.content_encoding = input.content_encoding;
            object.content_language = input.content_language;
            object.cache_control = input.cache_control;
            object.content_disposition = input.content_disposition;
            object.expires = input.expires;
        }
        if input
            .tagging_directive
            .as_ref()
            .is_some_and(|d| d.as_str() == TaggingDirective::REPLACE)
        {
            object.tags = input
                .tagging
                .as_deref()
                .map(parse_tagging_header)
                .unwrap_or_default();
        }
        if let Some(algorithm) = input.checksum_algorithm.as_ref() {
            let algorithm = checksums::algorithm_name(algorithm.as_str())?;
            let v = checksums::compute(&algorithm, &object.data).unwrap_or_default();
            object.checksum = checksums::single(&algorithm, v, ChecksumType::FULL_OBJECT);
        }
        let result = CopyObjectResult {
            e_tag: Some(ETag::Strong(object.etag.clone())),
            last_modified: Some(object.last_modified.clone()),
            checksum_crc32: object.checksum.checksum_crc32.clone(),
            checksum_crc32c: object.checksum.checksum_crc32c.clone(),
            checksum_sha1: object.checksum.checksum_sha1.clone(),
            checksum_sha256: object.checksum.checksum_sha256.clone(),
            checksum_crc64nvme: object.checksum.checksum_crc64nvme.clone(),
            checksum_type: object.checksum.checksum_type.clone(),
        };
        let written = self.store_object(
            &ctx,
            NewVersion {
                created_by: CreatedBy::Copy,
                bucket: &input.bucket,
                key: &input.key,
                object,
                if_match: None,
                if_none_match: None,
            },
        )?;
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(result),
            copy_source_version_id: source.shown_version,
            version_id: written.shown_version,
            ..Default::default()
        }))
    }

    /// The version a copy reads (CopyObject, UploadPartCopy): like a GET, except that naming a
    /// delete marker is a 400, as S3 answers copies.
    pub(crate) fn copy_source(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> S3Result<Found> {
        self.find_object(bucket, key, version_id).map_err(|e| {
            if *e.code() == s3s::S3ErrorCode::MethodNotAllowed {
                s3_error!(
                    InvalidRequest,
                    "The source of a copy request may not specifically refer to a delete marker by version id."
                )
            } else {
                e
            }
        })
    }
}
