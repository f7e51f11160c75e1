//! The facade: start the whole testbed in process on loopback ports, wiremock-style.
//!
//! Three servers start together: the S3, the mock Site24x7 ([`Emulator::ingest`]) and the
//! Lambda Runtime API ([`Emulator::lambda_runtime`]). Every S3 notification whose destination
//! is a Lambda function becomes an asynchronous invocation of the one emulated function, as
//! S3 would invoke it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let emulator = flowlog_emulator::Emulator::start().await?;
//! emulator.create_bucket_with_trigger("flow-logs").await?;
//! // ... PUT flow-log objects; run the forwarder against emulator.lambda_runtime().addr() ...
//! let received = emulator.ingest().records();
//! # drop(received); Ok(()) }
//! ```

use std::net::SocketAddr;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::types::{Event, LambdaFunctionConfiguration, NotificationConfiguration};
use futures::StreamExt as _;
use tokio::task::JoinHandle;

use crate::ingest::{IngestError, MockSite24x7, MockSite24x7Builder};
use crate::notify::{Destination, Notifier, Subscription};
use crate::runtime_api::{LambdaRuntimeApi, LambdaRuntimeApiBuilder, RuntimeApiError};
use crate::s3::{S3Server, S3Settings, ServeError};

/// Why the emulator could not start or be set up (non-exhaustive: parts may be added).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The S3 server could not start.
    #[error(transparent)]
    S3(#[from] ServeError),
    /// The mock Site24x7 could not start.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// The Lambda Runtime API could not start.
    #[error(transparent)]
    RuntimeApi(#[from] RuntimeApiError),
    /// A setup call against the emulated S3 failed.
    #[error("emulated S3: {operation} on bucket {bucket} failed: {message}")]
    Setup {
        /// The S3 operation.
        operation: &'static str,
        /// The bucket.
        bucket: String,
        /// The SDK's message.
        message: String,
    },
}

/// Options for [`Emulator`]; every field has a documented default (see [`S3Settings`]).
#[derive(Debug, Clone)]
#[must_use]
pub struct EmulatorBuilder {
    s3: S3Settings,
    s3_addr: SocketAddr,
    ingest: MockSite24x7Builder,
    lambda: LambdaRuntimeApiBuilder,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            s3: S3Settings::default(),
            s3_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            ingest: MockSite24x7::builder(),
            lambda: LambdaRuntimeApi::builder(),
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

    /// Makes the S3 wait this long before answering each request (default zero), like the real
    /// service's time to first byte: shows what a client loses by waiting on each small request.
    pub fn s3_latency(mut self, latency: std::time::Duration) -> Self {
        self.s3.latency = latency;
        self
    }

    /// Time a client of the S3 or the Lambda Runtime API gets to send a request's headers
    /// before its connection is closed (default 10 s): a client that sends part of a request
    /// and then nothing does not hold a connection forever.
    pub fn header_read_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.s3.header_read_timeout = timeout;
        self.lambda = self.lambda.header_read_timeout(timeout);
        self
    }

    /// Where the S3 listens (default `127.0.0.1:0`, an ephemeral port).
    pub fn s3_addr(mut self, addr: SocketAddr) -> Self {
        self.s3_addr = addr;
        self
    }

    /// Configures the mock Site24x7 (device key, log type, body cap, address).
    pub fn ingest(
        mut self,
        configure: impl FnOnce(MockSite24x7Builder) -> MockSite24x7Builder,
    ) -> Self {
        self.ingest = configure(self.ingest);
        self
    }

    /// Configures the Lambda Runtime API (function name, timeout, retry delays, address).
    pub fn lambda_runtime(
        mut self,
        configure: impl FnOnce(LambdaRuntimeApiBuilder) -> LambdaRuntimeApiBuilder,
    ) -> Self {
        self.lambda = configure(self.lambda);
        self
    }

    /// Starts every part and returns the handle.
    ///
    /// # Errors
    /// [`EmulatorError`] when a listener cannot be bound or a setting is invalid.
    pub async fn start(self) -> Result<Emulator, EmulatorError> {
        let notifier = Notifier::new();
        let lambda = self.lambda.start().await?;
        let ingest = self.ingest.start().await?;
        // Subscribe before the S3 accepts its first request, so no event is missed.
        let subscription = notifier.subscribe();
        let s3 = S3Server::start(self.s3_addr, self.s3.clone(), notifier.clone()).await?;
        let delivery = tokio::spawn(deliver_to_lambda(subscription, lambda.invoker()));
        Ok(Emulator {
            settings: self.s3,
            notifier,
            s3,
            ingest,
            lambda,
            delivery: AbortOnDrop(delivery),
        })
    }
}

/// S3 → Lambda: every notification for a Lambda destination becomes an asynchronous invoke.
/// The emulator hosts one function, so every Lambda destination invokes it.
async fn deliver_to_lambda(subscription: Subscription, invoker: crate::runtime_api::Invoker) {
    let mut lambda_events = subscription
        .filter(|n| std::future::ready(matches!(n.destination, Destination::Lambda { .. })));
    while let Some(notification) = lambda_events.next().await {
        if invoker.invoke(notification.event).is_none() {
            break;
        }
    }
}

fn setup_error(
    operation: &'static str,
    bucket: &str,
    error: &(dyn std::error::Error + 'static),
) -> EmulatorError {
    EmulatorError::Setup {
        operation,
        bucket: bucket.to_owned(),
        message: aws_sdk_s3::error::DisplayErrorContext(error).to_string(),
    }
}

/// Stops a background task when its owner goes away.
#[derive(Debug)]
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A running testbed. Dropping it stops every server; [`Emulator::shutdown`] also waits for them.
#[derive(Debug)]
pub struct Emulator {
    settings: S3Settings,
    notifier: Notifier,
    s3: S3Server,
    ingest: MockSite24x7,
    lambda: LambdaRuntimeApi,
    delivery: AbortOnDrop,
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

    /// The mock Site24x7: its upload URL, received records, stats and fault rules.
    #[must_use]
    pub fn ingest(&self) -> &MockSite24x7 {
        &self.ingest
    }

    /// The Lambda Runtime API that S3 notifications invoke: its address is what
    /// `AWS_LAMBDA_RUNTIME_API` holds for the function process.
    #[must_use]
    pub fn lambda_runtime(&self) -> &LambdaRuntimeApi {
        &self.lambda
    }

    /// Creates a bucket whose "all object create events" invoke the emulated function: the
    /// trigger a Site24x7 user sets up for `s3-sender.py`.
    ///
    /// # Errors
    /// [`EmulatorError::Setup`] when the bucket cannot be created or configured.
    pub async fn create_bucket_with_trigger(&self, bucket: &str) -> Result<(), EmulatorError> {
        let s3 = self.s3_client();
        s3.create_bucket()
            .bucket(bucket)
            .send()
            .await
            .map_err(|e| setup_error("CreateBucket", bucket, &e))?;
        let trigger = LambdaFunctionConfiguration::builder()
            .id("flowlog-forwarder-trigger")
            .lambda_function_arn(self.lambda.function_arn())
            .events(Event::from("s3:ObjectCreated:*"))
            .build()
            .map_err(|e| EmulatorError::Setup {
                operation: "PutBucketNotificationConfiguration",
                bucket: bucket.to_owned(),
                message: e.to_string(),
            })?;
        s3.put_bucket_notification_configuration()
            .bucket(bucket)
            .notification_configuration(
                NotificationConfiguration::builder()
                    .lambda_function_configurations(trigger)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| setup_error("PutBucketNotificationConfiguration", bucket, &e))?;
        Ok(())
    }

    /// Stops every server and waits until the S3 has stopped.
    pub async fn shutdown(self) {
        let Self {
            s3,
            ingest,
            lambda,
            delivery,
            ..
        } = self;
        drop(delivery);
        drop(ingest);
        drop(lambda);
        s3.shutdown().await;
    }
}
