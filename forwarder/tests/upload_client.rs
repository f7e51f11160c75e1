//! The Site24x7 upload client against a real HTTP server (wiremock) on
//! loopback: the request on the wire and the answers that stop at once.

mod upload_support;

use flowlog_forwarder::secret::Secret;
use flowlog_forwarder::upload::{
    ConfigFlag, Delivered, Disposition, PauseFlag, UploadClient, UploadError, UploadSettings,
    UploadTarget,
};
use upload_support::{
    API_KEY, LOG_TYPE, accepted, assert_no_secret, batch, requests, settings, setup,
};
use wiremock::matchers::{body_bytes, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

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
async fn a_long_rejection_body_is_cut_after_the_key_is_masked() -> anyhow::Result<()> {
    let server = MockServer::start().await;
    let body = format!("{}{API_KEY}{}", "x".repeat(290), "y".repeat(100_000));
    let answer = ResponseTemplate::new(400).set_body_string(body);
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

    let UploadError::Rejected { body_excerpt, .. } = &error else {
        anyhow::bail!("not a rejection: {error:?}");
    };
    assert_eq!(body_excerpt, &format!("{}<redacted>…", "x".repeat(290)));
    assert!(!body_excerpt.contains(&API_KEY[..6]), "{body_excerpt}");
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
