//! aws-sdk-s3 (and a plain HTTP client on presigned URLs) against the emulated S3 over TCP:
//! completing multipart uploads as S3 does — retried completions, conditional completions and
//! writes, and a part re-sent while its first send is still running.

use std::time::Duration;

use anyhow::{Context as _, Result};
use aws_sdk_s3::Client;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use flowlog_emulator::Emulator;
use tokio_stream::wrappers::ReceiverStream;

mod s3_support;

use s3_support::{body_of, failure, put};

/// Starts an upload of one part and returns its id and the part list to complete with.
async fn one_part_upload(
    s3: &Client,
    bucket: &str,
    key: &str,
    body: &'static [u8],
) -> Result<(String, CompletedMultipartUpload)> {
    let upload = s3
        .create_multipart_upload()
        .bucket(bucket)
        .key(key)
        .send()
        .await?;
    let id = upload.upload_id().context("upload id")?.to_owned();
    let part = s3
        .upload_part()
        .bucket(bucket)
        .key(key)
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from_static(body))
        .send()
        .await?;
    let parts = CompletedMultipartUpload::builder()
        .parts(
            CompletedPart::builder()
                .part_number(1)
                .set_e_tag(part.e_tag().map(str::to_owned))
                .build(),
        )
        .build();
    Ok((id, parts))
}

#[tokio::test]
async fn a_completion_retried_after_it_succeeded_answers_the_same_result_again() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    emulator.create_bucket_with_trigger("bkt").await?;
    let (id, parts) = one_part_upload(&s3, "bkt", "k", b"payload").await?;
    let mut events = emulator.notifications();

    let first = s3
        .complete_multipart_upload()
        .bucket("bkt")
        .key("k")
        .upload_id(&id)
        .multipart_upload(parts.clone())
        .send()
        .await?;
    let again = s3
        .complete_multipart_upload()
        .bucket("bkt")
        .key("k")
        .upload_id(&id)
        .multipart_upload(parts.clone())
        .send()
        .await?;
    let other_key = s3
        .complete_multipart_upload()
        .bucket("bkt")
        .key("other")
        .upload_id(&id)
        .multipart_upload(parts)
        .send()
        .await;
    let parts_after = s3
        .list_parts()
        .bucket("bkt")
        .key("k")
        .upload_id(&id)
        .send()
        .await;

    assert_eq!(again.e_tag(), first.e_tag());
    assert_eq!(again.location(), first.location());
    assert_eq!(body_of(&s3, "bkt", "k").await?, b"payload");
    assert!(events.try_recv().is_some(), "the completion notified");
    assert!(events.try_recv().is_none(), "the retry did not write again");
    assert_eq!(
        failure(&other_key),
        (Some(404), Some("NoSuchUpload".to_owned()))
    );
    assert_eq!(failure(&parts_after).1.as_deref(), Some("NoSuchUpload"));
    Ok(())
}

#[tokio::test]
async fn if_none_match_and_if_match_guard_completions_and_puts() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;

    let (id, parts) = one_part_upload(&s3, "bkt", "new", b"created").await?;
    s3.complete_multipart_upload()
        .bucket("bkt")
        .key("new")
        .upload_id(&id)
        .if_none_match("*")
        .multipart_upload(parts)
        .send()
        .await?;
    let (id, parts) = one_part_upload(&s3, "bkt", "new", b"second").await?;
    let exists = s3
        .complete_multipart_upload()
        .bucket("bkt")
        .key("new")
        .upload_id(&id)
        .if_none_match("*")
        .multipart_upload(parts.clone())
        .send()
        .await;
    let wrong = s3
        .complete_multipart_upload()
        .bucket("bkt")
        .key("new")
        .upload_id(&id)
        .if_match("\"0123456789abcdef0123456789abcdef\"")
        .multipart_upload(parts.clone())
        .send()
        .await;
    let current = s3.head_object().bucket("bkt").key("new").send().await?;
    let matching = s3
        .complete_multipart_upload()
        .bucket("bkt")
        .key("new")
        .upload_id(&id)
        .if_match(current.e_tag().context("etag")?)
        .multipart_upload(parts)
        .send()
        .await;
    let (id, parts) = one_part_upload(&s3, "bkt", "absent", b"x").await?;
    let no_object = s3
        .complete_multipart_upload()
        .bucket("bkt")
        .key("absent")
        .upload_id(&id)
        .if_match("\"0123456789abcdef0123456789abcdef\"")
        .multipart_upload(parts)
        .send()
        .await;
    put(&s3, "bkt", "p", b"one").await?;
    let put_again = s3
        .put_object()
        .bucket("bkt")
        .key("p")
        .if_none_match("*")
        .body(ByteStream::from_static(b"two"))
        .send()
        .await;
    let put_wrong = s3
        .put_object()
        .bucket("bkt")
        .key("p")
        .if_match("\"0123456789abcdef0123456789abcdef\"")
        .body(ByteStream::from_static(b"two"))
        .send()
        .await;

    assert_eq!(
        failure(&exists),
        (Some(412), Some("PreconditionFailed".to_owned()))
    );
    assert_eq!(
        failure(&wrong),
        (Some(412), Some("PreconditionFailed".to_owned()))
    );
    assert!(matching.is_ok(), "{matching:?}");
    assert_eq!(
        body_of(&s3, "bkt", "new").await?,
        b"second",
        "the upload survived its refusals"
    );
    assert_eq!(
        failure(&no_object),
        (Some(404), Some("NoSuchKey".to_owned()))
    );
    assert_eq!(
        failure(&put_again),
        (Some(412), Some("PreconditionFailed".to_owned()))
    );
    assert_eq!(
        failure(&put_wrong),
        (Some(412), Some("PreconditionFailed".to_owned()))
    );
    assert_eq!(body_of(&s3, "bkt", "p").await?, b"one");
    Ok(())
}

#[tokio::test]
async fn a_part_re_sent_while_its_first_send_is_still_running_completes_with_the_last_one()
-> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;
    let upload = s3
        .create_multipart_upload()
        .bucket("bkt")
        .key("k")
        .send()
        .await?;
    let id = upload.upload_id().context("upload id")?.to_owned();
    let size = 8usize;

    // First send (A): a plain HTTP client on a presigned URL, its body held back half-way.
    let presigned = s3
        .upload_part()
        .bucket("bkt")
        .key("k")
        .upload_id(&id)
        .part_number(1)
        .content_length(i64::try_from(size)?)
        .presigned(PresigningConfig::expires_in(Duration::from_secs(600))?)
        .await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(1);
    let mut request = reqwest::Client::new()
        .put(presigned.uri())
        .header("content-length", size.to_string())
        .body(reqwest::Body::wrap_stream(ReceiverStream::new(rx)));
    for (name, value) in presigned.headers() {
        request = request.header(name, value);
    }
    let first = tokio::spawn(request.send());
    tx.send(Ok(Bytes::from(vec![b'A'; size / 2]))).await?;

    // Second send (B) of the same part, complete while A is still on the wire.
    let b = s3
        .upload_part()
        .bucket("bkt")
        .key("k")
        .upload_id(&id)
        .part_number(1)
        .body(ByteStream::from(vec![b'B'; size]))
        .send()
        .await?;
    tx.send(Ok(Bytes::from(vec![b'A'; size / 2]))).await?;
    drop(tx);
    let a = first.await??;
    let a_status = a.status().as_u16();
    let a_etag = a
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .context("etag of A")?
        .to_owned();
    // The client lists both answers for part 1, in the order they came back.
    let done = s3
        .complete_multipart_upload()
        .bucket("bkt")
        .key("k")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .set_e_tag(b.e_tag().map(str::to_owned))
                        .build(),
                )
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .e_tag(&a_etag)
                        .build(),
                )
                .build(),
        )
        .send()
        .await;

    assert_eq!(a_status, 200);
    assert!(done.is_ok(), "{done:?}");
    assert_eq!(
        body_of(&s3, "bkt", "k").await?,
        vec![b'A'; size],
        "the send that finished last wins"
    );
    Ok(())
}

#[tokio::test]
async fn a_parts_list_out_of_order_or_naming_unknown_parts_is_refused() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;
    let (id, _) = one_part_upload(&s3, "bkt", "k", b"x").await?;

    let descending = s3
        .complete_multipart_upload()
        .bucket("bkt")
        .key("k")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(CompletedPart::builder().part_number(2).build())
                .parts(CompletedPart::builder().part_number(1).build())
                .build(),
        )
        .send()
        .await;
    let unknown = s3
        .complete_multipart_upload()
        .bucket("bkt")
        .key("k")
        .upload_id(&id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .e_tag("\"00000000000000000000000000000000\"")
                        .build(),
                )
                .build(),
        )
        .send()
        .await;

    assert_eq!(
        failure(&descending),
        (Some(400), Some("InvalidPartOrder".to_owned()))
    );
    assert_eq!(
        failure(&unknown),
        (Some(400), Some("InvalidPart".to_owned()))
    );
    Ok(())
}
