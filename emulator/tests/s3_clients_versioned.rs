//! Real third-party clients (boto3 and awscli v1 from the project's virtualenv) against the
//! emulated S3: versioned buckets, managed transfers (UploadPartCopy), and the ACL, policy,
//! checksum and listing calls ordinary flows make.

use anyhow::{Context as _, Result};
use aws_sdk_s3::Client;
use flowlog_emulator::Emulator;
use serde_json::{Value, json};

mod clients;

use clients::{Clients, run, run_failing};

const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:flowlog-forwarder";

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

#[tokio::test(flavor = "multi_thread")]
async fn boto3_overwrites_a_versioned_key_and_each_event_names_the_version_it_wrote() -> Result<()>
{
    let emulator = Emulator::start().await?;
    let home = tempfile::tempdir()?;
    let clients = Clients::new(&emulator, home.path());
    let mut events = emulator.notifications();
    let uri = emulator.s3_uri();

    let out = run(clients.python("boto3_versioning.py", &[&uri, "versioned", FUNCTION])?).await?;
    let out: Value = serde_json::from_str(&out)?;

    let written: Vec<String> = serde_json::from_value(out["written"].clone())?;
    assert_eq!(out["status"], "Enabled");
    assert_eq!(
        out["bodies"],
        json!(["write 0\n", "write 1\n", "write 2\n"])
    );
    assert_eq!(out["head_version"], json!(written[0]));
    assert_eq!(
        out["paged"],
        json!([[written[2], true], [written[1], false], [written[0], false]]),
        "the paginator walked the versions one per page, newest first"
    );
    assert_eq!(out["deleted"]["marker"], true);
    assert_eq!(
        out["after_delete"],
        json!({"code": "NoSuchKey", "delete_marker": "true"})
    );
    assert_eq!(out["markers"], json!([out["deleted"]["version"]]));
    assert_eq!(out["restored"]["source"], json!(written[0]));
    assert_eq!(out["current"]["body"], "write 0\n");

    let s3 = emulator.s3_client();
    let mut expected: Vec<(String, String, Vec<u8>)> = written
        .iter()
        .enumerate()
        .map(|(i, v)| {
            (
                "ObjectCreated:Put".to_owned(),
                v.clone(),
                format!("write {i}\n").into_bytes(),
            )
        })
        .collect();
    let restored = out["restored"]["version"]
        .as_str()
        .context("restored version")?;
    expected.push((
        "ObjectCreated:Copy".to_owned(),
        restored.to_owned(),
        b"write 0\n".to_vec(),
    ));
    for (name, version, body) in expected {
        let n = events.try_recv().context("one event per write")?;
        assert_eq!(n.event_name(), Some(name.as_str()));
        assert_eq!(n.version_id(), Some(version.as_str()));
        let key = n.key().context("key")?;
        assert_eq!(version_body(&s3, "versioned", &key, &version).await?, body);
    }
    assert!(
        events.try_recv().is_none(),
        "reads and deletes do not notify"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn boto3_managed_transfers_and_everyday_calls_behave_as_against_s3() -> Result<()> {
    let emulator = Emulator::start().await?;
    let home = tempfile::tempdir()?;
    let clients = Clients::new(&emulator, home.path());
    let uri = emulator.s3_uri();
    let workdir = home.path().to_str().context("path")?;

    let out = run(clients.python("boto3_transfers.py", &[&uri, "transfers", workdir])?).await?;
    let out: Value = serde_json::from_str(&out)?;

    assert_eq!(
        out["copy_equal"], true,
        "upload_file → copy (UploadPartCopy) → download_file"
    );
    assert_eq!(out["parts_count"], 3);
    assert_eq!(
        out["attributes"],
        json!({"size": 12 * 1024 * 1024, "parts": 3})
    );
    assert_eq!(out["bucket_acl"], json!(["FULL_CONTROL"]));
    assert_eq!(out["object_acl"], json!(["FULL_CONTROL"]));
    assert_eq!(out["no_policy"], "NoSuchBucketPolicy");
    assert_eq!(out["policy_round_trip"], true);
    assert_eq!(out["ownership"], "BucketOwnerEnforced");
    assert_eq!(
        out["location"],
        Value::Null,
        "us-east-1 is an empty LocationConstraint"
    );
    assert_eq!(out["garbage_sha"], "BadDigest");
    assert_eq!(out["wrong_sha"], "BadDigest");
    assert_eq!(out["chunked"], json!({"status": 200, "body": "bar"}));
    assert_eq!(
        out["retried_completion"]["first"],
        out["retried_completion"]["again"]
    );
    assert_eq!(out["zero"], json!({"truncated": false, "count": 0}));
    assert_eq!(out["empty_delimiter_echoed"], false);
    assert_eq!(out["expires"], "2030-01-02T03:04:05+00:00");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_s3_sync_and_cp_keep_versions_and_copy_large_objects_by_parts() -> Result<()> {
    let emulator = Emulator::start().await?;
    let home = tempfile::tempdir()?;
    let clients = Clients::new(&emulator, home.path());
    let local = home.path().join("logs");
    std::fs::create_dir(&local)?;
    std::fs::write(local.join("a.log"), b"first a\n")?;
    std::fs::write(local.join("b.log"), b"only b\n")?;
    let big = home.path().join("big.bin");
    let big_bytes: Vec<u8> = (0..10 * 1024 * 1024u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&big, &big_bytes)?;
    let local_arg = local.to_str().context("path")?;

    run(clients.aws(&["s3", "mb", "s3://synced"])?).await?;
    run(clients.aws(&["s3", "mb", "s3://copies"])?).await?;
    run(clients.aws(&[
        "s3api",
        "put-bucket-versioning",
        "--bucket",
        "synced",
        "--versioning-configuration",
        "Status=Enabled",
    ])?)
    .await?;
    let versioning =
        run(clients.aws(&["s3api", "get-bucket-versioning", "--bucket", "synced"])?).await?;
    run(clients.aws(&["s3", "sync", local_arg, "s3://synced/logs/"])?).await?;
    std::fs::write(local.join("a.log"), b"second a, longer\n")?;
    run(clients.aws(&["s3", "sync", local_arg, "s3://synced/logs/"])?).await?;
    let versions = run(clients.aws(&[
        "s3api",
        "list-object-versions",
        "--bucket",
        "synced",
        "--prefix",
        "logs/",
    ])?)
    .await?;
    let big_arg = big.to_str().context("path")?;
    run(clients.aws(&["s3", "cp", big_arg, "s3://synced/big.bin"])?).await?;
    run(clients.aws(&["s3", "cp", "s3://synced/big.bin", "s3://copies/big.bin"])?).await?;
    let acl = run(clients.aws(&["s3api", "get-bucket-acl", "--bucket", "synced"])?).await?;
    let no_policy =
        run_failing(clients.aws(&["s3api", "get-bucket-policy", "--bucket", "synced"])?).await?;
    let back = home.path().join("back");
    run(clients.aws(&[
        "s3",
        "sync",
        "s3://synced/logs/",
        back.to_str().context("path")?,
    ])?)
    .await?;

    let versioning: Value = serde_json::from_str(&versioning)?;
    assert_eq!(versioning["Status"], "Enabled");
    let versions: Value = serde_json::from_str(&versions)?;
    let listed = versions["Versions"].as_array().context("Versions")?;
    let of = |key: &str| listed.iter().filter(|v| v["Key"] == key).count();
    assert_eq!((of("logs/a.log"), of("logs/b.log")), (2, 1), "{versions}");
    let oldest_a = listed
        .iter()
        .find(|v| v["Key"] == "logs/a.log" && v["IsLatest"] == false)
        .and_then(|v| v["VersionId"].as_str())
        .context("older a.log")?;
    let s3 = emulator.s3_client();
    assert_eq!(
        version_body(&s3, "synced", "logs/a.log", oldest_a).await?,
        b"first a\n"
    );
    let copied = s3
        .get_object()
        .bucket("copies")
        .key("big.bin")
        .send()
        .await?;
    assert!(
        copied.e_tag().is_some_and(|e| e.ends_with("-2\"")),
        "copied by parts: {:?}",
        copied.e_tag()
    );
    assert!(copied.body.collect().await?.to_vec() == big_bytes);
    let acl: Value = serde_json::from_str(&acl)?;
    assert_eq!(acl["Grants"][0]["Permission"], "FULL_CONTROL");
    assert!(no_policy.contains("NoSuchBucketPolicy"), "{no_policy}");
    assert_eq!(std::fs::read(back.join("a.log"))?, b"second a, longer\n");
    Ok(())
}
