//! `logTypeConfig`: the Site24x7 log profile's settings, decoded and validated once.
//!
//! The value Site24x7 shows is base64 of a JSON object (standard or URL-safe alphabet, padded or
//! not, all accepted). Every key of the reference is read; unknown keys are ignored so a newer
//! profile still loads. Values are checked up front so a bad profile fails at start with the key
//! and the fix, never per record. `apiKey` lives in a [`Secret`] and no error echoes a value.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use regex::Regex;
use serde_json::{Map, Value};

use crate::limits::{MAX_CONFIG_BYTES, excerpt};
use crate::pattern::{self, PatternError};
use crate::secret::Secret;
use crate::timestamp::{self, DateFormat, DateFormatError};

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

/// `filterConfig` entry: keep a record only when "any regex matches" equals `matches`.
#[derive(Debug, Clone)]
pub struct FilterRule {
    /// Field the rule looks at.
    pub field: String,
    /// `match`: whether a matching value keeps (true) or drops (false) the record.
    pub matches: bool,
    /// `values`: the regexes.
    pub values: Vec<Regex>,
}

/// `maskingConfig` / `hashingConfig` entry: capture groups of `regex` are replaced.
#[derive(Debug, Clone)]
pub struct RewriteRule {
    /// Field rewritten.
    pub field: String,
    /// Whose capture groups (or whole match when it has none) are replaced.
    pub regex: Regex,
    /// Masking replaces with this string; hashing (`None`) with the SHA-256 hex of the capture.
    pub mask: Option<String>,
}

/// `derivedConfig` entry: the first regex matching inside `field` adds its named groups.
#[derive(Debug, Clone)]
pub struct DerivedRule {
    /// Field searched.
    pub field: String,
    /// Candidate regexes, tried in order.
    pub regexes: Vec<Regex>,
}

/// `configTypes` entry: a field whose value is a segment of the S3 key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySegment {
    /// Field added to every record.
    pub field: String,
    /// Zero-based index into the key split on `/` (`@filepath:N`).
    pub index: usize,
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

fn invalid(key: impl Into<String>, problem: &str, fix: &'static str) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        problem: problem.into(),
        fix,
    }
}

fn required<'a>(
    map: &'a Map<String, Value>,
    key: &'static str,
    fix: &'static str,
) -> Result<&'a str, ConfigError> {
    match optional_str(map, key)? {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ConfigError::Missing { key, fix }),
    }
}

fn optional_str<'a>(
    map: &'a Map<String, Value>,
    key: &str,
) -> Result<Option<&'a str>, ConfigError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(invalid(
            key,
            "is not a string",
            "write the value in double quotes",
        )),
    }
}

fn compile_at(key: &str, pattern: &str) -> Result<Regex, ConfigError> {
    pattern::compile(pattern).map_err(|problem| ConfigError::Regex {
        key: key.to_owned(),
        problem,
    })
}

/// A list of strings, also accepting one string (some profiles hold a single value).
fn string_list(value: Option<&Value>, key: &str) -> Result<Vec<String>, ConfigError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                _ => Err(invalid(key, "holds a non-string item", "list strings only")),
            })
            .collect(),
        Some(_) => Err(invalid(
            key,
            "is not a list",
            "write a JSON list of strings",
        )),
    }
}

fn object<'a>(
    value: Option<&'a Value>,
    key: &str,
) -> Result<Option<&'a Map<String, Value>>, ConfigError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(invalid(key, "is not an object", "write {\"field\": {…}}")),
    }
}

fn filters(value: Option<&Value>) -> Result<Vec<FilterRule>, ConfigError> {
    let Some(map) = object(value, "filterConfig")? else {
        return Ok(Vec::new());
    };
    let mut rules = Vec::new();
    for (field, spec) in map {
        let key = format!("filterConfig.{field}");
        let spec = object(Some(spec), &key)?.unwrap_or(&EMPTY);
        let matches = match spec.get("match") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
            _ => {
                return Err(invalid(
                    format!("{key}.match"),
                    "is not true or false",
                    "set \"match\": true or false",
                ));
            }
        };
        let values = string_list(spec.get("values"), &format!("{key}.values"))?
            .iter()
            .map(|p| compile_at(&format!("{key}.values"), p))
            .collect::<Result<Vec<_>, _>>()?;
        if values.is_empty() {
            return Err(invalid(
                format!("{key}.values"),
                "is empty",
                "list at least one regex",
            ));
        }
        rules.push(FilterRule {
            field: field.clone(),
            matches,
            values,
        });
    }
    Ok(rules)
}

static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

fn rewrites(
    value: Option<&Value>,
    name: &str,
    masking: bool,
) -> Result<Vec<RewriteRule>, ConfigError> {
    let Some(map) = object(value, name)? else {
        return Ok(Vec::new());
    };
    let mut rules = Vec::new();
    for (field, spec) in map {
        let key = format!("{name}.{field}");
        let spec = object(Some(spec), &key)?.unwrap_or(&EMPTY);
        let pattern = optional_str(spec, "regex")?.ok_or_else(|| {
            invalid(
                format!("{key}.regex"),
                "is missing",
                "give the regex whose groups are replaced",
            )
        })?;
        let regex = compile_at(&format!("{key}.regex"), pattern)?;
        let mask = if masking {
            let s = optional_str(spec, "string")?.ok_or_else(|| {
                invalid(
                    format!("{key}.string"),
                    "is missing",
                    "give the replacement string",
                )
            })?;
            Some(s.to_owned())
        } else {
            None
        };
        rules.push(RewriteRule {
            field: field.clone(),
            regex,
            mask,
        });
    }
    Ok(rules)
}

fn derived(value: Option<&Value>) -> Result<Vec<DerivedRule>, ConfigError> {
    let Some(map) = object(value, "derivedConfig")? else {
        return Ok(Vec::new());
    };
    let mut rules = Vec::new();
    for (field, spec) in map {
        let key = format!("derivedConfig.{field}");
        let regexes = string_list(Some(spec), &key)?
            .iter()
            .map(|p| compile_at(&key, p))
            .collect::<Result<Vec<_>, _>>()?;
        rules.push(DerivedRule {
            field: field.clone(),
            regexes,
        });
    }
    Ok(rules)
}

fn config_types(value: Option<&Value>) -> Result<Vec<KeySegment>, ConfigError> {
    let Some(map) = object(value, "configTypes")? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (field, spec) in map {
        let key = format!("configTypes.{field}");
        let index = spec
            .as_str()
            .and_then(|s| s.strip_prefix("@filepath:"))
            .and_then(|n| n.trim().parse::<usize>().ok())
            .ok_or_else(|| {
                invalid(
                    key,
                    "is not \"@filepath:N\"",
                    "write \"@filepath:N\" with N the zero-based segment of the S3 key",
                )
            })?;
        out.push(KeySegment {
            field: field.clone(),
            index,
        });
    }
    Ok(out)
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
