//! Forwarding objects through the library's production path against the in-process emulator:
//! records equal `parse`'s, retries on faults, fail-fast on bad keys, duplicates skipped.

mod pipeline_support;

use std::time::Duration;

use flowlog_emulator::Fault;
use flowlog_forwarder::{BatchLimits, Input, ObjectContext, ObjectOutcome, dry_run};
use pipeline_support::{Bed, assert_balanced, flow_log, gzip, key, parquet, ports};

#[tokio::test(flavor = "multi_thread")]
async fn a_parquet_object_and_its_text_deliver_the_same_records() -> anyhow::Result<()> {
    // Arrange: the same 35 flows as gzip text and as Parquet (row groups of 6 rows), under
    // keys whose suffix says nothing of the format.
    let bed = Bed::start().await?;
    let text = flow_log(35);
    bed.put("flows/a", gzip(text.as_bytes())).await?;
    bed.put("flows/b", parquet(&text, 6)?).await?;
    let forwarder = bed.forwarder(|_| {}).await?;

    // Act
    let from_text = forwarder
        .forward_object(pipeline_support::BUCKET, "flows/a")
        .await;
    let from_text_records = bed.emu.ingest().records();
    bed.emu.ingest().reset();
    let from_parquet = forwarder
        .forward_object(pipeline_support::BUCKET, "flows/b")
        .await;

    // Assert
    for report in [&from_text, &from_parquet] {
        assert_balanced(report);
        assert!(
            matches!(report.outcome, ObjectOutcome::Delivered),
            "{report}"
        );
        assert_eq!(report.records_sent, 35);
    }
    assert_eq!((from_parquet.lines, from_parquet.header), (35, 0));
    let strip_key = |records: Vec<serde_json::Value>| -> Vec<serde_json::Value> {
        records
            .into_iter()
            .map(|mut r| {
                r.as_object_mut().map(|o| o.remove("_zl_timestamp"));
                r
            })
            .collect()
    };
    let mut a = strip_key(from_text_records);
    let mut b = strip_key(bed.emu.ingest().records());
    a.sort_by_key(ToString::to_string);
    b.sort_by_key(ToString::to_string);
    assert_eq!(a, b);
    assert_eq!(
        ports(&bed.emu.ingest().records()),
        (10_000..10_035).collect::<Vec<_>>()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn forwarding_an_object_delivers_exactly_the_records_parse_prints() -> anyhow::Result<()> {
    // Arrange
    let bed = Bed::start().await?;
    let body = gzip(flow_log(35).as_bytes());
    let key = key("exact");
    bed.put(&key, body.clone()).await?;
    let forwarder = bed.forwarder(|_| {}).await?;
    let mut expected = Vec::new();
    dry_run(
        &bed.config(None)?,
        ObjectContext::now(pipeline_support::BUCKET, key.clone()),
        Input::Stream(&body[..]),
        BatchLimits::default(),
        true,
        &mut expected,
    )?;

    // Act
    let report = forwarder
        .forward_object(pipeline_support::BUCKET, &key)
        .await;

    // Assert
    assert_balanced(&report);
    assert!(
        matches!(report.outcome, ObjectOutcome::Delivered),
        "{report}"
    );
    assert_eq!(
        (report.lines, report.header, report.records_sent),
        (36, 1, 35)
    );
    assert_eq!(report.batches, 4);
    assert_eq!(report.upload_ids.len(), 4);
    assert!(report.bytes_in > 0 && report.bytes_out > 0);
    let received: Vec<String> = bed
        .emu
        .ingest()
        .records()
        .iter()
        .map(|r| r.to_string())
        .collect();
    let printed: Vec<String> = String::from_utf8(expected)?
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).map(|v| v.to_string()))
        .collect::<Result<_, _>>()?;
    let (mut received, mut printed) = (received, printed);
    received.sort();
    printed.sort();
    assert_eq!(received, printed);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn thirty_percent_of_uploads_answered_503_still_deliver_every_record_once()
-> anyhow::Result<()> {
    let bed = Bed::start().await?;
    bed.emu
        .ingest()
        .faults(vec![Fault::status(503).probability(0.3).seed(7)])?;
    let key = key("flaky");
    bed.put(&key, gzip(flow_log(200).as_bytes())).await?;
    let forwarder = bed.forwarder(|s| s.upload.retry.max_attempts = 30).await?;

    let report = forwarder
        .forward_object(pipeline_support::BUCKET, &key)
        .await;

    assert_balanced(&report);
    assert!(
        matches!(report.outcome, ObjectOutcome::Delivered),
        "{report}"
    );
    assert_eq!(
        ports(&bed.emu.ingest().records()),
        (10_000..10_200).collect::<Vec<_>>()
    );
    let faulted = bed
        .emu
        .ingest()
        .stats()
        .by_status
        .get(&503)
        .copied()
        .unwrap_or(0);
    assert!(faulted > 0, "the seeded faults never fired");
    assert_eq!(report.retries, faulted);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_with_retry_after_is_waited_out() -> anyhow::Result<()> {
    let bed = Bed::start().await?;
    bed.emu.ingest().faults(vec![
        Fault::status(429)
            .retry_after(Duration::from_secs(1))
            .times(2),
    ])?;
    let key = key("throttled");
    bed.put(&key, gzip(flow_log(5).as_bytes())).await?;
    let forwarder = bed.forwarder(|_| {}).await?;

    let report = forwarder
        .forward_object(pipeline_support::BUCKET, &key)
        .await;

    assert_balanced(&report);
    assert!(
        matches!(report.outcome, ObjectOutcome::Delivered),
        "{report}"
    );
    assert_eq!(report.retries, 2);
    assert_eq!(report.records_sent, 5);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn connection_resets_are_retried_without_loss() -> anyhow::Result<()> {
    let bed = Bed::start().await?;
    bed.emu
        .ingest()
        .faults(vec![Fault::reset_connection().times(3)])?;
    let key = key("resets");
    bed.put(&key, gzip(flow_log(25).as_bytes())).await?;
    let forwarder = bed.forwarder(|s| s.uploads_in_flight = 1).await?;

    let report = forwarder
        .forward_object(pipeline_support::BUCKET, &key)
        .await;

    assert_balanced(&report);
    assert!(
        matches!(report.outcome, ObjectOutcome::Delivered),
        "{report}"
    );
    assert_eq!(report.retries, 3);
    assert_eq!(
        ports(&bed.emu.ingest().records()),
        (10_000..10_025).collect::<Vec<_>>()
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_device_key_fails_fast_with_one_request_naming_api_key() -> anyhow::Result<()> {
    let bed = Bed::start().await?;
    let key = key("badkey");
    bed.put(&key, gzip(flow_log(5).as_bytes())).await?;
    let forwarder =
        flowlog_forwarder::Forwarder::new(bed.config(Some("not-the-key"))?, bed.settings()).await?;

    let report = forwarder
        .forward_object(pipeline_support::BUCKET, &key)
        .await;

    assert_balanced(&report);
    let error = report
        .outcome
        .error()
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(error.contains("apiKey"), "{error}");
    assert!(!error.contains("not-the-key"), "secret leaked: {error}");
    assert_eq!(bed.emu.ingest().stats().requests, 1);
    assert_eq!(report.unsent_records, 5);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_duplicate_notification_of_a_completed_object_is_skipped() -> anyhow::Result<()> {
    let bed = Bed::start().await?;
    let key = key("twice");
    bed.put(&key, gzip(flow_log(12).as_bytes())).await?;
    let forwarder = bed.forwarder(|_| {}).await?;
    let first = forwarder
        .forward_object(pipeline_support::BUCKET, &key)
        .await;

    let second = forwarder
        .forward_object(pipeline_support::BUCKET, &key)
        .await;

    assert_balanced(&first);
    assert_balanced(&second);
    assert!(
        matches!(
            second.outcome,
            ObjectOutcome::Duplicate {
                dead_lettered_batches: 0
            }
        ),
        "{second}"
    );
    assert!(!second.outcome.is_failure());
    assert_eq!(second.records_sent, 0);
    assert_eq!(bed.emu.ingest().records().len(), 12);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_forwarders_own_state_keys_are_never_forwarded() -> anyhow::Result<()> {
    let bed = Bed::start().await?;
    let forwarder = bed
        .forwarder(|s| {
            s.state = flowlog_forwarder::StateLocation::EventBucket {
                prefix: "flowlog-forwarder/".into(),
            }
        })
        .await?;

    let report = forwarder
        .forward_object(
            pipeline_support::BUCKET,
            "flowlog-forwarder/progress/x.json",
        )
        .await;

    assert_balanced(&report);
    assert!(
        matches!(report.outcome, ObjectOutcome::OwnState),
        "{report}"
    );
    assert_eq!(bed.emu.ingest().stats().requests, 0);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn markers_kept_in_a_slow_s3_still_cover_every_batch_and_complete() -> anyhow::Result<()> {
    // Arrange: every S3 request waits 30 ms (the state's PUTs included), 8 batches of 10.
    let bed =
        Bed::with(flowlog_emulator::Emulator::builder().s3_latency(Duration::from_millis(30)))
            .await?;
    let key = key("slow-state");
    bed.put(&key, gzip(flow_log(75).as_bytes())).await?;
    let forwarder = bed
        .forwarder(|s| {
            s.state = flowlog_forwarder::StateLocation::EventBucket {
                prefix: "flowlog-forwarder/".into(),
            }
        })
        .await?;

    // Act
    let first = forwarder
        .forward_object(pipeline_support::BUCKET, &key)
        .await;
    let again = forwarder
        .forward_object(pipeline_support::BUCKET, &key)
        .await;

    // Assert: delivered once, and the last marker written says so.
    assert_balanced(&first);
    assert!(matches!(first.outcome, ObjectOutcome::Delivered), "{first}");
    assert_eq!((first.records_sent, first.batches), (75, 8));
    assert!(
        matches!(again.outcome, ObjectOutcome::Duplicate { .. }),
        "{again}"
    );
    assert_eq!(
        ports(&bed.emu.ingest().records()),
        (10_000..10_075).collect::<Vec<_>>()
    );
    Ok(())
}
