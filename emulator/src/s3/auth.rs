//! SigV4 credentials: the one key pair the emulator accepts, and S3's answer to any other
//! access key id, which also tells a newcomer which key id to use and how to change it.

use s3s::auth::{S3Auth, SecretKey};
use s3s::{S3Result, s3_error};

/// The emulator's single credential pair as an `s3s` authentication provider.
pub(crate) struct EmulatorAuth {
    access_key: String,
    secret_key: SecretKey,
}

impl EmulatorAuth {
    pub(crate) fn new(access_key: &str, secret_key: &str) -> Self {
        Self {
            access_key: access_key.to_owned(),
            secret_key: SecretKey::from(secret_key),
        }
    }
}

#[async_trait::async_trait]
impl S3Auth for EmulatorAuth {
    async fn get_secret_key(&self, access_key: &str) -> S3Result<SecretKey> {
        if access_key == self.access_key {
            return Ok(self.secret_key.clone());
        }
        // S3's own code and words, then the emulator's hint: the expected key id only, never
        // the secret (which the caller set, or is the documented default).
        Err(s3_error!(
            InvalidAccessKeyId,
            "The AWS Access Key Id you provided does not exist in our records. \
             This emulator accepts only the access key id \"{}\" (set it, with its secret, by \
             `flowlog-emulator serve --access-key KEY --secret-key SECRET` or \
             FLOWLOG_EMULATOR_ACCESS_KEY / FLOWLOG_EMULATOR_SECRET_KEY).",
            self.access_key
        ))
    }
}
