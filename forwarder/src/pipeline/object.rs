//! One object end to end: GetObject → progress marker → blocking parse → bounded concurrent
//! uploads → settle (accepted or dead-lettered) → accounting line.
//!
//! Acknowledgement comes only after Site24x7 confirmed (or the dead letter is stored):
//! duplicates are preferred over loss. See [`crate::progress`] for what can still duplicate.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use futures::StreamExt as _;
use futures::stream::FuturesUnordered;
use tokio::sync::mpsc;
use tokio_util::task::AbortOnDropHandle;

use super::Forwarder;
use crate::batch::SealedBatch;
use crate::deadletter::{DeadLetter, DeadLetterContext, DeadLetterStore, now_rfc3339};
use crate::input::{NumberedBatch, ReadEnd, ReadJob, read_object};
use crate::progress::{MarkerWrite, ProgressMarker, ProgressStore, ProgressTracker, Resume};
use crate::records::ObjectContext;
use crate::report::{ObjectError, ObjectOutcome, ObjectReport};
use crate::source::{ReadError, open_version};
use crate::state::StateStore;
use crate::upload::{Delivered, Disposition, UploadError};

/// A batch back from its delivery task: the upload body and what Site24x7 said.
type Settling = (NumberedBatch, Result<Delivered, UploadError>);

/// Per-object delivery state on the async side.
struct Delivery<'a> {
    report: ObjectReport,
    tracker: ProgressTracker,
    dead_letters: DeadLetterStore,
    failure: Option<ObjectError>,
    abort: &'a AtomicBool,
    /// The S3 version read (versioned buckets): dead letters are keyed by it.
    version_id: Option<String>,
}

impl Forwarder {
    /// Forwards one object and returns its accounting (also logged as one structured line).
    /// Never panics on bad input: every problem is an [`ObjectOutcome`].
    pub async fn forward_object(&self, bucket: &str, key: &str) -> ObjectReport {
        self.forward_object_with(bucket, key, None, &AtomicBool::new(false))
            .await
    }

    /// As [`Forwarder::forward_object`], for S3 version `version_id` of the object (the
    /// version an event of a versioned bucket names; `None`: the current one).
    pub async fn forward_version(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> ObjectReport {
        self.forward_object_with(bucket, key, version_id, &AtomicBool::new(false))
            .await
    }

    /// As [`Forwarder::forward_version`], stopping early once `abort` is set (by any object of
    /// the same run hitting a configuration error, which it then sets).
    pub(crate) async fn forward_object_with(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        abort: &AtomicBool,
    ) -> ObjectReport {
        let started = Instant::now();
        let mut report = self.run_object(bucket, key, version_id, abort).await;
        report.seconds = started.elapsed().as_secs_f64();
        debug_assert!(report.is_balanced(), "unbalanced: {report}");
        report.emit();
        report
    }

    async fn run_object(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        abort: &AtomicBool,
    ) -> ObjectReport {
        let store = self.state_store(bucket);
        if store.is_own_state_key(bucket, key) {
            return ObjectReport::new(bucket, key, ObjectOutcome::OwnState);
        }
        if abort.load(Ordering::Relaxed) {
            let error = ObjectError::Aborted {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
            };
            return ObjectReport::new(bucket, key, ObjectOutcome::Failed(error));
        }
        let retry = &self.settings.s3_retry;
        let object = match open_version(&self.s3, bucket, key, version_id, retry).await {
            Ok(object) => object,
            Err(e) => return ObjectReport::new(bucket, key, ObjectOutcome::Failed(e.into())),
        };
        let etag = object.meta.etag.clone();
        // Markers (and dead letters) of a versioned object are kept per version.
        let version = object.meta.version_id.clone();
        let progress = ProgressStore::new(store.clone());
        let marker_etag = etag.as_deref().unwrap_or("");
        let resume = progress
            .load_version(bucket, key, version.as_deref(), marker_etag)
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(bucket, key, %error, "progress marker unreadable; starting from zero (may duplicate)");
                Resume::Start(crate::progress::StartReason::NoMarker)
            });
        let marker = match resume {
            Resume::Done(marker) => {
                tracing::info!(
                    bucket,
                    key,
                    etag = marker_etag,
                    "already forwarded: duplicate notification skipped"
                );
                let pending = self.pending_dead_letters(&store, &marker).await;
                let mut report = ObjectReport::new(
                    bucket,
                    key,
                    ObjectOutcome::Duplicate {
                        dead_lettered_batches: pending,
                    },
                );
                report.etag = etag;
                report.bytes_in = object.byte_counter().get();
                return report;
            }
            Resume::Continue(marker) => {
                tracing::info!(
                    bucket,
                    key,
                    lines_done = marker.lines_done,
                    batches_done = marker.batches_done,
                    "resuming after an earlier run"
                );
                marker
            }
            Resume::Start(_) => {
                ProgressMarker::start(bucket, key, marker_etag).with_version(version.as_deref())
            }
        };
        let earlier_dead_letters = marker.dead_lettered_batches;
        let mut report = ObjectReport::new(bucket, key, ObjectOutcome::Delivered);
        report.etag = etag;
        let mut delivery = Delivery {
            report,
            tracker: ProgressTracker::new(
                progress,
                marker.clone(),
                self.settings.progress_save_every,
            ),
            dead_letters: DeadLetterStore::new(store).redacting(self.config.api_key().clone()),
            failure: None,
            abort,
            version_id: version.clone(),
        };
        let counter = object.byte_counter();
        let input = object.into_input();
        let in_flight = self.settings.uploads_in_flight.max(1);
        // One sealed batch waits while the others compress and upload: memory stays a few
        // batches whatever the object's size.
        let (tx, mut rx) = mpsc::channel::<NumberedBatch<SealedBatch>>(1);
        let config = self.config.clone();
        let limits = self.settings.batch;
        let ctx = ObjectContext::now(bucket, key);
        let parse = tokio::task::spawn_blocking(move || {
            let job = ReadJob {
                config: &config,
                ctx,
                limits,
                skip_through: marker.lines_done,
                first_index: marker.batches_done,
            };
            // The async half stopped listening (configuration error or abort): stop reading.
            let mut send = |batch| match tx.blocking_send(batch) {
                Ok(()) => std::ops::ControlFlow::Continue(()),
                Err(_) => std::ops::ControlFlow::Break(()),
            };
            read_object(input, job, &mut send)
        });

        let mut uploads = FuturesUnordered::new();
        // The marker write in progress: it runs beside the uploads (a PUT to S3 takes longer
        // than compressing a batch), one at a time, covering whatever has settled when it starts.
        let mut marking: Option<MarkerWrite> = None;
        let mut open = true;
        loop {
            if marking.is_none() {
                marking = delivery.tracker.due_write();
            }
            if open && (delivery.failure.is_some() || abort.load(Ordering::Relaxed)) {
                // Stop reading; batches already queued stay unsent (the marker does not cover
                // them), uploads in flight are let finish so their outcome is recorded.
                rx.close();
                open = false;
            }
            tokio::select! {
                next = rx.recv(), if open && uploads.len() < in_flight => match next {
                    Some(batch) => uploads.push(self.deliver(batch)),
                    None => open = false,
                },
                Some(done) = uploads.next(), if !uploads.is_empty() => match done {
                    Ok((batch, result)) => self.settle(&mut delivery, batch, result).await,
                    Err(message) => {
                        let report = &delivery.report;
                        delivery.failure.get_or_insert(ObjectError::Internal {
                            bucket: report.bucket.clone(),
                            key: report.key.clone(),
                            message,
                        });
                    }
                },
                written = async { marking.as_mut().expect("enabled only when writing").await },
                    if marking.is_some() => {
                    marking = None;
                    if let Err(error) = written {
                        delivery.tracker.write_failed();
                        tracing::warn!(%error, "progress marker not written; a retry may resend these batches");
                    }
                }
                else => break,
            }
        }
        drop(rx);
        let end = parse.await;
        let mut report = self.finish(delivery, end, earlier_dead_letters).await;
        report.bytes_in = counter.get();
        report
    }

    /// Dead letters of a completed object still waiting for `replay` (0 once replayed). When
    /// they cannot be listed, the marker's count stands (failing is the safe side).
    async fn pending_dead_letters(&self, store: &StateStore, marker: &ProgressMarker) -> u64 {
        if marker.dead_lettered_batches == 0 {
            return 0;
        }
        let letters = DeadLetterStore::new(store.clone());
        let Ok(stored) = letters.list().await else {
            return marker.dead_lettered_batches;
        };
        let stored: HashSet<String> = stored.iter().map(ToString::to_string).collect();
        let mut letter = DeadLetter::from_batch(
            &crate::batch::UploadBatch {
                body: bytes::Bytes::new(),
                log_size: 0,
                records: 0,
                json_bytes: 0,
            },
            DeadLetterContext {
                bucket: marker.bucket.clone(),
                key: marker.key.clone(),
                etag: Some(marker.etag.clone()).filter(|e| !e.is_empty()),
                version_id: marker.version_id.clone(),
                batch_index: 0,
                first_line: 0,
                last_line: 0,
                error: String::new(),
                attempts: 0,
                failed_at: String::new(),
                log_type: String::new(),
                upload_url: String::new(),
            },
        );
        (0..marker.batches_done)
            .filter(|&index| {
                letter.context.batch_index = index;
                stored.contains(letter.id().as_str())
            })
            .count() as u64
    }

    /// Starts the batch's delivery as its own task: compressed on the blocking pool (at most
    /// one batch per core and one more, whatever the number of objects), then uploaded. Being
    /// a task, it moves on while the object's loop is busy settling another batch (writing a
    /// marker or a dead letter), so no core waits for the loop to hand it the next batch.
    fn deliver(
        &self,
        sealed: NumberedBatch<SealedBatch>,
    ) -> impl Future<Output = Result<Settling, String>> + use<> {
        let level = self.settings.batch.gzip_level;
        let permits = self.compress_permits.clone();
        let upload = self.upload.clone();
        let NumberedBatch {
            index,
            first_line,
            last_line,
            batch: json,
        } = sealed;
        // Aborted if the object's future is dropped, as a plain future would be.
        let task = AbortOnDropHandle::new(tokio::spawn(async move {
            // The semaphore is never closed; without a permit, compressing still goes ahead.
            let permit = permits.acquire_owned().await.ok();
            let body = tokio::task::spawn_blocking(move || json.compress(level)).await?;
            drop(permit);
            let result = upload.upload(&body).await;
            Ok::<_, tokio::task::JoinError>((body, result))
        }));
        async move {
            // A compression or a task that panicked or was cancelled by a shutdown: the batch
            // is neither sent nor settled, so the object fails and a retry resends it.
            match task.await.and_then(|done| done) {
                Ok((batch, result)) => Ok((
                    NumberedBatch {
                        index,
                        first_line,
                        last_line,
                        batch,
                    },
                    result,
                )),
                Err(join) => Err(format!(
                    "the delivery of batch {index} (lines {first_line}-{last_line}) stopped: \
                     {join}; its records were not sent, and a retry resumes from the progress marker"
                )),
            }
        }
    }

    async fn settle(
        &self,
        delivery: &mut Delivery<'_>,
        batch: NumberedBatch,
        result: Result<Delivered, UploadError>,
    ) {
        let records = batch.batch.records as u64;
        let report = &mut delivery.report;
        let error = match result {
            Ok(delivered) => {
                report.retries += u64::from(delivered.attempts.saturating_sub(1));
                report.records_sent += records;
                report.bytes_out += batch.batch.body.len() as u64;
                report.batches += 1;
                tracing::info!(bucket = %report.bucket, key = %report.key, batch = batch.index, upload_id = %delivered.upload_id, records, "batch accepted");
                report.upload_ids.push(delivered.upload_id);
                Self::mark_settled(delivery, &batch, false);
                return;
            }
            Err(error) => error,
        };
        report.retries += u64::from(error.attempts().saturating_sub(1));
        if error.disposition() == Disposition::FailFast {
            delivery.abort.store(true, Ordering::Relaxed);
            if delivery.failure.is_none() {
                delivery.failure = Some(ObjectError::Configuration {
                    bucket: report.bucket.clone(),
                    key: report.key.clone(),
                    source: error,
                });
            }
            return;
        }
        let letter = DeadLetter::from_batch(
            &batch.batch,
            DeadLetterContext {
                bucket: report.bucket.clone(),
                key: report.key.clone(),
                etag: report.etag.clone(),
                version_id: delivery.version_id.clone(),
                batch_index: batch.index,
                first_line: batch.first_line,
                last_line: batch.last_line,
                error: error.to_string(),
                attempts: error.attempts(),
                failed_at: now_rfc3339(),
                log_type: self.config.log_type().to_owned(),
                upload_url: self.upload_url.clone(),
            },
        );
        match delivery.dead_letters.write(&letter).await {
            Ok(id) => {
                report.dead_lettered_records += records;
                report.batches += 1;
                report.dead_letter_ids.push(id.to_string());
                Self::mark_settled(delivery, &batch, true);
            }
            Err(source) => {
                if delivery.failure.is_none() {
                    delivery.failure = Some(ObjectError::DeadLetterStore {
                        bucket: report.bucket.clone(),
                        key: report.key.clone(),
                        upload: error.to_string(),
                        source,
                    });
                }
            }
        }
    }

    /// Counts the batch as settled; the marker write it may make due is started by the loop.
    fn mark_settled(delivery: &mut Delivery<'_>, batch: &NumberedBatch, dead: bool) {
        let records = batch.batch.records as u64;
        delivery
            .tracker
            .record(batch.index, batch.last_line, records, dead);
    }

    async fn finish(
        &self,
        delivery: Delivery<'_>,
        end: Result<ReadEnd, tokio::task::JoinError>,
        earlier_dead_letters: u64,
    ) -> ObjectReport {
        let Delivery {
            mut report,
            mut tracker,
            failure,
            abort,
            ..
        } = delivery;
        let (bucket, key) = (report.bucket.clone(), report.key.clone());
        let end = match end {
            Ok(end) => end,
            Err(join) => {
                let _ = tracker.flush().await;
                report.outcome = ObjectOutcome::Failed(ObjectError::Internal {
                    bucket,
                    key,
                    message: join.to_string(),
                });
                // Nothing is known about the lines: count what was settled as unsent-free.
                report.lines = report.records_sent + report.dead_lettered_records;
                return report;
            }
        };
        let acc = &end.accounting;
        report.lines = acc.lines;
        report.header = acc.header;
        report.filtered = acc.filtered;
        report.unparsable = acc.unparsable;
        report.resumed_lines = end.resumed;
        report.unparsable_examples.clone_from(&acc.first_unparsable);
        report.unsent_records = acc
            .records
            .saturating_sub(end.resumed + report.records_sent + report.dead_lettered_records);
        let outcome = if let Some(failure) = failure {
            ObjectOutcome::Failed(failure)
        } else if end.stopped || abort.load(Ordering::Relaxed) && report.unsent_records > 0 {
            ObjectOutcome::Failed(ObjectError::Aborted { bucket, key })
        } else if let Some(error) = end.read_error {
            ObjectOutcome::Failed(read_error(error, bucket, key))
        } else if let Some(reason) = end.unsupported {
            ObjectOutcome::Failed(ObjectError::Unsupported {
                bucket,
                key,
                reason,
            })
        } else if acc.lines == 0 {
            ObjectOutcome::Empty
        } else if acc.records == 0 && acc.filtered == 0 && acc.unparsable > 0 {
            let first = acc
                .first_unparsable
                .first()
                .map(|u| format!("line {}: {}", u.line, u.reason))
                .unwrap_or_default();
            ObjectOutcome::Failed(ObjectError::NotAFlowLog {
                bucket,
                key,
                unparsable: acc.unparsable,
                first,
            })
        } else if report.dead_lettered_records > 0 || earlier_dead_letters > 0 {
            ObjectOutcome::DeadLettered
        } else {
            ObjectOutcome::Delivered
        };
        let settled_whole = matches!(
            outcome,
            ObjectOutcome::Delivered | ObjectOutcome::Empty | ObjectOutcome::DeadLettered
        );
        let written = if settled_whole {
            tracker.complete(acc.lines).await.map(|_| ())
        } else {
            tracker.flush().await
        };
        if let Err(error) = written {
            tracing::warn!(%error, "progress marker not written; a retry may resend");
        }
        report.outcome = outcome;
        report
    }
}

/// The typed S3 read error when the failure came from S3, else the reader's own account
/// (a damaged Parquet object, a read that failed in another way), naming the object.
fn read_error(error: crate::input::ReadError, bucket: String, key: String) -> ObjectError {
    let crate::input::ReadError { what, line, source } = error;
    let message = format!("{what}: {source}");
    if ReadError::find(&source).is_some()
        && let Some(inner) = source.into_inner()
        && let Ok(typed) = inner.downcast::<ReadError>()
    {
        return ObjectError::Read(*typed);
    }
    ObjectError::ReadIo {
        bucket,
        key,
        line,
        message,
    }
}
