//! Listings of multipart uploads in progress: ListParts and ListMultipartUploads.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result};

use super::backend::{Backend, no_such_bucket};
use super::multipart::{checksum_type_of, no_such_upload};
use super::store::StoredPart;

impl Backend {
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
            checksum_type: checksum_type_of(upload),
            owner: Some(Self::owner()),
            storage_class: upload
                .template
                .storage_class
                .clone()
                .map(StorageClass::from),
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
                checksum_type: checksum_type_of(u),
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
