//! Bucket operations: create (with Object Ownership and an ACL), head, list, location, delete.

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::acl::{self, GrantHeaders};
use super::backend::{Backend, no_such_bucket};
use super::store::Bucket;

impl Backend {
    pub(crate) fn op_create_bucket(
        &self,
        req: S3Request<CreateBucketInput>,
    ) -> S3Result<S3Response<CreateBucketOutput>> {
        let input = req.input;
        let name = input.bucket;
        let headers = GrantHeaders {
            full_control: input.grant_full_control.as_deref(),
            read: input.grant_read.as_deref(),
            read_acp: input.grant_read_acp.as_deref(),
            write: input.grant_write.as_deref(),
            write_acp: input.grant_write_acp.as_deref(),
        };
        let grants = acl::requested(
            input.acl.as_ref().map(BucketCannedACL::as_str),
            &headers,
            None,
        )?;
        let mut bucket = Bucket::new(input.object_ownership);
        if let Some(grants) = grants {
            acl::check_create(bucket.ownership.as_ref(), &grants)?;
            bucket.acl = grants;
        }
        let mut buckets = self.store.lock();
        if buckets.contains_key(&name) {
            return Err(s3_error!(
                BucketAlreadyOwnedByYou,
                "Your previous request to create the named bucket succeeded and you already own it: {name}"
            ));
        }
        buckets.insert(name.clone(), bucket);
        Ok(S3Response::new(CreateBucketOutput {
            location: Some(format!("/{name}")),
        }))
    }

    pub(crate) fn op_head_bucket(
        &self,
        req: S3Request<HeadBucketInput>,
    ) -> S3Result<S3Response<HeadBucketOutput>> {
        let name = req.input.bucket;
        if !self.store.lock().contains_key(&name) {
            return Err(no_such_bucket(&name));
        }
        Ok(S3Response::new(HeadBucketOutput {
            bucket_region: Some(self.settings.region.clone()),
            ..Default::default()
        }))
    }

    pub(crate) fn op_list_buckets(
        &self,
        _req: S3Request<ListBucketsInput>,
    ) -> S3Result<S3Response<ListBucketsOutput>> {
        let buckets = self
            .store
            .lock()
            .iter()
            .map(|(name, bucket)| s3s::dto::Bucket {
                name: Some(name.clone()),
                creation_date: Some(bucket.created.clone()),
                bucket_region: Some(self.settings.region.clone()),
            })
            .collect();
        Ok(S3Response::new(ListBucketsOutput {
            buckets: Some(buckets),
            owner: Some(Self::owner()),
            ..Default::default()
        }))
    }

    pub(crate) fn op_get_bucket_location(
        &self,
        req: S3Request<GetBucketLocationInput>,
    ) -> S3Result<S3Response<GetBucketLocationOutput>> {
        let name = req.input.bucket;
        if !self.store.lock().contains_key(&name) {
            return Err(no_such_bucket(&name));
        }
        // S3 reports us-east-1 as an empty LocationConstraint.
        let location = (self.settings.region != "us-east-1")
            .then(|| BucketLocationConstraint::from(self.settings.region.clone()));
        Ok(S3Response::new(GetBucketLocationOutput {
            location_constraint: location,
        }))
    }

    pub(crate) fn op_delete_bucket(
        &self,
        req: S3Request<DeleteBucketInput>,
    ) -> S3Result<S3Response<DeleteBucketOutput>> {
        let name = req.input.bucket;
        let mut buckets = self.store.lock();
        let bucket = buckets.get(&name).ok_or_else(|| no_such_bucket(&name))?;
        if !bucket.objects.is_empty() {
            return Err(s3_error!(
                BucketNotEmpty,
                "The bucket you tried to delete is not empty: {name}"
            ));
        }
        buckets.remove(&name);
        Ok(S3Response::new(DeleteBucketOutput::default()))
    }
}
