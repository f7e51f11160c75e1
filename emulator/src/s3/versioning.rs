//! Bucket versioning: Put/GetBucketVersioning, finding the version a request names (with S3's
//! delete-marker answers), and writing a new version (then notifying).

use http::{HeaderMap, HeaderValue};
use s3s::dto::*;
use s3s::{S3Error, S3Request, S3Response, S3Result, s3_error};

use super::backend::{Backend, RequestContext, no_such_bucket, no_such_key};
use super::conditions::check_write_conditions;
use super::notification_config::Created;
use super::store::{StoredObject, Versioning};
use super::versions::{DeleteMarker, Version, is_well_formed};
use crate::notify::CreatedBy;

/// An object version a read resolved to.
#[derive(Debug)]
pub(crate) struct Found {
    pub(crate) object: StoredObject,
    /// What to send as `x-amz-version-id`: nothing in a never-versioned bucket unless the
    /// request named a version.
    pub(crate) shown_version: Option<String>,
}

/// The version id to show in a response for a version of a bucket in this state.
pub(crate) fn shown(versioning: Versioning, version_id: &str, asked: bool) -> Option<String> {
    (versioning.shows_ids() || asked).then(|| version_id.to_owned())
}

/// 400 for a version id that cannot name any version.
pub(crate) fn invalid_version_id(version_id: &str) -> S3Error {
    s3_error!(
        InvalidArgument,
        "Invalid version id specified: {version_id:?}"
    )
}

/// 404 NoSuchVersion.
pub(crate) fn no_such_version(key: &str, version_id: &str) -> S3Error {
    s3_error!(
        NoSuchVersion,
        "The specified version does not exist (key {key:?}, version id {version_id:?})"
    )
}

fn marker_headers(marker: &DeleteMarker, with_last_modified: bool) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("x-amz-delete-marker", HeaderValue::from_static("true"));
    if let Ok(v) = HeaderValue::from_str(&marker.version_id) {
        headers.insert("x-amz-version-id", v);
    }
    if with_last_modified {
        let mut buf = Vec::new();
        if marker
            .last_modified
            .format(TimestampFormat::HttpDate, &mut buf)
            .is_ok()
            && let Ok(v) = HeaderValue::from_bytes(&buf)
        {
            headers.insert(http::header::LAST_MODIFIED, v);
        }
    }
    headers
}

/// GET/HEAD of a key whose latest version is a delete marker: 404 NoSuchKey, marked as such.
fn deleted_key(key: &str, marker: &DeleteMarker) -> S3Error {
    let mut err = no_such_key(key);
    err.set_headers(marker_headers(marker, false));
    err
}

/// GET/HEAD naming a delete marker by version id: 405, as S3 answers.
fn names_a_delete_marker(marker: &DeleteMarker) -> S3Error {
    let mut err = s3_error!(
        MethodNotAllowed,
        "The specified method is not allowed against this resource (version {} is a delete marker).",
        marker.version_id
    );
    let mut headers = marker_headers(marker, true);
    headers.insert(http::header::ALLOW, HeaderValue::from_static("DELETE"));
    err.set_headers(headers);
    err
}

/// A version about to be written, with the write's conditions.
pub(crate) struct NewVersion<'a> {
    pub(crate) created_by: CreatedBy,
    pub(crate) bucket: &'a str,
    pub(crate) key: &'a str,
    pub(crate) object: StoredObject,
    pub(crate) if_match: Option<&'a ETagCondition>,
    pub(crate) if_none_match: Option<&'a ETagCondition>,
}

/// What a successful write stored.
#[derive(Debug)]
pub(crate) struct Written {
    /// What to send as `x-amz-version-id`.
    pub(crate) shown_version: Option<String>,
}

impl Backend {
    /// The object a read names: the version `version_id`, or the current one.
    ///
    /// # Errors
    /// NoSuchBucket; NoSuchKey (with `x-amz-delete-marker` when the latest version is a delete
    /// marker); NoSuchVersion; 400 for a malformed version id; 405 when the id names a marker.
    pub(crate) fn find_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> S3Result<Found> {
        if let Some(id) = version_id
            && !is_well_formed(id)
        {
            return Err(invalid_version_id(id));
        }
        let buckets = self.store.lock();
        let b = buckets.get(bucket).ok_or_else(|| no_such_bucket(bucket))?;
        let history = b.objects.get(key);
        let version = match version_id {
            Some(id) => history
                .and_then(|h| h.find(id))
                .ok_or_else(|| no_such_version(key, id))?,
            None => history
                .and_then(|h| h.latest())
                .ok_or_else(|| no_such_key(key))?,
        };
        match version {
            Version::Object(o) => Ok(Found {
                shown_version: shown(b.versioning, &o.version_id, version_id.is_some()),
                object: (**o).clone(),
            }),
            Version::DeleteMarker(m) if version_id.is_some() => Err(names_a_delete_marker(m)),
            Version::DeleteMarker(m) => Err(deleted_key(key, m)),
        }
    }

    /// Stores an object as the key's new version (if its write conditions hold, checked under
    /// the same lock) and fires its notifications.
    ///
    /// The event record names the version id when versioning is enabled, as S3's do.
    ///
    /// # Errors
    /// NoSuchBucket; PreconditionFailed or NoSuchKey from `If-Match` / `If-None-Match`.
    pub(crate) fn store_object(
        &self,
        ctx: &RequestContext,
        new: NewVersion<'_>,
    ) -> S3Result<Written> {
        let size = new.object.data.len() as u64;
        let etag = new.object.etag.clone();
        let (versioning, version_id, rules) = {
            let mut buckets = self.store.lock();
            let b = buckets
                .get_mut(new.bucket)
                .ok_or_else(|| no_such_bucket(new.bucket))?;
            let current = b.objects.get(new.key).and_then(|h| h.current());
            check_write_conditions(
                new.key,
                current.map(|o| o.etag.as_str()),
                new.if_match,
                new.if_none_match,
            )?;
            let versioning = b.versioning;
            let id = b
                .objects
                .entry(new.key.to_owned())
                .or_default()
                .put(versioning, new.object);
            (versioning, id, b.rules.clone())
        };
        self.object_created(
            ctx,
            Created {
                created_by: new.created_by,
                bucket: new.bucket,
                key: new.key,
                size,
                etag: &etag,
                version_id: (versioning == Versioning::Enabled).then(|| version_id.clone()),
                rules,
            },
        );
        Ok(Written {
            shown_version: shown(versioning, &version_id, false),
        })
    }

    pub(crate) fn op_put_bucket_versioning(
        &self,
        req: S3Request<PutBucketVersioningInput>,
    ) -> S3Result<S3Response<PutBucketVersioningOutput>> {
        let input = req.input;
        let config = input.versioning_configuration;
        if config
            .mfa_delete
            .as_ref()
            .is_some_and(|m| m.as_str() == MFADelete::ENABLED)
        {
            return Err(s3_error!(
                NotImplemented,
                "MFA delete is not emulated; send MfaDelete Disabled or leave it out"
            ));
        }
        let state = match config.status.as_ref().map(BucketVersioningStatus::as_str) {
            None => None,
            Some(BucketVersioningStatus::ENABLED) => Some(Versioning::Enabled),
            Some(BucketVersioningStatus::SUSPENDED) => Some(Versioning::Suspended),
            Some(other) => {
                return Err(s3_error!(
                    IllegalVersioningConfigurationException,
                    "The versioning status must be Enabled or Suspended, not {other:?}"
                ));
            }
        };
        let mut buckets = self.store.lock();
        let b = buckets
            .get_mut(&input.bucket)
            .ok_or_else(|| no_such_bucket(&input.bucket))?;
        if let Some(state) = state {
            b.versioning = state;
        }
        Ok(S3Response::new(PutBucketVersioningOutput::default()))
    }

    pub(crate) fn op_get_bucket_versioning(
        &self,
        req: S3Request<GetBucketVersioningInput>,
    ) -> S3Result<S3Response<GetBucketVersioningOutput>> {
        let name = req.input.bucket;
        let buckets = self.store.lock();
        let b = buckets.get(&name).ok_or_else(|| no_such_bucket(&name))?;
        let status = match b.versioning {
            Versioning::Unversioned => None,
            Versioning::Enabled => Some(BucketVersioningStatus::ENABLED),
            Versioning::Suspended => Some(BucketVersioningStatus::SUSPENDED),
        };
        Ok(S3Response::new(GetBucketVersioningOutput {
            status: status.map(BucketVersioningStatus::from_static),
            mfa_delete: None,
        }))
    }
}
