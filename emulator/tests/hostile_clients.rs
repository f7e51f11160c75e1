//! Clients that misbehave on purpose: they stop mid-request, send oversized or malformed XML,
//! name buckets S3 refuses, or sign with a key the emulator does not know. Each gets a clear
//! S3-shaped answer or a closed connection, never a hang, a 500 or an unbounded log line.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Result, bail};
use aws_sdk_s3::error::ProvideErrorMetadata as _;
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
