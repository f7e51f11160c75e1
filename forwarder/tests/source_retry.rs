//! GetObject retries and failures, against servers that misbehave on purpose
//! (wiremock speaking S3's error XML, and a raw socket that breaks mid-body).

mod source_support;

use std::io::Read;
use std::time::Duration;

use flowlog_forwarder::source::{
    ReadError, RetryPolicy, S3Settings, SourceError, build_client, open_object,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn tiny_delays(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(2),
    }
}

fn s3_error(status: u16, code: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
             <Message>{code} from the test server</Message><RequestId>r1</RequestId></Error>"
        ),
        "application/xml",
    )
}

async fn client_for(uri: &str) -> anyhow::Result<aws_sdk_s3::Client> {
    Ok(build_client(&S3Settings::testbed(uri, "testing", "testing")).await?)
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_slow_down_twice_then_reads_the_object() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/logs/a.log"))
        .respond_with(s3_error(503, "SlowDown"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/logs/a.log"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("ETag", "\"abc123\"")
                .set_body_bytes(b"line one\nline two\n".to_vec()),
        )
        .with_priority(2)
        .mount(&server)
        .await;
    let client = client_for(&server.uri()).await?;

    let object = open_object(&client, "logs", "a.log", &tiny_delays(5)).await?;
    let meta = object.meta.clone();
    let mut reader = object.into_blocking_reader();
    let text = tokio::task::spawn_blocking(move || {
        let mut text = String::new();
        reader.read_to_string(&mut text).map(|_| text)
    })
    .await??;

    assert_eq!(text, "line one\nline two\n");
    assert_eq!(meta.attempts, 3);
    assert_eq!(meta.etag.as_deref(), Some("abc123"));
    assert_eq!(
        server.received_requests().await.unwrap_or_default().len(),
        3
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn gives_up_after_the_configured_attempts_with_the_last_error() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(s3_error(500, "InternalError"))
        .mount(&server)
        .await;
    let client = client_for(&server.uri()).await?;

    let err = open_object(&client, "logs", "a.log", &tiny_delays(4))
        .await
        .expect_err("every attempt fails");

    assert_eq!(
        server.received_requests().await.unwrap_or_default().len(),
        4
    );
    assert!(
        matches!(&err, SourceError::Service { code, status: 500, attempts: 4, .. } if code == "InternalError"),
        "{err:?}"
    );
    assert!(err.is_retryable_later());
    insta::assert_snapshot!(err.to_string());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn does_not_retry_access_denied_and_names_the_missing_permission() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(s3_error(403, "AccessDenied"))
        .mount(&server)
        .await;
    let client = client_for(&server.uri()).await?;

    let err = open_object(&client, "logs", "private/a.log", &tiny_delays(5))
        .await
        .expect_err("access is denied");

    assert_eq!(
        server.received_requests().await.unwrap_or_default().len(),
        1
    );
    assert!(matches!(err, SourceError::AccessDenied { .. }), "{err:?}");
    insta::assert_snapshot!(err.to_string());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn does_not_retry_a_missing_key() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(s3_error(404, "NoSuchKey"))
        .mount(&server)
        .await;
    let client = client_for(&server.uri()).await?;

    let err = open_object(&client, "logs", "gone.log", &tiny_delays(5))
        .await
        .expect_err("the key is missing");

    assert_eq!(
        server.received_requests().await.unwrap_or_default().len(),
        1
    );
    assert!(matches!(err, SourceError::NoSuchKey { .. }), "{err:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn retries_a_refused_connection_and_reports_it_as_transport() -> anyhow::Result<()> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let client = client_for(&format!("http://127.0.0.1:{port}")).await?;

    let err = open_object(&client, "logs", "a.log", &tiny_delays(3))
        .await
        .expect_err("nothing listens");

    assert!(
        matches!(err, SourceError::Transport { attempts: 3, .. }),
        "{err:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_a_body_that_breaks_mid_stream_with_the_offset_reached() -> anyhow::Result<()> {
    // A server that promises 100,000 bytes, sends 1,000, then hangs up.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let uri = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        if let Ok((mut socket, _)) = listener.accept().await {
            let mut request = [0u8; 4096];
            let _ = socket.read(&mut request).await;
            let head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nETag: \"e\"\r\n\r\n";
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(&[b'x'; 1000]).await;
            let _ = socket.shutdown().await;
        }
    });
    let client = client_for(&uri).await?;

    let object = open_object(&client, "logs", "a.log", &tiny_delays(1)).await?;
    let mut reader = object.into_blocking_reader();
    let err = tokio::task::spawn_blocking(move || reader.read_to_end(&mut Vec::new()))
        .await?
        .expect_err("the body breaks");

    let typed = ReadError::find(&err).expect("a typed read error");
    assert!(
        matches!(typed, ReadError::Body { offset: 1000, .. }),
        "{typed:?}"
    );
    assert!(err.to_string().contains("s3://logs/a.log"), "{err}");
    Ok(())
}

/// Reads one HTTP request head (lower-cased) from `socket`.
async fn read_head(socket: &mut tokio::net::TcpStream) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if socket.read(&mut byte).await? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).to_ascii_lowercase())
}

#[tokio::test(flavor = "multi_thread")]
async fn resumes_a_broken_body_with_a_ranged_request_for_the_same_version() -> anyhow::Result<()> {
    // Arrange: the first answer breaks after 1,000 of 3,000 bytes; the second
    // answers the ranged request with the rest.
    let body: Vec<u8> = (0..3000u32).map(|i| b'a' + (i % 26) as u8).collect();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let uri = format!("http://{}", listener.local_addr()?);
    let served = body.clone();
    let server = tokio::spawn(async move {
        let mut heads = Vec::new();
        for answer in 0..2 {
            let Ok((mut socket, _)) = listener.accept().await else {
                break;
            };
            heads.push(read_head(&mut socket).await.unwrap_or_default());
            let (head, part) = if answer == 0 {
                (
                    "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\nETag: \"v1\"\r\n\r\n".to_owned(),
                    &served[..1000],
                )
            } else {
                (
                    "HTTP/1.1 206 Partial Content\r\nContent-Length: 2000\r\n\
                     Content-Range: bytes 1000-2999/3000\r\nETag: \"v1\"\r\n\r\n"
                        .to_owned(),
                    &served[1000..],
                )
            };
            let _ = socket.write_all(head.as_bytes()).await;
            let _ = socket.write_all(part).await;
            let _ = socket.shutdown().await;
        }
        heads
    });
    let client = client_for(&uri).await?;

    // Act
    let object = open_object(&client, "logs", "a.log", &tiny_delays(3)).await?;
    let mut reader = object.into_blocking_reader();
    let read = tokio::task::spawn_blocking(move || {
        let mut read = Vec::new();
        reader.read_to_end(&mut read).map(|_| read)
    })
    .await??;
    let heads = server.await?;

    // Assert
    assert_eq!(read, body);
    assert_eq!(heads.len(), 2);
    assert!(heads[1].contains("range: bytes=1000-"), "{}", heads[1]);
    assert!(heads[1].contains("if-match: \"v1\""), "{}", heads[1]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn does_not_splice_two_versions_when_the_object_changed_mid_read() -> anyhow::Result<()> {
    // The first answer breaks after 1,000 bytes; by then the object was
    // overwritten, so the ranged If-Match request gets 412.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let uri = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move {
        for answer in 0..2 {
            let Ok((mut socket, _)) = listener.accept().await else {
                break;
            };
            let _ = read_head(&mut socket).await;
            let reply: &[u8] = if answer == 0 {
                b"HTTP/1.1 200 OK\r\nContent-Length: 3000\r\nETag: \"v1\"\r\n\r\n"
            } else {
                b"HTTP/1.1 412 Precondition Failed\r\nContent-Length: 0\r\n\r\n"
            };
            let _ = socket.write_all(reply).await;
            if answer == 0 {
                let _ = socket.write_all(&[b'x'; 1000]).await;
            }
            let _ = socket.shutdown().await;
        }
    });
    let client = client_for(&uri).await?;

    let object = open_object(&client, "logs", "a.log", &tiny_delays(3)).await?;
    let mut reader = object.into_blocking_reader();
    let err = tokio::task::spawn_blocking(move || reader.read_to_end(&mut Vec::new()))
        .await?
        .expect_err("the object changed");

    let typed = ReadError::find(&err).expect("a typed read error");
    assert!(
        matches!(typed, ReadError::Body { offset: 1000, .. }),
        "{typed:?}"
    );
    assert!(
        err.to_string().contains("resuming at byte 1000 failed"),
        "{err}"
    );
    Ok(())
}
