//! Everything the binary configures, in one place: where to upload, how hard to retry, how
//! big batches are, where S3 is, where state lives and how much runs at once.
//!
//! The CLI fills [`Settings`] from flags; Lambda mode fills it from environment variables with
//! [`Settings::from_lambda_env`] (a lookup function, so tests never touch the process
//! environment). The documented variables:
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `FLOWLOG_UPLOAD_URL` | upload URL instead of `https://{uploadDomain}/upload` | — |
//! | `FLOWLOG_S3_ENDPOINT_URL` | S3 endpoint (testbed); credentials from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` | real AWS |
//! | `FLOWLOG_STATE_BUCKET` | bucket for dead letters and progress markers | the event's own bucket |
//! | `FLOWLOG_STATE_PREFIX` | prefix of that state | `flowlog-forwarder/` |
//! | `FLOWLOG_OBJECT_CONCURRENCY` | objects forwarded at once | 4 |
//! | `FLOWLOG_UPLOADS_IN_FLIGHT` | batches of one object uploading at once | 4 |
//! | `FLOWLOG_GZIP_LEVEL` | gzip level of upload bodies, 0–12 | 6 |
//! | `FLOWLOG_UPLOAD_MAX_ATTEMPTS` | requests per batch before dead-lettering | 10 |
//! | `FLOWLOG_UPLOAD_INITIAL_BACKOFF_MS` / `FLOWLOG_UPLOAD_MAX_BACKOFF_MS` | backoff curve | 100 / 30000 |
//! | `FLOWLOG_UPLOAD_MAX_ELAPSED_MS` | time budget per batch | 120000 |

use std::path::PathBuf;
use std::time::Duration;

use crate::batch::BatchLimits;
use crate::config::LogTypeConfig;
use crate::limits::{excerpt_of, validate_bucket, validate_key_len, validate_object};
use crate::source::{self, S3Settings};
use crate::upload::{UploadSettings, UploadTarget};

/// Default prefix of the forwarder's own state in S3.
pub const DEFAULT_STATE_PREFIX: &str = "flowlog-forwarder/";

/// Where dead letters and progress markers live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateLocation {
    /// A local directory (CLI default: `./flowlog-state`).
    Local(PathBuf),
    /// A fixed bucket and prefix.
    S3 {
        /// Bucket holding the state.
        bucket: String,
        /// Prefix of every state key.
        prefix: String,
    },
    /// Under `prefix` in the bucket of each object forwarded (Lambda default).
    EventBucket {
        /// Prefix of every state key.
        prefix: String,
    },
}

impl StateLocation {
    /// Parses `s3://BUCKET/PREFIX` (prefix defaults to [`DEFAULT_STATE_PREFIX`]).
    ///
    /// # Errors
    /// [`SettingsError::S3Url`] when the text is not an `s3://` URL with a bucket S3 can have.
    pub fn parse_s3_url(url: &str) -> Result<Self, SettingsError> {
        let (bucket, prefix) = parse_s3_prefix_url(url)?;
        let prefix = if prefix.is_empty() {
            DEFAULT_STATE_PREFIX.to_owned()
        } else {
            prefix
        };
        Ok(Self::S3 { bucket, prefix })
    }
}

/// Splits `s3://bucket/rest` into `(bucket, rest)`; `None` when it is not such a URL.
#[must_use]
pub fn split_s3_url(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then(|| (bucket.to_owned(), key.to_owned()))
}

/// Parses `s3://BUCKET/KEY` naming one object, checked like an event's objects
/// ([`validate_object`]) so nothing S3 cannot have reaches a request.
///
/// # Errors
/// [`SettingsError::S3Url`] naming the rule broken.
pub fn parse_s3_object_url(url: &str) -> Result<(String, String), SettingsError> {
    let expected = "s3://BUCKET/KEY";
    let (bucket, key) = split_s3_url(url).ok_or_else(|| s3_url_error(url, expected, None))?;
    if key.is_empty() {
        return Err(s3_url_error(url, expected, Some("the key is empty".into())));
    }
    validate_object(&bucket, &key).map_err(|e| s3_url_error(url, expected, Some(e.to_string())))?;
    Ok((bucket, key))
}

/// Parses `s3://BUCKET/PREFIX` (the prefix may be empty), the bucket and the prefix's length
/// checked like an object's.
///
/// # Errors
/// [`SettingsError::S3Url`] naming the rule broken.
pub fn parse_s3_prefix_url(url: &str) -> Result<(String, String), SettingsError> {
    let expected = "s3://BUCKET/PREFIX";
    let (bucket, prefix) = split_s3_url(url).ok_or_else(|| s3_url_error(url, expected, None))?;
    validate_bucket(&bucket)
        .and_then(|()| validate_key_len(&bucket, &prefix))
        .map_err(|e| s3_url_error(url, expected, Some(e.to_string())))?;
    Ok((bucket, prefix))
}

fn s3_url_error(url: &str, expected: &'static str, problem: Option<String>) -> SettingsError {
    SettingsError::S3Url {
        url: format!("{:?}", excerpt_of(url, 128)),
        expected,
        problem: problem.unwrap_or_else(|| "it does not start with s3:// and a bucket".into()),
    }
}

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// An `s3://` argument that names nothing S3 can have.
    #[error("{url} is not {expected}: {problem}")]
    S3Url {
        /// The argument (an excerpt, quoted).
        url: String,
        /// The form expected, e.g. `s3://BUCKET/KEY`.
        expected: &'static str,
        /// What is wrong, naming the limit.
        problem: String,
    },
    /// A value does not parse.
    #[error("setting {name}: {problem}")]
    Invalid {
        /// The flag or environment variable.
        name: String,
        /// What is wrong and what is expected.
        problem: String,
    },
}

/// What a [`crate::Forwarder`] runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Upload URL override (`--upload-url`, `FLOWLOG_UPLOAD_URL`); `None` means
    /// `https://{uploadDomain}/upload` from `logTypeConfig`.
    pub upload_url: Option<String>,
    /// Timeouts and retries of the upload client.
    pub upload: UploadSettings,
    /// Batch caps and gzip level.
    pub batch: BatchLimits,
    /// How to reach S3 (endpoint = the testbed switch).
    pub s3: S3Settings,
    /// GetObject retries.
    pub s3_retry: source::RetryPolicy,
    /// Where dead letters and progress markers live.
    pub state: StateLocation,
    /// Objects forwarded at once (at least 1).
    pub object_concurrency: usize,
    /// Batches of one object being compressed or uploaded at once (at least 1); with the one
    /// sealed batch the parser may queue, this bounds an object's memory.
    pub uploads_in_flight: usize,
    /// Start a progress-marker write once this many batches have settled since the last one
    /// started (1 = as often as one write at a time allows; writes run beside the uploads).
    pub progress_save_every: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            upload_url: None,
            upload: UploadSettings::default(),
            batch: BatchLimits::default(),
            s3: S3Settings::default(),
            s3_retry: source::RetryPolicy::default(),
            state: StateLocation::Local(PathBuf::from("flowlog-state")),
            object_concurrency: 4,
            uploads_in_flight: 4,
            progress_save_every: 1,
        }
    }
}

impl Settings {
    /// The upload target: `upload_url` if set, else the config's `uploadDomain`.
    #[must_use]
    pub fn upload_target(&self, config: &LogTypeConfig) -> UploadTarget {
        UploadTarget {
            url: self
                .upload_url
                .clone()
                .unwrap_or_else(|| config.upload_url()),
            api_key: config.api_key().clone(),
            log_type: config.log_type().to_owned(),
        }
    }

    /// Lambda-mode settings from environment variables (see the module table), read through
    /// `get` so callers choose the source (`|k| std::env::var(k).ok()` in production).
    ///
    /// # Errors
    /// [`SettingsError::Invalid`] naming the variable whose value does not parse.
    pub fn from_lambda_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let non_empty = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let mut settings = Self {
            upload_url: non_empty("FLOWLOG_UPLOAD_URL"),
            ..Self::default()
        };
        settings.s3.endpoint_url = non_empty("FLOWLOG_S3_ENDPOINT_URL");
        let prefix =
            non_empty("FLOWLOG_STATE_PREFIX").unwrap_or_else(|| DEFAULT_STATE_PREFIX.to_owned());
        validate_key_len("-", &prefix).map_err(|e| SettingsError::Invalid {
            name: "FLOWLOG_STATE_PREFIX".to_owned(),
            problem: e.to_string(),
        })?;
        settings.state = match non_empty("FLOWLOG_STATE_BUCKET") {
            Some(bucket) => {
                validate_bucket(&bucket).map_err(|e| SettingsError::Invalid {
                    name: "FLOWLOG_STATE_BUCKET".to_owned(),
                    problem: e.to_string(),
                })?;
                StateLocation::S3 { bucket, prefix }
            }
            None => StateLocation::EventBucket { prefix },
        };
        let number = |name: &str| -> Result<Option<u64>, SettingsError> {
            non_empty(name)
                .map(|v| {
                    v.trim().parse::<u64>().map_err(|_| SettingsError::Invalid {
                        name: name.to_owned(),
                        problem: format!("{v:?} is not a whole number"),
                    })
                })
                .transpose()
        };
        if let Some(n) = number("FLOWLOG_OBJECT_CONCURRENCY")? {
            settings.object_concurrency = usize::try_from(n.max(1)).unwrap_or(1);
        }
        if let Some(n) = number("FLOWLOG_UPLOADS_IN_FLIGHT")? {
            settings.uploads_in_flight = usize::try_from(n.max(1)).unwrap_or(1);
        }
        if let Some(level) = number("FLOWLOG_GZIP_LEVEL")? {
            if level > u64::from(crate::batch::MAX_GZIP_LEVEL) {
                return Err(SettingsError::Invalid {
                    name: "FLOWLOG_GZIP_LEVEL".to_owned(),
                    problem: format!("{level} is above the highest level, 12; use 0 to 12"),
                });
            }
            settings.batch.gzip_level = level as u32;
        }
        let retry = &mut settings.upload.retry;
        if let Some(n) = number("FLOWLOG_UPLOAD_MAX_ATTEMPTS")? {
            retry.max_attempts = u32::try_from(n).unwrap_or(u32::MAX);
        }
        if let Some(ms) = number("FLOWLOG_UPLOAD_INITIAL_BACKOFF_MS")? {
            retry.initial_backoff = Duration::from_millis(ms);
        }
        if let Some(ms) = number("FLOWLOG_UPLOAD_MAX_BACKOFF_MS")? {
            retry.max_backoff = Duration::from_millis(ms);
        }
        if let Some(ms) = number("FLOWLOG_UPLOAD_MAX_ELAPSED_MS")? {
            retry.max_elapsed = Duration::from_millis(ms);
        }
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::{Settings, StateLocation, parse_s3_object_url, parse_s3_prefix_url, split_s3_url};

    #[test]
    fn lambda_settings_default_to_the_event_bucket_and_read_overrides() {
        let env = |k: &str| match k {
            "FLOWLOG_UPLOAD_URL" => Some("http://127.0.0.1:9/upload".to_owned()),
            "FLOWLOG_STATE_BUCKET" => Some("state".to_owned()),
            "FLOWLOG_UPLOADS_IN_FLIGHT" => Some("2".to_owned()),
            _ => None,
        };
        let s = Settings::from_lambda_env(env).expect("valid");
        assert_eq!(s.upload_url.as_deref(), Some("http://127.0.0.1:9/upload"));
        assert_eq!(
            s.state,
            StateLocation::S3 {
                bucket: "state".into(),
                prefix: "flowlog-forwarder/".into()
            }
        );
        assert_eq!(s.uploads_in_flight, 2);
        let s = Settings::from_lambda_env(|_| None).expect("valid");
        assert!(matches!(s.state, StateLocation::EventBucket { .. }));
    }

    #[test]
    fn the_gzip_level_is_read_and_bounded() {
        let level = |v: &'static str| {
            Settings::from_lambda_env(move |k| (k == "FLOWLOG_GZIP_LEVEL").then(|| v.to_owned()))
        };
        assert_eq!(level("1").expect("valid").batch.gzip_level, 1);
        let err = level("13").expect_err("too high");
        assert!(err.to_string().contains("FLOWLOG_GZIP_LEVEL"), "{err}");
    }

    #[test]
    fn a_bad_number_names_the_variable() {
        let err = Settings::from_lambda_env(|k| {
            (k == "FLOWLOG_OBJECT_CONCURRENCY").then(|| "many".to_owned())
        })
        .expect_err("invalid");
        assert!(
            err.to_string().contains("FLOWLOG_OBJECT_CONCURRENCY"),
            "{err}"
        );
    }

    #[test]
    fn a_state_bucket_s3_cannot_have_names_the_variable() {
        let err = Settings::from_lambda_env(|k| {
            (k == "FLOWLOG_STATE_BUCKET").then(|| "no/such bucket".to_owned())
        })
        .expect_err("invalid");
        assert!(err.to_string().contains("FLOWLOG_STATE_BUCKET"), "{err}");
    }

    #[test]
    fn object_and_prefix_urls_are_checked_like_event_objects() {
        let long_key = format!("s3://flow-logs/{}", "k".repeat(1025));
        for (url, needle) in [
            ("s3://flow-logs/", "the key is empty"),
            ("http://flow-logs/k", "does not start with s3://"),
            ("s3://ab/k", "3 to 63"),
            (long_key.as_str(), "1025 bytes long"),
        ] {
            let err = parse_s3_object_url(url).expect_err(url).to_string();
            assert!(err.contains(needle), "{url}: {err}");
            assert!(err.contains("s3://BUCKET/KEY"), "{url}: {err}");
        }
        assert_eq!(
            parse_s3_object_url("s3://flow-logs/a/b.gz").ok(),
            Some(("flow-logs".to_owned(), "a/b.gz".to_owned()))
        );
        assert_eq!(
            parse_s3_prefix_url("s3://flow-logs").ok(),
            Some(("flow-logs".to_owned(), String::new()))
        );
        assert!(parse_s3_prefix_url("s3://a b/x").is_err());
    }

    #[test]
    fn s3_urls_split_into_bucket_and_rest() {
        for (url, want) in [
            ("s3://b/k/x.gz", Some(("b", "k/x.gz"))),
            ("s3://b", Some(("b", ""))),
            ("s3:///k", None),
            ("http://b/k", None),
        ] {
            let got = split_s3_url(url);
            let want = want.map(|(b, k)| (b.to_owned(), k.to_owned()));
            assert_eq!(got, want, "{url}");
        }
    }
}
