//! The `flowlog-forwarder parse` binary: NDJSON on stdout, one summary line on stderr.

mod common;

use std::io::Write as _;
use std::process::{Command, Stdio};

use common::{fixture, gzip, read_fixture};

fn parse_cmd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_flowlog-forwarder"));
    cmd.env_remove("logTypeConfig").arg("parse");
    cmd
}

#[test]
fn parse_prints_one_record_per_data_line_and_a_summary() -> anyhow::Result<()> {
    let output = parse_cmd()
        .args(["--bucket", "my-flow-logs"])
        .arg(fixture("samples/custom-v5.log"))
        .output()?;
    let stdout = String::from_utf8(output.stdout)?;
    let stderr = String::from_utf8(output.stderr)?;
    assert!(output.status.success(), "{stderr}");
    assert_eq!(stdout.lines().count(), 2);
    for line in stdout.lines() {
        let record: serde_json::Value = serde_json::from_str(line)?;
        assert_eq!(record["s247agentuid"], "my-flow-logs");
    }
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("lines=3 header=1 records=2 filtered=0 unparsable=0"),
        "{stderr}"
    );
    Ok(())
}

#[test]
fn parse_no_compress_prints_the_same_records_without_gzip_bytes() -> anyhow::Result<()> {
    let run = |extra: &[&str]| {
        parse_cmd()
            .args(extra)
            .arg(fixture("samples/default-v2.log"))
            .output()
    };
    let compressed = run(&[])?;
    let plain = run(&["--no-compress"])?;
    let stderr = String::from_utf8(plain.stderr)?;
    assert!(plain.status.success(), "{stderr}");
    assert_eq!(plain.stdout, compressed.stdout);
    assert!(String::from_utf8(compressed.stderr)?.contains(" gzip_bytes="));
    assert!(!stderr.contains("gzip_bytes"), "{stderr}");
    assert!(stderr.contains(" json_bytes="), "{stderr}");
    Ok(())
}

#[test]
fn parse_reads_gzip_from_stdin_with_a_config_from_the_environment() -> anyhow::Result<()> {
    let encoded = std::fs::read_to_string(fixture("configs/site24x7-vpc.b64"))?;
    let mut child = parse_cmd()
        .env("logTypeConfig", encoded.trim())
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let input = gzip(&read_fixture("samples/default-v2.log")?)?;
    child
        .stdin
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdin"))?
        .write_all(&input)?;
    let output = child.wait_with_output()?;
    let stderr = String::from_utf8(output.stderr)?;
    assert!(output.status.success(), "{stderr}");
    assert_eq!(String::from_utf8(output.stdout)?.lines().count(), 7);
    assert!(stderr.contains("records=7"), "{stderr}");
    Ok(())
}

#[test]
fn parse_with_a_bad_config_fails_with_the_key_named_and_no_records() -> anyhow::Result<()> {
    let output = parse_cmd()
        .arg("--config")
        .arg(fixture("bad/unknown-dateformat.json"))
        .arg(fixture("samples/default-v2.log"))
        .output()?;
    let stderr = String::from_utf8(output.stderr)?;
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(output.stdout.is_empty());
    assert!(
        stderr.contains("dateFormat") && !stderr.contains("ab12cd34"),
        "{stderr}"
    );
    Ok(())
}

#[test]
fn parse_exits_non_zero_when_lines_are_unparsable() -> anyhow::Result<()> {
    let output = parse_cmd()
        .arg(fixture("bad/too-few-fields.log"))
        .output()?;
    let stderr = String::from_utf8(output.stderr)?;
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("unparsable_lines=[2: 13 fields where the format has 14]"),
        "{stderr}"
    );
    Ok(())
}

/// Runs `parse --config FILE` on a sample and returns (exit code, stderr).
fn parse_with_config(config: &std::path::Path) -> anyhow::Result<(Option<i32>, String)> {
    let output = parse_cmd()
        .arg("--config")
        .arg(config)
        .arg(fixture("samples/default-v2.log"))
        .output()?;
    Ok((output.status.code(), String::from_utf8(output.stderr)?))
}

#[test]
fn a_config_error_is_printed_once() -> anyhow::Result<()> {
    for (path, phrase) in [
        ("bad/bad-regex.json", "does not compile"),
        ("bad/unknown-dateformat.json", "unknown dateFormat"),
    ] {
        let (code, stderr) = parse_with_config(&fixture(path))?;
        assert_eq!(code, Some(2), "{stderr}");
        assert_eq!(stderr.matches(phrase).count(), 1, "{path}: {stderr}");
    }
    Ok(())
}

#[test]
fn a_config_file_that_is_an_array_is_not_called_base64() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("config.json");
    std::fs::write(&path, "[{\"apiKey\":\"k\"}]")?;

    let (code, stderr) = parse_with_config(&path)?;

    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("JSON but not an object"), "{stderr}");
    assert!(!stderr.contains("base64"), "{stderr}");
    Ok(())
}

#[test]
fn an_endless_config_file_is_refused_at_the_size_limit() -> anyhow::Result<()> {
    let (code, stderr) = parse_with_config(std::path::Path::new("/dev/zero"))?;

    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("/dev/zero"), "{stderr}");
    assert!(stderr.contains("larger than 1 MiB"), "{stderr}");
    Ok(())
}

#[test]
fn forward_refuses_an_object_key_s3_cannot_hold_before_any_request() -> anyhow::Result<()> {
    let config = std::fs::read_to_string(fixture("configs/site24x7-vpc.b64"))?;
    for (url, needle) in [
        (
            format!("s3://flow-logs/{}", "k".repeat(64 * 1024)),
            "65536 bytes long",
        ),
        (
            format!("s3://{}/key", "b".repeat(1 << 16)),
            "65536 characters long",
        ),
        ("s3://flow-logs/".to_owned(), "s3://BUCKET/KEY"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_flowlog-forwarder"))
            .env_clear()
            .env("logTypeConfig", config.trim())
            .args(["forward", "--endpoint-url", "http://127.0.0.1:9"])
            .args(["--access-key", "a", "--secret-key", "b", &url])
            .output()?;
        let stderr = String::from_utf8(output.stderr)?;
        assert_eq!(
            output.status.code(),
            Some(2),
            "{needle}: {}",
            &stderr[..stderr.len().min(500)]
        );
        assert!(stderr.contains(needle), "{needle}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(stderr.len() < 2048, "{} bytes of stderr", stderr.len());
    }
    Ok(())
}
