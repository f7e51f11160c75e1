//! Reading S3 objects as bounded-memory streams.
//!
//! [`build_client`] makes the one S3 client (testbed or real AWS, see
//! [`S3Settings`]); [`open_object`] sends GetObject with bounded retries and
//! returns an [`S3Object`]: the response's metadata plus the body, which is
//! never collected. The body becomes either an async byte stream
//! ([`S3Object::into_async_read`]) or, for the synchronous parser, a blocking
//! [`ObjectReader`] (`BufRead`, gzip decoded) to use inside
//! [`tokio::task::spawn_blocking`]:
//!
//! ```no_run
//! # async fn demo(client: aws_sdk_s3::Client) -> anyhow::Result<()> {
//! use flowlog_forwarder::source::{open_object, RetryPolicy};
//! use std::io::BufRead;
//! let object = open_object(&client, "bucket", "key.log.gz", &RetryPolicy::default()).await?;
//! let reader = object.into_blocking_reader();
//! let lines = tokio::task::spawn_blocking(move || reader.lines().count()).await?;
//! # Ok(()) }
//! ```

mod body;
mod client;
mod error;
mod ranges;
mod reader;
mod retry;

use std::time::SystemTime;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use tokio::io::{AsyncRead, AsyncReadExt};

pub use client::{ClientError, DEFAULT_TESTBED_REGION, S3Settings, build_client};
pub use error::{ReadError, SourceError};
pub use ranges::S3Ranges;
pub use reader::{ByteCounter, INPUT_BUFFER, OUTPUT_BUFFER, ObjectReader};
pub use retry::RetryPolicy;

use body::{CountingBody, ResumeWith};
use reader::{AsyncBody, Compression};

use crate::input::{FileFormat, Input};

/// What GetObject said about the object, for progress markers and accounting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// Bucket read.
    pub bucket: String,
    /// Key read (decoded).
    pub key: String,
    /// The ETag without its surrounding quotes (as S3 events spell it), if sent.
    pub etag: Option<String>,
    /// Stored size in bytes (`Content-Length`), if sent.
    pub size: Option<u64>,
    /// The S3 version read, when the bucket keeps versions (or the event named one).
    pub version_id: Option<String>,
    /// `Last-Modified`, if sent.
    pub last_modified: Option<SystemTime>,
    /// The file format the first bytes show (never the key's suffix).
    pub format: FileFormat,
    /// GetObject requests made, the successful one included (retries = attempts - 1).
    pub attempts: u32,
}

/// An opened object: metadata and a body not yet read.
pub struct S3Object {
    /// The response's metadata.
    pub meta: ObjectMeta,
    body: AsyncBody,
    counter: ByteCounter,
    handle: tokio::runtime::Handle,
    client: Client,
    policy: RetryPolicy,
}

impl std::fmt::Debug for S3Object {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Object")
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

impl S3Object {
    /// Counter of stored bytes received, shareable before the body is handed off.
    pub fn byte_counter(&self) -> ByteCounter {
        self.counter.clone()
    }

    /// The stored bytes as they are (still compressed), as an async stream.
    /// Errors carry [`ReadError::Body`] with the offset reached.
    pub fn into_async_read(self) -> impl AsyncRead + Send + Unpin {
        self.body
    }

    /// The decoded text as a blocking `BufRead`: move it into
    /// `spawn_blocking` (reading it on an async worker thread would block it).
    pub fn into_blocking_reader(self) -> ObjectReader {
        let compression = match self.meta.format {
            FileFormat::GzipText => Compression::Gzip,
            FileFormat::PlainText | FileFormat::Parquet => Compression::None,
        };
        ObjectReader::new(
            self.body,
            compression,
            self.handle,
            self.counter,
            self.meta.bucket,
            self.meta.key,
        )
    }

    /// The object for [`crate::input::read_object`], on a blocking thread: text as the
    /// decoded stream, Parquet by ranged GETs (the body already opened is dropped after its
    /// first bytes; each range is pinned to this version by `If-Match`).
    pub fn into_input(self) -> Input<ObjectReader> {
        if self.meta.format != FileFormat::Parquet {
            return Input::Stream(self.into_blocking_reader());
        }
        let ranges = S3Ranges {
            client: self.client,
            bucket: self.meta.bucket,
            key: self.meta.key,
            etag: self.meta.etag,
            version_id: self.meta.version_id,
            size: self.meta.size.unwrap_or(0),
            policy: self.policy,
            counter: self.counter,
            handle: self.handle,
        };
        Input::Ranges(std::sync::Arc::new(ranges))
    }
}

/// Sends GetObject for `bucket`/`key` (a decoded key) and returns the object
/// once its first bytes arrived, retrying throttling and transient failures
/// per `policy` (the SDK's own retries are off for this call so the count is
/// exact). A body that breaks mid-way is resumed from the byte reached with a
/// ranged GetObject carrying `If-Match: <ETag>` (same version or nothing), up
/// to `policy.max_attempts - 1` times per object; after that the reader fails
/// with [`ReadError::Body`].
///
/// # Errors
/// [`SourceError`] naming the object: missing key or bucket, denied access
/// (not retried), or the last failure once `policy.max_attempts` are spent.
pub async fn open_object(
    client: &Client,
    bucket: &str,
    key: &str,
    policy: &RetryPolicy,
) -> Result<S3Object, SourceError> {
    open_version(client, bucket, key, None, policy).await
}

/// As [`open_object`], for S3 version `version_id` of the object when given (what an event
/// of a versioned bucket names): that version is read, whatever is current by then, and so
/// are the ranges and resumed reads that follow.
///
/// # Errors
/// As [`open_object`]; a version that no longer exists is `NoSuchVersion` from S3.
#[tracing::instrument(skip(client, policy))]
pub async fn open_version(
    client: &Client,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    policy: &RetryPolicy,
) -> Result<S3Object, SourceError> {
    let max = policy.max_attempts.max(1);
    let mut attempt = 1;
    loop {
        let failure = match try_open(client, bucket, key, version_id, attempt, policy).await {
            Ok(object) => return Ok(object),
            Err(failure) => failure,
        };
        if !failure.retryable || attempt >= max {
            return Err(failure.error);
        }
        let wait = policy.backoff(attempt);
        tracing::warn!(bucket, key, attempt, ?wait, error = %failure.error, "GetObject retry");
        tokio::time::sleep(wait).await;
        attempt += 1;
    }
}

async fn try_open(
    client: &Client,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    attempt: u32,
    policy: &RetryPolicy,
) -> Result<S3Object, retry::Failure> {
    let output = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .set_version_id(version_id.map(str::to_owned))
        .customize()
        .config_override(
            aws_sdk_s3::config::Builder::default().retry_config(RetryConfig::disabled()),
        )
        .send()
        .await
        .map_err(|err| retry::classify(&err, bucket, key, attempt))?;
    let counter = ByteCounter::default();
    let resume = output.e_tag.as_deref().map(|etag| ResumeWith {
        client: client.clone(),
        etag: etag.trim_matches('"').to_owned(),
        version_id: version_id.map(str::to_owned),
        policy: *policy,
        resumes_left: policy.max_attempts.saturating_sub(1),
    });
    let mut body = CountingBody::new(
        Box::pin(output.body.into_async_read()),
        counter.clone(),
        bucket,
        key,
        resume,
    );
    let mut magic = [0u8; FileFormat::MAGIC_BYTES];
    let mut got = 0;
    while got < magic.len() {
        match body.read(&mut magic[got..]).await {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) => {
                return Err(retry::Failure {
                    retryable: true,
                    error: SourceError::Transport {
                        bucket: bucket.to_owned(),
                        key: key.to_owned(),
                        message: e.to_string(),
                        attempts: attempt,
                    },
                });
            }
        }
    }
    let format = FileFormat::detect(&magic[..got]);
    let prefix = std::io::Cursor::new(magic[..got].to_vec());
    let meta = ObjectMeta {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        etag: output.e_tag.map(|e| e.trim_matches('"').to_owned()),
        size: output.content_length.and_then(|n| u64::try_from(n).ok()),
        version_id: output
            .version_id
            .or_else(|| version_id.map(str::to_owned))
            .filter(|v| v != "null"),
        last_modified: output
            .last_modified
            .and_then(|t| SystemTime::try_from(t).ok()),
        format,
        attempts: attempt,
    };
    Ok(S3Object {
        meta,
        body: Box::pin(prefix.chain(body)),
        counter,
        handle: tokio::runtime::Handle::current(),
        client: client.clone(),
        policy: *policy,
    })
}
