//! aws-sdk-s3 against the emulated S3 in process, without a socket (`s3s_aws::Client`):
//! the fast path for tests that do not need the wire.

use anyhow::{Context as _, Result};
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{Event, LambdaFunctionConfiguration, NotificationConfiguration};
use flowlog_emulator::Notifier;
use flowlog_emulator::s3::{S3Settings, build_service};

fn in_process_client(settings: &S3Settings, notifier: &Notifier) -> aws_sdk_s3::Client {
    let service = build_service(settings.clone(), notifier.clone());
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(s3s_aws::Client::from(service))
        .credentials_provider(Credentials::new(
            &settings.access_key,
            &settings.secret_key,
            None,
            None,
            "test",
        ))
        .region(Region::new(settings.region.clone()))
        .endpoint_url("http://localhost:9000")
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

#[tokio::test]
async fn the_sdk_round_trips_an_object_and_its_notification_without_a_socket() -> Result<()> {
    let settings = S3Settings::default();
    let notifier = Notifier::new();
    let s3 = in_process_client(&settings, &notifier);
    let mut events = notifier.subscribe();
    s3.create_bucket().bucket("inproc").send().await?;
    let entry = LambdaFunctionConfiguration::builder()
        .lambda_function_arn("arn:aws:lambda:us-east-1:123456789012:function:f")
        .events(Event::from("s3:ObjectCreated:Put"))
        .build()?;
    s3.put_bucket_notification_configuration()
        .bucket("inproc")
        .notification_configuration(
            NotificationConfiguration::builder()
                .lambda_function_configurations(entry)
                .build(),
        )
        .send()
        .await?;

    s3.put_object()
        .bucket("inproc")
        .key("k.log.gz")
        .body(ByteStream::from_static(b"bytes"))
        .send()
        .await?;
    let body = s3
        .get_object()
        .bucket("inproc")
        .key("k.log.gz")
        .send()
        .await?
        .body
        .collect()
        .await?
        .to_vec();

    assert_eq!(body, b"bytes");
    let n = events.try_recv().context("notification")?;
    assert_eq!(n.key().as_deref(), Some("k.log.gz"));
    Ok(())
}
