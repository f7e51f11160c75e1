//! Text objects as lines: gzip decoded (multi-member streams included) or plain text, lines
//! bounded in memory.

use std::io::{self, BufRead, BufReader};

use flate2::bufread::MultiGzDecoder;

/// Longest line kept (1 MiB): longer lines are skipped to their end and counted unparsable,
/// so memory stays bounded whatever the input (a flow-log line is a few hundred bytes).
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// `reader`'s text: gunzipped when `gzip`, else as it is.
pub(crate) fn decoded<'a, R: BufRead + 'a>(reader: R, gzip: bool) -> Box<dyn BufRead + 'a> {
    if gzip {
        Box::new(BufReader::with_capacity(
            256 * 1024,
            MultiGzDecoder::new(reader),
        ))
    } else {
        Box::new(reader)
    }
}

/// One line from [`Lines`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Line<'a> {
    /// The line's bytes without the `\n`.
    Text(&'a [u8]),
    /// A line longer than the limit: only its length is known.
    TooLong(usize),
}

/// Splits a reader into lines without copying them when they sit whole in the reader's buffer
/// (nearly always), else through one reused buffer; never holds more than the limit.
pub(crate) struct Lines<R> {
    inner: R,
    buf: Vec<u8>,
    max: usize,
    /// Bytes of the reader's buffer already handed out as lines. They are consumed only when
    /// a line runs past the buffer's end, so a line costs two `fill_buf`s that return the same
    /// buffer, not a `consume` and three `fill_buf`s through the decoder's layers.
    lent: usize,
}

impl<R: BufRead> Lines<R> {
    /// Lines of `inner`, each at most `max` bytes kept.
    pub(crate) fn new(inner: R, max: usize) -> Self {
        Self {
            inner,
            buf: Vec::with_capacity(1024),
            max,
            lent: 0,
        }
    }

    /// The next line, or `None` at the end.
    ///
    /// # Errors
    /// The reader's I/O error (e.g. a truncated gzip stream).
    pub(crate) fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        let start = self.lent;
        let found = match self.inner.fill_buf() {
            Ok(available) => available
                .get(start..)
                .and_then(memchr)
                .filter(|&i| i <= self.max),
            // Retried on the slow path, which loops on interrupted reads.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => None,
            Err(e) => return Err(e),
        };
        if let Some(i) = found {
            self.lent = start + i + 1;
            // The same buffer again (nothing was consumed): a check, not a read.
            let available = self.inner.fill_buf()?;
            return Ok(Some(Line::Text(&available[start..start + i])));
        }
        self.inner.consume(std::mem::take(&mut self.lent));
        if fill(&mut self.inner)?.is_empty() {
            return Ok(None);
        }
        self.next_line_copied()
    }

    /// A line that runs past the end of the reader's buffer (or past the limit): gathered
    /// piece by piece.
    fn next_line_copied(&mut self) -> io::Result<Option<Line<'_>>> {
        self.buf.clear();
        let mut total = 0usize;
        loop {
            let available = fill(&mut self.inner)?;
            if available.is_empty() {
                break;
            }
            let (chunk, used, done) = match memchr(available) {
                Some(i) => (&available[..i], i + 1, true),
                None => (available, available.len(), false),
            };
            total += chunk.len();
            if total <= self.max {
                self.buf.extend_from_slice(chunk);
            }
            self.inner.consume(used);
            if done {
                break;
            }
        }
        if total > self.max {
            return Ok(Some(Line::TooLong(total)));
        }
        Ok(Some(Line::Text(&self.buf)))
    }
}

/// The reader's buffered bytes, retrying interrupted reads.
fn fill<R: BufRead>(inner: &mut R) -> io::Result<&[u8]> {
    loop {
        match inner.fill_buf() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // At the end a second call would read again (and may be interrupted again).
            Ok([]) => return Ok(&[]),
            // Re-borrowed to return (the loop's borrow ends at the match): bytes are buffered,
            // so this returns them without reading.
            Ok(_) => return inner.fill_buf(),
            Err(e) => return Err(e),
        }
    }
}

/// Position of the first `\n` (SIMD-accelerated).
fn memchr(bytes: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', bytes)
}

#[cfg(test)]
mod tests {
    use super::{Line, Lines};

    #[test]
    fn lines_are_split_and_overlong_lines_only_measured() -> std::io::Result<()> {
        let data = b"ab\n\nlonglonglong\nlast".to_vec();
        let mut lines = Lines::new(std::io::BufReader::with_capacity(3, &data[..]), 5);
        let mut seen = Vec::new();
        while let Some(line) = lines.next_line()? {
            seen.push(match line {
                Line::Text(t) => String::from_utf8_lossy(t).into_owned(),
                Line::TooLong(n) => format!("<{n}>"),
            });
        }
        assert_eq!(seen, ["ab", "", "<12>", "last"]);
        Ok(())
    }

    /// A byte source whose every other read is interrupted (as a read of a pipe can be by a
    /// signal), and which fails for good after `fail_after` reads.
    struct Flaky<'a> {
        data: &'a [u8],
        calls: usize,
        fail_after: usize,
    }

    impl std::io::Read for Flaky<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.calls > self.fail_after {
                return Err(std::io::Error::other("broken stream"));
            }
            if self.calls.is_multiple_of(2) {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            self.data.read(buf)
        }
    }

    fn read_all(data: &[u8], fail_after: usize) -> (Vec<String>, Option<std::io::Error>) {
        let flaky = Flaky {
            data,
            calls: 0,
            fail_after,
        };
        let mut lines = Lines::new(std::io::BufReader::with_capacity(4, flaky), 100);
        let mut seen = Vec::new();
        loop {
            match lines.next_line() {
                Ok(Some(Line::Text(t))) => seen.push(String::from_utf8_lossy(t).into_owned()),
                Ok(Some(Line::TooLong(n))) => seen.push(format!("<{n}>")),
                Ok(None) => return (seen, None),
                Err(e) => return (seen, Some(e)),
            }
        }
    }

    #[test]
    fn interrupted_reads_are_retried_and_a_failed_read_is_an_error_not_the_end() {
        let data = b"a\nbb\nccccc\nd\n";
        let (seen, error) = read_all(data, usize::MAX);
        assert_eq!(seen, ["a", "bb", "ccccc", "d"]);
        assert!(error.is_none());
        let (seen, error) = read_all(data, 5);
        assert!(seen.len() < 4, "{seen:?}");
        assert_eq!(
            error.map(|e| e.to_string()).as_deref(),
            Some("broken stream")
        );
    }
}
