//! Site24x7 records: one flat JSON object per line, written straight into the batch buffer.
//!
//! A `RecordPlan` is built once per object (its field list is known after the header) and
//! renders each line's values in this order: the parsed fields (minus `ignoredFields`, with
//! `maskingConfig` then `hashingConfig` applied), `derivedConfig` fields, `configTypes` fields,
//! then `_zl_timestamp` (a JSON number, epoch ms) and `s247agentuid` (the bucket name).
//! `filterConfig` is checked first, on the values as parsed. Values stay the line's text;
//! an empty or unmatched value is `-`.

use std::borrow::Cow;

use sha2::{Digest as _, Sha256};

use crate::config::{FilterRule, LogTypeConfig, RewriteRule};
use crate::json;
use crate::timestamp::DateFormat;

/// Where an object came from, and when it is parsed: what records take from outside the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectContext {
    /// S3 bucket: every record's `s247agentuid`.
    pub bucket: String,
    /// S3 key: the source of `configTypes` segments.
    pub key: String,
    /// Time of parsing in epoch ms: `_zl_timestamp` for `agent_time` and for records without
    /// the date field, and the year of year-less date patterns.
    pub now_ms: i64,
}

impl ObjectContext {
    /// A context stamped with the current time.
    #[must_use]
    pub fn now(bucket: impl Into<String>, key: impl Into<String>) -> Self {
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Self {
            bucket: bucket.into(),
            key: key.into(),
            now_ms,
        }
    }
}

/// A value's position in the line; [`UNMATCHED`] stands for a group that did not take part.
pub(crate) type Span = (usize, usize);

/// Span of a regex group that did not participate: rendered as `-`.
pub(crate) const UNMATCHED: Span = (usize::MAX, 0);

/// Why a line produced no record although it parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Skip {
    /// `filterConfig` dropped it.
    Filtered,
    /// The date field does not fit `dateFormat`.
    BadTimestamp,
}

struct Column<'c> {
    /// `"name":`, or `None` when the field is ignored.
    prefix: Option<Vec<u8>>,
    rewrites: Vec<&'c RewriteRule>,
}

/// A derived regex and its groups: (group index, `"name":` or `None` when ignored).
type DerivedRegex<'c> = (&'c regex::Regex, Vec<(usize, Option<Vec<u8>>)>);

struct DerivedPlan<'c> {
    column: usize,
    regexes: Vec<DerivedRegex<'c>>,
}

/// A column's `","name":"`, padded so it can be copied as one fixed-width move.
struct Opener {
    padded: Vec<u8>,
    len: usize,
}

impl Opener {
    fn new(mut bytes: Vec<u8>) -> Self {
        let len = bytes.len();
        bytes.resize(len.max(SHORT), b' ');
        Self { padded: bytes, len }
    }
}

/// Copies of at most this many bytes are made as one fixed-width move.
const SHORT: usize = 32;

/// Appends `src[start..end]`. Flow-log values and keys are short, and a call to `memcpy` per
/// value costs more than the copy: when `src` has the bytes, a fixed 16 or 32 bytes are copied
/// (one unaligned move each) and the excess cut off again.
#[inline]
fn push_short(buf: &mut Vec<u8>, src: &[u8], start: usize, end: usize) {
    let len = end - start;
    if len <= 16 && start + 16 <= src.len() {
        buf.extend_from_slice(&src[start..start + 16]);
        buf.truncate(buf.len() - (16 - len));
    } else if len <= SHORT && start + SHORT <= src.len() {
        buf.extend_from_slice(&src[start..start + SHORT]);
        buf.truncate(buf.len() - (SHORT - len));
    } else {
        buf.extend_from_slice(&src[start..end]);
    }
}

/// The per-object rendering plan for one field list.
pub(crate) struct RecordPlan<'c> {
    columns: Vec<Column<'c>>,
    date_column: Option<usize>,
    date_format: &'c DateFormat,
    offset_s: i32,
    filters: Vec<(usize, &'c FilterRule)>,
    derived: Vec<DerivedPlan<'c>>,
    /// Rendered `configTypes` fields, each followed by `,`.
    key_fields: Vec<u8>,
    /// `,"s247agentuid":"bucket"}`.
    tail: Vec<u8>,
    now_ms: i64,
    /// When every column is kept as parsed (no ignored, masked, hashed or derived field):
    /// each column's `"name":"`, preceded by `",` after the first. Records are then written
    /// in one pass of plain copies.
    plain_openers: Option<Vec<Opener>>,
    /// Bytes a record adds to its values (keys, quotes, fixed fields), to reserve once.
    overhead: usize,
}

impl<'c> RecordPlan<'c> {
    /// Builds the plan for `names` (JSON keys, already with `_` for `-`).
    pub(crate) fn new(config: &'c LogTypeConfig, names: &[String], ctx: &ObjectContext) -> Self {
        let ignored = |name: &str| config.ignored_fields.iter().any(|f| f == name);
        let position = |name: &str| names.iter().position(|n| n == name);
        let columns: Vec<Column<'c>> = names
            .iter()
            .map(|name| Column {
                prefix: (!ignored(name)).then(|| json::key_prefix(name)),
                rewrites: config
                    .masking
                    .iter()
                    .chain(&config.hashing)
                    .filter(|rule| &rule.field == name)
                    .collect(),
            })
            .collect();
        let derived: Vec<DerivedPlan<'c>> = config
            .derived
            .iter()
            .filter_map(|rule| {
                let column = position(&rule.field)?;
                let regexes = rule
                    .regexes
                    .iter()
                    .map(|re| {
                        let groups = crate::pattern::group_names(re)
                            .into_iter()
                            .map(|(i, n)| (i, (!ignored(&n)).then(|| json::key_prefix(&n))))
                            .collect();
                        (re, groups)
                    })
                    .collect();
                Some(DerivedPlan { column, regexes })
            })
            .collect();
        let mut key_fields = Vec::new();
        let segments: Vec<&str> = ctx.key.split('/').collect();
        for segment in &config.config_types {
            key_fields.extend_from_slice(&json::key_prefix(&segment.field));
            let value = segments
                .get(segment.index)
                .copied()
                .filter(|s| !s.is_empty());
            json::write_str(&mut key_fields, value.unwrap_or("-"));
            key_fields.push(b',');
        }
        let mut tail = b",\"s247agentuid\":".to_vec();
        json::write_str(&mut tail, &ctx.bucket);
        tail.push(b'}');
        let plain = derived.is_empty()
            && columns
                .iter()
                .all(|c: &Column<'_>| c.prefix.is_some() && c.rewrites.is_empty());
        let plain_openers = plain.then(|| {
            names
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let mut opener = if i == 0 { Vec::new() } else { b"\",".to_vec() };
                    opener.extend_from_slice(&json::key_prefix(name));
                    opener.push(b'"');
                    Opener::new(opener)
                })
                .collect::<Vec<_>>()
        });
        // Per column: its `"name":` plus quotes and a comma (an opener is the same bytes).
        let overhead = columns
            .iter()
            .filter_map(|c| c.prefix.as_ref().map(|p| p.len() + 3))
            .sum::<usize>()
            + key_fields.len()
            + tail.len()
            + 40;
        Self {
            columns,
            plain_openers,
            overhead,
            date_column: config.date_field.as_deref().and_then(position),
            date_format: &config.date_format,
            offset_s: config.timezone_offset_s,
            filters: config
                .filters
                .iter()
                .filter_map(|rule| Some((position(&rule.field)?, rule)))
                .collect(),
            derived,
            key_fields,
            tail,
            now_ms: ctx.now_ms,
        }
    }

    /// How many values a line must have.
    pub(crate) fn width(&self) -> usize {
        self.columns.len()
    }

    /// Appends the record for `spans` of `line` to `buf`; returns its Log-Size contribution.
    ///
    /// Nothing is written when the line is filtered or its date does not parse.
    pub(crate) fn write(&self, line: &str, spans: &[Span], buf: &mut Vec<u8>) -> Result<u64, Skip> {
        let value = |i: usize| -> &str {
            match spans.get(i) {
                Some(&(start, end)) if start != usize::MAX && start < end => &line[start..end],
                _ => "-",
            }
        };
        for (column, rule) in &self.filters {
            let v = value(*column);
            if rule.values.iter().any(|re| re.is_match(v)) != rule.matches {
                return Err(Skip::Filtered);
            }
        }
        let timestamp = match (self.date_format, self.date_column) {
            (DateFormat::AgentTime, _) | (_, None) => self.now_ms,
            (format, Some(column)) => format
                .epoch_ms(value(column), self.offset_s, self.now_ms)
                .ok_or(Skip::BadTimestamp)?,
        };
        buf.reserve(self.overhead + line.len());
        if let Some(openers) = &self.plain_openers {
            self.write_plain(openers, line, spans, timestamp, buf);
            return Ok(line.len() as u64);
        }
        let mut log_size = line.len() as i64;
        buf.push(b'{');
        for (i, column) in self.columns.iter().enumerate() {
            let original = value(i);
            let Some(prefix) = &column.prefix else {
                log_size -= original.len() as i64;
                continue;
            };
            buf.extend_from_slice(prefix);
            if column.rewrites.is_empty() {
                json::write_str(buf, original);
            } else {
                let mut v = Cow::Borrowed(original);
                for rule in &column.rewrites {
                    if let Cow::Owned(new) = rewrite(&v, rule) {
                        v = Cow::Owned(new);
                    }
                }
                log_size += v.len() as i64 - original.len() as i64;
                json::write_str(buf, &v);
            }
            buf.push(b',');
        }
        for plan in &self.derived {
            let source = value(plan.column);
            if let Some((caps, groups)) = plan
                .regexes
                .iter()
                .find_map(|(re, g)| re.captures(source).map(|c| (c, g)))
            {
                for (index, prefix) in groups {
                    let Some(prefix) = prefix else { continue };
                    let v = caps.get(*index).map_or("-", |m| m.as_str());
                    let v = if v.is_empty() { "-" } else { v };
                    log_size += v.len() as i64;
                    buf.extend_from_slice(prefix);
                    json::write_str(buf, v);
                    buf.push(b',');
                }
            }
        }
        self.write_end(timestamp, buf);
        Ok(u64::try_from(log_size).unwrap_or(0))
    }

    /// The record of a line whose columns are all kept as parsed: keys and values copied in
    /// one pass, escaping only when the line holds a character that needs it.
    fn write_plain(
        &self,
        openers: &[Opener],
        line: &str,
        spans: &[Span],
        timestamp: i64,
        buf: &mut Vec<u8>,
    ) {
        let bytes = line.as_bytes();
        let escape = json::needs_escape(bytes);
        buf.push(b'{');
        for (i, opener) in openers.iter().enumerate() {
            push_short(buf, &opener.padded, 0, opener.len);
            let (start, end) = match spans.get(i) {
                Some(&(start, end)) if start != usize::MAX && start < end => (start, end),
                _ => {
                    buf.push(b'-');
                    continue;
                }
            };
            if escape {
                json::write_str_content(buf, &line[start..end]);
            } else {
                push_short(buf, bytes, start, end);
            }
        }
        if !openers.is_empty() {
            buf.extend_from_slice(b"\",");
        }
        self.write_end(timestamp, buf);
    }

    /// `configTypes` fields, `_zl_timestamp` and `s247agentuid`, closing the record.
    fn write_end(&self, timestamp: i64, buf: &mut Vec<u8>) {
        buf.extend_from_slice(&self.key_fields);
        buf.extend_from_slice(b"\"_zl_timestamp\":");
        write_i64(buf, timestamp);
        buf.extend_from_slice(&self.tail);
    }
}

/// Replaces every capture group of the rule's regex (the whole match when it has no groups)
/// by the mask string or the SHA-256 hex of the captured text.
fn rewrite<'v>(value: &'v str, rule: &RewriteRule) -> Cow<'v, str> {
    let mut out = String::new();
    let mut last = 0;
    for caps in rule.regex.captures_iter(value) {
        let groups = if caps.len() > 1 { 1..caps.len() } else { 0..1 };
        for g in groups {
            let Some(m) = caps.get(g) else { continue };
            if m.start() < last || m.is_empty() {
                continue;
            }
            out.push_str(&value[last..m.start()]);
            match &rule.mask {
                Some(mask) => out.push_str(mask),
                None => out.push_str(&hex::encode(Sha256::digest(m.as_str().as_bytes()))),
            }
            last = m.end();
        }
    }
    if last == 0 && out.is_empty() {
        return Cow::Borrowed(value);
    }
    out.push_str(&value[last..]);
    Cow::Owned(out)
}

/// Appends a decimal integer without going through `fmt`.
fn write_i64(buf: &mut Vec<u8>, n: i64) {
    if n < 0 {
        buf.push(b'-');
    }
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    let mut v = n.unsigned_abs();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::write_i64;

    #[test]
    fn integers_render_like_display() {
        for n in [0i64, 7, -7, 1_418_530_010_000, i64::MIN, i64::MAX] {
            let mut buf = Vec::new();
            write_i64(&mut buf, n);
            assert_eq!(String::from_utf8_lossy(&buf), n.to_string());
        }
    }
}
