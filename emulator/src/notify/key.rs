//! Object keys as S3 writes them into event records: `application/x-www-form-urlencoded`.
//!
//! S3 encodes a space as `+`, `=` as `%3D` (so Hive prefixes such as `year=2026/` become
//! `year%3D2026/`) and every byte outside `A-Z a-z 0-9 - _ . * /` as `%XX`; `/` is kept.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Bytes left as they are: the URL-encoder's safe set plus `/`, which S3 keeps in keys.
const KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'*')
    .remove(b'/')
    .remove(b' ');

/// Encodes a key the way S3 writes it into `s3.object.key` of an event record.
#[must_use]
pub fn encode_event_key(key: &str) -> String {
    utf8_percent_encode(key, KEEP).to_string().replace(' ', "+")
}

/// Decodes an event-record key back to the object key (`+` first, then `%XX`).
///
/// Invalid UTF-8 after decoding is replaced rather than dropped, so the caller sees a key that
/// fails loudly with NoSuchKey instead of a silently different one.
#[must_use]
pub fn decode_event_key(encoded: &str) -> String {
    let plus_decoded = encoded.replace('+', " ");
    percent_decode_str(&plus_decoded)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_form_encoded_like_s3_and_decode_back() {
        let table = [
            ("a b+c=d.log.gz", "a+b%2Bc%3Dd.log.gz"),
            (
                "year=2026/month=11/x.log.gz",
                "year%3D2026/month%3D11/x.log.gz",
            ),
            (
                "AWSLogs/123/vpcflowlogs/us-east-1/2026/11/24/f.log.gz",
                "AWSLogs/123/vpcflowlogs/us-east-1/2026/11/24/f.log.gz",
            ),
            ("caf\u{e9} (1)~", "caf%C3%A9+%281%29%7E"),
            ("", ""),
        ];
        for (key, want) in table {
            assert_eq!(encode_event_key(key), want, "encoding {key:?}");
            assert_eq!(decode_event_key(want), key, "decoding {want:?}");
        }
    }
}
