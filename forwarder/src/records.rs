//! Site24x7 records: one flat JSON object per line, written straight into the batch buffer.
//!
//! A `RecordPlan` is built once per object (its field list is known after the header) and
//! renders each line's values in this order: the parsed fields (minus `ignoredFields`, with
//! `maskingConfig` then `hashingConfig` applied), `derivedConfig` fields, `configTypes` fields,
//! then `_zl_timestamp` (a JSON number, epoch ms) and `s247agentuid` (the bucket name).
//! `filterConfig` is checked first, on the values as parsed. Values stay the line's text;
//! an empty or unmatched value is `-`.
//!
//! A name is written once, with the value of its last writer in that order, as the
//! reference's Python dict does: a `derivedConfig` group named like a field replaces it on the
//! lines where its regex matches (a later rule's group replaces an earlier one's), and a
//! `configTypes` field, `_zl_timestamp` and `s247agentuid` replace whatever came before.

use std::borrow::Cow;

use sha2::{Digest as _, Sha256};

use crate::config::{DerivedRule, FilterRule, LogTypeConfig, RewriteRule};
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
    /// `"name":`, or `None` when the field is ignored or always replaced by a later writer.
    prefix: Option<Vec<u8>>,
    rewrites: Vec<&'c RewriteRule>,
    /// Derived regexes that replace this field when they match (see [`Replacers`]).
    replaced_by: Replacers,
}

/// Derived regexes that write the same name later: `(derived plan, its regexes that have a
/// group of that name)`. The earlier writer is skipped on lines where one of them matched.
type Replacers = Vec<(usize, Vec<usize>)>;

/// A derived group: its index, `"name":` (or `None` when ignored or always replaced), and the
/// later derived regexes that replace it when they match.
struct DerivedGroup {
    index: usize,
    prefix: Option<Vec<u8>>,
    replaced_by: Replacers,
}

/// A derived regex and its groups.
type DerivedRegex<'c> = (&'c regex::Regex, Vec<DerivedGroup>);

struct DerivedPlan<'c> {
    column: usize,
    regexes: Vec<DerivedRegex<'c>>,
}

/// The derived regex that matched in each plan (its index and captures), for one line.
type DerivedMatches<'l> = Vec<Option<(usize, regex::Captures<'l>)>>;

/// Whether one of `replacers` matched on this line.
fn replaced(replacers: &Replacers, matches: &DerivedMatches<'_>) -> bool {
    replacers.iter().any(|(plan, regexes)| {
        matches
            .get(*plan)
            .and_then(Option::as_ref)
            .is_some_and(|(matched, _)| regexes.contains(matched))
    })
}

/// Names written after the parsed and derived fields, whatever the line: they always win.
const FIXED_NAMES: [&str; 2] = ["_zl_timestamp", "s247agentuid"];

/// A derived rule that applies (its field exists): the field's column, the rule, and each of
/// its regexes' named groups.
type RuleGroups<'c> = (usize, &'c DerivedRule, Vec<Vec<(usize, String)>>);

/// Who writes which name, in writing order: what keeps each name to one key.
struct Writers<'c> {
    config: &'c LogTypeConfig,
    /// `configTypes` fields: written after every parsed and derived field.
    key_names: Vec<&'c str>,
    /// The derived rules that apply, in rule order.
    rules: Vec<RuleGroups<'c>>,
}

impl<'c> Writers<'c> {
    fn new(config: &'c LogTypeConfig, names: &[String]) -> Self {
        let rules = config
            .derived
            .iter()
            .filter_map(|rule| {
                let column = names.iter().position(|n| n == &rule.field)?;
                let groups = rule.regexes.iter().map(crate::pattern::group_names);
                Some((column, rule, groups.collect()))
            })
            .collect();
        Self {
            config,
            key_names: config
                .config_types
                .iter()
                .map(|segment| segment.field.as_str())
                .collect(),
            rules,
        }
    }

    fn ignored(&self, name: &str) -> bool {
        self.config.ignored_fields.iter().any(|f| f == name)
    }

    /// Whether a `configTypes` field or a fixed name always replaces `name`.
    fn always_later(&self, name: &str) -> bool {
        self.key_names.contains(&name) || FIXED_NAMES.contains(&name)
    }

    /// The derived regexes writing `name` after rule `after` (`None`: after the parsed fields).
    fn replacers(&self, name: &str, after: Option<usize>) -> Replacers {
        self.rules
            .iter()
            .enumerate()
            .filter(|(plan, _)| after.is_none_or(|a| *plan > a))
            .filter_map(|(plan, (_, _, regexes))| {
                let with_name: Vec<usize> = regexes
                    .iter()
                    .enumerate()
                    .filter(|(_, groups)| groups.iter().any(|(_, n)| n == name))
                    .map(|(r, _)| r)
                    .collect();
                (!with_name.is_empty()).then_some((plan, with_name))
            })
            .collect()
    }

    /// The derived rules as written: a group ignored or always replaced has no prefix.
    fn derived_plans(&self) -> Vec<DerivedPlan<'c>> {
        let group = |plan: usize, (index, name): &(usize, String)| DerivedGroup {
            index: *index,
            prefix: (!self.ignored(name) && !self.always_later(name))
                .then(|| json::key_prefix(name)),
            replaced_by: self.replacers(name, Some(plan)),
        };
        self.rules
            .iter()
            .enumerate()
            .map(|(plan, (column, rule, regexes))| DerivedPlan {
                column: *column,
                regexes: rule
                    .regexes
                    .iter()
                    .zip(regexes)
                    .map(|(re, groups)| (re, groups.iter().map(|g| group(plan, g)).collect()))
                    .collect(),
            })
            .collect()
    }
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
        let position = |name: &str| names.iter().position(|n| n == name);
        let writers = Writers::new(config, names);
        let columns: Vec<Column<'c>> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                // A later column of the same name replaces this one, like a later writer.
                let shadowed = names[i + 1..].contains(name) || writers.always_later(name);
                Column {
                    prefix: (!writers.ignored(name) && !shadowed).then(|| json::key_prefix(name)),
                    rewrites: config
                        .masking
                        .iter()
                        .chain(&config.hashing)
                        .filter(|rule| &rule.field == name)
                        .collect(),
                    replaced_by: writers.replacers(name, None),
                }
            })
            .collect();
        let derived = writers.derived_plans();
        let mut key_fields = Vec::new();
        let segments: Vec<&str> = ctx.key.split('/').collect();
        for segment in &config.config_types {
            if FIXED_NAMES.contains(&segment.field.as_str()) {
                continue;
            }
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
        let date_column = config.date_field.as_deref().and_then(position);
        if date_column.is_none() && config.date_format != DateFormat::AgentTime {
            warn_about_date_field(config, names, ctx);
        }
        Self {
            columns,
            plain_openers,
            overhead,
            date_column,
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
        // Each derived rule's first matching regex, before any field is written: a match may
        // replace a parsed field or an earlier rule's group.
        let matches: DerivedMatches<'_> = self
            .derived
            .iter()
            .map(|plan| {
                let source = value(plan.column);
                plan.regexes
                    .iter()
                    .enumerate()
                    .find_map(|(r, (re, _))| re.captures(source).map(|caps| (r, caps)))
            })
            .collect();
        buf.push(b'{');
        for (i, column) in self.columns.iter().enumerate() {
            let original = value(i);
            let prefix = match &column.prefix {
                Some(prefix) if !replaced(&column.replaced_by, &matches) => prefix,
                _ => {
                    log_size -= original.len() as i64;
                    continue;
                }
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
        for (plan, matched) in self.derived.iter().zip(&matches) {
            let Some((r, caps)) = matched else { continue };
            for group in &plan.regexes[*r].1 {
                let Some(prefix) = &group.prefix else {
                    continue;
                };
                if replaced(&group.replaced_by, &matches) {
                    continue;
                }
                let v = caps.get(group.index).map_or("-", |m| m.as_str());
                let v = if v.is_empty() { "-" } else { v };
                log_size += v.len() as i64;
                buf.extend_from_slice(prefix);
                json::write_str(buf, v);
                buf.push(b',');
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

/// Logs, once per run, that records of this object get the time of parsing because no value of
/// `dateField` can be read: Site24x7 does the same silently, which hides a wrong profile.
fn warn_about_date_field(config: &LogTypeConfig, names: &[String], ctx: &ObjectContext) {
    config.warn_once_about_date_field(|| {
        let fields = crate::limits::bounded(names.join(", "));
        let object = format!("s3://{}/{}", ctx.bucket, ctx.key);
        let object = crate::limits::excerpt(&object);
        match &config.date_field {
            Some(field) => tracing::warn!(
                date_field = %crate::limits::excerpt(field),
                %object,
                %fields,
                "logTypeConfig dateField `{}` is not a field of these records: they are stamped \
                 with the time of parsing (as Site24x7 does); fix: set dateField to one of the \
                 fields (`start` for flow logs). Logged once per run.",
                crate::limits::excerpt(field)
            ),
            None => tracing::warn!(
                %object,
                "logTypeConfig has a dateFormat but no dateField: records are stamped with the \
                 time of parsing (as Site24x7 does); fix: set dateField (`start` for flow logs) \
                 or dateFormat `agent_time`. Logged once per run."
            ),
        }
    });
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
