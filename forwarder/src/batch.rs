//! Upload batches: gzip-compressed JSON arrays of records within Site24x7's limits.

use bytes::Bytes;

/// One request's worth of records, ready to POST to `/upload`.
///
/// The upload client needs only these fields; the batcher that fills them is
/// built in this module.
#[derive(Debug, Clone)]
pub struct UploadBatch {
    /// Gzip of the JSON array, sent with `Content-Encoding: gzip`.
    pub body: Bytes,
    /// Site24x7's `Log-Size` header: raw matched log text, adjusted for
    /// ignored, masked, hashed and derived fields.
    pub log_size: u64,
    /// How many records the array holds.
    pub records: usize,
    /// Size of the uncompressed JSON array in bytes.
    pub json_bytes: usize,
}
