//! Multipart uploads: create, upload part, complete (`md5-of-md5s-N` ETag), abort, list parts,
//! list uploads.

use base64::Engine as _;
use bytes::BytesMut;
use md5::{Digest as _, Md5};
use s3s::checksum::ChecksumHasher;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::backend::{Backend, context, no_such_bucket};
use super::body::{Claims, checksum_of, receive};
use super::objects::{has_any_checksum, now_ts};
use super::store::{StoredObject, StoredPart, Upload};
use crate::notify::CreatedBy;

/// S3's minimum size of every part but the last.
const MIN_PART_SIZE: usize = 5 * 1024 * 1024;

fn no_such_upload(upload_id: &str) -> s3s::S3Error {
    s3_error!(
        NoSuchUpload,
        "The specified multipart upload does not exist (upload id {upload_id}); it may have been aborted or completed"
    )
}

fn new_upload_id() -> String {
    let n: u128 = rand::random();
    format!("{n:032x}")
}

/// The part checksum for one algorithm, by its S3 name.
fn part_checksum<'a>(c: &'a Checksum, algorithm: &str) -> Option<&'a String> {
    match algorithm {
        "CRC32" => c.checksum_crc32.as_ref(),
        "CRC32C" => c.checksum_crc32c.as_ref(),
        "SHA1" => c.checksum_sha1.as_ref(),
        "SHA256" => c.checksum_sha256.as_ref(),
        "CRC64NVME" => c.checksum_crc64nvme.as_ref(),
        _ => None,
    }
}

/// S3's composite checksum: the algorithm over the concatenated part checksums, then `-N`.
fn composite_checksum(algorithm: &str, parts: &[&StoredPart]) -> Option<Checksum> {
    let mut hasher = ChecksumHasher::default();
    match algorithm {
        "CRC32" => hasher.crc32 = Some(Default::default()),
        "CRC32C" => hasher.crc32c = Some(Default::default()),
        "SHA1" => hasher.sha1 = Some(Default::default()),
        "SHA256" => hasher.sha256 = Some(Default::default()),
        // CRC64NVME multipart checksums are full-object in S3; not emulated.
        _ => return None,
    }
    for part in parts {
        let b64 = part_checksum(&part.checksum, algorithm)?;
        let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
        hasher.update(&raw);
    }
    let mut sum = hasher.finalize();
    let n = parts.len();
    for slot in [
        &mut sum.checksum_crc32,
        &mut sum.checksum_crc32c,
        &mut sum.checksum_sha1,
        &mut sum.checksum_sha256,
    ] {
        if let Some(v) = slot.as_mut() {
            v.push_str(&format!("-{n}"));
        }
    }
    sum.checksum_type = Some(ChecksumType::from_static(ChecksumType::COMPOSITE));
    Some(sum)
}

impl Backend {
    pub(crate) fn op_create_multipart_upload(
        &self,
        req: S3Request<CreateMultipartUploadInput>,
    ) -> S3Result<S3Response<CreateMultipartUploadOutput>> {
        let input = req.input;
        let upload_id = new_upload_id();
        let template = StoredObject {
            data: bytes::Bytes::new(),
            etag: String::new(),
            last_modified: now_ts(),
            content_type: input.content_type,
            content_encoding: input.content_encoding,
            cache_control: input.cache_control,
            content_disposition: input.content_disposition,
            metadata: input.metadata,
            checksum: Checksum::default(),
            parts_count: None,
            tags: Vec::new(),
        };
        let algorithm = input
            .checksum_algorithm
            .as_ref()
            .map(|a| a.as_str().to_ascii_uppercase());
        let mut buckets = self.store.lock();
        let b = buckets
            .get_mut(&input.bucket)
            .ok_or_else(|| no_such_bucket(&input.bucket))?;
        b.uploads.insert(
            upload_id.clone(),
            Upload {
                key: input.key.clone(),
                initiated: now_ts(),
                template,
                checksum_algorithm: algorithm,
                parts: Default::default(),
            },
        );
        Ok(S3Response::new(CreateMultipartUploadOutput {
            bucket: Some(input.bucket),
            key: Some(input.key),
            upload_id: Some(upload_id),
            checksum_algorithm: input.checksum_algorithm,
            ..Default::default()
        }))
    }

    fn require_upload(&self, bucket: &str, key: &str, upload_id: &str) -> S3Result<()> {
        let buckets = self.store.lock();
        let b = buckets.get(bucket).ok_or_else(|| no_such_bucket(bucket))?;
        match b.uploads.get(upload_id) {
            Some(u) if u.key == key => Ok(()),
            _ => Err(no_such_upload(upload_id)),
        }
    }

    pub(crate) async fn op_upload_part(
        &self,
        req: S3Request<UploadPartInput>,
    ) -> S3Result<S3Response<UploadPartOutput>> {
        let input = req.input;
        if !(1..=10_000).contains(&input.part_number) {
            return Err(s3_error!(
                InvalidArgument,
                "Part number must be an integer between 1 and 10000, inclusive"
            ));
        }
        self.require_upload(&input.bucket, &input.key, &input.upload_id)?;
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
        let etag = hex::encode(received.md5);
        let checksum = received.checksum;
        {
            let mut buckets = self.store.lock();
            let b = buckets
                .get_mut(&input.bucket)
                .ok_or_else(|| no_such_bucket(&input.bucket))?;
            let upload = b
                .uploads
                .get_mut(&input.upload_id)
                .ok_or_else(|| no_such_upload(&input.upload_id))?;
            upload.parts.insert(
                input.part_number,
                StoredPart {
                    data: received.data,
                    md5: received.md5,
                    last_modified: now_ts(),
                    checksum: checksum.clone(),
                },
            );
        }
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

    pub(crate) fn op_complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let ctx = context(&req);
        let input = req.input;
        let requested = input
            .multipart_upload
            .and_then(|m| m.parts)
            .unwrap_or_default();
        if requested.is_empty() {
            return Err(s3_error!(
                MalformedXML,
                "You must specify at least one part to complete a multipart upload"
            ));
        }
        let upload = {
            let mut buckets = self.store.lock();
            let b = buckets
                .get_mut(&input.bucket)
                .ok_or_else(|| no_such_bucket(&input.bucket))?;
            let upload = b
                .uploads
                .get(&input.upload_id)
                .ok_or_else(|| no_such_upload(&input.upload_id))?;
            if upload.key != input.key {
                return Err(no_such_upload(&input.upload_id));
            }
            let mut previous = 0;
            let mut total: u64 = 0;
            for (i, part) in requested.iter().enumerate() {
                let number = part.part_number.unwrap_or(0);
                if number <= previous {
                    return Err(s3_error!(
                        InvalidPartOrder,
                        "The list of parts was not in ascending order (part {number})"
                    ));
                }
                previous = number;
                let stored = upload
                    .parts
                    .get(&number)
                    .ok_or_else(|| s3_error!(InvalidPart, "Part {number} was not uploaded"))?;
                let etag_ok = part
                    .e_tag
                    .as_ref()
                    .is_none_or(|e| e.value() == hex::encode(stored.md5));
                if !etag_ok {
                    return Err(s3_error!(
                        InvalidPart,
                        "The ETag of part {number} does not match the uploaded part"
                    ));
                }
                if i + 1 < requested.len() && stored.data.len() < MIN_PART_SIZE {
                    return Err(s3_error!(
                        EntityTooSmall,
                        "Part {number} is {} bytes; every part but the last must be at least 5 MiB",
                        stored.data.len()
                    ));
                }
                total += stored.data.len() as u64;
            }
            if total > self.settings.max_object_size {
                return Err(s3_error!(
                    EntityTooLarge,
                    "The completed object ({total} bytes) exceeds the emulator's maximum object size of {} bytes; raise it with --max-object-size",
                    self.settings.max_object_size
                ));
            }
            b.uploads
                .remove(&input.upload_id)
                .ok_or_else(|| no_such_upload(&input.upload_id))?
        };
        let chosen: Vec<&StoredPart> = requested
            .iter()
            .filter_map(|p| upload.parts.get(&p.part_number.unwrap_or(0)))
            .collect();
        let mut data = BytesMut::new();
        let mut md5s = Md5::new();
        for part in &chosen {
            data.extend_from_slice(&part.data);
            md5s.update(part.md5);
        }
        let etag = format!("{}-{}", hex::encode(md5s.finalize()), chosen.len());
        let checksum = upload
            .checksum_algorithm
            .as_deref()
            .and_then(|a| composite_checksum(a, &chosen))
            .filter(has_any_checksum)
            .unwrap_or_default();
        let mut object = upload.template;
        object.data = data.freeze();
        object.etag = etag.clone();
        object.last_modified = now_ts();
        object.checksum = checksum.clone();
        object.parts_count = Some(i32::try_from(chosen.len()).unwrap_or(i32::MAX));
        self.store_object(
            &ctx,
            CreatedBy::CompleteMultipartUpload,
            &input.bucket,
            &input.key,
            object,
        )?;
        Ok(S3Response::new(CompleteMultipartUploadOutput {
            location: Some(format!("/{}/{}", input.bucket, input.key)),
            bucket: Some(input.bucket),
            key: Some(input.key),
            e_tag: Some(ETag::Strong(etag)),
            checksum_crc32: checksum.checksum_crc32,
            checksum_crc32c: checksum.checksum_crc32c,
            checksum_sha1: checksum.checksum_sha1,
            checksum_sha256: checksum.checksum_sha256,
            checksum_type: checksum.checksum_type,
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

    pub(crate) fn op_list_parts(
        &self,
        req: S3Request<ListPartsInput>,
    ) -> S3Result<S3Response<ListPartsOutput>> {
        let input = req.input;
        let buckets = self.store.lock();
        let b = buckets
            .get(&input.bucket)
            .ok_or_else(|| no_such_bucket(&input.bucket))?;
        let upload = b
            .uploads
            .get(&input.upload_id)
            .filter(|u| u.key == input.key);
        let upload = upload.ok_or_else(|| no_such_upload(&input.upload_id))?;
        let max = usize::try_from(input.max_parts.unwrap_or(1000).clamp(0, 1000)).unwrap_or(1000);
        let marker = input.part_number_marker.unwrap_or(0);
        let after: Vec<(&i32, &StoredPart)> = upload.parts.range(marker + 1..).collect();
        let truncated = after.len() > max;
        let parts: Vec<Part> = after
            .iter()
            .take(max)
            .map(|(n, p)| Part {
                part_number: Some(**n),
                size: Some(i64::try_from(p.data.len()).unwrap_or(i64::MAX)),
                e_tag: Some(ETag::Strong(hex::encode(p.md5))),
                last_modified: Some(p.last_modified.clone()),
                checksum_crc32: p.checksum.checksum_crc32.clone(),
                checksum_crc32c: p.checksum.checksum_crc32c.clone(),
                checksum_sha1: p.checksum.checksum_sha1.clone(),
                checksum_sha256: p.checksum.checksum_sha256.clone(),
                checksum_crc64nvme: p.checksum.checksum_crc64nvme.clone(),
            })
            .collect();
        let next = truncated
            .then(|| parts.last().and_then(|p| p.part_number))
            .flatten();
        Ok(S3Response::new(ListPartsOutput {
            bucket: Some(input.bucket.clone()),
            key: Some(input.key.clone()),
            upload_id: Some(input.upload_id.clone()),
            part_number_marker: Some(marker),
            next_part_number_marker: next,
            max_parts: Some(i32::try_from(max).unwrap_or(1000)),
            is_truncated: Some(truncated),
            parts: Some(parts),
            checksum_algorithm: upload
                .checksum_algorithm
                .clone()
                .map(ChecksumAlgorithm::from),
            owner: Some(Self::owner()),
            ..Default::default()
        }))
    }

    pub(crate) fn op_list_multipart_uploads(
        &self,
        req: S3Request<ListMultipartUploadsInput>,
    ) -> S3Result<S3Response<ListMultipartUploadsOutput>> {
        let input = req.input;
        let buckets = self.store.lock();
        let b = buckets
            .get(&input.bucket)
            .ok_or_else(|| no_such_bucket(&input.bucket))?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let mut uploads: Vec<MultipartUpload> = b
            .uploads
            .iter()
            .filter(|(_, u)| u.key.starts_with(&prefix))
            .map(|(id, u)| MultipartUpload {
                key: Some(u.key.clone()),
                upload_id: Some(id.clone()),
                initiated: Some(u.initiated.clone()),
                owner: Some(Self::owner()),
                checksum_algorithm: u.checksum_algorithm.clone().map(ChecksumAlgorithm::from),
                ..Default::default()
            })
            .collect();
        uploads.sort_by(|a, b| (&a.key, &a.upload_id).cmp(&(&b.key, &b.upload_id)));
        Ok(S3Response::new(ListMultipartUploadsOutput {
            bucket: Some(input.bucket.clone()),
            prefix: input.prefix,
            is_truncated: Some(false),
            max_uploads: Some(1000),
            uploads: Some(uploads),
            ..Default::default()
        }))
    }
}
