//! Shared set-up for the upload-client tests: a recording sleeper, a batch,
//! a client pointed at a loopback server.
#![allow(dead_code, reason = "each test file uses a subset of these helpers")]

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use flowlog_forwarder::batch::UploadBatch;
use flowlog_forwarder::secret::Secret;
use flowlog_forwarder::upload::{
    RetryPolicy, Sleeper, UploadClient, UploadError, UploadSettings, UploadTarget,
};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const API_KEY: &str = "ab12cd34ef56-device-key";
pub const LOG_TYPE: &str = "vpc_flow_logs";

/// Records each requested wait and returns at once.
#[derive(Debug, Default)]
pub struct RecordingSleeper(Mutex<Vec<Duration>>);

impl RecordingSleeper {
    pub fn waits(&self) -> Vec<Duration> {
        self.0.lock().map(|w| w.clone()).unwrap_or_default()
    }
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, delay: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        if let Ok(mut waits) = self.0.lock() {
            waits.push(delay);
        }
        Box::pin(std::future::ready(()))
    }
}

pub fn batch() -> anyhow::Result<UploadBatch> {
    let json = br#"[{"srcaddr":"10.0.0.1","s247agentuid":"flow-log-bucket"}]"#;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json)?;
    Ok(UploadBatch {
        body: Bytes::from(gz.finish()?),
        log_size: 42,
        records: 1,
        json_bytes: json.len(),
    })
}

pub struct Setup {
    pub client: UploadClient,
    pub sleeper: Arc<RecordingSleeper>,
}

pub fn setup(url: String, settings: UploadSettings) -> anyhow::Result<Setup> {
    let target = UploadTarget {
        url,
        api_key: Secret::new(API_KEY),
        log_type: LOG_TYPE.into(),
    };
    let sleeper = Arc::new(RecordingSleeper::default());
    let client = UploadClient::new(target, &settings)?.with_sleeper(sleeper.clone());
    Ok(Setup { client, sleeper })
}

pub fn settings(max_attempts: u32) -> UploadSettings {
    UploadSettings {
        retry: RetryPolicy {
            max_attempts,
            ..RetryPolicy::default()
        },
        jitter_seed: Some(7),
        ..UploadSettings::default()
    }
}

pub fn accepted(upload_id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).insert_header("x-uploadid", upload_id)
}

/// Answers the first `times` POSTs with `first`, then accepts with `upload_id`:
/// the server every retry-then-deliver test needs.
pub async fn respond_then_accept(
    server: &MockServer,
    first: ResponseTemplate,
    times: u64,
    upload_id: &str,
) {
    Mock::given(method("POST"))
        .respond_with(first)
        .up_to_n_times(times)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .respond_with(accepted(upload_id))
        .mount(server)
        .await;
}

pub async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

pub fn assert_no_secret(error: &UploadError) {
    let text = format!("{error} {error:?}");
    assert!(!text.contains(API_KEY), "the apiKey leaked: {text}");
}
