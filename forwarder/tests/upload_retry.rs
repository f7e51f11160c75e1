//! Retries of the upload client against real loopback servers: 5xx, 429 with
//! Retry-After, missing receipts, timeouts, resets, refused connections.
//!
//! Waits go through a recording sleeper, so delays are asserted as computed
//! values and no test measures the clock.

mod upload_support;

use std::time::Duration;

use flowlog_forwarder::upload::{
    Delivered, Disposition, GiveUpReason, RetryCause, RetryPolicy, UploadError, UploadSettings,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use upload_support::{
    accepted, assert_no_secret, batch, requests, respond_then_accept, settings, setup,
};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn server_errors_are_retried_with_jittered_backoff_until_delivered() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    respond_then_accept(&server, ResponseTemplate::new(503), 2, "after-503s").await;
    let setup = setup(server.uri(), settings(5))?;

    let delivered = setup.client.upload(&batch()?).await?;

    assert_eq!(
        delivered,
        Delivered {
            upload_id: "after-503s".into(),
            attempts: 3
        }
    );
    let waits = setup.sleeper.waits();
    let policy = RetryPolicy::default();
    assert_eq!(waits.len(), 2);
    for (retry, wait) in (1..).zip(&waits) {
        assert!(
            *wait <= policy.backoff_cap(retry),
            "retry {retry} waited {wait:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn throttling_waits_exactly_as_long_as_retry_after_says() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    let throttled = ResponseTemplate::new(429).insert_header("Retry-After", "7");
    respond_then_accept(&server, throttled, 2, "after-429s").await;
    let setup = setup(server.uri(), settings(5))?;

    let delivered = setup.client.upload(&batch()?).await?;

    assert_eq!(delivered.attempts, 3);
    assert_eq!(
        setup.sleeper.waits(),
        [Duration::from_secs(7), Duration::from_secs(7)]
    );
    Ok(())
}

#[tokio::test]
async fn a_retry_after_http_date_is_honoured_as_the_time_until_then() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    let until = chrono::Utc::now() + chrono::Duration::seconds(30);
    let date = until.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let throttled = ResponseTemplate::new(503).insert_header("Retry-After", date.as_str());
    respond_then_accept(&server, throttled, 1, "after-date").await;
    let setup = setup(server.uri(), settings(3))?;

    let delivered = setup.client.upload(&batch()?).await?;

    assert_eq!(delivered.attempts, 2);
    let waits = setup.sleeper.waits();
    // HTTP dates have whole seconds: the wait is 30 s minus the part of a second already gone.
    assert!(
        waits.len() == 1
            && waits[0] > Duration::from_secs(25)
            && waits[0] <= Duration::from_secs(30),
        "Retry-After {date}: waits {waits:?}"
    );
    Ok(())
}

#[tokio::test]
async fn a_success_without_an_upload_id_is_retried() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    respond_then_accept(&server, ResponseTemplate::new(200), 1, "receipt").await;
    let setup = setup(server.uri(), settings(3))?;

    let delivered = setup.client.upload(&batch()?).await?;

    assert_eq!(
        delivered,
        Delivered {
            upload_id: "receipt".into(),
            attempts: 2
        }
    );
    Ok(())
}

#[tokio::test]
async fn gives_up_after_the_maximum_number_of_attempts() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let setup = setup(server.uri(), settings(4))?;

    let error = setup
        .client
        .upload(&batch()?)
        .await
        .err()
        .ok_or_else(|| anyhow::anyhow!("delivered"))?;

    assert!(
        matches!(
            &error,
            UploadError::GaveUp {
                attempts: 4,
                last: RetryCause::Server { status: 500 },
                reason: GiveUpReason::MaxAttempts
            }
        ),
        "{error:?}"
    );
    assert_eq!(
        (error.attempts(), error.last_status(), error.disposition()),
        (4, Some(500), Disposition::DeadLetter)
    );
    assert_eq!(requests(&server).await, 4);
    assert_eq!(setup.sleeper.waits().len(), 3);
    Ok(())
}

#[tokio::test]
async fn a_retry_after_beyond_the_time_budget_gives_up_instead_of_waiting() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    let throttled = ResponseTemplate::new(429).insert_header("Retry-After", "600");
    Mock::given(method("POST"))
        .respond_with(throttled)
        .mount(&server)
        .await;
    let setup = setup(server.uri(), settings(5))?;

    let error = setup
        .client
        .upload(&batch()?)
        .await
        .err()
        .ok_or_else(|| anyhow::anyhow!("delivered"))?;

    assert!(
        matches!(
            error,
            UploadError::GaveUp {
                attempts: 1,
                reason: GiveUpReason::ElapsedBudget,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.last_status(), Some(429));
    assert!(setup.sleeper.waits().is_empty());
    Ok(())
}

#[tokio::test]
async fn a_response_slower_than_the_read_timeout_is_retried() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    let slow = accepted("too-late").set_delay(Duration::from_secs(5));
    respond_then_accept(&server, slow, 1, "in-time").await;
    let settings = UploadSettings {
        read_timeout: Duration::from_millis(100),
        ..settings(3)
    };
    let setup = setup(server.uri(), settings)?;

    let delivered = setup.client.upload(&batch()?).await?;

    assert_eq!(
        delivered,
        Delivered {
            upload_id: "in-time".into(),
            attempts: 2
        }
    );
    Ok(())
}

#[tokio::test]
async fn timeouts_that_persist_end_as_a_timeout_failure() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(accepted("never").set_delay(Duration::from_secs(5)))
        .mount(&server)
        .await;
    let settings = UploadSettings {
        read_timeout: Duration::from_millis(100),
        ..settings(2)
    };
    let setup = setup(server.uri(), settings)?;

    let error = setup
        .client
        .upload(&batch()?)
        .await
        .err()
        .ok_or_else(|| anyhow::anyhow!("delivered"))?;

    assert!(
        matches!(
            &error,
            UploadError::GaveUp {
                attempts: 2,
                last: RetryCause::Timeout { .. },
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(error.last_status(), None);
    assert!(
        error.to_string().contains("last failure: timeout:"),
        "{error}"
    );
    Ok(())
}

/// A server that resets the first connection and answers the second with a receipt.
async fn reset_then_accept() -> anyhow::Result<(String, tokio::task::JoinHandle<anyhow::Result<()>>)>
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/upload", listener.local_addr()?);
    let task = tokio::spawn(async move {
        let (first, _) = listener.accept().await?;
        first.set_zero_linger()?;
        drop(first);
        let (mut second, _) = listener.accept().await?;
        read_request(&mut second).await?;
        second
            .write_all(b"HTTP/1.1 200 OK\r\nx-uploadid: after-reset\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .await?;
        second.shutdown().await?;
        Ok(())
    });
    Ok((url, task))
}

/// Reads one HTTP/1.1 request with a `content-length` body.
async fn read_request(stream: &mut tokio::net::TcpStream) -> anyhow::Result<()> {
    let mut buffer = Vec::new();
    let mut chunk = [0_u8; 4096];
    loop {
        let read = stream.read(&mut chunk).await?;
        anyhow::ensure!(read > 0, "connection closed mid-request");
        buffer.extend_from_slice(&chunk[..read]);
        let text = String::from_utf8_lossy(&buffer);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if buffer.len() >= end + 4 + length {
                return Ok(());
            }
        }
    }
}

#[tokio::test]
async fn a_reset_connection_is_retried_on_a_new_connection() -> anyhow::Result<()> {
    let (url, server) = reset_then_accept().await?;
    let setup = setup(url, settings(3))?;

    let delivered = setup.client.upload(&batch()?).await?;

    assert_eq!(
        delivered,
        Delivered {
            upload_id: "after-reset".into(),
            attempts: 2
        }
    );
    server.await??;
    Ok(())
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported_as_a_connection_error() -> anyhow::Result<()>
{
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://{}/upload", listener.local_addr()?);
    drop(listener);
    let setup = setup(url, settings(3))?;

    let error = setup
        .client
        .upload(&batch()?)
        .await
        .err()
        .ok_or_else(|| anyhow::anyhow!("delivered"))?;

    assert!(
        matches!(
            &error,
            UploadError::GaveUp {
                attempts: 3,
                last: RetryCause::Transport { .. },
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("last failure: connection error:"),
        "{message}"
    );
    assert!(message.contains("tcp connect error"), "{message}");
    assert!(
        !message.contains("http://"),
        "no URL in transport errors: {message}"
    );
    assert_eq!(setup.sleeper.waits().len(), 2);
    assert_no_secret(&error);
    Ok(())
}
