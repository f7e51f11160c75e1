//! `flowlog-forwarder demo`: the one-command tour runs offline, matches, and prints the same
//! table every time (numbers redacted: they depend on speed and on the seed's traffic).

use std::process::Command;
use std::time::Duration;

use flowlog_e2e::{ChildGuard, forwarder_bin};

/// The summary with every number and digest replaced (names such as `S3` kept) and column
/// padding collapsed, so the snapshot holds the shape only.
fn redact(summary: &str) -> anyhow::Result<String> {
    let digest = regex::Regex::new(r"\b[0-9a-f]{16}\b")?;
    let number = regex::Regex::new(r"(^|[^A-Za-z0-9])\d+(\.\d+)?")?;
    let padding = regex::Regex::new(r" {2,}")?;
    let text = digest.replace_all(summary, "[digest]");
    let text = number.replace_all(&text, "${1}[n]");
    Ok(padding.replace_all(&text, " | ").into_owned())
}

#[tokio::test]
async fn the_demo_receives_every_generated_record_and_prints_a_summary() -> anyhow::Result<()> {
    // Arrange
    let mut command = Command::new(forwarder_bin()?);
    command.args([
        "demo",
        "--duration",
        "5m",
        "--speedup",
        "1200",
        "--seed",
        "3",
        "--quiet",
    ]);

    // Act
    let mut demo = ChildGuard::spawn("flowlog-forwarder demo", command)?;
    let status = demo.wait(Duration::from_secs(120)).await?;

    // Assert
    let stdout = demo.stdout();
    assert!(status.success(), "{}", demo.output());
    assert!(stdout.contains("result: OK"), "{stdout}");
    insta::assert_snapshot!(redact(&stdout)?);
    Ok(())
}

#[tokio::test]
async fn the_demo_exits_non_zero_when_records_do_not_arrive() -> anyhow::Result<()> {
    // Arrange: the mock answers every upload with 503, so every batch ends as a dead letter.
    let mut command = Command::new(forwarder_bin()?);
    command.args([
        "demo",
        "--duration",
        "5m",
        "--speedup",
        "1200",
        "--fault-rate",
        "1",
        "--quiet",
    ]);

    // Act
    let mut demo = ChildGuard::spawn("flowlog-forwarder demo", command)?;
    let status = demo.wait(Duration::from_secs(120)).await?;

    // Assert
    let stdout = demo.stdout();
    assert_eq!(status.code(), Some(1), "{}", demo.output());
    assert!(stdout.contains("result: MISMATCH"), "{stdout}");
    assert!(stdout.contains("<-- differs"), "{stdout}");
    assert!(stdout.contains("failed: "), "{stdout}");
    Ok(())
}

#[tokio::test]
async fn the_demo_prints_its_live_page_and_with_serve_keeps_it_up_until_interrupted()
-> anyhow::Result<()> {
    // Arrange
    let mut command = Command::new(forwarder_bin()?);
    command.args([
        "demo",
        "--duration",
        "5m",
        "--speedup",
        "1200",
        "--quiet",
        "--serve",
    ]);

    // Act: wait for the summary (the process then keeps serving).
    let mut demo = ChildGuard::spawn("flowlog-forwarder demo --serve", command)?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while !demo.stderr().contains("serving until Ctrl-C") {
        anyhow::ensure!(
            demo.try_status()?.is_none() && tokio::time::Instant::now() < deadline,
            "the demo did not reach serving\n{}",
            demo.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stderr = demo.stderr();
    let page = stderr
        .lines()
        .find_map(|l| l.strip_prefix("live page: "))
        .and_then(|l| l.split_whitespace().next())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no live page address\n{stderr}"))?;
    let html = reqwest::get(&page).await?.text().await?;
    let summary: serde_json::Value = reqwest::get(format!("{page}_emulator/summary"))
        .await?
        .json()
        .await?;
    let interrupted = Command::new("kill")
        .args(["-INT", &demo.id().unwrap_or_default().to_string()])
        .status()?;
    let status = demo.wait(Duration::from_secs(30)).await?;

    // Assert
    assert!(
        stderr.starts_with("live page: http://127.0.0.1:"),
        "the address comes first: {stderr}"
    );
    assert!(html.contains("Mock Site24x7"), "{html}");
    let records = summary["records"]["records"].to_string();
    let received = demo
        .stdout()
        .lines()
        .find(|l| l.starts_with("records "))
        .map(|l| l.split_whitespace().last().unwrap_or_default().to_owned());
    assert_eq!(
        Some(records),
        received,
        "the page counts what the summary received"
    );
    assert!(interrupted.success());
    assert!(status.success(), "{}", demo.output());
    Ok(())
}
