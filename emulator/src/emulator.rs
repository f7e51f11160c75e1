//! The facade: start the whole testbed in process on loopback ports, wiremock-style.
//!
//! ```no_run
//! # async fn demo() -> Result<(), flowlog_emulator::EmulatorError> {
//! let emulator = flowlog_emulator::Emulator::start().await?;
//! let s3 = emulator.s3_client();
//! let mut events = emulator.notifications();
//! s3.create_bucket().bucket("logs").send().await.ok();
//! # drop(events); Ok(()) }
//! ```

use std::net::SocketAddr;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};

use crate::notify::{Notifier, Subscription};
use crate::s3::{S3Server, S3Settings, ServeError};

/// Why the emulator could not start (more parts, more variants: hence non-exhaustive).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The S3 server could not start.
    #[error(transparent)]
    S3(#[from] ServeError),
}

/// Options for [`Emulator`]; every field has a documented default (see [`S3Settings`]).
#[derive(Debug, Clone)]
#[must_use]
pub struct EmulatorBuilder {
    s3: S3Settings,
    s3_addr: SocketAddr,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            s3: S3Settings::default(),
            s3_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

impl EmulatorBuilder {
    /// The access key pair SigV4 requests must be signed with.
    pub fn credentials(
        mut self,
        access_key: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> Self {
        self.s3.access_key = access_key.into();
        self.s3.secret_key = secret_key.into();
        self
    }

    /// The region of every bucket and event record.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.s3.region = region.into();
        self
    }

    /// Largest object accepted (bytes); larger uploads fail with `EntityTooLarge`.
    pub fn max_object_size(mut self, bytes: u64) -> Self {
        self.s3.max_object_size = bytes;
        self
    }

    /// Where the S3 listens (default `127.0.0.1:0`, an ephemeral port).
    pub fn s3_addr(mut self, addr: SocketAddr) -> Self {
        self.s3_addr = addr;
        self
    }

    /// Starts every part and returns the handle.
    ///
    /// # Errors
    /// [`EmulatorError`] when a listener cannot be bound.
    pub async fn start(self) -> Result<Emulator, EmulatorError> {
        let notifier = Notifier::new();
        let s3 = S3Server::start(self.s3_addr, self.s3.clone(), notifier.clone()).await?;
        Ok(Emulator {
            settings: self.s3,
            notifier,
            s3,
        })
    }
}

/// A running testbed. Dropping it stops every server; [`Emulator::shutdown`] also waits for them.
#[derive(Debug)]
pub struct Emulator {
    settings: S3Settings,
    notifier: Notifier,
    s3: S3Server,
}

impl Emulator {
    /// Starts with default settings on ephemeral loopback ports.
    ///
    /// # Errors
    /// [`EmulatorError`] when a listener cannot be bound.
    pub async fn start() -> Result<Self, EmulatorError> {
        Self::builder().start().await
    }

    /// Options before starting.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// The S3 endpoint URL, e.g. `http://127.0.0.1:41001` (for `--endpoint-url`).
    #[must_use]
    pub fn s3_uri(&self) -> String {
        self.s3.uri()
    }

    /// The S3 socket address.
    #[must_use]
    pub fn s3_addr(&self) -> SocketAddr {
        self.s3.addr()
    }

    /// The settings the S3 runs with (credentials, region, size cap).
    #[must_use]
    pub fn s3_settings(&self) -> &S3Settings {
        &self.settings
    }

    /// An aws-sdk-s3 config builder already pointed at the emulator (endpoint, path style,
    /// static credentials, region), for callers that tweak more (e.g. checksum modes).
    #[must_use]
    pub fn s3_config(&self) -> aws_sdk_s3::config::Builder {
        let credentials = Credentials::new(
            &self.settings.access_key,
            &self.settings.secret_key,
            None,
            None,
            "flowlog-emulator",
        );
        aws_sdk_s3::config::Builder::new()
            .behavior_version(BehaviorVersion::latest())
            .endpoint_url(self.s3_uri())
            .force_path_style(true)
            .region(Region::new(self.settings.region.clone()))
            .credentials_provider(credentials)
    }

    /// An aws-sdk-s3 client for the emulated S3.
    #[must_use]
    pub fn s3_client(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(self.s3_config().build())
    }

    /// Every S3 notification from now on (Lambda, queue and topic destinations alike).
    #[must_use]
    pub fn notifications(&self) -> Subscription {
        self.notifier.subscribe()
    }

    /// The notifier itself, for wiring destinations (e.g. Lambda) to other parts.
    #[must_use]
    pub fn notifier(&self) -> &Notifier {
        &self.notifier
    }

    /// Stops every server and waits until they have stopped.
    pub async fn shutdown(self) {
        self.s3.shutdown().await;
    }
}
