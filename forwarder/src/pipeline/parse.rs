//! The blocking half of the pipeline: decoded lines → records → sealed batches, numbered and
//! sent through a bounded channel (so a slow upload slows reading, and memory stays bounded).

use std::io::{self, BufRead};

use tokio::sync::mpsc;

use crate::accounting::Accounting;
use crate::batch::{BatchLimits, Batcher, SealedBatch, UploadBatch};
use crate::config::LogTypeConfig;
use crate::input::{Line, Lines, MAX_LINE_BYTES};
use crate::object::{LineOutcome, ObjectParser};
use crate::records::ObjectContext;

/// A batch with its place in the object: sealed JSON from the parser, then the compressed
/// upload body.
#[derive(Debug)]
pub(crate) struct NumberedBatch<B = UploadBatch> {
    /// 0-based index within the object (continues from the marker on resume).
    pub index: u64,
    /// Line of its first record.
    pub first_line: u64,
    /// Line of its last record.
    pub last_line: u64,
    /// The payload.
    pub batch: B,
}

/// How the blocking half ended.
#[derive(Debug)]
pub(crate) struct ParseEnd {
    /// Counts of every line read (resumed lines included).
    pub accounting: Accounting,
    /// Records of lines at or before the marker, not sent again.
    pub resumed: u64,
    /// Why the format is unsupported (transit gateway), if so.
    pub unsupported: Option<String>,
    /// The read failure that ended the object early, and the last line read before it.
    pub read_error: Option<(io::Error, u64)>,
    /// The async half stopped listening (configuration error or abort).
    pub stopped: bool,
}

/// What to parse and from where.
pub(crate) struct ParseJob<'a> {
    pub config: &'a LogTypeConfig,
    pub ctx: ObjectContext,
    pub limits: BatchLimits,
    /// Lines up to this one were settled by an earlier run: their records are not sent.
    pub skip_through: u64,
    /// Index of the first batch sent.
    pub first_index: u64,
}

/// Parses `reader` to the end (or until the receiver goes away), sending every batch.
pub(crate) fn parse_object(
    reader: impl BufRead,
    job: ParseJob<'_>,
    tx: &mpsc::Sender<NumberedBatch<SealedBatch>>,
) -> ParseEnd {
    let mut parser = ObjectParser::new(job.config, job.ctx);
    let mut batcher = Batcher::new(job.limits);
    // Resumed lines still go through the parser (the header sets the fields, the counts stay
    // whole); their records land here and are thrown away.
    let mut discard = Batcher::new(BatchLimits {
        max_records: usize::MAX,
        gzip_level: 0,
        ..job.limits
    });
    let mut lines = Lines::new(reader, MAX_LINE_BYTES);
    let mut index = job.first_index;
    let mut open_first: Option<u64> = None;
    let mut prev_record_line = 0u64;
    let mut resumed = 0u64;
    let mut read_error = None;
    let mut stopped = false;
    loop {
        let line_no = parser.accounting().lines + 1;
        let resuming = line_no <= job.skip_through;
        let target = if resuming { &mut discard } else { &mut batcher };
        let outcome = match lines.next_line() {
            Ok(None) => break,
            Ok(Some(Line::Text(text))) => parser.feed_line(text, target),
            Ok(Some(Line::TooLong(bytes))) => parser.feed_too_long(bytes, MAX_LINE_BYTES),
            Err(e) => {
                read_error = Some((e, line_no - 1));
                break;
            }
        };
        if !matches!(outcome, LineOutcome::Record { .. }) {
            continue;
        }
        if resuming {
            resumed += 1;
            while discard.pop_sealed().is_some() {}
            continue;
        }
        // A batch is sealed only when a record does not fit: the sealed batch ends at the
        // previous record, and this record opens the next one.
        while let Some(batch) = batcher.pop_sealed() {
            let numbered = NumberedBatch {
                index,
                first_line: open_first.unwrap_or(line_no),
                last_line: prev_record_line,
                batch,
            };
            index += 1;
            open_first = None;
            if tx.blocking_send(numbered).is_err() {
                stopped = true;
            }
        }
        if stopped {
            break;
        }
        open_first.get_or_insert(line_no);
        prev_record_line = line_no;
    }
    if !stopped {
        for batch in batcher.finish_sealed() {
            let numbered = NumberedBatch {
                index,
                first_line: open_first.unwrap_or(prev_record_line),
                last_line: prev_record_line,
                batch,
            };
            index += 1;
            if tx.blocking_send(numbered).is_err() {
                stopped = true;
                break;
            }
        }
    }
    ParseEnd {
        accounting: parser.accounting().clone(),
        resumed,
        unsupported: parser.unsupported().map(str::to_owned),
        read_error,
        stopped,
    }
}

#[cfg(test)]
mod tests {
    use super::{ParseJob, parse_object};
    use crate::batch::BatchLimits;
    use crate::config::LogTypeConfig;
    use crate::records::ObjectContext;

    const TEXT: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status
2 1 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1418530010 1418530070 ACCEPT OK
not a record
2 1 eni-1 10.0.0.1 10.0.0.2 3 4 6 1 1 1418530010 1418530070 ACCEPT OK
2 1 eni-1 10.0.0.1 10.0.0.2 5 6 6 1 1 1418530010 1418530070 ACCEPT OK
";

    fn run(skip_through: u64, first_index: u64) -> (Vec<(u64, u64, u64, usize)>, super::ParseEnd) {
        let config = LogTypeConfig::builtin_vpc();
        let (tx, mut rx) = tokio::sync::mpsc::channel(16);
        let job = ParseJob {
            config: &config,
            ctx: ObjectContext::now("b", "k"),
            limits: BatchLimits {
                max_records: 2,
                ..BatchLimits::default()
            },
            skip_through,
            first_index,
        };
        let end = parse_object(TEXT.as_bytes(), job, &tx);
        drop(tx);
        let mut batches = Vec::new();
        while let Ok(b) = rx.try_recv() {
            batches.push((b.index, b.first_line, b.last_line, b.batch.records));
        }
        (batches, end)
    }

    #[test]
    fn batches_carry_the_lines_of_their_first_and_last_records() {
        let (batches, end) = run(0, 0);
        assert_eq!(batches, [(0, 2, 4, 2), (1, 5, 5, 1)]);
        assert_eq!((end.accounting.lines, end.resumed), (5, 0));
    }

    #[test]
    fn a_resumed_parse_skips_settled_lines_and_numbers_batches_on() {
        let (batches, end) = run(4, 1);
        assert_eq!(batches, [(1, 5, 5, 1)]);
        assert_eq!(
            (end.accounting.lines, end.accounting.records, end.resumed),
            (5, 3, 2)
        );
    }
}
