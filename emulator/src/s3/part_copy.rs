//! UploadPartCopy: a part taken from an existing object (a version of it, a byte range of it),
//! under the copy-source conditions — what boto3's managed `copy` and `aws s3 cp s3://… s3://…`
//! use for objects above their multipart threshold.

use md5::{Digest as _, Md5};
use s3s::dto::*;
use s3s::{S3Error, S3Request, S3Response, S3Result, s3_error};

use super::backend::Backend;
use super::checksums;
use super::conditions::{Conditions, check_copy_source_conditions, now_ts};
use super::multipart::check_part_number;
use super::store::StoredPart;

fn bad_range_form(range: &str) -> S3Error {
    s3_error!(
        InvalidArgument,
        "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy (got {range:?})"
    )
}

/// Parses `bytes=first-last` against the source size into a byte span.
fn copy_range(range: &str, size: usize) -> S3Result<std::ops::Range<usize>> {
    let (first, last) = range
        .trim()
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .ok_or_else(|| bad_range_form(range))?;
    let first: usize = first.parse().map_err(|_| bad_range_form(range))?;
    let last: usize = last.parse().map_err(|_| bad_range_form(range))?;
    if first > last || last >= size {
        return Err(s3_error!(
            InvalidArgument,
            "Range specified is not valid for source object of size: {size}"
        ));
    }
    Ok(first..last + 1)
}

impl Backend {
    pub(crate) fn op_upload_part_copy(
        &self,
        req: S3Request<UploadPartCopyInput>,
    ) -> S3Result<S3Response<UploadPartCopyOutput>> {
        let input = req.input;
        check_part_number(input.part_number)?;
        let algorithm = self.upload_algorithm(&input.bucket, &input.key, &input.upload_id)?;
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
        let data = source.object.data;
        let data = match input.copy_source_range.as_deref() {
            Some(range) => data.slice(copy_range(range, data.len())?),
            None => data,
        };
        let md5: [u8; 16] = Md5::digest(&data).into();
        let mut checksum = Checksum::default();
        if let Some(a) = algorithm.as_deref()
            && let Some(v) = checksums::compute(a, &data)
        {
            checksum = checksums::single(a, v, ChecksumType::COMPOSITE);
            checksum.checksum_type = None;
        }
        let last_modified = now_ts();
        self.put_part(
            &input.bucket,
            &input.upload_id,
            input.part_number,
            StoredPart {
                data,
                md5,
                last_modified: last_modified.clone(),
                checksum: checksum.clone(),
            },
        )?;
        Ok(S3Response::new(UploadPartCopyOutput {
            copy_part_result: Some(CopyPartResult {
                e_tag: Some(ETag::Strong(hex::encode(md5))),
                last_modified: Some(last_modified),
                checksum_crc32: checksum.checksum_crc32,
                checksum_crc32c: checksum.checksum_crc32c,
                checksum_crc64nvme: checksum.checksum_crc64nvme,
                checksum_sha1: checksum.checksum_sha1,
                checksum_sha256: checksum.checksum_sha256,
            }),
            copy_source_version_id: source.shown_version,
            ..Default::default()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_source_ranges_are_inclusive_and_checked_against_the_size() {
        let table = [
            ("bytes=0-9", 10, Some(0..10)),
            ("bytes=3-3", 10, Some(3..4)),
            ("bytes=5-10", 10, None),
            ("bytes=6-5", 10, None),
            ("bytes=-5", 10, None),
            ("bytes=5-", 10, None),
            ("0-5", 10, None),
        ];
        for (range, size, want) in table {
            assert_eq!(copy_range(range, size).ok(), want, "{range} of {size}");
        }
    }
}
