//! The `s3s::S3` implementation: one thin method per operation, each delegating to the module
//! that owns the concern. Operations not listed here answer 501 NotImplemented (s3s's default).

use std::net::SocketAddr;
use std::sync::Arc;

use s3s::dto::*;
use s3s::{S3, S3Error, S3Request, S3Response, S3Result, s3_error};

use super::settings::S3Settings;
use super::store::Store;
use crate::notify::Notifier;

/// Per-request facts the server layer attaches to every request (via http extensions).
#[derive(Debug, Clone)]
pub(crate) struct RequestContext {
    /// Also sent as `x-amz-request-id` and in error XML.
    pub(crate) request_id: String,
    /// Also sent as `x-amz-id-2`.
    pub(crate) host_id: String,
    /// The client's address (`requestParameters.sourceIPAddress`).
    pub(crate) peer: SocketAddr,
}

/// The in-memory S3.
#[derive(Debug)]
pub(crate) struct Backend {
    pub(crate) store: Store,
    pub(crate) settings: Arc<S3Settings>,
    pub(crate) notifier: Notifier,
}

/// The bucket owner's canonical id, as S3 shows it in listings and event records.
pub(crate) const OWNER_ID: &str =
    "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a";
/// The bucket owner's principal id as event records show it (`ownerIdentity.principalId`).
pub(crate) const OWNER_PRINCIPAL: &str = "A3FLOWLOGEMULATOR";
/// The bucket owner's display name.
pub(crate) const OWNER_NAME: &str = "flowlog-emulator";

impl Backend {
    pub(crate) fn new(settings: Arc<S3Settings>, notifier: Notifier) -> Self {
        Self {
            store: Store::default(),
            settings,
            notifier,
        }
    }

    pub(crate) fn owner() -> Owner {
        Owner {
            display_name: Some(OWNER_NAME.to_owned()),
            id: Some(OWNER_ID.to_owned()),
        }
    }
}

/// The request context, or a stand-in when the service is called without the server layer.
pub(crate) fn context<T>(req: &S3Request<T>) -> RequestContext {
    req.extensions
        .get::<RequestContext>()
        .cloned()
        .unwrap_or_else(|| RequestContext {
            request_id: "0000000000000000".to_owned(),
            host_id: String::new(),
            peer: SocketAddr::from(([127, 0, 0, 1], 0)),
        })
}

/// The `NoSuchBucket` error every bucket-scoped operation answers for an unknown bucket.
pub(crate) fn no_such_bucket(bucket: &str) -> S3Error {
    s3_error!(
        NoSuchBucket,
        "The specified bucket does not exist: {bucket}"
    )
}

/// The `NoSuchKey` error for an unknown key.
pub(crate) fn no_such_key(key: &str) -> S3Error {
    s3_error!(NoSuchKey, "The specified key does not exist: {key}")
}

/// Writes the `S3` impl: one traced method per operation, delegating to a `Backend::op_*`
/// method. `object` operations also record the key; `object_async` ones read a request body.
macro_rules! s3_operations {
    (
        plain { $($p:ident($pi:ident) -> $po:ident = $pf:ident;)* }
        bucket { $($b:ident($bi:ident) -> $bo:ident = $bf:ident;)* }
        object { $($o:ident($oi:ident) -> $oo:ident = $of:ident;)* }
        object_async { $($a:ident($ai:ident) -> $ao:ident = $af:ident;)* }
    ) => {
        #[async_trait::async_trait]
        impl S3 for Backend {
            $(
                #[tracing::instrument(skip_all)]
                async fn $p(&self, req: S3Request<$pi>) -> S3Result<S3Response<$po>> {
                    self.$pf(req)
                }
            )*
            $(
                #[tracing::instrument(skip_all, fields(bucket = %req.input.bucket))]
                async fn $b(&self, req: S3Request<$bi>) -> S3Result<S3Response<$bo>> {
                    self.$bf(req)
                }
            )*
            $(
                #[tracing::instrument(skip_all, fields(bucket = %req.input.bucket, key = %req.input.key))]
                async fn $o(&self, req: S3Request<$oi>) -> S3Result<S3Response<$oo>> {
                    self.$of(req)
                }
            )*
            $(
                #[tracing::instrument(skip_all, fields(bucket = %req.input.bucket, key = %req.input.key))]
                async fn $a(&self, req: S3Request<$ai>) -> S3Result<S3Response<$ao>> {
                    self.$af(req).await
                }
            )*
        }
    };
}

s3_operations! {
    plain {
        list_buckets(ListBucketsInput) -> ListBucketsOutput = op_list_buckets;
    }
    bucket {
        create_bucket(CreateBucketInput) -> CreateBucketOutput = op_create_bucket;
        head_bucket(HeadBucketInput) -> HeadBucketOutput = op_head_bucket;
        get_bucket_location(GetBucketLocationInput) -> GetBucketLocationOutput = op_get_bucket_location;
        delete_bucket(DeleteBucketInput) -> DeleteBucketOutput = op_delete_bucket;
        delete_objects(DeleteObjectsInput) -> DeleteObjectsOutput = op_delete_objects;
        list_objects(ListObjectsInput) -> ListObjectsOutput = op_list_objects;
        list_objects_v2(ListObjectsV2Input) -> ListObjectsV2Output = op_list_objects_v2;
        list_object_versions(ListObjectVersionsInput) -> ListObjectVersionsOutput = op_list_object_versions;
        list_multipart_uploads(ListMultipartUploadsInput) -> ListMultipartUploadsOutput = op_list_multipart_uploads;
        put_bucket_notification_configuration(PutBucketNotificationConfigurationInput) -> PutBucketNotificationConfigurationOutput = op_put_bucket_notification_configuration;
        get_bucket_notification_configuration(GetBucketNotificationConfigurationInput) -> GetBucketNotificationConfigurationOutput = op_get_bucket_notification_configuration;
        put_bucket_versioning(PutBucketVersioningInput) -> PutBucketVersioningOutput = op_put_bucket_versioning;
        get_bucket_versioning(GetBucketVersioningInput) -> GetBucketVersioningOutput = op_get_bucket_versioning;
        get_bucket_acl(GetBucketAclInput) -> GetBucketAclOutput = op_get_bucket_acl;
        put_bucket_acl(PutBucketAclInput) -> PutBucketAclOutput = op_put_bucket_acl;
        get_bucket_ownership_controls(GetBucketOwnershipControlsInput) -> GetBucketOwnershipControlsOutput = op_get_bucket_ownership_controls;
        put_bucket_ownership_controls(PutBucketOwnershipControlsInput) -> PutBucketOwnershipControlsOutput = op_put_bucket_ownership_controls;
        delete_bucket_ownership_controls(DeleteBucketOwnershipControlsInput) -> DeleteBucketOwnershipControlsOutput = op_delete_bucket_ownership_controls;
        get_public_access_block(GetPublicAccessBlockInput) -> GetPublicAccessBlockOutput = op_get_public_access_block;
        put_public_access_block(PutPublicAccessBlockInput) -> PutPublicAccessBlockOutput = op_put_public_access_block;
        delete_public_access_block(DeletePublicAccessBlockInput) -> DeletePublicAccessBlockOutput = op_delete_public_access_block;
        get_bucket_policy(GetBucketPolicyInput) -> GetBucketPolicyOutput = op_get_bucket_policy;
        put_bucket_policy(PutBucketPolicyInput) -> PutBucketPolicyOutput = op_put_bucket_policy;
        delete_bucket_policy(DeleteBucketPolicyInput) -> DeleteBucketPolicyOutput = op_delete_bucket_policy;
        get_bucket_policy_status(GetBucketPolicyStatusInput) -> GetBucketPolicyStatusOutput = op_get_bucket_policy_status;
    }
    object {
        get_object(GetObjectInput) -> GetObjectOutput = op_get_object;
        head_object(HeadObjectInput) -> HeadObjectOutput = op_head_object;
        get_object_attributes(GetObjectAttributesInput) -> GetObjectAttributesOutput = op_get_object_attributes;
        delete_object(DeleteObjectInput) -> DeleteObjectOutput = op_delete_object;
        copy_object(CopyObjectInput) -> CopyObjectOutput = op_copy_object;
        put_object_tagging(PutObjectTaggingInput) -> PutObjectTaggingOutput = op_put_object_tagging;
        get_object_tagging(GetObjectTaggingInput) -> GetObjectTaggingOutput = op_get_object_tagging;
        delete_object_tagging(DeleteObjectTaggingInput) -> DeleteObjectTaggingOutput = op_delete_object_tagging;
        get_object_acl(GetObjectAclInput) -> GetObjectAclOutput = op_get_object_acl;
        put_object_acl(PutObjectAclInput) -> PutObjectAclOutput = op_put_object_acl;
        create_multipart_upload(CreateMultipartUploadInput) -> CreateMultipartUploadOutput = op_create_multipart_upload;
        upload_part_copy(UploadPartCopyInput) -> UploadPartCopyOutput = op_upload_part_copy;
        complete_multipart_upload(CompleteMultipartUploadInput) -> CompleteMultipartUploadOutput = op_complete_multipart_upload;
        abort_multipart_upload(AbortMultipartUploadInput) -> AbortMultipartUploadOutput = op_abort_multipart_upload;
        list_parts(ListPartsInput) -> ListPartsOutput = op_list_parts;
    }
    object_async {
        put_object(PutObjectInput) -> PutObjectOutput = op_put_object;
        upload_part(UploadPartInput) -> UploadPartOutput = op_upload_part;
    }
}
