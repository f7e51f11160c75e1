//! GetObjectAttributes: ETag, checksum, parts (paged), storage class and size of a version,
//! without its body.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::backend::Backend;
use super::checksums::has_any_checksum;
use super::read::len_i64;

impl Backend {
    pub(crate) fn op_get_object_attributes(
        &self,
        req: S3Request<GetObjectAttributesInput>,
    ) -> S3Result<S3Response<GetObjectAttributesOutput>> {
        let input = req.input;
        if input.object_attributes.is_empty() {
            return Err(s3_error!(
                InvalidArgument,
                "Send x-amz-object-attributes with at least one of ETag, Checksum, ObjectParts, StorageClass, ObjectSize"
            ));
        }
        // One header value may list several attributes (`ETag,ObjectSize`, as boto3 sends).
        let wants = |name: &str| {
            input
                .object_attributes
                .iter()
                .flat_map(|a| a.as_str().split(','))
                .any(|a| a.trim().eq_ignore_ascii_case(name))
        };
        let found = self.find_object(&input.bucket, &input.key, input.version_id.as_deref())?;
        let obj = found.object;
        let parts = (wants(ObjectAttributes::OBJECT_PARTS) && !obj.parts.is_empty()).then(|| {
            let max =
                usize::try_from(input.max_parts.unwrap_or(1000).clamp(0, 1000)).unwrap_or(1000);
            let marker = input.part_number_marker.unwrap_or(0);
            let after: Vec<(i32, &super::store::PartInfo)> = obj
                .parts
                .iter()
                .enumerate()
                .map(|(i, p)| (i32::try_from(i + 1).unwrap_or(i32::MAX), p))
                .filter(|(n, _)| *n > marker)
                .collect();
            let truncated = after.len() > max;
            let listed: Vec<ObjectPart> = after
                .iter()
                .take(max)
                .map(|(n, p)| ObjectPart {
                    part_number: Some(*n),
                    size: Some(i64::try_from(p.size).unwrap_or(i64::MAX)),
                    checksum_crc32: p.checksum.checksum_crc32.clone(),
                    checksum_crc32c: p.checksum.checksum_crc32c.clone(),
                    checksum_crc64nvme: p.checksum.checksum_crc64nvme.clone(),
                    checksum_sha1: p.checksum.checksum_sha1.clone(),
                    checksum_sha256: p.checksum.checksum_sha256.clone(),
                })
                .collect();
            GetObjectAttributesParts {
                is_truncated: Some(truncated),
                max_parts: Some(i32::try_from(max).unwrap_or(1000)),
                next_part_number_marker: truncated
                    .then(|| listed.last().and_then(|p| p.part_number))
                    .flatten(),
                part_number_marker: Some(marker),
                parts: Some(listed),
                total_parts_count: obj.parts_count(),
            }
        });
        Ok(S3Response::new(GetObjectAttributesOutput {
            e_tag: wants(ObjectAttributes::ETAG).then(|| ETag::Strong(obj.etag.clone())),
            checksum: (wants(ObjectAttributes::CHECKSUM) && has_any_checksum(&obj.checksum))
                .then(|| obj.checksum.clone()),
            object_parts: parts,
            object_size: wants(ObjectAttributes::OBJECT_SIZE).then(|| len_i64(obj.data.len())),
            storage_class: wants(ObjectAttributes::STORAGE_CLASS).then(|| {
                StorageClass::from(
                    obj.storage_class
                        .clone()
                        .unwrap_or_else(|| StorageClass::STANDARD.to_owned()),
                )
            }),
            last_modified: Some(obj.last_modified),
            version_id: found.shown_version,
            delete_marker: None,
            request_charged: None,
        }))
    }
}
