//! Faults on the way to Site24x7, each ending with the mock holding the generated records
//! (counts and digests) and duplicates within the documented bound:
//! - 503, 429 with Retry-After and connection resets: a faulted upload stores nothing and is
//!   retried, so the bound is **0** duplicates;
//! - licence exceeded: the batches become dead letters (the run fails), `replay` re-sends them
//!   and deletes each once accepted: bound **0**;
//! - the function process SIGKILLed mid-object: Lambda's retry (a new process through the
//!   Runtime API) resumes after the last batch whose progress marker was written; only batches
//!   accepted but not yet marked at the kill can repeat: bound **uploads in flight (1) × 5,000
//!   records** (the batch record cap).
//! - S3 answering `503 SlowDown` (a throttling proxy in front of the emulated S3, which has no
//!   fault hook of its own): GetObject is retried: bound **0**.

use std::time::Duration;

use flowlog_e2e::lambda::{LambdaTestbed, object_lines};
use flowlog_e2e::slowdown::SlowDownProxy;
use flowlog_e2e::{
    CliTarget, FlowLogRun, Traffic, accounting_lines, log_type_config, mixed_runs, put_all,
};
use flowlog_emulator::{Emulator, Fault};

/// Lambda mode with `faults` set on the mock before any upload; all invocations must succeed.
async fn lambda_run_with(faults: Vec<Fault>) -> anyhow::Result<(Traffic, LambdaTestbed)> {
    let traffic = Traffic::generate(&mixed_runs("flow-logs", 10))?;
    let testbed = LambdaTestbed::start(&traffic, Duration::from_secs(60)).await?;
    testbed.emulator.ingest().faults(faults)?;
    let function = testbed.start_function()?;
    put_all(&testbed.emulator.s3_client(), &traffic.objects).await?;
    testbed
        .wait_idle(&function, Duration::from_secs(120))
        .await?;
    testbed
        .assert_invocations_succeeded(false)
        .map_err(|e| e.context(function.output()))?;
    Ok((traffic, testbed))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_percent_of_uploads_answered_503_lose_nothing() -> anyhow::Result<()> {
    // Arrange + Act
    let (traffic, testbed) =
        lambda_run_with(vec![Fault::status(503).probability(0.3).seed(7)]).await?;

    // Assert
    let mock = testbed.emulator.ingest();
    assert!(mock.stats().by_status.get(&503).copied().unwrap_or(0) > 0);
    traffic
        .truth
        .compare(&mock.records())
        .assert_complete_with_duplicates_at_most(0)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_of_429_with_retry_after_are_waited_out() -> anyhow::Result<()> {
    // Arrange + Act
    let (traffic, testbed) = lambda_run_with(vec![
        Fault::status(429)
            .retry_after(Duration::from_secs(1))
            .times(3),
    ])
    .await?;

    // Assert
    let mock = testbed.emulator.ingest();
    assert_eq!(mock.stats().by_status.get(&429).copied(), Some(3));
    traffic
        .truth
        .compare(&mock.records())
        .assert_complete_with_duplicates_at_most(0)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_resets_are_retried() -> anyhow::Result<()> {
    // Arrange + Act
    let (traffic, testbed) = lambda_run_with(vec![Fault::reset_connection().times(4)]).await?;

    // Assert
    let mock = testbed.emulator.ingest();
    assert_eq!(mock.stats().connection_resets, 4);
    traffic
        .truth
        .compare(&mock.records())
        .assert_complete_with_duplicates_at_most(0)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_licence_exceeded_window_is_dead_lettered_then_replayed() -> anyhow::Result<()> {
    // Arrange
    let emulator = Emulator::start().await?;
    let traffic = Traffic::generate(&mixed_runs("flow-logs", 10))?;
    emulator
        .s3_client()
        .create_bucket()
        .bucket("flow-logs")
        .send()
        .await?;
    put_all(&emulator.s3_client(), &traffic.objects).await?;
    let mock = emulator.ingest();
    mock.faults(vec![Fault::license_exceeded().times(3)])?;
    let state = tempfile::tempdir()?;
    let s3 = emulator.s3_settings();
    let target = CliTarget {
        endpoint: emulator.s3_uri(),
        access_key: s3.access_key.clone(),
        secret_key: s3.secret_key.clone(),
        region: s3.region.clone(),
        upload_url: mock.upload_url(),
        state_dir: state.path().to_owned(),
        log_type_config: log_type_config(mock.device_key(), mock.log_type()),
    };
    let keys: Vec<String> = traffic
        .keys()
        .iter()
        .map(|(b, k)| format!("s3://{b}/{k}"))
        .collect();

    // Act
    let (forward, forward_ok) = target.run("forward", &keys).await?;
    let before_replay = traffic.truth.compare(&mock.records());
    let (replay, replay_ok) = target.run("replay", &[]).await?;

    // Assert
    assert!(
        !forward_ok,
        "dead letters make the run fail:\n{}",
        forward.output()
    );
    let dead: u64 = accounting_lines(&forward.stderr())
        .iter()
        .map(|l| l.count("dead_lettered"))
        .sum();
    assert!(dead > 0, "{}", forward.output());
    assert_eq!(
        before_replay.missing.values().sum::<u64>(),
        dead,
        "{before_replay}"
    );
    assert!(replay_ok, "{}", replay.output());
    assert!(
        replay.stdout().contains("replayed=3"),
        "{}",
        replay.output()
    );
    traffic
        .truth
        .compare(&mock.records())
        .assert_complete_with_duplicates_at_most(0)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_slow_down_replies_are_retried() -> anyhow::Result<()> {
    // Arrange
    let emulator = Emulator::start().await?;
    let traffic = Traffic::generate(&mixed_runs("flow-logs", 10))?;
    emulator
        .s3_client()
        .create_bucket()
        .bucket("flow-logs")
        .send()
        .await?;
    put_all(&emulator.s3_client(), &traffic.objects).await?;
    let proxy = SlowDownProxy::start(emulator.s3_addr().to_string(), 3).await?;
    let mock = emulator.ingest();
    let state = tempfile::tempdir()?;
    let s3 = emulator.s3_settings();
    let target = CliTarget {
        endpoint: proxy.uri().to_owned(),
        access_key: s3.access_key.clone(),
        secret_key: s3.secret_key.clone(),
        region: s3.region.clone(),
        upload_url: mock.upload_url(),
        state_dir: state.path().to_owned(),
        log_type_config: log_type_config(mock.device_key(), mock.log_type()),
    };
    let keys: Vec<String> = traffic
        .keys()
        .iter()
        .map(|(b, k)| format!("s3://{b}/{k}"))
        .collect();

    // Act
    let (forward, ok) = target.run("forward", &keys).await?;

    // Assert
    assert!(ok, "{}", forward.output());
    assert_eq!(proxy.slow_downs(), 3);
    traffic
        .truth
        .compare(&mock.records())
        .assert_complete_with_duplicates_at_most(0)?;
    Ok(())
}

/// Polls the state bucket until the forwarder has written a progress marker.
async fn wait_for_a_progress_marker(testbed: &LambdaTestbed) -> anyhow::Result<()> {
    let s3 = testbed.emulator.s3_client();
    for _ in 0..600 {
        let listed = s3
            .list_objects_v2()
            .bucket(flowlog_e2e::lambda::STATE_BUCKET)
            .send()
            .await?;
        if listed
            .contents()
            .iter()
            .any(|o| o.key().is_some_and(|k| k.contains("progress")))
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    anyhow::bail!("no progress marker appeared in the state bucket")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_killed_mid_object_is_retried_and_completes() -> anyhow::Result<()> {
    // Arrange: two objects of ~19k records (4 batches each), slow uploads, one at a time.
    let run = FlowLogRun {
        rate: 20.0,
        duration_secs: 300,
        rotate_bytes: 64 * 1024 * 1024,
        ..FlowLogRun::default()
    };
    let traffic = Traffic::generate(&[run])?;
    let mut testbed = LambdaTestbed::start(&traffic, Duration::from_secs(5)).await?;
    testbed
        .function_env
        .push(("FLOWLOG_UPLOADS_IN_FLIGHT".into(), "1".into()));
    let mock = testbed.emulator.ingest();
    mock.faults(vec![Fault::delay(Duration::from_millis(300))])?;
    let mut first = testbed.start_function()?;
    put_all(&testbed.emulator.s3_client(), &traffic.objects).await?;

    // Act: SIGKILL once the first batch arrived and its progress marker is written, then a
    // fresh process takes the retry.
    mock.wait_for_records(1, Duration::from_secs(60)).await?;
    wait_for_a_progress_marker(&testbed).await?;
    first.kill();
    let at_kill = mock.records().len();
    let second = testbed.start_function()?;
    testbed.wait_idle(&second, Duration::from_secs(120)).await?;

    // Assert
    assert!(
        at_kill < usize::try_from(traffic.truth.records())?,
        "killed mid-object"
    );
    testbed
        .assert_invocations_succeeded(true)
        .map_err(|e| e.context(second.output()))?;
    let retried = testbed
        .emulator
        .lambda_runtime()
        .outcomes()
        .iter()
        .filter(|i| i.attempts.len() > 1)
        .count();
    assert!(retried >= 1, "the killed invocation was retried");
    let resumed: u64 = object_lines(&second)
        .iter()
        .map(|l| l.count("resumed_lines"))
        .sum();
    assert!(resumed > 0, "the retry resumed:\n{}", second.output());
    traffic
        .truth
        .compare(&mock.records())
        .assert_complete_with_duplicates_at_most(5_000)?;
    Ok(())
}
