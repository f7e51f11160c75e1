//! Bad objects among good ones, forwarded in one `forward` run: each bad object gets a clear
//! error (naming it and the fix) and its accounting line on stderr; the good objects still
//! arrive exactly; the run exits 1 because objects failed.

use flowlog_e2e::{
    CliTarget, FlowLogRun, Traffic, accounting_lines, log_type_config, put_bytes, workspace_root,
};
use flowlog_emulator::Emulator;

const BUCKET: &str = "flow-logs";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_bad_object_is_a_clear_error_and_the_others_are_delivered() -> anyhow::Result<()> {
    // Arrange
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket(BUCKET).send().await?;
    let traffic = Traffic::generate(&[FlowLogRun {
        bucket: BUCKET.into(),
        duration_secs: 600,
        ..FlowLogRun::default()
    }])?;
    flowlog_e2e::put_all(&s3, &traffic.objects).await?;
    let mut corrupt = vec![0x1f, 0x8b, 0x08, 0x00];
    corrupt.extend((0u8..200).map(|i| i.wrapping_mul(37)));
    let parquet = std::fs::read(workspace_root().join("fixtures/parquet/default-v2.parquet"))?;
    let cut = parquet[..parquet.len() / 2].to_vec();
    // (key, body, outcome, words the error must contain)
    let bad: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "bad/corrupt.log.gz",
            corrupt,
            "failed",
            "corrupt or truncated gzip",
        ),
        ("bad/empty.log.gz", Vec::new(), "empty", ""),
        (
            "bad/notes.txt",
            b"meeting notes\nnothing to see here\n".to_vec(),
            "failed",
            "not a VPC flow log",
        ),
        (
            "bad/deleted.log.gz",
            b"soon gone".to_vec(),
            "failed",
            "no such key",
        ),
        (
            "bad/cut.log.parquet",
            cut,
            "failed",
            "not a whole Parquet file",
        ),
    ];
    for (key, body, _, _) in &bad {
        put_bytes(&s3, BUCKET, key, body.clone()).await?;
    }
    s3.delete_object()
        .bucket(BUCKET)
        .key("bad/deleted.log.gz")
        .send()
        .await?;
    let mock = emulator.ingest();
    let state = tempfile::tempdir()?;
    let settings = emulator.s3_settings();
    let target = CliTarget {
        endpoint: emulator.s3_uri(),
        access_key: settings.access_key.clone(),
        secret_key: settings.secret_key.clone(),
        region: settings.region.clone(),
        upload_url: mock.upload_url(),
        state_dir: state.path().to_owned(),
        log_type_config: log_type_config(mock.device_key(), mock.log_type()),
    };
    let keys: Vec<String> = bad
        .iter()
        .map(|(k, ..)| (*k).to_owned())
        .chain(traffic.objects.iter().map(|o| o.key.clone()))
        .map(|k| format!("s3://{BUCKET}/{k}"))
        .collect();

    // Act
    let (forward, ok) = target.run("forward", &keys).await?;

    // Assert
    assert!(
        !ok,
        "failed objects make the run fail:\n{}",
        forward.output()
    );
    let lines = accounting_lines(&forward.stderr());
    for (key, _, outcome, words) in &bad {
        let object = format!("s3://{BUCKET}/{key}");
        let line = lines.iter().find(|l| l.object == object).ok_or_else(|| {
            anyhow::anyhow!("no accounting line for {object}:\n{}", forward.output())
        })?;
        assert_eq!(line.outcome, *outcome, "{line:?}");
        assert!(line.error().contains(words), "{key}: {line:?}");
        if !words.is_empty() {
            assert!(
                line.error().contains(&object),
                "the error names the object: {line:?}"
            );
        }
        assert_eq!(line.count("sent"), 0, "{line:?}");
    }
    let delivered = lines.iter().filter(|l| l.outcome == "delivered").count();
    assert_eq!(delivered, traffic.objects.len(), "{}", forward.output());
    traffic.truth.compare(&mock.records()).assert_exact()?;
    Ok(())
}
