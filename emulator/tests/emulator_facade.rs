//! The facade starts every part together and wires S3 notifications to the Lambda Runtime API.

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use flowlog_emulator::Emulator;

#[tokio::test]
async fn an_object_put_into_a_triggered_bucket_invokes_the_function_with_its_event()
-> anyhow::Result<()> {
    // Arrange
    let emulator = Emulator::start().await?;
    emulator.create_bucket_with_trigger("flow-logs").await?;

    // Act: S3 fires the notification; the function asks the Runtime API for work.
    emulator
        .s3_client()
        .put_object()
        .bucket("flow-logs")
        .key("AWSLogs/year=2026/a b.log.gz")
        .body(ByteStream::from_static(b"hello"))
        .send()
        .await?;
    let next = format!(
        "{}/2018-06-01/runtime/invocation/next",
        emulator.lambda_runtime().uri()
    );
    let response = tokio::time::timeout(Duration::from_secs(30), reqwest::get(&next)).await??;

    // Assert
    assert_eq!(response.status(), 200);
    let arn = response
        .headers()
        .get("lambda-runtime-invoked-function-arn")
        .map(|v| v.to_str().map(str::to_owned))
        .transpose()?;
    assert_eq!(
        arn.as_deref(),
        Some(emulator.lambda_runtime().function_arn())
    );
    let event: serde_json::Value = response.json().await?;
    let record = &event["Records"][0];
    assert_eq!(record["eventName"], "ObjectCreated:Put");
    assert_eq!(record["s3"]["bucket"]["name"], "flow-logs");
    assert_eq!(
        record["s3"]["object"]["key"],
        "AWSLogs/year%3D2026/a+b.log.gz"
    );
    assert_eq!(record["s3"]["object"]["size"], 5);
    Ok(())
}

#[tokio::test]
async fn objects_in_a_bucket_without_a_trigger_invoke_nothing() -> anyhow::Result<()> {
    // Arrange
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("quiet").send().await?;
    emulator.create_bucket_with_trigger("loud").await?;

    // Act
    for bucket in ["quiet", "loud"] {
        s3.put_object()
            .bucket(bucket)
            .key("x.log")
            .body(ByteStream::from_static(b"x"))
            .send()
            .await?;
    }
    let next = format!(
        "{}/2018-06-01/runtime/invocation/next",
        emulator.lambda_runtime().uri()
    );
    let event: serde_json::Value =
        tokio::time::timeout(Duration::from_secs(30), reqwest::get(&next))
            .await??
            .json()
            .await?;

    // Assert: the first (and only) invocation is the triggered bucket's; the queue is then empty.
    assert_eq!(event["Records"][0]["s3"]["bucket"]["name"], "loud");
    let invocations = emulator.lambda_runtime().outcomes();
    assert_eq!(invocations.len(), 1, "{invocations:#?}");
    Ok(())
}

#[tokio::test]
async fn the_mock_site24x7_is_reachable_with_its_configured_keys() -> anyhow::Result<()> {
    let emulator = Emulator::builder()
        .ingest(|mock| mock.device_key("k-123").log_type("vpc"))
        .start()
        .await?;
    assert_eq!(emulator.ingest().device_key(), "k-123");
    assert_eq!(emulator.ingest().log_type(), "vpc");
    let stats = reqwest::get(format!("{}/_emulator/stats", emulator.ingest().uri())).await?;
    assert_eq!(stats.status(), 200);
    Ok(())
}

#[tokio::test]
async fn a_slow_s3_answers_every_request_no_sooner_than_its_latency() -> anyhow::Result<()> {
    // Arrange
    let latency = Duration::from_millis(80);
    let emulator = Emulator::builder().s3_latency(latency).start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("slow").send().await?;

    // Act
    let started = std::time::Instant::now();
    s3.put_object()
        .bucket("slow")
        .key("k")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await?;
    let put = started.elapsed();
    let started = std::time::Instant::now();
    let body = s3.get_object().bucket("slow").key("k").send().await?;
    let got = body.body.collect().await?.into_bytes();
    let get = started.elapsed();

    // Assert: a lower bound only (a sleep never ends early), so the test cannot flake.
    assert!(put >= latency, "PUT answered after {put:?}");
    assert!(get >= latency, "GET answered after {get:?}");
    assert_eq!(&got[..], b"x");
    assert_eq!(emulator.s3_settings().latency, latency);
    Ok(())
}
