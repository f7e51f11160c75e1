//! Object tagging: the `x-amz-tagging` header of writes and Put/Get/DeleteObjectTagging, on the
//! current version or the one a `versionId` names.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::backend::{Backend, no_such_bucket, no_such_key};
use super::store::StoredObject;
use super::versioning::{invalid_version_id, no_such_version, shown};
use super::versions::is_well_formed;

/// Decodes an `x-amz-tagging` header (`k1=v1&k2=v2`, form-encoded).
pub(crate) fn parse_tagging_header(header: &str) -> Vec<(String, String)> {
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

impl Backend {
    /// Runs `f` on the object version a request names (the current one without a version id);
    /// also returns the version id to show.
    pub(crate) fn with_object_mut<R>(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        f: impl FnOnce(&mut StoredObject) -> R,
    ) -> S3Result<(R, Option<String>)> {
        if let Some(id) = version_id
            && !is_well_formed(id)
        {
            return Err(invalid_version_id(id));
        }
        let mut buckets = self.store.lock();
        let b = buckets
            .get_mut(bucket)
            .ok_or_else(|| no_such_bucket(bucket))?;
        let versioning = b.versioning;
        let obj = b
            .objects
            .get_mut(key)
            .and_then(|h| h.object_mut(version_id))
            .ok_or_else(|| match version_id {
                Some(id) => no_such_version(key, id),
                None => no_such_key(key),
            })?;
        let shown = shown(versioning, &obj.version_id, version_id.is_some());
        Ok((f(obj), shown))
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
        let ((), version_id) = self.with_object_mut(
            &input.bucket,
            &input.key,
            input.version_id.as_deref(),
            |o| o.tags = tags,
        )?;
        Ok(S3Response::new(PutObjectTaggingOutput { version_id }))
    }

    pub(crate) fn op_get_object_tagging(
        &self,
        req: S3Request<GetObjectTaggingInput>,
    ) -> S3Result<S3Response<GetObjectTaggingOutput>> {
        let input = req.input;
        let (tags, version_id) = self.with_object_mut(
            &input.bucket,
            &input.key,
            input.version_id.as_deref(),
            |o| o.tags.clone(),
        )?;
        let tag_set = tags
            .into_iter()
            .map(|(k, v)| Tag {
                key: Some(k),
                value: Some(v),
            })
            .collect();
        Ok(S3Response::new(GetObjectTaggingOutput {
            tag_set,
            version_id,
        }))
    }

    pub(crate) fn op_delete_object_tagging(
        &self,
        req: S3Request<DeleteObjectTaggingInput>,
    ) -> S3Result<S3Response<DeleteObjectTaggingOutput>> {
        let input = req.input;
        let ((), version_id) = self.with_object_mut(
            &input.bucket,
            &input.key,
            input.version_id.as_deref(),
            |o| o.tags.clear(),
        )?;
        Ok(S3Response::new(DeleteObjectTaggingOutput { version_id }))
    }
}
