//! VPC and transit-gateway flow-log formats: the field table (v2–v8), the default formats,
//! custom `${field}` formats, the header line of delivered files, and whitespace splitting.
//!
//! Nothing here uses a regex: the per-line path is a byte scan.

use std::fmt;
use std::ops::ControlFlow;

/// How AWS types a field (its Parquet type); on the wire every field is text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum FieldType {
    /// STRING.
    String,
    /// `INT_32`.
    Int32,
    /// `INT_64`.
    Int64,
}

/// One flow-log field: its hyphenated name, the format version that introduced it, its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FieldSpec {
    /// Name as in `${name}` and in the header line.
    pub name: &'static str,
    /// Flow-log version that introduced it.
    pub version: u8,
    /// Parquet type.
    pub kind: FieldType,
}

const fn f(name: &'static str, version: u8, kind: FieldType) -> FieldSpec {
    FieldSpec {
        name,
        version,
        kind,
    }
}

use FieldType::{Int32, Int64, String as Str};

/// Every flow-log field of versions 2–8: VPC fields, then the transit-gateway (v6) ones.
pub const FIELDS: &[FieldSpec] = &[
    f("version", 2, Int32),
    f("account-id", 2, Str),
    f("interface-id", 2, Str),
    f("srcaddr", 2, Str),
    f("dstaddr", 2, Str),
    f("srcport", 2, Int32),
    f("dstport", 2, Int32),
    f("protocol", 2, Int32),
    f("packets", 2, Int64),
    f("bytes", 2, Int64),
    f("start", 2, Int64),
    f("end", 2, Int64),
    f("action", 2, Str),
    f("log-status", 2, Str),
    f("vpc-id", 3, Str),
    f("subnet-id", 3, Str),
    f("instance-id", 3, Str),
    f("tcp-flags", 3, Int32),
    f("type", 3, Str),
    f("pkt-srcaddr", 3, Str),
    f("pkt-dstaddr", 3, Str),
    f("region", 4, Str),
    f("az-id", 4, Str),
    f("sublocation-type", 4, Str),
    f("sublocation-id", 4, Str),
    f("pkt-src-aws-service", 5, Str),
    f("pkt-dst-aws-service", 5, Str),
    f("flow-direction", 5, Str),
    f("traffic-path", 5, Int32),
    f("ecs-cluster-arn", 7, Str),
    f("ecs-cluster-name", 7, Str),
    f("ecs-container-instance-arn", 7, Str),
    f("ecs-container-instance-id", 7, Str),
    f("ecs-container-id", 7, Str),
    f("ecs-second-container-id", 7, Str),
    f("ecs-service-name", 7, Str),
    f("ecs-task-definition-arn", 7, Str),
    f("ecs-task-arn", 7, Str),
    f("ecs-task-id", 7, Str),
    f("reject-reason", 8, Str),
    f("resource-type", 6, Str),
    f("tgw-id", 6, Str),
    f("tgw-attachment-id", 6, Str),
    f("tgw-src-vpc-account-id", 6, Str),
    f("tgw-dst-vpc-account-id", 6, Str),
    f("tgw-src-vpc-id", 6, Str),
    f("tgw-dst-vpc-id", 6, Str),
    f("tgw-src-subnet-id", 6, Str),
    f("tgw-dst-subnet-id", 6, Str),
    f("tgw-src-eni", 6, Str),
    f("tgw-dst-eni", 6, Str),
    f("tgw-src-az-id", 6, Str),
    f("tgw-dst-az-id", 6, Str),
    f("tgw-pair-attachment-id", 6, Str),
    f("packets-lost-no-route", 6, Int64),
    f("packets-lost-blackhole", 6, Int64),
    f("packets-lost-mtu-exceeded", 6, Int64),
    f("packets-lost-ttl-expired", 6, Int64),
];

/// The transit-gateway default format's fields, in order (AWS Transit Gateway guide).
pub const TRANSIT_GATEWAY_DEFAULT_FIELDS: [&str; 36] = [
    "version",
    "resource-type",
    "account-id",
    "tgw-id",
    "tgw-attachment-id",
    "tgw-src-vpc-account-id",
    "tgw-dst-vpc-account-id",
    "tgw-src-vpc-id",
    "tgw-dst-vpc-id",
    "tgw-src-subnet-id",
    "tgw-dst-subnet-id",
    "tgw-src-eni",
    "tgw-dst-eni",
    "tgw-src-az-id",
    "tgw-dst-az-id",
    "tgw-pair-attachment-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "log-status",
    "type",
    "packets-lost-no-route",
    "packets-lost-blackhole",
    "packets-lost-mtu-exceeded",
    "packets-lost-ttl-expired",
    "tcp-flags",
    "region",
    "flow-direction",
    "pkt-src-aws-service",
    "pkt-dst-aws-service",
];

/// The default format's fields, in order.
pub const DEFAULT_FIELDS: [&str; 14] = [
    "version",
    "account-id",
    "interface-id",
    "srcaddr",
    "dstaddr",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "action",
    "log-status",
];

/// The default format string AWS documents.
pub const DEFAULT_FORMAT: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}";

/// Looks a field up by its hyphenated name.
#[must_use]
pub fn field(name: &str) -> Option<&'static FieldSpec> {
    FIELDS.iter().find(|spec| spec.name == name)
}

/// Whether a name belongs only to transit-gateway flow logs (version 6).
#[must_use]
pub fn is_transit_gateway_field(name: &str) -> bool {
    name.starts_with("tgw-") || name == "resource-type" || name.starts_with("packets-lost-")
}

/// Why a format string or header cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// Not `${a} ${b} …` with `[a-z-]+` names separated by single spaces.
    #[error(
        "format {format:?} is not `${{field}}` tokens separated by single spaces (problem at byte {at}); write e.g. `${{version}} ${{srcaddr}}`"
    )]
    Syntax {
        /// The format given.
        format: String,
        /// Byte offset of the first problem.
        at: usize,
    },
    /// A field appears twice.
    #[error("field {0:?} appears twice in the format; list each field once")]
    Duplicate(String),
}

/// An ordered field list: the default format, a custom format, or a file's header line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowFormat {
    fields: Vec<String>,
}

impl FlowFormat {
    /// The default format (version 2, 14 fields).
    #[must_use]
    pub fn default_format() -> Self {
        Self {
            fields: DEFAULT_FIELDS.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// Validates a custom format string against AWS's pattern
    /// `^((\$\{[a-z-]+\} )*\$\{[a-z-]+\})$`; unknown `[a-z-]+` names are accepted.
    ///
    /// # Errors
    /// [`FormatError`] for bad syntax or duplicates.
    pub fn parse_custom(format: &str) -> Result<Self, FormatError> {
        let syntax = |at| FormatError::Syntax {
            format: format.to_owned(),
            at,
        };
        let mut fields = Vec::new();
        let mut at = 0;
        for (i, token) in format.split(' ').enumerate() {
            if i > 0 {
                at += 1;
            }
            let name = token
                .strip_prefix("${")
                .and_then(|t| t.strip_suffix('}'))
                .ok_or_else(|| syntax(at))?;
            if !is_field_name(name) {
                return Err(syntax(at + 2));
            }
            fields.push(name.to_owned());
            at += token.len();
        }
        Self::from_fields(fields)
    }

    /// Reads a header line (`version account-id …`). `None` when the line is not a header:
    /// a header is only `[a-z-]+` tokens, more than half of them known fields (so a text log
    /// line such as `version started` is not mistaken for one).
    ///
    /// # Errors
    /// `Some(Err)` for a header of an unsupported (transit-gateway) or duplicated format.
    #[must_use]
    pub fn from_header(line: &str) -> Option<Result<Self, FormatError>> {
        let names: Vec<&str> = line.split_ascii_whitespace().collect();
        let known = names.iter().filter(|n| field(n).is_some()).count();
        let header = known * 2 > names.len() && names.iter().all(|n| is_field_name(n));
        header.then(|| Self::from_fields(names.into_iter().map(str::to_owned).collect()))
    }

    /// A format from a list of hyphenated field names (e.g. a regex's group names).
    ///
    /// # Errors
    /// [`FormatError::Duplicate`] for a field named twice.
    pub fn from_fields(fields: Vec<String>) -> Result<Self, FormatError> {
        for (i, name) in fields.iter().enumerate() {
            if fields[..i].contains(name) {
                return Err(FormatError::Duplicate(name.clone()));
            }
        }
        Ok(Self { fields })
    }

    /// The fields, hyphenated, in line order.
    #[must_use]
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// The format's version: the highest version among its known fields (2 at least).
    #[must_use]
    pub fn version(&self) -> u8 {
        self.fields
            .iter()
            .filter_map(|n| field(n))
            .map(|s| s.version)
            .max()
            .unwrap_or(2)
            .max(2)
    }

    /// Field names no table entry knows (newer AWS fields), accepted as strings.
    pub fn unknown_fields(&self) -> impl Iterator<Item = &str> {
        self.fields
            .iter()
            .map(String::as_str)
            .filter(|n| field(n).is_none())
    }

    /// Whether this is exactly the default format.
    #[must_use]
    pub fn is_default(&self) -> bool {
        self.fields.iter().map(String::as_str).eq(DEFAULT_FIELDS)
    }

    /// The header line AWS writes for this format.
    #[must_use]
    pub fn header_line(&self) -> String {
        self.fields.join(" ")
    }
}

impl fmt::Display for FlowFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, name) in self.fields.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "${{{name}}}")?;
        }
        Ok(())
    }
}

/// `[a-z-]+`, AWS's field-name alphabet (`-` alone is a value, never a name).
fn is_field_name(name: &str) -> bool {
    !name.is_empty() && name != "-" && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
}

/// Splits a line on runs of ASCII whitespace into `(start, end)` byte ranges, reusing `out`.
/// Returns the number of tokens (possibly more than fit: scanning stops after `limit + 1`).
pub fn split_fields(line: &[u8], out: &mut Vec<(usize, usize)>, limit: usize) -> usize {
    out.clear();
    // AWS separates values with single spaces: the fast path below finds them eight bytes at a
    // time. A line holding other whitespace or control bytes takes the general scan.
    if let Some(found) = split_on_spaces(line, out, limit) {
        return found;
    }
    out.clear();
    let mut i = 0;
    let len = line.len();
    while i < len {
        while i < len && line[i].is_ascii_whitespace() {
            i += 1;
        }
        if i == len {
            break;
        }
        let start = i;
        while i < len && !line[i].is_ascii_whitespace() {
            i += 1;
        }
        out.push((start, i));
        if out.len() > limit {
            return out.len() + count_tokens(&line[i..]);
        }
    }
    out.len()
}

/// Splits on spaces, eight bytes per step: `None` (with `out` partly filled) when the line holds
/// a byte below `0x20`, which may be other whitespace.
fn split_on_spaces(line: &[u8], out: &mut Vec<(usize, usize)>, limit: usize) -> Option<usize> {
    let mut start = 0;
    let mut base = 0;
    let mut words = line.chunks_exact(8);
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().unwrap_or([b'x'; 8]));
        if let ControlFlow::Break(found) = split_word(word, base, &mut start, line, out, limit) {
            return found;
        }
        base += 8;
    }
    let tail = words.remainder();
    let mut bytes = [b'x'; 8];
    bytes[..tail.len()].copy_from_slice(tail);
    let word = u64::from_le_bytes(bytes);
    if let ControlFlow::Break(found) = split_word(word, base, &mut start, line, out, limit) {
        return found;
    }
    if line.len() > start {
        out.push((start, line.len()));
    }
    Some(out.len())
}

/// One step of [`split_on_spaces`]: the fields ending in the eight bytes `word` found at
/// `base`. Breaks with what `split_on_spaces` returns when the scan is over early.
#[inline(always)]
fn split_word(
    word: u64,
    base: usize,
    start: &mut usize,
    line: &[u8],
    out: &mut Vec<(usize, usize)>,
    limit: usize,
) -> ControlFlow<Option<usize>> {
    // With no control byte in the word, the bytes up to 0x20 are its spaces.
    if below(word, 0x20) != 0 {
        return ControlFlow::Break(None);
    }
    let mut mask = below(word, 0x21);
    while mask != 0 {
        let at = base + (mask.trailing_zeros() / 8) as usize;
        mask &= mask - 1;
        if at > *start {
            out.push((*start, at));
            if out.len() > limit {
                return ControlFlow::Break(Some(out.len() + count_tokens(&line[at..])));
            }
        }
        *start = at + 1;
    }
    ControlFlow::Continue(())
}

/// The high bit of each byte of `word` that is ASCII and below `limit` (at most 0x80): adding
/// `0x80 - limit` to a byte's low seven bits sets its high bit exactly when the byte is at
/// least `limit`, and never carries into the next byte.
#[inline(always)]
fn below(word: u64, limit: u8) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let add = u64::from(0x80 - limit) * 0x0101_0101_0101_0101;
    !(word | ((word & LOW7) + add)) & HIGH
}

/// Whitespace-separated tokens in `rest`, counted without storing them.
fn count_tokens(rest: &[u8]) -> usize {
    let mut count = 0;
    let mut in_token = false;
    for &b in rest {
        let ws = b.is_ascii_whitespace();
        if !ws && !in_token {
            count += 1;
        }
        in_token = !ws;
    }
    count
}

#[cfg(test)]
mod tests {
    use super::{FlowFormat, FormatError, split_fields};

    #[test]
    fn custom_formats_follow_the_aws_pattern() {
        let good = [
            "${version}",
            "${srcaddr} ${dstaddr} ${next-hop-type}",
            super::DEFAULT_FORMAT,
        ];
        for format in good {
            assert!(FlowFormat::parse_custom(format).is_ok(), "{format}");
        }
        let bad = [
            "",
            "${version}  ${end}",
            "${Version}",
            "$version",
            "${version} ",
            "${a_b}",
        ];
        for format in bad {
            assert!(
                matches!(
                    FlowFormat::parse_custom(format),
                    Err(FormatError::Syntax { .. })
                ),
                "{format:?}"
            );
        }
        assert_eq!(
            FlowFormat::parse_custom(super::DEFAULT_FORMAT).map(|f| f.is_default()),
            Ok(true)
        );
    }

    #[test]
    fn versions_are_the_highest_field_version() {
        let cases = [
            ("${version} ${srcaddr}", 2),
            ("${tcp-flags}", 3),
            ("${reject-reason} ${start}", 8),
        ];
        for (format, version) in cases {
            assert_eq!(
                FlowFormat::parse_custom(format).map(|f| f.version()),
                Ok(version),
                "{format}"
            );
        }
    }

    #[test]
    fn headers_are_recognised_and_data_lines_are_not() {
        assert!(
            FlowFormat::from_header("version account-id resource-id").is_some_and(|r| r.is_ok())
        );
        assert!(
            FlowFormat::from_header("2 123456789010 eni-1 - - - - - - - 1 2 - NODATA").is_none()
        );
        assert!(FlowFormat::from_header("- eni-1235b8ca123456789 10.0.1.5").is_none());
        assert!(FlowFormat::from_header("ingress egress").is_none());
        assert!(FlowFormat::from_header("version started").is_none());
        assert!(FlowFormat::from_header("version").is_some());
        let tgw = FlowFormat::from_header(&super::TRANSIT_GATEWAY_DEFAULT_FIELDS.join(" "));
        assert_eq!(
            tgw.and_then(Result::ok)
                .map(|f| (f.version(), f.fields().len())),
            Some((6, 36))
        );
        assert!(matches!(
            FlowFormat::from_header("version srcaddr version"),
            Some(Err(FormatError::Duplicate(_)))
        ));
    }

    #[test]
    fn splitting_treats_runs_of_whitespace_as_one_separator() {
        let mut ranges = Vec::new();
        let line = b"  a  b\tc \r";
        assert_eq!(split_fields(line, &mut ranges, 10), 3);
        assert_eq!(ranges, vec![(2, 3), (5, 6), (7, 8)]);
        assert_eq!(split_fields(b"a b c d e", &mut ranges, 2), 5);
    }

    #[test]
    fn the_space_only_fast_path_splits_like_the_general_scan() {
        let lines: [&[u8]; 17] = [
            b"2 123 eni-1 10.0.0.1 - 443 80 6 10 840 1 2 ACCEPT OK",
            "caf\u{e9} na\u{ef}ve \u{fc}ber 12345678 x".as_bytes(),
            b"vertical\x0btab is not whitespace here",
            b"control\x01byte inside a token",
            b"12345678 1234567 123456789",
            b"trailing carriage return\r",
            b"  leading and trailing  ",
            b"double  spaces   here",
            b"tab\tinside means the general scan",
            b"a tab in the last partial word\tx",
            b"a carriage return at the end\r",
            b"eight by tes, words",
            b"",
            b" ",
            b"one",
            b"a b c d e f g",
            b"a b c d e f g h i j k l m n o p",
        ];
        // Space at 1 and 6, tab at 3; 0xa0 (not ASCII, a space with its high bit) and the
        // letters are not below either limit.
        let word = u64::from_le_bytes(*b"a b\tc\xa0 x");
        assert_eq!(
            super::below(word, 0x21),
            (0x80 << 8) | (0x80 << 24) | (0x80 << 48)
        );
        assert_eq!(super::below(word, 0x20), 0x80 << 24);
        assert_eq!(
            super::below(u64::from_le_bytes(*b"\x00\x1f\x7f\xff !~@"), 0x20),
            0x8080
        );
        for line in lines {
            let expected: Vec<(usize, usize)> = {
                let mut out = Vec::new();
                let mut start = None;
                for (i, b) in line.iter().chain(b" ").enumerate() {
                    match (b.is_ascii_whitespace(), start) {
                        (true, Some(s)) => {
                            out.push((s, i));
                            start = None;
                        }
                        (false, None) => start = Some(i),
                        _ => {}
                    }
                }
                out
            };
            let mut ranges = Vec::new();
            for limit in [3, 100] {
                let found = split_fields(line, &mut ranges, limit);
                assert_eq!(found, expected.len(), "{line:?} limit {limit}");
                let kept = expected.len().min(limit + 1);
                assert_eq!(ranges, expected[..kept], "{line:?} limit {limit}");
            }
        }
    }
}
