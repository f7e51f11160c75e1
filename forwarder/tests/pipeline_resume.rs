//! Nothing lost, little duplicated: dead letters and `replay`, resuming after a failure at
//! batch k, and the invocation's view of failures (S3 direct and SQS).

mod pipeline_support;

use std::time::Duration;

use flowlog_emulator::Fault;
use flowlog_forwarder::{ObjectError, ObjectOutcome};
use pipeline_support::{
    BUCKET, Bed, assert_balanced, flow_log, gzip, key, ports, s3_event, sqs_event,
};

#[tokio::test(flavor = "multi_thread")]
async fn a_licence_exceeded_window_dead_letters_and_replay_completes_the_records()
-> anyhow::Result<()> {
    // Arrange: 35 records in 4 batches; the first two uploads meet the exceeded licence.
    let bed = Bed::start().await?;
    bed.emu
        .ingest()
        .faults(vec![Fault::license_exceeded().times(2)])?;
    let key = key("licence");
    bed.put(&key, gzip(flow_log(35).as_bytes())).await?;
    let forwarder = bed.forwarder(|s| s.uploads_in_flight = 1).await?;

    // Act
    let report = forwarder.forward_object(BUCKET, &key).await;
    let retried = forwarder.forward_object(BUCKET, &key).await;
    let store = forwarder.dead_letter_store(BUCKET);
    let replay = forwarder.replay(&store).await?;
    let after_replay = forwarder.forward_object(BUCKET, &key).await;

    // Assert
    assert_balanced(&report);
    assert!(
        matches!(report.outcome, ObjectOutcome::DeadLettered),
        "{report}"
    );
    assert!(report.outcome.is_failure());
    assert_eq!(
        (report.dead_lettered_records, report.records_sent),
        (20, 15)
    );
    assert_eq!(report.dead_letter_ids.len(), 2);
    assert_eq!(
        (replay.replayed, replay.failed, replay.remaining),
        (2, 0, 0)
    );
    assert!(store.list().await?.is_empty());
    assert!(
        matches!(
            retried.outcome,
            ObjectOutcome::Duplicate {
                dead_lettered_batches: 2
            }
        ),
        "{retried}"
    );
    assert!(
        retried.outcome.is_failure(),
        "dead letters pending: the invocation keeps failing"
    );
    assert!(
        matches!(
            after_replay.outcome,
            ObjectOutcome::Duplicate {
                dead_lettered_batches: 0
            }
        ),
        "{after_replay}"
    );
    assert!(!after_replay.outcome.is_failure());
    assert_eq!(
        ports(&bed.emu.ingest().records()),
        (10_000..10_035).collect::<Vec<_>>()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_fails_at_batch_k_is_resumed_without_resending_accepted_batches()
-> anyhow::Result<()> {
    // Arrange: uploads 1 and 2 pass, then every upload is rejected, and the dead-letter
    // directory cannot be written (a file sits where it should be): the run fails at batch 2.
    let bed = Bed::start().await?;
    bed.emu.ingest().faults(vec![
        Fault::delay(Duration::from_millis(1)).times(2),
        Fault::status(400),
    ])?;
    let blocker = bed.state.path().join("deadletter");
    std::fs::write(&blocker, b"not a directory")?;
    let key = key("resume");
    bed.put(&key, gzip(flow_log(35).as_bytes())).await?;
    let forwarder = bed.forwarder(|s| s.uploads_in_flight = 1).await?;
    let first = forwarder.forward_object(BUCKET, &key).await;
    assert_balanced(&first);
    assert!(
        matches!(
            first.outcome,
            ObjectOutcome::Failed(ObjectError::DeadLetterStore { .. })
        ),
        "{first}"
    );
    assert_eq!((first.records_sent, first.unsent_records), (20, 15));

    // Act: the cause is fixed and the invocation retried.
    bed.emu.ingest().clear_faults();
    std::fs::remove_file(&blocker)?;
    let second = forwarder.forward_object(BUCKET, &key).await;

    // Assert: only the rest was sent; every record arrived exactly once.
    assert_balanced(&second);
    assert!(
        matches!(second.outcome, ObjectOutcome::Delivered),
        "{second}"
    );
    assert_eq!((second.resumed_lines, second.records_sent), (20, 15));
    assert_eq!(
        ports(&bed.emu.ingest().records()),
        (10_000..10_035).collect::<Vec<_>>()
    );
    Ok(())
}

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
        include_bytes!("../../fixtures/bad/tgw-v6.log").to_vec(),
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
    assert!(
        message("bad/tgw.log").contains("transit"),
        "{}",
        message("bad/tgw.log")
    );
    assert!(
        message("bad/deleted.log.gz").contains("no such key"),
        "{}",
        message("bad/deleted.log.gz")
    );
    assert_eq!(report.failed().count(), 4);
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
