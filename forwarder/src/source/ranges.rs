//! An S3 object read by ranged GETs: how a Parquet object is read (footer first, then one row
//! group at a time), each request pinned to the version first read by `If-Match`.

use std::io;

use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::RetryConfig;
use bytes::Bytes;

use super::error::{ReadError, SourceError};
use super::reader::ByteCounter;
use super::retry::{self, RetryPolicy};
use crate::input::RangeSource;

/// An opened S3 object answering reads at offsets; each read is one ranged GetObject, retried
/// like the first GetObject. Blocking: use it on a blocking thread (the parser's).
pub struct S3Ranges {
    pub(crate) client: Client,
    pub(crate) bucket: String,
    pub(crate) key: String,
    /// ETag of the version being read (`If-Match`): a changed object fails, never mixes.
    pub(crate) etag: Option<String>,
    /// The S3 version read, on versioned buckets.
    pub(crate) version_id: Option<String>,
    pub(crate) size: u64,
    pub(crate) policy: RetryPolicy,
    pub(crate) counter: ByteCounter,
    pub(crate) handle: tokio::runtime::Handle,
}

impl std::fmt::Debug for S3Ranges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Ranges")
            .field("bucket", &self.bucket)
            .field("key", &self.key)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

impl RangeSource for S3Ranges {
    fn len(&self) -> u64 {
        self.size
    }

    fn read_range(&self, start: u64, len: usize) -> io::Result<Bytes> {
        let end = start
            .saturating_add(len as u64)
            .min(self.size)
            .saturating_sub(1);
        if len == 0 || start >= self.size {
            return Ok(Bytes::new());
        }
        self.handle
            .block_on(self.fetch(start, end))
            .map_err(|source| ReadError::Range { start, end, source }.into_io())
    }
}

impl S3Ranges {
    async fn fetch(&self, start: u64, end: u64) -> Result<Bytes, SourceError> {
        let max = self.policy.max_attempts.max(1);
        let mut attempt = 1;
        loop {
            let failure = match self.try_fetch(start, end, attempt).await {
                Ok(bytes) => return Ok(bytes),
                Err(failure) => failure,
            };
            if !failure.retryable || attempt >= max {
                return Err(failure.error);
            }
            let wait = self.policy.backoff(attempt);
            tracing::warn!(bucket = %self.bucket, key = %self.key, start, end, attempt, ?wait, error = %failure.error, "ranged GetObject retry");
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn try_fetch(&self, start: u64, end: u64, attempt: u32) -> Result<Bytes, retry::Failure> {
        let mut request = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .set_version_id(self.version_id.clone())
            .range(format!("bytes={start}-{end}"));
        if let Some(etag) = &self.etag {
            request = request.if_match(format!("\"{etag}\""));
        }
        let output = request
            .customize()
            .config_override(
                aws_sdk_s3::config::Builder::default().retry_config(RetryConfig::disabled()),
            )
            .send()
            .await
            .map_err(|err| retry::classify(&err, &self.bucket, &self.key, attempt))?;
        let bytes = output
            .body
            .collect()
            .await
            .map_err(|e| retry::Failure {
                retryable: true,
                error: SourceError::Transport {
                    bucket: self.bucket.clone(),
                    key: self.key.clone(),
                    message: e.to_string(),
                    attempts: attempt,
                },
            })?
            .into_bytes();
        self.counter.add(bytes.len());
        Ok(bytes)
    }
}
