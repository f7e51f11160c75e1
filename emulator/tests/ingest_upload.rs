//! The mock Site24x7 validates uploads like Site24x7 and exposes what it accepted.

use std::io::Write;
use std::time::Duration;

use anyhow::Result;
use flate2::{Compression, write::GzEncoder};
use flowlog_emulator::ingest::{MockSite24x7, Stats};
use serde_json::{Value, json};

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes)?;
    Ok(enc.finish()?)
}

fn records(n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|i| json!({"_zl_timestamp": 1_700_000_000_000_u64 + i as u64, "s247agentuid": "bucket", "n": i}))
            .collect(),
    )
}

/// A request exactly as the Site24x7 S3 Lambda sends it, to be spoiled by each test.
fn upload(mock: &MockSite24x7, body: Vec<u8>) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(mock.upload_url())
        .header("X-DeviceKey", mock.device_key())
        .header("X-LogType", mock.log_type())
        .header("X-StreamMode", "1")
        .header("Log-Size", "123")
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .header("User-Agent", "AWS-Lambda")
        .body(body)
}

/// Sends the request of [`upload`] with one header replaced (reqwest's `header` would add a second).
async fn upload_replacing(
    mock: &MockSite24x7,
    body: Vec<u8>,
    name: &'static str,
    value: &str,
) -> Result<reqwest::Response> {
    let mut req = upload(mock, body).build()?;
    req.headers_mut()
        .insert(name, reqwest::header::HeaderValue::from_str(value)?);
    Ok(reqwest::Client::new().execute(req).await?)
}

#[tokio::test]
async fn accepts_a_valid_upload_and_stores_its_records_in_order() -> Result<()> {
    let mock = MockSite24x7::builder()
        .device_key("k")
        .log_type("vpc")
        .start()
        .await?;
    let sent = records(3);
    let raw = serde_json::to_vec(&sent)?;
    let body = gzip(&raw)?;
    let gz_len = body.len() as u64;

    let resp = upload(&mock, body).send().await?;

    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("x-uploadid"));
    assert_eq!(Value::Array(mock.records()), sent);
    let stats = mock.stats();
    assert_eq!(
        stats,
        Stats {
            requests: 1,
            by_status: [(200, 1)].into(),
            records: 3,
            raw_bytes: raw.len() as u64,
            gzip_bytes: gz_len,
            log_size: 123,
            ..Stats::default()
        }
    );
    Ok(())
}

#[tokio::test]
async fn gives_every_accepted_upload_a_different_upload_id() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let resp = upload(&mock, gzip(b"[]")?).send().await?;
        ids.push(resp.headers().get("x-uploadid").cloned());
    }
    ids.dedup();
    assert_eq!(ids.len(), 3);
    assert!(ids.iter().all(Option::is_some));
    Ok(())
}

#[tokio::test]
async fn rejects_an_upload_with_an_unknown_device_key() -> Result<()> {
    let mock = MockSite24x7::builder().device_key("right").start().await?;
    let resp = upload_replacing(&mock, gzip(b"[]")?, "X-DeviceKey", "wrong").await?;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.headers().get("invalid_account").map(|v| v.as_bytes()),
        Some(&b"True"[..])
    );
    assert!(
        !resp.text().await?.contains("wrong"),
        "the key is a secret and is never echoed"
    );
    assert!(mock.records().is_empty());
    Ok(())
}

#[tokio::test]
async fn rejects_an_upload_with_an_unknown_log_type() -> Result<()> {
    let mock = MockSite24x7::builder().log_type("vpc").start().await?;
    let resp = upload_replacing(&mock, gzip(b"[]")?, "X-LogType", "apache").await?;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.headers().get("invalid_logtype").map(|v| v.as_bytes()),
        Some(&b"True"[..])
    );
    Ok(())
}

#[tokio::test]
async fn rejects_uploads_missing_any_required_header_with_a_clear_message() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    for name in [
        "X-DeviceKey",
        "X-LogType",
        "X-StreamMode",
        "Log-Size",
        "Content-Type",
        "Content-Encoding",
    ] {
        let mut req = upload(&mock, gzip(b"[]")?).build()?;
        req.headers_mut().remove(name);
        let resp = reqwest::Client::new().execute(req).await?;
        assert_eq!(resp.status(), 400, "{name}");
        assert!(
            resp.text()
                .await?
                .to_lowercase()
                .contains(&name.to_lowercase()),
            "{name}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn rejects_a_log_size_that_is_not_a_non_negative_integer() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    for bad in ["-1", "abc", "1.5", ""] {
        let resp = upload_replacing(&mock, gzip(b"[]")?, "Log-Size", bad).await?;
        assert_eq!(resp.status(), 400, "Log-Size {bad:?}");
        assert!(resp.text().await?.contains("Log-Size"), "{bad:?}");
    }
    Ok(())
}

#[tokio::test]
async fn rejects_a_wrong_content_type_or_encoding_as_unsupported_media() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    for (name, value) in [
        ("Content-Type", "text/plain"),
        ("Content-Encoding", "deflate"),
    ] {
        let resp = upload_replacing(&mock, gzip(b"[]")?, name, value).await?;
        assert_eq!(resp.status(), 415, "{name}: {value}");
        assert!(resp.text().await?.contains(name), "{name}");
    }
    Ok(())
}

#[tokio::test]
async fn rejects_bodies_that_are_not_a_gzip_json_array_of_site24x7_records() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "plain JSON",
            br#"[{"_zl_timestamp":1,"s247agentuid":"b"}]"#.to_vec(),
            "gzip",
        ),
        ("gzip of text", gzip(b"hello")?, "JSON"),
        ("an object", gzip(br#"{"_zl_timestamp":1}"#)?, "array"),
        ("a number record", gzip(b"[1]")?, "object"),
        (
            "no timestamp",
            gzip(br#"[{"s247agentuid":"b"}]"#)?,
            "_zl_timestamp",
        ),
        (
            "a float timestamp",
            gzip(br#"[{"_zl_timestamp":1.5,"s247agentuid":"b"}]"#)?,
            "_zl_timestamp",
        ),
        (
            "no agent uid",
            gzip(br#"[{"_zl_timestamp":"1700000000000"}]"#)?,
            "s247agentuid",
        ),
    ];
    for (what, body, expected) in cases {
        let resp = upload(&mock, body).send().await?;
        assert_eq!(resp.status(), 400, "{what}");
        let text = resp.text().await?;
        assert!(text.contains(expected), "{what}: {text}");
    }
    assert!(mock.records().is_empty());
    assert_eq!(mock.stats().by_status.get(&400), Some(&7));
    Ok(())
}

#[tokio::test]
async fn accepts_a_timestamp_sent_as_a_string_of_milliseconds_like_the_reference_lambda()
-> Result<()> {
    let mock = MockSite24x7::start().await?;
    let body = gzip(br#"[{"_zl_timestamp":"1700000000000","s247agentuid":"b"}]"#)?;
    let resp = upload(&mock, body).send().await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        mock.records(),
        vec![json!({"_zl_timestamp":"1700000000000","s247agentuid":"b"})]
    );
    Ok(())
}

#[tokio::test]
async fn answers_413_for_a_body_over_the_cap_compressed_or_not() -> Result<()> {
    let mock = MockSite24x7::builder().max_body_bytes(1000).start().await?;
    let raw = serde_json::to_vec(&records(100))?;
    assert!(raw.len() > 1000);

    let resp = upload(&mock, gzip(&raw)?).send().await?;
    assert_eq!(resp.status(), 413, "uncompressed size over the cap");
    assert!(resp.text().await?.contains("1000"));

    let noise: Vec<u8> = (0..3000_u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let resp = upload(&mock, noise).send().await?;
    assert_eq!(resp.status(), 413, "compressed size over the cap");
    assert!(mock.records().is_empty());
    Ok(())
}

#[tokio::test]
async fn serves_records_as_ndjson_and_stats_as_json_and_resets_both() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    upload(&mock, gzip(&serde_json::to_vec(&records(2))?)?)
        .send()
        .await?;
    let http = reqwest::Client::new();

    let ndjson = http
        .get(format!("{}/_emulator/records", mock.uri()))
        .send()
        .await?
        .text()
        .await?;
    let lines: Vec<Value> = ndjson
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    let stats: Value = http
        .get(format!("{}/_emulator/stats", mock.uri()))
        .send()
        .await?
        .json()
        .await?;
    let reset = http
        .post(format!("{}/_emulator/reset", mock.uri()))
        .send()
        .await?;

    assert_eq!(Value::Array(lines), records(2));
    assert_eq!(stats["records"], 2);
    assert_eq!(stats["requests"], 1);
    assert_eq!(stats["by_status"]["200"], 1);
    assert_eq!(reset.status(), 200);
    assert!(mock.records().is_empty());
    assert_eq!(mock.stats(), Stats::default());
    Ok(())
}

#[tokio::test]
async fn waits_for_records_without_polling_and_times_out_with_a_count() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    let waiter = mock.wait_for_records(2, Duration::from_secs(30));
    let sender = async {
        upload(&mock, gzip(&serde_json::to_vec(&records(2))?)?)
            .send()
            .await?;
        anyhow::Ok(())
    };
    let (got, sent) = tokio::join!(waiter, sender);
    sent?;
    assert_eq!(got?.len(), 2);

    let err = mock
        .wait_for_records(3, Duration::from_millis(10))
        .await
        .err();
    assert!(err.is_some_and(|e| e.to_string().contains("2 of 3")));
    Ok(())
}

#[tokio::test]
async fn stops_serving_when_the_handle_is_dropped() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    let url = mock.upload_url();
    drop(mock);
    tokio::task::yield_now().await;
    let mut refused = false;
    for _ in 0..50 {
        if reqwest::Client::new().post(&url).send().await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused);
    Ok(())
}

#[tokio::test]
async fn the_stats_json_keeps_its_shape() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    upload(&mock, gzip(&serde_json::to_vec(&records(2))?)?)
        .send()
        .await?;
    upload_replacing(&mock, gzip(b"[]")?, "X-LogType", "other").await?;

    let stats: Value = reqwest::get(format!("{}/_emulator/stats", mock.uri()))
        .await?
        .json()
        .await?;

    insta::assert_json_snapshot!("stats", stats, { ".gzip_bytes" => "[gzip-bytes]" });
    Ok(())
}

#[tokio::test]
async fn a_discarding_mock_answers_and_counts_uploads_without_keeping_records() -> Result<()> {
    let mock = MockSite24x7::builder().discard_bodies().start().await?;
    let body = gzip(&serde_json::to_vec(&records(3))?)?;
    let gz_len = body.len() as u64;

    let accepted = upload(&mock, body).send().await?;
    let not_gzip = upload(&mock, b"[{}]".to_vec()).send().await?;
    let wrong_key = upload_replacing(&mock, gzip(b"[]")?, "X-DeviceKey", "nope").await?;

    assert_eq!(accepted.status(), 200);
    assert!(accepted.headers().contains_key("x-uploadid"));
    assert_eq!(not_gzip.status(), 400);
    assert!(not_gzip.text().await?.contains("not gzip"));
    assert_eq!(wrong_key.status(), 400);
    assert!(mock.records().is_empty());
    let stats = mock.stats();
    assert_eq!(
        stats,
        Stats {
            requests: 3,
            by_status: [(200, 1), (400, 2)].into(),
            gzip_bytes: gz_len,
            log_size: 123,
            ..Stats::default()
        }
    );
    Ok(())
}
