//! Lambda payloads → the S3 objects to forward.
//!
//! Every shape the forwarder can be invoked with: S3 event notifications (every
//! record), SQS messages whose body is an S3 event (or an SNS envelope around
//! one), SNS records, and EventBridge "Object Created" events. `s3:TestEvent` and
//! non-create events are skipped with a reason, never silently. Decoding is
//! lenient (any `eventVersion` 2.x, unknown fields ignored, optional fields may
//! be missing) because a strict parser once stopped a peer forwarder's delivery
//! when S3 added fields.
//!
//! Results are grouped per [`EventItem`] (one S3 record, SNS record or SQS
//! message) so a Lambda fed by SQS can report exactly the failed messages with
//! [`SqsBatchResponse`].

mod key;
mod shapes;

pub use key::{KeyError, decode_key};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::limits::{MAX_EVENT_BYTES, ObjectNameError, bounded, excerpt};

/// One S3 object to forward, as the notification described it.
///
/// `key` is already decoded (a real S3 key, ready for GetObject). The
/// optional fields are whatever the event carried; emulators omit some.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    /// Bucket name.
    pub bucket: String,
    /// Decoded object key.
    pub key: String,
    /// Object size in bytes, when the event says.
    pub size: Option<u64>,
    /// ETag as sent (used to key per-object progress).
    pub etag: Option<String>,
    /// Version id on versioned buckets.
    pub version_id: Option<String>,
    /// S3's ordering hint for events on the same key.
    pub sequencer: Option<String>,
    /// When S3 emitted the event (RFC 3339 as sent).
    pub event_time: Option<String>,
    /// `ObjectCreated:Put`, `ObjectCreated:CompleteMultipartUpload`,
    /// EventBridge's `Object Created`, …
    pub event_name: String,
}

impl std::fmt::Display for ObjectRef {
    /// `s3://bucket/key`, for logs and error messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// Where an [`EventItem`] came from inside the payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// `Records[index]` of an S3 event notification.
    S3Record {
        /// Position in `Records`.
        index: usize,
    },
    /// `Records[index]` of an SNS-triggered invocation.
    SnsRecord {
        /// Position in `Records`.
        index: usize,
    },
    /// An SQS message: its id is what `batchItemFailures` reports.
    SqsMessage {
        /// Position in `Records`.
        index: usize,
        /// SQS `messageId`.
        message_id: String,
    },
    /// A `Records[index]` entry of no known source (reported as an error).
    UnknownRecord {
        /// Position in `Records`.
        index: usize,
    },
    /// The whole payload: an EventBridge event or a bare `s3:TestEvent`.
    Payload,
}

/// Why an event was deliberately not turned into an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SkipReason {
    /// S3's configuration check (`"Event": "s3:TestEvent"`).
    TestEvent {
        /// The bucket the check was for, when given.
        bucket: Option<String>,
    },
    /// Not an object-create event (e.g. `ObjectRemoved:Delete`).
    NotObjectCreated {
        /// The event name or EventBridge `detail-type`.
        event_name: String,
        /// Bucket, when the event names one.
        bucket: Option<String>,
        /// Key exactly as sent (not decoded).
        raw_key: Option<String>,
    },
}

/// What one part of the payload yielded: objects to forward, skips, errors.
#[derive(Debug, Serialize)]
pub struct EventItem {
    /// Which record or message this is.
    pub origin: Origin,
    /// Objects to forward, in event order.
    pub objects: Vec<ObjectRef>,
    /// Events deliberately skipped, each with its reason.
    pub skipped: Vec<SkipReason>,
    /// Records that could not be decoded; the item counts as failed.
    #[serde(serialize_with = "errors_as_text")]
    pub errors: Vec<EventError>,
}

impl EventItem {
    fn new(origin: Origin) -> Self {
        Self {
            origin,
            objects: Vec::new(),
            skipped: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// The SQS message id to report in `batchItemFailures` if this item fails.
    #[must_use]
    pub fn sqs_message_id(&self) -> Option<&str> {
        match &self.origin {
            Origin::SqsMessage { message_id, .. } => Some(message_id),
            _ => None,
        }
    }

    /// Whether part of this item could not be decoded (so the invocation, or
    /// this SQS message, must be reported as failed).
    #[must_use]
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// A decoded Lambda payload.
#[derive(Debug, Serialize)]
pub struct DecodedEvent {
    /// One per S3/SNS record or SQS message (one for a whole-payload event).
    pub items: Vec<EventItem>,
}

impl DecodedEvent {
    /// Every object to forward, across all items.
    pub fn objects(&self) -> impl Iterator<Item = &ObjectRef> {
        self.items.iter().flat_map(|item| item.objects.iter())
    }

    /// Whether the payload came from SQS, so the Lambda should answer with an
    /// [`SqsBatchResponse`] instead of failing the whole invocation.
    #[must_use]
    pub fn is_sqs(&self) -> bool {
        self.items
            .iter()
            .any(|item| item.sqs_message_id().is_some())
    }

    /// The SQS answer once the objects were processed: every message with a
    /// decoding error or an object for which `object_failed` is true is
    /// reported, so Lambda redelivers exactly those messages.
    pub fn sqs_response(
        &self,
        mut object_failed: impl FnMut(&ObjectRef) -> bool,
    ) -> SqsBatchResponse {
        let failed = self.items.iter().filter_map(|item| {
            let id = item.sqs_message_id()?;
            (item.has_errors() || item.objects.iter().any(&mut object_failed)).then_some(id)
        });
        SqsBatchResponse::from_failed(failed)
    }

    /// Every decoding error, across all items.
    pub fn errors(&self) -> impl Iterator<Item = &EventError> {
        self.items.iter().flat_map(|item| item.errors.iter())
    }
}

/// Why (part of) a payload could not be decoded. Messages name what was seen
/// and what is supported; every text taken from the payload is cut to
/// [`crate::limits::MAX_LOGGED_BYTES`], so a hostile event cannot flood the logs.
/// None of these can succeed on a retry.
#[derive(Debug, Error)]
pub enum EventError {
    /// The payload is larger than any Lambda invocation can be.
    #[error(
        "the Lambda payload is {bytes} bytes, over the limit of {limit} bytes (Lambda's own \
         limit for an invocation)"
    )]
    TooLarge {
        /// Size of the payload.
        bytes: usize,
        /// [`MAX_EVENT_BYTES`].
        limit: usize,
    },
    /// Text that should hold JSON does not.
    #[error("{} is not JSON: {}", excerpt(context), bounded(source))]
    NotJson {
        /// Which text: the payload, an SQS body, an SNS `Message`.
        context: String,
        /// The JSON error.
        source: serde_json::Error,
    },
    /// A JSON shape the forwarder does not know.
    #[error(
        "{} is not a supported event: saw {}; supported: S3 event notifications \
         (Records[].eventSource \"aws:s3\"), SQS (\"aws:sqs\") and SNS (\"aws:sns\") wrappers of them, \
         EventBridge \"Object Created\" events from \"aws.s3\", and s3:TestEvent",
        excerpt(context),
        excerpt(seen)
    )]
    Unsupported {
        /// Where it was found.
        context: String,
        /// A short description of the JSON found there.
        seen: String,
    },
    /// An S3 record whose `eventVersion` is not 2.x.
    #[error(
        "{} has eventVersion {:?}; only 2.x is supported (S3 changes the major \
         version only for incompatible schemas)",
        excerpt(context),
        excerpt(version)
    )]
    EventVersion {
        /// Which record.
        context: String,
        /// The version seen.
        version: String,
    },
    /// A record missing a required field (bucket name, key, event name) or
    /// with a field of the wrong type.
    #[error("{} is malformed: {}", excerpt(context), bounded(source))]
    Malformed {
        /// Which record.
        context: String,
        /// The JSON error, naming the field.
        source: serde_json::Error,
    },
    /// A key whose form encoding is broken.
    #[error(
        "cannot decode object key {:?} in bucket {:?}: {source}",
        excerpt(raw_key),
        excerpt(bucket)
    )]
    Key {
        /// Bucket of the object.
        bucket: String,
        /// The key exactly as sent.
        raw_key: String,
        /// What is wrong with it.
        source: KeyError,
    },
    /// A bucket or key S3 cannot have (too long, bad characters): the object does not exist
    /// and a request for it would be refused (or, over 64 KiB, could not even be built).
    #[error("{} names an object S3 cannot have: {source}", excerpt(context))]
    InvalidObject {
        /// Which record.
        context: String,
        /// Which rule the name breaks, with the bucket and the (cut) key.
        source: ObjectNameError,
    },
}

fn errors_as_text<S: serde::Serializer>(errors: &[EventError], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(errors.iter().map(ToString::to_string))
}

/// Decodes a Lambda payload from its JSON bytes.
///
/// # Errors
/// [`EventError::TooLarge`] over [`MAX_EVENT_BYTES`], [`EventError::NotJson`] or
/// [`EventError::Unsupported`] when the payload as a whole is not an event; problems inside single records are reported in
/// [`EventItem::errors`] instead, so the other records still get forwarded.
pub fn decode_slice(payload: &[u8]) -> Result<DecodedEvent, EventError> {
    if payload.len() > MAX_EVENT_BYTES {
        return Err(EventError::TooLarge {
            bytes: payload.len(),
            limit: MAX_EVENT_BYTES,
        });
    }
    let value = serde_json::from_slice(payload).map_err(|source| EventError::NotJson {
        context: "the Lambda payload".to_owned(),
        source,
    })?;
    decode_value(value)
}

/// Decodes a Lambda payload already parsed as JSON (what `lambda_runtime` hands over).
///
/// # Errors
/// As [`decode_slice`].
pub fn decode_value(payload: serde_json::Value) -> Result<DecodedEvent, EventError> {
    shapes::decode_payload(payload)
}

/// The response that tells Lambda which SQS messages to redeliver
/// (`{"batchItemFailures":[{"itemIdentifier":"…"}]}`); an empty list means all
/// succeeded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqsBatchResponse {
    /// The failed messages.
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<BatchItemFailure>,
}

/// One failed SQS message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchItemFailure {
    /// The SQS `messageId`.
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

impl SqsBatchResponse {
    /// Builds the response from the ids of the messages that failed.
    pub fn from_failed<I, S>(message_ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            batch_item_failures: message_ids
                .into_iter()
                .map(|id| BatchItemFailure {
                    item_identifier: id.into(),
                })
                .collect(),
        }
    }
}
