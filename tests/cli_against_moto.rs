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
