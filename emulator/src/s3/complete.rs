//! CompleteMultipartUpload: the parts list (ascending, a part listed again after a re-send is
//! accepted), the `md5-of-md5s-N` ETag, the object checksum (full-object or composite), the
//! write conditions, and a retried completion answered again with the same result.

use bytes::BytesMut;
use md5::{Digest as _, Md5};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::backend::{Backend, context, no_such_bucket};
use super::body::checksum_of;
use super::checksums;
use super::conditions::now_ts;
use super::multipart::no_such_upload;
use super::store::{PartInfo, StoredObject, StoredPart, Upload};
use super::versioning::NewVersion;
use crate::notify::CreatedBy;

/// S3's minimum size of every part but the last.
const MIN_PART_SIZE: usize = 5 * 1024 * 1024;

/// What a completion will assemble, taken from the upload under the lock.
struct Plan {
    parts: Vec<StoredPart>,
    template: StoredObject,
    algorithm: Option<String>,
    full_object: bool,
}

fn part_claims(p: &CompletedPart) -> Checksum {
    checksum_of(
        p.checksum_crc32.as_ref(),
        p.checksum_crc32c.as_ref(),
        p.checksum_sha1.as_ref(),
        p.checksum_sha256.as_ref(),
        p.checksum_crc64nvme.as_ref(),
    )
}

/// Checks the requested parts against the uploaded ones and picks them.
///
/// Part numbers must ascend; the same number listed several times in a row (a client that
/// re-sent a part while the first send was still running lists both answers) is accepted when
/// one of its ETags is the stored part's, and counts once.
fn choose(
    upload: &Upload,
    requested: &[CompletedPart],
    max_size: u64,
) -> S3Result<Vec<StoredPart>> {
    if requested.is_empty() {
        return Err(s3_error!(
            MalformedXML,
            "You must specify at least one part to complete a multipart upload"
        ));
    }
    let numbers: Vec<i32> = requested
        .iter()
        .map(|p| p.part_number.unwrap_or(0))
        .collect();
    if let Some(bad) = numbers
        .windows(2)
        .find(|w| w[1] < w[0])
        .map(|w| w[1])
        .or_else(|| numbers.iter().copied().find(|n| *n < 1))
    {
        return Err(s3_error!(
            InvalidPartOrder,
            "The list of parts was not in ascending order (part {bad})"
        ));
    }
    let mut chosen: Vec<(i32, StoredPart)> = Vec::new();
    let mut i = 0;
    while i < requested.len() {
        let number = numbers[i];
        let end = requested[i..]
            .iter()
            .position(|p| p.part_number != Some(number))
            .map_or(requested.len(), |n| i + n);
        let group = &requested[i..end];
        i = end;
        let stored = upload
            .parts
            .get(&number)
            .ok_or_else(|| s3_error!(InvalidPart, "Part {number} was not uploaded"))?;
        let etag = hex::encode(stored.md5);
        let matching: Vec<&CompletedPart> = group
            .iter()
            .filter(|p| p.e_tag.as_ref().is_none_or(|e| e.value() == etag))
            .collect();
        if matching.is_empty() {
            return Err(s3_error!(
                InvalidPart,
                "The ETag of part {number} does not match the uploaded part"
            ));
        }
        if let Some(algorithm) = upload.checksum_algorithm.as_deref() {
            let stored_sum = checksums::value(&stored.checksum, algorithm);
            let wrong = matching.iter().any(|p| {
                checksums::value(&part_claims(p), algorithm).is_some_and(|c| Some(c) != stored_sum)
            });
            if wrong {
                return Err(s3_error!(
                    InvalidPart,
                    "The {algorithm} checksum of part {number} does not match the uploaded part"
                ));
            }
        }
        chosen.push((number, stored.clone()));
    }
    let mut total: u64 = 0;
    for (i, (number, part)) in chosen.iter().enumerate() {
        if i + 1 < chosen.len() && part.data.len() < MIN_PART_SIZE {
            return Err(s3_error!(
                EntityTooSmall,
                "Part {number} is {} bytes; every part but the last must be at least 5 MiB",
                part.data.len()
            ));
        }
        total += part.data.len() as u64;
    }
    if total > max_size {
        return Err(s3_error!(
            EntityTooLarge,
            "The completed object ({total} bytes) exceeds the emulator's maximum object size of {max_size} bytes; raise it with --max-object-size"
        ));
    }
    Ok(chosen.into_iter().map(|(_, p)| p).collect())
}

/// The object checksum: full-object over the bytes, or composite over the part checksums,
/// checked against what the completion request claims.
fn object_checksum(
    plan: &Plan,
    data: &[u8],
    claimed: &Checksum,
    claimed_type: Option<&ChecksumType>,
) -> S3Result<Checksum> {
    let Some(algorithm) = plan.algorithm.as_deref() else {
        return Ok(Checksum::default());
    };
    let mode = if plan.full_object {
        ChecksumType::FULL_OBJECT
    } else {
        ChecksumType::COMPOSITE
    };
    if let Some(t) = claimed_type
        && t.as_str() != mode
    {
        return Err(s3_error!(
            InvalidRequest,
            "The upload was created using the {mode} checksum mode. The complete request must use the same checksum mode (got {})",
            t.as_str()
        ));
    }
    let sum = if plan.full_object {
        let v = checksums::compute(algorithm, data).unwrap_or_default();
        checksums::single(algorithm, v, ChecksumType::FULL_OBJECT)
    } else {
        let parts: Vec<&Checksum> = plan.parts.iter().map(|p| &p.checksum).collect();
        checksums::composite(algorithm, &parts).ok_or_else(|| {
            s3_error!(
                InvalidRequest,
                "A part of this upload has no {algorithm} checksum"
            )
        })?
    };
    if let (Some(claim), Some(got)) = (
        checksums::value(claimed, algorithm),
        checksums::value(&sum, algorithm),
    ) {
        // A composite value may be claimed with or without its `-N` suffix.
        let bare = got.split_once('-').map_or(got.as_str(), |(v, _)| v);
        if claim != got && claim != bare {
            return Err(s3_error!(
                BadDigest,
                "The {} you specified for the object did not match the calculated checksum.",
                algorithm.to_ascii_lowercase()
            ));
        }
    }
    Ok(sum)
}

impl Backend {
    pub(crate) fn op_complete_multipart_upload(
        &self,
        req: S3Request<CompleteMultipartUploadInput>,
    ) -> S3Result<S3Response<CompleteMultipartUploadOutput>> {
        let ctx = context(&req);
        let input = req.input;
        let requested = input
            .multipart_upload
            .as_ref()
            .and_then(|m| m.parts.clone())
            .unwrap_or_default();
        let plan = {
            let buckets = self.store.lock();
            let b = buckets
                .get(&input.bucket)
                .ok_or_else(|| no_such_bucket(&input.bucket))?;
            let Some(upload) = b
                .uploads
                .get(&input.upload_id)
                .filter(|u| u.key == input.key)
            else {
                // S3 answers a completion retried after it succeeded with the same result.
                return match b.completed.answer(&input.upload_id, &input.key) {
                    Some(answer) => Ok(S3Response::new(answer)),
                    None => Err(no_such_upload(&input.upload_id)),
                };
            };
            Plan {
                parts: choose(upload, &requested, self.settings.max_object_size)?,
                template: upload.template.clone(),
                algorithm: upload.checksum_algorithm.clone(),
                full_object: upload.full_object,
            }
        };
        let total: usize = plan.parts.iter().map(|p| p.data.len()).sum();
        if let Some(claimed) = input.mpu_object_size
            && u64::try_from(claimed).ok() != Some(total as u64)
        {
            return Err(s3_error!(
                InvalidRequest,
                "The x-amz-mp-object-size you specified ({claimed}) does not match the size of the parts ({total})"
            ));
        }
        let mut data = BytesMut::with_capacity(total);
        let mut md5s = Md5::new();
        for part in &plan.parts {
            data.extend_from_slice(&part.data);
            md5s.update(part.md5);
        }
        let etag = format!("{}-{}", hex::encode(md5s.finalize()), plan.parts.len());
        let claimed = checksum_of(
            input.checksum_crc32.as_ref(),
            input.checksum_crc32c.as_ref(),
            input.checksum_sha1.as_ref(),
            input.checksum_sha256.as_ref(),
            input.checksum_crc64nvme.as_ref(),
        );
        let checksum = object_checksum(&plan, &data, &claimed, input.checksum_type.as_ref())?;
        let mut object = plan.template;
        object.data = data.freeze();
        object.etag.clone_from(&etag);
        object.last_modified = now_ts();
        object.checksum = checksum.clone();
        object.parts = plan
            .parts
            .iter()
            .map(|p| PartInfo {
                size: p.data.len() as u64,
                checksum: plan
                    .algorithm
                    .as_deref()
                    .map(|a| checksums::only(&p.checksum, a))
                    .unwrap_or_default(),
            })
            .collect();
        let written = self.store_object(
            &ctx,
            NewVersion {
                created_by: CreatedBy::CompleteMultipartUpload,
                bucket: &input.bucket,
                key: &input.key,
                object,
                if_match: input.if_match.as_ref(),
                if_none_match: input.if_none_match.as_ref(),
            },
        )?;
        let answer = CompleteMultipartUploadOutput {
            location: Some(format!("/{}/{}", input.bucket, input.key)),
            bucket: Some(input.bucket.clone()),
            key: Some(input.key.clone()),
            e_tag: Some(ETag::Strong(etag)),
            checksum_crc32: checksum.checksum_crc32,
            checksum_crc32c: checksum.checksum_crc32c,
            checksum_crc64nvme: checksum.checksum_crc64nvme,
            checksum_sha1: checksum.checksum_sha1,
            checksum_sha256: checksum.checksum_sha256,
            checksum_type: checksum.checksum_type,
            version_id: written.shown_version,
            ..Default::default()
        };
        let mut buckets = self.store.lock();
        if let Some(b) = buckets.get_mut(&input.bucket) {
            b.uploads.remove(&input.upload_id);
            b.completed.remember(&input.upload_id, &input.key, &answer);
        }
        Ok(S3Response::new(answer))
    }
}
