//! Starting `flowlog-forwarder` as a separate process against a testbed, and reading its
//! per-object accounting lines back.
//!
//! The child's environment is cleared first (no `AWS_*` or `logTypeConfig` leaks in from the
//! developer's shell; no instance-metadata lookups), then given exactly what the test says.

use std::collections::BTreeMap;
use std::process::Command;

use flowlog_forwarder::config::encode_env_value;
use serde_json::{Value, json};

use crate::process::{ChildGuard, forwarder_bin};

/// `logTypeConfig` as Site24x7 issues it (base64 JSON) for the mock's device key and log type:
/// the Site24x7 VPC profile (default-format regex; objects' headers take precedence),
/// `dateField` `start`.
#[must_use]
pub fn log_type_config(api_key: &str, log_type: &str) -> String {
    let regex = flowlog_forwarder::LogTypeConfig::builtin_vpc_regex();
    encode_env_value(
        &json!({
            "apiKey": api_key,
            "logType": log_type,
            "uploadDomain": "logc.site24x7.com",
            "regex": regex,
            "dateField": "start",
            "dateFormat": "unix",
            "timezone": "+0000",
        })
        .to_string(),
    )
}

/// A `flowlog-forwarder` invocation being assembled.
#[derive(Debug)]
pub struct ForwarderCommand {
    command: Command,
}

impl ForwarderCommand {
    /// The binary with `args`, an empty environment (plus `PATH`) and `logTypeConfig`.
    ///
    /// # Errors
    /// When the binary is missing or stale (see [`forwarder_bin`]).
    pub fn new<S: AsRef<std::ffi::OsStr>>(
        log_type_config: &str,
        args: &[S],
    ) -> anyhow::Result<Self> {
        let mut command = Command::new(forwarder_bin()?);
        command.env_clear().args(args);
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        command
            .env("logTypeConfig", log_type_config)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("RUST_BACKTRACE", "1");
        Ok(Self { command })
    }

    /// Static S3 credentials and region (for the emulator or moto).
    #[must_use]
    pub fn aws_credentials(mut self, access_key: &str, secret_key: &str, region: &str) -> Self {
        self.command
            .env("AWS_ACCESS_KEY_ID", access_key)
            .env("AWS_SECRET_ACCESS_KEY", secret_key)
            .env("AWS_REGION", region)
            .env("AWS_DEFAULT_REGION", region);
        self
    }

    /// Lambda mode against a Runtime API at `runtime_api` (`host:port`), with the variables
    /// Lambda sets, the testbed's S3 endpoint and upload URL, and short retry delays.
    #[must_use]
    pub fn lambda(mut self, runtime_api: &str, s3_endpoint: &str, upload_url: &str) -> Self {
        self.command
            .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
            .env("AWS_LAMBDA_FUNCTION_NAME", "flowlog-forwarder")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_LOG_LEVEL", "INFO")
            .env("FLOWLOG_S3_ENDPOINT_URL", s3_endpoint)
            .env("FLOWLOG_UPLOAD_URL", upload_url)
            .env("FLOWLOG_UPLOAD_INITIAL_BACKOFF_MS", "5")
            .env("FLOWLOG_UPLOAD_MAX_BACKOFF_MS", "200");
        self
    }

    /// One more environment variable.
    #[must_use]
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.command.env(key, value);
        self
    }

    /// Starts it.
    ///
    /// # Errors
    /// When it cannot be started.
    pub fn spawn(self) -> anyhow::Result<ChildGuard> {
        ChildGuard::spawn("flowlog-forwarder", self.command)
    }
}

/// Where a CLI run (`forward`, `backfill`, `replay`) reads and sends: an S3 endpoint with
/// static credentials, an upload URL, and a local state directory.
#[derive(Debug, Clone)]
pub struct CliTarget {
    /// `--endpoint-url`.
    pub endpoint: String,
    /// `--access-key`.
    pub access_key: String,
    /// `--secret-key`.
    pub secret_key: String,
    /// `--region`.
    pub region: String,
    /// `--upload-url`.
    pub upload_url: String,
    /// `--state-dir` (dead letters, progress markers).
    pub state_dir: std::path::PathBuf,
    /// `logTypeConfig` (environment).
    pub log_type_config: String,
}

impl CliTarget {
    /// `flowlog-forwarder SUBCOMMAND <testbed flags, quick retries> REST…`.
    ///
    /// # Errors
    /// When the binary is missing or stale.
    pub fn command(&self, subcommand: &str, rest: &[String]) -> anyhow::Result<ForwarderCommand> {
        let mut args: Vec<String> = [
            subcommand,
            "--endpoint-url",
            &self.endpoint,
            "--region",
            &self.region,
            "--access-key",
            &self.access_key,
            "--secret-key",
            &self.secret_key,
            "--upload-url",
            &self.upload_url,
            "--upload-backoff-ms",
            "5",
            "--upload-max-backoff-ms",
            "200",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        args.push("--state-dir".to_owned());
        args.push(self.state_dir.display().to_string());
        args.extend(rest.iter().cloned());
        ForwarderCommand::new(&self.log_type_config, &args)
    }

    /// Runs a subcommand to its end (at most 2 minutes); returns the finished child (its
    /// output stays readable) and whether it exited with 0.
    ///
    /// # Errors
    /// When it cannot start or does not finish.
    pub async fn run(
        &self,
        subcommand: &str,
        rest: &[String],
    ) -> anyhow::Result<(ChildGuard, bool)> {
        let mut child = self.command(subcommand, rest)?.spawn()?;
        let status = child.wait(std::time::Duration::from_secs(120)).await?;
        Ok((child, status.success()))
    }
}

/// One object's accounting line, from Lambda's JSON logs or the CLI's text summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountingLine {
    /// `s3://bucket/key`.
    pub object: String,
    /// `delivered`, `failed`, `empty`, …
    pub outcome: String,
    /// The counts and the error, as written (`lines`, `records_sent`/`sent`, `error`, …).
    pub fields: BTreeMap<String, String>,
}

impl AccountingLine {
    /// A count by name (`0` when absent).
    #[must_use]
    pub fn count(&self, name: &str) -> u64 {
        self.fields
            .get(name)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    /// The error text, when the object failed.
    #[must_use]
    pub fn error(&self) -> &str {
        self.fields.get("error").map_or("", String::as_str)
    }
}

/// Every accounting line in `log`: JSON lines whose message is `object accounting`, and text
/// lines `s3://bucket/key OUTCOME lines=… … [error="…"]`.
#[must_use]
pub fn accounting_lines(log: &str) -> Vec<AccountingLine> {
    log.lines().filter_map(accounting_line).collect()
}

fn accounting_line(line: &str) -> Option<AccountingLine> {
    if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(line) {
        let fields = map.get("fields").and_then(Value::as_object).unwrap_or(&map);
        if fields.get("message").and_then(Value::as_str) != Some("object accounting") {
            return None;
        }
        let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        let get = |k: &str| fields.get(k).map(text).unwrap_or_default();
        return Some(AccountingLine {
            object: format!("s3://{}/{}", get("bucket"), get("key")),
            outcome: get("outcome"),
            fields: fields.iter().map(|(k, v)| (k.clone(), text(v))).collect(),
        });
    }
    let line = line.trim_start();
    if !line.starts_with("s3://") {
        return None;
    }
    let counts_at = line.find(" lines=")?;
    let (head, tail) = line.split_at(counts_at);
    let (object, outcome) = head.rsplit_once(' ')?;
    let mut fields = BTreeMap::new();
    let (counts, error) = match tail.find(" error=\"") {
        Some(i) => (&tail[..i], Some(&tail[i + 8..])),
        None => (tail, None),
    };
    for pair in counts.split_whitespace() {
        if let Some((k, v)) = pair.split_once('=') {
            fields.insert(k.to_owned(), v.to_owned());
        }
    }
    if let Some(error) = error {
        fields.insert(
            "error".to_owned(),
            error.strip_suffix('"').unwrap_or(error).to_owned(),
        );
    }
    Some(AccountingLine {
        object: object.to_owned(),
        outcome: outcome.to_owned(),
        fields,
    })
}
