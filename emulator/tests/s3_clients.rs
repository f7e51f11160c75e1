//! Real third-party clients (awscli v1 and boto3 from the project's virtualenv) against the
//! in-process emulated S3, each followed by a check of the notification S3 would have sent.
//! (Versioning, transfers and settings through the same clients: `s3_clients_versioned.rs`.)

use anyhow::{Context as _, Result};
use aws_sdk_s3::types::{Event, LambdaFunctionConfiguration, NotificationConfiguration};
use flowlog_emulator::{Emulator, Notification, Subscription};

mod clients;

use clients::{Clients, run};

const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:flowlog-forwarder";

async fn notify_all_created(emulator: &Emulator, bucket: &str) -> Result<()> {
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket(bucket).send().await?;
    let entry = LambdaFunctionConfiguration::builder()
        .id("all")
        .lambda_function_arn(FUNCTION)
        .events(Event::from("s3:ObjectCreated:*"))
        .build()?;
    s3.put_bucket_notification_configuration()
        .bucket(bucket)
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
        .context("expected a notification after the client returned")
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_s3_cp_of_a_20_mb_file_is_one_multipart_upload_and_one_event() -> Result<()> {
    let emulator = Emulator::start().await?;
    let home = tempfile::tempdir()?;
    let clients = Clients::new(&emulator, home.path());
    notify_all_created(&emulator, "cp-bucket").await?;
    let mut events = emulator.notifications();
    let file = home.path().join("flow.log.gz");
    let content: Vec<u8> = (0..20_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&file, &content)?;

    let target = "s3://cp-bucket/AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/24/flow.log.gz";
    run(clients.aws(&["s3", "cp", file.to_str().context("path")?, target])?).await?;

    let n = next(&mut events)?;
    assert_eq!(
        n.event_name(),
        Some("ObjectCreated:CompleteMultipartUpload")
    );
    assert_eq!(
        n.event
            .pointer("/Records/0/s3/object/size")
            .and_then(|v| v.as_u64()),
        Some(20_000_000)
    );
    assert!(events.try_recv().is_none(), "one upload, one event");
    let key = n.key().context("key")?;
    let stored = emulator
        .s3_client()
        .get_object()
        .bucket("cp-bucket")
        .key(&key)
        .send()
        .await?;
    assert!(
        stored.body.collect().await?.to_vec() == content,
        "stored bytes equal the file"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_s3_ls_lists_and_aws_s3_rm_removes_what_aws_s3_cp_put() -> Result<()> {
    let emulator = Emulator::start().await?;
    let home = tempfile::tempdir()?;
    let clients = Clients::new(&emulator, home.path());
    notify_all_created(&emulator, "ls-bucket").await?;
    let mut events = emulator.notifications();
    let file = home.path().join("small.log");
    std::fs::write(
        &file,
        b"2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1 2 ACCEPT OK\n",
    )?;
    let key = "year=2026/a b+c=d.log";

    let src = file.to_str().context("path")?;
    run(clients.aws(&["s3", "cp", src, &format!("s3://ls-bucket/{key}")])?).await?;
    let put = next(&mut events)?;
    let listing = run(clients.aws(&["s3", "ls", "--recursive", "s3://ls-bucket/"])?).await?;
    run(clients.aws(&["s3", "rm", &format!("s3://ls-bucket/{key}")])?).await?;
    let after = run(clients.aws(&["s3", "ls", "--recursive", "s3://ls-bucket/"])?).await?;

    assert_eq!(put.event_name(), Some("ObjectCreated:Put"));
    assert_eq!(
        put.event
            .pointer("/Records/0/s3/object/key")
            .and_then(|v| v.as_str()),
        Some("year%3D2026/a+b%2Bc%3Dd.log")
    );
    assert!(
        listing.contains(key),
        "listing shows the decoded key: {listing}"
    );
    assert!(!after.contains(key), "removed: {after}");
    assert!(events.try_recv().is_none(), "ls and rm do not notify");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_s3api_put_bucket_notification_configuration_routes_matching_objects() -> Result<()> {
    let emulator = Emulator::start().await?;
    let home = tempfile::tempdir()?;
    let clients = Clients::new(&emulator, home.path());
    emulator
        .s3_client()
        .create_bucket()
        .bucket("api-bucket")
        .send()
        .await?;
    let config = serde_json::json!({
        "LambdaFunctionConfigurations": [{
            "Id": "cli-forwarder",
            "LambdaFunctionArn": FUNCTION,
            "Events": ["s3:ObjectCreated:Put"],
            "Filter": {"Key": {"FilterRules": [
                {"Name": "Prefix", "Value": "AWSLogs/"},
                {"Name": "Suffix", "Value": ".log.gz"}
            ]}}
        }]
    });
    let config_file = home.path().join("notification.json");
    std::fs::write(&config_file, config.to_string())?;
    let mut events = emulator.notifications();

    let file_arg = format!("file://{}", config_file.display());
    run(clients.aws(&[
        "s3api",
        "put-bucket-notification-configuration",
        "--bucket",
        "api-bucket",
        "--notification-configuration",
        &file_arg,
    ])?)
    .await?;
    let echoed = run(clients.aws(&[
        "s3api",
        "get-bucket-notification-configuration",
        "--bucket",
        "api-bucket",
    ])?)
    .await?;
    let s3 = emulator.s3_client();
    for key in ["other/x.log.gz", "AWSLogs/x.txt", "AWSLogs/1/x.log.gz"] {
        s3.put_object()
            .bucket("api-bucket")
            .key(key)
            .body(aws_sdk_s3::primitives::ByteStream::from_static(b"x"))
            .send()
            .await?;
    }

    let echoed: serde_json::Value = serde_json::from_str(&echoed)?;
    assert_eq!(
        echoed
            .pointer("/LambdaFunctionConfigurations/0/Id")
            .and_then(|v| v.as_str()),
        Some("cli-forwarder")
    );
    let n = next(&mut events)?;
    assert_eq!(n.key().as_deref(), Some("AWSLogs/1/x.log.gz"));
    assert_eq!(n.configuration_id, "cli-forwarder");
    assert!(events.try_recv().is_none(), "filtered keys do not notify");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_boto3_script_round_trips_and_its_log_uploads_notify() -> Result<()> {
    let emulator = Emulator::start().await?;
    let home = tempfile::tempdir()?;
    let clients = Clients::new(&emulator, home.path());
    let mut events = emulator.notifications();
    let uri = emulator.s3_uri();
    let workdir = home.path().to_str().context("path")?;

    let cmd = clients.python(
        "boto3_roundtrip.py",
        &[&uri, "boto3-bucket", FUNCTION, workdir],
    )?;
    let out: serde_json::Value = serde_json::from_str(&run(cmd).await?)?;

    assert_eq!(
        out["notification_ids"],
        serde_json::json!(["boto3-forwarder"])
    );
    assert_eq!(
        out["listed_keys"],
        serde_json::json!(["year=2026/a b+c=d.log.gz"]),
        "botocore decodes the keys it asked to be url-encoded"
    );
    assert_eq!(
        out["listed_keys_raw"],
        serde_json::json!(["year%3D2026/a%20b%2Bc%3Dd.log.gz"])
    );
    assert_eq!(out["range_status"], 206);
    assert_eq!(out["range_body"], "234");
    assert_eq!(out["big_size"], 12 * 1024 * 1024);
    assert!(
        out["big_etag"]
            .as_str()
            .is_some_and(|e| e.ends_with("-3\"")),
        "{}",
        out["big_etag"]
    );
    assert_eq!(
        out["remaining"],
        serde_json::json!(["multi/big.log.gz", "year=2026/a b+c=d.log.gz"])
    );
    let put = next(&mut events)?;
    let multipart = next(&mut events)?;
    assert_eq!(
        (put.event_name(), put.key().as_deref()),
        (Some("ObjectCreated:Put"), Some("year=2026/a b+c=d.log.gz"))
    );
    assert_eq!(
        multipart.event_name(),
        Some("ObjectCreated:CompleteMultipartUpload")
    );
    assert!(
        events.try_recv().is_none(),
        "ignored.txt does not match the suffix filter"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_browser_style_post_upload_fires_object_created_post() -> Result<()> {
    let emulator = Emulator::start().await?;
    let home = tempfile::tempdir()?;
    let clients = Clients::new(&emulator, home.path());
    notify_all_created(&emulator, "post-bucket").await?;
    let mut events = emulator.notifications();
    let uri = emulator.s3_uri();

    let cmd = clients.python(
        "boto3_presigned_post.py",
        &[&uri, "post-bucket", "forms/a b.log"],
    )?;
    let status = run(cmd).await?;

    assert_eq!(status.trim(), "204");
    let n = next(&mut events)?;
    assert_eq!(n.event_name(), Some("ObjectCreated:Post"));
    assert_eq!(
        n.event
            .pointer("/Records/0/s3/object/key")
            .and_then(|v| v.as_str()),
        Some("forms/a+b.log")
    );
    let stored = emulator
        .s3_client()
        .get_object()
        .bucket("post-bucket")
        .key("forms/a b.log")
        .send()
        .await?;
    assert_eq!(
        stored.body.collect().await?.to_vec(),
        b"posted by a browser form\n"
    );
    Ok(())
}
