//! Dead letters: stored whole, listed, read back, replayed and deleted only
//! once accepted; the apiKey never stored.

mod source_support;

use std::cell::Cell;

use bytes::Bytes;
use flowlog_forwarder::batch::UploadBatch;
use flowlog_forwarder::deadletter::{DeadLetter, DeadLetterContext, DeadLetterStore};
use flowlog_forwarder::secret::Secret;
use flowlog_forwarder::state::StateStore;
use source_support::{Moto, gzip};

const API_KEY: &str = "ab12cd34ef56ab12cd34ef56ab12cd34";

fn letter(batch_index: u64) -> DeadLetter {
    let json = format!(r#"[{{"srcaddr":"10.0.0.{batch_index}","_zl_timestamp":1700000000000}}]"#);
    let batch = UploadBatch {
        body: Bytes::from(gzip(json.as_bytes())),
        log_size: 42,
        records: 1,
        json_bytes: json.len(),
    };
    DeadLetter::from_batch(
        &batch,
        DeadLetterContext {
            version_id: None,
            bucket: "logs".to_owned(),
            key: "AWSLogs/123/vpcflowlogs/x.log.gz".to_owned(),
            etag: Some("0123abcd".to_owned()),
            batch_index,
            first_line: 2 + batch_index * 500,
            last_line: 501 + batch_index * 500,
            error: "HTTP 503 after 6 attempts".to_owned(),
            attempts: 6,
            failed_at: "2026-11-25T06:00:00.000Z".to_owned(),
            log_type: "aws_vpc_flow".to_owned(),
            upload_url: "http://127.0.0.1:9/upload".to_owned(),
        },
    )
}

#[tokio::test]
async fn writes_lists_reads_and_deletes_a_dead_letter() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = DeadLetterStore::new(StateStore::Local(dir.path().to_path_buf()));
    let original = letter(3);

    let id = store.write(&original).await?;
    let listed = store.list().await?;
    let read = store.read(&id).await?;

    assert_eq!(listed, std::slice::from_ref(&id));
    assert_eq!(read, original);
    assert_eq!(read.to_batch().body, original.body);
    let meta = std::fs::read_to_string(dir.path().join(format!("deadletter/{id}.meta.json")))?;
    let meta: serde_json::Value = serde_json::from_str(&meta)?;
    insta::assert_json_snapshot!(meta, {
        ".body_sha256" => "[sha256 of the gzip payload]",
        ".body_bytes" => "[gzip size]",
    });

    store.delete(&id).await?;
    assert!(store.list().await?.is_empty());
    assert_eq!(std::fs::read_dir(dir.path().join("deadletter"))?.count(), 0);
    Ok(())
}

#[tokio::test]
async fn the_same_batch_dead_lettered_twice_is_stored_once() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = DeadLetterStore::new(StateStore::Local(dir.path().to_path_buf()));

    let first = store.write(&letter(0)).await?;
    let again = store.write(&letter(0)).await?;
    let other = store.write(&letter(1)).await?;

    assert_eq!(first, again);
    assert_ne!(first, other);
    assert_eq!(store.list().await?.len(), 2);
    Ok(())
}

#[tokio::test]
async fn never_stores_the_api_key_even_when_an_error_quotes_it() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = DeadLetterStore::new(StateStore::Local(dir.path().to_path_buf()))
        .redacting(Secret::new(API_KEY));
    let mut leaky = letter(0);
    leaky.context.error = format!("400 invalid_account for X-DeviceKey: {API_KEY}");

    let id = store.write(&leaky).await?;

    let meta = std::fs::read_to_string(dir.path().join(format!("deadletter/{id}.meta.json")))?;
    assert!(!meta.contains(API_KEY), "{meta}");
    assert!(
        !meta.to_ascii_lowercase().contains("x-devicekey\":"),
        "{meta}"
    );
    assert!(meta.contains("<redacted>"), "{meta}");
    let headers = store.read_meta(&id).await?.headers;
    assert!(headers.contains_key("X-LogType") && headers.contains_key("Log-Size"));
    assert!(
        !headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("x-devicekey"))
    );
    Ok(())
}

async fn replay_once_refused_then_accepted(store: &DeadLetterStore) -> anyhow::Result<()> {
    // Arrange: two dead letters; the sender refuses batch 1 on its first try.
    store.write(&letter(0)).await?;
    store.write(&letter(1)).await?;
    let refusals_left = Cell::new(1);
    let sent = Cell::new(0);
    let send = |letter: DeadLetter| {
        let refuse = letter.context.batch_index == 1 && refusals_left.get() > 0;
        if refuse {
            refusals_left.set(0);
        } else {
            sent.set(sent.get() + 1);
        }
        async move {
            if refuse {
                Err("HTTP 503: still down")
            } else {
                Ok(())
            }
        }
    };

    // Act + Assert: the refused one stays, the accepted one is gone.
    let first = store.replay(send).await?;
    assert_eq!((first.replayed, first.failed, first.remaining), (1, 1, 1));
    assert!(
        first.problems[0].1.contains("still down"),
        "{:?}",
        first.problems
    );
    let left = store.list().await?;
    assert_eq!(left.len(), 1);
    assert_eq!(store.read(&left[0]).await?.context.batch_index, 1);

    let second = store.replay(send).await?;
    assert_eq!(
        (second.replayed, second.failed, second.remaining),
        (1, 0, 0)
    );
    assert!(store.list().await?.is_empty());
    assert_eq!(sent.get(), 2);
    Ok(())
}

#[tokio::test]
async fn replay_keeps_what_the_sender_refused_and_deletes_what_it_accepted() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = DeadLetterStore::new(StateStore::Local(dir.path().to_path_buf()));
    replay_once_refused_then_accepted(&store).await
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_works_the_same_on_an_s3_prefix() -> anyhow::Result<()> {
    let moto = Moto::start()?;
    let client = moto.client().await?;
    client.create_bucket().bucket("state").send().await?;
    let store = DeadLetterStore::new(StateStore::s3(client, "state", "forwarder/"));
    replay_once_refused_then_accepted(&store).await
}

#[tokio::test]
async fn a_damaged_payload_is_reported_and_kept_not_sent() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = DeadLetterStore::new(StateStore::Local(dir.path().to_path_buf()));
    let id = store.write(&letter(0)).await?;
    std::fs::write(
        dir.path().join(format!("deadletter/{id}.json.gz")),
        b"not the payload",
    )?;
    let calls = Cell::new(0);

    let report = store
        .replay(|_| {
            calls.set(calls.get() + 1);
            async { Ok::<(), String>(()) }
        })
        .await?;

    assert_eq!(calls.get(), 0);
    assert_eq!(
        (report.replayed, report.failed, report.remaining),
        (0, 1, 1)
    );
    assert!(
        report.problems[0].1.contains("SHA-256"),
        "{:?}",
        report.problems
    );
    Ok(())
}

#[tokio::test]
async fn an_orphan_payload_without_meta_is_not_listed() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store = DeadLetterStore::new(StateStore::Local(dir.path().to_path_buf()));
    let id = store.write(&letter(0)).await?;
    std::fs::remove_file(dir.path().join(format!("deadletter/{id}.meta.json")))?;

    assert!(store.list().await?.is_empty());
    Ok(())
}
