//! S3 notification keys are form-encoded; this turns them back into real object keys.

use thiserror::Error;

/// Why a notification key could not be decoded; the raw key travels in
/// [`super::EventError::Key`].
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// A `%` not followed by two hex digits.
    #[error("invalid percent escape at byte {position}")]
    InvalidEscape {
        /// Byte offset of the `%` in the raw key.
        position: usize,
    },
    /// The decoded bytes are not UTF-8, so they cannot be an S3 key.
    #[error("the decoded key is not valid UTF-8")]
    InvalidUtf8,
}

/// Decodes a key as S3 puts it in event notifications: `+` means space, then
/// `%XX` escapes (`%3D` in Hive prefixes, `%2F` from some emulators).
///
/// Forgetting this is the classic cause of `NoSuchKey` on keys with spaces or
/// `year=2026` prefixes.
///
/// # Errors
/// [`KeyError`] for a malformed escape or bytes that are not UTF-8.
pub fn decode_key(raw: &str) -> Result<String, KeyError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex_value);
                let lo = bytes.get(i + 2).copied().and_then(hex_value);
                match (hi, lo) {
                    (Some(hi), Some(lo)) => out.push(hi << 4 | lo),
                    _ => return Err(KeyError::InvalidEscape { position: i }),
                }
                i += 2;
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| KeyError::InvalidUtf8)
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{KeyError, decode_key};

    #[test]
    fn decodes_form_encoded_keys() {
        let cases = [
            ("AWSLogs/123/x.log.gz", "AWSLogs/123/x.log.gz"),
            ("a+b", "a b"),
            ("year%3D2026/month%3D11", "year=2026/month=11"),
            ("AWSLogs%2F123%2Fx.gz", "AWSLogs/123/x.gz"),
            ("plus%2Bsign", "plus+sign"),
            ("caf%C3%A9", "café"),
            ("lower%2f", "lower/"),
            ("", ""),
        ];
        for (raw, want) in cases {
            assert_eq!(decode_key(raw).as_deref(), Ok(want), "raw key {raw:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_key_survives_s3_style_form_encoding(key in "\\PC*") {
            // S3 (and moto's quote_plus) percent-encode bytes and turn spaces into `+`.
            let encoded = percent_encoding::utf8_percent_encode(&key, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
                .replace("%20", "+");
            proptest::prop_assert_eq!(decode_key(&encoded), Ok(key));
        }
    }

    #[test]
    fn rejects_malformed_keys() {
        let cases = [
            ("bad%", KeyError::InvalidEscape { position: 3 }),
            ("bad%2", KeyError::InvalidEscape { position: 3 }),
            ("bad%zz", KeyError::InvalidEscape { position: 3 }),
            ("%FF", KeyError::InvalidUtf8),
        ];
        for (raw, want) in cases {
            assert_eq!(decode_key(raw), Err(want), "raw key {raw:?}");
        }
    }
}
