//! The Site24x7 upload client: one `POST /upload` per batch, with retries.
//!
//! Sends exactly the request of Site24x7's own S3 Lambda (headers in
//! [`UploadClient`]), classifies each answer ([`classify`]), and retries what
//! can succeed later by [`RetryPolicy`]. The result says what the pipeline must
//! do: [`Delivered`] (log the receipt), or an [`UploadError`] whose
//! [`Disposition`] is fail-fast (configuration is wrong) or dead-letter (this
//! batch could not be delivered now).
//!
//! A 2xx without `x-uploadid` is retried, so Site24x7 may then hold the batch
//! twice: duplicates are preferred over loss.

mod classify;
mod retry;

pub use classify::{ConfigFlag, PauseFlag, RetryCause, parse_retry_after};
pub use retry::{RetryPolicy, Sleeper, TokioSleeper};

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use rand::SeedableRng;
use rand::rngs::StdRng;
use reqwest::header::{CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderValue, USER_AGENT};
use thiserror::Error;

use crate::batch::UploadBatch;
use crate::secret::Secret;
use classify::Verdict;

/// Longest response-body excerpt kept in a [`UploadError::Rejected`].
const BODY_EXCERPT_CHARS: usize = 300;

/// Most bytes of an error response read to make the excerpt.
const BODY_READ_LIMIT: usize = 16 * 1024;

/// Where and as whom to upload: the `logTypeConfig` values that go on the wire.
#[derive(Debug, Clone)]
pub struct UploadTarget {
    /// Full upload URL, `https://{uploadDomain}/upload` or a testbed's `--upload-url`.
    pub url: String,
    /// `apiKey`, sent as `X-DeviceKey`.
    pub api_key: Secret,
    /// `logType`, sent as `X-LogType`.
    pub log_type: String,
}

impl UploadTarget {
    /// The production target for an `uploadDomain` such as `logc.site24x7.com`.
    pub fn for_upload_domain(
        upload_domain: &str,
        api_key: Secret,
        log_type: impl Into<String>,
    ) -> Self {
        Self {
            url: format!("https://{upload_domain}/upload"),
            api_key,
            log_type: log_type.into(),
        }
    }
}

/// `url` as it may be logged or stored: user and password removed, every query value replaced
/// by `redacted` (a testbed's `--upload-url` may carry credentials either way). Text that
/// does not parse as a URL with a host keeps only what follows any userinfo `@`, up to any
/// `?` or `#`.
#[must_use]
pub fn redacted_url(url: &str) -> String {
    let Some(mut parsed) = reqwest::Url::parse(url).ok().filter(reqwest::Url::has_host) else {
        let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let rest = match rest[..authority_end].rfind('@') {
            Some(at) => &rest[at + 1..],
            None => rest,
        };
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        let text = if scheme.is_empty() {
            rest.to_owned()
        } else {
            format!("{scheme}://{rest}")
        };
        return crate::limits::bounded(text);
    };
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    if parsed.query().is_some() {
        let names: Vec<String> = parsed.query_pairs().map(|(k, _)| k.into_owned()).collect();
        parsed
            .query_pairs_mut()
            .clear()
            .extend_pairs(names.iter().map(|k| (k, "redacted")));
    }
    parsed.set_fragment(None);
    crate::limits::bounded(parsed.as_str())
}

/// Timeouts and retry behaviour of the client.
///
/// Defaults: connect 10 s; read 30 s (Site24x7's Fluentd plugin's read
/// timeout; a stall between bytes longer than this fails the attempt); whole
/// request 120 s; [`RetryPolicy::default`]; jitter seeded from the OS.
#[derive(Debug, Clone)]
pub struct UploadSettings {
    /// Limit on opening the TCP+TLS connection.
    pub connect_timeout: Duration,
    /// Limit on each wait for response bytes.
    pub read_timeout: Duration,
    /// Limit on one whole attempt.
    pub request_timeout: Duration,
    /// When to retry.
    pub retry: RetryPolicy,
    /// Fixed seed for the backoff jitter (tests); `None` draws one at random.
    pub jitter_seed: Option<u64>,
}

impl Default for UploadSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(120),
            retry: RetryPolicy::default(),
            jitter_seed: None,
        }
    }
}

/// A batch Site24x7 confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    /// The `x-uploadid` receipt.
    pub upload_id: String,
    /// Requests made, the successful one included (retries = attempts − 1).
    pub attempts: u32,
}

/// What the pipeline should do with a batch that was not delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// The configuration is wrong: every batch will fail the same way, so stop
    /// and report the error (after dead-lettering what is in hand).
    FailFast,
    /// Keep the batch as a dead letter for `replay`; other batches may proceed.
    DeadLetter,
}

/// Why retries stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUpReason {
    /// [`RetryPolicy::max_attempts`] requests were made.
    MaxAttempts,
    /// The next wait would have passed [`RetryPolicy::max_elapsed`].
    ElapsedBudget,
}

impl fmt::Display for GiveUpReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MaxAttempts => "the maximum number of attempts was reached",
            Self::ElapsedBudget => "the next wait would exceed the time budget",
        })
    }
}

/// A batch that was not delivered. Never contains the apiKey.
#[derive(Debug, Error)]
pub enum UploadError {
    /// Site24x7 says `logTypeConfig` is wrong; no retry.
    #[error("Site24x7 rejected the upload configuration (HTTP {status}): {flag}")]
    Configuration {
        /// Which flag Site24x7 set (its message names the key and the fix).
        flag: ConfigFlag,
        /// HTTP status of the answer.
        status: u16,
        /// Requests made.
        attempts: u32,
    },
    /// Licence exceeded or log type blocked: dead-letter for a later replay.
    #[error(
        "Site24x7 is not accepting logs for now (HTTP {status}): {flag}; the batch is kept for replay"
    )]
    Paused {
        /// Which flag Site24x7 set.
        flag: PauseFlag,
        /// HTTP status of the answer.
        status: u16,
        /// Requests made.
        attempts: u32,
    },
    /// Any other refusal of this batch (4xx, 3xx).
    #[error("Site24x7 rejected the batch with HTTP {status}: {body_excerpt:?}")]
    Rejected {
        /// HTTP status of the answer.
        status: u16,
        /// Start of the response body.
        body_excerpt: String,
        /// Requests made.
        attempts: u32,
    },
    /// Retryable failures until the policy ran out.
    #[error("upload gave up after {attempts} attempts ({reason}); last failure: {last}")]
    GaveUp {
        /// Requests made.
        attempts: u32,
        /// The last attempt's failure.
        last: RetryCause,
        /// Which limit stopped the retries.
        reason: GiveUpReason,
    },
}

impl UploadError {
    /// Requests made for the batch (for the per-object retry count).
    #[must_use]
    pub fn attempts(&self) -> u32 {
        match self {
            Self::Configuration { attempts, .. }
            | Self::Paused { attempts, .. }
            | Self::Rejected { attempts, .. }
            | Self::GaveUp { attempts, .. } => *attempts,
        }
    }

    /// HTTP status of the last answer, if there was one.
    #[must_use]
    pub fn last_status(&self) -> Option<u16> {
        match self {
            Self::Configuration { status, .. }
            | Self::Paused { status, .. }
            | Self::Rejected { status, .. } => Some(*status),
            Self::GaveUp { last, .. } => last.status(),
        }
    }

    /// Whether to stop everything or dead-letter this batch and go on.
    #[must_use]
    pub fn disposition(&self) -> Disposition {
        match self {
            Self::Configuration { .. } => Disposition::FailFast,
            Self::Paused { .. } | Self::Rejected { .. } | Self::GaveUp { .. } => {
                Disposition::DeadLetter
            }
        }
    }
}

/// Building the client failed.
#[derive(Debug, Error)]
pub enum ClientError {
    /// The upload URL does not parse.
    #[error(
        "upload URL {url:?} is not a valid URL ({reason}); fix: check uploadDomain in logTypeConfig or --upload-url"
    )]
    InvalidUrl {
        /// The URL given, without credentials ([`redacted_url`]).
        url: String,
        /// Why it does not parse.
        reason: String,
    },
    /// A `logTypeConfig` value cannot be an HTTP header value.
    #[error(
        "the {key} of logTypeConfig cannot be sent as the {header} header (it holds control \
         characters); fix: copy the value again without line breaks"
    )]
    InvalidHeader {
        /// The header it would be sent as.
        header: &'static str,
        /// The `logTypeConfig` key.
        key: &'static str,
    },
    /// The HTTP client (TLS) could not be set up.
    #[error("cannot set up the HTTP client: {0}")]
    Http(#[source] reqwest::Error),
}

/// Posts batches to Site24x7. Build once and share (`&self` methods): it keeps
/// a connection pool.
pub struct UploadClient {
    http: reqwest::Client,
    url: reqwest::Url,
    headers: HeaderMap,
    api_key: Secret,
    policy: RetryPolicy,
    sleeper: Arc<dyn Sleeper>,
    jitter: Mutex<StdRng>,
}

impl fmt::Debug for UploadClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadClient")
            .field("url", &redacted_url(self.url.as_str()))
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl UploadClient {
    /// Builds the client with the fixed request headers: `X-DeviceKey`,
    /// `X-LogType`, `X-StreamMode: 1`, `Content-Type: application/json`,
    /// `Content-Encoding: gzip`, `User-Agent: AWS-Lambda` (plus `Log-Size` per batch).
    ///
    /// # Errors
    /// [`ClientError`] for a bad URL, a key that cannot be a header, or a TLS
    /// set-up failure.
    pub fn new(target: UploadTarget, settings: &UploadSettings) -> Result<Self, ClientError> {
        let url = reqwest::Url::parse(&target.url).map_err(|e| ClientError::InvalidUrl {
            url: redacted_url(&target.url),
            reason: e.to_string(),
        })?;
        let mut device_key = HeaderValue::from_str(target.api_key.expose()).map_err(|_| {
            ClientError::InvalidHeader {
                header: "X-DeviceKey",
                key: "apiKey",
            }
        })?;
        device_key.set_sensitive(true);
        let log_type =
            HeaderValue::from_str(&target.log_type).map_err(|_| ClientError::InvalidHeader {
                header: "X-LogType",
                key: "logType",
            })?;
        let mut headers = HeaderMap::new();
        headers.insert("X-DeviceKey", device_key);
        headers.insert("X-LogType", log_type);
        headers.insert("X-StreamMode", HeaderValue::from_static("1"));
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        headers.insert(USER_AGENT, HeaderValue::from_static("AWS-Lambda"));
        let http = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .read_timeout(settings.read_timeout)
            .timeout(settings.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(ClientError::Http)?;
        let jitter = match settings.jitter_seed {
            Some(seed) => StdRng::seed_from_u64(seed),
            None => StdRng::from_rng(&mut rand::rng()),
        };
        Ok(Self {
            http,
            url,
            headers,
            api_key: target.api_key,
            policy: settings.retry,
            sleeper: Arc::new(TokioSleeper),
            jitter: Mutex::new(jitter),
        })
    }

    /// Replaces how the client waits between attempts (tests record the delays).
    #[must_use]
    pub fn with_sleeper(mut self, sleeper: Arc<dyn Sleeper>) -> Self {
        self.sleeper = sleeper;
        self
    }

    /// Uploads one batch, retrying by the policy; logs the `x-uploadid` at info.
    ///
    /// # Errors
    /// [`UploadError`]; see [`UploadError::disposition`] for what to do next.
    #[tracing::instrument(skip_all, fields(records = batch.records, log_size = batch.log_size))]
    pub async fn upload(&self, batch: &UploadBatch) -> Result<Delivered, UploadError> {
        let mut attempts = 0;
        let mut spent = Duration::ZERO;
        loop {
            attempts += 1;
            let started = Instant::now();
            let step = self.attempt(batch, attempts).await;
            spent += started.elapsed();
            let (cause, retry_after) = match step {
                Step::Accepted(upload_id) => {
                    tracing::info!(upload_id = %upload_id, attempts, "Site24x7 accepted the batch");
                    return Ok(Delivered {
                        upload_id,
                        attempts,
                    });
                }
                Step::Stop(error) => return Err(error),
                Step::Retry { cause, retry_after } => (cause, retry_after),
            };
            if attempts >= self.policy.max_attempts {
                return Err(UploadError::GaveUp {
                    attempts,
                    last: cause,
                    reason: GiveUpReason::MaxAttempts,
                });
            }
            let delay = retry_after.unwrap_or_else(|| self.next_jitter(attempts));
            if spent + delay > self.policy.max_elapsed {
                return Err(UploadError::GaveUp {
                    attempts,
                    last: cause,
                    reason: GiveUpReason::ElapsedBudget,
                });
            }
            tracing::warn!(attempts, cause = %cause, delay_ms = delay.as_millis(), "upload failed; retrying");
            self.sleeper.sleep(delay).await;
            spent += delay;
        }
    }

    /// One request and what its answer means.
    async fn attempt(&self, batch: &UploadBatch, attempts: u32) -> Step {
        let request = self
            .http
            .post(self.url.clone())
            .headers(self.headers.clone())
            .header("Log-Size", batch.log_size)
            .body(batch.body.clone());
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                return Step::Retry {
                    cause: transport_cause(error),
                    retry_after: None,
                };
            }
        };
        let status = response.status();
        let code = status.as_u16();
        match classify::classify(status, response.headers(), SystemTime::now()) {
            Verdict::Accepted { upload_id } => Step::Accepted(upload_id),
            Verdict::Retry { cause, retry_after } => Step::Retry { cause, retry_after },
            Verdict::Config(flag) => Step::Stop(UploadError::Configuration {
                flag,
                status: code,
                attempts,
            }),
            Verdict::Paused(flag) => {
                tracing::warn!(flag = %flag, status = code, "Site24x7 paused uploads");
                Step::Stop(UploadError::Paused {
                    flag,
                    status: code,
                    attempts,
                })
            }
            Verdict::Rejected => {
                let body_excerpt = self.excerpt(&body_prefix(response).await);
                Step::Stop(UploadError::Rejected {
                    status: code,
                    body_excerpt,
                    attempts,
                })
            }
        }
    }

    fn next_jitter(&self, retry: u32) -> Duration {
        let mut rng = self.jitter.lock().unwrap_or_else(PoisonError::into_inner);
        self.policy.jittered_backoff(retry, &mut *rng)
    }

    /// The start of a response body, with the apiKey masked (before cutting,
    /// so no part of it survives) should a server echo it.
    fn excerpt(&self, body: &[u8]) -> String {
        let mut body = String::from_utf8_lossy(body).into_owned();
        let key = self.api_key.expose();
        if !key.is_empty() {
            body = body.replace(key, "<redacted>");
        }
        let mut excerpt: String = body.chars().take(BODY_EXCERPT_CHARS).collect();
        if body.chars().nth(BODY_EXCERPT_CHARS).is_some() {
            excerpt.push('…');
        }
        excerpt
    }
}

/// Reads at most [`BODY_READ_LIMIT`] bytes of a response body: enough for an
/// error message, bounded whatever the server sends.
async fn body_prefix(mut response: reqwest::Response) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < BODY_READ_LIMIT {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    body.truncate(BODY_READ_LIMIT);
    body
}

/// One attempt's meaning for the retry loop.
enum Step {
    Accepted(String),
    Retry {
        cause: RetryCause,
        retry_after: Option<Duration>,
    },
    Stop(UploadError),
}

/// Names a transport failure with its whole error chain (without the URL).
fn transport_cause(error: reqwest::Error) -> RetryCause {
    let error = error.without_url();
    let mut detail = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        detail.push_str(": ");
        detail.push_str(&inner.to_string());
        source = inner.source();
    }
    if error.is_timeout() {
        RetryCause::Timeout { detail }
    } else {
        RetryCause::Transport { detail }
    }
}

#[cfg(test)]
mod tests {
    use super::redacted_url;

    #[test]
    fn urls_lose_their_credentials_and_query_values() {
        let cases = [
            (
                "https://logc.site24x7.com/upload",
                "https://logc.site24x7.com/upload",
            ),
            (
                "http://user:pass@127.0.0.1:9/upload",
                "http://127.0.0.1:9/upload",
            ),
            (
                "http://u@h/upload?token=s3cr3t&x#frag",
                "http://h/upload?token=redacted&x=redacted",
            ),
            ("http://user:pa ss@h:bad/upload?k=v", "http://h:bad/upload"),
            ("user:pass@host/up", "host/up"),
        ];
        for (url, want) in cases {
            assert_eq!(redacted_url(url), want, "{url}");
        }
    }
}
