//! The external S3 conformance suite `s3s-e2e` against the `flowlog-emulator serve` binary:
//! every case passes except the STS one (the emulator has no STS).

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use anyhow::{Context as _, Result, bail, ensure};

/// Kills the server if the test fails before shutting it down.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn s3s_e2e() -> Result<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let tools =
        std::env::var_os("FLOWLOG_TOOLS").map_or_else(|| root.join(".tools"), PathBuf::from);
    let bin = tools.join("bin").join("s3s-e2e");
    if !bin.is_file() {
        bail!("s3s-e2e not found at {}: run `make tools`", bin.display());
    }
    Ok(bin)
}

#[test]
fn s3s_e2e_passes_every_case_but_sts_against_flowlog_emulator_serve() -> Result<()> {
    let e2e = s3s_e2e()?;
    let mut server = Server(
        Command::new(env!("CARGO_BIN_EXE_flowlog-emulator"))
            .args([
                "serve",
                "--access-key",
                "conformance",
                "--secret-key",
                "conformance-secret",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting flowlog-emulator serve")?,
    );
    let stdout = server.0.stdout.take().context("server stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addresses: serde_json::Value =
        serde_json::from_str(&line).with_context(|| format!("address line {line:?}"))?;
    let endpoint = addresses
        .get("s3")
        .and_then(|v| v.as_str())
        .context("s3 address")?;

    let out = Command::new(e2e)
        .args([
            "--filter",
            "^Basic/",
            "--filter",
            "^Advanced/(Multipart|Tagging|ListPagination|PresignedUrl)/",
        ])
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "conformance")
        .env("AWS_SECRET_ACCESS_KEY", "conformance-secret")
        .env("AWS_REGION", "us-east-1")
        .env_remove("AWS_PROFILE")
        .output()
        .context("running s3s-e2e")?;
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    ensure!(out.status.success(), "s3s-e2e failed:\n{report}");
    let passed = report
        .lines()
        .filter(|l| l.trim_start().starts_with("PASSED") && l.contains("/test_"))
        .count();
    assert_eq!(
        passed, 17,
        "every case except STS runs and passes:\n{report}"
    );
    assert!(
        !report.contains("test_assume_role"),
        "the STS case is filtered out"
    );

    let pid = server.0.id().to_string();
    let term = Command::new("kill").args(["-TERM", &pid]).status()?;
    ensure!(term.success(), "could not signal the server");
    let status = server.0.wait()?;
    assert!(status.success(), "serve exits cleanly on SIGTERM: {status}");
    Ok(())
}
