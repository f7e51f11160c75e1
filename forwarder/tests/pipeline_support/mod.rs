//! Shared by the pipeline, lambda and CLI tests: an emulator with a bucket, a logTypeConfig
//! that matches its mock Site24x7, settings with tiny retry delays, flow-log objects.
#![allow(dead_code)]

use std::io::Write as _;
use std::time::Duration;

use flowlog_emulator::Emulator;
use flowlog_forwarder::source::S3Settings;
use flowlog_forwarder::{
    BatchLimits, Forwarder, LogTypeConfig, ObjectReport, Settings, StateLocation,
};
use tempfile::TempDir;

/// The bucket every test writes flow logs to.
pub const BUCKET: &str = "flow-logs";

/// The default format's header line.
pub const HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";

/// A testbed: the emulator with [`BUCKET`] (triggering the emulated Lambda) and a state dir.
pub struct Bed {
    /// The emulator.
    pub emu: Emulator,
    /// Local state directory (dead letters, progress).
    pub state: TempDir,
}

impl Bed {
    /// Starts the emulator and creates the bucket.
    pub async fn start() -> anyhow::Result<Self> {
        Self::with(Emulator::builder()).await
    }

    /// As [`Bed::start`] with a configured emulator.
    pub async fn with(builder: flowlog_emulator::EmulatorBuilder) -> anyhow::Result<Self> {
        let emu = builder.start().await?;
        emu.create_bucket_with_trigger(BUCKET).await?;
        Ok(Self {
            emu,
            state: tempfile::tempdir()?,
        })
    }

    /// The `logTypeConfig` JSON the mock accepts (or with another apiKey).
    pub fn config_json(&self, api_key: Option<&str>) -> String {
        let mut json: serde_json::Value =
            serde_json::from_str(include_str!("../../../fixtures/configs/site24x7-vpc.json"))
                .unwrap_or_default();
        json["apiKey"] = api_key.unwrap_or(self.emu.ingest().device_key()).into();
        json["logType"] = self.emu.ingest().log_type().into();
        json.to_string()
    }

    /// The config as the library takes it.
    pub fn config(&self, api_key: Option<&str>) -> anyhow::Result<LogTypeConfig> {
        Ok(LogTypeConfig::from_json_bytes(
            self.config_json(api_key).as_bytes(),
        )?)
    }

    /// Settings against this testbed: tiny retry delays, small batches, local state.
    pub fn settings(&self) -> Settings {
        let s3 = self.emu.s3_settings();
        let mut settings = Settings {
            upload_url: Some(self.emu.ingest().upload_url()),
            s3: S3Settings::testbed(self.emu.s3_uri(), &s3.access_key, &s3.secret_key),
            state: StateLocation::Local(self.state.path().to_owned()),
            batch: BatchLimits {
                max_records: 10,
                ..BatchLimits::default()
            },
            ..Settings::default()
        };
        settings.upload.retry.initial_backoff = Duration::from_millis(1);
        settings.upload.retry.max_backoff = Duration::from_millis(5);
        settings.upload.retry.max_attempts = 6;
        settings.upload.jitter_seed = Some(1);
        settings.s3_retry.initial_backoff = Duration::from_millis(1);
        settings.s3_retry.max_backoff = Duration::from_millis(5);
        settings
    }

    /// A forwarder with [`Bed::settings`] changed by `tweak`.
    pub async fn forwarder(&self, tweak: impl FnOnce(&mut Settings)) -> anyhow::Result<Forwarder> {
        let mut settings = self.settings();
        tweak(&mut settings);
        Ok(Forwarder::new(self.config(None)?, settings).await?)
    }

    /// Stores an object.
    pub async fn put(&self, key: &str, body: Vec<u8>) -> anyhow::Result<()> {
        self.emu
            .s3_client()
            .put_object()
            .bucket(BUCKET)
            .key(key)
            .body(body.into())
            .send()
            .await?;
        Ok(())
    }
}

/// A default-format flow log of `n` records (distinct source ports), header first.
pub fn flow_log(n: usize) -> String {
    let mut text = format!("{HEADER}\n");
    for i in 0..n {
        text.push_str(&format!(
            "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 {} 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n",
            10_000 + i
        ));
    }
    text
}

/// Gzip of `data`.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = gz.write_all(data);
    gz.finish().unwrap_or_default()
}

/// A flow-log key like the ones AWS writes.
pub fn key(name: &str) -> String {
    format!("AWSLogs/123456789010/vpcflowlogs/us-east-1/2026/11/25/{name}.log.gz")
}

/// Fails the test when the counts do not add up.
pub fn assert_balanced(report: &ObjectReport) {
    assert!(report.is_balanced(), "counts do not add up: {report}");
}

/// The `srcport` of every record received, sorted: duplicates show as repeats.
pub fn ports(records: &[serde_json::Value]) -> Vec<u64> {
    let mut ports: Vec<u64> = records
        .iter()
        .filter_map(|r| {
            r["srcport"]
                .as_str()
                .and_then(|p| p.parse().ok())
                .or_else(|| r["srcport"].as_u64())
        })
        .collect();
    ports.sort_unstable();
    ports
}

/// An S3 event notification (direct invocation) for `keys` in [`BUCKET`].
pub fn s3_event(keys: &[&str]) -> serde_json::Value {
    let records: Vec<serde_json::Value> = keys
        .iter()
        .map(|k| {
            let encoded: String = k
                .chars()
                .map(|c| match c {
                    ' ' => "+".to_owned(),
                    '/' => "%2F".to_owned(),
                    '=' => "%3D".to_owned(),
                    c => c.to_string(),
                })
                .collect();
            serde_json::json!({
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2026-11-25T06:00:00.000Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "bucket": {"name": BUCKET, "arn": format!("arn:aws:s3:::{BUCKET}")},
                    "object": {"key": encoded, "size": 1}
                }
            })
        })
        .collect();
    serde_json::json!({ "Records": records })
}

/// An SQS event: one message per `(message id, S3 event)`.
pub fn sqs_event(messages: &[(&str, serde_json::Value)]) -> serde_json::Value {
    let records: Vec<serde_json::Value> = messages
        .iter()
        .map(|(id, body)| {
            serde_json::json!({
                "messageId": id,
                "receiptHandle": "handle",
                "body": body.to_string(),
                "attributes": {},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:flow-log-events",
                "awsRegion": "us-east-1"
            })
        })
        .collect();
    serde_json::json!({ "Records": records })
}

/// A child process killed (by its own id) when dropped.
pub struct ChildGuard(pub std::process::Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Bed {
    /// The environment of a `flowlog-forwarder` process against this testbed: logTypeConfig,
    /// the testbed switches and tiny retry delays (no Lambda variables).
    pub fn forwarder_env(&self) -> Vec<(String, String)> {
        let s3 = self.emu.s3_settings();
        [
            (
                "logTypeConfig",
                flowlog_forwarder::config::encode_env_value(&self.config_json(None)),
            ),
            ("FLOWLOG_UPLOAD_URL", self.emu.ingest().upload_url()),
            ("FLOWLOG_S3_ENDPOINT_URL", self.emu.s3_uri()),
            ("FLOWLOG_UPLOAD_INITIAL_BACKOFF_MS", "1".to_owned()),
            ("FLOWLOG_UPLOAD_MAX_BACKOFF_MS", "5".to_owned()),
            ("AWS_ACCESS_KEY_ID", s3.access_key.clone()),
            ("AWS_SECRET_ACCESS_KEY", s3.secret_key.clone()),
            ("AWS_REGION", s3.region.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

/// `text` (a flow log with its header) as Parquet written by pyarrow, `rows` per row group
/// (fixtures/parquet/write_parquet.py from the virtualenv `make tools` sets up).
pub fn parquet(text: &str, rows: usize) -> anyhow::Result<Vec<u8>> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let venv = std::env::var_os("FLOWLOG_VENV")
        .map_or_else(|| root.join(".venv"), std::path::PathBuf::from);
    let dir = tempfile::tempdir()?;
    let (input, output) = (dir.path().join("in.log"), dir.path().join("out.parquet"));
    std::fs::write(&input, text)?;
    let status = std::process::Command::new(venv.join("bin/python"))
        .arg(root.join("fixtures/parquet/write_parquet.py"))
        .args([&input, &output])
        .args(["--row-group-size", &rows.to_string()])
        .status()
        .map_err(|e| anyhow::anyhow!("{e}: run `make tools` (pyarrow in .venv)"))?;
    anyhow::ensure!(status.success(), "write_parquet.py failed: {status}");
    Ok(std::fs::read(output)?)
}
