//! One S3 object, line by line: header detection, field splitting or regex matching, and the
//! record written straight into the batcher.
//!
//! How the first line decides the object's field list:
//! 1. a flow-log **header** (`version account-id …`: only `[a-z-]+` tokens, more than half of
//!    them known fields) gives the fields, `-` becoming `_` in record keys; the header is never a record.
//!    Transit-gateway (v6) headers are headers like any other. A header naming a field twice
//!    makes every later line unparsable ("unsupported format").
//! 2. otherwise, when the configured `regex` has only flow-log group names (`account_id` …,
//!    like Site24x7's VPC profile), those names in regex order are the fields, and lines are split
//!    on whitespace runs without running the regex (same values, tolerant of double spaces);
//! 3. otherwise a configured `regex` is matched against each line (search semantics; unmatched or
//!    empty groups become `-`);
//! 4. with no `regex`, the default format.

use regex::{CaptureLocations, Regex};
use serde::Serialize;

use crate::accounting::Accounting;
use crate::batch::Batcher;
use crate::config::LogTypeConfig;
use crate::flowlog::{self, FlowFormat};
use crate::records::{ObjectContext, RecordPlan, Skip, Span, UNMATCHED};

/// What one line became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineOutcome {
    /// The flow-log header line (sets the field list; never a record).
    Header,
    /// A record now in the batcher ([`Batcher::last_record`] holds its JSON).
    Record {
        /// Its contribution to `Log-Size`.
        log_size: u64,
    },
    /// Dropped by `filterConfig`.
    Filtered,
    /// No record: why, and where.
    Unparsable(Unparsable),
}

/// A line that gave no record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unparsable {
    /// 1-based line number in the (decompressed) object.
    pub line: u64,
    /// Why.
    pub reason: UnparsableReason,
}

/// Why a line gave no record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UnparsableReason {
    /// Empty or only whitespace.
    #[error("blank line")]
    Blank,
    /// Not valid UTF-8.
    #[error("not valid UTF-8")]
    InvalidUtf8,
    /// Field count differs from the object's format.
    #[error("{found} fields where the format has {expected}")]
    FieldCount {
        /// Fields in the format.
        expected: usize,
        /// Fields in the line.
        found: usize,
    },
    /// The configured regex does not match.
    #[error("does not match the configured regex")]
    NoMatch,
    /// The date field does not fit `dateFormat`.
    #[error("date field does not fit dateFormat")]
    BadTimestamp,
    /// Longer than the line limit (the rest of the line is skipped).
    #[error("line of {bytes} bytes exceeds the limit of {cap}")]
    LineTooLong {
        /// Length of the line.
        bytes: usize,
        /// The limit.
        cap: usize,
    },
    /// The record alone exceeds the batch byte cap.
    #[error("record of {bytes} bytes of JSON exceeds the batch cap of {cap}")]
    RecordTooLarge {
        /// JSON size of the record.
        bytes: usize,
        /// The batch cap.
        cap: usize,
    },
    /// The object's header cannot be used (it names a field twice).
    #[error("unsupported format: {0}")]
    UnsupportedFormat(String),
}

enum Mode<'c> {
    Start,
    Fields {
        format: FlowFormat,
        plan: RecordPlan<'c>,
    },
    Regex {
        regex: &'c Regex,
        locs: CaptureLocations,
        groups: Vec<usize>,
        plan: RecordPlan<'c>,
    },
    Unsupported(String),
}

/// Parses one object's lines into records, keeping its [`Accounting`].
pub struct ObjectParser<'c> {
    config: &'c LogTypeConfig,
    ctx: ObjectContext,
    mode: Mode<'c>,
    line_no: u64,
    spans: Vec<Span>,
    accounting: Accounting,
}

impl<'c> ObjectParser<'c> {
    /// A parser for one object.
    #[must_use]
    pub fn new(config: &'c LogTypeConfig, ctx: ObjectContext) -> Self {
        Self {
            config,
            ctx,
            mode: Mode::Start,
            line_no: 0,
            spans: Vec::with_capacity(32),
            accounting: Accounting::default(),
        }
    }

    /// Feeds one line (with or without its `\n`/`\r\n`); a record goes into `batcher`.
    pub fn feed_line(&mut self, raw: &[u8], batcher: &mut Batcher) -> LineOutcome {
        self.line_no += 1;
        let outcome = self.classify(raw, batcher);
        self.accounting.count(&outcome);
        outcome
    }

    /// Counts a line that was too long to keep (the reader skipped it).
    pub fn feed_too_long(&mut self, bytes: usize, cap: usize) -> LineOutcome {
        self.line_no += 1;
        if matches!(self.mode, Mode::Start) {
            self.mode = self.headerless_mode();
        }
        let outcome = self.unparsable(UnparsableReason::LineTooLong { bytes, cap });
        self.accounting.count(&outcome);
        outcome
    }

    /// Takes `format` as the object's field list without reading a line: a columnar object's
    /// schema plays the part of the text header (and, like it, is never a record).
    pub(crate) fn use_format(&mut self, format: FlowFormat) {
        self.mode = self.fields_mode(format);
    }

    /// Feeds one row whose values are already separated: `spans` index `text`, one per field
    /// of the format given to [`ObjectParser::use_format`], in its order. Counted as a line.
    pub(crate) fn feed_row(
        &mut self,
        text: &str,
        spans: &[Span],
        batcher: &mut Batcher,
    ) -> LineOutcome {
        self.line_no += 1;
        let outcome = match &self.mode {
            Mode::Fields { plan, .. } if plan.width() == spans.len() => {
                write_record(plan, text, spans, batcher, self.line_no)
            }
            _ => self.unparsable(UnparsableReason::FieldCount {
                expected: self.format().map_or(0, |f| f.fields().len()),
                found: spans.len(),
            }),
        };
        self.accounting.count(&outcome);
        outcome
    }

    /// Counts a row that could not be turned into text (a string value that is not UTF-8).
    pub(crate) fn feed_invalid_row(&mut self) -> LineOutcome {
        self.line_no += 1;
        let outcome = self.unparsable(UnparsableReason::InvalidUtf8);
        self.accounting.count(&outcome);
        outcome
    }

    /// The counts so far.
    #[must_use]
    pub fn accounting(&self) -> &Accounting {
        &self.accounting
    }

    /// The flow-log format in use, once known (`None` in regex mode or before the first line).
    #[must_use]
    pub fn format(&self) -> Option<&FlowFormat> {
        match &self.mode {
            Mode::Fields { format, .. } => Some(format),
            _ => None,
        }
    }

    /// Why the object cannot be parsed at all (a header naming a field twice), if so.
    #[must_use]
    pub fn unsupported(&self) -> Option<&str> {
        match &self.mode {
            Mode::Unsupported(reason) => Some(reason),
            _ => None,
        }
    }

    /// The object's context (bucket, key, time of parsing).
    #[must_use]
    pub fn context(&self) -> &ObjectContext {
        &self.ctx
    }

    fn unparsable(&self, reason: UnparsableReason) -> LineOutcome {
        LineOutcome::Unparsable(Unparsable {
            line: self.line_no,
            reason,
        })
    }

    fn fields_mode(&self, format: FlowFormat) -> Mode<'c> {
        let names: Vec<String> = format
            .fields()
            .iter()
            .map(|n| n.replace('-', "_"))
            .collect();
        let plan = RecordPlan::new(self.config, &names, &self.ctx);
        Mode::Fields { format, plan }
    }

    fn headerless_mode(&self) -> Mode<'c> {
        let Some(regex) = &self.config.regex else {
            return self.fields_mode(FlowFormat::default_format());
        };
        let named = crate::pattern::group_names(regex);
        let flow_names: Vec<String> = named.iter().map(|(_, n)| n.replace('_', "-")).collect();
        let all_flow =
            !flow_names.is_empty() && flow_names.iter().all(|n| flowlog::field(n).is_some());
        if let Some(Ok(format)) = all_flow.then(|| FlowFormat::from_fields(flow_names)) {
            return self.fields_mode(format);
        }
        let names: Vec<String> = named.iter().map(|(_, n)| n.clone()).collect();
        Mode::Regex {
            regex,
            locs: regex.capture_locations(),
            groups: named.iter().map(|(i, _)| *i).collect(),
            plan: RecordPlan::new(self.config, &names, &self.ctx),
        }
    }

    fn classify(&mut self, raw: &[u8], batcher: &mut Batcher) -> LineOutcome {
        let line = raw.strip_suffix(b"\n").unwrap_or(raw);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        // A UTF-8 byte-order mark (editors add one) must not hide the header.
        let line = match line.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) if self.line_no == 1 => rest,
            _ => line,
        };
        let Ok(text) = std::str::from_utf8(line) else {
            if matches!(self.mode, Mode::Start) {
                self.mode = self.headerless_mode();
            }
            return self.unparsable(UnparsableReason::InvalidUtf8);
        };
        if matches!(self.mode, Mode::Start) {
            match FlowFormat::from_header(text) {
                Some(Ok(format)) => {
                    self.mode = self.fields_mode(format);
                    return LineOutcome::Header;
                }
                Some(Err(e)) => {
                    self.mode = Mode::Unsupported(e.to_string());
                    return LineOutcome::Header;
                }
                None => self.mode = self.headerless_mode(),
            }
        }
        if text.bytes().all(|b| b.is_ascii_whitespace()) {
            return self.unparsable(UnparsableReason::Blank);
        }
        let line_no = self.line_no;
        let spans = &mut self.spans;
        let plan = match &mut self.mode {
            Mode::Start => return self.unparsable(UnparsableReason::Blank),
            Mode::Unsupported(reason) => {
                let reason = UnparsableReason::UnsupportedFormat(reason.clone());
                return LineOutcome::Unparsable(Unparsable {
                    line: line_no,
                    reason,
                });
            }
            Mode::Fields { plan, .. } => {
                let expected = plan.width();
                let found = flowlog::split_fields(line, spans, expected);
                if found != expected {
                    let reason = UnparsableReason::FieldCount { expected, found };
                    return LineOutcome::Unparsable(Unparsable {
                        line: line_no,
                        reason,
                    });
                }
                &*plan
            }
            Mode::Regex {
                regex,
                locs,
                groups,
                plan,
            } => {
                if regex.captures_read(locs, text).is_none() {
                    return LineOutcome::Unparsable(Unparsable {
                        line: line_no,
                        reason: UnparsableReason::NoMatch,
                    });
                }
                spans.clear();
                spans.extend(groups.iter().map(|&g| locs.get(g).unwrap_or(UNMATCHED)));
                &*plan
            }
        };
        write_record(plan, text, spans, batcher, line_no)
    }
}

/// Renders one parsed line (or row) into `batcher`: a record, a filtered line, or why not.
fn write_record(
    plan: &RecordPlan<'_>,
    text: &str,
    spans: &[Span],
    batcher: &mut Batcher,
    line: u64,
) -> LineOutcome {
    let buf = batcher.begin_record();
    let reason = match plan.write(text, spans, buf) {
        Ok(log_size) => match batcher.commit_record(log_size) {
            Ok(()) => return LineOutcome::Record { log_size },
            Err(e) => UnparsableReason::RecordTooLarge {
                bytes: e.bytes,
                cap: e.cap,
            },
        },
        Err(Skip::Filtered) => {
            batcher.abort_record();
            return LineOutcome::Filtered;
        }
        Err(Skip::BadTimestamp) => {
            batcher.abort_record();
            UnparsableReason::BadTimestamp
        }
    };
    LineOutcome::Unparsable(Unparsable { line, reason })
}
