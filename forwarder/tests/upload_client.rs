//! The Site24x7 upload client against a real HTTP server (wiremock) on loopback.
//!
//! Waits between attempts go through a recording [`Sleeper`], so delays are
//! asserted as computed values and no test measures the clock.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use flowlog_forwarder::batch::UploadBatch;
use flowlog_forwarder::secret::Secret;
use flowlog_forwarder::upload::{
    ConfigFlag, Delivered, Disposition, GiveUpReason, PauseFlag, RetryCause, RetryPolicy, Sleeper,
    UploadClient, UploadError, UploadSettings, UploadTarget,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{body_bytes, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const API_KEY: &str = "ab12cd34ef56-device-key";
const LOG_TYPE: &str = "vpc_flow_logs";

/// Records each requested wait and returns at once.
#[derive(Debug, Default)]
struct RecordingSleeper(Mutex<Vec<Duration>>);

impl RecordingSleeper {
    fn waits(&self) -> Vec<Duration> {
        self.0.lock().map(|w| w.clone()).unwrap_or_default()
    }
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, delay: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        if let Ok(mut waits) = self.0.lock() {
            waits.push(delay);
        }
        Box::pin(std::future::ready(()))
    }
}

fn batch() -> anyhow::Result<UploadBatch> {
    let json = br#"[{"srcaddr":"10.0.0.1","s247agentuid":"flow-log-bucket"}]"#;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json)?;
    Ok(UploadBatch {
        body: Bytes::from(gz.finish()?),
        log_size: 42,
        records: 1,
        json_bytes: json.len(),
    })
}

struct Setup {
    client: UploadClient,
    sleeper: Arc<RecordingSleeper>,
}

fn setup(url: String, settings: UploadSettings) -> anyhow::Result<Setup> {
    let target = UploadTarget {
        url,
        api_key: Secret::new(API_KEY),
        log_type: LOG_TYPE.into(),
    };
    let sleeper = Arc::new(RecordingSleeper::default());
    let client = UploadClient::new(target, &settings)?.with_sleeper(sleeper.clone());
    Ok(Setup { client, sleeper })
}

fn settings(max_attempts: u32) -> UploadSettings {
    UploadSettings {
        retry: RetryPolicy {
            max_attempts,
            ..RetryPolicy::default()
        },
        jitter_seed: Some(7),
        ..UploadSettings::default()
    }
}

fn accepted(upload_id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).insert_header("x-uploadid", upload_id)
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

fn assert_no_secret(error: &UploadError) {
    let text = format!("{error} {error:?}");
    assert!(!text.contains(API_KEY), "the apiKey leaked: {text}");
}

#[tokio::test]
async fn sends_exactly_the_reference_headers_and_the_gzip_body() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    let batch = batch()?;
    Mock::given(method("POST"))
        .and(path("/upload"))
        .and(header("X-DeviceKey", API_KEY))
        .and(header("X-LogType", LOG_TYPE))
        .and(header("X-StreamMode", "1"))
        .and(header("Log-Size", "42"))
        .and(header("Content-Type", "application/json"))
        .and(header("Content-Encoding", "gzip"))
        .and(header("User-Agent", "AWS-Lambda"))
        .and(body_bytes(batch.body.to_vec()))
        .respond_with(accepted("upload-1"))
        .expect(1)
        .mount(&server)
        .await;
    let setup = setup(format!("{}/upload", server.uri()), settings(3))?;

    let delivered = setup.client.upload(&batch).await?;

    assert_eq!(
        delivered,
        Delivered {
            upload_id: "upload-1".into(),
            attempts: 1
        }
    );
    let received = server.received_requests().await.unwrap_or_default();
    let mut names: Vec<&str> = received[0]
        .headers
        .keys()
        .map(|name| name.as_str())
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "accept",
            "content-encoding",
            "content-length",
            "content-type",
            "host",
            "log-size",
            "user-agent",
            "x-devicekey",
            "x-logtype",
            "x-streammode"
        ]
    );
    Ok(())
}

#[tokio::test]
async fn server_errors_are_retried_with_jittered_backoff_until_delivered() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(accepted("after-503s"))
        .mount(&server)
        .await;
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
    Mock::given(method("POST"))
        .respond_with(throttled)
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(accepted("after-429s"))
        .mount(&server)
        .await;
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
async fn a_success_without_an_upload_id_is_retried() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(accepted("receipt"))
        .mount(&server)
        .await;
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
async fn configuration_errors_fail_fast_with_exactly_one_request() -> anyhow::Result<()> {
    let cases = [
        (
            "invalid_account",
            "True",
            ConfigFlag::InvalidAccount,
            "apiKey",
        ),
        (
            "INVALID_ACCOUNT",
            "TRUE",
            ConfigFlag::InvalidAccount,
            "apiKey",
        ),
        (
            "invalid_logtype",
            "True",
            ConfigFlag::InvalidLogType,
            "logType",
        ),
        (
            "api_upload_enabled",
            "False",
            ConfigFlag::ApiUploadDisabled,
            "enable API upload",
        ),
    ];
    for (name, value, want, mentions) in cases {
        let server = MockServer::start().await;
        let answer = ResponseTemplate::new(400).insert_header(name, value);
        Mock::given(method("POST"))
            .respond_with(answer)
            .expect(1)
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
            matches!(error, UploadError::Configuration { flag, status: 400, attempts: 1 } if flag == want),
            "{name}={value}: {error:?}"
        );
        assert_eq!(error.disposition(), Disposition::FailFast);
        assert!(error.to_string().contains(mentions), "{name}: {error}");
        assert!(error.to_string().contains("fix:"), "{name}: {error}");
        assert_no_secret(&error);
        assert_eq!(requests(&server).await, 1, "{name}");
        assert!(setup.sleeper.waits().is_empty());
    }
    Ok(())
}

#[tokio::test]
async fn licence_exceeded_and_blocked_log_types_are_dead_lettered_without_retry()
-> anyhow::Result<()> {
    let cases = [
        ("log_license_exceeds", PauseFlag::LicenceExceeded),
        ("LOG_LICENSE_EXCEEDS", PauseFlag::LicenceExceeded),
        ("blocked_logtype", PauseFlag::BlockedLogType),
    ];
    for (name, want) in cases {
        let server = MockServer::start().await;
        let answer = ResponseTemplate::new(400).insert_header(name, "True");
        Mock::given(method("POST"))
            .respond_with(answer)
            .expect(1)
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
            matches!(error, UploadError::Paused { flag, attempts: 1, .. } if flag == want),
            "{name}: {error:?}"
        );
        assert_eq!(error.disposition(), Disposition::DeadLetter);
        assert_eq!(requests(&server).await, 1, "{name}");
    }
    Ok(())
}

#[tokio::test]
async fn other_client_errors_reject_the_batch_with_status_and_body_excerpt() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    let answer =
        ResponseTemplate::new(413).set_body_string(format!("payload too large for key {API_KEY}"));
    Mock::given(method("POST"))
        .respond_with(answer)
        .expect(1)
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
        matches!(&error, UploadError::Rejected { status: 413, body_excerpt, attempts: 1 }
            if body_excerpt == "payload too large for key <redacted>"),
        "{error:?}"
    );
    assert_eq!(error.disposition(), Disposition::DeadLetter);
    assert_no_secret(&error);
    assert_eq!(requests(&server).await, 1);
    Ok(())
}

#[tokio::test]
async fn a_response_slower_than_the_read_timeout_is_retried() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    let slow = accepted("too-late").set_delay(Duration::from_secs(5));
    Mock::given(method("POST"))
        .respond_with(slow)
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(accepted("in-time"))
        .mount(&server)
        .await;
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
    assert_eq!(setup.sleeper.waits().len(), 2);
    assert_no_secret(&error);
    Ok(())
}

#[test]
fn the_client_and_its_target_never_print_the_api_key() -> anyhow::Result<()> {
    let target = UploadTarget {
        url: "http://127.0.0.1:9/upload".into(),
        api_key: Secret::new(API_KEY),
        log_type: LOG_TYPE.into(),
    };
    let printed = format!("{target:?}");
    let client = UploadClient::new(target, &UploadSettings::default())?;

    let printed = format!("{printed} {client:?}");

    assert!(!printed.contains(API_KEY), "{printed}");
    Ok(())
}

#[test]
fn a_key_with_a_line_break_is_refused_without_printing_it() {
    let target = UploadTarget {
        url: "http://127.0.0.1:9/upload".into(),
        api_key: Secret::new("abc\ndef"),
        log_type: LOG_TYPE.into(),
    };

    let error = UploadClient::new(target, &UploadSettings::default())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();

    assert!(
        error.starts_with("the apiKey of logTypeConfig cannot be sent as the X-DeviceKey header"),
        "{error}"
    );
    assert!(!error.contains("abc"), "{error}");
}

#[test]
fn the_production_target_is_the_upload_domain_s_upload_path() {
    let target =
        UploadTarget::for_upload_domain("logc.site24x7.eu", Secret::new(API_KEY), LOG_TYPE);

    assert_eq!(target.url, "https://logc.site24x7.eu/upload");
}
