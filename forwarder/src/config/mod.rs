//! `logTypeConfig`: the Site24x7 log profile's settings, decoded and validated once.
//!
//! The value Site24x7 shows is base64 of a JSON object (standard or URL-safe alphabet, padded or
//! not, all accepted). Every key of the reference is read; unknown keys are ignored so a newer
//! profile still loads. Values are checked up front so a bad profile fails at start with the key
//! and the fix, never per record. `apiKey` lives in a [`Secret`] and no error echoes a value.
//! Input is bounded by [`crate::limits`]: at most 1 MiB of configuration, and every regex
//! within the group and size limits. The nested keys are read in `rules`.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use regex::Regex;
use serde_json::{Map, Value};

mod rules;

pub use rules::{DerivedRule, FilterRule, KeySegment, RewriteRule};

use crate::limits::{MAX_CONFIG_BYTES, excerpt};
use crate::pattern::{self, PatternError};
use crate::secret::Secret;
use crate::timestamp::{self, DateFormat, DateFormatError};
use rules::{
    compile_at, config_types, derived, filters, optional_str, required, rewrites, string_list,
};

/// A `logTypeConfig` that cannot be used, naming the key and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not base64 in either alphabet.
    #[error(
        "logTypeConfig is not base64 ({reason}); fix: paste the value exactly as the Site24x7 log profile shows it, or give a JSON file"
    )]
    Base64 {
        /// The decoder's complaint (no input echoed).
        reason: String,
    },
    /// Not JSON at all.
    #[error(
        "logTypeConfig is not valid JSON (line {line}, column {column}: {category}); fix: check \
         the base64 value or the file's JSON"
    )]
    Json {
        /// Line of the syntax error.
        line: usize,
        /// Column of the syntax error.
        column: usize,
        /// Kind of error ("syntax", "eof", "data").
        category: &'static str,
    },
    /// Valid JSON, but an array, a string, a number … instead of an object.
    #[error(
        "logTypeConfig is JSON but not an object (found {found}); fix: the config is one object \
         such as {{\"apiKey\":…,\"logType\":…,\"uploadDomain\":…}}"
    )]
    NotAnObject {
        /// What was found: "an array", "a string", "a number", "a boolean" or "null".
        found: &'static str,
    },
    /// Larger than [`MAX_CONFIG_BYTES`]: not a Site24x7 profile (which is a few kilobytes).
    #[error(
        "{what} is larger than 1 MiB, the limit for a logTypeConfig; fix: give the log \
         profile's value as Site24x7 shows it (a few kilobytes)"
    )]
    TooLarge {
        /// What was too large: "logTypeConfig" or "config file PATH".
        what: String,
    },
    /// A required key is absent or empty.
    #[error("logTypeConfig has no `{key}`; fix: {fix}")]
    Missing {
        /// The key.
        key: &'static str,
        /// What to set it to.
        fix: &'static str,
    },
    /// A key has the wrong shape or value.
    #[error("logTypeConfig key `{}` {problem}; fix: {fix}", excerpt(key))]
    Invalid {
        /// The key, with the sub-key when nested (`maskingConfig.srcaddr.regex`).
        key: String,
        /// What is wrong (never the value of `apiKey`).
        problem: String,
        /// How to correct it.
        fix: &'static str,
    },
    /// A regex (`regex`, `dateRegex`, filter/masking/hashing/derived) that cannot be used.
    #[error("logTypeConfig key `{}` holds a regex that {problem}", excerpt(key))]
    Regex {
        /// The key holding the regex.
        key: String,
        /// What is wrong with it (part of the message, so not an error `source`: printed once).
        problem: PatternError,
    },
    /// `dateFormat` or `timezone` cannot be used.
    #[error("logTypeConfig key `{key}`: {problem}")]
    Date {
        /// `dateFormat` or `timezone`.
        key: &'static str,
        /// What is wrong with it (part of the message, so not an error `source`).
        problem: DateFormatError,
    },
    /// The config file could not be read.
    #[error("cannot read config file {}: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error (part of the message, so not an error `source`).
        error: std::io::Error,
    },
}

/// The validated `logTypeConfig`. `Debug` shows every setting except the redacted `apiKey`.
#[derive(Clone)]
pub struct LogTypeConfig {
    api_key: Secret,
    log_type: String,
    upload_domain: String,
    /// `regex` (translated, compiled) for lines that are not flow logs with a header.
    pub regex: Option<Regex>,
    /// `dateRegex`: kept for multi-line logs (flow logs never use it).
    pub date_regex: Option<Regex>,
    /// `dateField`: the field read into `_zl_timestamp`.
    pub date_field: Option<String>,
    /// `dateFormat`, interpreted.
    pub date_format: DateFormat,
    /// `timezone` in seconds east of UTC (0 when absent).
    pub timezone_offset_s: i32,
    /// `ignoredFields`.
    pub ignored_fields: Vec<String>,
    /// `filterConfig`, sorted by field.
    pub filters: Vec<FilterRule>,
    /// `maskingConfig`, sorted by field.
    pub masking: Vec<RewriteRule>,
    /// `hashingConfig`, sorted by field.
    pub hashing: Vec<RewriteRule>,
    /// `derivedConfig`, sorted by field.
    pub derived: Vec<DerivedRule>,
    /// `configTypes`, sorted by field.
    pub config_types: Vec<KeySegment>,
    /// Set once the "no usable dateField" warning was logged: once per run, shared by clones.
    date_field_warned: Arc<AtomicBool>,
}

impl std::fmt::Debug for LogTypeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogTypeConfig")
            .field("api_key", &self.api_key)
            .field("log_type", &self.log_type)
            .field("upload_domain", &self.upload_domain)
            .field("regex", &self.regex)
            .field("date_regex", &self.date_regex)
            .field("date_field", &self.date_field)
            .field("date_format", &self.date_format)
            .field("timezone_offset_s", &self.timezone_offset_s)
            .field("ignored_fields", &self.ignored_fields)
            .field("filters", &self.filters)
            .field("masking", &self.masking)
            .field("hashing", &self.hashing)
            .field("derived", &self.derived)
            .field("config_types", &self.config_types)
            .finish()
    }
}

const SITE24X7_VPC_REGEX: &str = concat!(
    r"^(?P<version>\S+)\s+(?P<account_id>\S+)\s+(?P<interface_id>\S+)\s+(?P<srcaddr>\S+)\s+",
    r"(?P<dstaddr>\S+)\s+(?P<srcport>\S+)\s+(?P<dstport>\S+)\s+(?P<protocol>\S+)\s+",
    r"(?P<packets>\S+)\s+(?P<bytes>\S+)\s+(?P<start>\S+)\s+(?P<end>\S+)\s+(?P<action>\S+)\s+",
    r"(?P<log_status>\S+)\s*$"
);

impl LogTypeConfig {
    /// Decodes the `logTypeConfig` environment variable (base64 of JSON, either alphabet,
    /// padding optional; whitespace and byte order marks ignored).
    ///
    /// # Errors
    /// [`ConfigError`] naming the bad or missing key; [`ConfigError::TooLarge`] when the value
    /// cannot be the base64 of at most [`MAX_CONFIG_BYTES`].
    pub fn from_env_value(value: &str) -> Result<Self, ConfigError> {
        // Base64 is 4/3 of the JSON; twice the JSON's limit leaves room for line breaks.
        if value.len() > 2 * MAX_CONFIG_BYTES {
            return Err(ConfigError::TooLarge {
                what: "logTypeConfig".into(),
            });
        }
        let compact: String = value
            .chars()
            .filter(|c| !c.is_ascii_whitespace() && *c != BOM)
            .collect();
        let lenient = GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true);
        let standard = GeneralPurpose::new(&base64::alphabet::STANDARD, lenient);
        let url_safe = GeneralPurpose::new(&base64::alphabet::URL_SAFE, lenient);
        let bytes = standard
            .decode(&compact)
            .or_else(|_| url_safe.decode(&compact))
            .map_err(|e| ConfigError::Base64 {
                reason: base64_reason(&e),
            })?;
        Self::from_json_bytes(&bytes)
    }

    /// Reads a config file holding either the JSON object or its base64 (a UTF-8 byte order
    /// mark is skipped); at most [`MAX_CONFIG_BYTES`] are read.
    ///
    /// # Errors
    /// [`ConfigError::Read`], [`ConfigError::TooLarge`] or a decoding/validation error.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let read_error = |error| ConfigError::Read {
            path: path.to_owned(),
            error,
        };
        let file = std::fs::File::open(path).map_err(read_error)?;
        let mut text = Vec::new();
        file.take(MAX_CONFIG_BYTES as u64 + 1)
            .read_to_end(&mut text)
            .map_err(read_error)?;
        if text.len() > MAX_CONFIG_BYTES {
            return Err(ConfigError::TooLarge {
                what: format!("config file {}", excerpt(&path.display().to_string())),
            });
        }
        let text = strip_bom(&text);
        let start = text.iter().find(|b| !b.is_ascii_whitespace()).copied();
        // JSON when it parses as JSON or starts like a JSON object or array; else base64.
        match serde_json::from_slice::<Value>(text) {
            Ok(value) => Self::from_value(value),
            Err(error) if matches!(start, Some(b'{' | b'[' | b'"')) => Err(json_error(&error)),
            Err(_) => Self::from_env_value(&String::from_utf8_lossy(text)),
        }
    }

    /// Validates a decoded JSON object (a leading UTF-8 byte order mark is skipped).
    ///
    /// # Errors
    /// [`ConfigError`] naming the bad or missing key; [`ConfigError::TooLarge`] over
    /// [`MAX_CONFIG_BYTES`].
    pub fn from_json_bytes(bytes: &[u8]) -> Result<Self, ConfigError> {
        if bytes.len() > MAX_CONFIG_BYTES {
            return Err(ConfigError::TooLarge {
                what: "logTypeConfig".into(),
            });
        }
        let value: Value = serde_json::from_slice(strip_bom(bytes)).map_err(|e| json_error(&e))?;
        Self::from_value(value)
    }

    fn from_value(value: Value) -> Result<Self, ConfigError> {
        let found = match value {
            Value::Object(map) => return Self::from_map(&map),
            Value::Array(_) => "an array",
            Value::String(_) => "a string",
            Value::Number(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Null => "null",
        };
        Err(ConfigError::NotAnObject { found })
    }

    /// Runs `warn` the first time any clone of this config asks: for the warning that records
    /// get the time of parsing because no `dateField` value can be read (once per run).
    pub fn warn_once_about_date_field(&self, warn: impl FnOnce()) {
        if !self.date_field_warned.swap(true, Ordering::Relaxed) {
            warn();
        }
    }

    /// The built-in Site24x7-style VPC Flow Logs profile `parse` uses without `--config`:
    /// one named group per default-format field, `dateField` `start`, `dateFormat` `unix`.
    #[must_use]
    pub fn builtin_vpc() -> Self {
        let regex = pattern::compile(SITE24X7_VPC_REGEX).ok();
        Self {
            api_key: Secret::new("dry-run"),
            log_type: "vpc_flow_logs".into(),
            upload_domain: "logc.site24x7.com".into(),
            regex,
            date_regex: None,
            date_field: Some("start".into()),
            date_format: DateFormat::UnixSeconds,
            timezone_offset_s: 0,
            ignored_fields: Vec::new(),
            filters: Vec::new(),
            masking: Vec::new(),
            hashing: Vec::new(),
            derived: Vec::new(),
            config_types: Vec::new(),
            date_field_warned: Arc::default(),
        }
    }

    /// The Site24x7-style regex of [`LogTypeConfig::builtin_vpc`], in Python syntax.
    #[must_use]
    pub fn builtin_vpc_regex() -> &'static str {
        SITE24X7_VPC_REGEX
    }

    /// `https://{uploadDomain}/upload`, where batches are POSTed.
    #[must_use]
    pub fn upload_url(&self) -> String {
        format!("https://{}/upload", self.upload_domain)
    }

    /// `apiKey`, sent as `X-DeviceKey`.
    #[must_use]
    pub fn api_key(&self) -> &Secret {
        &self.api_key
    }

    /// `logType`, sent as `X-LogType`.
    #[must_use]
    pub fn log_type(&self) -> &str {
        &self.log_type
    }

    /// `uploadDomain`, the host of the upload endpoint.
    #[must_use]
    pub fn upload_domain(&self) -> &str {
        &self.upload_domain
    }

    fn from_map(map: &Map<String, Value>) -> Result<Self, ConfigError> {
        let api_key = required(
            map,
            "apiKey",
            "set it to the device key of your Site24x7 account",
        )?;
        let log_type = required(map, "logType", "set it to the log type of the log profile")?;
        let upload_domain = required(
            map,
            "uploadDomain",
            "set it to the upload host, e.g. logc.site24x7.com",
        )?;
        if let Err(problem) = check_host_port(upload_domain) {
            return Err(ConfigError::Invalid {
                key: "uploadDomain".into(),
                problem: format!("is not a host name with an optional port: {problem}"),
                fix: "write only the host, e.g. logc.site24x7.com, or host:port (no https://, \
                      user, path, query or fragment)",
            });
        }
        let regex = optional_str(map, "regex")?
            .map(|p| compile_at("regex", p))
            .transpose()?;
        let date_regex = optional_str(map, "dateRegex")?
            .map(|p| compile_at("dateRegex", p))
            .transpose()?;
        let date_field = optional_str(map, "dateField")?.map(str::to_owned);
        let date_format =
            DateFormat::parse(optional_str(map, "dateFormat")?).map_err(|problem| {
                ConfigError::Date {
                    key: "dateFormat",
                    problem,
                }
            })?;
        let timezone_offset_s = optional_str(map, "timezone")?
            .map(timestamp::parse_offset)
            .transpose()
            .map_err(|problem| ConfigError::Date {
                key: "timezone",
                problem,
            })?
            .unwrap_or(0);
        Ok(Self {
            api_key: Secret::new(api_key),
            log_type: log_type.to_owned(),
            upload_domain: upload_domain.to_owned(),
            regex,
            date_regex,
            date_field,
            date_format,
            timezone_offset_s,
            ignored_fields: string_list(map.get("ignoredFields"), "ignoredFields")?,
            filters: filters(map.get("filterConfig"))?,
            masking: rewrites(map.get("maskingConfig"), "maskingConfig", true)?,
            hashing: rewrites(map.get("hashingConfig"), "hashingConfig", false)?,
            derived: derived(map.get("derivedConfig"))?,
            config_types: config_types(map.get("configTypes"))?,
            date_field_warned: Arc::default(),
        })
    }
}

/// The UTF-8 byte order mark some editors put at the start of a file.
const BOM: char = '\u{feff}';

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

fn json_error(e: &serde_json::Error) -> ConfigError {
    ConfigError::Json {
        line: e.line(),
        column: e.column(),
        category: match e.classify() {
            serde_json::error::Category::Io => "io",
            serde_json::error::Category::Syntax => "syntax",
            serde_json::error::Category::Data => "data",
            serde_json::error::Category::Eof => "unexpected end",
        },
    }
}

/// Checks `uploadDomain` is `host` or `host:port` (a DNS name, an IPv4 address or a bracketed
/// IPv6 address), so nothing of it can become a user, a path, a query or another host.
fn check_host_port(value: &str) -> Result<(), String> {
    let (host, port) = if let Some(rest) = value.strip_prefix('[') {
        let (inside, after) = rest
            .split_once(']')
            .ok_or_else(|| "an IPv6 address without its closing `]`".to_owned())?;
        if inside.is_empty()
            || !inside
                .chars()
                .all(|c| c.is_ascii_hexdigit() || ":.".contains(c))
        {
            return Err("the bracketed IPv6 address is not one".into());
        }
        match after {
            "" => (None, None),
            _ => (
                None,
                Some(
                    after
                        .strip_prefix(':')
                        .ok_or_else(|| "text after the IPv6 address".to_owned())?,
                ),
            ),
        }
    } else {
        match value.split_once(':') {
            Some((host, port)) => (Some(host), Some(port)),
            None => (Some(value), None),
        }
    };
    if let Some(port) = port
        && (port.is_empty()
            || !port.bytes().all(|b| b.is_ascii_digit())
            || !port.parse::<u16>().is_ok_and(|p| p > 0))
    {
        return Err(format!("the port {:?} is not 1 to 65535", excerpt(port)));
    }
    let Some(host) = host else { return Ok(()) };
    if let Some(c) = host
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-')))
    {
        return Err(format!("it holds {c:?}"));
    }
    if host.len() > 253 {
        return Err("it is longer than 253 characters".into());
    }
    for label in host.split('.') {
        if label.is_empty() || label.len() > 63 || label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "{:?} is not a DNS label (1 to 63 letters, digits or inner hyphens)",
                excerpt(label)
            ));
        }
    }
    Ok(())
}

fn base64_reason(e: &base64::DecodeError) -> String {
    match e {
        base64::DecodeError::InvalidByte(offset, _) => {
            format!("invalid character at offset {offset}")
        }
        base64::DecodeError::InvalidLength(len) => format!("invalid length {len}"),
        base64::DecodeError::InvalidLastSymbol(offset, _) => {
            format!("invalid last symbol at offset {offset}")
        }
        base64::DecodeError::InvalidPadding => "invalid padding".into(),
    }
}

/// Encodes a JSON config as the standard base64 Site24x7 issues (used by tests and docs).
#[must_use]
pub fn encode_env_value(json: &str) -> String {
    general_purpose::STANDARD.encode(json)
}

/// Every `logTypeConfig` key this forwarder reads (`jsonPath`, `ml_regex`, `ml_end_regex` are
/// accepted and ignored: flow logs do not use them).
pub const KNOWN_KEYS: &[&str] = &[
    "apiKey",
    "logType",
    "uploadDomain",
    "regex",
    "dateRegex",
    "dateField",
    "dateFormat",
    "timezone",
    "ignoredFields",
    "filterConfig",
    "maskingConfig",
    "hashingConfig",
    "derivedConfig",
    "configTypes",
    "jsonPath",
    "ml_regex",
    "ml_end_regex",
];
