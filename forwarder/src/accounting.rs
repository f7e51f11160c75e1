//! Per-object accounting: every line is exactly one of header, record, filtered or unparsable.

use std::fmt;

use serde::Serialize;

use crate::object::{LineOutcome, Unparsable};

/// How many unparsable lines are remembered individually (the rest are only counted).
pub const FIRST_UNPARSABLE: usize = 5;

/// Counts for one object; `lines == header + records + filtered + unparsable` always.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Accounting {
    /// Lines read (a final line without newline counts; an empty object has none).
    pub lines: u64,
    /// Header lines (0 or 1).
    pub header: u64,
    /// Records written into batches.
    pub records: u64,
    /// Lines dropped by `filterConfig`.
    pub filtered: u64,
    /// Lines that gave no record, with reasons for the first few.
    pub unparsable: u64,
    /// The first [`FIRST_UNPARSABLE`] unparsable lines: line number and reason.
    pub first_unparsable: Vec<Unparsable>,
    /// Sum of the records' Log-Size contributions.
    pub log_size: u64,
}

impl Accounting {
    /// Counts one line's outcome.
    pub fn count(&mut self, outcome: &LineOutcome) {
        self.lines += 1;
        match outcome {
            LineOutcome::Header => self.header += 1,
            LineOutcome::Record { log_size } => {
                self.records += 1;
                self.log_size += log_size;
            }
            LineOutcome::Filtered => self.filtered += 1,
            LineOutcome::Unparsable(u) => {
                self.unparsable += 1;
                if self.first_unparsable.len() < FIRST_UNPARSABLE {
                    self.first_unparsable.push(u.clone());
                }
            }
        }
    }

    /// Whether the counts add up (they always should: tests check it).
    #[must_use]
    pub fn is_balanced(&self) -> bool {
        self.lines == self.header + self.records + self.filtered + self.unparsable
    }
}

/// One line: `lines=8 header=1 records=7 filtered=0 unparsable=0`, then the first unparsable
/// lines as `unparsable_lines=[3: reason; …]` when there are any.
impl fmt::Display for Accounting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lines={} header={} records={} filtered={} unparsable={}",
            self.lines, self.header, self.records, self.filtered, self.unparsable
        )?;
        if !self.first_unparsable.is_empty() {
            f.write_str(" unparsable_lines=[")?;
            for (i, u) in self.first_unparsable.iter().enumerate() {
                if i > 0 {
                    f.write_str("; ")?;
                }
                write!(f, "{}: {}", u.line, u.reason)?;
            }
            f.write_str("]")?;
        }
        Ok(())
    }
}
