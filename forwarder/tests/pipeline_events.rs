//! Whole Lambda payloads through `Forwarder::handle_event`: bad objects next to good ones,
//! SQS partial failures, SNS and EventBridge wrappers, `s3:TestEvent`.

mod pipeline_support;

use flowlog_forwarder::ObjectOutcome;
use pipeline_support::{Bed, assert_balanced, flow_log, gzip, key, s3_event, sqs_event};

#[tokio::test(flavor = "multi_thread")]
async fn bad_objects_each_get_a_clear_error_and_the_others_are_delivered() -> anyhow::Result<()> {
    // Arrange
    let bed = Bed::start().await?;
    let good = key("good");
    bed.put(&good, gzip(flow_log(7).as_bytes())).await?;
    let mut corrupt = gzip(flow_log(2000).as_bytes());
    let cut = corrupt.len() / 2;
    corrupt.truncate(cut);
    bed.put("bad/corrupt.log.gz", corrupt).await?;
    bed.put("bad/empty.log", Vec::new()).await?;
    bed.put("bad/notes.txt", b"hello\nthis is not a flow log\n".to_vec())
        .await?;
    bed.put(
        "bad/tgw.log",
        include_bytes!("../../fixtures/samples/tgw-default.log").to_vec(),
    )
    .await?;
    let forwarder = bed.forwarder(|_| {}).await?;
    let keys = [
        good.as_str(),
        "bad/corrupt.log.gz",
        "bad/empty.log",
        "bad/notes.txt",
        "bad/tgw.log",
        "bad/deleted.log.gz",
    ];

    // Act
    let error = forwarder
        .handle_event(s3_event(&keys))
        .await
        .expect_err("objects failed");

    // Assert
    assert!(error.is_retryable());
    let report = error.report().expect("objects were processed");
    let by_key = |k: &str| {
        report
            .objects
            .iter()
            .find(|o| o.key == k)
            .expect("reported")
    };
    for object in &report.objects {
        assert_balanced(object);
    }
    assert!(matches!(by_key(&good).outcome, ObjectOutcome::Delivered));
    assert_eq!(by_key(&good).records_sent, 7);
    let message = |k: &str| {
        by_key(k)
            .outcome
            .error()
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    assert!(
        message("bad/corrupt.log.gz").contains("corrupt or truncated gzip"),
        "{}",
        message("bad/corrupt.log.gz")
    );
    assert!(message("bad/corrupt.log.gz").contains("s3://flow-logs/bad/corrupt.log.gz"));
    assert!(matches!(
        by_key("bad/empty.log").outcome,
        ObjectOutcome::Empty
    ));
    assert!(
        message("bad/notes.txt").contains("not a VPC flow log"),
        "{}",
        message("bad/notes.txt")
    );
    // Transit-gateway logs are flow logs like any other (no `action` field).
    assert!(matches!(
        by_key("bad/tgw.log").outcome,
        ObjectOutcome::Delivered
    ));
    assert_eq!(by_key("bad/tgw.log").records_sent, 4);
    assert!(
        message("bad/deleted.log.gz").contains("no such key"),
        "{}",
        message("bad/deleted.log.gz")
    );
    assert_eq!(report.failed().count(), 3);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_sqs_event_with_one_failing_object_names_exactly_that_message() -> anyhow::Result<()> {
    let bed = Bed::start().await?;
    let good = key("sqs-good");
    bed.put(&good, gzip(flow_log(3).as_bytes())).await?;
    let forwarder = bed.forwarder(|_| {}).await?;
    let event = sqs_event(&[
        ("m-good", s3_event(&[&good])),
        ("m-missing", s3_event(&["AWSLogs/gone.log.gz"])),
    ]);

    let report = forwarder.handle_event(event).await?;

    for object in &report.objects {
        assert_balanced(object);
    }
    let sqs = report.sqs.expect("an SQS answer");
    let ids: Vec<&str> = sqs
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(ids, ["m-missing"]);
    assert_eq!(bed.emu.ingest().records().len(), 3);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn sns_and_eventbridge_wrapped_notifications_forward_their_objects() -> anyhow::Result<()> {
    use flowlog_emulator::notify::wrap::{eventbridge_events, sns_event};
    let bed = Bed::start().await?;
    let (a, b) = (key("via sns"), key("via=eventbridge"));
    bed.put(&a, gzip(flow_log(2).as_bytes())).await?;
    bed.put(&b, gzip(flow_log(3).as_bytes())).await?;
    let forwarder = bed.forwarder(|_| {}).await?;
    let topic = "arn:aws:sns:us-east-1:123456789012:flow-logs";

    let sns = forwarder
        .handle_event(sns_event(&s3_event(&[&a]), topic))
        .await?;
    let mut eventbridge = Vec::new();
    for event in eventbridge_events(&s3_event(&[&b])) {
        eventbridge.push(forwarder.handle_event(event).await?);
    }

    assert_eq!(sns.records_sent(), 2);
    assert_eq!(eventbridge.iter().map(|r| r.records_sent()).sum::<u64>(), 3);
    for object in sns
        .objects
        .iter()
        .chain(eventbridge.iter().flat_map(|r| &r.objects))
    {
        assert_balanced(object);
    }
    assert_eq!(bed.emu.ingest().records().len(), 5);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_s3_test_event_is_skipped_and_succeeds() -> anyhow::Result<()> {
    let bed = Bed::start().await?;
    let forwarder = bed.forwarder(|_| {}).await?;
    let event: serde_json::Value =
        serde_json::from_str(include_str!("../../fixtures/events/s3-test-event.json"))?;

    let report = forwarder.handle_event(event).await?;

    assert!(report.objects.is_empty());
    assert_eq!(report.skipped_events, 1);
    assert_eq!(bed.emu.ingest().stats().requests, 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_configuration_error_stops_the_other_objects_of_the_invocation() -> anyhow::Result<()> {
    let bed = Bed::start().await?;
    let keys: Vec<String> = (0..3).map(|i| key(&format!("stop-{i}"))).collect();
    for k in &keys {
        bed.put(k, gzip(flow_log(2).as_bytes())).await?;
    }
    let mut settings = bed.settings();
    settings.object_concurrency = 1;
    let forwarder = flowlog_forwarder::Forwarder::new(bed.config(Some("wrong"))?, settings).await?;
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();

    let error = forwarder
        .handle_event(s3_event(&keys))
        .await
        .expect_err("bad key");

    assert!(!error.is_retryable());
    assert!(error.to_string().contains("apiKey"), "{error}");
    let report = error.report().expect("objects were processed");
    let aborted = report
        .objects
        .iter()
        .filter(|o| {
            matches!(
                o.outcome.error(),
                Some(flowlog_forwarder::ObjectError::Aborted { .. })
            )
        })
        .count();
    assert_eq!(aborted, 2);
    for object in &report.objects {
        assert_balanced(object);
    }
    assert_eq!(bed.emu.ingest().stats().requests, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forwarder_is_shared_across_spawned_tasks() -> anyhow::Result<()> {
    let bed = Bed::start().await?;
    let k = key("spawned");
    bed.put(&k, gzip(flow_log(2).as_bytes())).await?;
    let forwarder = std::sync::Arc::new(bed.forwarder(|_| {}).await?);

    let task = {
        let forwarder = forwarder.clone();
        let event = s3_event(&[&k]);
        tokio::spawn(async move { forwarder.handle_event(event).await })
    };
    let report = task.await??;

    assert_eq!(report.records_sent(), 2);
    Ok(())
}
