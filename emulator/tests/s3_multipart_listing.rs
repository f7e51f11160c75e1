//! aws-sdk-s3 against the emulated S3 over real TCP: multipart uploads and listings.

use anyhow::{Context as _, Result};
use aws_sdk_s3::error::ProvideErrorMetadata as _;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use flowlog_emulator::Emulator;

mod s3_support;

use s3_support::{MODES, body_of, client, mode_name};

#[tokio::test]
async fn completes_a_three_part_multipart_upload_with_an_md5_of_md5s_etag_in_both_checksum_modes()
-> Result<()> {
    let emulator = Emulator::start().await?;
    let part_size = 5 * 1024 * 1024;
    let parts: Vec<Vec<u8>> = (0..3u8).map(|i| vec![b'a' + i; part_size]).collect();
    for mode in &MODES {
        let s3 = client(&emulator, mode);
        let bucket = format!("multipart-{}", mode_name(mode));
        s3.create_bucket().bucket(&bucket).send().await?;

        let upload = s3
            .create_multipart_upload()
            .bucket(&bucket)
            .key("big")
            .send()
            .await?;
        let id = upload.upload_id().context("upload id")?;
        let mut completed = Vec::new();
        for (i, data) in parts.iter().enumerate() {
            let n = i32::try_from(i + 1)?;
            let out = s3
                .upload_part()
                .bucket(&bucket)
                .key("big")
                .upload_id(id)
                .part_number(n)
                .body(ByteStream::from(data.clone()))
                .send()
                .await?;
            completed.push(
                CompletedPart::builder()
                    .part_number(n)
                    .set_e_tag(out.e_tag().map(str::to_owned))
                    .build(),
            );
        }
        let listed = s3
            .list_parts()
            .bucket(&bucket)
            .key("big")
            .upload_id(id)
            .send()
            .await?;
        let done = s3
            .complete_multipart_upload()
            .bucket(&bucket)
            .key("big")
            .upload_id(id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(completed))
                    .build(),
            )
            .send()
            .await?;
        let body = body_of(&s3, &bucket, "big").await?;

        assert_eq!(listed.parts().len(), 3, "mode {mode:?}");
        let etag = done.e_tag().context("etag")?;
        assert!(etag.ends_with("-3\""), "multipart ETag {etag}");
        assert_eq!(body.len(), 3 * part_size);
        assert!(body == parts.concat(), "mode {mode:?}: body differs");
    }
    Ok(())
}

#[tokio::test]
async fn aborts_a_multipart_upload_and_forgets_it() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;
    let upload = s3
        .create_multipart_upload()
        .bucket("bkt")
        .key("k")
        .send()
        .await?;
    let id = upload.upload_id().context("upload id")?;

    s3.abort_multipart_upload()
        .bucket("bkt")
        .key("k")
        .upload_id(id)
        .send()
        .await?;
    let after = s3
        .list_parts()
        .bucket("bkt")
        .key("k")
        .upload_id(id)
        .send()
        .await;

    assert_eq!(
        after
            .err()
            .and_then(|e| e.code().map(str::to_owned))
            .as_deref(),
        Some("NoSuchUpload")
    );
    Ok(())
}

#[tokio::test]
async fn paginates_list_objects_v2_with_delimiter_and_start_after() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;
    for key in [
        "logs/2026/01/a",
        "logs/2026/02/b",
        "logs/2026/03/c",
        "logs/readme",
        "other",
    ] {
        s3.put_object()
            .bucket("bkt")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await?;
    }

    let first = s3
        .list_objects_v2()
        .bucket("bkt")
        .prefix("logs/")
        .max_keys(2)
        .send()
        .await?;
    let token = first.next_continuation_token().context("token")?;
    let second = s3
        .list_objects_v2()
        .bucket("bkt")
        .prefix("logs/")
        .continuation_token(token)
        .send()
        .await?;
    let by_month = s3
        .list_objects_v2()
        .bucket("bkt")
        .prefix("logs/2026/")
        .delimiter("/")
        .send()
        .await?;
    let after = s3
        .list_objects_v2()
        .bucket("bkt")
        .start_after("logs/readme")
        .send()
        .await?;

    let keys = |o: &aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Output| -> Vec<String> {
        o.contents()
            .iter()
            .filter_map(|c| c.key().map(str::to_owned))
            .collect()
    };
    assert_eq!(keys(&first), ["logs/2026/01/a", "logs/2026/02/b"]);
    assert_eq!(first.is_truncated(), Some(true));
    assert_eq!(keys(&second), ["logs/2026/03/c", "logs/readme"]);
    assert_eq!(second.is_truncated(), Some(false));
    let prefixes: Vec<&str> = by_month
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(
        prefixes,
        ["logs/2026/01/", "logs/2026/02/", "logs/2026/03/"]
    );
    assert_eq!(keys(&after), ["other"]);
    Ok(())
}

#[tokio::test]
async fn url_encodes_listed_keys_when_asked_like_s3() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;
    s3.put_object()
        .bucket("bkt")
        .key("year=2026/a b+c.gz")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await?;

    let encoded = s3
        .list_objects_v2()
        .bucket("bkt")
        .encoding_type(aws_sdk_s3::types::EncodingType::Url)
        .send()
        .await?;
    let plain = s3.list_objects_v2().bucket("bkt").send().await?;

    let key = encoded.contents().first().and_then(|o| o.key());
    assert_eq!(key, Some("year%3D2026/a%20b%2Bc.gz"));
    assert_eq!(encoded.encoding_type().map(|e| e.as_str()), Some("url"));
    assert_eq!(
        plain.contents().first().and_then(|o| o.key()),
        Some("year=2026/a b+c.gz")
    );
    Ok(())
}

#[tokio::test]
async fn lists_object_versions_as_null_versions() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;
    s3.put_object()
        .bucket("bkt")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await?;

    let versions = s3.list_object_versions().bucket("bkt").send().await?;

    let v = versions.versions().first().context("one version")?;
    assert_eq!(
        (v.key(), v.version_id(), v.is_latest()),
        (Some("k"), Some("null"), Some(true))
    );
    Ok(())
}

#[tokio::test]
async fn refuses_to_complete_uploads_with_small_middle_parts_or_over_the_cap() -> Result<()> {
    let emulator = Emulator::builder()
        .max_object_size(6 * 1024 * 1024)
        .start()
        .await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;
    let mut outcomes = Vec::new();
    for sizes in [[10usize, 10], [5 * 1024 * 1024, 2 * 1024 * 1024]] {
        let upload = s3
            .create_multipart_upload()
            .bucket("bkt")
            .key("k")
            .send()
            .await?;
        let id = upload.upload_id().context("upload id")?;
        let mut parts = Vec::new();
        for (i, size) in sizes.into_iter().enumerate() {
            let n = i32::try_from(i + 1)?;
            let out = s3
                .upload_part()
                .bucket("bkt")
                .key("k")
                .upload_id(id)
                .part_number(n)
                .body(ByteStream::from(vec![0u8; size]))
                .send()
                .await?;
            parts.push(
                CompletedPart::builder()
                    .part_number(n)
                    .set_e_tag(out.e_tag().map(str::to_owned))
                    .build(),
            );
        }
        let done = s3
            .complete_multipart_upload()
            .bucket("bkt")
            .key("k")
            .upload_id(id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await;
        outcomes.push(done.err().and_then(|e| e.code().map(str::to_owned)));
    }

    assert_eq!(
        outcomes,
        [
            Some("EntityTooSmall".to_owned()),
            Some("EntityTooLarge".to_owned())
        ]
    );
    Ok(())
}

#[tokio::test]
async fn lists_objects_v1_with_markers() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;
    for key in ["a", "b", "c"] {
        s3.put_object()
            .bucket("bkt")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await?;
    }

    let first = s3.list_objects().bucket("bkt").max_keys(2).send().await?;
    let rest = s3.list_objects().bucket("bkt").marker("b").send().await?;

    let keys = |c: &[aws_sdk_s3::types::Object]| -> Vec<String> {
        c.iter()
            .filter_map(|o| o.key().map(str::to_owned))
            .collect()
    };
    assert_eq!(keys(first.contents()), ["a", "b"]);
    assert_eq!(first.is_truncated(), Some(true));
    assert_eq!(keys(rest.contents()), ["c"]);
    Ok(())
}
