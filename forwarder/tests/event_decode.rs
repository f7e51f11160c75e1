//! Decoding real-format Lambda payloads (fixtures/events) into object references.

use flowlog_forwarder::event::{
    DecodedEvent, EventError, Origin, SkipReason, SqsBatchResponse, decode_slice,
};

macro_rules! fixture {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../fixtures/events/", $name, ".json")),
        )
    };
}

const FIXTURES: &[(&str, &str)] = &[
    fixture!("s3-put-two-records"),
    fixture!("s3-multipart-completion"),
    fixture!("s3-copy"),
    fixture!("s3-test-event"),
    fixture!("s3-object-removed"),
    fixture!("s3-event-version-2.3-extra-fields"),
    fixture!("moto-minimal"),
    fixture!("s3-hive-key"),
    fixture!("s3-key-with-plus"),
    fixture!("sqs-s3"),
    fixture!("sqs-partial-failure"),
    fixture!("sns-in-sqs"),
    fixture!("sns"),
    fixture!("eventbridge"),
    fixture!("sqs-eventbridge"),
];

fn decode_fixture(name: &str) -> anyhow::Result<DecodedEvent> {
    let (_, text) = FIXTURES
        .iter()
        .find(|(fixture, _)| *fixture == name)
        .ok_or_else(|| anyhow::anyhow!("no fixture {name}"))?;
    Ok(decode_slice(text.as_bytes())?)
}

fn keys(decoded: &DecodedEvent) -> Vec<&str> {
    decoded
        .objects()
        .map(|object| object.key.as_str())
        .collect()
}

#[test]
fn every_fixture_decodes_to_the_snapshotted_object_refs() -> anyhow::Result<()> {
    for (name, text) in FIXTURES {
        let decoded = decode_slice(text.as_bytes())?;
        insta::assert_yaml_snapshot!(format!("decoded-{name}"), decoded);
    }
    Ok(())
}

#[test]
fn every_record_of_a_notification_is_forwarded_not_only_the_first() -> anyhow::Result<()> {
    let decoded = decode_fixture("s3-put-two-records")?;

    assert_eq!(decoded.items.len(), 2);
    assert_eq!(decoded.objects().count(), 2);
    let second = &decoded.items[1].objects[0];
    assert_eq!(decoded.items[1].origin, Origin::S3Record { index: 1 });
    assert_eq!(second.size, Some(2048));
    assert_eq!(
        second.to_string(),
        "s3://flow-log-bucket/AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/24/\
         123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20261124T1005Z_hash.log.gz"
    );
    assert_eq!(
        second.version_id.as_deref(),
        Some("096fKKXTRTtl3on89fVO.nfljtsv6qko")
    );
    Ok(())
}

#[test]
fn multipart_and_copy_completions_are_object_creations() -> anyhow::Result<()> {
    let multipart = decode_fixture("s3-multipart-completion")?;
    let copy = decode_fixture("s3-copy")?;

    let names: Vec<&str> = multipart
        .objects()
        .chain(copy.objects())
        .map(|o| o.event_name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "ObjectCreated:CompleteMultipartUpload",
            "ObjectCreated:Copy"
        ]
    );
    Ok(())
}

#[test]
fn a_test_event_is_skipped_without_error() -> anyhow::Result<()> {
    let decoded = decode_fixture("s3-test-event")?;

    assert_eq!(decoded.objects().count(), 0);
    assert_eq!(decoded.errors().count(), 0);
    assert_eq!(
        decoded.items[0].skipped,
        [SkipReason::TestEvent {
            bucket: Some("flow-log-bucket".into())
        }]
    );
    Ok(())
}

#[test]
fn a_removal_is_skipped_with_its_reason_while_the_creation_beside_it_is_kept() -> anyhow::Result<()>
{
    let decoded = decode_fixture("s3-object-removed")?;

    assert_eq!(keys(&decoded), ["new/flows.log.gz"]);
    assert_eq!(
        decoded.items[0].skipped,
        [SkipReason::NotObjectCreated {
            event_name: "ObjectRemoved:Delete".into(),
            bucket: Some("flow-log-bucket".into()),
            raw_key: Some("old/flows.log.gz".into()),
        }]
    );
    Ok(())
}

#[test]
fn newer_event_versions_and_unknown_fields_are_accepted() -> anyhow::Result<()> {
    let decoded = decode_fixture("s3-event-version-2.3-extra-fields")?;

    assert_eq!(decoded.errors().count(), 0);
    assert_eq!(
        keys(&decoded),
        ["AWSLogs/123456789012/vpcflowlogs/ap-south-1/2026/11/24/f.log.gz"]
    );
    Ok(())
}

#[test]
fn form_encoded_keys_are_decoded_plus_first_then_percent() -> anyhow::Result<()> {
    let cases = [
        (
            "moto-minimal",
            "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/24/flows.log.gz",
        ),
        (
            "s3-hive-key",
            "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/\
             year=2026/month=11/day=24/hour=16/\
             123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20261124T1600Z_hash.log.gz",
        ),
        ("s3-key-with-plus", "manual uploads/flow logs + notes.log"),
    ];
    for (fixture, want) in cases {
        let decoded = decode_fixture(fixture)?;
        assert_eq!(keys(&decoded), [want], "fixture {fixture}");
    }
    Ok(())
}

#[test]
fn eventbridge_keys_are_taken_as_is() -> anyhow::Result<()> {
    let decoded = decode_fixture("eventbridge")?;

    let object = decoded
        .objects()
        .next()
        .ok_or_else(|| anyhow::anyhow!("no object"))?;
    assert_eq!(
        object.key,
        "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/24/a key with spaces+plus.log.gz"
    );
    assert_eq!(
        object.etag.as_deref(),
        Some("b1946ac92492d2347c6235b4d2611184")
    );
    assert_eq!(decoded.items[0].origin, Origin::Payload);
    Ok(())
}

#[test]
fn eventbridge_events_delivered_through_sqs_are_unwrapped_and_deletions_skipped()
-> anyhow::Result<()> {
    let decoded = decode_fixture("sqs-eventbridge")?;

    assert_eq!(decoded.objects().count(), 1);
    assert_eq!(decoded.errors().count(), 0);
    assert!(matches!(
        &decoded.items[1].skipped[..],
        [SkipReason::NotObjectCreated { event_name, .. }] if event_name == "Object Deleted"
    ));
    Ok(())
}

#[test]
fn sqs_messages_keep_their_ids_and_unwrap_s3_and_sns_bodies() -> anyhow::Result<()> {
    let direct = decode_fixture("sqs-s3")?;
    let sns_in_sqs = decode_fixture("sns-in-sqs")?;
    let sns = decode_fixture("sns")?;

    let ids: Vec<Option<&str>> = direct
        .items
        .iter()
        .map(|item| item.sqs_message_id())
        .collect();
    assert_eq!(
        ids,
        [
            Some("059f36b4-87a3-44ab-83d2-661975830a7d"),
            Some("2e1424d4-f796-459a-8184-9c92662be6da")
        ]
    );
    assert_eq!(direct.objects().count(), 2);
    assert!(matches!(
        direct.items[1].skipped[..],
        [SkipReason::TestEvent { .. }]
    ));
    assert_eq!(sns_in_sqs.objects().count(), 1);
    assert!(sns_in_sqs.objects().all(|o| o.key.contains("year=2026")));
    assert!(direct.is_sqs() && sns_in_sqs.is_sqs() && !sns.is_sqs());
    assert_eq!(sns.objects().count(), 2);
    assert_eq!(sns.items[0].origin, Origin::SnsRecord { index: 0 });
    Ok(())
}

#[test]
fn failed_sqs_messages_are_reported_as_batch_item_failures() -> anyhow::Result<()> {
    let decoded = decode_fixture("sqs-partial-failure")?;

    let failed = decoded
        .items
        .iter()
        .filter(|item| item.has_errors())
        .filter_map(|i| i.sqs_message_id());
    let response = serde_json::to_string(&SqsBatchResponse::from_failed(failed))?;

    assert_eq!(
        response,
        r#"{"batchItemFailures":[{"itemIdentifier":"bad-body-2"},{"itemIdentifier":"bad-key-3"}]}"#
    );
    assert_eq!(
        decoded.objects().count(),
        1,
        "the good message is still decoded"
    );
    Ok(())
}

#[test]
fn messages_whose_objects_failed_are_reported_alongside_undecodable_ones() -> anyhow::Result<()> {
    let decoded = decode_fixture("sqs-partial-failure")?;
    let all_good = decode_fixture("sqs-s3")?;

    let when_object_fails = decoded.sqs_response(|object| object.key.contains("year=2026"));
    let when_all_succeed = all_good.sqs_response(|_| false);

    let ids: Vec<&str> = when_object_fails
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(ids, ["good-message-1", "bad-body-2", "bad-key-3"]);
    assert_eq!(
        serde_json::to_string(&when_all_succeed)?,
        r#"{"batchItemFailures":[]}"#
    );
    Ok(())
}

#[test]
fn a_broken_key_error_names_the_raw_key() -> anyhow::Result<()> {
    let decoded = decode_fixture("sqs-partial-failure")?;

    let error = decoded.items[2]
        .errors
        .first()
        .ok_or_else(|| anyhow::anyhow!("no error"))?;

    assert!(matches!(error, EventError::Key { .. }));
    assert_eq!(
        error.to_string(),
        r#"cannot decode object key "broken%zzkey" in bucket "b": invalid percent escape at byte 6"#
    );
    Ok(())
}

#[test]
fn payloads_that_are_no_known_event_are_typed_errors_naming_what_was_seen() {
    let cases = [
        (
            include_str!("../../fixtures/events/unsupported-cloudwatch-logs.json"),
            "keys [awslogs]",
        ),
        ("[1, 2]", "saw an array"),
        (
            r#"{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}"#,
            "source \"aws.events\"",
        ),
        (
            r#"{"Records":[{"eventSource":"aws:kinesis","kinesis":{}}]}"#,
            "eventSource \"aws:kinesis\"",
        ),
    ];
    for (payload, seen) in cases {
        let message = match decode_slice(payload.as_bytes()) {
            Err(error @ EventError::Unsupported { .. }) => error.to_string(),
            Ok(decoded) => decoded
                .errors()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
            Err(other) => panic!("payload {payload}: unexpected error {other}"),
        };
        assert!(message.contains(seen), "payload {payload}: {message}");
        assert!(
            message.contains("supported: S3 event notifications"),
            "payload {payload}: {message}"
        );
    }
}

#[test]
fn text_that_is_not_json_is_a_clear_error() {
    let error = decode_slice(b"hello").err();

    assert!(
        matches!(error, Some(EventError::NotJson { .. })),
        "{error:?}"
    );
}

#[test]
fn a_major_event_version_other_than_2_is_an_error_for_that_record() -> anyhow::Result<()> {
    let payload = r#"{"Records":[{"eventVersion":"3.0","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
        "s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]}"#;

    let decoded = decode_slice(payload.as_bytes())?;

    let messages: Vec<String> = decoded.errors().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            r#"S3 record 0 has eventVersion "3.0"; only 2.x is supported (S3 changes the major version only for incompatible schemas)"#
        ]
    );
    Ok(())
}

#[test]
fn a_record_without_a_bucket_name_is_malformed_not_skipped() -> anyhow::Result<()> {
    let payload = r#"{"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{},"object":{"key":"k"}}}]}"#;

    let decoded = decode_slice(payload.as_bytes())?;

    let error = decoded
        .errors()
        .next()
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(
        error.starts_with("S3 record 0 is malformed: missing field `name`"),
        "{error}"
    );
    Ok(())
}

fn s3_record(bucket: &str, raw_key: &str) -> serde_json::Value {
    serde_json::json!({
        "eventVersion": "2.1", "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": raw_key}}
    })
}

fn only_error(payload: &serde_json::Value) -> anyhow::Result<String> {
    let decoded = decode_slice(payload.to_string().as_bytes())?;
    assert_eq!(decoded.objects().count(), 0, "an invalid object was kept");
    let errors: Vec<String> = decoded.errors().map(ToString::to_string).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    Ok(errors[0].clone())
}

#[test]
fn an_object_key_over_s3s_limit_is_an_error_for_that_record_naming_the_limit() -> anyhow::Result<()>
{
    for key_bytes in [1025, 64 * 1024, 1 << 20] {
        let payload =
            serde_json::json!({"Records": [s3_record("flow-logs", &"k".repeat(key_bytes))]});

        let error = only_error(&payload)?;

        assert!(error.contains("S3 record 0"), "{error}");
        assert!(error.contains("flow-logs"), "{error}");
        assert!(
            error.contains(&format!("{key_bytes} bytes long")),
            "{error}"
        );
        assert!(error.contains("1,024 bytes"), "{error}");
        assert!(error.len() < 1024, "{} bytes: {error}", error.len());
    }
    Ok(())
}

#[test]
fn a_bucket_name_s3_cannot_have_is_an_error_with_a_bounded_message() -> anyhow::Result<()> {
    let huge = "b".repeat(1 << 20);
    for (bucket, needle) in [
        (huge.as_str(), "1048576 characters long"),
        ("ab", "2 characters long"),
        ("my bucket", "holds ' '"),
        ("a/b/c", "holds '/'"),
    ] {
        let payload = serde_json::json!({"Records": [s3_record(bucket, "AWSLogs/x.log.gz")]});

        let error = only_error(&payload)?;

        assert!(error.contains(needle), "{needle}: {error}");
        assert!(
            error.contains("3 to 63") || error.contains("letters, digits"),
            "{error}"
        );
        assert!(error.len() < 1024, "{} bytes", error.len());
    }
    Ok(())
}

#[test]
fn eventbridge_objects_are_checked_the_same_way() -> anyhow::Result<()> {
    let payload = serde_json::json!({
        "source": "aws.s3", "detail-type": "Object Created", "time": "2026-11-25T06:00:00Z",
        "detail": {"bucket": {"name": "flow-logs"}, "object": {"key": "k".repeat(70_000)}}
    });

    // A bare EventBridge event is one object: its error is the payload's.
    let error = decode_slice(payload.to_string().as_bytes())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();

    assert!(error.contains("EventBridge detail"), "{error}");
    assert!(error.contains("70000 bytes long"), "{error}");
    assert!(error.len() < 1024, "{} bytes", error.len());
    Ok(())
}

#[test]
fn every_text_an_event_error_quotes_is_cut_short() -> anyhow::Result<()> {
    let huge = "x".repeat(1 << 20);
    let payloads = [
        // An undecodable key in a huge bucket name.
        serde_json::json!({"Records": [s3_record(&huge, "bad%zz")]}),
        // A huge SQS message id around a body that is not JSON.
        serde_json::json!({"Records": [{"eventSource": "aws:sqs", "messageId": huge, "body": "nope"}]}),
        // A field of the wrong type whose value serde quotes.
        serde_json::json!({"Records": [{"eventSource": "aws:s3", "eventName": huge,
            "s3": {"bucket": {"name": "flow-logs"}, "object": {"key": "k", "size": huge}}}]}),
        // An unknown shape with huge keys and values.
        serde_json::json!({"Records": [{"eventSource": huge, huge.clone(): 1}]}),
        serde_json::json!({"detail-type": huge, "source": huge}),
    ];
    for payload in &payloads {
        let text = match decode_slice(payload.to_string().as_bytes()) {
            Ok(decoded) => decoded
                .errors()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n"),
            Err(error) => error.to_string(),
        };
        assert!(!text.is_empty(), "no error for a hostile payload");
        assert!(text.len() < 4096, "{} bytes: {}", text.len(), &text[..200]);
        assert!(
            text.contains("bytes)"),
            "no cut marker: {}",
            &text[..text.len().min(300)]
        );
    }
    Ok(())
}
