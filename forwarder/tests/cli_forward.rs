//! The `forward`, `backfill` and `replay` subcommands as a user runs them: the binary against
//! the in-process emulator, selected by `--endpoint-url` and `--upload-url`.

mod pipeline_support;

use std::process::{Command, Output};

use flowlog_emulator::Fault;
use pipeline_support::{BUCKET, Bed, flow_log, gzip, key, ports};

/// Runs the binary with the testbed's environment and flags, off the async runtime.
async fn run(bed: &Bed, args: Vec<String>) -> anyhow::Result<Output> {
    let s3 = bed.emu.s3_settings();
    let mut command = Command::new(env!("CARGO_BIN_EXE_flowlog-forwarder"));
    command
        .args(&args)
        .args([
            "--endpoint-url".to_owned(),
            bed.emu.s3_uri(),
            "--upload-url".to_owned(),
            bed.emu.ingest().upload_url(),
            "--access-key".to_owned(),
            s3.access_key.clone(),
            "--secret-key".to_owned(),
            s3.secret_key.clone(),
            "--upload-backoff-ms".to_owned(),
            "1".to_owned(),
            "--upload-max-backoff-ms".to_owned(),
            "5".to_owned(),
        ])
        .args(
            (!args.iter().any(|a| a == "--state-s3"))
                .then(|| {
                    [
                        "--state-dir".to_owned(),
                        bed.state.path().display().to_string(),
                    ]
                })
                .into_iter()
                .flatten(),
        )
        .env_clear()
        .env(
            "logTypeConfig",
            flowlog_forwarder::config::encode_env_value(&bed.config_json(None)),
        );
    Ok(tokio::task::spawn_blocking(move || command.output()).await??)
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn forward_sends_each_object_and_prints_a_summary_line_per_object() -> anyhow::Result<()> {
    let bed = Bed::start().await?;
    let (a, b) = (key("cli-a"), key("cli b"));
    bed.put(&a, gzip(flow_log(4).as_bytes())).await?;
    bed.put(&b, flow_log(6).into_bytes()).await?;

    let output = run(
        &bed,
        vec![
            "forward".into(),
            format!("s3://{BUCKET}/{a}"),
            format!("s3://{BUCKET}/{b}"),
        ],
    )
    .await?;

    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert_eq!(
        stderr
            .lines()
            .filter(|l| l.contains(" delivered lines="))
            .count(),
        2,
        "{stderr}"
    );
    assert!(stderr.contains("sent=6"), "{stderr}");
    assert_eq!(ports(&bed.emu.ingest().records()).len(), 10);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_gzip_level_flag_changes_the_bodies_and_is_bounded() -> anyhow::Result<()> {
    let bed = Bed::start().await?;
    let body = gzip(flow_log(400).as_bytes());
    let mut gzip_bytes = Vec::new();
    for level in ["0", "9"] {
        let k = key(&format!("level-{level}"));
        bed.put(&k, body.clone()).await?;
        let before = bed.emu.ingest().stats().gzip_bytes;
        let args = vec![
            "forward".into(),
            "--gzip-level".into(),
            level.into(),
            format!("s3://{BUCKET}/{k}"),
        ];
        let output = run(&bed, args).await?;
        assert!(output.status.success(), "{}", text(&output.stderr));
        gzip_bytes.push(bed.emu.ingest().stats().gzip_bytes - before);
    }
    // Level 0 stores: the body is bigger than the JSON; level 9 is a fraction of it.
    assert!(gzip_bytes[0] > 10 * gzip_bytes[1], "{gzip_bytes:?}");
    assert_eq!(ports(&bed.emu.ingest().records()).len(), 800);

    let args = vec!["forward".into(), "--gzip-level".into(), "13".into()];
    let output = run(&bed, args).await?;
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--gzip-level"), "{stderr}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn forward_exits_non_zero_when_an_object_fails() -> anyhow::Result<()> {
    let bed = Bed::start().await?;

    let output = run(
        &bed,
        vec!["forward".into(), format!("s3://{BUCKET}/nope.log.gz")],
    )
    .await?;

    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("no such key"), "{stderr}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn backfill_lists_a_prefix_and_forwards_every_object() -> anyhow::Result<()> {
    let bed = Bed::start().await?;
    for i in 0..5 {
        bed.put(&key(&format!("backfill-{i}")), gzip(flow_log(3).as_bytes()))
            .await?;
    }
    bed.put("elsewhere/x.log", flow_log(2).into_bytes()).await?;

    let output = run(
        &bed,
        vec![
            "backfill".into(),
            "--jobs".into(),
            "3".into(),
            format!("s3://{BUCKET}/AWSLogs/"),
        ],
    )
    .await?;

    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("objects=5 failed=0"), "{stderr}");
    assert!(stderr.contains("records_sent=15"), "{stderr}");
    assert_eq!(bed.emu.ingest().records().len(), 15);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn replay_resends_dead_letters_and_deletes_them() -> anyhow::Result<()> {
    // Arrange: a licence-exceeded window dead-letters the whole object.
    let bed = Bed::start().await?;
    bed.emu.ingest().faults(vec![Fault::license_exceeded()])?;
    let k = key("cli-replay");
    bed.put(&k, gzip(flow_log(12).as_bytes())).await?;
    let first = run(&bed, vec!["forward".into(), format!("s3://{BUCKET}/{k}")]).await?;
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    assert!(
        text(&first.stderr).contains("dead_lettered lines=13"),
        "{}",
        text(&first.stderr)
    );
    bed.emu.ingest().clear_faults();

    // Act
    let output = run(&bed, vec!["replay".into()]).await?;

    // Assert
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout).trim(),
        "replayed=1 failed=0 remaining=0"
    );
    assert_eq!(
        ports(&bed.emu.ingest().records()),
        (10_000..10_012).collect::<Vec<_>>()
    );
    let again = run(&bed, vec!["replay".into()]).await?;
    assert_eq!(
        text(&again.stdout).trim(),
        "replayed=0 failed=0 remaining=0"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn dead_letters_can_live_in_s3_and_be_replayed_from_there() -> anyhow::Result<()> {
    let bed = Bed::start().await?;
    bed.emu.ingest().faults(vec![Fault::license_exceeded()])?;
    let k = key("cli-s3-state");
    bed.put(&k, gzip(flow_log(5).as_bytes())).await?;
    let state = format!("s3://{BUCKET}/forwarder-state/");
    let first = run(
        &bed,
        vec![
            "forward".into(),
            "--state-s3".into(),
            state.clone(),
            format!("s3://{BUCKET}/{k}"),
        ],
    )
    .await?;
    assert_eq!(first.status.code(), Some(1), "{}", text(&first.stderr));
    bed.emu.ingest().clear_faults();
    let stored = bed
        .emu
        .s3_client()
        .list_objects_v2()
        .bucket(BUCKET)
        .prefix("forwarder-state/deadletter/")
        .send()
        .await?;
    assert_eq!(stored.key_count(), Some(2), "payload and meta");

    let output = run(&bed, vec!["replay".into(), "--state-s3".into(), state]).await?;

    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout).trim(),
        "replayed=1 failed=0 remaining=0"
    );
    assert_eq!(
        ports(&bed.emu.ingest().records()),
        (10_000..10_005).collect::<Vec<_>>()
    );
    Ok(())
}
