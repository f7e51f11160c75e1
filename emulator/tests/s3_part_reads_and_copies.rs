//! aws-sdk-s3 against the emulated S3 over real TCP: parts of multipart objects — UploadPartCopy
//! (ranges, versions, conditions), GetObject/HeadObject with `partNumber` (`PartsCount`), and
//! GetObjectAttributes.

use anyhow::{Context as _, Result};
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketVersioningStatus, ChecksumMode, CompletedMultipartUpload, CompletedPart,
    ObjectAttributes, VersioningConfiguration,
};
use flowlog_emulator::Emulator;

mod s3_support;

use s3_support::{MODES, client, failure, mode_name};

const MIB: usize = 1024 * 1024;

/// Two parts: 5 MiB of `a` then 1 KiB of `b`, uploaded and completed; returns the bytes.
async fn two_part_object(s3: &Client, bucket: &str, key: &str) -> Result<Vec<u8>> {
    let parts = [vec![b'a'; 5 * MIB], vec![b'b'; 1024]];
    let upload = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .send()
        .await?;
    let id = upload.upload_id().context("upload id")?;
    let mut done = CompletedMultipartUpload::builder();
    for (i, data) in parts.iter().enumerate() {
        let n = i32::try_from(i + 1)?;
        let out = s3
            .upload_part()
            .bucket(bucket)
            .key(key)
            .upload_id(id)
            .part_number(n)
            .body(ByteStream::from(data.clone()))
            .send()
            .await?;
        done = done.parts(
            CompletedPart::builder()
                .part_number(n)
                .set_e_tag(out.e_tag().map(str::to_owned))
                .set_checksum_crc32(out.checksum_crc32().map(str::to_owned))
                .build(),
        );
    }
    s3.complete_multipart_upload()
        .bucket(bucket)
        .key(key)
        .upload_id(id)
        .multipart_upload(done.build())
        .send()
        .await?;
    Ok(parts.concat())
}

#[tokio::test]
async fn reads_one_part_of_a_multipart_object_with_its_parts_count_in_both_checksum_modes()
-> Result<()> {
    let emulator = Emulator::start().await?;
    for mode in &MODES {
        let s3 = client(&emulator, mode);
        let bucket = format!("parts-{}", mode_name(mode));
        s3.create_bucket().bucket(&bucket).send().await?;
        let whole = two_part_object(&s3, &bucket, "mpu").await?;
        s3.put_object()
            .bucket(&bucket)
            .key("single")
            .body(ByteStream::from_static(b"single"))
            .send()
            .await?;

        let second = s3
            .get_object()
            .bucket(&bucket)
            .key("mpu")
            .part_number(2)
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await?;
        let head_first = s3
            .head_object()
            .bucket(&bucket)
            .key("mpu")
            .part_number(1)
            .send()
            .await?;
        let head_plain = s3.head_object().bucket(&bucket).key("mpu").send().await?;
        let single = s3
            .get_object()
            .bucket(&bucket)
            .key("single")
            .part_number(1)
            .send()
            .await?;
        let beyond = s3
            .get_object()
            .bucket(&bucket)
            .key("mpu")
            .part_number(3)
            .send()
            .await;
        let with_range = s3
            .get_object()
            .bucket(&bucket)
            .key("mpu")
            .part_number(1)
            .range("bytes=0-1")
            .send()
            .await;

        assert_eq!(second.parts_count(), Some(2), "mode {mode:?}");
        assert_eq!(
            second.content_range(),
            Some("bytes 5242880-5243903/5243904")
        );
        assert_eq!(
            second.body.collect().await?.to_vec(),
            whole[5 * MIB..].to_vec()
        );
        assert_eq!(
            (head_first.parts_count(), head_first.content_length()),
            (Some(2), Some(i64::try_from(5 * MIB)?))
        );
        assert_eq!(
            head_plain.parts_count(),
            None,
            "PartsCount only with partNumber"
        );
        assert_eq!(single.parts_count(), None, "a single PUT has no parts");
        assert_eq!(single.body.collect().await?.to_vec(), b"single");
        assert_eq!(
            failure(&beyond),
            (Some(416), Some("InvalidPartNumber".to_owned()))
        );
        assert_eq!(
            failure(&with_range),
            (Some(400), Some("InvalidRequest".to_owned()))
        );
    }
    Ok(())
}

#[tokio::test]
async fn upload_part_copy_takes_ranges_and_versions_of_existing_objects() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("src").send().await?;
    s3.put_bucket_versioning()
        .bucket("src")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await?;
    s3.create_bucket().bucket("dst").send().await?;
    let big: Vec<u8> = (0..6 * MIB).map(|i| (i % 251) as u8).collect();
    let v1 = s3
        .put_object()
        .bucket("src")
        .key("big")
        .body(ByteStream::from(big.clone()))
        .send()
        .await?
        .version_id()
        .context("v1")?
        .to_owned();
    s3.put_object()
        .bucket("src")
        .key("big")
        .body(ByteStream::from_static(b"overwritten"))
        .send()
        .await?;

    let upload = s3
        .create_multipart_upload()
        .bucket("dst")
        .key("copy")
        .send()
        .await?;
    let id = upload.upload_id().context("upload id")?;
    let first = s3
        .upload_part_copy()
        .bucket("dst")
        .key("copy")
        .upload_id(id)
        .part_number(1)
        .copy_source(format!("src/big?versionId={v1}"))
        .copy_source_range(format!("bytes={}-{}", MIB, 6 * MIB - 1))
        .send()
        .await?;
    let out_of_range = s3
        .upload_part_copy()
        .bucket("dst")
        .key("copy")
        .upload_id(id)
        .part_number(3)
        .copy_source("src/big")
        .copy_source_range("bytes=0-100")
        .send()
        .await;
    let failed_condition = s3
        .upload_part_copy()
        .bucket("dst")
        .key("copy")
        .upload_id(id)
        .part_number(3)
        .copy_source("src/big")
        .copy_source_if_match("\"0123456789abcdef0123456789abcdef\"")
        .send()
        .await;
    let whole_latest = s3
        .upload_part_copy()
        .bucket("dst")
        .key("copy")
        .upload_id(id)
        .part_number(2)
        .copy_source("src/big")
        .send()
        .await?;
    let etag = |r: Option<&aws_sdk_s3::types::CopyPartResult>| {
        r.and_then(|c| c.e_tag()).map(str::to_owned)
    };
    s3.complete_multipart_upload()
        .bucket("dst")
        .key("copy")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .set_e_tag(etag(first.copy_part_result()))
                        .build(),
                )
                .parts(
                    CompletedPart::builder()
                        .part_number(2)
                        .set_e_tag(etag(whole_latest.copy_part_result()))
                        .build(),
                )
                .build(),
        )
        .send()
        .await?;
    let copied = s3.get_object().bucket("dst").key("copy").send().await?;

    assert_eq!(first.copy_source_version_id(), Some(v1.as_str()));
    assert_eq!(
        failure(&out_of_range),
        (Some(400), Some("InvalidArgument".to_owned()))
    );
    assert_eq!(
        failure(&failed_condition),
        (Some(412), Some("PreconditionFailed".to_owned()))
    );
    let mut want = big[MIB..].to_vec();
    want.extend_from_slice(b"overwritten");
    assert!(
        copied.body.collect().await?.to_vec() == want,
        "a range of v1, then the latest"
    );
    Ok(())
}

#[tokio::test]
async fn get_object_attributes_reports_etag_size_class_checksum_and_parts() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;
    two_part_object(&s3, "bkt", "mpu").await?;
    let put = s3
        .put_object()
        .bucket("bkt")
        .key("single")
        .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Sha256)
        .body(ByteStream::from_static(b"attributes"))
        .send()
        .await?;

    let single = s3
        .get_object_attributes()
        .bucket("bkt")
        .key("single")
        .object_attributes(ObjectAttributes::Etag)
        .object_attributes(ObjectAttributes::ObjectSize)
        .object_attributes(ObjectAttributes::StorageClass)
        .object_attributes(ObjectAttributes::Checksum)
        .send()
        .await?;
    let parts = s3
        .get_object_attributes()
        .bucket("bkt")
        .key("mpu")
        .object_attributes(ObjectAttributes::ObjectParts)
        .max_parts(1)
        .send()
        .await?;
    let missing = s3
        .get_object_attributes()
        .bucket("bkt")
        .key("nope")
        .object_attributes(ObjectAttributes::Etag)
        .send()
        .await;

    let etag = put.e_tag().context("etag")?.trim_matches('"');
    assert_eq!(single.e_tag().map(|e| e.trim_matches('"')), Some(etag));
    assert_eq!(single.object_size(), Some(10));
    assert_eq!(single.storage_class().map(|c| c.as_str()), Some("STANDARD"));
    assert_eq!(
        single.checksum().and_then(|c| c.checksum_sha256()),
        put.checksum_sha256()
    );
    let p = parts.object_parts().context("parts")?;
    assert_eq!(p.total_parts_count(), Some(2));
    assert_eq!(
        (p.is_truncated(), p.next_part_number_marker()),
        (Some(true), Some("1"))
    );
    assert_eq!(
        p.parts().first().and_then(|x| x.size()),
        Some(i64::try_from(5 * MIB)?)
    );
    assert_eq!(failure(&missing), (Some(404), Some("NoSuchKey".to_owned())));
    Ok(())
}
