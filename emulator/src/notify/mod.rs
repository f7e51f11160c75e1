//! S3 event notifications: building the records S3 sends and delivering them to subscribers.
//!
//! Layout:
//! - [`key`]: form-encoding of keys in event records (`a b` → `a+b`, `=` → `%3D`).
//! - [`rules`]: configuration entries, destinations, event-name and prefix/suffix matching.
//! - [`record`]: the `eventVersion` 2.1 record.
//! - [`wrap`]: the same event as SQS, SNS, SNS-in-SQS and EventBridge deliver it.
//!
//! Delivery is plain data: every [`Notification`] goes to every live [`Subscription`] of the
//! [`Notifier`]; the subscriber decides what to do with it (assert in a test, invoke a Lambda).

pub mod key;
pub mod record;
pub mod rules;
pub mod wrap;

use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use serde_json::Value;
use tokio::sync::mpsc;

pub use key::{decode_event_key, encode_event_key};
pub use record::{CreatedBy, ObjectCreated, event_record, s3_event, test_event};
pub use rules::{Destination, Rule};

/// One event on its way to one destination of a bucket's notification configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Where S3 would send it (Lambda function, SQS queue, SNS topic).
    pub destination: Destination,
    /// The configuration entry that matched (also in the record's `s3.configurationId`).
    pub configuration_id: String,
    /// The document S3 sends: `{"Records":[{…}]}` with exactly one record, or, right after a
    /// queue or topic configuration is saved, the `s3:TestEvent` document (no `Records`).
    pub event: Value,
}

impl Notification {
    /// The record's `eventName`, e.g. `ObjectCreated:Put` (None for `s3:TestEvent`).
    #[must_use]
    pub fn event_name(&self) -> Option<&str> {
        self.event
            .pointer("/Records/0/eventName")
            .and_then(Value::as_str)
    }

    /// Whether this is the `s3:TestEvent` a configuration change produces (skip it).
    #[must_use]
    pub fn is_test_event(&self) -> bool {
        self.event.get("Event").and_then(Value::as_str) == Some("s3:TestEvent")
    }

    /// The bucket name of the record.
    #[must_use]
    pub fn bucket(&self) -> Option<&str> {
        self.event
            .pointer("/Records/0/s3/bucket/name")
            .and_then(Value::as_str)
    }

    /// The record's `s3.object.versionId`: the version the write created, in a bucket whose
    /// versioning is enabled (None otherwise, and for `s3:TestEvent`).
    #[must_use]
    pub fn version_id(&self) -> Option<&str> {
        self.event
            .pointer("/Records/0/s3/object/versionId")
            .and_then(Value::as_str)
    }

    /// The object key, decoded from its form-encoded form in the record.
    #[must_use]
    pub fn key(&self) -> Option<String> {
        self.event
            .pointer("/Records/0/s3/object/key")
            .and_then(Value::as_str)
            .map(decode_event_key)
    }
}

/// Fans notifications out to subscribers; cheap to clone (all clones share subscribers).
///
/// Subscribers receive only what is published after they subscribed. Queues are unbounded, so
/// a slow subscriber never makes S3 requests fail and nothing is dropped while it is alive.
#[derive(Debug, Clone)]
pub struct Notifier {
    subscribers: Arc<Mutex<Vec<mpsc::UnboundedSender<Notification>>>>,
    sequencer: Arc<AtomicU64>,
}

impl Default for Notifier {
    fn default() -> Self {
        Self::new()
    }
}

impl Notifier {
    /// A notifier with no subscribers; sequencers start from the current time so they keep
    /// increasing across emulator restarts too.
    #[must_use]
    pub fn new() -> Self {
        let start = chrono::Utc::now()
            .timestamp_nanos_opt()
            .and_then(|n| u64::try_from(n).ok())
            .unwrap_or(1);
        Self {
            subscribers: Arc::default(),
            sequencer: Arc::new(AtomicU64::new(start)),
        }
    }

    /// Starts receiving every notification published from now on.
    #[must_use]
    pub fn subscribe(&self) -> Subscription {
        let (tx, rx) = mpsc::unbounded_channel();
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tx);
        Subscription { rx }
    }

    /// Sends a notification to every live subscriber; returns how many received it.
    pub fn publish(&self, notification: &Notification) -> usize {
        let mut subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        subscribers.retain(|tx| tx.send(notification.clone()).is_ok());
        subscribers.len()
    }

    /// The next `sequencer` value: 18 upper-case hex digits, strictly increasing.
    #[must_use]
    pub fn next_sequencer(&self) -> String {
        format!("{:018X}", self.sequencer.fetch_add(1, Ordering::Relaxed))
    }
}

/// The receiving side of [`Notifier::subscribe`]: use [`Subscription::recv`] or it as a `Stream`.
#[derive(Debug)]
pub struct Subscription {
    rx: mpsc::UnboundedReceiver<Notification>,
}

impl Subscription {
    /// Waits for the next notification; `None` once the notifier and all its clones are gone.
    pub async fn recv(&mut self) -> Option<Notification> {
        self.rx.recv().await
    }

    /// The next notification if one is already queued (for "nothing else arrived" checks).
    pub fn try_recv(&mut self) -> Option<Notification> {
        self.rx.try_recv().ok()
    }

    /// The underlying channel, for code that wants a plain tokio receiver.
    #[must_use]
    pub fn into_receiver(self) -> mpsc::UnboundedReceiver<Notification> {
        self.rx
    }
}

impl futures::Stream for Subscription {
    type Item = Notification;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}
