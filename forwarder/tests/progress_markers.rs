//! Per-object progress markers: resume after accepted batches, skip a
//! duplicate notification, restart on a new ETag, survive a corrupt marker.

mod source_support;

use bytes::Bytes;
use flowlog_forwarder::progress::{
    ProgressMarker, ProgressStore, ProgressTracker, Resume, StartReason,
};
use flowlog_forwarder::state::StateStore;
use source_support::Moto;

const BUCKET: &str = "logs";
const KEY: &str = "AWSLogs/123/vpcflowlogs/us-east-1/2026/11/25/x.log.gz";

fn local() -> anyhow::Result<(tempfile::TempDir, ProgressStore)> {
    let dir = tempfile::tempdir()?;
    let store = ProgressStore::new(StateStore::Local(dir.path().to_path_buf()));
    Ok((dir, store))
}

fn tracker(store: &ProgressStore, etag: &str, save_every: u64) -> ProgressTracker {
    ProgressTracker::new(
        store.clone(),
        ProgressMarker::start(BUCKET, KEY, etag),
        save_every,
    )
}

fn continued(resume: Resume) -> ProgressMarker {
    match resume {
        Resume::Continue(marker) => marker,
        other => panic!("expected Continue, got {other:?}"),
    }
}

#[tokio::test]
async fn a_new_object_starts_from_the_beginning() -> anyhow::Result<()> {
    let (_dir, store) = local()?;

    let resume = store.load(BUCKET, KEY, "e1").await?;

    assert_eq!(resume, Resume::Start(StartReason::NoMarker));
    Ok(())
}

#[tokio::test]
async fn resumes_after_the_batches_already_accepted() -> anyhow::Result<()> {
    let (_dir, store) = local()?;
    let mut progress = tracker(&store, "e1", 1);

    progress.settled(0, 501, 500, false).await?;
    progress.settled(1, 1001, 498, true).await?;
    let marker = continued(store.load(BUCKET, KEY, "e1").await?);

    assert_eq!(
        (marker.batches_done, marker.lines_done, marker.records_done),
        (2, 1001, 998)
    );
    assert_eq!(marker.dead_lettered_batches, 1);
    assert!(!marker.completed);
    assert!(!marker.updated_at.is_empty());
    Ok(())
}

#[tokio::test]
async fn out_of_order_acknowledgements_advance_only_the_contiguous_prefix() -> anyhow::Result<()> {
    let (_dir, store) = local()?;
    let mut progress = tracker(&store, "e1", 1);

    progress.settled(1, 1001, 500, false).await?;
    progress.settled(2, 1501, 500, false).await?;
    assert_eq!(
        progress.marker().batches_done,
        0,
        "batch 0 is still in flight"
    );
    assert_eq!(
        store.load(BUCKET, KEY, "e1").await?,
        Resume::Start(StartReason::NoMarker)
    );

    progress.settled(0, 501, 500, false).await?;
    let marker = continued(store.load(BUCKET, KEY, "e1").await?);

    assert_eq!((marker.batches_done, marker.lines_done), (3, 1501));
    Ok(())
}

#[tokio::test]
async fn writing_every_third_batch_loses_at_most_two_batches_of_progress() -> anyhow::Result<()> {
    let (_dir, store) = local()?;
    let mut progress = tracker(&store, "e1", 3);

    progress.settled(0, 10, 9, false).await?;
    progress.settled(1, 20, 10, false).await?;
    let after_two = store.load(BUCKET, KEY, "e1").await?;
    progress.settled(2, 30, 10, false).await?;
    let after_three = continued(store.load(BUCKET, KEY, "e1").await?);
    progress.settled(3, 40, 10, false).await?;
    progress.flush().await?;
    let after_flush = continued(store.load(BUCKET, KEY, "e1").await?);

    assert_eq!(after_two, Resume::Start(StartReason::NoMarker));
    assert_eq!(after_three.batches_done, 3);
    assert_eq!(after_flush.batches_done, 4);
    Ok(())
}

#[tokio::test]
async fn a_write_beside_the_pipeline_covers_what_settled_before_it_started() -> anyhow::Result<()> {
    let (_dir, store) = local()?;
    let mut progress = tracker(&store, "e1", 1);

    progress.record(0, 10, 9, false);
    let first = progress.due_write().expect("one batch settled");
    progress.record(1, 20, 10, false);
    progress.record(2, 30, 10, false);
    first.await?;
    let after_first = continued(store.load(BUCKET, KEY, "e1").await?);
    let second = progress.due_write().expect("two more settled");
    let nothing_new = progress.due_write().is_none();
    second.await?;
    let after_second = continued(store.load(BUCKET, KEY, "e1").await?);

    assert_eq!(
        after_first.batches_done, 1,
        "the snapshot taken at the start"
    );
    assert_eq!(
        (
            after_second.batches_done,
            after_second.lines_done,
            after_second.records_done
        ),
        (3, 30, 29)
    );
    assert!(
        nothing_new,
        "nothing settled since the second write started"
    );
    Ok(())
}

#[tokio::test]
async fn after_a_failed_write_the_next_one_is_due_at_once() -> anyhow::Result<()> {
    let (_dir, store) = local()?;
    let mut progress = tracker(&store, "e1", 3);

    progress.record(0, 10, 9, false);
    let not_due = progress.due_write().is_none();
    progress.write_failed();
    let retry = progress.due_write().expect("due after a failure");
    retry.await?;

    assert!(not_due, "one of three batches");
    assert_eq!(
        continued(store.load(BUCKET, KEY, "e1").await?).batches_done,
        1
    );
    Ok(())
}

#[tokio::test]
async fn a_completed_object_is_skipped_when_notified_again() -> anyhow::Result<()> {
    let (_dir, store) = local()?;
    let mut progress = tracker(&store, "e1", 10);
    progress.settled(0, 700, 699, false).await?;

    progress.complete(700).await?;
    let resume = store.load(BUCKET, KEY, "e1").await?;

    let Resume::Done(marker) = resume else {
        panic!("expected Done, got {resume:?}")
    };
    assert_eq!((marker.batches_done, marker.lines_done), (1, 700));
    assert!(marker.completed);
    Ok(())
}

#[tokio::test]
async fn completing_with_a_batch_missing_leaves_the_marker_incomplete() -> anyhow::Result<()> {
    let (_dir, store) = local()?;
    let mut progress = tracker(&store, "e1", 1);
    progress.settled(1, 1000, 500, false).await?; // batch 0 never settled

    let marker = progress.complete(1000).await?;

    assert!(!marker.completed);
    let stored = continued(store.load(BUCKET, KEY, "e1").await?);
    assert_eq!(
        (stored.batches_done, stored.lines_done),
        (0, 0),
        "a retry resends everything"
    );
    Ok(())
}

#[tokio::test]
async fn an_overwritten_object_with_a_new_etag_starts_from_zero() -> anyhow::Result<()> {
    let (_dir, store) = local()?;
    let mut progress = tracker(&store, "e1", 1);
    progress.settled(0, 500, 499, false).await?;
    progress.complete(500).await?;

    let resume = store.load(BUCKET, KEY, "e2").await?;

    assert_eq!(
        resume,
        Resume::Start(StartReason::EtagChanged {
            previous: "e1".to_owned()
        })
    );
    Ok(())
}

#[tokio::test]
async fn a_corrupt_marker_is_treated_as_absent_so_nothing_is_skipped() -> anyhow::Result<()> {
    let (dir, store) = local()?;
    let raw = StateStore::Local(dir.path().to_path_buf());
    raw.put(
        &ProgressStore::marker_key(BUCKET, KEY),
        Bytes::from_static(b"{\"batches_d"),
    )
    .await?;

    let resume = store.load(BUCKET, KEY, "e1").await?;

    assert!(
        matches!(&resume, Resume::Start(StartReason::Corrupt { reason }) if reason.contains("EOF")),
        "{resume:?}"
    );
    Ok(())
}

#[tokio::test]
async fn markers_of_different_objects_are_independent() -> anyhow::Result<()> {
    let (_dir, store) = local()?;
    let mut progress = tracker(&store, "e1", 1);
    progress.settled(0, 500, 499, false).await?;

    let other = store.load(BUCKET, "AWSLogs/other.log.gz", "e1").await?;
    let other_bucket = store.load("other", KEY, "e1").await?;

    assert_eq!(other, Resume::Start(StartReason::NoMarker));
    assert_eq!(other_bucket, Resume::Start(StartReason::NoMarker));
    assert_ne!(
        ProgressStore::marker_key(BUCKET, KEY),
        ProgressStore::marker_key("other", KEY)
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn markers_live_under_the_s3_state_prefix_too() -> anyhow::Result<()> {
    let moto = Moto::start()?;
    let client = moto.client().await?;
    client.create_bucket().bucket(BUCKET).send().await?;
    let state = StateStore::s3(client.clone(), BUCKET, "forwarder-state/");
    let store = ProgressStore::new(state.clone());
    let mut progress = tracker(&store, "e1", 1);

    progress.settled(0, 500, 499, false).await?;
    let resumed = continued(store.load(BUCKET, KEY, "e1").await?);
    progress.complete(900).await?;
    let done = store.load(BUCKET, KEY, "e1").await?;
    store.clear(BUCKET, KEY).await?;
    let cleared = store.load(BUCKET, KEY, "e1").await?;

    assert_eq!(resumed.batches_done, 1);
    assert!(matches!(done, Resume::Done(_)), "{done:?}");
    assert_eq!(cleared, Resume::Start(StartReason::NoMarker));
    let marker_key = format!("forwarder-state/{}", ProgressStore::marker_key(BUCKET, KEY));
    assert!(state.is_own_state_key(BUCKET, &marker_key));
    Ok(())
}
