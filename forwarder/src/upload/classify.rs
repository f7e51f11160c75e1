//! What a Site24x7 answer means for a batch: accepted, retry, or stop.

use std::fmt;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// A `logTypeConfig` problem Site24x7 reported: retrying cannot help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigFlag {
    /// `invalid_account=True`: the device key is unknown.
    InvalidAccount,
    /// `invalid_logtype=True`: the log type is unknown to the account.
    InvalidLogType,
    /// `api_upload_enabled=False`: uploads by API are switched off.
    ApiUploadDisabled,
}

impl fmt::Display for ConfigFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::InvalidAccount => {
                "invalid_account=True: the apiKey of logTypeConfig is not a device key Site24x7 \
                 knows; fix: copy the device key from Site24x7 (Admin > Developer > Device Key) \
                 into apiKey and check that uploadDomain is your data centre's"
            }
            Self::InvalidLogType => {
                "invalid_logtype=True: the logType of logTypeConfig is not a log type of this \
                 account; fix: set logType to the log type's name in Site24x7 AppLogs (or download \
                 logTypeConfig again)"
            }
            Self::ApiUploadDisabled => {
                "api_upload_enabled=False: uploads by API are disabled for this account or log \
                 type; fix: enable API upload for the log type in Site24x7 AppLogs"
            }
        })
    }
}

/// Site24x7 refuses data for now (not a configuration error): dead-letter the
/// batch and replay it later rather than retrying in a loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseFlag {
    /// `log_license_exceeds=True`: the account's log quota is used up.
    LicenceExceeded,
    /// `blocked_logtype=True`: the log type is blocked.
    BlockedLogType,
}

impl fmt::Display for PauseFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::LicenceExceeded => {
                "log_license_exceeds=True: the account's log licence is exceeded"
            }
            Self::BlockedLogType => "blocked_logtype=True: Site24x7 blocked this log type",
        })
    }
}

/// Why an attempt failed in a way worth retrying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetryCause {
    /// A 2xx without the `x-uploadid` receipt: delivery is not confirmed.
    NoUploadId {
        /// The status.
        status: u16,
    },
    /// 429 Too Many Requests.
    Throttled,
    /// 5xx, or 408 Request Timeout.
    Server {
        /// The status.
        status: u16,
    },
    /// Connect or read timeout.
    Timeout {
        /// What timed out, from the HTTP client.
        detail: String,
    },
    /// Connection refused, reset or closed early; other transport failures.
    Transport {
        /// The HTTP client's error chain.
        detail: String,
    },
}

impl RetryCause {
    /// The HTTP status, when there was a response.
    #[must_use]
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::NoUploadId { status } | Self::Server { status } => Some(*status),
            Self::Throttled => Some(429),
            Self::Timeout { .. } | Self::Transport { .. } => None,
        }
    }
}

impl fmt::Display for RetryCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoUploadId { status } => write!(f, "HTTP {status} without an x-uploadid header"),
            Self::Throttled => f.write_str("HTTP 429 Too Many Requests"),
            Self::Server { status } => write!(f, "HTTP {status}"),
            Self::Timeout { detail } => write!(f, "timeout: {detail}"),
            Self::Transport { detail } => write!(f, "connection error: {detail}"),
        }
    }
}

/// The meaning of one response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Accepted {
        upload_id: String,
    },
    Retry {
        cause: RetryCause,
        retry_after: Option<Duration>,
    },
    Config(ConfigFlag),
    Paused(PauseFlag),
    Rejected,
}

/// Classifies a response from its status and headers.
///
/// The flag headers are read whatever the status (Site24x7's Fluentd plugin
/// reads them on a 400, its Logstash plugin reads upper-case forms on a 200),
/// with names and values compared case-insensitively and `-` taken as `_`.
pub(crate) fn classify(status: StatusCode, headers: &HeaderMap, now: SystemTime) -> Verdict {
    if let Some(flag) = config_flag(headers) {
        return Verdict::Config(flag);
    }
    if let Some(flag) = pause_flag(headers) {
        return Verdict::Paused(flag);
    }
    let code = status.as_u16();
    let retry_after = || {
        headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, now))
    };
    if status.is_success() {
        return match headers
            .get("x-uploadid")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
        {
            Some(id) if !id.is_empty() => Verdict::Accepted {
                upload_id: id.to_owned(),
            },
            _ => Verdict::Retry {
                cause: RetryCause::NoUploadId { status: code },
                retry_after: None,
            },
        };
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Verdict::Retry {
            cause: RetryCause::Throttled,
            retry_after: retry_after(),
        };
    }
    if status.is_server_error() || status == StatusCode::REQUEST_TIMEOUT {
        return Verdict::Retry {
            cause: RetryCause::Server { status: code },
            retry_after: retry_after(),
        };
    }
    Verdict::Rejected
}

fn flag(headers: &HeaderMap, name: &str, value: &str) -> bool {
    headers.iter().any(|(header, v)| {
        header.as_str().replace('-', "_").eq_ignore_ascii_case(name)
            && v.to_str()
                .is_ok_and(|v| v.trim().eq_ignore_ascii_case(value))
    })
}

fn config_flag(headers: &HeaderMap) -> Option<ConfigFlag> {
    if flag(headers, "invalid_account", "true") {
        Some(ConfigFlag::InvalidAccount)
    } else if flag(headers, "invalid_logtype", "true") {
        Some(ConfigFlag::InvalidLogType)
    } else if flag(headers, "api_upload_enabled", "false") {
        Some(ConfigFlag::ApiUploadDisabled)
    } else {
        None
    }
}

fn pause_flag(headers: &HeaderMap) -> Option<PauseFlag> {
    if flag(headers, "log_license_exceeds", "true") {
        Some(PauseFlag::LicenceExceeded)
    } else if flag(headers, "blocked_logtype", "true") {
        Some(PauseFlag::BlockedLogType)
    } else {
        None
    }
}

/// Reads `Retry-After` as delay-seconds or an HTTP date (a date in the past
/// means "now"). Unreadable values give `None`, so normal backoff applies.
#[must_use]
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(date.timestamp()).ok()?);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use reqwest::StatusCode;
    use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

    use super::{ConfigFlag, PauseFlag, RetryCause, Verdict, classify, parse_retry_after};

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .filter_map(|(name, value)| {
                Some((
                    HeaderName::from_bytes(name.as_bytes()).ok()?,
                    HeaderValue::from_str(value).ok()?,
                ))
            })
            .collect()
    }

    #[test]
    fn responses_are_classified_like_site24x7_clients_do() {
        let now = SystemTime::UNIX_EPOCH;
        let retry = |cause, secs: Option<u64>| Verdict::Retry {
            cause,
            retry_after: secs.map(Duration::from_secs),
        };
        type Case = (u16, Vec<(&'static str, &'static str)>, Verdict);
        let cases: Vec<Case> = vec![
            (
                200,
                vec![("x-uploadid", "u-1")],
                Verdict::Accepted {
                    upload_id: "u-1".into(),
                },
            ),
            (
                200,
                vec![],
                retry(RetryCause::NoUploadId { status: 200 }, None),
            ),
            (
                200,
                vec![("x-uploadid", " ")],
                retry(RetryCause::NoUploadId { status: 200 }, None),
            ),
            (
                429,
                vec![("retry-after", "7")],
                retry(RetryCause::Throttled, Some(7)),
            ),
            (429, vec![], retry(RetryCause::Throttled, None)),
            (
                503,
                vec![("retry-after", "2")],
                retry(RetryCause::Server { status: 503 }, Some(2)),
            ),
            (500, vec![], retry(RetryCause::Server { status: 500 }, None)),
            (408, vec![], retry(RetryCause::Server { status: 408 }, None)),
            (
                400,
                vec![("invalid_account", "True")],
                Verdict::Config(ConfigFlag::InvalidAccount),
            ),
            (
                400,
                vec![("INVALID_LOGTYPE", "TRUE")],
                Verdict::Config(ConfigFlag::InvalidLogType),
            ),
            (
                400,
                vec![("Api_Upload_Enabled", "false")],
                Verdict::Config(ConfigFlag::ApiUploadDisabled),
            ),
            (400, vec![("api_upload_enabled", "True")], Verdict::Rejected),
            (
                400,
                vec![("log_license_exceeds", "True")],
                Verdict::Paused(PauseFlag::LicenceExceeded),
            ),
            (
                200,
                vec![("LOG_LICENSE_EXCEEDS", "TRUE")],
                Verdict::Paused(PauseFlag::LicenceExceeded),
            ),
            (
                400,
                vec![("blocked-logtype", "true")],
                Verdict::Paused(PauseFlag::BlockedLogType),
            ),
            (400, vec![("invalid_account", "False")], Verdict::Rejected),
            (413, vec![], Verdict::Rejected),
            (404, vec![], Verdict::Rejected),
            (301, vec![], Verdict::Rejected),
        ];
        for (status, pairs, want) in cases {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT);
            assert_eq!(
                classify(status, &headers(&pairs), now),
                want,
                "status {status} headers {pairs:?}"
            );
        }
    }

    #[test]
    fn retry_after_accepts_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        let cases = [
            ("120", Some(120)),
            (" 3 ", Some(3)),
            ("Wed, 21 Oct 2015 07:28:30 GMT", Some(30)),
            ("Wed, 21 Oct 2015 07:27:00 GMT", Some(0)),
            ("soon", None),
            ("-5", None),
        ];
        for (value, want) in cases {
            assert_eq!(
                parse_retry_after(value, now),
                want.map(Duration::from_secs),
                "Retry-After {value:?}"
            );
        }
    }
}
