//! Clients that misbehave on purpose: they stop mid-request, send oversized or malformed XML,
//! name buckets S3 refuses, or sign with a key the emulator does not know. Each gets a clear
//! S3-shaped answer or a closed connection, never a hang, a 500 or an unbounded log line.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Result, bail};
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::ProvideErrorMetadata as _;
use aws_sdk_s3::primitives::SdkBody;
use aws_sdk_s3::types::{
    CompletedMultipartUpload, CompletedPart, Event, LambdaFunctionConfiguration,
    NotificationConfiguration,
};
use flowlog_emulator::Emulator;
use flowlog_emulator::runtime_api::LambdaRuntimeApi;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Generous: the servers are configured to give up after a fraction of a second.
const DEADLINE: Duration = Duration::from_secs(30);
const SHORT: Duration = Duration::from_millis(200);

/// Sends half a request line, then nothing; returns once the server closed the connection.
async fn stalls_then_is_closed(addr: SocketAddr) -> Result<()> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(b"GET /some-bucket HT").await?;
    let mut answer = Vec::new();
    match tokio::time::timeout(DEADLINE, stream.read_to_end(&mut answer)).await {
        Ok(_closed_or_reset) => Ok(()),
        Err(_) => bail!("{addr} kept a half-sent request open for {DEADLINE:?}"),
    }
}

#[tokio::test]
async fn the_s3_closes_a_connection_that_stops_mid_request() -> Result<()> {
    let emulator = Emulator::builder()
        .header_read_timeout(SHORT)
        .start()
        .await?;
    stalls_then_is_closed(emulator.s3_addr()).await
}

#[tokio::test]
async fn the_lambda_runtime_api_closes_a_connection_that_stops_mid_request() -> Result<()> {
    let api = LambdaRuntimeApi::builder()
        .header_read_timeout(SHORT)
        .start()
        .await?;
    stalls_then_is_closed(api.addr().parse()?).await
}

#[tokio::test]
async fn the_emulator_builder_sets_the_runtime_api_header_timeout_too() -> Result<()> {
    let emulator = Emulator::builder()
        .header_read_timeout(SHORT)
        .start()
        .await?;
    stalls_then_is_closed(emulator.lambda_runtime().addr().parse()?).await
}

#[tokio::test]
async fn an_unknown_access_key_is_told_which_key_id_the_emulator_expects() -> Result<()> {
    let emulator = Emulator::builder()
        .credentials("expected-key-id", "expected-secret")
        .start()
        .await?;
    let stranger = aws_sdk_s3::config::Credentials::new(
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        None,
        None,
        "test",
    );
    let s3 =
        aws_sdk_s3::Client::from_conf(emulator.s3_config().credentials_provider(stranger).build());

    let err = s3
        .list_buckets()
        .send()
        .await
        .expect_err("a stranger's key is refused");

    let status = err.raw_response().map(|r| r.status().as_u16());
    let err = err.into_service_error();
    let message = err.message().unwrap_or_default().to_owned();
    assert_eq!(err.code(), Some("InvalidAccessKeyId"), "{message}");
    assert_eq!(status, Some(403));
    assert!(
        message.starts_with("The AWS Access Key Id you provided does not exist in our records."),
        "{message}"
    );
    assert!(message.contains("\"expected-key-id\""), "{message}");
    assert!(message.contains("--access-key"), "{message}");
    assert!(!message.contains("expected-secret"), "{message}");
    Ok(())
}

/// The code, HTTP status and message of a refused SDK call.
fn refusal<E, R>(
    result: Result<R, aws_sdk_s3::error::SdkError<E, HttpResponse>>,
) -> Result<(String, u16, String)>
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let Err(err) = result else {
        bail!("the request was accepted");
    };
    let status = err.raw_response().map_or(0, |r| r.status().as_u16());
    Ok((
        err.code().unwrap_or_default().to_owned(),
        status,
        err.message().unwrap_or_default().to_owned(),
    ))
}

#[tokio::test]
async fn an_oversized_notification_configuration_gets_max_message_length_exceeded() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("big-xml").send().await?;
    let huge_id = "x".repeat(20_000_000);
    let config = NotificationConfiguration::builder()
        .lambda_function_configurations(
            LambdaFunctionConfiguration::builder()
                .id(huge_id)
                .lambda_function_arn(emulator.lambda_runtime().function_arn())
                .events(Event::from("s3:ObjectCreated:*"))
                .build()?,
        )
        .build();

    let (code, status, message) = refusal(
        s3.put_bucket_notification_configuration()
            .bucket("big-xml")
            .notification_configuration(config)
            .send()
            .await,
    )?;

    assert_eq!(
        (code.as_str(), status),
        ("MaxMessageLengthExceeded", 400),
        "{message}"
    );
    assert!(message.contains("4194304 bytes"), "{message}");
    Ok(())
}

#[tokio::test]
async fn an_oversized_multipart_completion_gets_max_message_length_exceeded() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("big-complete").send().await?;
    let upload = s3
        .create_multipart_upload()
        .bucket("big-complete")
        .key("k")
        .send()
        .await?;
    let parts: Vec<CompletedPart> = (1..=100_000)
        .map(|n| {
            CompletedPart::builder()
                .part_number(n)
                .e_tag("\"0123456789abcdef0123456789abcdef\"")
                .build()
        })
        .collect();

    let (code, status, message) = refusal(
        s3.complete_multipart_upload()
            .bucket("big-complete")
            .key("k")
            .upload_id(upload.upload_id().unwrap_or_default())
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await,
    )?;

    assert_eq!(
        (code.as_str(), status),
        ("MaxMessageLengthExceeded", 400),
        "{message}"
    );
    Ok(())
}

#[tokio::test]
async fn malformed_xml_gets_malformed_xml_with_a_message() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bad-xml").send().await?;
    let garbage = format!("<NotificationConfiguration><Oops{}", "y".repeat(100_000));

    let (code, status, message) = refusal(
        s3.put_bucket_notification_configuration()
            .bucket("bad-xml")
            .notification_configuration(NotificationConfiguration::builder().build())
            .customize()
            .mutate_request(move |req| {
                let len = garbage.len();
                *req.body_mut() = SdkBody::from(garbage.clone());
                req.headers_mut().insert("content-length", len.to_string());
            })
            .send()
            .await,
    )?;

    assert_eq!((code.as_str(), status), ("MalformedXML", 400), "{message}");
    assert!(message.contains("not well-formed"), "{message}");
    Ok(())
}

#[tokio::test]
async fn bucket_names_s3_refuses_get_invalid_bucket_name() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    let refused = [
        ("abc-s3alias", "reserved suffix"),
        ("a.-b", "\".-\""),
        ("a-.b", "\"-.\""),
        ("a..b", "\"..\""),
        ("xn--bucket", "reserved prefix"),
        ("sthree-bucket", "reserved prefix"),
        ("bucket--ol-s3", "reserved suffix"),
        // (`--x-s3` names are refused too, but the SDK routes them to S3 Express itself.)
        ("10.0.0.1", "IP address"),
    ];
    for (name, rule) in refused {
        let (code, status, message) = refusal(s3.create_bucket().bucket(name).send().await)?;
        assert_eq!(
            (code.as_str(), status),
            ("InvalidBucketName", 400),
            "{name}: {message}"
        );
        assert!(
            message.contains(name) && message.contains(rule),
            "{name}: {message}"
        );
    }
    let listed = s3.list_buckets().send().await?;
    assert!(listed.buckets().is_empty(), "{:?}", listed.buckets());
    Ok(())
}

/// The `serve` binary's log, after one malformed 300 KB notification configuration.
#[tokio::test]
async fn the_binary_logs_a_malformed_body_as_a_bounded_excerpt() -> Result<()> {
    use std::io::BufRead as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_flowlog-emulator"))
        .arg("serve")
        .env_remove("RUST_LOG")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    // Drained as it comes, so a long line can never block the server on a full pipe.
    let stderr = child.stderr.take();
    let drained = std::thread::spawn(move || {
        let mut log = String::new();
        if let Some(mut err) = stderr {
            let _ = std::io::Read::read_to_string(&mut err, &mut log);
        }
        log
    });
    let mut first = String::new();
    if let Some(out) = child.stdout.take() {
        std::io::BufReader::new(out).read_line(&mut first)?;
    }
    let addresses: serde_json::Value = serde_json::from_str(&first)?;
    let endpoint = addresses["s3"].as_str().unwrap_or_default().to_owned();
    let credentials =
        aws_sdk_s3::config::Credentials::new("flowlog", "flowlog-secret", None, None, "test");
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .force_path_style(true)
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(credentials)
            .build(),
    );
    let sent = async {
        s3.create_bucket().bucket("logged").send().await?;
        let garbage = format!("<NotificationConfiguration><Oops{}", "z".repeat(300_000));
        refusal(
            s3.put_bucket_notification_configuration()
                .bucket("logged")
                .notification_configuration(NotificationConfiguration::builder().build())
                .customize()
                .mutate_request(move |req| {
                    let len = garbage.len();
                    *req.body_mut() = SdkBody::from(garbage.clone());
                    req.headers_mut().insert("content-length", len.to_string());
                })
                .send()
                .await,
        )
    }
    .await;
    child.kill()?;
    child.wait()?;
    let log = drained.join().unwrap_or_default();

    let (code, _, _) = sent?;
    assert_eq!(code, "MalformedXML");
    assert!(log.contains("malformed XML body"), "{log}");
    assert!(log.contains("…(+"), "{log}");
    let longest = log.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 4096, "a log line of {longest} bytes");
    Ok(())
}
