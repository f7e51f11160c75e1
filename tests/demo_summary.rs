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
