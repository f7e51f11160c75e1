//! The state store behind dead letters and progress: a local directory and
//! an S3 prefix (moto over TCP) behave alike.

mod source_support;

use bytes::Bytes;
use flowlog_forwarder::state::{StateError, StateStore};
use source_support::Moto;

async fn exercise(store: &StateStore) -> anyhow::Result<()> {
    assert_eq!(store.get("progress/a.json").await?, None);
    assert!(store.list("").await?.is_empty());

    store
        .put("progress/a.json", Bytes::from_static(b"one"))
        .await?;
    store
        .put("progress/a.json", Bytes::from_static(b"two"))
        .await?;
    store
        .put("deadletter/x.meta.json", Bytes::from_static(b"{}"))
        .await?;
    store
        .put("deadletter/x.json.gz", Bytes::from_static(b"\x1f\x8b"))
        .await?;

    assert_eq!(
        store.get("progress/a.json").await?,
        Some(Bytes::from_static(b"two"))
    );
    assert_eq!(
        store.list("deadletter/").await?,
        ["deadletter/x.json.gz", "deadletter/x.meta.json"]
    );
    assert_eq!(store.list("").await?.len(), 3);

    store.delete("deadletter/x.json.gz").await?;
    store.delete("deadletter/x.json.gz").await?; // already gone: not an error
    assert_eq!(store.list("deadletter/").await?, ["deadletter/x.meta.json"]);
    Ok(())
}

#[tokio::test]
async fn a_local_directory_puts_gets_lists_and_deletes() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = StateStore::Local(dir.path().join("state"));

    exercise(&store).await?;

    assert!(!store.is_own_state_key("logs", "progress/a.json"));
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_s3_prefix_puts_gets_lists_and_deletes() -> anyhow::Result<()> {
    let moto = Moto::start()?;
    let client = moto.client().await?;
    client.create_bucket().bucket("logs").send().await?;
    client
        .put_object()
        .bucket("logs")
        .key("AWSLogs/unrelated.log.gz")
        .body(Vec::from(&b"x"[..]).into())
        .send()
        .await?;
    let store = StateStore::s3(client.clone(), "logs", "forwarder-state");

    exercise(&store).await?;

    let listed = client.list_objects_v2().bucket("logs").send().await?;
    let keys: Vec<_> = listed.contents().iter().filter_map(|o| o.key()).collect();
    assert_eq!(
        keys,
        [
            "AWSLogs/unrelated.log.gz",
            "forwarder-state/deadletter/x.meta.json",
            "forwarder-state/progress/a.json"
        ]
    );
    Ok(())
}

#[tokio::test]
async fn recognises_its_own_keys_in_the_watched_bucket() -> anyhow::Result<()> {
    let moto_free_client = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .build(),
    );
    let store = StateStore::s3(moto_free_client, "logs", "/forwarder-state");

    let cases = [
        ("logs", "forwarder-state/deadletter/x.meta.json", true),
        ("logs", "forwarder-state/progress/a.json", true),
        ("logs", "forwarder-state-other/x", false),
        ("logs", "AWSLogs/123/vpcflowlogs/x.log.gz", false),
        ("other-bucket", "forwarder-state/progress/a.json", false),
    ];
    for (bucket, key, own) in cases {
        assert_eq!(store.is_own_state_key(bucket, key), own, "{bucket}/{key}");
    }
    assert_eq!(store.location(), "s3://logs/forwarder-state/");
    Ok(())
}

#[tokio::test]
async fn refuses_keys_that_would_escape_the_store() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = StateStore::Local(dir.path().to_path_buf());

    for key in [
        "",
        "/etc/passwd",
        "../x",
        "a/../../x",
        "a//b",
        "a/./b",
        ".tmp-x",
    ] {
        let err = store
            .put(key, Bytes::from_static(b"x"))
            .await
            .expect_err(key);
        assert!(
            matches!(err, StateError::InvalidKey { .. }),
            "{key}: {err:?}"
        );
    }
    Ok(())
}
