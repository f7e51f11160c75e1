//! Multipart uploads: create (checksum algorithm and type), upload a part, abort. Completion is
//! in `complete`, UploadPartCopy in `part_copy`, the listings in `uploads`.

use s3s::dto::*;
use s3s::{S3Error, S3Request, S3Response, S3Result, s3_error};

use super::acl::GrantHeaders;
use super::backend::{Backend, no_such_bucket};
use super::body::{Claims, checksum_of, receive};
use super::checksums;
use super::conditions::now_ts;
use super::objects::storage_class;
use super::store::{StoredObject, StoredPart, Upload};
use super::tagging::parse_tagging_header;

pub(crate) fn no_such_upload(upload_id: &str) -> S3Error {
    s3_error!(
        NoSuchUpload,
        "The specified multipart upload does not exist (upload id {upload_id}); it may have been aborted or completed"
    )
}

fn new_upload_id() -> String {
    let n: u128 = rand::random();
    format!("{n:032x}")
}

/// Refuses part numbers outside S3's 1..=10000.
pub(crate) fn check_part_number(n: i32) -> S3Result<()> {
    if (1..=10_000).contains(&n) {
        Ok(())
    } else {
        Err(s3_error!(
            InvalidArgument,
            "Part number must be an integer between 1 and 10000, inclusive (got {n})"
        ))
    }
}

/// The checksum type name of an upload, for responses.
pub(crate) fn checksum_type_of(upload: &Upload) -> Option<ChecksumType> {
    upload.checksum_algorithm.as_ref().map(|_| {
        ChecksumType::from_static(if upload.full_object {
            ChecksumType::FULL_OBJECT
        } else {
            ChecksumType::COMPOSITE
        })
    })
}

impl Backend {
    pub(crate) fn op_create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let input = req.input;
        let algorithm = input
            .checksum_algorithm
            .as_ref()
            .map(|a| checksums::algorithm_name(a.as_str()))
            .transpose()?;
        let full_object = checksums::upload_is_full_object(
            algorithm.as_deref(),
            input.checksum_type.as_ref().map(ChecksumType::as_str),
        )?;
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
        let mut template = StoredObject::empty(now_ts());
        template.content_type = input.content_type;
        template.content_encoding = input.content_encoding;
        template.content_language = input.content_language;
        template.cache_control = input.cache_control;
        template.content_disposition = input.content_disposition;
        template.expires = input.expires;
        template.metadata = input.metadata;
        template.storage_class = storage_class(input.storage_class.as_ref())?;
        template.acl = acl;
        template.tags = input
            .tagging
            .as_deref()
            .map(parse_tagging_header)
            .unwrap_or_default();
        let upload_id = new_upload_id();
        let upload = Upload {
            key: input.key.clone(),
            initiated: now_ts(),
            template,
            checksum_algorithm: algorithm,
            full_object,
            parts: Default::default(),
        };
        let checksum_type = checksum_type_of(&upload);
        let mut buckets = self.store.lock();
        let b = buckets
            .get_mut(&input.bucket)
            .ok_or_else(|| no_such_bucket(&input.bucket))?;
        b.uploads.insert(upload_id.clone(), upload);
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(upload_id),
            checksum_algorithm: input.checksum_algorithm,
            checksum_type,
            ..Default::default()
        }))
    }

    /// The checksum algorithm of an upload in progress (and that it exists for this key).
    pub(crate) fn upload_algorithm(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> S3Result<Option<String>> {
        let buckets = self.store.lock();
        let b = buckets.get(bucket).ok_or_else(|| no_such_bucket(bucket))?;
        match b.uploads.get(upload_id) {
            Some(u) if u.key == key => Ok(u.checksum_algorithm.clone()),
            _ => Err(no_such_upload(upload_id)),
        }
    }

    /// Stores a part; the last one to finish wins, as in S3 (a part re-sent while its first
    /// upload is still running replaces it when it completes).
    pub(crate) fn put_part(
        &self,
        bucket: &str,
        upload_id: &str,
        number: i32,
        part: StoredPart,
    ) -> S3Result<()> {
        let mut buckets = self.store.lock();
        let b = buckets
            .get_mut(bucket)
            .ok_or_else(|| no_such_bucket(bucket))?;
        let upload = b
            .uploads
            .get_mut(upload_id)
            .ok_or_else(|| no_such_upload(upload_id))?;
        upload.parts.insert(number, part);
        Ok(())
    }

    pub(crate) async fn op_upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let input = req.input;
        check_part_number(input.part_number)?;
        let upload_algorithm =
            self.upload_algorithm(&input.bucket, &input.key, &input.upload_id)?;
        // The upload's algorithm is computed for every part, so completion can always build
        // the object checksum even when a client sends a part without one.
        let algorithm = input
            .checksum_algorithm
            .as_ref()
            .map(|a| a.as_str().to_owned())
            .or(upload_algorithm);
        let claims = Claims {
            checksum: checksum_of(
                input.checksum_crc32.as_ref(),
                input.checksum_crc32c.as_ref(),
                input.checksum_sha1.as_ref(),
                input.checksum_sha256.as_ref(),
                input.checksum_crc64nvme.as_ref(),
            ),
            algorithm: algorithm.as_deref(),
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
        let etag = hex::encode(received.md5);
        let checksum = received.checksum;
        self.put_part(
            &input.bucket,
            &input.upload_id,
            input.part_number,
            StoredPart {
                data: received.data,
                md5: received.md5,
                last_modified: now_ts(),
                checksum: checksum.clone(),
            },
        )?;
        Ok(S3Response::new(UploadPartOutput {
            e_tag: Some(ETag::Strong(etag)),
            checksum_crc32: checksum.checksum_crc32,
            checksum_crc32c: checksum.checksum_crc32c,
            checksum_sha1: checksum.checksum_sha1,
            checksum_sha256: checksum.checksum_sha256,
            checksum_crc64nvme: checksum.checksum_crc64nvme,
            ..Default::default()
        }))
    }

    pub(crate) fn op_abort_multipart_upload(
        &self,
        req: S3Request<AbortMultipartUploadInput>,
    ) -> S3Result<S3Response<AbortMultipartUploadOutput>> {
        let input = req.input;
        let mut buckets = self.store.lock();
        let b = buckets
            .get_mut(&input.bucket)
            .ok_or_else(|| no_such_bucket(&input.bucket))?;
        match b.uploads.get(&input.upload_id) {
            Some(u) if u.key == input.key => {
                b.uploads.remove(&input.upload_id);
                Ok(S3Response::new(AbortMultipartUploadOutput::default()))
            }
            _ => Err(no_such_upload(&input.upload_id)),
        }
    }
}
