//! aws-sdk-s3 against the emulated S3 over real TCP: bucket versioning as S3 documents it —
//! version ids, delete markers, reads, deletes, copies and tags by version, ListObjectVersions.

use anyhow::{Context as _, Result};
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketVersioningStatus, Delete, ObjectIdentifier, Tag, Tagging, VersioningConfiguration,
};
use flowlog_emulator::Emulator;

mod s3_support;

use s3_support::{body_of, failure, failure_header, put};

async fn versioned_bucket(s3: &Client, bucket: &str, status: BucketVersioningStatus) -> Result<()> {
    s3.create_bucket().bucket(bucket).send().await?;
    s3.put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await?;
    Ok(())
}

async fn version_body(s3: &Client, bucket: &str, key: &str, version: &str) -> Result<Vec<u8>> {
    let out = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .version_id(version)
        .send()
        .await?;
    Ok(out.body.collect().await?.to_vec())
}

#[tokio::test]
async fn versioning_is_unset_until_enabled_and_can_then_be_suspended() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;

    let before = s3.get_bucket_versioning().bucket("bkt").send().await?;
    let mut states = Vec::new();
    for status in [
        BucketVersioningStatus::Enabled,
        BucketVersioningStatus::Suspended,
    ] {
        s3.put_bucket_versioning()
            .bucket("bkt")
            .versioning_configuration(VersioningConfiguration::builder().status(status).build())
            .send()
            .await?;
        let got = s3.get_bucket_versioning().bucket("bkt").send().await?;
        states.push(got.status().map(|s| s.as_str().to_owned()));
    }
    let missing = s3.get_bucket_versioning().bucket("nope").send().await;

    assert_eq!(before.status(), None, "never configured: no Status");
    assert_eq!(
        states,
        [Some("Enabled".to_owned()), Some("Suspended".to_owned())]
    );
    assert_eq!(
        failure(&missing),
        (Some(404), Some("NoSuchBucket".to_owned()))
    );
    Ok(())
}

#[tokio::test]
async fn every_write_to_a_versioned_key_gets_its_own_version_and_each_reads_back() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    versioned_bucket(&s3, "bkt", BucketVersioningStatus::Enabled).await?;
    s3.create_bucket().bucket("plain").send().await?;

    let v1 = put(&s3, "bkt", "k", b"first").await?.context("v1")?;
    let v2 = put(&s3, "bkt", "k", b"second").await?.context("v2")?;
    let v3 = put(&s3, "bkt", "k", b"third").await?.context("v3")?;
    let latest = s3.get_object().bucket("bkt").key("k").send().await?;
    let head = s3
        .head_object()
        .bucket("bkt")
        .key("k")
        .version_id(&v1)
        .send()
        .await?;
    let plain = put(&s3, "plain", "k", b"x").await?;
    let plain_get = s3.get_object().bucket("plain").key("k").send().await?;

    assert!(v1 != v2 && v2 != v3 && v1 != v3, "{v1} {v2} {v3}");
    assert_eq!(latest.version_id(), Some(v3.as_str()));
    assert_eq!(version_body(&s3, "bkt", "k", &v1).await?, b"first");
    assert_eq!(version_body(&s3, "bkt", "k", &v2).await?, b"second");
    assert_eq!(version_body(&s3, "bkt", "k", &v3).await?, b"third");
    assert_eq!(
        (head.version_id(), head.content_length()),
        (Some(v1.as_str()), Some(5))
    );
    assert_eq!(plain, None, "a never-versioned bucket names no version");
    assert_eq!(plain_get.version_id(), None);
    Ok(())
}

#[tokio::test]
async fn a_delete_without_a_version_id_adds_a_delete_marker_that_hides_the_key() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    versioned_bucket(&s3, "bkt", BucketVersioningStatus::Enabled).await?;
    let v1 = put(&s3, "bkt", "k", b"kept").await?.context("v1")?;

    let deleted = s3.delete_object().bucket("bkt").key("k").send().await?;
    let marker = deleted.version_id().context("marker id")?.to_owned();
    let get = s3.get_object().bucket("bkt").key("k").send().await;
    let head = s3.head_object().bucket("bkt").key("k").send().await;
    let get_marker = s3
        .get_object()
        .bucket("bkt")
        .key("k")
        .version_id(&marker)
        .send()
        .await;
    let listed = s3.list_objects_v2().bucket("bkt").send().await?;
    let versions = s3.list_object_versions().bucket("bkt").send().await?;
    let old = version_body(&s3, "bkt", "k", &v1).await?;
    s3.delete_object()
        .bucket("bkt")
        .key("k")
        .version_id(&marker)
        .send()
        .await?;
    let restored = body_of(&s3, "bkt", "k").await?;

    assert_eq!(deleted.delete_marker(), Some(true));
    assert_eq!(failure(&get), (Some(404), Some("NoSuchKey".to_owned())));
    assert_eq!(
        failure_header(&get, "x-amz-delete-marker").as_deref(),
        Some("true")
    );
    assert_eq!(
        failure_header(&get, "x-amz-version-id"),
        Some(marker.clone())
    );
    assert_eq!(failure(&head).0, Some(404));
    assert_eq!(
        failure_header(&head, "x-amz-delete-marker").as_deref(),
        Some("true")
    );
    assert_eq!(
        failure(&get_marker).0,
        Some(405),
        "a delete marker has no body"
    );
    assert_eq!(
        failure_header(&get_marker, "x-amz-delete-marker").as_deref(),
        Some("true")
    );
    assert!(
        listed.contents().is_empty(),
        "the key is hidden from listings"
    );
    let markers: Vec<(Option<&str>, Option<bool>)> = versions
        .delete_markers()
        .iter()
        .map(|m| (m.version_id(), m.is_latest()))
        .collect();
    assert_eq!(markers, [(Some(marker.as_str()), Some(true))]);
    let objects: Vec<(Option<&str>, Option<bool>)> = versions
        .versions()
        .iter()
        .map(|v| (v.version_id(), v.is_latest()))
        .collect();
    assert_eq!(objects, [(Some(v1.as_str()), Some(false))]);
    assert_eq!(old, b"kept", "older versions stay readable");
    assert_eq!(
        restored, b"kept",
        "removing the marker brings the object back"
    );
    Ok(())
}

#[tokio::test]
async fn deleting_a_version_by_id_removes_it_for_good_and_the_previous_becomes_latest() -> Result<()>
{
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    versioned_bucket(&s3, "bkt", BucketVersioningStatus::Enabled).await?;
    let v1 = put(&s3, "bkt", "k", b"one").await?.context("v1")?;
    let v2 = put(&s3, "bkt", "k", b"two").await?.context("v2")?;

    let out = s3
        .delete_object()
        .bucket("bkt")
        .key("k")
        .version_id(&v2)
        .send()
        .await?;
    let gone = s3
        .get_object()
        .bucket("bkt")
        .key("k")
        .version_id(&v2)
        .send()
        .await;
    let current = s3.get_object().bucket("bkt").key("k").send().await?;
    let malformed = s3
        .get_object()
        .bucket("bkt")
        .key("k")
        .version_id("not a version id")
        .send()
        .await;

    assert_eq!(
        (out.version_id(), out.delete_marker()),
        (Some(v2.as_str()), None)
    );
    assert_eq!(
        failure(&gone),
        (Some(404), Some("NoSuchVersion".to_owned()))
    );
    assert_eq!(current.version_id(), Some(v1.as_str()));
    assert_eq!(
        failure(&malformed),
        (Some(400), Some("InvalidArgument".to_owned()))
    );
    Ok(())
}

#[tokio::test]
async fn a_suspended_bucket_writes_and_deletes_the_null_version_and_keeps_older_ones() -> Result<()>
{
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;
    put(&s3, "bkt", "k", b"before versioning").await?;
    s3.put_bucket_versioning()
        .bucket("bkt")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await?;
    let kept = put(&s3, "bkt", "k", b"versioned").await?.context("id")?;
    s3.put_bucket_versioning()
        .bucket("bkt")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await?;

    let suspended = put(&s3, "bkt", "k", b"suspended").await?;
    let null_body = version_body(&s3, "bkt", "k", "null").await?;
    let after_put = s3.list_object_versions().bucket("bkt").send().await?;
    let deleted = s3.delete_object().bucket("bkt").key("k").send().await?;
    let after_delete = s3.list_object_versions().bucket("bkt").send().await?;

    assert_eq!(suspended.as_deref(), Some("null"));
    let ids: Vec<_> = after_put
        .versions()
        .iter()
        .map(|v| v.version_id())
        .collect();
    assert_eq!(
        ids,
        [Some("null"), Some(kept.as_str())],
        "the pre-versioning null version was replaced"
    );
    assert_eq!(null_body, b"suspended");
    assert_eq!(
        (deleted.delete_marker(), deleted.version_id()),
        (Some(true), Some("null"))
    );
    let markers: Vec<_> = after_delete
        .delete_markers()
        .iter()
        .map(|m| m.version_id())
        .collect();
    assert_eq!(markers, [Some("null")]);
    assert_eq!(version_body(&s3, "bkt", "k", &kept).await?, b"versioned");
    Ok(())
}

#[tokio::test]
async fn list_object_versions_pages_by_key_and_version_id_markers() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    versioned_bucket(&s3, "bkt", BucketVersioningStatus::Enabled).await?;
    for (key, n) in [("a", 3), ("b/1", 1), ("b/2", 2), ("c", 1)] {
        for _ in 0..n {
            put(&s3, "bkt", key, b"x").await?;
        }
    }
    s3.delete_object().bucket("bkt").key("c").send().await?;

    let mut seen = Vec::new();
    let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
    let mut pages = 0;
    loop {
        let page = s3
            .list_object_versions()
            .bucket("bkt")
            .max_keys(2)
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(version_marker.clone())
            .send()
            .await?;
        pages += 1;
        for v in page.versions() {
            seen.push((
                v.key().unwrap_or_default().to_owned(),
                v.version_id().unwrap_or_default().to_owned(),
            ));
        }
        for m in page.delete_markers() {
            seen.push((
                m.key().unwrap_or_default().to_owned(),
                format!("marker:{}", m.version_id().unwrap_or_default()),
            ));
        }
        if page.is_truncated() != Some(true) {
            break;
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        version_marker = page.next_version_id_marker().map(str::to_owned);
    }
    let rolled = s3
        .list_object_versions()
        .bucket("bkt")
        .delimiter("/")
        .send()
        .await?;
    let under_b = s3
        .list_object_versions()
        .bucket("bkt")
        .prefix("b/")
        .send()
        .await?;
    let bad_marker = s3
        .list_object_versions()
        .bucket("bkt")
        .version_id_marker("null")
        .send()
        .await;

    assert_eq!(
        seen.len(),
        3 + 1 + 2 + 2,
        "every version and marker once: {seen:?}"
    );
    assert_eq!(pages, 4);
    let keys: Vec<&str> = seen.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["a", "a", "a", "b/1", "b/2", "b/2", "c", "c"]);
    let prefixes: Vec<_> = rolled
        .common_prefixes()
        .iter()
        .map(|p| p.prefix())
        .collect();
    assert_eq!(prefixes, [Some("b/")]);
    assert_eq!(rolled.versions().len(), 4, "a ×3 and c");
    assert_eq!(under_b.versions().len(), 3);
    assert_eq!(
        failure(&bad_marker),
        (Some(400), Some("InvalidArgument".to_owned()))
    );
    Ok(())
}

#[tokio::test]
async fn copies_tags_and_bulk_deletes_name_versions() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    versioned_bucket(&s3, "bkt", BucketVersioningStatus::Enabled).await?;
    let old = put(&s3, "bkt", "k", b"old").await?.context("old")?;
    put(&s3, "bkt", "k", b"new").await?;

    let copied = s3
        .copy_object()
        .bucket("bkt")
        .key("restored")
        .copy_source(format!("bkt/k?versionId={old}"))
        .send()
        .await?;
    s3.put_object_tagging()
        .bucket("bkt")
        .key("k")
        .version_id(&old)
        .tagging(
            Tagging::builder()
                .tag_set(Tag::builder().key("age").value("old").build()?)
                .build()?,
        )
        .send()
        .await?;
    let old_tags = s3
        .get_object_tagging()
        .bucket("bkt")
        .key("k")
        .version_id(&old)
        .send()
        .await?;
    let current_tags = s3
        .get_object_tagging()
        .bucket("bkt")
        .key("k")
        .send()
        .await?;
    let bulk = s3
        .delete_objects()
        .bucket("bkt")
        .delete(
            Delete::builder()
                .objects(
                    ObjectIdentifier::builder()
                        .key("k")
                        .version_id(&old)
                        .build()?,
                )
                .objects(ObjectIdentifier::builder().key("restored").build()?)
                .objects(
                    ObjectIdentifier::builder()
                        .key("k")
                        .version_id("bad id")
                        .build()?,
                )
                .build()?,
        )
        .send()
        .await?;
    let remaining = s3.list_object_versions().bucket("bkt").send().await?;

    assert_eq!(copied.copy_source_version_id(), Some(old.as_str()));
    assert!(copied.version_id().is_some_and(|v| v != old));
    assert_eq!(
        body_of(&s3, "bkt", "restored").await.ok(),
        None,
        "then deleted"
    );
    assert_eq!(old_tags.tag_set().len(), 1);
    assert_eq!(old_tags.version_id(), Some(old.as_str()));
    assert!(
        current_tags.tag_set().is_empty(),
        "tags belong to one version"
    );
    let deleted: Vec<(Option<&str>, Option<&str>, Option<bool>)> = bulk
        .deleted()
        .iter()
        .map(|d| (d.key(), d.version_id(), d.delete_marker()))
        .collect();
    assert_eq!(deleted[0], (Some("k"), Some(old.as_str()), None));
    assert_eq!((deleted[1].0, deleted[1].2), (Some("restored"), Some(true)));
    assert_eq!(bulk.errors().len(), 1, "a malformed version id fails alone");
    let versions: Vec<_> = remaining.versions().iter().map(|v| v.key()).collect();
    assert_eq!(versions, [Some("k"), Some("restored")]);
    assert_eq!(remaining.delete_markers().len(), 1);
    let not_empty = s3.delete_bucket().bucket("bkt").send().await;
    assert_eq!(
        failure(&not_empty),
        (Some(409), Some("BucketNotEmpty".to_owned()))
    );
    Ok(())
}

#[tokio::test]
async fn a_streaming_upload_to_a_versioned_bucket_reads_back_by_version() -> Result<()> {
    let emulator = Emulator::start().await?;
    let file = tempfile::NamedTempFile::new()?;
    std::fs::write(file.path(), b"streamed from a file")?;
    let s3 = emulator.s3_client();
    versioned_bucket(&s3, "bkt", BucketVersioningStatus::Enabled).await?;

    let out = s3
        .put_object()
        .bucket("bkt")
        .key("f")
        .body(ByteStream::from_path(file.path()).await?)
        .send()
        .await?;
    let id = out.version_id().context("version id")?;

    assert_eq!(
        version_body(&s3, "bkt", "f", id).await?,
        b"streamed from a file"
    );
    Ok(())
}
