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

fn spawn_lambda(bed: &Bed, stdout: Stdio) -> anyhow::Result<ChildGuard> {
    let child = Command::new(env!("CARGO_BIN_EXE_flowlog-forwarder"))
        .arg("lambda")
        .env_clear()
        .envs(bed.forwarder_env())
        .env("AWS_LAMBDA_RUNTIME_API", bed.emu.lambda_runtime().addr())
        .env("AWS_LAMBDA_FUNCTION_NAME", "flowlog-forwarder")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .stdout(stdout)
        .stderr(Stdio::inherit())
        .spawn()?;
    Ok(ChildGuard(child))
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_notifications_run_the_lambda_process_and_records_arrive() -> anyhow::Result<()> {
    // Arrange
    let bed = bed().await?;
    let log = tempfile::NamedTempFile::new()?;
    let lambda = spawn_lambda(&bed, Stdio::from(log.reopen()?))?;

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
    drop(lambda);
    let logs = std::fs::read_to_string(log.path())?;
    assert!(
        !logs.contains(bed.emu.ingest().device_key()),
        "apiKey in the logs"
    );
    let accounting: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["message"] == "object accounting" && v["outcome"] == "delivered")
        .collect();
    assert_eq!(accounting.len(), 1, "{logs}");
    let line = &accounting[0];
    assert_eq!(line["records_sent"], 23);
    assert_eq!(line["lines"], 24);
    assert_eq!(line["header"], 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_object_makes_lambda_retry_then_dead_letter_the_event() -> anyhow::Result<()> {
    let bed = bed().await?;
    let _lambda = spawn_lambda(&bed, Stdio::null())?;

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

#[tokio::test(flavor = "multi_thread")]
async fn an_sqs_invocation_answers_with_the_failed_message_only() -> anyhow::Result<()> {
    let bed = bed().await?;
    let _lambda = spawn_lambda(&bed, Stdio::null())?;
    let good = key("sqs");
    bed.put(&good, gzip(flow_log(4).as_bytes())).await?;
    bed.emu
        .ingest()
        .wait_for_records(4, Duration::from_secs(60))
        .await?;
    bed.emu
        .lambda_runtime()
        .wait_idle(Duration::from_secs(60))
        .await?;
    let before = bed.emu.lambda_runtime().outcomes().len();

    bed.emu
        .lambda_runtime()
        .invoke(pipeline_support::sqs_event(&[
            ("m-ok", s3_event(&[&good])),
            ("m-gone", s3_event(&["AWSLogs/gone.log.gz"])),
        ]));
    bed.emu
        .lambda_runtime()
        .wait_idle(Duration::from_secs(60))
        .await?;

    let outcomes = bed.emu.lambda_runtime().outcomes();
    let sqs = outcomes.get(before).expect("the SQS invocation");
    assert_eq!(sqs.state, InvocationState::Succeeded, "{sqs:?}");
    let AttemptResult::Succeeded { response } = &sqs.attempts[0].result else {
        panic!("not a success: {sqs:?}");
    };
    assert_eq!(
        response,
        &serde_json::json!({"batchItemFailures": [{"itemIdentifier": "m-gone"}]})
    );
    assert_eq!(
        bed.emu.ingest().records().len(),
        4,
        "the duplicate was skipped"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hostile_event_fails_non_retryable_and_the_process_serves_the_next() -> anyhow::Result<()>
{
    // Arrange: upload URL with credentials, a config whose dateField no object has.
    let bed = bed().await?;
    let log = tempfile::NamedTempFile::new()?;
    let mut config: serde_json::Value = serde_json::from_str(&bed.config_json(None))?;
    config["dateField"] = "no_such_field".into();
    let upload_url =
        bed.emu
            .ingest()
            .upload_url()
            .replacen("http://", "http://uploader:hunter2@", 1);
    let child = Command::new(env!("CARGO_BIN_EXE_flowlog-forwarder"))
        .arg("lambda")
        .env_clear()
        .envs(bed.forwarder_env())
        .env(
            "logTypeConfig",
            flowlog_forwarder::config::encode_env_value(&config.to_string()),
        )
        .env("FLOWLOG_UPLOAD_URL", &upload_url)
        .env("AWS_LAMBDA_RUNTIME_API", bed.emu.lambda_runtime().addr())
        .env("AWS_LAMBDA_FUNCTION_NAME", "flowlog-forwarder")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .stdout(Stdio::from(log.reopen()?))
        .stderr(Stdio::inherit())
        .spawn()?;
    let lambda = ChildGuard(child);
    let runtime = bed.emu.lambda_runtime();
    let mut huge_key = s3_event(&["AWSLogs/x.log.gz"]);
    huge_key["Records"][0]["s3"]["object"]["key"] = "k".repeat(64 * 1024).into();
    let mut huge_bucket = s3_event(&["AWSLogs/x.log.gz"]);
    huge_bucket["Records"][0]["s3"]["bucket"]["name"] = "b".repeat(1 << 20).into();

    // Act: two hostile events, then two good objects.
    runtime.invoke(huge_key);
    runtime.invoke(huge_bucket);
    runtime.wait_idle(Duration::from_secs(60)).await?;
    bed.put(&key("after one"), gzip(flow_log(3).as_bytes()))
        .await?;
    bed.put(&key("after two"), gzip(flow_log(2).as_bytes()))
        .await?;
    let records = bed
        .emu
        .ingest()
        .wait_for_records(5, Duration::from_secs(60))
        .await?;
    runtime.wait_idle(Duration::from_secs(60)).await?;
    drop(lambda);

    // Assert: every attempt (Lambda retries async invocations whatever the error type) is
    // NonRetryable with the limit named; the next objects were delivered.
    let outcomes = runtime.outcomes();
    for (invocation, needle) in outcomes.iter().take(2).zip(["1,024 bytes", "3 to 63"]) {
        assert!(!invocation.attempts.is_empty(), "{needle}: never ran");
        for attempt in &invocation.attempts {
            let AttemptResult::Failed { error_type, error } = &attempt.result else {
                panic!("{needle}: did not fail: {attempt:?}");
            };
            assert_eq!(error_type, "NonRetryable", "{error}");
            let message = error.to_string();
            assert!(message.contains(needle), "{message}");
            assert!(message.len() < 4096, "{} bytes", message.len());
        }
    }
    assert_eq!(records.len(), 5);
    let logs = std::fs::read_to_string(log.path())?;
    assert!(logs.len() < 64 * 1024, "{} bytes of logs", logs.len());
    assert!(!logs.contains("hunter2"), "upload credentials logged");
    let warnings = logs.lines().filter(|l| l.contains("no_such_field")).count();
    assert_eq!(warnings, 1, "dateField warned {warnings} times:\n{logs}");
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
