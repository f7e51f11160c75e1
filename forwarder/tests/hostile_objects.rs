//! Hostile object names and upload URLs against the emulator: no panic, no retry of what can
//! never succeed, bounded messages, and no credentials written anywhere.

mod pipeline_support;

use flowlog_emulator::Fault;
use flowlog_forwarder::ObjectOutcome;
use flowlog_forwarder::deadletter::DeadLetterStore;
use flowlog_forwarder::source::SourceError;
use flowlog_forwarder::state::StateStore;
use pipeline_support::{BUCKET, Bed, flow_log, gzip, key, s3_event};

fn source_error(outcome: &ObjectOutcome) -> Option<&SourceError> {
    match outcome.error()? {
        flowlog_forwarder::ObjectError::Source(e) => Some(e),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_object_name_s3_cannot_hold_fails_once_without_a_panic_or_a_retry() -> anyhow::Result<()>
{
    let bed = Bed::start().await?;
    let forwarder = bed.forwarder(|_| {}).await?;
    let huge_bucket = "b".repeat(1 << 20);
    let huge_key = "k".repeat(64 * 1024);
    for (bucket, key, needle) in [
        (BUCKET, huge_key.as_str(), "65536 bytes long"),
        (
            huge_bucket.as_str(),
            "AWSLogs/x.log.gz",
            "1048576 characters long",
        ),
        ("no such bucket", "AWSLogs/x.log.gz", "holds ' '"),
    ] {
        let report = forwarder.forward_object(bucket, key).await;

        let error = source_error(&report.outcome);
        assert!(error.is_some(), "{needle}: {report}");
        let message = error.map(ToString::to_string).unwrap_or_default();
        assert!(message.contains(needle), "{message}");
        assert!(message.len() < 2048, "{} bytes", message.len());
        assert!(!error.is_some_and(SourceError::is_retryable_later));
        assert!(error.is_some_and(SourceError::is_invalid_request));
        assert_eq!(report.retries, 0);
        let line = report.to_string();
        assert!(line.len() < 4096, "{} bytes of summary line", line.len());
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lambda_event_naming_an_impossible_object_is_not_retryable() -> anyhow::Result<()> {
    let bed = Bed::start().await?;
    let forwarder = bed.forwarder(|_| {}).await?;
    let mut event = s3_event(&["AWSLogs/x.log.gz"]);
    event["Records"][0]["s3"]["bucket"]["name"] = "b".repeat(1 << 20).into();

    let result = flowlog_forwarder::lambda::handle(&forwarder, event).await;

    let error = result.err().ok_or_else(|| anyhow::anyhow!("accepted"))?;
    assert!(!error.retryable, "{}", error.message);
    assert!(error.message.contains("3 to 63"), "{}", error.message);
    assert!(error.message.len() < 4096, "{} bytes", error.message.len());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_object_stays_retryable_for_lambda() -> anyhow::Result<()> {
    let bed = Bed::start().await?;
    let forwarder = bed.forwarder(|_| {}).await?;

    let result = flowlog_forwarder::lambda::handle(&forwarder, s3_event(&["AWSLogs/gone"])).await;

    let error = result.err().ok_or_else(|| anyhow::anyhow!("accepted"))?;
    assert!(error.retryable, "{}", error.message);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_in_the_upload_url_never_reach_a_dead_letter() -> anyhow::Result<()> {
    let bed = Bed::start().await?;
    bed.emu
        .ingest()
        .faults(vec![Fault::status(503).times(1000)])?;
    let url = bed
        .emu
        .ingest()
        .upload_url()
        .replacen("http://", "http://uploader:hunter2@", 1)
        + "?token=s3cr3t&mode=1";
    let forwarder = bed
        .forwarder(|s| {
            s.upload_url = Some(url);
            s.upload.retry.max_attempts = 2;
        })
        .await?;
    let key = key("creds");
    bed.put(&key, gzip(flow_log(3).as_bytes())).await?;

    let report = forwarder.forward_object(BUCKET, &key).await;

    assert!(
        matches!(report.outcome, ObjectOutcome::DeadLettered),
        "{report}"
    );
    let store = DeadLetterStore::new(StateStore::Local(bed.state.path().to_owned()));
    let ids = store.list().await?;
    assert_eq!(ids.len(), 1);
    let meta = store.read_meta(&ids[0]).await?;
    let stored = serde_json::to_string(&meta)?;
    for secret in ["hunter2", "uploader", "s3cr3t"] {
        assert!(!stored.contains(secret), "{secret} stored: {stored}");
    }
    assert!(
        meta.context.upload_url.contains("/upload"),
        "{}",
        meta.context.upload_url
    );
    assert!(
        meta.context.upload_url.contains("token=redacted"),
        "{}",
        meta.context.upload_url
    );
    Ok(())
}
