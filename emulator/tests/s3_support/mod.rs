//! Shared by the aws-sdk-s3 test files: both checksum modes and a client for each.

use anyhow::Result;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::RequestChecksumCalculation;
use flowlog_emulator::Emulator;

/// The SDK's two request-checksum modes: every upload path is tested in both.
pub const MODES: [RequestChecksumCalculation; 2] = [
    RequestChecksumCalculation::WhenSupported,
    RequestChecksumCalculation::WhenRequired,
];

/// A short name for a mode, for assertion messages.
pub fn mode_name(mode: &RequestChecksumCalculation) -> &'static str {
    if *mode == RequestChecksumCalculation::WhenRequired {
        "when-required"
    } else {
        "default"
    }
}

/// A client for the emulated S3 in the given checksum mode.
pub fn client(emulator: &Emulator, mode: &RequestChecksumCalculation) -> Client {
    Client::from_conf(
        emulator
            .s3_config()
            .request_checksum_calculation(*mode)
            .build(),
    )
}

/// The whole body of an object.
pub async fn body_of(s3: &Client, bucket: &str, key: &str) -> Result<Vec<u8>> {
    let out = s3.get_object().bucket(bucket).key(key).send().await?;
    Ok(out.body.collect().await?.to_vec())
}
