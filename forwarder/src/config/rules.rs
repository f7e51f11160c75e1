//! The nested `logTypeConfig` keys (`filterConfig`, `maskingConfig`, `hashingConfig`,
//! `derivedConfig`, `configTypes`) and the value readers every key shares: each checked once,
//! with the key path and the fix in the error.

use regex::Regex;
use serde_json::{Map, Value};

use super::ConfigError;
use crate::pattern;

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

pub(super) fn invalid(key: impl Into<String>, problem: &str, fix: &'static str) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        problem: problem.into(),
        fix,
    }
}

pub(super) fn required<'a>(
    map: &'a Map<String, Value>,
    key: &'static str,
    fix: &'static str,
) -> Result<&'a str, ConfigError> {
    match optional_str(map, key)? {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(ConfigError::Missing { key, fix }),
    }
}

pub(super) fn optional_str<'a>(
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

pub(super) fn compile_at(key: &str, pattern: &str) -> Result<Regex, ConfigError> {
    pattern::compile(pattern).map_err(|problem| ConfigError::Regex {
        key: key.to_owned(),
        problem,
    })
}

/// A list of strings, also accepting one string (some profiles hold a single value).
pub(super) fn string_list(value: Option<&Value>, key: &str) -> Result<Vec<String>, ConfigError> {
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

pub(super) fn filters(value: Option<&Value>) -> Result<Vec<FilterRule>, ConfigError> {
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

pub(super) fn rewrites(
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

pub(super) fn derived(value: Option<&Value>) -> Result<Vec<DerivedRule>, ConfigError> {
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

pub(super) fn config_types(value: Option<&Value>) -> Result<Vec<KeySegment>, ConfigError> {
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
