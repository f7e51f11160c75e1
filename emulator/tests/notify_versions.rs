//! Event records of versioned buckets: each write's record names the version it created
//! (`s3.object.versionId`), and reading that version returns that write's bytes — even after
//! the key was overwritten before anyone looked.

use anyhow::{Context as _, Result};
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketVersioningStatus, CompletedMultipartUpload, CompletedPart, Event,
    LambdaFunctionConfiguration, NotificationConfiguration, VersioningConfiguration,
};
use flowlog_emulator::{Emulator, Notification, Subscription};

const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:flowlog-forwarder";

/// A bucket notifying every object creation, with versioning in the given state (or never set).
async fn bucket(s3: &Client, name: &str, status: Option<BucketVersioningStatus>) -> Result<()> {
    s3.create_bucket().bucket(name).send().await?;
    if let Some(status) = status {
        s3.put_bucket_versioning()
            .bucket(name)
            .versioning_configuration(VersioningConfiguration::builder().status(status).build())
            .send()
            .await?;
    }
    let entry = LambdaFunctionConfiguration::builder()
        .id("all")
        .lambda_function_arn(FUNCTION)
        .events(Event::from("s3:ObjectCreated:*"))
        .build()?;
    s3.put_bucket_notification_configuration()
        .bucket(name)
        .notification_configuration(
            NotificationConfiguration::builder()
                .lambda_function_configurations(entry)
                .build(),
        )
        .send()
        .await?;
    Ok(())
}

fn next(events: &mut Subscription) -> Result<Notification> {
    events
        .try_recv()
        .context("expected a notification once the request returned")
}

#[tokio::test]
async fn each_overwrite_notifies_its_own_version_and_that_version_reads_back() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    bucket(&s3, "flow-logs", Some(BucketVersioningStatus::Enabled)).await?;
    let mut events = emulator.notifications();
    let key = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/24/x.log";
    let bodies: [&[u8]; 3] = [b"first write\n", b"second write\n", b"third write\n"];

    let mut answered = Vec::new();
    for body in bodies {
        let out = s3
            .put_object()
            .bucket("flow-logs")
            .key(key)
            .body(ByteStream::from_static(body))
            .send()
            .await?;
        answered.push(out.version_id().context("version id")?.to_owned());
    }
    // Read only now, after every overwrite, as a forwarder behind a queue would.
    let mut read = Vec::new();
    for _ in bodies {
        let n = next(&mut events)?;
        let version = n
            .version_id()
            .context("versionId in the record")?
            .to_owned();
        let object = s3
            .get_object()
            .bucket("flow-logs")
            .key(n.key().context("key")?)
            .version_id(&version)
            .send()
            .await?;
        let size = n
            .event
            .pointer("/Records/0/s3/object/size")
            .and_then(serde_json::Value::as_u64);
        read.push((version, size, object.body.collect().await?.to_vec()));
    }

    let versions: Vec<&String> = read.iter().map(|(v, _, _)| v).collect();
    assert_eq!(
        versions,
        answered.iter().collect::<Vec<_>>(),
        "records name the versions PUT answered"
    );
    for ((_, size, bytes), body) in read.iter().zip(bodies) {
        assert_eq!(
            bytes.as_slice(),
            body,
            "GET by the record's version returns that write"
        );
        assert_eq!(*size, Some(body.len() as u64));
    }
    assert!(events.try_recv().is_none(), "one event per write");
    Ok(())
}

#[tokio::test]
async fn copies_and_multipart_completions_name_their_versions_too() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    bucket(&s3, "bkt", Some(BucketVersioningStatus::Enabled)).await?;
    let mut events = emulator.notifications();

    s3.put_object()
        .bucket("bkt")
        .key("src")
        .body(ByteStream::from_static(b"source"))
        .send()
        .await?;
    let copied = s3
        .copy_object()
        .bucket("bkt")
        .key("copy")
        .copy_source("bkt/src")
        .send()
        .await?;
    let upload = s3
        .create_multipart_upload()
        .bucket("bkt")
        .key("mpu")
        .send()
        .await?;
    let id = upload.upload_id().context("upload id")?;
    let part = s3
        .upload_part()
        .bucket("bkt")
        .key("mpu")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from_static(b"one part"))
        .send()
        .await?;
    let done = s3
        .complete_multipart_upload()
        .bucket("bkt")
        .key("mpu")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .set_e_tag(part.e_tag().map(str::to_owned))
                        .build(),
                )
                .build(),
        )
        .send()
        .await?;

    let put = next(&mut events)?;
    let copy = next(&mut events)?;
    let complete = next(&mut events)?;
    assert!(put.version_id().is_some());
    assert_eq!(copy.event_name(), Some("ObjectCreated:Copy"));
    assert_eq!(copy.version_id(), copied.version_id());
    assert_eq!(
        complete.event_name(),
        Some("ObjectCreated:CompleteMultipartUpload")
    );
    assert_eq!(complete.version_id(), done.version_id());
    Ok(())
}

#[tokio::test]
async fn records_carry_no_version_id_unless_versioning_is_enabled() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    bucket(&s3, "plain", None).await?;
    bucket(&s3, "suspended", Some(BucketVersioningStatus::Suspended)).await?;
    let mut events = emulator.notifications();

    for name in ["plain", "suspended"] {
        s3.put_object()
            .bucket(name)
            .key("k")
            .body(ByteStream::from_static(b"x"))
            .send()
            .await?;
    }

    for _ in 0..2 {
        let n = next(&mut events)?;
        assert_eq!(
            n.event.pointer("/Records/0/s3/object/versionId"),
            None,
            "bucket {:?}",
            n.bucket()
        );
    }
    Ok(())
}
