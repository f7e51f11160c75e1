//! Settings of the emulated S3 and their documented defaults.

use std::fmt;
use std::time::Duration;

/// Default access key id accepted by the emulator (`--access-key`).
pub const DEFAULT_ACCESS_KEY: &str = "flowlog";
/// Default secret access key (`--secret-key`); not a secret, it only guards a local test server.
pub const DEFAULT_SECRET_KEY: &str = "flowlog-secret";
/// Default region reported in event records and by GetBucketLocation/HeadBucket.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Default object size cap: 1 GiB (objects live in memory).
pub const DEFAULT_MAX_OBJECT_SIZE: u64 = 1 << 30;
/// Default time a client gets to send a request's headers before its connection is closed:
/// a client that sends part of a request and then nothing (slowloris) holds no socket forever.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How the emulated S3 authenticates and what it accepts.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Settings {
    /// The one access key id SigV4 requests must be signed with.
    pub access_key: String,
    /// Its secret key (never logged: `Debug` redacts it).
    pub secret_key: String,
    /// The region of every bucket.
    pub region: String,
    /// Largest object (single PUT, or sum of parts) accepted; larger ones get `EntityTooLarge`.
    pub max_object_size: u64,
    /// Wait before answering each request, as a stand-in for the real service's time to first
    /// byte (tens of milliseconds): what makes a client that waits on every small PUT slow
    /// here too. Zero by default.
    pub latency: Duration,
    /// Time a client gets to send a request's headers (request line included) before its
    /// connection is closed; see [`DEFAULT_HEADER_READ_TIMEOUT`].
    pub header_read_timeout: Duration,
}

impl Default for S3Settings {
    fn default() -> Self {
        Self {
            access_key: DEFAULT_ACCESS_KEY.to_owned(),
            secret_key: DEFAULT_SECRET_KEY.to_owned(),
            region: DEFAULT_REGION.to_owned(),
            max_object_size: DEFAULT_MAX_OBJECT_SIZE,
            latency: Duration::ZERO,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
        }
    }
}

impl fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Settings")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field("region", &self.region)
            .field("max_object_size", &self.max_object_size)
            .field("latency", &self.latency)
            .field("header_read_timeout", &self.header_read_timeout)
            .finish()
    }
}
