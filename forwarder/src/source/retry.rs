//! Retrying GetObject on throttling and transient failures, with bounds.

use std::time::Duration;

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectError;
use rand::Rng;

use super::error::SourceError;
use crate::limits::{bounded, validate_object};

/// How often and how patiently GetObject is retried.
///
/// Retried: `SlowDown`, HTTP 500/502/503/504, throttling codes, `RequestTimeout`,
/// timeouts, connection errors and bodies that break before the first bytes.
/// Never retried: `NoSuchKey`, `NoSuchBucket`, `AccessDenied` and other 4xx, and invalid
/// requests (see [`SourceError::InvalidRequest`]).
/// The SDK's own retries are turned off for GetObject, so `max_attempts` is
/// exactly the number of requests sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total requests, first included (at least 1).
    pub max_attempts: u32,
    /// Cap of the first backoff; doubled each retry (full jitter: a random wait
    /// between zero and the cap).
    pub initial_backoff: Duration,
    /// Largest cap.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    /// 5 attempts, 200 ms doubling to at most 5 s: about 10 s worst case,
    /// which fits well inside a Lambda timeout.
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry` (1 = first retry), full jitter.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = retry.saturating_sub(1).min(20);
        let cap = self
            .initial_backoff
            .saturating_mul(1u32 << exp)
            .min(self.max_backoff);
        let cap_ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
        if cap_ms == 0 {
            return cap;
        }
        Duration::from_millis(rand::rng().random_range(0..=cap_ms))
    }
}

/// One failed attempt, classified.
pub(crate) struct Failure {
    pub(crate) retryable: bool,
    pub(crate) error: SourceError,
}

const RETRYABLE_CODES: &[&str] = &[
    "SlowDown",
    "InternalError",
    "ServiceUnavailable",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestLimitExceeded",
    "TooManyRequestsException",
];

/// S3's answers to a request that is invalid as such: no retry can make it succeed.
const INVALID_REQUEST_CODES: &[&str] = &[
    "InvalidBucketName",
    "KeyTooLongError",
    "InvalidURI",
    "InvalidRequest",
    "InvalidArgument",
    "MaxMessageLengthExceeded",
    "MetadataTooLarge",
    "RequestHeaderSectionTooLarge",
];

/// Sorts a GetObject error into a typed [`SourceError`] and whether to retry.
///
/// An object name S3 cannot have is an invalid request whatever the transport said (a server
/// may just drop a connection whose request line is megabytes long), and so is anything the SDK
/// could not build or S3 called invalid: none of it is retried.
pub(crate) fn classify<R>(
    err: &SdkError<GetObjectError, R>,
    bucket: &str,
    key: &str,
    attempts: u32,
) -> Failure
where
    R: std::fmt::Debug + HttpStatus,
{
    if let Err(name) = validate_object(bucket, key) {
        return invalid(bucket, key, name.to_string());
    }
    let b = || bucket.to_owned();
    let k = || key.to_owned();
    match err {
        SdkError::ServiceError(ctx) => {
            let status = ctx.raw().status_code();
            let code = err.code().unwrap_or("-");
            let permanent = match (ctx.err(), code) {
                (GetObjectError::NoSuchKey(_), _) | (_, "NoSuchKey") => {
                    Some(SourceError::NoSuchKey {
                        bucket: b(),
                        key: k(),
                    })
                }
                (_, "NoSuchBucket") => Some(SourceError::NoSuchBucket {
                    bucket: b(),
                    key: k(),
                }),
                (_, "AccessDenied") => Some(SourceError::AccessDenied {
                    bucket: b(),
                    key: k(),
                }),
                _ => None,
            };
            if let Some(error) = permanent {
                return Failure {
                    retryable: false,
                    error,
                };
            }
            let message = bounded(err.message().unwrap_or("no message"));
            if INVALID_REQUEST_CODES.contains(&code) || matches!(status, 414 | 431) {
                return invalid(bucket, key, format!("{code} (HTTP {status}): {message}"));
            }
            let retryable =
                RETRYABLE_CODES.contains(&code) || matches!(status, 429 | 500 | 502 | 503 | 504);
            Failure {
                retryable,
                error: SourceError::Service {
                    bucket: b(),
                    key: k(),
                    code: code.to_owned(),
                    status,
                    message,
                    attempts,
                },
            }
        }
        SdkError::DispatchFailure(failure) if failure.is_user() => {
            invalid(bucket, key, bounded(DisplayErrorContext(err)))
        }
        SdkError::ConstructionFailure(_) => invalid(
            bucket,
            key,
            format!(
                "the request could not be built: {}",
                bounded(DisplayErrorContext(err))
            ),
        ),
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            Failure {
                retryable: true,
                error: transport(err, bucket, key, attempts),
            }
        }
        _ => Failure {
            retryable: false,
            error: transport(err, bucket, key, attempts),
        },
    }
}

fn invalid(bucket: &str, key: &str, message: String) -> Failure {
    Failure {
        retryable: false,
        error: SourceError::invalid_request(bucket, key, message),
    }
}

fn transport<E, R>(err: &SdkError<E, R>, bucket: &str, key: &str, attempts: u32) -> SourceError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    SourceError::Transport {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        message: bounded(DisplayErrorContext(err)),
        attempts,
    }
}

/// The HTTP status of a raw response, whatever the SDK's response type.
pub(crate) trait HttpStatus {
    fn status_code(&self) -> u16;
}

impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

#[cfg(test)]
mod tests {
    use super::RetryPolicy;
    use std::time::Duration;

    #[test]
    fn backoff_never_exceeds_its_doubling_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_millis(1000),
        };
        for (retry, cap_ms) in [
            (1, 100),
            (2, 200),
            (3, 400),
            (4, 800),
            (5, 1000),
            (30, 1000),
        ] {
            for _ in 0..50 {
                let wait = policy.backoff(retry);
                assert!(
                    wait <= Duration::from_millis(cap_ms),
                    "retry {retry}: {wait:?}"
                );
            }
        }
    }
}
