//! The SQS, SNS, SNS-in-SQS and EventBridge shapes of S3 events, from emitted events.

use anyhow::{Context as _, Result};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Event, LambdaFunctionConfiguration, NotificationConfiguration};
use chrono::{TimeZone as _, Utc};
use flowlog_emulator::Emulator;
use flowlog_emulator::notify::wrap::{eventbridge_events, sns_event, sns_in_sqs_event, sqs_event};
use flowlog_emulator::notify::{CreatedBy, ObjectCreated, event_record, s3_event};
use serde_json::Value;

const QUEUE: &str = "arn:aws:sqs:us-east-1:123456789012:flowlogs";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:flowlogs";

/// A fixed event, so the wrapper snapshots need no redaction.
fn fixed_event() -> Value {
    let created = ObjectCreated {
        created_by: CreatedBy::Put,
        region: "us-east-1".into(),
        bucket: "flowlogs".into(),
        key: "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/24/year=2026 x.log.gz".into(),
        size: 1024,
        etag: "0123456789abcdef0123456789abcdef".into(),
        sequencer: "0055AED6DCD90281E5".into(),
        event_time: Utc
            .with_ymd_and_hms(2026, 11, 24, 10, 0, 0)
            .single()
            .unwrap_or_default(),
        principal_id: "AWS:AIDAEXAMPLE".into(),
        owner_id: "A3NL1KOZZKEXAMPLE".into(),
        source_ip: "10.0.0.1".into(),
        request_id: "C3D13FE58DE4C810".into(),
        host_id: "FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD".into(),
        version_id: None,
    };
    s3_event(vec![event_record(&created, "to-forwarder")])
}

#[test]
fn wraps_an_event_as_sqs_sns_sns_in_sqs_and_eventbridge_deliver_it() {
    let event = fixed_event();

    insta::assert_json_snapshot!("sqs", sqs_event(std::slice::from_ref(&event), QUEUE));
    insta::assert_json_snapshot!("sns", sns_event(&event, TOPIC));
    insta::assert_json_snapshot!(
        "sns_in_sqs",
        sns_in_sqs_event(std::slice::from_ref(&event), TOPIC, QUEUE)
    );
    insta::assert_json_snapshot!("eventbridge", eventbridge_events(&event));
}

#[tokio::test]
async fn wrappers_of_an_emitted_event_carry_it_unchanged() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("wrapped").send().await?;
    let entry = LambdaFunctionConfiguration::builder()
        .lambda_function_arn("arn:aws:lambda:us-east-1:123456789012:function:f")
        .events(Event::from("s3:ObjectCreated:*"))
        .build()?;
    s3.put_bucket_notification_configuration()
        .bucket("wrapped")
        .notification_configuration(
            NotificationConfiguration::builder()
                .lambda_function_configurations(entry)
                .build(),
        )
        .send()
        .await?;
    let mut events = emulator.notifications();
    s3.put_object()
        .bucket("wrapped")
        .key("year=2026/a b.log.gz")
        .body(ByteStream::from_static(b"x"))
        .send()
        .await?;
    let event = events.try_recv().context("notification")?.event;

    let sqs = sqs_event(std::slice::from_ref(&event), QUEUE);
    let body = sqs
        .pointer("/Records/0/body")
        .and_then(Value::as_str)
        .context("sqs body")?;
    let nested = sns_in_sqs_event(std::slice::from_ref(&event), TOPIC, QUEUE);
    let sns_doc: Value = serde_json::from_str(
        nested
            .pointer("/Records/0/body")
            .and_then(Value::as_str)
            .context("body")?,
    )?;
    let message = sns_doc
        .get("Message")
        .and_then(Value::as_str)
        .context("sns message")?;
    let bridge = eventbridge_events(&event);

    assert_eq!(serde_json::from_str::<Value>(body)?, event);
    assert_eq!(serde_json::from_str::<Value>(message)?, event);
    assert_eq!(
        sqs.pointer("/Records/0/eventSource")
            .and_then(Value::as_str),
        Some("aws:sqs")
    );
    let detail = bridge
        .first()
        .and_then(|e| e.get("detail"))
        .context("detail")?;
    assert_eq!(
        detail.pointer("/object/key").and_then(Value::as_str),
        Some("year=2026/a b.log.gz")
    );
    assert_eq!(
        detail.pointer("/object/etag"),
        event.pointer("/Records/0/s3/object/eTag")
    );
    assert_eq!(
        bridge[0].get("detail-type").and_then(Value::as_str),
        Some("Object Created")
    );
    Ok(())
}
