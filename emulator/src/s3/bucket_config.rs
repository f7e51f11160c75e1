//! Bucket settings that client tools read and write: Object Ownership, the public access block,
//! and the bucket policy (stored and returned as sent; never evaluated — every request is the
//! owner's).

use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result, s3_error};
use serde_json::Value;

use super::backend::{Backend, no_such_bucket};
use super::store::Bucket;

fn no_public_access_block(bucket: &str) -> S3Error {
    let mut err = S3Error::with_message(
        S3ErrorCode::Custom("NoSuchPublicAccessBlockConfiguration".into()),
        format!("The public access block configuration was not found (bucket {bucket})"),
    );
    err.set_status_code(http::StatusCode::NOT_FOUND);
    err
}

fn no_such_policy(bucket: &str) -> S3Error {
    s3_error!(
        NoSuchBucketPolicy,
        "The bucket policy does not exist (bucket {bucket})"
    )
}

/// Checks the shape S3 requires of a policy document: JSON, an object, with `Statement`.
fn validate_policy(policy: &str) -> S3Result<Value> {
    let doc: Value = serde_json::from_str(policy).map_err(|e| {
        s3_error!(
            MalformedPolicy,
            "Policies must be valid JSON and the first byte must be '{{': {e}"
        )
    })?;
    if !doc.is_object() || doc.get("Statement").is_none() {
        return Err(s3_error!(
            MalformedPolicy,
            "Missing required field Statement"
        ));
    }
    Ok(doc)
}

/// Whether a policy grants anyone (`"Principal": "*"`) an Allow without conditions.
fn policy_is_public(doc: &Value) -> bool {
    let statements = match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect::<Vec<_>>(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    statements.iter().any(|s| {
        let allow = s.get("Effect").and_then(Value::as_str) == Some("Allow");
        let anyone = match s.get("Principal") {
            Some(Value::String(p)) => p == "*",
            Some(Value::Object(m)) => m.get("AWS").is_some_and(|a| match a {
                Value::String(p) => p == "*",
                Value::Array(ps) => ps.iter().any(|p| p.as_str() == Some("*")),
                _ => false,
            }),
            _ => false,
        };
        allow && anyone && s.get("Condition").is_none()
    })
}

impl Backend {
    fn with_bucket<R>(
        &self,
        name: &str,
        f: impl FnOnce(&mut Bucket) -> S3Result<R>,
    ) -> S3Result<R> {
        let mut buckets = self.store.lock();
        let b = buckets.get_mut(name).ok_or_else(|| no_such_bucket(name))?;
        f(b)
    }

    pub(crate) fn op_get_bucket_ownership_controls(
        &self,
        req: S3Request<GetBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<GetBucketOwnershipControlsOutput>> {
        let name = req.input.bucket;
        let ownership = self.with_bucket(&name, |b| Ok(b.ownership.clone()))?;
        let ownership = ownership.ok_or_else(|| {
            s3_error!(
                OwnershipControlsNotFoundError,
                "The bucket ownership controls were not found (bucket {name})"
            )
        })?;
        Ok(S3Response::new(GetBucketOwnershipControlsOutput {
            ownership_controls: Some(OwnershipControls {
                rules: vec![OwnershipControlsRule {
                    object_ownership: ownership,
                }],
            }),
        }))
    }

    pub(crate) fn op_put_bucket_ownership_controls(
        &self,
        req: S3Request<PutBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<PutBucketOwnershipControlsOutput>> {
        let input = req.input;
        let rules = input.ownership_controls.rules;
        let [rule] = rules.as_slice() else {
            return Err(s3_error!(
                MalformedXML,
                "OwnershipControls must hold exactly one rule, got {}",
                rules.len()
            ));
        };
        let ownership = rule.object_ownership.clone();
        match ownership.as_str() {
            ObjectOwnership::BUCKET_OWNER_ENFORCED
            | ObjectOwnership::BUCKET_OWNER_PREFERRED
            | ObjectOwnership::OBJECT_WRITER => {}
            other => {
                return Err(s3_error!(
                    MalformedXML,
                    "ObjectOwnership must be BucketOwnerEnforced, BucketOwnerPreferred or ObjectWriter, not {other:?}"
                ));
            }
        }
        self.with_bucket(&input.bucket, |b| {
            b.ownership = Some(ownership);
            Ok(())
        })?;
        Ok(S3Response::new(PutBucketOwnershipControlsOutput::default()))
    }

    pub(crate) fn op_delete_bucket_ownership_controls(
        &self,
        req: S3Request<DeleteBucketOwnershipControlsInput>,
    ) -> S3Result<S3Response<DeleteBucketOwnershipControlsOutput>> {
        self.with_bucket(&req.input.bucket, |b| {
            b.ownership = None;
            Ok(())
        })?;
        Ok(S3Response::new(
            DeleteBucketOwnershipControlsOutput::default(),
        ))
    }

    pub(crate) fn op_get_public_access_block(
        &self,
        req: S3Request<GetPublicAccessBlockInput>,
    ) -> S3Result<S3Response<GetPublicAccessBlockOutput>> {
        let name = req.input.bucket;
        let config = self.with_bucket(&name, |b| Ok(b.public_access_block.clone()))?;
        let config = config.ok_or_else(|| no_public_access_block(&name))?;
        Ok(S3Response::new(GetPublicAccessBlockOutput {
            public_access_block_configuration: Some(config),
        }))
    }

    pub(crate) fn op_put_public_access_block(
        &self,
        req: S3Request<PutPublicAccessBlockInput>,
    ) -> S3Result<S3Response<PutPublicAccessBlockOutput>> {
        let input = req.input;
        let c = input.public_access_block_configuration;
        // S3 stores every setting, an absent one as false.
        let config = PublicAccessBlockConfiguration {
            block_public_acls: Some(c.block_public_acls.unwrap_or(false)),
            block_public_policy: Some(c.block_public_policy.unwrap_or(false)),
            ignore_public_acls: Some(c.ignore_public_acls.unwrap_or(false)),
            restrict_public_buckets: Some(c.restrict_public_buckets.unwrap_or(false)),
        };
        self.with_bucket(&input.bucket, |b| {
            b.public_access_block = Some(config);
            Ok(())
        })?;
        Ok(S3Response::new(PutPublicAccessBlockOutput::default()))
    }

    pub(crate) fn op_delete_public_access_block(
        &self,
        req: S3Request<DeletePublicAccessBlockInput>,
    ) -> S3Result<S3Response<DeletePublicAccessBlockOutput>> {
        self.with_bucket(&req.input.bucket, |b| {
            b.public_access_block = None;
            Ok(())
        })?;
        Ok(S3Response::new(DeletePublicAccessBlockOutput::default()))
    }

    pub(crate) fn op_get_bucket_policy(
        &self,
        req: S3Request<GetBucketPolicyInput>,
    ) -> S3Result<S3Response<GetBucketPolicyOutput>> {
        let name = req.input.bucket;
        let policy = self.with_bucket(&name, |b| Ok(b.policy.clone()))?;
        let policy = policy.ok_or_else(|| no_such_policy(&name))?;
        Ok(S3Response::new(GetBucketPolicyOutput {
            policy: Some(policy),
        }))
    }

    pub(crate) fn op_put_bucket_policy(
        &self,
        req: S3Request<PutBucketPolicyInput>,
    ) -> S3Result<S3Response<PutBucketPolicyOutput>> {
        let input = req.input;
        let doc = validate_policy(&input.policy)?;
        self.with_bucket(&input.bucket, |b| {
            let blocked = b
                .public_access_block
                .as_ref()
                .and_then(|p| p.block_public_policy)
                .unwrap_or(false);
            if blocked && policy_is_public(&doc) {
                return Err(s3_error!(
                    AccessDenied,
                    "The policy grants public access, which the bucket's public access block (BlockPublicPolicy) forbids"
                ));
            }
            b.policy = Some(input.policy);
            Ok(())
        })?;
        Ok(S3Response::new(PutBucketPolicyOutput::default()))
    }

    pub(crate) fn op_delete_bucket_policy(
        &self,
        req: S3Request<DeleteBucketPolicyInput>,
    ) -> S3Result<S3Response<DeleteBucketPolicyOutput>> {
        self.with_bucket(&req.input.bucket, |b| {
            b.policy = None;
            Ok(())
        })?;
        Ok(S3Response::new(DeleteBucketPolicyOutput::default()))
    }

    pub(crate) fn op_get_bucket_policy_status(
        &self,
        req: S3Request<GetBucketPolicyStatusInput>,
    ) -> S3Result<S3Response<GetBucketPolicyStatusOutput>> {
        let name = req.input.bucket;
        let policy = self.with_bucket(&name, |b| Ok(b.policy.clone()))?;
        let policy = policy.ok_or_else(|| no_such_policy(&name))?;
        let public = validate_policy(&policy).is_ok_and(|doc| policy_is_public(&doc));
        Ok(S3Response::new(GetBucketPolicyStatusOutput {
            policy_status: Some(PolicyStatus {
                is_public: Some(public),
            }),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_are_checked_for_shape_and_publicness() {
        let table = [
            ("not json", None),
            ("[]", None),
            (r#"{"Version":"2012-10-17"}"#, None),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}"#,
                Some(true),
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":"s3:GetObject"}}"#,
                Some(true),
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}"#,
                Some(false),
            ),
            (
                r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*"}]}"#,
                Some(false),
            ),
        ];
        for (policy, want) in table {
            let got = validate_policy(policy).ok().map(|d| policy_is_public(&d));
            assert_eq!(got, want, "{policy}");
        }
    }
}
