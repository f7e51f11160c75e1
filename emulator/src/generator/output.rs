//! Where objects go: a directory tree of real keys (`DIR/<bucket>/<key>`) or PUTs to an S3
//! endpoint (the emulator, moto, or real S3).

use std::path::{Path, PathBuf};

use aws_sdk_s3::primitives::ByteStream;

use super::error::OutputError;
use super::service::FlowLogObject;

/// Writes `object` to `dir/<bucket>/<key>`, creating folders; returns the path.
///
/// # Errors
/// [`OutputError::Write`] naming the file.
pub fn write_to_dir(dir: &Path, object: &FlowLogObject) -> Result<PathBuf, OutputError> {
    let path = dir.join(&object.bucket).join(&object.key);
    let write = |p: &Path| -> std::io::Result<()> {
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(p, &object.body)
    };
    write(&path).map_err(|source| OutputError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// How to reach S3.
#[derive(Debug, Clone, Default)]
pub struct S3Target {
    /// An S3-compatible endpoint (path-style); `None` means real AWS with the default chain.
    pub endpoint_url: Option<String>,
    /// Region for signing.
    pub region: String,
    /// Static credentials for the endpoint (ignored for real AWS).
    pub access_key_id: String,
    /// Static secret for the endpoint (never logged).
    pub secret_access_key: String,
}

/// Builds an S3 client for `target`.
pub async fn s3_client(target: &S3Target) -> aws_sdk_s3::Client {
    let region = aws_sdk_s3::config::Region::new(target.region.clone());
    match &target.endpoint_url {
        Some(url) => {
            let credentials = aws_sdk_s3::config::Credentials::new(
                target.access_key_id.clone(),
                target.secret_access_key.clone(),
                None,
                None,
                "flowlog-generator",
            );
            let config = aws_sdk_s3::Config::builder()
                .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
                .region(region)
                .endpoint_url(url)
                .force_path_style(true)
                .credentials_provider(credentials)
                .build();
            aws_sdk_s3::Client::from_conf(config)
        }
        None => {
            let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .region(region)
                .load()
                .await;
            aws_sdk_s3::Client::new(&shared)
        }
    }
}

/// PUTs `object` under its bucket and key, as the flow-log service would.
///
/// # Errors
/// [`OutputError::Put`] with the SDK's message.
pub async fn put_object(
    client: &aws_sdk_s3::Client,
    object: &FlowLogObject,
) -> Result<(), OutputError> {
    client
        .put_object()
        .bucket(&object.bucket)
        .key(&object.key)
        .content_type(if object.body.starts_with(b"PAR1") {
            "application/octet-stream"
        } else {
            "application/x-gzip"
        })
        .body(ByteStream::from(object.body.clone()))
        .send()
        .await
        .map_err(|e| OutputError::Put {
            bucket: object.bucket.clone(),
            key: object.key.clone(),
            message: aws_sdk_s3::error::DisplayErrorContext(e).to_string(),
        })?;
    Ok(())
}
