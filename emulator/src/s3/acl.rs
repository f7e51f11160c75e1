//! Access control lists as a single-account S3 keeps them: canned ACLs, `x-amz-grant-*`
//! headers and XML policies are stored and returned, and refused where S3 refuses them — when
//! the bucket's Object Ownership is BucketOwnerEnforced (the default for new buckets) any ACL
//! granting someone other than the owner is `AccessControlListNotSupported`, and public grants
//! are `AccessDenied` while the bucket's public access block has `BlockPublicAcls`.
//!
//! ACLs are recorded, never enforced: every request is the owner's.

use s3s::dto::*;
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result, s3_error};

use super::backend::{Backend, OWNER_ID, OWNER_NAME, no_such_bucket};
use super::store::Bucket;

const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

fn owner_grantee() -> Grantee {
    Grantee {
        display_name: Some(OWNER_NAME.to_owned()),
        email_address: None,
        id: Some(OWNER_ID.to_owned()),
        type_: Type::from_static(Type::CANONICAL_USER),
        uri: None,
    }
}

fn group(uri: &str) -> Grantee {
    Grantee {
        display_name: None,
        email_address: None,
        id: None,
        type_: Type::from_static(Type::GROUP),
        uri: Some(uri.to_owned()),
    }
}

fn grant(grantee: Grantee, permission: &'static str) -> Grant {
    Grant {
        grantee: Some(grantee),
        permission: Some(Permission::from_static(permission)),
    }
}

/// The owner's FULL_CONTROL and nothing else: what every new bucket and object has.
pub(crate) fn private() -> Vec<Grant> {
    vec![grant(owner_grantee(), Permission::FULL_CONTROL)]
}

/// All four public access block settings on, as S3 configures new buckets.
pub(crate) fn all_blocked() -> PublicAccessBlockConfiguration {
    PublicAccessBlockConfiguration {
        block_public_acls: Some(true),
        block_public_policy: Some(true),
        ignore_public_acls: Some(true),
        restrict_public_buckets: Some(true),
    }
}

/// The grants of a canned ACL (bucket or object); `bucket-owner-*` and `aws-exec-read` are the
/// owner's alone in a single-account S3.
fn canned(name: &str) -> S3Result<Vec<Grant>> {
    let mut grants = private();
    match name {
        "private" | "bucket-owner-full-control" | "bucket-owner-read" | "aws-exec-read" => {}
        "public-read" => grants.push(grant(group(ALL_USERS), Permission::READ)),
        "public-read-write" => {
            grants.push(grant(group(ALL_USERS), Permission::READ));
            grants.push(grant(group(ALL_USERS), Permission::WRITE));
        }
        "authenticated-read" => grants.push(grant(group(AUTHENTICATED_USERS), Permission::READ)),
        "log-delivery-write" => {
            grants.push(grant(group(LOG_DELIVERY), Permission::WRITE));
            grants.push(grant(group(LOG_DELIVERY), Permission::READ_ACP));
        }
        other => {
            return Err(s3_error!(InvalidArgument, "Unknown canned ACL {other:?}"));
        }
    }
    Ok(grants)
}

/// Parses one `x-amz-grant-*` header: `id="…", uri="…", emailAddress="…"`.
fn header_grants(header: &str, permission: &'static str) -> S3Result<Vec<Grant>> {
    let mut grants = Vec::new();
    for item in header.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (kind, value) = item.split_once('=').ok_or_else(|| {
            s3_error!(
                InvalidArgument,
                "A grant header entry must look like id=\"…\" or uri=\"…\", got {item:?}"
            )
        })?;
        let value = value.trim().trim_matches('"').to_owned();
        let grantee = match kind.trim().to_ascii_lowercase().as_str() {
            "id" if value == OWNER_ID => owner_grantee(),
            "id" => Grantee {
                id: Some(value),
                ..owner_grantee()
            },
            "uri" => group(&value),
            "emailaddress" => return Err(unresolvable_email(&value)),
            other => {
                return Err(s3_error!(
                    InvalidArgument,
                    "Unknown grantee type {other:?} in a grant header (id, uri or emailAddress)"
                ));
            }
        };
        grants.push(grant(grantee, permission));
    }
    Ok(grants)
}

fn unresolvable_email(email: &str) -> S3Error {
    s3_error!(
        UnresolvableGrantByEmailAddress,
        "The e-mail address you provided does not match any account on record: {email}"
    )
}

/// The `x-amz-grant-*` headers of a request.
#[derive(Default)]
pub(crate) struct GrantHeaders<'a> {
    pub(crate) full_control: Option<&'a str>,
    pub(crate) read: Option<&'a str>,
    pub(crate) read_acp: Option<&'a str>,
    pub(crate) write: Option<&'a str>,
    pub(crate) write_acp: Option<&'a str>,
}

/// The ACL a request sets — a canned ACL, grant headers or an XML policy — or `None`.
///
/// # Errors
/// InvalidRequest when more than one form is used; InvalidArgument for unknown canned ACLs or
/// grantees; AccessDenied for a policy naming another owner.
pub(crate) fn requested(
    canned_acl: Option<&str>,
    headers: &GrantHeaders<'_>,
    policy: Option<AccessControlPolicy>,
) -> S3Result<Option<Vec<Grant>>> {
    let pairs = [
        (headers.full_control, Permission::FULL_CONTROL),
        (headers.read, Permission::READ),
        (headers.read_acp, Permission::READ_ACP),
        (headers.write, Permission::WRITE),
        (headers.write_acp, Permission::WRITE_ACP),
    ];
    let has_headers = pairs.iter().any(|(h, _)| h.is_some());
    let forms = usize::from(canned_acl.is_some())
        + usize::from(has_headers)
        + usize::from(policy.is_some());
    if forms > 1 {
        return Err(s3_error!(
            InvalidRequest,
            "Specify an ACL in one way only: a canned ACL (x-amz-acl), x-amz-grant-* headers, or an AccessControlPolicy body"
        ));
    }
    if let Some(name) = canned_acl {
        return canned(name).map(Some);
    }
    if has_headers {
        let mut grants = Vec::new();
        for (header, permission) in pairs {
            if let Some(h) = header {
                grants.extend(header_grants(h, permission)?);
            }
        }
        return Ok(Some(grants));
    }
    let Some(policy) = policy else {
        return Ok(None);
    };
    if let Some(id) = policy.owner.as_ref().and_then(|o| o.id.as_deref())
        && id != OWNER_ID
    {
        return Err(s3_error!(
            AccessDenied,
            "The owner in the AccessControlPolicy ({id}) is not the bucket owner ({OWNER_ID})"
        ));
    }
    let grants = policy.grants.unwrap_or_default();
    for g in &grants {
        if let Some(email) = g.grantee.as_ref().and_then(|e| e.email_address.as_deref()) {
            return Err(unresolvable_email(email));
        }
    }
    Ok(Some(grants))
}

/// The ACL a Put*Acl call must carry (S3 answers `MissingSecurityHeader` without one).
fn required(
    canned_acl: Option<&str>,
    headers: &GrantHeaders<'_>,
    policy: Option<AccessControlPolicy>,
) -> S3Result<Vec<Grant>> {
    requested(canned_acl, headers, policy)?.ok_or_else(|| {
        s3_error!(
            MissingSecurityHeader,
            "Send an ACL: x-amz-acl, an x-amz-grant-* header, or an AccessControlPolicy body"
        )
    })
}

fn is_owner_only(grants: &[Grant]) -> bool {
    grants.iter().all(|g| {
        g.grantee.as_ref().is_some_and(|e| {
            e.type_.as_str() == Type::CANONICAL_USER && e.id.as_deref() == Some(OWNER_ID)
        })
    })
}

fn is_public(grants: &[Grant]) -> bool {
    grants.iter().any(|g| {
        g.grantee
            .as_ref()
            .and_then(|e| e.uri.as_deref())
            .is_some_and(|u| u == ALL_USERS || u == AUTHENTICATED_USERS)
    })
}

fn enforced(ownership: Option<&ObjectOwnership>) -> bool {
    ownership.is_some_and(|o| o.as_str() == ObjectOwnership::BUCKET_OWNER_ENFORCED)
}

/// Refuses an ACL the bucket's settings do not allow, as S3 does.
///
/// # Errors
/// AccessControlListNotSupported (ACLs disabled) or AccessDenied (public ACLs blocked).
pub(crate) fn check_allowed(bucket: &Bucket, grants: &[Grant]) -> S3Result<()> {
    if enforced(bucket.ownership.as_ref()) && !is_owner_only(grants) {
        return Err(s3_error!(
            AccessControlListNotSupported,
            "The bucket does not allow ACLs (Object Ownership is BucketOwnerEnforced; change it with PutBucketOwnershipControls)"
        ));
    }
    let blocked = bucket
        .public_access_block
        .as_ref()
        .and_then(|p| p.block_public_acls)
        .unwrap_or(false);
    if blocked && is_public(grants) {
        return Err(s3_error!(
            AccessDenied,
            "Public ACLs are blocked by the bucket's public access block (BlockPublicAcls)"
        ));
    }
    Ok(())
}

/// CreateBucket's ACL against its Object Ownership, as S3 checks them together.
pub(crate) fn check_create(ownership: Option<&ObjectOwnership>, grants: &[Grant]) -> S3Result<()> {
    if (ownership.is_none() || enforced(ownership)) && !is_owner_only(grants) {
        let mut err = S3Error::with_message(
            S3ErrorCode::Custom("InvalidBucketAclWithObjectOwnership".into()),
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
        );
        err.set_status_code(http::StatusCode::BAD_REQUEST);
        return Err(err);
    }
    Ok(())
}

impl Backend {
    pub(crate) fn op_get_bucket_acl(
        &self,
        req: S3Request<GetBucketAclInput>,
    ) -> S3Result<S3Response<GetBucketAclOutput>> {
        let name = req.input.bucket;
        let buckets = self.store.lock();
        let b = buckets.get(&name).ok_or_else(|| no_such_bucket(&name))?;
        Ok(S3Response::new(GetBucketAclOutput {
            grants: Some(b.acl.clone()),
            owner: Some(Self::owner()),
        }))
    }

    pub(crate) fn op_put_bucket_acl(
        &self,
        req: S3Request<PutBucketAclInput>,
    ) -> S3Result<S3Response<PutBucketAclOutput>> {
        let input = req.input;
        let headers = GrantHeaders {
            full_control: input.grant_full_control.as_deref(),
            read: input.grant_read.as_deref(),
            read_acp: input.grant_read_acp.as_deref(),
            write: input.grant_write.as_deref(),
            write_acp: input.grant_write_acp.as_deref(),
        };
        let grants = required(
            input.acl.as_ref().map(BucketCannedACL::as_str),
            &headers,
            input.access_control_policy,
        )?;
        let mut buckets = self.store.lock();
        let b = buckets
            .get_mut(&input.bucket)
            .ok_or_else(|| no_such_bucket(&input.bucket))?;
        check_allowed(b, &grants)?;
        b.acl = grants;
        Ok(S3Response::new(PutBucketAclOutput::default()))
    }

    pub(crate) fn op_get_object_acl(
        &self,
        req: S3Request<GetObjectAclInput>,
    ) -> S3Result<S3Response<GetObjectAclOutput>> {
        let input = req.input;
        let (grants, _) = self.with_object_mut(
            &input.bucket,
            &input.key,
            input.version_id.as_deref(),
            |o| o.acl.clone(),
        )?;
        Ok(S3Response::new(GetObjectAclOutput {
            grants: Some(grants),
            owner: Some(Self::owner()),
            request_charged: None,
        }))
    }

    pub(crate) fn op_put_object_acl(
        &self,
        req: S3Request<PutObjectAclInput>,
    ) -> S3Result<S3Response<PutObjectAclOutput>> {
        let input = req.input;
        let headers = GrantHeaders {
            full_control: input.grant_full_control.as_deref(),
            read: input.grant_read.as_deref(),
            read_acp: input.grant_read_acp.as_deref(),
            write: input.grant_write.as_deref(),
            write_acp: input.grant_write_acp.as_deref(),
        };
        let grants = required(
            input.acl.as_ref().map(ObjectCannedACL::as_str),
            &headers,
            input.access_control_policy,
        )?;
        self.check_object_acl(&input.bucket, &grants)?;
        self.with_object_mut(
            &input.bucket,
            &input.key,
            input.version_id.as_deref(),
            |o| o.acl = grants,
        )?;
        Ok(S3Response::new(PutObjectAclOutput::default()))
    }

    /// Checks an object ACL against its bucket's settings.
    pub(crate) fn check_object_acl(&self, bucket: &str, grants: &[Grant]) -> S3Result<()> {
        let buckets = self.store.lock();
        let b = buckets.get(bucket).ok_or_else(|| no_such_bucket(bucket))?;
        check_allowed(b, grants)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_acls_and_grant_headers_become_grants() {
        let public = requested(Some("public-read"), &GrantHeaders::default(), None);
        assert!(
            public
                .as_ref()
                .is_ok_and(|g| g.as_ref().is_some_and(|g| is_public(g)))
        );
        let owner = format!("id=\"{OWNER_ID}\"");
        let headers = GrantHeaders {
            full_control: Some(&owner),
            ..GrantHeaders::default()
        };
        let owner_only = requested(None, &headers, None);
        assert!(owner_only.is_ok_and(|g| g.is_some_and(|g| is_owner_only(&g))));
        let both = requested(Some("private"), &headers, None);
        assert!(both.is_err(), "canned and headers together are refused");
        assert!(requested(Some("nonsense"), &GrantHeaders::default(), None).is_err());
        let mail = GrantHeaders {
            read: Some("emailAddress=\"a@example.com\""),
            ..GrantHeaders::default()
        };
        assert!(requested(None, &mail, None).is_err());
    }

    #[test]
    fn new_buckets_allow_only_owner_acls() {
        let bucket = Bucket::new(None);
        assert!(check_allowed(&bucket, &private()).is_ok());
        let public = canned("public-read").unwrap_or_default();
        assert!(check_allowed(&bucket, &public).is_err());
        let mut open = Bucket::new(Some(ObjectOwnership::from_static(
            ObjectOwnership::OBJECT_WRITER,
        )));
        assert!(
            check_allowed(&open, &public).is_err(),
            "public access blocked"
        );
        open.public_access_block = None;
        assert!(check_allowed(&open, &public).is_ok());
    }
}
