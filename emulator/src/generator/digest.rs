//! The records digest: an order-independent, additive fingerprint of an object's data lines, so
//! that what a receiver got can be compared with what was generated, whatever the batching.
//!
//! Definition (shared with the other crates' tests): for each data line (not the header), join
//! its tokens with single spaces, SHA-256 it, read the first 8 bytes as a big-endian `u64`; the
//! digest is the wrapping sum of those values, written as 16 lowercase hex digits.

use sha2::{Digest, Sha256};

/// The digest of one record given as its tokens (fields in order).
#[must_use]
pub fn line_digest(tokens: &[&str]) -> u64 {
    let mut hasher = Sha256::new();
    for (i, token) in tokens.iter().enumerate() {
        if i > 0 {
            hasher.update(b" ");
        }
        hasher.update(token.as_bytes());
    }
    first_u64(&hasher.finalize())
}

/// The digest of one line already joined by single spaces (no newline).
#[must_use]
pub fn joined_line_digest(line: &[u8]) -> u64 {
    first_u64(&Sha256::digest(line))
}

fn first_u64(hash: &[u8]) -> u64 {
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash[..8]);
    u64::from_be_bytes(first)
}

/// Accumulates line digests; merging two accumulators equals digesting both sets of lines.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct RecordsDigest(u64);

impl RecordsDigest {
    /// An empty digest (no lines).
    #[must_use]
    pub fn new() -> Self {
        Self(0)
    }

    /// Adds one line's digest (from [`line_digest`]).
    pub fn add(&mut self, line_digest: u64) {
        self.0 = self.0.wrapping_add(line_digest);
    }

    /// Adds one record given as tokens.
    pub fn add_tokens(&mut self, tokens: &[&str]) {
        self.add(line_digest(tokens));
    }

    /// Adds every line of another digest.
    pub fn merge(&mut self, other: RecordsDigest) {
        self.0 = self.0.wrapping_add(other.0);
    }

    /// The sum as a number.
    #[must_use]
    pub fn value(&self) -> u64 {
        self.0
    }

    /// The 16 lowercase hex digits used in the manifest.
    #[must_use]
    pub fn to_hex(&self) -> String {
        format!("{:016x}", self.0)
    }

    /// Reads the manifest form back.
    ///
    /// # Errors
    /// When `hex` is not 1 to 16 hex digits.
    pub fn from_hex(hex: &str) -> Result<Self, std::num::ParseIntError> {
        u64::from_str_radix(hex, 16).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_joined_lines_digest_alike_in_any_order() {
        let a = ["2", "123456789010", "eni-1235b8ca123456789", "-", "-"];
        let b = ["2", "x", "OK"];
        assert_eq!(line_digest(&a), joined_line_digest(a.join(" ").as_bytes()));
        let (mut one, mut two) = (RecordsDigest::new(), RecordsDigest::new());
        one.add_tokens(&a);
        one.add_tokens(&b);
        two.add_tokens(&b);
        let mut part = RecordsDigest::new();
        part.add_tokens(&a);
        two.merge(part);
        assert_eq!(one, two);
        assert_eq!(RecordsDigest::from_hex(&one.to_hex()).ok(), Some(one));
        assert_eq!(one.to_hex().len(), 16);
    }
}
