//! `forward` and `backfill` against `moto_server`: a second S3 this project did not write.
//! Traffic of four flow logs is PUT into moto; a few objects are forwarded by key, then the
//! rest by two backfills (by prefix); the objects forwarded first are skipped by their progress
//! markers, so the mock Site24x7 ends with exactly the generated records.

use flowlog_e2e::{
    CliTarget, MotoServer, Traffic, accounting_lines, log_type_config, mixed_runs, put_all,
};
use flowlog_emulator::MockSite24x7;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forward_then_backfill_from_moto_deliver_every_record_once() -> anyhow::Result<()> {
    // Arrange
    let moto = MotoServer::start().await?;
    let traffic = Traffic::generate(&mixed_runs("flow-logs", 15))?;
    for bucket in traffic.buckets() {
        moto.create_bucket(&bucket).await?;
    }
    put_all(&moto.s3_client(), &traffic.objects).await?;
    let mock = MockSite24x7::start().await?;
    let state = tempfile::tempdir()?;
    let target = CliTarget {
        endpoint: moto.endpoint().to_owned(),
        access_key: flowlog_e2e::moto::MOTO_ACCESS_KEY.into(),
        secret_key: flowlog_e2e::moto::MOTO_SECRET_KEY.into(),
        region: flowlog_e2e::moto::MOTO_REGION.into(),
        upload_url: mock.upload_url(),
        state_dir: state.path().to_owned(),
        log_type_config: log_type_config(mock.device_key(), mock.log_type()),
    };
    let first: Vec<String> = traffic
        .keys()
        .iter()
        .filter(|(_, k)| k.contains(' '))
        .chain(traffic.keys().iter().take(2))
        .map(|(b, k)| format!("s3://{b}/{k}"))
        .collect();

    // Act
    let (forward, forward_ok) = target.run("forward", &first).await?;
    let (aws_logs, aws_logs_ok) = target
        .run("backfill", &["s3://flow-logs/AWSLogs/".to_owned()])
        .await?;
    let (team, team_ok) = target
        .run("backfill", &["s3://flow-logs/team a/".to_owned()])
        .await?;

    // Assert
    assert!(forward_ok, "{}", forward.output());
    assert!(aws_logs_ok, "{}", aws_logs.output());
    assert!(team_ok, "{}", team.output());
    let forwarded = accounting_lines(&forward.stderr());
    assert_eq!(forwarded.len(), first.len(), "{}", forward.output());
    assert!(
        forwarded.iter().all(|l| l.outcome == "delivered"),
        "{forwarded:?}"
    );
    let records = mock.records();
    traffic.truth.compare(&records).assert_exact()?;
    Ok(())
}

/// moto's own S3 → SQS notifications (its minimal event records, keys `%2F`-encoded) handed to
/// the forwarder binary in Lambda mode as SQS events, reading the objects from moto.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn motos_own_notifications_through_sqs_drive_the_lambda_function() -> anyhow::Result<()> {
    use std::time::Duration;

    use flowlog_e2e::ForwarderCommand;
    use flowlog_e2e::moto::{MOTO_ACCESS_KEY, MOTO_REGION, MOTO_SECRET_KEY};
    use serde_json::{Value, json};

    // Arrange: a bucket whose object-created events go to an SQS queue, in moto.
    let moto = MotoServer::start().await?;
    let traffic = Traffic::generate(&mixed_runs("flow-logs", 10))?;
    moto.create_bucket("flow-logs").await?;
    moto.create_bucket("forwarder-state").await?;
    let queue = moto
        .aws(&["sqs", "create-queue", "--queue-name", "flowlog-events"])
        .await?;
    let queue_url = queue["QueueUrl"].as_str().unwrap_or_default().to_owned();
    let queue_arn = format!("arn:aws:sqs:{MOTO_REGION}:123456789012:flowlog-events");
    let notification = json!({"QueueConfigurations": [
        {"QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"]}
    ]});
    moto.aws(&[
        "s3api",
        "put-bucket-notification-configuration",
        "--bucket",
        "flow-logs",
        "--notification-configuration",
        &notification.to_string(),
    ])
    .await?;
    put_all(&moto.s3_client(), &traffic.objects).await?;
    let mut messages: Vec<Value> = Vec::new();
    for _ in 0..50 {
        let got = moto
            .aws(&[
                "sqs",
                "receive-message",
                "--queue-url",
                &queue_url,
                "--max-number-of-messages",
                "10",
                "--visibility-timeout",
                "300",
            ])
            .await?;
        let batch = got["Messages"].as_array().cloned().unwrap_or_default();
        if batch.is_empty() {
            break;
        }
        messages.extend(batch);
    }
    let runtime = flowlog_emulator::runtime_api::LambdaRuntimeApi::builder()
        .retry_delays([Duration::from_millis(50), Duration::from_millis(100)])
        .start()
        .await?;
    let mock = MockSite24x7::start().await?;
    let function = ForwarderCommand::new(
        &log_type_config(mock.device_key(), mock.log_type()),
        &["lambda"],
    )?
    .aws_credentials(MOTO_ACCESS_KEY, MOTO_SECRET_KEY, MOTO_REGION)
    .lambda(&runtime.addr(), moto.endpoint(), &mock.upload_url())
    .env("FLOWLOG_STATE_BUCKET", "forwarder-state")
    .spawn()?;

    // Act: one SQS event per 10 messages, as Lambda's SQS poller would batch them.
    for chunk in messages.chunks(10) {
        let records: Vec<Value> = chunk
            .iter()
            .map(|m| {
                json!({
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": {},
                    "messageAttributes": {},
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": queue_arn,
                    "awsRegion": MOTO_REGION,
                })
            })
            .collect();
        runtime.invoke(json!({ "Records": records }));
    }
    runtime
        .wait_idle(Duration::from_secs(120))
        .await
        .map_err(|e| anyhow::anyhow!("{e}\n{}", function.output()))?;

    // Assert
    let created = messages
        .iter()
        .filter(|m| {
            m["Body"]
                .as_str()
                .is_some_and(|b| b.contains("ObjectCreated"))
        })
        .count();
    assert_eq!(created, traffic.objects.len(), "one message per object");
    for invocation in runtime.outcomes() {
        let last = invocation
            .attempts
            .last()
            .map(|a| format!("{:?}", a.result));
        let response = last.unwrap_or_default();
        assert!(
            response.contains("batchItemFailures") && !response.contains("itemIdentifier"),
            "every message succeeded: {response}\n{}",
            function.output()
        );
    }
    traffic.truth.compare(&mock.records()).assert_exact()?;
    Ok(())
}
