//! `moto_server`: a second S3, written by others (PyPI `moto[server]`, installed by `make
//! tools`), started on a free loopback port for one test and killed when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::process::{ChildGuard, workspace_root};

/// Credentials moto accepts (any) and the region used with it.
pub const MOTO_ACCESS_KEY: &str = "testing";
/// See [`MOTO_ACCESS_KEY`].
pub const MOTO_SECRET_KEY: &str = "testing";
/// See [`MOTO_ACCESS_KEY`].
pub const MOTO_REGION: &str = "us-east-1";

/// A running `moto_server`.
#[derive(Debug)]
pub struct MotoServer {
    endpoint: String,
    child: ChildGuard,
}

/// The Python virtualenv holding the tools: `$FLOWLOG_VENV`, else `<workspace>/.venv`.
#[must_use]
pub fn venv_dir() -> PathBuf {
    std::env::var_os("FLOWLOG_VENV").map_or_else(|| workspace_root().join(".venv"), PathBuf::from)
}

impl MotoServer {
    /// Starts `moto_server -H 127.0.0.1 -p PORT` on a free port and waits until it answers.
    ///
    /// # Errors
    /// When moto is not installed ("run `make tools`"), or does not answer within 30 s.
    pub async fn start() -> anyhow::Result<Self> {
        let bin = venv_dir().join("bin/moto_server");
        if !bin.is_file() {
            bail!(
                "{} not found: run `make tools` (or set FLOWLOG_VENV to a virtualenv with moto[server])",
                bin.display()
            );
        }
        // Pick a free port, then release it for moto (a race with another process is possible
        // but harmless: the readiness check below would fail loudly).
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut command = Command::new(&bin);
        command.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        let mut child = ChildGuard::spawn("moto_server", command)?;
        let endpoint = format!("http://127.0.0.1:{port}");
        let http = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            if http
                .get(format!("{endpoint}/moto-api/"))
                .send()
                .await
                .is_ok()
            {
                return Ok(Self { endpoint, child });
            }
            if let Some(status) = child.try_status()? {
                bail!("moto_server exited with {status}\n{}", child.output());
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "moto_server did not answer on {endpoint}\n{}",
                    child.output()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// `http://127.0.0.1:PORT`, for `--endpoint-url`.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// An aws-sdk-s3 client for this server (path style, static test credentials).
    #[must_use]
    pub fn s3_client(&self) -> aws_sdk_s3::Client {
        let credentials = aws_sdk_s3::config::Credentials::new(
            MOTO_ACCESS_KEY,
            MOTO_SECRET_KEY,
            None,
            None,
            "moto",
        );
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new(MOTO_REGION))
            .endpoint_url(&self.endpoint)
            .force_path_style(true)
            .credentials_provider(credentials)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// moto's own log, for failure messages.
    #[must_use]
    pub fn output(&self) -> String {
        self.child.output()
    }

    /// Runs the AWS CLI (from the same virtualenv) against this server; returns its JSON
    /// output (`null` when it printed nothing).
    ///
    /// # Errors
    /// When the CLI is missing ("run `make tools`") or fails, with its stderr.
    pub async fn aws(&self, args: &[&str]) -> anyhow::Result<serde_json::Value> {
        let bin = venv_dir().join("bin/aws");
        if !bin.is_file() {
            bail!("{} not found: run `make tools`", bin.display());
        }
        let output = tokio::process::Command::new(&bin)
            .args([
                "--endpoint-url",
                &self.endpoint,
                "--region",
                MOTO_REGION,
                "--output",
                "json",
            ])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", MOTO_ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", MOTO_SECRET_KEY)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .await
            .with_context(|| format!("running {}", bin.display()))?;
        if !output.status.success() {
            bail!(
                "aws {}: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        if output.stdout.iter().all(u8::is_ascii_whitespace) {
            return Ok(serde_json::Value::Null);
        }
        Ok(serde_json::from_slice(&output.stdout)?)
    }

    /// Creates a bucket.
    ///
    /// # Errors
    /// With the SDK's message.
    pub async fn create_bucket(&self, bucket: &str) -> anyhow::Result<()> {
        self.s3_client()
            .create_bucket()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!(aws_sdk_s3::error::DisplayErrorContext(e).to_string()))
            .with_context(|| format!("creating bucket {bucket} in moto"))?;
        Ok(())
    }
}
