//! aws-sdk-s3 against the emulated S3 over real TCP: the ACL, policy, ownership and
//! public-access calls client tools make, answered as a single-account S3 answers them.

use anyhow::{Context as _, Result};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketCannedAcl, ObjectCannedAcl, ObjectOwnership, OwnershipControls, OwnershipControlsRule,
    Permission, PublicAccessBlockConfiguration, Type,
};
use flowlog_emulator::Emulator;

mod s3_support;

use s3_support::{failure, put};

const PUBLIC_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"}]}"#;
const PRIVATE_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::bkt"}]}"#;

#[tokio::test]
async fn a_new_bucket_has_the_owners_acl_enforced_ownership_and_blocked_public_access() -> Result<()>
{
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;
    put(&s3, "bkt", "k", b"x").await?;

    let acl = s3.get_bucket_acl().bucket("bkt").send().await?;
    let object_acl = s3.get_object_acl().bucket("bkt").key("k").send().await?;
    let ownership = s3
        .get_bucket_ownership_controls()
        .bucket("bkt")
        .send()
        .await?;
    let block = s3.get_public_access_block().bucket("bkt").send().await?;
    s3.put_bucket_acl()
        .bucket("bkt")
        .acl(BucketCannedAcl::Private)
        .send()
        .await?;
    s3.put_object_acl()
        .bucket("bkt")
        .key("k")
        .acl(ObjectCannedAcl::BucketOwnerFullControl)
        .send()
        .await?;
    let public = s3
        .put_bucket_acl()
        .bucket("bkt")
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await;
    let public_object = s3
        .put_object()
        .bucket("bkt")
        .key("p")
        .acl(ObjectCannedAcl::PublicRead)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await;
    let location = s3.get_bucket_location().bucket("bkt").send().await?;

    let owner_id = acl.owner().and_then(|o| o.id()).context("owner")?;
    let grants: Vec<_> = acl
        .grants()
        .iter()
        .map(|g| {
            (
                g.grantee().map(|e| e.r#type().clone()),
                g.grantee().and_then(|e| e.id()),
                g.permission().cloned(),
            )
        })
        .collect();
    assert_eq!(
        grants,
        [(
            Some(Type::CanonicalUser),
            Some(owner_id),
            Some(Permission::FullControl)
        )]
    );
    assert_eq!(object_acl.grants().len(), 1);
    let rules = ownership
        .ownership_controls()
        .map(|c| c.rules().to_vec())
        .unwrap_or_default();
    assert_eq!(
        rules.first().map(|r| r.object_ownership().clone()),
        Some(ObjectOwnership::BucketOwnerEnforced)
    );
    let config = block
        .public_access_block_configuration()
        .context("config")?;
    assert_eq!(config.block_public_acls(), Some(true));
    assert_eq!(config.restrict_public_buckets(), Some(true));
    assert_eq!(
        failure(&public),
        (Some(400), Some("AccessControlListNotSupported".to_owned()))
    );
    assert_eq!(
        failure(&public_object),
        (Some(400), Some("AccessControlListNotSupported".to_owned()))
    );
    assert!(
        location
            .location_constraint()
            .is_none_or(|c| c.as_str().is_empty())
    );
    Ok(())
}

#[tokio::test]
async fn acls_apply_once_ownership_allows_them_and_public_access_is_unblocked() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;
    s3.put_bucket_ownership_controls()
        .bucket("bkt")
        .ownership_controls(
            OwnershipControls::builder()
                .rules(
                    OwnershipControlsRule::builder()
                        .object_ownership(ObjectOwnership::ObjectWriter)
                        .build()?,
                )
                .build()?,
        )
        .send()
        .await?;
    let blocked = s3
        .put_bucket_acl()
        .bucket("bkt")
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await;
    s3.put_public_access_block()
        .bucket("bkt")
        .public_access_block_configuration(
            PublicAccessBlockConfiguration::builder()
                .block_public_acls(false)
                .build(),
        )
        .send()
        .await?;
    s3.put_bucket_acl()
        .bucket("bkt")
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await?;
    let acl = s3.get_bucket_acl().bucket("bkt").send().await?;
    s3.put_object()
        .bucket("bkt")
        .key("k")
        .grant_read("uri=\"http://acs.amazonaws.com/groups/global/AllUsers\"")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await?;
    let object_acl = s3.get_object_acl().bucket("bkt").key("k").send().await?;
    let block = s3.get_public_access_block().bucket("bkt").send().await?;
    s3.delete_public_access_block().bucket("bkt").send().await?;
    let no_block = s3.get_public_access_block().bucket("bkt").send().await;
    s3.delete_bucket_ownership_controls()
        .bucket("bkt")
        .send()
        .await?;
    let no_controls = s3
        .get_bucket_ownership_controls()
        .bucket("bkt")
        .send()
        .await;

    assert_eq!(
        failure(&blocked),
        (Some(403), Some("AccessDenied".to_owned()))
    );
    let uris: Vec<_> = acl
        .grants()
        .iter()
        .filter_map(|g| g.grantee().and_then(|e| e.uri()))
        .collect();
    assert_eq!(uris, ["http://acs.amazonaws.com/groups/global/AllUsers"]);
    assert_eq!(
        object_acl.grants().len(),
        1,
        "the grant header replaces the default"
    );
    assert_eq!(
        block
            .public_access_block_configuration()
            .and_then(|c| c.ignore_public_acls()),
        Some(false),
        "settings left out are stored as false"
    );
    assert_eq!(
        failure(&no_block),
        (
            Some(404),
            Some("NoSuchPublicAccessBlockConfiguration".to_owned())
        )
    );
    assert_eq!(
        failure(&no_controls),
        (Some(404), Some("OwnershipControlsNotFoundError".to_owned()))
    );
    Ok(())
}

#[tokio::test]
async fn a_bucket_policy_is_absent_until_put_and_stored_as_sent() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;

    let none = s3.get_bucket_policy().bucket("bkt").send().await;
    let no_status = s3.get_bucket_policy_status().bucket("bkt").send().await;
    let malformed = s3
        .put_bucket_policy()
        .bucket("bkt")
        .policy("not json")
        .send()
        .await;
    let public = s3
        .put_bucket_policy()
        .bucket("bkt")
        .policy(PUBLIC_POLICY)
        .send()
        .await;
    s3.put_bucket_policy()
        .bucket("bkt")
        .policy(PRIVATE_POLICY)
        .send()
        .await?;
    let got = s3.get_bucket_policy().bucket("bkt").send().await?;
    let status = s3.get_bucket_policy_status().bucket("bkt").send().await?;
    s3.delete_bucket_policy().bucket("bkt").send().await?;
    let deleted = s3.get_bucket_policy().bucket("bkt").send().await;
    let other = s3.get_bucket_policy().bucket("nope").send().await;

    assert_eq!(
        failure(&none),
        (Some(404), Some("NoSuchBucketPolicy".to_owned()))
    );
    assert_eq!(failure(&no_status).1.as_deref(), Some("NoSuchBucketPolicy"));
    assert_eq!(
        failure(&malformed),
        (Some(400), Some("MalformedPolicy".to_owned()))
    );
    assert_eq!(
        failure(&public),
        (Some(403), Some("AccessDenied".to_owned())),
        "BlockPublicPolicy"
    );
    assert_eq!(got.policy(), Some(PRIVATE_POLICY));
    assert_eq!(
        status.policy_status().and_then(|s| s.is_public()),
        Some(false)
    );
    assert_eq!(failure(&deleted).1.as_deref(), Some("NoSuchBucketPolicy"));
    assert_eq!(failure(&other).1.as_deref(), Some("NoSuchBucket"));
    Ok(())
}

#[tokio::test]
async fn create_bucket_refuses_a_public_acl_with_enforced_ownership() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();

    let refused = s3
        .create_bucket()
        .bucket("bucket-a")
        .acl(BucketCannedAcl::PublicRead)
        .send()
        .await;
    s3.create_bucket()
        .bucket("bucket-b")
        .acl(BucketCannedAcl::Private)
        .send()
        .await?;
    s3.create_bucket()
        .bucket("bucket-c")
        .object_ownership(ObjectOwnership::BucketOwnerPreferred)
        .send()
        .await?;
    let c = s3
        .get_bucket_ownership_controls()
        .bucket("bucket-c")
        .send()
        .await?;

    assert_eq!(
        failure(&refused),
        (
            Some(400),
            Some("InvalidBucketAclWithObjectOwnership".to_owned())
        )
    );
    let rules = c
        .ownership_controls()
        .map(|o| o.rules().to_vec())
        .unwrap_or_default();
    assert_eq!(
        rules.first().map(|r| r.object_ownership().clone()),
        Some(ObjectOwnership::BucketOwnerPreferred)
    );
    Ok(())
}
