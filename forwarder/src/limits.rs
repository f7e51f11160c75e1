//! Bounds on what untrusted input can make the forwarder hold, compile, send or log: every
//! limit a user can hit lives here (README "Limits"), so each boundary checks the same numbers.
//!
//! - [`MAX_CONFIG_BYTES`]: a `logTypeConfig` (file, variable, decoded JSON).
//! - [`MAX_REGEX_GROUPS`], [`REGEX_SIZE_LIMIT`], [`REGEX_DFA_SIZE_LIMIT`]: every configured regex.
//! - [`MAX_KEY_BYTES`], [`BUCKET_NAME_CHARS`]: an object named by an event or the command line
//!   ([`validate_object`]), S3's own limits, checked before any request is built.
//! - [`MAX_EVENT_BYTES`]: a Lambda payload.
//! - [`MAX_LOGGED_BYTES`]: any outside value written into a log line or an error message
//!   ([`excerpt`]), so a hostile name costs a few hundred bytes of logs, not megabytes.

use std::fmt;
use std::ops::RangeInclusive;

/// Largest `logTypeConfig` accepted, as a file, an environment value or decoded JSON (1 MiB).
/// Site24x7's profiles are a few kilobytes; Lambda caps all variables at 4 KB.
pub const MAX_CONFIG_BYTES: usize = 1024 * 1024;

/// Most capture groups (named or not) in one configured regex. Matching cost grows with the
/// groups: the default flow-log format has 14 fields and the largest custom one about 40.
pub const MAX_REGEX_GROUPS: usize = 64;

/// Largest compiled program of one configured regex (`RegexBuilder::size_limit`), in bytes.
pub const REGEX_SIZE_LIMIT: usize = 1024 * 1024;

/// Largest lazy-DFA cache of one configured regex (`RegexBuilder::dfa_size_limit`), in bytes.
pub const REGEX_DFA_SIZE_LIMIT: usize = 2 * 1024 * 1024;

/// S3's limit on an object key: 1,024 bytes of UTF-8.
pub const MAX_KEY_BYTES: usize = 1024;

/// S3's bucket-name length, in characters.
pub const BUCKET_NAME_CHARS: RangeInclusive<usize> = 3..=63;

/// Largest Lambda payload decoded (6 MiB: Lambda's own limit for a synchronous invocation).
pub const MAX_EVENT_BYTES: usize = 6 * 1024 * 1024;

/// Most bytes of one outside value (a bucket, a key, an error text) written into a log line or
/// an error message; the rest is replaced by `…(+N bytes)`. A whole valid S3 key fits.
pub const MAX_LOGGED_BYTES: usize = 1024;

/// A value cut to [`MAX_LOGGED_BYTES`] for a log line or a message. `Display` writes the text,
/// `Debug` the quoted text; either ends in `…(+N bytes)` when something was cut.
#[derive(Clone, Copy)]
pub struct Excerpt<'a> {
    kept: &'a str,
    cut: usize,
}

/// `text` bounded for a log line or an error message (see [`Excerpt`]).
#[must_use]
pub fn excerpt(text: &str) -> Excerpt<'_> {
    excerpt_of(text, MAX_LOGGED_BYTES)
}

/// `text` bounded to `max` bytes (cut at a character boundary).
#[must_use]
pub fn excerpt_of(text: &str, max: usize) -> Excerpt<'_> {
    if text.len() <= max {
        return Excerpt { kept: text, cut: 0 };
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    Excerpt {
        kept: &text[..end],
        cut: text.len() - end,
    }
}

impl Excerpt<'_> {
    /// The excerpt as an owned string (what an error type stores instead of the whole value).
    #[must_use]
    pub fn to_owned_string(&self) -> String {
        self.to_string()
    }

    fn marker(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.cut > 0 {
            write!(f, "…(+{} bytes)", self.cut)?;
        }
        Ok(())
    }
}

impl fmt::Display for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kept)?;
        self.marker(f)
    }
}

impl fmt::Debug for Excerpt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.kept, f)?;
        self.marker(f)
    }
}

/// An owned text bounded like [`excerpt`]: for messages built from another error's `Display`.
#[must_use]
pub fn bounded(text: impl fmt::Display) -> String {
    let text = text.to_string();
    let cut = excerpt(&text);
    if cut.cut == 0 {
        return text;
    }
    cut.to_string()
}

/// Why a bucket and key cannot name an S3 object. Values are kept as excerpts only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectNameError {
    /// Too short or too long for a bucket name.
    #[error(
        "bucket name {bucket:?} is {chars} characters long; S3 bucket names have 3 to 63 \
         characters"
    )]
    BucketLength {
        /// The name (an excerpt).
        bucket: String,
        /// Its length in characters.
        chars: usize,
    },
    /// A character S3 never allows in a bucket name.
    #[error(
        "bucket name {bucket:?} holds {character:?}; S3 bucket names are letters, digits, dots, \
         hyphens (and, for old buckets, underscores)"
    )]
    BucketCharacter {
        /// The name (an excerpt).
        bucket: String,
        /// The first character not allowed.
        character: char,
    },
    /// An empty key names no object.
    #[error("the object key in bucket {bucket:?} is empty")]
    EmptyKey {
        /// The bucket.
        bucket: String,
    },
    /// Longer than S3 allows.
    #[error(
        "the object key in bucket {bucket:?} is {bytes} bytes long, over S3's limit of 1,024 \
         bytes (UTF-8): {key}"
    )]
    KeyTooLong {
        /// The bucket.
        bucket: String,
        /// The key (an excerpt).
        key: String,
        /// Its length in bytes.
        bytes: usize,
    },
}

/// Checks that `bucket` and `key` can name an S3 object: the one validation of every object
/// named from outside (event records, `s3://` arguments, S3 requests), done before a request
/// is built, because the SDK panics on a URI over 64 KiB and S3 refuses what breaks its rules.
///
/// # Errors
/// [`ObjectNameError`] naming the bucket, the (cut) key and the limit.
pub fn validate_object(bucket: &str, key: &str) -> Result<(), ObjectNameError> {
    validate_bucket(bucket)?;
    validate_key_len(bucket, key)?;
    if key.is_empty() {
        return Err(ObjectNameError::EmptyKey {
            bucket: bucket.to_owned(),
        });
    }
    Ok(())
}

/// Checks a bucket name (length, then characters).
///
/// # Errors
/// [`ObjectNameError::BucketLength`] or [`ObjectNameError::BucketCharacter`].
pub fn validate_bucket(bucket: &str) -> Result<(), ObjectNameError> {
    let chars = bucket.chars().count();
    if !BUCKET_NAME_CHARS.contains(&chars) {
        return Err(ObjectNameError::BucketLength {
            bucket: excerpt_of(bucket, 64).to_owned_string(),
            chars,
        });
    }
    if let Some(character) = bucket
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
    {
        return Err(ObjectNameError::BucketCharacter {
            bucket: bucket.to_owned(),
            character,
        });
    }
    Ok(())
}

/// Checks the length of a key or a key prefix (may be empty) in an already checked bucket.
///
/// # Errors
/// [`ObjectNameError::KeyTooLong`].
pub fn validate_key_len(bucket: &str, key: &str) -> Result<(), ObjectNameError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(ObjectNameError::KeyTooLong {
            bucket: excerpt_of(bucket, 64).to_owned_string(),
            key: excerpt_of(key, 128).to_owned_string(),
            bytes: key.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{ObjectNameError, excerpt, excerpt_of, validate_object};

    #[test]
    fn excerpts_cut_at_a_character_boundary_and_say_how_much_was_cut() {
        let cases = [
            ("short", 10, "short", "\"short\""),
            ("abcdef", 3, "abc…(+3 bytes)", "\"abc\"…(+3 bytes)"),
            ("ééé", 3, "é…(+4 bytes)", "\"é\"…(+4 bytes)"),
            ("", 0, "", "\"\""),
        ];
        for (text, max, display, debug) in cases {
            let cut = excerpt_of(text, max);
            assert_eq!(cut.to_string(), display, "{text:?} at {max}");
            assert_eq!(format!("{cut:?}"), debug, "{text:?} at {max}");
        }
        let long = "k".repeat(1 << 20);
        assert_eq!(
            excerpt(&long).to_string().len(),
            1024 + "…(+1047552 bytes)".len()
        );
    }

    #[test]
    fn object_names_follow_s3_limits() {
        let long_key = "k".repeat(1025);
        let long_bucket = "b".repeat(1 << 20);
        let ok = [
            ("flow-logs", "AWSLogs/1/x.log.gz"),
            ("abc", "k"),
            ("Legacy_Bucket.1", "k"),
            (
                "b23456789012345678901234567890123456789012345678901234567890123",
                "k",
            ),
        ];
        for (bucket, key) in ok {
            assert_eq!(validate_object(bucket, key), Ok(()), "{bucket} {key}");
        }
        assert_eq!(validate_object("flow-logs", &"k".repeat(1024)), Ok(()));
        let bad: [(&str, &str, &str); 6] = [
            ("ab", "k", "2 characters long"),
            (&long_bucket, "k", "1048576 characters long"),
            ("a/b", "k", "holds '/'"),
            ("a b", "k", "holds ' '"),
            ("flow-logs", "", "is empty"),
            (
                "flow-logs",
                &long_key,
                "1025 bytes long, over S3's limit of 1,024",
            ),
        ];
        for (bucket, key, needle) in bad {
            let message = validate_object(bucket, key)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(message.contains(needle), "{needle}: {message}");
            assert!(message.len() < 400, "unbounded: {} bytes", message.len());
        }
        assert!(matches!(
            validate_object("flow-logs", &long_key),
            Err(ObjectNameError::KeyTooLong { bytes: 1025, .. })
        ));
    }
}
