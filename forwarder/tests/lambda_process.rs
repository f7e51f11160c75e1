//! The real `lambda_runtime` loop in a child process (`flowlog-forwarder lambda`) against the
//! emulator's Lambda Runtime API: S3 notifications invoke it, records arrive, failures are
//! retried by "Lambda".

mod pipeline_support;

use std::process::{Command, Stdio};
use std::time::Duration;

use flowlog_emulator::Emulator;
use flowlog_emulator::runtime_api::{AttemptResult, InvocationState};
use pipeline_support::{BUCKET, Bed, ChildGuard, flow_log, gzip, key, ports, s3_event};

async fn bed() -> anyhow::Result<Bed> {
    Bed::with(Emulator::builder().lambda_runtime(|l| {
        l.retry_delays([Duration::from_millis(10), Duration::from_millis(10)])
            .timeout(Duration::from_secs(60))
    }))
    .await
}

fn spawn_lambda(bed: &Bed) -> anyhow::Result<ChildGuard> {
    let child = Command::new(env!("CARGO_BIN_EXE_flowlog-forwarder"))
        .arg("lambda")
        .env_clear()
        .envs(bed.forwarder_env())
        .env("AWS_LAMBDA_RUNTIME_API", bed.emu.lambda_runtime().addr())
        .env("AWS_LAMBDA_FUNCTION_NAME", "flowlog-forwarder")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?;
    Ok(ChildGuard(child))
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_notifications_run_the_lambda_process_and_records_arrive() -> anyhow::Result<()> {
    // Arrange
    let bed = bed().await?;
    let _lambda = spawn_lambda(&bed)?;

    // Act: a PUT notifies the emulated function, as S3 would.
    bed.put(&key("lambda one"), gzip(flow_log(23).as_bytes()))
        .await?;
    let records = bed
        .emu
        .ingest()
        .wait_for_records(23, Duration::from_secs(60))
        .await?;
    bed.emu
        .lambda_runtime()
        .wait_idle(Duration::from_secs(60))
        .await?;

    // Assert: every invocation (the object's, and those of the forwarder's own state
    // writes, which it skips) succeeded; every record arrived once.
    assert_eq!(ports(&records), (10_000..10_023).collect::<Vec<_>>());
    let outcomes = bed.emu.lambda_runtime().outcomes();
    assert!(!outcomes.is_empty());
    for invocation in &outcomes {
        assert_eq!(
            invocation.state,
            InvocationState::Succeeded,
            "{invocation:?}"
        );
        assert_eq!(invocation.attempts.len(), 1, "{invocation:?}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_object_makes_lambda_retry_then_dead_letter_the_event() -> anyhow::Result<()> {
    let bed = bed().await?;
    let _lambda = spawn_lambda(&bed)?;

    bed.emu
        .lambda_runtime()
        .invoke(s3_event(&["AWSLogs/missing.log.gz"]));
    bed.emu
        .lambda_runtime()
        .wait_idle(Duration::from_secs(60))
        .await?;

    let outcomes = bed.emu.lambda_runtime().outcomes();
    assert_eq!(outcomes.len(), 1);
    let invocation = &outcomes[0];
    assert_eq!(invocation.state, InvocationState::DeadLettered);
    assert_eq!(invocation.attempts.len(), 3, "{invocation:?}");
    for attempt in &invocation.attempts {
        let AttemptResult::Failed { error_type, error } = &attempt.result else {
            panic!("attempt did not fail: {attempt:?}");
        };
        assert_eq!(error_type, "Retryable");
        assert!(error.to_string().contains("no such key"), "{error}");
    }
    assert_eq!(bed.emu.lambda_runtime().dead_letters().len(), 1);
    let _ = BUCKET;
    Ok(())
}

#[test]
fn lambda_mode_outside_lambda_exits_with_a_clear_message_instead_of_panicking() -> anyhow::Result<()>
{
    let output = Command::new(env!("CARGO_BIN_EXE_flowlog-forwarder"))
        .arg("lambda")
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .output()?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("AWS_LAMBDA_FUNCTION_NAME"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    Ok(())
}
