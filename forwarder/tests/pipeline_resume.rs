//! Nothing lost, little duplicated: dead letters and `replay`, resuming after a failure at
//! batch k, duplicate notifications of dead-lettered objects.

mod pipeline_support;

use std::time::Duration;

use flowlog_emulator::Fault;
use flowlog_forwarder::{ObjectError, ObjectOutcome, ObjectReport};
use pipeline_support::{BUCKET, Bed, assert_balanced, flow_log, gzip, key, parquet, ports};

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

/// Forwards `body` under `key` with uploads 1 and 2 accepted, then every upload rejected and
/// the dead-letter directory unwritable (the run fails at batch 2); then fixes both and
/// forwards again. Returns both reports.
async fn fail_at_batch_k_then_resume(
    body: Vec<u8>,
    key: &str,
) -> anyhow::Result<(Bed, ObjectReport, ObjectReport)> {
    let bed = Bed::start().await?;
    bed.emu.ingest().faults(vec![
        Fault::delay(Duration::from_millis(1)).times(2),
        Fault::status(400),
    ])?;
    let blocker = bed.state.path().join("deadletter");
    std::fs::write(&blocker, b"not a directory")?;
    bed.put(key, body).await?;
    let forwarder = bed.forwarder(|s| s.uploads_in_flight = 1).await?;
    let first = forwarder.forward_object(BUCKET, key).await;
    bed.emu.ingest().clear_faults();
    std::fs::remove_file(&blocker)?;
    let second = forwarder.forward_object(BUCKET, key).await;
    Ok((bed, first, second))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_fails_at_batch_k_is_resumed_without_resending_accepted_batches()
-> anyhow::Result<()> {
    // Arrange, Act: 35 records in batches of 10; the first run fails at batch 2, the retry
    // (the cause fixed) resumes.
    let (bed, first, second) =
        fail_at_batch_k_then_resume(gzip(flow_log(35).as_bytes()), &key("resume")).await?;

    // Assert: the first run failed with 15 records unsent; only those were sent again, and
    // every record arrived exactly once.
    assert_balanced(&first);
    assert!(
        matches!(
            first.outcome,
            ObjectOutcome::Failed(ObjectError::DeadLetterStore { .. })
        ),
        "{first}"
    );
    assert_eq!((first.records_sent, first.unsent_records), (20, 15));
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
async fn a_parquet_object_that_failed_at_batch_k_resumes_from_the_row_its_marker_names()
-> anyhow::Result<()> {
    // Arrange, Act: as above, with the 35 records as Parquet rows in row groups of 8 (batches
    // of 10 records cut across row groups); the marker counts rows.
    let key = key("resume-parquet").replace(".log.gz", ".log.parquet");
    let (bed, first, second) =
        fail_at_batch_k_then_resume(parquet(&flow_log(35), 8)?, &key).await?;

    // Assert
    assert_balanced(&first);
    assert_eq!(
        (first.records_sent, first.unsent_records),
        (20, 15),
        "{first}"
    );
    assert_balanced(&second);
    assert!(
        matches!(second.outcome, ObjectOutcome::Delivered),
        "{second}"
    );
    assert_eq!(
        (second.lines, second.header),
        (35, 0),
        "rows, no header line"
    );
    assert_eq!((second.resumed_lines, second.records_sent), (20, 15));
    assert_eq!(
        ports(&bed.emu.ingest().records()),
        (10_000..10_035).collect::<Vec<_>>()
    );
    Ok(())
}
