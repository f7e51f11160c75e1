//! Real third-party clients (awscli v1 and boto3 from the project's virtualenv) against the
//! in-process emulated S3, each followed by a check of the notification S3 would have sent.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail, ensure};
use aws_sdk_s3::types::{Event, LambdaFunctionConfiguration, NotificationConfiguration};
use flowlog_emulator::{Emulator, Notification, Subscription};
use tokio::process::Command;

const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:flowlog-forwarder";

fn venv_bin(name: &str) -> Result<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let venv = std::env::var_os("FLOWLOG_VENV").map_or_else(|| root.join(".venv"), PathBuf::from);
    let bin = venv.join("bin").join(name);
    if !bin.is_file() {
        bail!("{} not found: run `make tools`", bin.display());
    }
    Ok(bin)
}

/// A command for a venv tool with credentials for the emulator and no user AWS configuration.
fn tool(emulator: &Emulator, name: &str, home: &Path) -> Result<Command> {
    let settings = emulator.s3_settings();
    let mut cmd = Command::new(venv_bin(name)?);
    cmd.env("AWS_ACCESS_KEY_ID", &settings.access_key)
        .env("AWS_SECRET_ACCESS_KEY", &settings.secret_key)
        .env("AWS_DEFAULT_REGION", &settings.region)
        .env("AWS_CONFIG_FILE", home.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .kill_on_drop(true);
    Ok(cmd)
}

async fn run(mut cmd: Command) -> Result<String> {
    let out = cmd.output().await.context("running a client")?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    ensure!(
        out.status.success(),
        "{cmd:?} failed: {stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(stdout)
}

fn aws(emulator: &Emulator, home: &Path, args: &[&str]) -> Result<Command> {
    let mut cmd = tool(emulator, "aws", home)?;
    cmd.arg("--endpoint-url").arg(emulator.s3_uri()).args(args);
    Ok(cmd)
}

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
    notify_all_created(&emulator, "cp-bucket").await?;
    let mut events = emulator.notifications();
    let file = home.path().join("flow.log.gz");
    let content: Vec<u8> = (0..20_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&file, &content)?;

    let target = "s3://cp-bucket/AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/24/flow.log.gz";
    run(aws(
        &emulator,
        home.path(),
        &["s3", "cp", file.to_str().context("path")?, target],
    )?)
    .await?;

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
    notify_all_created(&emulator, "ls-bucket").await?;
    let mut events = emulator.notifications();
    let file = home.path().join("small.log");
    std::fs::write(
        &file,
        b"2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 49152 6 10 840 1 2 ACCEPT OK\n",
    )?;
    let key = "year=2026/a b+c=d.log";

    let src = file.to_str().context("path")?;
    run(aws(
        &emulator,
        home.path(),
        &["s3", "cp", src, &format!("s3://ls-bucket/{key}")],
    )?)
    .await?;
    let put = next(&mut events)?;
    let listing = run(aws(
        &emulator,
        home.path(),
        &["s3", "ls", "--recursive", "s3://ls-bucket/"],
    )?)
    .await?;
    run(aws(
        &emulator,
        home.path(),
        &["s3", "rm", &format!("s3://ls-bucket/{key}")],
    )?)
    .await?;
    let after = run(aws(
        &emulator,
        home.path(),
        &["s3", "ls", "--recursive", "s3://ls-bucket/"],
    )?)
    .await?;

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
    run(aws(
        &emulator,
        home.path(),
        &[
            "s3api",
            "put-bucket-notification-configuration",
            "--bucket",
            "api-bucket",
            "--notification-configuration",
            &file_arg,
        ],
    )?)
    .await?;
    let echoed = run(aws(
        &emulator,
        home.path(),
        &[
            "s3api",
            "get-bucket-notification-configuration",
            "--bucket",
            "api-bucket",
        ],
    )?)
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
    let mut events = emulator.notifications();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/boto3_roundtrip.py");

    let mut cmd = tool(&emulator, "python", home.path())?;
    cmd.arg(script)
        .arg(emulator.s3_uri())
        .arg("boto3-bucket")
        .arg(FUNCTION)
        .arg(home.path());
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
    notify_all_created(&emulator, "post-bucket").await?;
    let mut events = emulator.notifications();
    let script =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients/boto3_presigned_post.py");

    let mut cmd = tool(&emulator, "python", home.path())?;
    cmd.arg(script)
        .arg(emulator.s3_uri())
        .arg("post-bucket")
        .arg("forms/a b.log");
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
