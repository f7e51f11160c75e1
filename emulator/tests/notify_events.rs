//! S3 event notifications as the emulated S3 emits them: shape, key encoding, filters,
//! one event per multipart completion, sequencers, destinations.

use anyhow::{Context as _, Result};
use aws_sdk_s3::Client;
use aws_sdk_s3::error::ProvideErrorMetadata as _;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    CompletedMultipartUpload, CompletedPart, Event, FilterRule, FilterRuleName,
    LambdaFunctionConfiguration, NotificationConfiguration, NotificationConfigurationFilter,
    QueueConfiguration, S3KeyFilter, TopicConfiguration,
};
use flowlog_emulator::{Destination, Emulator, Notification, Subscription};

const FUNCTION: &str = "arn:aws:lambda:us-east-1:123456789012:function:flowlog-forwarder";
const QUEUE: &str = "arn:aws:sqs:us-east-1:123456789012:flowlogs";
const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:flowlogs";

fn filter(
    prefix: Option<&str>,
    suffix: Option<&str>,
) -> Result<Option<NotificationConfigurationFilter>> {
    let mut rules = Vec::new();
    if let Some(p) = prefix {
        rules.push(
            FilterRule::builder()
                .name(FilterRuleName::Prefix)
                .value(p)
                .build(),
        );
    }
    if let Some(s) = suffix {
        rules.push(
            FilterRule::builder()
                .name(FilterRuleName::Suffix)
                .value(s)
                .build(),
        );
    }
    Ok((!rules.is_empty()).then(|| {
        NotificationConfigurationFilter::builder()
            .key(S3KeyFilter::builder().set_filter_rules(Some(rules)).build())
            .build()
    }))
}

fn lambda_config(
    id: &str,
    events: &[Event],
    prefix: Option<&str>,
    suffix: Option<&str>,
) -> Result<LambdaFunctionConfiguration> {
    Ok(LambdaFunctionConfiguration::builder()
        .id(id)
        .lambda_function_arn(FUNCTION)
        .set_events(Some(events.to_vec()))
        .set_filter(filter(prefix, suffix)?)
        .build()?)
}

/// A bucket whose notification configuration is the given Lambda entries.
async fn bucket_with(
    s3: &Client,
    bucket: &str,
    entries: Vec<LambdaFunctionConfiguration>,
) -> Result<()> {
    s3.create_bucket().bucket(bucket).send().await?;
    s3.put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .set_lambda_function_configurations(Some(entries))
                .build(),
        )
        .send()
        .await?;
    Ok(())
}

async fn put(s3: &Client, bucket: &str, key: &str, body: &'static [u8]) -> Result<()> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from_static(body))
        .send()
        .await?;
    Ok(())
}

/// The next notification; publication happens before the S3 response, so it is already queued.
fn next(events: &mut Subscription) -> Result<Notification> {
    events
        .try_recv()
        .context("expected a notification to be queued")
}

#[tokio::test]
async fn a_put_fires_the_full_s3_event_record_with_a_form_encoded_key() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    bucket_with(
        &s3,
        "flowlogs",
        vec![lambda_config(
            "to-forwarder",
            &[Event::from("s3:ObjectCreated:*")],
            None,
            None,
        )?],
    )
    .await?;
    let mut events = emulator.notifications();

    put(&s3, "flowlogs", "a b+c=d.log.gz", b"hello").await?;
    let n = next(&mut events)?;

    assert_eq!(
        n.destination,
        Destination::Lambda {
            function_arn: FUNCTION.to_owned()
        }
    );
    assert_eq!(n.configuration_id, "to-forwarder");
    assert_eq!(n.key().as_deref(), Some("a b+c=d.log.gz"));
    insta::assert_json_snapshot!("put_event", n.event, {
        ".Records[].eventTime" => "[eventTime]",
        ".Records[].responseElements[\"x-amz-request-id\"]" => "[request-id]",
        ".Records[].responseElements[\"x-amz-id-2\"]" => "[host-id]",
        ".Records[].s3.object.sequencer" => "[sequencer]",
    });
    Ok(())
}

#[tokio::test]
async fn hive_style_keys_are_encoded_as_s3_does() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    bucket_with(
        &s3,
        "hive",
        vec![lambda_config(
            "all",
            &[Event::from("s3:ObjectCreated:*")],
            None,
            None,
        )?],
    )
    .await?;
    let mut events = emulator.notifications();

    put(
        &s3,
        "hive",
        "AWSLogs/aws-account-id=123456789012/year=2026/month=11/f.log.gz",
        b"x",
    )
    .await?;
    let n = next(&mut events)?;

    let key = n
        .event
        .pointer("/Records/0/s3/object/key")
        .and_then(|k| k.as_str());
    assert_eq!(
        key,
        Some("AWSLogs/aws-account-id%3D123456789012/year%3D2026/month%3D11/f.log.gz")
    );
    Ok(())
}

#[tokio::test]
async fn prefix_and_suffix_filters_select_which_objects_notify() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    let created = [Event::from("s3:ObjectCreated:*")];
    bucket_with(
        &s3,
        "filtered",
        vec![lambda_config(
            "logs",
            &created,
            Some("AWSLogs/"),
            Some(".log.gz"),
        )?],
    )
    .await?;
    let mut events = emulator.notifications();

    put(&s3, "filtered", "other/x.log.gz", b"x").await?;
    put(&s3, "filtered", "AWSLogs/x.txt", b"x").await?;
    put(&s3, "filtered", "AWSLogs/x.log.gz", b"x").await?;

    let n = next(&mut events)?;
    assert_eq!(n.key().as_deref(), Some("AWSLogs/x.log.gz"));
    assert!(
        events.try_recv().is_none(),
        "only the matching key notifies"
    );
    Ok(())
}

#[tokio::test]
async fn exact_event_names_match_only_their_own_request_kind() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    bucket_with(
        &s3,
        "exact",
        vec![lambda_config(
            "copies",
            &[Event::from("s3:ObjectCreated:Copy")],
            None,
            None,
        )?],
    )
    .await?;
    let mut events = emulator.notifications();

    put(&s3, "exact", "src", b"x").await?;
    s3.copy_object()
        .bucket("exact")
        .key("dst")
        .copy_source("exact/src")
        .send()
        .await?;

    let n = next(&mut events)?;
    assert_eq!(n.event_name(), Some("ObjectCreated:Copy"));
    assert_eq!(n.key().as_deref(), Some("dst"));
    assert!(events.try_recv().is_none());
    Ok(())
}

#[tokio::test]
async fn a_multipart_completion_fires_exactly_one_event() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    bucket_with(
        &s3,
        "multi",
        vec![lambda_config(
            "all",
            &[Event::from("s3:ObjectCreated:*")],
            None,
            None,
        )?],
    )
    .await?;
    let mut events = emulator.notifications();

    let upload = s3
        .create_multipart_upload()
        .bucket("multi")
        .key("big.log.gz")
        .send()
        .await?;
    let id = upload.upload_id().context("upload id")?;
    let mut parts = Vec::new();
    for (n, data) in [(1, vec![1u8; 5 * 1024 * 1024]), (2, vec![2u8; 10])] {
        let out = s3
            .upload_part()
            .bucket("multi")
            .key("big.log.gz")
            .upload_id(id)
            .part_number(n)
            .body(ByteStream::from(data))
            .send()
            .await?;
        parts.push(
            CompletedPart::builder()
                .part_number(n)
                .set_e_tag(out.e_tag().map(str::to_owned))
                .build(),
        );
    }
    assert!(events.try_recv().is_none(), "parts do not notify");
    let done = s3
        .complete_multipart_upload()
        .bucket("multi")
        .key("big.log.gz")
        .upload_id(id)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .set_parts(Some(parts))
                .build(),
        )
        .send()
        .await?;

    let n = next(&mut events)?;
    assert_eq!(
        n.event_name(),
        Some("ObjectCreated:CompleteMultipartUpload")
    );
    assert_eq!(
        n.event
            .pointer("/Records/0/s3/object/size")
            .and_then(|s| s.as_u64()),
        Some(5 * 1024 * 1024 + 10)
    );
    let etag = n
        .event
        .pointer("/Records/0/s3/object/eTag")
        .and_then(|s| s.as_str())
        .map(|e| format!("\"{e}\""));
    assert_eq!(etag.as_deref(), done.e_tag());
    assert!(events.try_recv().is_none(), "exactly one event");
    Ok(())
}

#[tokio::test]
async fn sequencers_increase_for_successive_writes_of_one_key() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    bucket_with(
        &s3,
        "seq",
        vec![lambda_config(
            "all",
            &[Event::from("s3:ObjectCreated:*")],
            None,
            None,
        )?],
    )
    .await?;
    let mut events = emulator.notifications();

    let mut sequencers = Vec::new();
    for _ in 0..3 {
        put(&s3, "seq", "same-key", b"x").await?;
        let n = next(&mut events)?;
        let s = n
            .event
            .pointer("/Records/0/s3/object/sequencer")
            .and_then(|s| s.as_str())
            .context("sequencer")?;
        sequencers.push(s.to_owned());
    }

    assert!(
        sequencers
            .iter()
            .all(|s| s.len() == sequencers[0].len() && s.chars().all(|c| c.is_ascii_hexdigit()))
    );
    assert!(sequencers.windows(2).all(|w| w[0] < w[1]), "{sequencers:?}");
    Ok(())
}

#[tokio::test]
async fn queue_and_topic_configurations_notify_their_destinations() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("fanout").send().await?;
    let created = vec![Event::from("s3:ObjectCreated:Put")];
    let config = NotificationConfiguration::builder()
        .queue_configurations(
            QueueConfiguration::builder()
                .queue_arn(QUEUE)
                .set_events(Some(created.clone()))
                .build()?,
        )
        .topic_configurations(
            TopicConfiguration::builder()
                .id("t")
                .topic_arn(TOPIC)
                .set_events(Some(created))
                .build()?,
        )
        .build();
    s3.put_bucket_notification_configuration()
        .bucket("fanout")
        .notification_configuration(config)
        .send()
        .await?;
    let mut events = emulator.notifications();

    put(&s3, "fanout", "k", b"x").await?;
    let got = s3
        .get_bucket_notification_configuration()
        .bucket("fanout")
        .send()
        .await?;

    let first = next(&mut events)?;
    let second = next(&mut events)?;
    assert_eq!(
        first.destination,
        Destination::Queue {
            queue_arn: QUEUE.to_owned()
        }
    );
    assert_eq!(
        second.destination,
        Destination::Topic {
            topic_arn: TOPIC.to_owned()
        }
    );
    let generated = got
        .queue_configurations()
        .first()
        .and_then(|q| q.id())
        .context("generated id")?;
    assert_eq!(
        first.configuration_id, generated,
        "S3 generates an id and reports it"
    );
    assert_eq!(
        got.topic_configurations().first().and_then(|t| t.id()),
        Some("t")
    );
    Ok(())
}

#[tokio::test]
async fn rejects_unknown_event_names_and_filter_rules() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bad").send().await?;

    let typo = LambdaFunctionConfiguration::builder()
        .lambda_function_arn(FUNCTION)
        .events(Event::from("s3:ObjectCreated:Putt"))
        .build()?;
    let result = s3
        .put_bucket_notification_configuration()
        .bucket("bad")
        .notification_configuration(
            NotificationConfiguration::builder()
                .lambda_function_configurations(typo)
                .build(),
        )
        .send()
        .await;

    assert_eq!(
        result
            .err()
            .and_then(|e| e.code().map(str::to_owned))
            .as_deref(),
        Some("InvalidArgument")
    );
    Ok(())
}

#[tokio::test]
async fn saving_a_queue_configuration_sends_an_s3_test_event_but_a_lambda_one_does_not()
-> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("tested").send().await?;
    let mut events = emulator.notifications();

    let queue = QueueConfiguration::builder()
        .id("q")
        .queue_arn(QUEUE)
        .events(Event::from("s3:ObjectCreated:*"))
        .build()?;
    s3.put_bucket_notification_configuration()
        .bucket("tested")
        .notification_configuration(
            NotificationConfiguration::builder()
                .queue_configurations(queue)
                .build(),
        )
        .send()
        .await?;
    let test = next(&mut events)?;
    bucket_with_existing(
        &s3,
        "tested",
        lambda_config("l", &[Event::from("s3:ObjectCreated:*")], None, None)?,
    )
    .await?;

    assert!(test.is_test_event());
    assert_eq!(
        test.destination,
        Destination::Queue {
            queue_arn: QUEUE.to_owned()
        }
    );
    assert_eq!(
        test.event.get("Bucket").and_then(|b| b.as_str()),
        Some("tested")
    );
    assert_eq!(test.event_name(), None, "no Records in a test event");
    assert!(
        events.try_recv().is_none(),
        "Lambda destinations get no test event"
    );
    Ok(())
}

async fn bucket_with_existing(
    s3: &Client,
    bucket: &str,
    entry: LambdaFunctionConfiguration,
) -> Result<()> {
    s3.put_bucket_notification_configuration()
        .bucket(bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .lambda_function_configurations(entry)
                .build(),
        )
        .send()
        .await?;
    Ok(())
}
