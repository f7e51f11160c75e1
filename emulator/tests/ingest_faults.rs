//! Every fault rule of the mock Site24x7, in Rust and over `POST /_emulator/faults`.

use std::io::Write;
use std::time::Duration;

use anyhow::Result;
use flate2::{Compression, write::GzEncoder};
use flowlog_emulator::ingest::{Fault, MockSite24x7};
use serde_json::json;

fn one_record() -> Result<Vec<u8>> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(br#"[{"_zl_timestamp":1700000000000,"s247agentuid":"bucket"}]"#)?;
    Ok(enc.finish()?)
}

async fn send(mock: &MockSite24x7) -> Result<reqwest::Response> {
    send_with(&reqwest::Client::new(), mock).await
}

async fn send_with(client: &reqwest::Client, mock: &MockSite24x7) -> Result<reqwest::Response> {
    Ok(client
        .post(mock.upload_url())
        .header("X-DeviceKey", mock.device_key())
        .header("X-LogType", mock.log_type())
        .header("X-StreamMode", "1")
        .header("Log-Size", "10")
        .header("Content-Type", "application/json")
        .header("Content-Encoding", "gzip")
        .header("User-Agent", "AWS-Lambda")
        .body(one_record()?)
        .send()
        .await?)
}

async fn statuses(mock: &MockSite24x7, n: usize) -> Result<Vec<u16>> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(send(mock).await?.status().as_u16());
    }
    Ok(out)
}

#[tokio::test]
async fn a_status_fault_answers_that_status_the_given_number_of_times_and_stores_nothing()
-> Result<()> {
    let mock = MockSite24x7::start().await?;
    mock.faults(vec![Fault::status(503).times(3)])?;

    let got = statuses(&mock, 4).await?;

    assert_eq!(got, [503, 503, 503, 200]);
    assert_eq!(
        mock.records().len(),
        1,
        "only the unfaulted upload is stored"
    );
    let stats = mock.stats();
    assert_eq!((stats.requests, stats.by_status.get(&503)), (4, Some(&3)));
    Ok(())
}

#[tokio::test]
async fn a_throttle_fault_sends_retry_after() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    mock.faults(vec![
        Fault::status(429)
            .retry_after(Duration::from_secs(1))
            .times(2),
    ])?;

    let first = send(&mock).await?;
    let second = send(&mock).await?;
    let third = send(&mock).await?;

    for resp in [&first, &second] {
        assert_eq!(resp.status(), 429);
        assert_eq!(
            resp.headers().get("retry-after").map(|v| v.as_bytes()),
            Some(&b"1"[..])
        );
    }
    assert_eq!(third.status(), 200);
    Ok(())
}

#[tokio::test]
async fn a_probabilistic_fault_with_a_seed_repeats_exactly() -> Result<()> {
    let rule = || vec![Fault::status(500).probability(0.3).seed(7)];
    let a = MockSite24x7::start().await?;
    let b = MockSite24x7::start().await?;
    a.faults(rule())?;
    b.faults(rule())?;

    let from_a = statuses(&a, 40).await?;
    let from_b = statuses(&b, 40).await?;

    assert_eq!(from_a, from_b);
    let failures = from_a.iter().filter(|&&s| s == 500).count();
    assert!(
        (1..40).contains(&failures),
        "some but not all fail: {from_a:?}"
    );
    assert_eq!(a.records().len(), 40 - failures);
    Ok(())
}

#[tokio::test]
async fn a_delay_fault_holds_the_response_back() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    mock.faults(vec![Fault::delay(Duration::from_secs(600)).times(1)])?;
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()?;

    let delayed = send_with(&impatient, &mock).await;
    let next = send_with(&impatient, &mock).await?;

    assert!(delayed.is_err_and(|e| e.chain().any(|c| {
        c.downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_timeout)
    })));
    assert_eq!(next.status(), 200, "the rule applied once");
    Ok(())
}

#[tokio::test]
async fn a_delay_alone_then_processes_the_upload_normally() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    mock.faults(vec![Fault::delay(Duration::from_millis(20)).times(1)])?;

    let resp = send(&mock).await?;

    assert_eq!(resp.status(), 200);
    assert_eq!(mock.records().len(), 1);
    Ok(())
}

#[tokio::test]
async fn a_reset_fault_drops_the_connection_without_a_response() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    mock.faults(vec![Fault::reset_connection().times(1)])?;

    let reset = send(&mock).await;
    let next = send(&mock).await?;

    let err = reset.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        !err.is_empty(),
        "the client must see an error, not a response"
    );
    assert_eq!(next.status(), 200);
    assert_eq!(mock.records().len(), 1);
    assert_eq!(mock.stats().connection_resets, 1);
    Ok(())
}

#[tokio::test]
async fn a_license_fault_answers_like_site24x7_with_the_flag_header() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    mock.faults(vec![Fault::license_exceeded().times(1)])?;

    let resp = send(&mock).await?;

    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.headers()
            .get("log_license_exceeds")
            .map(|v| v.as_bytes()),
        Some(&b"True"[..])
    );
    assert!(mock.records().is_empty());
    Ok(())
}

#[tokio::test]
async fn faults_posted_as_json_behave_like_the_rust_api_and_can_be_deleted() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    let http = reqwest::Client::new();
    let url = format!("{}/_emulator/faults", mock.uri());

    let set = http
        .post(&url)
        .json(&json!([{"status":503,"times":1},{"status":429,"retry_after_s":2,"times":1}]))
        .send()
        .await?;
    let got = statuses(&mock, 3).await?;
    http.post(&url)
        .json(&json!([{"status":500}]))
        .send()
        .await?;
    let deleted = http.delete(&url).send().await?;
    let after = statuses(&mock, 1).await?;

    assert_eq!(set.status(), 200);
    assert_eq!(got, [503, 429, 200]);
    assert_eq!(deleted.status(), 200);
    assert_eq!(after, [200]);
    Ok(())
}

#[tokio::test]
async fn contradictory_or_unknown_fault_rules_are_refused_with_a_reason() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    let http = reqwest::Client::new();
    let url = format!("{}/_emulator/faults", mock.uri());

    for bad in [
        json!([{"status":503,"reset_connection":true}]),
        json!([{"status":503,"probability":2.0}]),
        json!([{"stauts":503}]),
        json!({"status":503}),
        json!([{}]),
    ] {
        let resp = http.post(&url).json(&bad).send().await?;
        assert_eq!(resp.status(), 400, "{bad}");
        assert!(!resp.text().await?.is_empty(), "{bad}");
    }
    assert!(mock.faults(vec![Fault::status(99)]).is_err());
    assert_eq!(statuses(&mock, 1).await?, [200], "nothing was installed");
    Ok(())
}

#[tokio::test]
async fn clear_faults_in_rust_stops_an_unlimited_rule() -> Result<()> {
    let mock = MockSite24x7::start().await?;
    mock.faults(vec![Fault::status(502)])?;
    let before = statuses(&mock, 2).await?;
    mock.clear_faults();
    let after = statuses(&mock, 1).await?;
    assert_eq!((before, after), (vec![502, 502], vec![200]));
    Ok(())
}
