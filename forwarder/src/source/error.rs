//! What can go wrong reading an object, each naming the object and the fix.

use std::io;

use crate::limits::excerpt_of;

/// GetObject failed (after retries where retrying made sense).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The key does not exist (any more).
    #[error(
        "s3://{bucket}/{key}: no such key: the object was deleted, or its key was mis-decoded \
         (event keys are form-encoded: `+` is a space, `%3D` is `=`)"
    )]
    NoSuchKey {
        /// Bucket asked for.
        bucket: String,
        /// Key asked for (decoded).
        key: String,
    },
    /// The bucket does not exist at this endpoint.
    #[error(
        "s3://{bucket}/{key}: no such bucket `{bucket}`: check the bucket name, the region and \
         --endpoint-url"
    )]
    NoSuchBucket {
        /// Bucket asked for.
        bucket: String,
        /// Key asked for (decoded).
        key: String,
    },
    /// The caller lacks permission.
    #[error(
        "s3://{bucket}/{key}: access denied: grant the forwarder's role s3:GetObject on \
         arn:aws:s3:::{bucket}/* (and kms:Decrypt for SSE-KMS objects); without s3:ListBucket, \
         S3 also answers AccessDenied for a missing key"
    )]
    AccessDenied {
        /// Bucket asked for.
        bucket: String,
        /// Key asked for (decoded).
        key: String,
    },
    /// Any other answer from S3, including throttling that outlasted the retries.
    #[error(
        "s3://{bucket}/{key}: GetObject failed after {attempts} attempt(s): {code} \
         (HTTP {status}): {message}"
    )]
    Service {
        /// Bucket asked for.
        bucket: String,
        /// Key asked for (decoded).
        key: String,
        /// S3's error code, e.g. `SlowDown`, or `-` when none was sent.
        code: String,
        /// HTTP status, 0 when unknown.
        status: u16,
        /// S3's message.
        message: String,
        /// How many GetObject requests were made.
        attempts: u32,
    },
    /// The request itself is invalid: a bucket or key S3 cannot have (checked before any
    /// request is built), a request the SDK cannot build, or S3 calling it invalid
    /// (`InvalidBucketName`, `KeyTooLongError`, `InvalidURI`, HTTP 414 …). Never retried: the
    /// same request can never succeed.
    #[error(
        "s3://{bucket}/{key}: invalid request, not retried (it cannot succeed): {message}; fix: \
         check the bucket and key the event or the command line names"
    )]
    InvalidRequest {
        /// Bucket asked for (cut to an excerpt when it is the problem).
        bucket: String,
        /// Key asked for (cut to an excerpt).
        key: String,
        /// What is wrong, naming the limit broken.
        message: String,
    },
    /// No answer: connection refused, timeout, reset, or a body that broke
    /// before the first bytes.
    #[error("s3://{bucket}/{key}: could not read from S3 after {attempts} attempt(s): {message}")]
    Transport {
        /// Bucket asked for.
        bucket: String,
        /// Key asked for (decoded).
        key: String,
        /// The client's description of the failure.
        message: String,
        /// How many GetObject requests were made.
        attempts: u32,
    },
}

impl SourceError {
    /// An [`SourceError::InvalidRequest`], keeping only excerpts of the names (they may be the
    /// very thing that is too long).
    pub(crate) fn invalid_request(bucket: &str, key: &str, message: impl Into<String>) -> Self {
        Self::InvalidRequest {
            bucket: excerpt_of(bucket, 64).to_string(),
            key: excerpt_of(key, 128).to_string(),
            message: message.into(),
        }
    }

    /// Whether trying again later (a Lambda retry) may succeed: false for a
    /// missing key or bucket and for denied access, which need a human, and for an invalid
    /// request, which can never succeed.
    pub fn is_retryable_later(&self) -> bool {
        matches!(self, Self::Service { .. } | Self::Transport { .. })
    }

    /// Whether the request can never succeed, however often or late it is retried.
    pub fn is_invalid_request(&self) -> bool {
        matches!(self, Self::InvalidRequest { .. })
    }
}

/// Failure while reading an opened object, carried inside the `io::Error`
/// that the reader returns (see [`ReadError::find`]).
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The connection broke mid-body.
    #[error(
        "s3://{bucket}/{key}: the body broke after {offset} bytes: {source}; the object is \
         unchanged, retry the invocation"
    )]
    Body {
        /// Bucket read.
        bucket: String,
        /// Key read.
        key: String,
        /// Bytes of the (compressed) body received before the failure.
        offset: u64,
        /// The transport error.
        #[source]
        source: io::Error,
    },
    /// The object starts like gzip but is not valid gzip.
    #[error(
        "s3://{bucket}/{key}: corrupt or truncated gzip after {offset} compressed bytes: {source}; \
         the object cannot be forwarded as is (re-deliver it or delete it)"
    )]
    Gzip {
        /// Bucket read.
        bucket: String,
        /// Key read.
        key: String,
        /// Compressed bytes received when decoding failed.
        offset: u64,
        /// The decoder's error.
        #[source]
        source: io::Error,
    },
    /// A ranged GetObject (a Parquet footer or row group) failed, after its retries.
    #[error("{source} (reading bytes {start}-{end} of the object)")]
    Range {
        /// First byte asked for.
        start: u64,
        /// Last byte asked for.
        end: u64,
        /// What S3 (or the connection) said.
        #[source]
        source: SourceError,
    },
}

impl ReadError {
    /// The typed error inside an `io::Error` from [`super::ObjectReader`], if any.
    pub fn find(error: &io::Error) -> Option<&ReadError> {
        error.get_ref().and_then(|inner| inner.downcast_ref())
    }

    /// Bytes of the stored object received before the failure.
    pub fn offset(&self) -> u64 {
        match self {
            Self::Body { offset, .. } | Self::Gzip { offset, .. } => *offset,
            Self::Range { start, .. } => *start,
        }
    }

    pub(crate) fn into_io(self) -> io::Error {
        let kind = match &self {
            Self::Body { source, .. } => source.kind(),
            Self::Gzip { .. } => io::ErrorKind::InvalidData,
            Self::Range { .. } => io::ErrorKind::Other,
        };
        io::Error::new(kind, self)
    }
}
