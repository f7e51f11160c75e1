//! Object details over real TCP: a PUT sent with chunked transfer encoding and no
//! `Content-Length` (aws-sdk-s3 header-signed, and a plain HTTP client on a presigned URL),
//! `Expires`, `Content-Language` and storage classes stored and returned.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use aws_sdk_s3::config::RequestChecksumCalculation;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{MetadataDirective, StorageClass};
use bytes::Bytes;
use flowlog_emulator::Emulator;

mod s3_support;

use s3_support::{body_of, client, failure};

/// PUTs `chunks` to a presigned URL as a stream: chunked transfer encoding, no length.
async fn presigned_chunked_put(
    emulator: &Emulator,
    bucket: &str,
    key: &str,
    chunks: Vec<&'static [u8]>,
) -> Result<reqwest::Response> {
    let presigned = emulator
        .s3_client()
        .put_object()
        .bucket(bucket)
        .key(key)
        .presigned(PresigningConfig::expires_in(Duration::from_secs(600))?)
        .await?;
    let stream = futures::stream::iter(
        chunks
            .into_iter()
            .map(|c| Ok::<_, std::io::Error>(Bytes::from_static(c))),
    );
    let mut request = reqwest::Client::new()
        .put(presigned.uri())
        .body(reqwest::Body::wrap_stream(stream));
    for (name, value) in presigned.headers() {
        request = request.header(name, value);
    }
    Ok(request.send().await?)
}

/// A SigV4 header-signed PUT sent with `Transfer-Encoding: chunked` and no `Content-Length`
/// (the headers are changed before signing, as ceph's s3-tests do with botocore).
async fn signed_chunked_put(
    emulator: &Emulator,
    bucket: &str,
    key: &str,
    body: &'static [u8],
) -> Result<(), aws_sdk_s3::error::SdkError<aws_sdk_s3::operation::put_object::PutObjectError>> {
    let s3 = client(emulator, &RequestChecksumCalculation::WhenRequired);
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from_static(body))
        .customize()
        .mutate_request(|req| {
            req.headers_mut().remove("content-length");
            req.headers_mut().insert("transfer-encoding", "chunked");
        })
        .send()
        .await
        .map(|_| ())
}

#[tokio::test]
async fn a_put_with_chunked_transfer_encoding_and_no_length_is_stored() -> Result<()> {
    let emulator = Emulator::start().await?;
    emulator.create_bucket_with_trigger("bkt").await?;
    let mut events = emulator.notifications();

    let signed =
        signed_chunked_put(&emulator, "bkt", "signed.log", b"first line\nsecond line\n").await;
    let presigned = presigned_chunked_put(
        &emulator,
        "bkt",
        "presigned.log",
        vec![b"first line\n", b"second line\n"],
    )
    .await?;
    let presigned_status = presigned.status().as_u16();

    assert!(signed.is_ok(), "{signed:?}");
    assert_eq!(presigned_status, 200, "{}", presigned.text().await?);
    let s3 = emulator.s3_client();
    for key in ["signed.log", "presigned.log"] {
        assert_eq!(
            body_of(&s3, "bkt", key).await?,
            b"first line\nsecond line\n"
        );
        let n = events.try_recv().context("a notification")?;
        assert_eq!(
            n.event
                .pointer("/Records/0/s3/object/size")
                .and_then(serde_json::Value::as_u64),
            Some(23)
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_chunked_put_over_the_size_cap_is_refused_as_too_large() -> Result<()> {
    let emulator = Emulator::builder().max_object_size(8).start().await?;
    emulator
        .s3_client()
        .create_bucket()
        .bucket("bkt")
        .send()
        .await?;

    let signed = signed_chunked_put(&emulator, "bkt", "k", b"1234567890").await;
    let presigned = presigned_chunked_put(&emulator, "bkt", "k", vec![b"12345", b"67890"]).await?;
    let status = presigned.status().as_u16();
    let text = presigned.text().await?;

    assert_eq!(
        failure(&signed),
        (Some(400), Some("EntityTooLarge".to_owned()))
    );
    assert_eq!(status, 400, "{text}");
    assert!(text.contains("<Code>EntityTooLarge</Code>"), "{text}");
    assert!(text.contains("<RequestId>"), "{text}");
    Ok(())
}

#[tokio::test]
async fn expires_and_content_language_are_stored_returned_and_copied() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;
    let secs = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() + 86_400;
    let expires = DateTime::from_secs(i64::try_from(secs)?);
    let later = DateTime::from_secs(i64::try_from(secs + 3600)?);

    s3.put_object()
        .bucket("bkt")
        .key("k")
        .expires(expires)
        .content_language("en")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await?;
    let got = s3.get_object().bucket("bkt").key("k").send().await?;
    let head = s3.head_object().bucket("bkt").key("k").send().await?;
    s3.copy_object()
        .bucket("bkt")
        .key("kept")
        .copy_source("bkt/k")
        .send()
        .await?;
    s3.copy_object()
        .bucket("bkt")
        .key("replaced")
        .copy_source("bkt/k")
        .metadata_directive(MetadataDirective::Replace)
        .expires(later)
        .send()
        .await?;
    let kept = s3.head_object().bucket("bkt").key("kept").send().await?;
    let replaced = s3
        .head_object()
        .bucket("bkt")
        .key("replaced")
        .send()
        .await?;

    let http_date = |d: DateTime| d.fmt(aws_sdk_s3::primitives::DateTimeFormat::HttpDate);
    let want = http_date(expires)?;
    assert_eq!(got.expires_string(), Some(want.as_str()));
    assert_eq!(head.expires_string(), Some(want.as_str()));
    assert_eq!(got.content_language(), Some("en"));
    assert_eq!(kept.expires_string(), Some(want.as_str()), "COPY keeps it");
    assert_eq!(
        replaced.expires_string(),
        Some(http_date(later)?.as_str()),
        "REPLACE sets it"
    );
    assert_eq!(replaced.content_language(), None);
    Ok(())
}

#[tokio::test]
async fn storage_classes_are_kept_and_archived_objects_cannot_be_read() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;

    for (key, class) in [
        ("ia", StorageClass::StandardIa),
        ("cold", StorageClass::Glacier),
    ] {
        s3.put_object()
            .bucket("bkt")
            .key(key)
            .storage_class(class)
            .body(ByteStream::from_static(b"x"))
            .send()
            .await?;
    }
    let unknown = s3
        .put_object()
        .bucket("bkt")
        .key("bad")
        .storage_class(StorageClass::from("WARM_ISH"))
        .body(ByteStream::from_static(b"x"))
        .send()
        .await;
    let head = s3.head_object().bucket("bkt").key("ia").send().await?;
    let listed = s3.list_objects_v2().bucket("bkt").send().await?;
    let cold = s3.get_object().bucket("bkt").key("cold").send().await;
    let cold_head = s3.head_object().bucket("bkt").key("cold").send().await;

    assert_eq!(head.storage_class(), Some(&StorageClass::StandardIa));
    let classes: Vec<_> = listed
        .contents()
        .iter()
        .map(|o| (o.key(), o.storage_class().map(|c| c.as_str())))
        .collect();
    assert_eq!(
        classes,
        [
            (Some("cold"), Some("GLACIER")),
            (Some("ia"), Some("STANDARD_IA"))
        ]
    );
    assert_eq!(
        failure(&unknown),
        (Some(400), Some("InvalidStorageClass".to_owned()))
    );
    assert_eq!(
        failure(&cold),
        (Some(403), Some("InvalidObjectState".to_owned()))
    );
    assert!(cold_head.is_ok(), "HEAD of an archived object works");
    Ok(())
}
