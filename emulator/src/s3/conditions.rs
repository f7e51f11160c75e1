//! Conditional requests: `If-Match` and friends on reads, on copy sources, and on writes
//! (PutObject, CompleteMultipartUpload), each with the answer S3 gives when one fails.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use s3s::dto::{ETagCondition, Timestamp, TimestampFormat};
use s3s::{S3Error, S3ErrorCode, S3Result, s3_error};

use super::backend::no_such_key;
use super::store::StoredObject;

/// Now, truncated to whole seconds like the HTTP dates clients compare against.
pub(crate) fn now_ts() -> Timestamp {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    Timestamp::from(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Seconds since the epoch of a timestamp (for If-Modified-Since comparisons).
pub(crate) fn epoch_secs(ts: &Timestamp) -> i64 {
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

/// The four conditional headers of GET/HEAD (or of a copy source), in S3's order of precedence.
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

fn precondition_failed() -> S3Error {
    s3_error!(
        PreconditionFailed,
        "At least one of the pre-conditions you specified did not hold"
    )
}

/// Applies conditional headers of a read: 412 PreconditionFailed or 304 NotModified, as S3 does.
pub(crate) fn check_conditions(obj: &StoredObject, c: &Conditions<'_>) -> S3Result<()> {
    let modified = epoch_secs(&obj.last_modified);
    if let Some(cond) = c.if_match {
        if !condition_matches(cond, &obj.etag) {
            return Err(precondition_failed());
        }
    } else if let Some(t) = c.if_unmodified_since
        && modified > epoch_secs(t)
    {
        return Err(precondition_failed());
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

/// The `x-amz-copy-source-if-*` headers: the same tests, but every failure is a 412.
pub(crate) fn check_copy_source_conditions(obj: &StoredObject, c: &Conditions<'_>) -> S3Result<()> {
    check_conditions(obj, c).map_err(|e| {
        if *e.code() == S3ErrorCode::NotModified {
            precondition_failed()
        } else {
            e
        }
    })
}

/// `If-Match` / `If-None-Match` on a write (PutObject, CompleteMultipartUpload), against the
/// key's current object: 412 when one fails; `If-Match` on a key with no object is 404.
pub(crate) fn check_write_conditions(
    key: &str,
    current_etag: Option<&str>,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
) -> S3Result<()> {
    if let Some(cond) = if_none_match
        && let Some(etag) = current_etag
        && condition_matches(cond, etag)
    {
        return Err(s3_error!(
            PreconditionFailed,
            "An object already exists under key {key:?} (If-None-Match)"
        ));
    }
    if let Some(cond) = if_match {
        let Some(etag) = current_etag else {
            return Err(no_such_key(key));
        };
        if !condition_matches(cond, etag) {
            return Err(s3_error!(
                PreconditionFailed,
                "The object under key {key:?} has another ETag (If-Match)"
            ));
        }
    }
    Ok(())
}
