//! The mock's live page and the JSON it reads (`/_emulator/summary`, `timeline`, `top`,
//! `uploads`), over real HTTP: figures agree with `/_emulator/stats` and with the records sent.

use std::io::Write;

use anyhow::{Context, Result};
use flate2::{Compression, write::GzEncoder};
use flowlog_emulator::ingest::{Fault, MockSite24x7};
use serde_json::{Value, json};

fn gzip(bytes: &[u8]) -> Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes)?;
    Ok(enc.finish()?)
}

/// One flow-log record as the forwarder builds it (string values), at `minute` past 12:00.
fn flow(
    agent: &str,
    src: &str,
    dst: &str,
    port: u16,
    bytes: u64,
    action: &str,
    minute: u64,
) -> Value {
    json!({
        "srcaddr": src, "dstaddr": dst, "srcport": "40000", "dstport": port.to_string(),
        "protocol": "6", "packets": "3", "bytes": bytes.to_string(), "action": action,
        "log_status": "OK", "_zl_timestamp": 1_750_000_000_000_u64 / 3_600_000 * 3_600_000 + minute * 60_000,
        "s247agentuid": agent,
    })
}

async fn post(mock: &MockSite24x7, log_type: &str, records: &[Value]) -> Result<reqwest::Response> {
    let body = gzip(&serde_json::to_vec(records)?)?;
    Ok(reqwest::Client::new()
        .post(mock.upload_url())
        .header("X-DeviceKey", mock.device_key())
        .header("X-LogType", log_type)
        .header("X-StreamMode", "1")
        .header("Log-Size", "100")
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .header("User-Agent", "AWS-Lambda")
        .body(body)
        .send()
        .await?)
}

async fn get(mock: &MockSite24x7, path: &str) -> Result<Value> {
    let resp = reqwest::get(format!("{}{path}", mock.uri())).await?;
    anyhow::ensure!(resp.status() == 200, "{path}: {}", resp.status());
    Ok(resp.json().await?)
}

/// Two agents, two minutes, one heavy talker, rejects to 22 (3×) and 3389 (1×).
fn known_records() -> (Vec<Value>, Vec<Value>) {
    let a = vec![
        flow("bucket-a", "10.0.0.1", "10.0.0.2", 443, 5_000, "ACCEPT", 0),
        flow("bucket-a", "10.0.0.1", "10.0.0.2", 443, 7_000, "ACCEPT", 1),
        flow("bucket-a", "203.0.113.9", "10.0.0.2", 22, 60, "REJECT", 1),
        flow("bucket-a", "203.0.113.9", "10.0.0.3", 22, 60, "REJECT", 1),
    ];
    let b = vec![
        flow("bucket-b", "10.0.1.5", "10.0.0.2", 5432, 900, "ACCEPT", 0),
        flow("bucket-b", "198.51.100.4", "10.0.1.5", 22, 40, "REJECT", 0),
        flow(
            "bucket-b",
            "198.51.100.4",
            "10.0.1.5",
            3389,
            40,
            "REJECT",
            3,
        ),
        json!({"_zl_timestamp": "1749999600000", "s247agentuid": "bucket-b",
               "action": "-", "log_status": "NODATA", "srcaddr": "-", "bytes": "-"}),
    ];
    (a, b)
}

#[tokio::test]
async fn the_summary_counts_what_was_sent_and_agrees_with_stats() -> Result<()> {
    // Arrange
    let mock = MockSite24x7::start().await?;
    let (a, b) = known_records();
    mock.faults(vec![Fault::status(503).times(1)])?;

    // Act: a 503, then both uploads, then one refused for its log type.
    assert_eq!(post(&mock, mock.log_type(), &a).await?.status(), 503);
    assert_eq!(post(&mock, mock.log_type(), &a).await?.status(), 200);
    assert_eq!(post(&mock, mock.log_type(), &b).await?.status(), 200);
    assert_eq!(post(&mock, "apache_access", &b).await?.status(), 400);
    let summary = get(&mock, "/_emulator/summary").await?;
    let stats = get(&mock, "/_emulator/stats").await?;

    // Assert
    assert_eq!(
        summary["stats"], stats,
        "the page's totals are /_emulator/stats"
    );
    assert_eq!(summary["version"], 4);
    let records = &summary["records"];
    assert_eq!(records["records"], 8);
    assert_eq!(records["action"], json!({"ACCEPT": 3, "REJECT": 4, "-": 1}));
    assert_eq!(
        records["log_status"],
        json!({"OK": 7, "NODATA": 1, "SKIPDATA": 0, "-": 0})
    );
    assert_eq!(records["bytes"], 5_000 + 7_000 + 60 + 60 + 900 + 40 + 40);
    assert_eq!(records["packets"], 21);
    assert_eq!(summary["agents"], json!(["bucket-a", "bucket-b"]));
    assert_eq!(
        summary["log_types"],
        json!(["apache_access", "vpc_flow_logs"])
    );
    assert_eq!(
        summary["answers"],
        json!([
            {"answer": "200", "uploads": 2},
            {"answer": "400 refused", "uploads": 1},
            {"answer": "503 injected", "uploads": 1},
        ])
    );
    Ok(())
}

#[tokio::test]
async fn top_tables_rank_talkers_rejected_ports_and_protocols() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    let (a, b) = known_records();
    post(&mock, mock.log_type(), &a).await?;
    post(&mock, mock.log_type(), &b).await?;

    let top = get(&mock, "/_emulator/top?n=2").await?;

    assert_eq!(top["n"], 2);
    let top = &top["top"];
    assert_eq!(top["exact"], true);
    assert_eq!(
        top["talkers_by_bytes"],
        json!([
            {"src": "10.0.0.1", "dst": "10.0.0.2", "value": 12_000, "error": 0},
            {"src": "10.0.1.5", "dst": "10.0.0.2", "value": 900, "error": 0},
        ])
    );
    assert_eq!(top["talkers_by_packets"][0]["value"], 6);
    assert_eq!(
        top["rejected_ports"],
        json!([
            {"port": "22", "records": 3, "error": 0},
            {"port": "3389", "records": 1, "error": 0},
        ])
    );
    assert_eq!(
        top["protocols"],
        json!([{"protocol": "6", "name": "TCP", "records": 7, "error": 0}])
    );
    Ok(())
}

#[tokio::test]
async fn filters_select_one_agent_or_log_type() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    let (a, b) = known_records();
    post(&mock, mock.log_type(), &a).await?;
    post(&mock, mock.log_type(), &b).await?;

    let only_b = get(&mock, "/_emulator/summary?agent=bucket-b").await?;
    let top_a = get(&mock, "/_emulator/top?agent=bucket-a").await?;
    let other_type = get(&mock, "/_emulator/summary?log_type=apache_access").await?;
    let uploads_b = get(&mock, "/_emulator/uploads?agent=bucket-b").await?;
    let nobody = get(&mock, "/_emulator/timeline?agent=nobody").await?;

    assert_eq!(
        only_b["filter"],
        json!({"log_type": null, "agent": "bucket-b"})
    );
    assert_eq!(only_b["records"]["records"], 4);
    assert_eq!(only_b["stats"]["records"], 8, "stats stay the whole mock's");
    assert_eq!(
        top_a["top"]["rejected_ports"],
        json!([{"port": "22", "records": 2, "error": 0}])
    );
    assert_eq!(other_type["records"]["records"], 0);
    let seqs: Vec<&Value> = uploads_b["uploads"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|u| &u["seq"])
        .collect();
    assert_eq!(seqs, [&json!(2)]);
    assert_eq!(nobody["buckets"], json!([]));
    Ok(())
}

#[tokio::test]
async fn the_timeline_counts_records_on_their_own_timestamps() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    let (a, b) = known_records();
    post(&mock, mock.log_type(), &a).await?;
    post(&mock, mock.log_type(), &b).await?;

    let timeline = get(&mock, "/_emulator/timeline").await?;

    assert_eq!(timeline["bucket_ms"], 60_000);
    let buckets = timeline["buckets"].as_array().context("buckets")?;
    let hour = 1_750_000_000_000_u64 / 3_600_000 * 3_600_000;
    let starts: Vec<u64> = buckets
        .iter()
        .filter_map(|b| b["start_ms"].as_u64())
        .collect();
    assert_eq!(
        starts,
        [hour, hour + 60_000, hour + 120_000, hour + 180_000],
        "minutes 0 to 3, the empty minute 2 included"
    );
    // The NODATA record's timestamp is the string "1749999600000": minute 0.
    assert_eq!(hour, 1_749_999_600_000);
    assert_eq!(
        buckets[0]["action"],
        json!({"ACCEPT": 2, "REJECT": 1, "-": 1})
    );
    assert_eq!(
        buckets[1]["action"],
        json!({"ACCEPT": 1, "REJECT": 2, "-": 0})
    );
    assert_eq!(
        buckets[2]["action"],
        json!({"ACCEPT": 0, "REJECT": 0, "-": 0})
    );
    assert_eq!(buckets[0]["log_status"]["NODATA"], 1);
    Ok(())
}

#[tokio::test]
async fn the_uploads_list_shows_each_answer_newest_first() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    let (a, _) = known_records();
    mock.faults(vec![
        Fault::status(429)
            .retry_after(std::time::Duration::from_secs(2))
            .times(1),
        Fault::reset_connection().times(1),
        Fault::license_exceeded().times(1),
    ])?;
    for _ in 0..3 {
        let _ = post(&mock, mock.log_type(), &a).await;
    }
    let ok = post(&mock, mock.log_type(), &a).await?;
    let upload_id = ok
        .headers()
        .get("x-uploadid")
        .context("x-uploadid")?
        .to_str()?
        .to_owned();

    let list = get(&mock, "/_emulator/uploads?limit=10").await?;

    let uploads = list["uploads"].as_array().context("uploads")?;
    let rows: Vec<(u64, &str, &str)> = uploads
        .iter()
        .map(|u| {
            (
                u["seq"].as_u64().unwrap_or_default(),
                u["outcome"].as_str().unwrap_or_default(),
                u["answer"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let stored = format!("200, upload id {upload_id}");
    assert_eq!(
        rows,
        [
            (4, "accepted", stored.as_str()),
            (3, "fault", "400 log_license_exceeds=True (fault injected)"),
            (2, "fault", "connection reset (fault injected)"),
            (1, "fault", "429 (fault injected, Retry-After 2 s)"),
        ]
    );
    assert_eq!(uploads[0]["records"], 4);
    assert_eq!(uploads[0]["agents"], json!(["bucket-a"]));
    assert_eq!(uploads[0]["upload_id"], upload_id.as_str());
    assert_eq!(uploads[0]["log_size"], 100);
    assert_eq!(uploads[2]["status"], Value::Null, "a reset has no status");
    assert!(
        uploads[1]["gzip_bytes"].as_u64() > Some(0),
        "from Content-Length"
    );
    Ok(())
}

#[tokio::test]
async fn reset_clears_the_page_and_bumps_the_version() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    let (a, _) = known_records();
    post(&mock, mock.log_type(), &a).await?;

    let resp = reqwest::Client::new()
        .post(format!("{}/_emulator/reset", mock.uri()))
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    let summary = get(&mock, "/_emulator/summary").await?;
    let uploads = get(&mock, "/_emulator/uploads").await?;
    let top = get(&mock, "/_emulator/top").await?;

    assert_eq!(summary["version"], 2);
    assert_eq!(summary["records"]["records"], 0);
    assert_eq!(summary["agents"], json!([]));
    assert_eq!(uploads["uploads"], json!([]));
    assert_eq!(top["top"]["talkers_by_bytes"], json!([]));
    Ok(())
}

#[tokio::test]
async fn the_page_and_its_assets_are_served_from_the_binary() -> Result<()> {
    let mock = MockSite24x7::start().await?;

    let page = reqwest::get(mock.page_url()).await?;
    let csp = page
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let html = page.text().await?;

    assert!(
        csp.contains("default-src 'none'") && csp.contains("connect-src 'self'"),
        "{csp}"
    );
    assert!(
        html.contains("<script src=\"/assets/chart.umd.min.js\""),
        "{html}"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "no CDN, nothing remote"
    );
    for (path, needle) in [
        ("/assets/chart.umd.min.js", "Chart.js v4.6.1"),
        ("/assets/page.js", "/_emulator/summary"),
        ("/assets/page.css", ".cards"),
    ] {
        let resp = reqwest::get(format!("{}{path}", mock.uri())).await?;
        assert_eq!(resp.status(), 200, "{path}");
        assert!(resp.text().await?.contains(needle), "{path}");
    }
    Ok(())
}

#[tokio::test]
async fn a_bad_query_is_refused_with_the_parameter_named() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    for (path, needle) in [
        (
            "/_emulator/top?n=0",
            "`n` must be a whole number from 1 to 100",
        ),
        (
            "/_emulator/summary?agnet=x",
            "unknown query parameter `agnet` for /_emulator/summary: use log_type, agent",
        ),
        (
            "/_emulator/uploads?limit=lots",
            "`limit` must be a whole number from 1 to 500",
        ),
    ] {
        let resp = reqwest::get(format!("{}{path}", mock.uri())).await?;
        assert_eq!(resp.status(), 400, "{path}");
        let text = resp.text().await?;
        assert!(text.contains(needle), "{path}: {text}");
    }
    Ok(())
}

#[tokio::test]
async fn many_distinct_talkers_stay_bounded_and_the_heavy_one_stays_on_top() -> Result<()> {
    // More distinct pairs (24,000) than a top table holds (twice its 10,000): it is pruned, the figures flagged as
    // bounds, and the one heavy pair still first with a figure no lower than the truth.
    let mock = MockSite24x7::start().await?;
    for batch in 0..3_u32 {
        let records: Vec<Value> = (0..8_000_u32)
            .map(|i| {
                let n = batch * 8_000 + i;
                let src = format!("10.{}.{}.{}", n >> 16, (n >> 8) & 255, n & 255);
                flow("bucket-a", &src, "10.9.9.9", 443, 100, "ACCEPT", 0)
            })
            .chain((0..10).map(|_| {
                flow(
                    "bucket-a",
                    "192.0.2.1",
                    "10.9.9.9",
                    443,
                    1_000_000,
                    "ACCEPT",
                    0,
                )
            }))
            .collect();
        assert_eq!(post(&mock, mock.log_type(), &records).await?.status(), 200);
    }

    let top = get(&mock, "/_emulator/top?n=100").await?;

    let top = &top["top"];
    assert_eq!(top["exact"], false);
    assert_eq!(top["talkers_by_bytes"].as_array().map(Vec::len), Some(100));
    let first = &top["talkers_by_bytes"][0];
    assert_eq!(
        (&first["src"], &first["dst"]),
        (&json!("192.0.2.1"), &json!("10.9.9.9"))
    );
    let (value, error) = (first["value"].as_u64(), first["error"].as_u64());
    assert!(
        value >= Some(30_000_000) && value.zip(error).is_some_and(|(v, e)| v - e <= 30_000_000),
        "{first}"
    );
    Ok(())
}
