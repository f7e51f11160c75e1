//! The production path: a [`Forwarder`] built once per process forwards objects (one object end
//! to end in `object`, read through [`crate::input`]) and whole Lambda payloads
//! ([`Forwarder::handle_event`]).
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use flowlog_forwarder::{Forwarder, LogTypeConfig, Settings};
//! let forwarder = Forwarder::new(LogTypeConfig::builtin_vpc(), Settings::default()).await?;
//! let report = forwarder.forward_object("my-flow-logs", "AWSLogs/1/x.log.gz").await;
//! assert!(report.is_balanced());
//! # Ok(()) }
//! ```

mod object;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use aws_sdk_s3::error::DisplayErrorContext;
use futures::StreamExt as _;

use crate::config::LogTypeConfig;
use crate::deadletter::{DeadLetterError, DeadLetterStore, ReplayReport};
use crate::event::{EventError, decode_value};
use crate::report::{InvocationReport, ObjectReport};
use crate::settings::{Settings, StateLocation};
use crate::source::{self, build_client};
use crate::state::StateStore;
use crate::upload::{self, UploadClient};

/// The forwarder could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The S3 client could not be built.
    #[error(transparent)]
    S3(#[from] source::ClientError),
    /// The upload client could not be built.
    #[error(transparent)]
    Upload(#[from] upload::ClientError),
}

/// A whole invocation failed (so Lambda retries it and, in the end, its DLQ applies).
#[derive(Debug, thiserror::Error)]
pub enum InvocationError {
    /// The payload is not an event the forwarder understands.
    #[error("the Lambda payload cannot be decoded: {0}")]
    Event(#[from] EventError),
    /// Objects failed or records could not be decoded.
    #[error(
        "{failed} of {total} object(s) failed, {event_errors} record(s) undecodable; first: {first}"
    )]
    Failed {
        /// Objects that failed.
        failed: usize,
        /// Objects in the event.
        total: usize,
        /// Records or messages that could not be decoded.
        event_errors: usize,
        /// The first problem's message.
        first: String,
        /// Whether a retry can help (false for configuration errors).
        retryable: bool,
        /// Everything that happened.
        report: Box<InvocationReport>,
    },
}

impl InvocationError {
    /// Whether retrying the invocation may succeed (Lambda's error type: `Retryable` or
    /// `NonRetryable`).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Event(_) => false,
            Self::Failed { retryable, .. } => *retryable,
        }
    }

    /// The per-object reports, when objects were processed.
    #[must_use]
    pub fn report(&self) -> Option<&InvocationReport> {
        match self {
            Self::Event(_) => None,
            Self::Failed { report, .. } => Some(report),
        }
    }
}

/// Listing a prefix failed.
#[derive(Debug, thiserror::Error)]
#[error(
    "listing s3://{bucket}/{prefix} failed: {message}; the role needs s3:ListBucket on arn:aws:s3:::{bucket}"
)]
pub struct ListError {
    /// Bucket listed.
    pub bucket: String,
    /// Prefix listed.
    pub prefix: String,
    /// The client's description.
    pub message: String,
}

/// Everything one process needs to forward: the S3 client, the upload client (one connection
/// pool each), the configuration and the settings. Build once, share by reference.
#[derive(Debug)]
pub struct Forwarder {
    config: Arc<LogTypeConfig>,
    settings: Settings,
    s3: aws_sdk_s3::Client,
    /// Shared with the delivery tasks, which run apart from the object's loop.
    upload: Arc<UploadClient>,
    upload_url: String,
    /// One permit per core, and one more: batches compress on every core, and while the
    /// reading thread has a core to itself (between two sealed batches) the spare batch keeps
    /// the other busy. Measured on 2 cores, 1M records: 4% less wall time than one per core,
    /// for one more batch in memory.
    compress_permits: Arc<tokio::sync::Semaphore>,
}

impl Forwarder {
    /// Builds the clients from `settings` (S3 endpoint or real AWS; upload URL override or
    /// `https://{uploadDomain}/upload`).
    ///
    /// # Errors
    /// [`SetupError`] when a client cannot be built (testbed endpoint without credentials,
    /// invalid upload URL, a key that cannot be a header).
    pub async fn new(config: LogTypeConfig, settings: Settings) -> Result<Self, SetupError> {
        let s3 = build_client(&settings.s3).await?;
        Self::with_s3_client(config, settings, s3)
    }

    /// As [`Forwarder::new`] with an S3 client built elsewhere.
    ///
    /// # Errors
    /// [`SetupError::Upload`] when the upload client cannot be built.
    pub fn with_s3_client(
        config: LogTypeConfig,
        settings: Settings,
        s3: aws_sdk_s3::Client,
    ) -> Result<Self, SetupError> {
        let target = settings.upload_target(&config);
        // Kept for dead letters and logs: without credentials or query values.
        let upload_url = upload::redacted_url(&target.url);
        let upload = Arc::new(UploadClient::new(target, &settings.upload)?);
        Ok(Self {
            config: Arc::new(config),
            settings,
            s3,
            upload,
            upload_url,
            compress_permits: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, usize::from) + 1,
            )),
        })
    }

    /// The settings in force.
    #[must_use]
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Where batches are POSTed.
    #[must_use]
    pub fn upload_url(&self) -> &str {
        &self.upload_url
    }

    /// The state store for objects of `bucket` (the event's bucket matters only for
    /// [`StateLocation::EventBucket`]).
    #[must_use]
    pub fn state_store(&self, bucket: &str) -> StateStore {
        match &self.settings.state {
            StateLocation::Local(dir) => StateStore::Local(dir.clone()),
            StateLocation::S3 { bucket, prefix } => {
                StateStore::s3(self.s3.clone(), bucket.clone(), prefix)
            }
            StateLocation::EventBucket { prefix } => {
                StateStore::s3(self.s3.clone(), bucket.to_owned(), prefix)
            }
        }
    }

    /// The dead letters of objects from `bucket` (any bucket for a fixed state location).
    #[must_use]
    pub fn dead_letter_store(&self, bucket: &str) -> DeadLetterStore {
        DeadLetterStore::new(self.state_store(bucket)).redacting(self.config.api_key().clone())
    }

    /// Forwards objects with bounded parallelism (`object_concurrency`), calling `on_done`
    /// as each finishes; reports come back in input order. A configuration error on one
    /// object stops the others (they report `Aborted`).
    pub async fn forward_all(
        &self,
        objects: Vec<(String, String)>,
        on_done: impl Fn(&ObjectReport),
    ) -> Vec<ObjectReport> {
        let objects = objects.into_iter().map(|(b, k)| (b, k, None)).collect();
        self.forward_versions(objects, on_done).await
    }

    /// As [`Forwarder::forward_all`], each object with the S3 version its event named.
    async fn forward_versions(
        &self,
        objects: Vec<(String, String, Option<String>)>,
        on_done: impl Fn(&ObjectReport),
    ) -> Vec<ObjectReport> {
        let abort = AtomicBool::new(false);
        let abort = &abort;
        let on_done = &on_done;
        futures::stream::iter(objects)
            .map(|(bucket, key, version)| async move {
                let report = self
                    .forward_object_with(&bucket, &key, version.as_deref(), abort)
                    .await;
                on_done(&report);
                report
            })
            .buffered(self.settings.object_concurrency.max(1))
            .collect()
            .await
    }

    /// Handles one Lambda payload: every object of every record. S3 direct, SNS and
    /// EventBridge payloads fail as a whole if anything failed (so Lambda retries; objects
    /// already delivered are skipped by their progress markers); SQS payloads succeed with
    /// `batchItemFailures` naming exactly the messages whose objects failed.
    ///
    /// # Errors
    /// [`InvocationError`] as above.
    #[tracing::instrument(skip_all)]
    pub async fn handle_event(
        &self,
        payload: serde_json::Value,
    ) -> Result<InvocationReport, InvocationError> {
        let decoded = decode_value(payload)?;
        // The version an event names is the version read (versioned buckets).
        let objects = decoded
            .objects()
            .map(|o| (o.bucket.clone(), o.key.clone(), o.version_id.clone()))
            .collect();
        let reports = self.forward_versions(objects, |_| {}).await;
        let failed: HashSet<(String, String)> = reports
            .iter()
            .filter(|r| r.outcome.is_failure())
            .map(|r| (r.bucket.clone(), r.key.clone()))
            .collect();
        let mut report = InvocationReport {
            event_errors: decoded.errors().map(ToString::to_string).collect(),
            skipped_events: decoded.items.iter().map(|i| i.skipped.len()).sum(),
            sqs: None,
            objects: reports,
        };
        for error in &report.event_errors {
            tracing::error!(%error, "event record not decodable");
        }
        if decoded.is_sqs() {
            let response =
                decoded.sqs_response(|o| failed.contains(&(o.bucket.clone(), o.key.clone())));
            report.sqs = Some(response);
            return Ok(report);
        }
        if !report.has_failures() {
            return Ok(report);
        }
        let first = report
            .failed()
            .next()
            .map(|r| match r.outcome.error() {
                Some(e) => e.to_string(),
                None => format!("s3://{}/{}: {}", r.bucket, r.key, r.outcome.name()),
            })
            .or_else(|| report.event_errors.first().cloned())
            .unwrap_or_default();
        let configuration = report
            .failed()
            .any(|r| r.outcome.error().is_some_and(|e| e.is_configuration()));
        Err(InvocationError::Failed {
            failed: report.failed().count(),
            total: report.objects.len(),
            event_errors: report.event_errors.len(),
            first,
            retryable: !configuration && report.is_retryable(),
            report: Box::new(report),
        })
    }

    /// Every key under `prefix` in `bucket` (ListObjectsV2, all pages), minus the forwarder's
    /// own state keys.
    ///
    /// # Errors
    /// [`ListError`] when a page cannot be listed.
    pub async fn list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, ListError> {
        let store = self.state_store(bucket);
        let mut pages = self
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let mut keys = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| ListError {
                bucket: bucket.to_owned(),
                prefix: prefix.to_owned(),
                message: DisplayErrorContext(&e).to_string(),
            })?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key())
                    .filter(|k| !k.ends_with('/') && !store.is_own_state_key(bucket, k))
                    .map(str::to_owned),
            );
        }
        Ok(keys)
    }

    /// Re-sends every dead letter in `store` with this process's apiKey and log type,
    /// deleting each once Site24x7 accepted it.
    ///
    /// # Errors
    /// [`DeadLetterError`] when the dead letters cannot be listed.
    pub async fn replay(&self, store: &DeadLetterStore) -> Result<ReplayReport, DeadLetterError> {
        store
            .replay(
                |letter| async move { self.upload.upload(&letter.to_batch()).await.map(|_| ()) },
            )
            .await
    }
}
