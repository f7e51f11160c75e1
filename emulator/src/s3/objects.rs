//! Object operations: put, get (ranges, conditions), head, delete, copy, tagging.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use s3s::dto::*;
use s3s::{S3Error, S3Request, S3Response, S3Result, s3_error};

use super::backend::{Backend, context, no_such_bucket, no_such_key};
use super::body::{Claims, checksum_of, receive};
use super::notification_config::Created;
use super::store::StoredObject;
use crate::notify::CreatedBy;

/// Now, truncated to whole seconds like the HTTP dates clients compare against.
pub(crate) fn now_ts() -> Timestamp {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    Timestamp::from(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Seconds since the epoch of a timestamp (for If-Modified-Since comparisons).
fn epoch_secs(ts: &Timestamp) -> i64 {
    let mut buf = Vec::new();
    if ts.format(TimestampFormat::EpochSeconds, &mut buf).is_err() {
        return 0;
    }
    let text = String::from_utf8_lossy(&buf);
    text.split('.')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// Decodes an `x-amz-tagging` header (`k1=v1&k2=v2`, form-encoded).
fn parse_tagging_header(header: &str) -> Vec<(String, String)> {
    header
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                crate::notify::decode_event_key(k),
                crate::notify::decode_event_key(v),
            )
        })
        .collect()
}

/// The four conditional headers of GET/HEAD, in S3's order of precedence.
pub(crate) struct Conditions<'a> {
    pub(crate) if_match: Option<&'a ETagCondition>,
    pub(crate) if_none_match: Option<&'a ETagCondition>,
    pub(crate) if_modified_since: Option<&'a Timestamp>,
    pub(crate) if_unmodified_since: Option<&'a Timestamp>,
}

fn condition_matches(condition: &ETagCondition, etag: &str) -> bool {
    match condition {
        ETagCondition::Any => true,
        ETagCondition::ETag(e) => e.value() == etag,
    }
}

/// Applies conditional headers: 412 PreconditionFailed or 304 NotModified, as S3 does.
pub(crate) fn check_conditions(obj: &StoredObject, c: &Conditions<'_>) -> S3Result<()> {
    let modified = epoch_secs(&obj.last_modified);
    if let Some(cond) = c.if_match {
        if !condition_matches(cond, &obj.etag) {
            return Err(s3_error!(
                PreconditionFailed,
                "At least one of the pre-conditions you specified did not hold"
            ));
        }
    } else if let Some(t) = c.if_unmodified_since
        && modified > epoch_secs(t)
    {
        return Err(s3_error!(
            PreconditionFailed,
            "At least one of the pre-conditions you specified did not hold"
        ));
    }
    if let Some(cond) = c.if_none_match {
        if condition_matches(cond, &obj.etag) {
            return Err(s3_error!(NotModified));
        }
    } else if let Some(t) = c.if_modified_since
        && modified <= epoch_secs(t)
    {
        return Err(s3_error!(NotModified));
    }
    Ok(())
}

fn invalid_range(len: usize) -> S3Error {
    s3_error!(
        InvalidRange,
        "The requested range is not satisfiable (object size {len} bytes)"
    )
}

/// The byte range to serve and its `Content-Range`, or the whole object.
fn select_range(data: &Bytes, range: Option<&Range>) -> S3Result<(Bytes, Option<String>)> {
    let Some(range) = range else {
        return Ok((data.clone(), None));
    };
    let len = data.len();
    let r = range.check(len as u64).map_err(|_| invalid_range(len))?;
    let (start, end) = (
        usize::try_from(r.start).map_err(|_| invalid_range(len))?,
        usize::try_from(r.end).map_err(|_| invalid_range(len))?,
    );
    if start >= end {
        return Err(invalid_range(len));
    }
    Ok((
        data.slice(start..end),
        Some(format!("bytes {start}-{}/{len}", end - 1)),
    ))
}

fn wants_checksum(mode: Option<&ChecksumMode>, content_range: Option<&String>) -> bool {
    // Never a whole-object checksum on a 206: clients would validate the slice against it.
    mode.is_some_and(|m| m.as_str().eq_ignore_ascii_case(ChecksumMode::ENABLED))
        && content_range.is_none()
}

fn len_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
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

    /// A copy of the stored object (cheap: the data is reference-counted).
    pub(crate) fn lookup(&self, bucket: &str, key: &str) -> S3Result<StoredObject> {
        let buckets = self.store.lock();
        let b = buckets.get(bucket).ok_or_else(|| no_such_bucket(bucket))?;
        b.objects.get(key).cloned().ok_or_else(|| no_such_key(key))
    }

    /// Stores an object and fires its notifications; returns nothing the caller needs.
    pub(crate) fn store_object(
        &self,
        ctx: &super::backend::RequestContext,
        created_by: CreatedBy,
        bucket: &str,
        key: &str,
        object: StoredObject,
    ) -> S3Result<()> {
        let size = object.data.len() as u64;
        let etag = object.etag.clone();
        let rules = {
            let mut buckets = self.store.lock();
            let b = buckets
                .get_mut(bucket)
                .ok_or_else(|| no_such_bucket(bucket))?;
            b.objects.insert(key.to_owned(), object);
            b.rules.clone()
        };
        self.object_created(
            ctx,
            Created {
                created_by,
                bucket,
                key,
                size,
                etag: &etag,
                rules,
            },
        );
        Ok(())
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
        if let Some(ETagCondition::Any) = input.if_none_match
            && self.lookup(&input.bucket, &input.key).is_ok()
        {
            return Err(s3_error!(
                PreconditionFailed,
                "An object already exists under this key (If-None-Match: *)"
            ));
        }
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
        let object = StoredObject {
            data: received.data,
            etag: etag.clone(),
            last_modified: now_ts(),
            content_type: input.content_type,
            content_encoding: input.content_encoding,
            cache_control: input.cache_control,
            content_disposition: input.content_disposition,
            metadata: input.metadata,
            checksum: checksum.clone(),
            parts_count: None,
            tags: input
                .tagging
                .as_deref()
                .map(parse_tagging_header)
                .unwrap_or_default(),
        };
        let size = len_i64(object.data.len());
        self.store_object(&ctx, created_by, &input.bucket, &input.key, object)?;
        Ok(S3Response::new(PutObjectOutput {
            e_tag: Some(ETag::Strong(etag)),
            checksum_crc32: checksum.checksum_crc32,
            checksum_crc32c: checksum.checksum_crc32c,
            checksum_sha1: checksum.checksum_sha1,
            checksum_sha256: checksum.checksum_sha256,
            checksum_crc64nvme: checksum.checksum_crc64nvme,
            checksum_type: checksum.checksum_type,
            size: Some(size),
            ..Default::default()
        }))
    }

    pub(crate) fn op_get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let input = req.input;
        let obj = self.lookup(&input.bucket, &input.key)?;
        check_conditions(
            &obj,
            &Conditions {
                if_match: input.if_match.as_ref(),
                if_none_match: input.if_none_match.as_ref(),
                if_modified_since: input.if_modified_since.as_ref(),
                if_unmodified_since: input.if_unmodified_since.as_ref(),
            },
        )?;
        let (data, content_range) = select_range(&obj.data, input.range.as_ref())?;
        let checksum = if wants_checksum(input.checksum_mode.as_ref(), content_range.as_ref()) {
            obj.checksum
        } else {
            Checksum::default()
        };
        Ok(S3Response::new(GetObjectOutput {
            content_length: Some(len_i64(data.len())),
            body: Some(StreamingBlob::from(s3s::Body::from(data))),
            content_range,
            accept_ranges: Some("bytes".to_owned()),
            content_type: obj.content_type,
            content_encoding: obj.content_encoding,
            cache_control: obj.cache_control,
            content_disposition: obj.content_disposition,
            e_tag: Some(ETag::Strong(obj.etag)),
            last_modified: Some(obj.last_modified),
            metadata: obj.metadata,
            checksum_crc32: checksum.checksum_crc32,
            checksum_crc32c: checksum.checksum_crc32c,
            checksum_sha1: checksum.checksum_sha1,
            checksum_sha256: checksum.checksum_sha256,
            checksum_crc64nvme: checksum.checksum_crc64nvme,
            checksum_type: checksum.checksum_type,
            tag_count: (!obj.tags.is_empty())
                .then(|| i32::try_from(obj.tags.len()).unwrap_or(i32::MAX)),
            ..Default::default()
        }))
    }

    pub(crate) fn op_head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let input = req.input;
        let obj = self.lookup(&input.bucket, &input.key)?;
        check_conditions(
            &obj,
            &Conditions {
                if_match: input.if_match.as_ref(),
                if_none_match: input.if_none_match.as_ref(),
                if_modified_since: input.if_modified_since.as_ref(),
                if_unmodified_since: input.if_unmodified_since.as_ref(),
            },
        )?;
        let (data, content_range) = select_range(&obj.data, input.range.as_ref())?;
        let checksum = if wants_checksum(input.checksum_mode.as_ref(), content_range.as_ref()) {
            obj.checksum
        } else {
            Checksum::default()
        };
        Ok(S3Response::new(HeadObjectOutput {
            content_length: Some(len_i64(data.len())),
            content_range,
            accept_ranges: Some("bytes".to_owned()),
            content_type: obj.content_type,
            content_encoding: obj.content_encoding,
            cache_control: obj.cache_control,
            content_disposition: obj.content_disposition,
            e_tag: Some(ETag::Strong(obj.etag)),
            last_modified: Some(obj.last_modified),
            metadata: obj.metadata,
            checksum_crc32: checksum.checksum_crc32,
            checksum_crc32c: checksum.checksum_crc32c,
            checksum_sha1: checksum.checksum_sha1,
            checksum_sha256: checksum.checksum_sha256,
            checksum_crc64nvme: checksum.checksum_crc64nvme,
            checksum_type: checksum.checksum_type,
            parts_count: obj.parts_count.filter(|_| input.part_number.is_some()),
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
        b.objects.remove(&input.key);
        Ok(S3Response::new(DeleteObjectOutput::default()))
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
        for id in input.delete.objects {
            b.objects.remove(&id.key);
            if !quiet {
                deleted.push(DeletedObject {
                    key: Some(id.key),
                    ..Default::default()
                });
            }
        }
        Ok(S3Response::new(DeleteObjectsOutput {
            deleted: Some(deleted),
            ..Default::default()
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
            ..
        } = &input.copy_source
        else {
            return Err(s3_error!(
                NotImplemented,
                "Only bucket/key copy sources are supported by the emulator"
            ));
        };
        self.require_bucket(&input.bucket)?;
        let source = self.lookup(src_bucket, src_key)?;
        let replace = input
            .metadata_directive
            .as_ref()
            .is_some_and(|d| d.as_str() == MetadataDirective::REPLACE);
        if !replace && **src_bucket == *input.bucket && **src_key == *input.key {
            return Err(s3_error!(
                InvalidRequest,
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."
            ));
        }
        let mut object = source;
        object.last_modified = now_ts();
        if replace {
            object.metadata = input.metadata;
            object.content_type = input.content_type;
            object.content_encoding = input.content_encoding;
            object.cache_control = input.cache_control;
            object.content_disposition = input.content_disposition;
        }
        if let Some(tagging) = input.tagging.as_deref()
            && input
                .tagging_directive
                .as_ref()
                .is_some_and(|d| d.as_str() == "REPLACE")
        {
            object.tags = parse_tagging_header(tagging);
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
        self.store_object(&ctx, CreatedBy::Copy, &input.bucket, &input.key, object)?;
        Ok(S3Response::new(CopyObjectOutput {
            copy_object_result: Some(result),
            ..Default::default()
        }))
    }

    fn with_object_mut<R>(
        &self,
        bucket: &str,
        key: &str,
        f: impl FnOnce(&mut StoredObject) -> R,
    ) -> S3Result<R> {
        let mut buckets = self.store.lock();
        let b = buckets
            .get_mut(bucket)
            .ok_or_else(|| no_such_bucket(bucket))?;
        let obj = b.objects.get_mut(key).ok_or_else(|| no_such_key(key))?;
        Ok(f(obj))
    }

    pub(crate) fn op_put_object_tagging(
        &self,
        req: S3Request<PutObjectTaggingInput>,
    ) -> S3Result<S3Response<PutObjectTaggingOutput>> {
        let input = req.input;
        let tags: Vec<(String, String)> = input
            .tagging
            .tag_set
            .into_iter()
            .map(|t| (t.key.unwrap_or_default(), t.value.unwrap_or_default()))
            .collect();
        if tags.len() > 10 {
            return Err(s3_error!(
                InvalidTag,
                "Object tags cannot be greater than 10"
            ));
        }
        self.with_object_mut(&input.bucket, &input.key, |o| o.tags = tags)?;
        Ok(S3Response::new(PutObjectTaggingOutput::default()))
    }

    pub(crate) fn op_get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        let input = req.input;
        let tags = self.with_object_mut(&input.bucket, &input.key, |o| o.tags.clone())?;
        let tag_set = tags
            .into_iter()
            .map(|(k, v)| Tag {
                key: Some(k),
                value: Some(v),
            })
            .collect();
        Ok(S3Response::new(GetObjectTaggingOutput {
            tag_set,
            version_id: None,
        }))
    }

    pub(crate) fn op_delete_object_tagging(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        let input = req.input;
        self.with_object_mut(&input.bucket, &input.key, |o| o.tags.clear())?;
        Ok(S3Response::new(DeleteObjectTaggingOutput::default()))
    }
}

/// Whether any checksum algorithm was computed.
pub(crate) fn has_any_checksum(c: &Checksum) -> bool {
    c.checksum_crc32.is_some()
        || c.checksum_crc32c.is_some()
        || c.checksum_sha1.is_some()
        || c.checksum_sha256.is_some()
        || c.checksum_crc64nvme.is_some()
}
