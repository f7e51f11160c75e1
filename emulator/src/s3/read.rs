//! Reads: GetObject and HeadObject — the version a request names, byte ranges, one part of a
//! multipart object (`partNumber`, `x-amz-mp-parts-count`), conditions, and checksums.

use std::ops::Range as Span;

use bytes::Bytes;
use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result, s3_error};

use super::backend::Backend;
use super::conditions::{Conditions, check_conditions};
use super::store::StoredObject;

fn invalid_range(len: usize) -> S3Error {
    s3_error!(
        InvalidRange,
        "The requested range is not satisfiable (object size {len} bytes)"
    )
}

fn invalid_part_number(part: i32, count: usize) -> S3Error {
    let mut err = S3Error::with_message(
        S3ErrorCode::Custom("InvalidPartNumber".into()),
        format!(
            "The requested partnumber is not satisfiable: part {part} of an object with {count} part(s)"
        ),
    );
    err.set_status_code(http::StatusCode::RANGE_NOT_SATISFIABLE);
    err
}

/// What a read serves: a slice of the object, its `Content-Range`, and the checksum that is
/// valid for exactly those bytes (when one is).
struct Selection {
    span: Span<usize>,
    content_range: Option<String>,
    checksum: Checksum,
}

fn content_range(span: &Span<usize>, len: usize) -> Option<String> {
    (!span.is_empty()).then(|| format!("bytes {}-{}/{len}", span.start, span.end - 1))
}

/// The bytes a GET/HEAD asks for: a `Range`, a `partNumber`, or the whole object.
fn select(obj: &StoredObject, range: Option<&Range>, part: Option<i32>) -> S3Result<Selection> {
    let len = obj.data.len();
    match (range, part) {
        (Some(_), Some(_)) => Err(s3_error!(
            InvalidRequest,
            "Cannot specify both Range header and partNumber query parameter"
        )),
        (Some(range), None) => {
            let r = range.check(len as u64).map_err(|_| invalid_range(len))?;
            let span = usize::try_from(r.start).map_err(|_| invalid_range(len))?
                ..usize::try_from(r.end).map_err(|_| invalid_range(len))?;
            if span.is_empty() {
                return Err(invalid_range(len));
            }
            // Never a whole-object checksum on a 206: clients would validate the slice against it.
            Ok(Selection {
                content_range: content_range(&span, len),
                span,
                checksum: Checksum::default(),
            })
        }
        (None, Some(n)) if obj.parts.is_empty() => {
            if n != 1 {
                return Err(invalid_part_number(n, 1));
            }
            let span = 0..len;
            Ok(Selection {
                content_range: content_range(&span, len),
                span,
                checksum: obj.checksum.clone(),
            })
        }
        (None, Some(n)) => {
            let index = usize::try_from(n)
                .ok()
                .and_then(|n| n.checked_sub(1))
                .filter(|i| *i < obj.parts.len())
                .ok_or_else(|| invalid_part_number(n, obj.parts.len()))?;
            let start: u64 = obj.parts[..index].iter().map(|p| p.size).sum();
            let end = start + obj.parts[index].size;
            let span = usize::try_from(start).unwrap_or(len)..usize::try_from(end).unwrap_or(len);
            let mut checksum = obj.parts[index].checksum.clone();
            checksum
                .checksum_type
                .clone_from(&obj.checksum.checksum_type);
            Ok(Selection {
                content_range: content_range(&span, len),
                span,
                checksum,
            })
        }
        (None, None) => Ok(Selection {
            span: 0..len,
            content_range: None,
            checksum: obj.checksum.clone(),
        }),
    }
}

fn wants_checksum(mode: Option<&ChecksumMode>) -> bool {
    mode.is_some_and(|m| m.as_str().eq_ignore_ascii_case(ChecksumMode::ENABLED))
}

pub(crate) fn len_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// `x-amz-storage-class` is sent only for classes other than STANDARD.
fn storage_class(obj: &StoredObject) -> Option<StorageClass> {
    obj.storage_class.clone().map(StorageClass::from)
}

fn tag_count(obj: &StoredObject) -> Option<i32> {
    (!obj.tags.is_empty()).then(|| i32::try_from(obj.tags.len()).unwrap_or(i32::MAX))
}

impl Backend {
    pub(crate) fn op_get_object(
        &self,
        req: S3Request<GetObjectInput>,
    ) -> S3Result<S3Response<GetObjectOutput>> {
        let input = req.input;
        let found = self.find_object(&input.bucket, &input.key, input.version_id.as_deref())?;
        let obj = found.object;
        check_conditions(
            &obj,
            &Conditions {
                if_match: input.if_match.as_ref(),
                if_none_match: input.if_none_match.as_ref(),
                if_modified_since: input.if_modified_since.as_ref(),
                if_unmodified_since: input.if_unmodified_since.as_ref(),
            },
        )?;
        if let Some(class) = obj
            .storage_class
            .as_deref()
            .filter(|c| [StorageClass::GLACIER, StorageClass::DEEP_ARCHIVE].contains(c))
        {
            return Err(s3_error!(
                InvalidObjectState,
                "The operation is not valid for the object's storage class ({class}); archived objects must be restored first, which the emulator does not do"
            ));
        }
        let sel = select(&obj, input.range.as_ref(), input.part_number)?;
        let checksum = if wants_checksum(input.checksum_mode.as_ref()) {
            sel.checksum
        } else {
            Checksum::default()
        };
        let data: Bytes = obj.data.slice(sel.span);
        Ok(S3Response::new(GetObjectOutput {
            content_length: Some(len_i64(data.len())),
            body: Some(StreamingBlob::from(s3s::Body::from(data))),
            content_range: sel.content_range,
            accept_ranges: Some("bytes".to_owned()),
            parts_count: input.part_number.and_then(|_| obj.parts_count()),
            storage_class: storage_class(&obj),
            tag_count: tag_count(&obj),
            content_type: obj.content_type,
            content_encoding: obj.content_encoding,
            content_language: obj.content_language,
            cache_control: obj.cache_control,
            content_disposition: obj.content_disposition,
            expires: obj.expires,
            e_tag: Some(ETag::Strong(obj.etag)),
            last_modified: Some(obj.last_modified),
            metadata: obj.metadata,
            version_id: found.shown_version,
            checksum_crc32: checksum.checksum_crc32,
            checksum_crc32c: checksum.checksum_crc32c,
            checksum_sha1: checksum.checksum_sha1,
            checksum_sha256: checksum.checksum_sha256,
            checksum_crc64nvme: checksum.checksum_crc64nvme,
            checksum_type: checksum.checksum_type,
            ..Default::default()
        }))
    }

    pub(crate) fn op_head_object(
        &self,
        req: S3Request<HeadObjectInput>,
    ) -> S3Result<S3Response<HeadObjectOutput>> {
        let input = req.input;
        let found = self.find_object(&input.bucket, &input.key, input.version_id.as_deref())?;
        let obj = found.object;
        check_conditions(
            &obj,
            &Conditions {
                if_match: input.if_match.as_ref(),
                if_none_match: input.if_none_match.as_ref(),
                if_modified_since: input.if_modified_since.as_ref(),
                if_unmodified_since: input.if_unmodified_since.as_ref(),
            },
        )?;
        let sel = select(&obj, input.range.as_ref(), input.part_number)?;
        let checksum = if wants_checksum(input.checksum_mode.as_ref()) {
            sel.checksum
        } else {
            Checksum::default()
        };
        Ok(S3Response::new(HeadObjectOutput {
            content_length: Some(len_i64(sel.span.len())),
            content_range: sel.content_range,
            accept_ranges: Some("bytes".to_owned()),
            parts_count: input.part_number.and_then(|_| obj.parts_count()),
            storage_class: storage_class(&obj),
            content_type: obj.content_type,
            content_encoding: obj.content_encoding,
            content_language: obj.content_language,
            cache_control: obj.cache_control,
            content_disposition: obj.content_disposition,
            expires: obj.expires,
            e_tag: Some(ETag::Strong(obj.etag)),
            last_modified: Some(obj.last_modified),
            metadata: obj.metadata,
            version_id: found.shown_version,
            checksum_crc32: checksum.checksum_crc32,
            checksum_crc32c: checksum.checksum_crc32c,
            checksum_sha1: checksum.checksum_sha1,
            checksum_sha256: checksum.checksum_sha256,
            checksum_crc64nvme: checksum.checksum_crc64nvme,
            checksum_type: checksum.checksum_type,
            ..Default::default()
        }))
    }
}
