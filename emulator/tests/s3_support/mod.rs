//! Shared by the aws-sdk-s3 test files: both checksum modes and a client for each.
//!
//! Each test file uses a subset of these helpers.
#![allow(dead_code)]

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

/// The HTTP status and S3 error code of a failed call (`None`s for a success).
pub fn failure<T, E>(
    result: &Result<T, aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
) -> (Option<u16>, Option<String>)
where
    E: aws_sdk_s3::error::ProvideErrorMetadata,
{
    match result {
        Ok(_) => (None, None),
        Err(e) => (
            e.raw_response().map(|r| r.status().as_u16()),
            aws_sdk_s3::error::ProvideErrorMetadata::code(e).map(str::to_owned),
        ),
    }
}

/// A response header of a failed call (e.g. `x-amz-delete-marker` on a 404).
pub fn failure_header<T, E>(
    result: &Result<T, aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
    name: &str,
) -> Option<String> {
    result
        .as_ref()
        .err()
        .and_then(|e| e.raw_response())
        .and_then(|r| r.headers().get(name))
        .map(str::to_owned)
}

/// Puts a small object and returns the version id S3 answered with.
pub async fn put(
    s3: &Client,
    bucket: &str,
    key: &str,
    body: &'static [u8],
) -> Result<Option<String>> {
    let out = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(aws_sdk_s3::primitives::ByteStream::from_static(body))
        .send()
        .await?;
    Ok(out.version_id().map(str::to_owned))
}
