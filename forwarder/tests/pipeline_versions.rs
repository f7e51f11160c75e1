//! Versioned buckets: the version an event names is the version read, even when the key was
//! overwritten before the notification was handled; markers are kept per version.

mod pipeline_support;

use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use flowlog_forwarder::ObjectOutcome;
use pipeline_support::{BUCKET, Bed, assert_balanced, flow_log, gzip, key, s3_event};

/// Records received per destination port.
fn by_dstport(records: &[serde_json::Value]) -> Vec<(String, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for record in records {
        *counts.entry(record["dstport"].to_string()).or_insert(0) += 1;
    }
    counts.into_iter().collect()
}

/// `event` with `versionId` set on its only record.
fn with_version(mut event: serde_json::Value, version: &str) -> serde_json::Value {
    event["Records"][0]["s3"]["object"]["versionId"] = version.into();
    event
}

#[tokio::test(flavor = "multi_thread")]
async fn each_notification_of_an_overwritten_key_delivers_its_own_version_exactly_once()
-> anyhow::Result<()> {
    // Arrange: versioning on; the key is written twice (3 flows to port 22, then 5 to port
    // 443) before either notification is handled.
    let bed = Bed::start().await?;
    let s3 = bed.emu.s3_client();
    s3.put_bucket_versioning()
        .bucket(BUCKET)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await?;
    let key = key("versioned");
    let mut versions = Vec::new();
    for body in [flow_log(3), flow_log(5).replace(" 22 6 ", " 443 6 ")] {
        let put = s3
            .put_object()
            .bucket(BUCKET)
            .key(&key)
            .body(gzip(body.as_bytes()).into())
            .send()
            .await?;
        versions.push(
            put.version_id
                .ok_or_else(|| anyhow::anyhow!("no version id"))?,
        );
    }
    let forwarder = bed.forwarder(|_| {}).await?;

    // Act: the first version's notification, the second's, then the first's again (a
    // redelivery).
    let mut reports = Vec::new();
    for version in [&versions[0], &versions[1], &versions[0]] {
        let event = with_version(s3_event(&[&key]), version);
        reports.push(forwarder.handle_event(event).await?);
    }

    // Assert
    for report in &reports {
        for object in &report.objects {
            assert_balanced(object);
        }
    }
    assert_eq!(reports[0].records_sent(), 3);
    assert_eq!(reports[1].records_sent(), 5);
    assert!(
        matches!(
            reports[2].objects[0].outcome,
            ObjectOutcome::Duplicate { .. }
        ),
        "the redelivered first version is recognised by its own marker: {}",
        reports[2].objects[0]
    );
    assert_eq!(
        by_dstport(&bed.emu.ingest().records()),
        [("\"22\"".to_owned(), 3), ("\"443\"".to_owned(), 5)]
    );
    Ok(())
}
