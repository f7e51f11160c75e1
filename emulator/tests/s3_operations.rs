//! aws-sdk-s3 against the emulated S3 over real TCP: every operation, in both checksum modes.

use anyhow::{Context as _, Result, ensure};
use aws_sdk_s3::Client;
use aws_sdk_s3::config::RequestChecksumCalculation;
use aws_sdk_s3::error::ProvideErrorMetadata as _;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use flowlog_emulator::Emulator;

mod s3_support;

use s3_support::{MODES, body_of, client, mode_name};

#[tokio::test]
async fn creates_heads_lists_locates_and_deletes_buckets() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();

    s3.create_bucket().bucket("alpha").send().await?;
    s3.create_bucket().bucket("beta").send().await?;
    let again = s3.create_bucket().bucket("alpha").send().await;
    s3.head_bucket().bucket("alpha").send().await?;
    let listed = s3.list_buckets().send().await?;
    let location = s3.get_bucket_location().bucket("alpha").send().await?;
    s3.put_object()
        .bucket("alpha")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await?;
    let not_empty = s3.delete_bucket().bucket("alpha").send().await;
    s3.delete_object().bucket("alpha").key("k").send().await?;
    s3.delete_bucket().bucket("alpha").send().await?;
    let missing = s3.head_bucket().bucket("alpha").send().await;

    assert_eq!(
        again
            .err()
            .and_then(|e| e.code().map(str::to_owned))
            .as_deref(),
        Some("BucketAlreadyOwnedByYou")
    );
    let names: Vec<&str> = listed.buckets().iter().filter_map(|b| b.name()).collect();
    assert_eq!(names, ["alpha", "beta"]);
    assert!(
        location
            .location_constraint()
            .is_none_or(|c| c.as_str().is_empty())
    );
    assert_eq!(
        not_empty
            .err()
            .and_then(|e| e.code().map(str::to_owned))
            .as_deref(),
        Some("BucketNotEmpty")
    );
    let status = missing
        .err()
        .and_then(|e| e.raw_response().map(|r| r.status().as_u16()));
    assert_eq!(status, Some(404));
    Ok(())
}

#[tokio::test]
async fn puts_and_gets_objects_with_metadata_in_both_checksum_modes() -> Result<()> {
    let emulator = Emulator::start().await?;
    for mode in &MODES {
        let s3 = client(&emulator, mode);
        let bucket = format!("put-{}", mode_name(mode));
        s3.create_bucket().bucket(&bucket).send().await?;

        let put = s3
            .put_object()
            .bucket(&bucket)
            .key("dir/hello.txt")
            .content_type("text/plain")
            .metadata("origin", "test")
            .body(ByteStream::from_static(b"hello world"))
            .send()
            .await?;
        let head = s3
            .head_object()
            .bucket(&bucket)
            .key("dir/hello.txt")
            .send()
            .await?;
        let body = body_of(&s3, &bucket, "dir/hello.txt").await?;

        assert_eq!(
            put.e_tag(),
            Some("\"5eb63bbbe01eeed093cb22bb8f5acdc3\""),
            "mode {mode:?}"
        );
        assert_eq!(body, b"hello world");
        assert_eq!(head.content_length(), Some(11));
        assert_eq!(head.content_type(), Some("text/plain"));
        assert_eq!(
            head.metadata()
                .and_then(|m| m.get("origin"))
                .map(String::as_str),
            Some("test")
        );
    }
    Ok(())
}

#[tokio::test]
async fn accepts_file_bodies_sent_as_aws_chunked_with_a_checksum_trailer() -> Result<()> {
    let emulator = Emulator::start().await?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("flow.log");
    let content: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
    std::fs::write(&path, &content)?;
    for mode in &MODES {
        let s3 = client(&emulator, mode);
        let bucket = format!("file-{}", mode_name(mode));
        s3.create_bucket().bucket(&bucket).send().await?;

        let put = s3
            .put_object()
            .bucket(&bucket)
            .key("f")
            .body(ByteStream::from_path(&path).await?)
            .send()
            .await?;
        let body = body_of(&s3, &bucket, "f").await?;

        ensure!(body == content, "mode {mode:?}: body differs");
        if *mode == RequestChecksumCalculation::WhenSupported {
            assert!(
                put.checksum_crc32().is_some(),
                "the trailer's CRC32 is echoed back"
            );
        }
    }
    Ok(())
}

#[tokio::test]
async fn rejects_a_body_whose_declared_checksum_does_not_match() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = client(&emulator, &RequestChecksumCalculation::WhenRequired);
    s3.create_bucket().bucket("bkt").send().await?;

    let result = s3
        .put_object()
        .bucket("bkt")
        .key("k")
        .checksum_crc32("AAAAAA==")
        .body(ByteStream::from_static(b"not matching"))
        .send()
        .await;
    let md5 = s3
        .put_object()
        .bucket("bkt")
        .key("k2")
        .content_md5("AAAAAAAAAAAAAAAAAAAAAA==")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await;

    assert_eq!(
        result
            .err()
            .and_then(|e| e.code().map(str::to_owned))
            .as_deref(),
        Some("BadDigest")
    );
    assert_eq!(
        md5.err()
            .and_then(|e| e.code().map(str::to_owned))
            .as_deref(),
        Some("BadDigest")
    );
    let listed = s3.list_objects_v2().bucket("bkt").send().await?;
    assert!(
        listed.contents().is_empty(),
        "a rejected body is not stored"
    );
    Ok(())
}

#[tokio::test]
async fn serves_ranged_gets_as_206_without_whole_object_checksums() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;
    s3.put_object()
        .bucket("bkt")
        .key("k")
        .body(ByteStream::from_static(b"0123456789"))
        .send()
        .await?;

    let middle = s3
        .get_object()
        .bucket("bkt")
        .key("k")
        .range("bytes=2-5")
        .send()
        .await?;
    let range = middle.content_range().map(str::to_owned);
    let middle = middle.body.collect().await?.to_vec();
    let suffix = s3
        .get_object()
        .bucket("bkt")
        .key("k")
        .range("bytes=-3")
        .send()
        .await?
        .body
        .collect()
        .await?
        .to_vec();
    let beyond = s3
        .get_object()
        .bucket("bkt")
        .key("k")
        .range("bytes=20-")
        .send()
        .await;

    assert_eq!(middle, b"2345");
    assert_eq!(range.as_deref(), Some("bytes 2-5/10"));
    assert_eq!(suffix, b"789");
    let status = beyond
        .err()
        .and_then(|e| e.raw_response().map(|r| r.status().as_u16()));
    assert_eq!(status, Some(416));
    Ok(())
}

#[tokio::test]
async fn answers_conditional_gets_with_304_and_412() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;
    let put = s3
        .put_object()
        .bucket("bkt")
        .key("k")
        .body(ByteStream::from_static(b"v1"))
        .send()
        .await?;
    let etag = put.e_tag().context("etag")?.to_owned();

    let same = s3
        .get_object()
        .bucket("bkt")
        .key("k")
        .if_none_match(&etag)
        .send()
        .await;
    let matching = s3
        .get_object()
        .bucket("bkt")
        .key("k")
        .if_match(&etag)
        .send()
        .await?;
    let other = s3
        .get_object()
        .bucket("bkt")
        .key("k")
        .if_match("\"0000\"")
        .send()
        .await;
    let later = aws_sdk_s3::primitives::DateTime::from_secs(4_102_444_800); // 2100-01-01
    let not_modified = s3
        .get_object()
        .bucket("bkt")
        .key("k")
        .if_modified_since(later)
        .send()
        .await;

    let status = |r: Option<u16>| r;
    assert_eq!(
        status(
            same.err()
                .and_then(|e| e.raw_response().map(|r| r.status().as_u16()))
        ),
        Some(304)
    );
    assert_eq!(matching.body.collect().await?.to_vec(), b"v1");
    assert_eq!(
        status(
            other
                .err()
                .and_then(|e| e.raw_response().map(|r| r.status().as_u16()))
        ),
        Some(412)
    );
    assert_eq!(
        status(
            not_modified
                .err()
                .and_then(|e| e.raw_response().map(|r| r.status().as_u16()))
        ),
        Some(304)
    );
    Ok(())
}

#[tokio::test]
async fn deletes_objects_one_by_one_and_in_batches() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;
    for key in ["a", "b", "c", "d"] {
        s3.put_object()
            .bucket("bkt")
            .key(key)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await?;
    }

    s3.delete_object().bucket("bkt").key("a").send().await?;
    s3.delete_object()
        .bucket("bkt")
        .key("never-existed")
        .send()
        .await?;
    let ids = ["b", "c"].map(|k| ObjectIdentifier::builder().key(k).build());
    let batch = s3
        .delete_objects()
        .bucket("bkt")
        .delete(
            Delete::builder()
                .set_objects(Some(ids.into_iter().collect::<Result<_, _>>()?))
                .build()?,
        )
        .send()
        .await?;
    let left = s3.list_objects_v2().bucket("bkt").send().await?;

    assert_eq!(batch.deleted().len(), 2);
    let keys: Vec<&str> = left.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(keys, ["d"]);
    Ok(())
}

#[tokio::test]
async fn copies_an_object_with_its_metadata() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("src").send().await?;
    s3.create_bucket().bucket("dst").send().await?;
    s3.put_object()
        .bucket("src")
        .key("a b")
        .metadata("m", "1")
        .body(ByteStream::from_static(b"copied"))
        .send()
        .await?;

    let copy = s3
        .copy_object()
        .bucket("dst")
        .key("c")
        .copy_source("src/a%20b")
        .send()
        .await?;
    let head = s3.head_object().bucket("dst").key("c").send().await?;

    assert!(copy.copy_object_result().and_then(|r| r.e_tag()).is_some());
    assert_eq!(body_of(&s3, "dst", "c").await?, b"copied");
    assert_eq!(
        head.metadata().and_then(|m| m.get("m")).map(String::as_str),
        Some("1")
    );
    Ok(())
}

#[tokio::test]
async fn refuses_objects_over_the_configured_size_cap() -> Result<()> {
    let emulator = Emulator::builder().max_object_size(1024).start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;

    let small = s3
        .put_object()
        .bucket("bkt")
        .key("ok")
        .body(ByteStream::from(vec![0u8; 1024]))
        .send()
        .await;
    let big = s3
        .put_object()
        .bucket("bkt")
        .key("big")
        .body(ByteStream::from(vec![0u8; 1025]))
        .send()
        .await;

    assert!(small.is_ok());
    let err = big.err().context("too big must fail")?;
    assert_eq!(err.code(), Some("EntityTooLarge"));
    assert!(
        err.message()
            .is_some_and(|m| m.contains("--max-object-size")),
        "{:?}",
        err.message()
    );
    Ok(())
}

#[tokio::test]
async fn rejects_requests_signed_with_the_wrong_secret() -> Result<()> {
    let emulator = Emulator::start().await?;
    let wrong = aws_sdk_s3::config::Credentials::new("flowlog", "wrong-secret", None, None, "test");
    let s3 = Client::from_conf(emulator.s3_config().credentials_provider(wrong).build());

    let result = s3.list_buckets().send().await;

    assert_eq!(
        result
            .err()
            .and_then(|e| e.code().map(str::to_owned))
            .as_deref(),
        Some("SignatureDoesNotMatch")
    );
    Ok(())
}

#[tokio::test]
async fn error_xml_carries_the_request_id_of_the_response_header() -> Result<()> {
    let emulator = Emulator::start().await?;

    let resp = reqwest::get(format!("{}/no-such-bucket/key", emulator.s3_uri())).await?;
    let header = resp
        .headers()
        .get("x-amz-request-id")
        .context("request id header")?
        .to_str()?
        .to_owned();
    let body = resp.text().await?;

    assert!(
        body.contains(&format!("<RequestId>{header}</RequestId>")),
        "{body}"
    );
    Ok(())
}

#[tokio::test]
async fn shutdown_stops_the_server_and_frees_the_port() -> Result<()> {
    let emulator = Emulator::start().await?;
    let addr = emulator.s3_addr();
    emulator
        .s3_client()
        .create_bucket()
        .bucket("bkt")
        .send()
        .await?;

    emulator.shutdown().await;
    let connect = tokio::net::TcpStream::connect(addr).await;

    assert!(connect.is_err(), "nothing listens on {addr} after shutdown");
    Ok(())
}
