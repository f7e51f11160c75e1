//! The JSON shapes of each event source and how they nest.

use std::fmt::Write as _;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{DecodedEvent, EventError, EventItem, ObjectRef, Origin, SkipReason, decode_key};
use crate::limits::{excerpt, excerpt_of, validate_object};

/// Most bytes of one key or value quoted when describing an unknown shape.
const DESCRIBED_BYTES: usize = 64;

/// SNS-in-SQS is the deepest real nesting; more means something is looping.
const MAX_WRAPPER_DEPTH: usize = 3;

/// An S3 notification record; only what the forwarder needs, unknown fields ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Record {
    event_version: Option<String>,
    event_time: Option<String>,
    event_name: String,
    s3: S3Entity,
}

#[derive(Deserialize)]
struct S3Entity {
    bucket: S3Bucket,
    object: S3Object,
}

#[derive(Deserialize)]
struct S3Bucket {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct S3Object {
    key: String,
    size: Option<u64>,
    #[serde(rename = "eTag", alias = "etag")]
    e_tag: Option<String>,
    version_id: Option<String>,
    sequencer: Option<String>,
}

/// EventBridge's `detail` for S3 events (key not URL-encoded, lower-case `etag`).
#[derive(Deserialize)]
struct BridgeDetail {
    bucket: S3Bucket,
    object: BridgeObject,
}

#[derive(Deserialize)]
struct BridgeObject {
    key: String,
    size: Option<u64>,
    etag: Option<String>,
    #[serde(rename = "version-id")]
    version_id: Option<String>,
    sequencer: Option<String>,
}

/// What one wrapped event yielded, before it is attached to an item.
#[derive(Default)]
struct Contents {
    objects: Vec<ObjectRef>,
    skipped: Vec<SkipReason>,
    errors: Vec<EventError>,
}

impl Contents {
    fn into_item(self, origin: Origin) -> EventItem {
        EventItem {
            origin,
            objects: self.objects,
            skipped: self.skipped,
            errors: self.errors,
        }
    }
}

enum RecordKind {
    S3,
    Sqs,
    Sns,
    Unknown,
}

pub(super) fn decode_payload(payload: Value) -> Result<DecodedEvent, EventError> {
    let records = match payload {
        Value::Object(mut map) if map.get("Records").is_some_and(Value::is_array) => {
            match map.remove("Records") {
                Some(Value::Array(records)) => records,
                _ => Vec::new(),
            }
        }
        other => {
            let contents = decode_wrapped(other, "the Lambda payload", 0)?;
            return Ok(DecodedEvent {
                items: vec![contents.into_item(Origin::Payload)],
            });
        }
    };
    let items = records
        .into_iter()
        .enumerate()
        .map(|(index, record)| top_level_record(index, record));
    Ok(DecodedEvent {
        items: items.collect(),
    })
}

fn top_level_record(index: usize, record: Value) -> EventItem {
    match record_kind(&record) {
        RecordKind::S3 => {
            let mut contents = Contents::default();
            s3_record(record, &format!("S3 record {index}"), &mut contents);
            contents.into_item(Origin::S3Record { index })
        }
        RecordKind::Sqs => sqs_record(index, &record),
        RecordKind::Sns => {
            let context = format!("the Message of SNS record {index}");
            let message = record.get("Sns").and_then(|sns| sns.get("Message"));
            let contents = match message {
                Some(Value::String(text)) => parse_then_decode(text, &context, 1),
                _ => Err(unsupported(&format!("SNS record {index}"), &record)),
            };
            finish(contents, Origin::SnsRecord { index })
        }
        RecordKind::Unknown => {
            let error = unsupported(&format!("Records[{index}]"), &record);
            finish(Err(error), Origin::UnknownRecord { index })
        }
    }
}

fn sqs_record(index: usize, record: &Value) -> EventItem {
    let message_id = record
        .get("messageId")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let context = format!("the body of SQS message {:?}", excerpt(&message_id));
    let contents = match record.get("body") {
        Some(Value::String(body)) => parse_then_decode(body, &context, 1),
        _ => Err(unsupported(&format!("SQS record {index}"), record)),
    };
    finish(contents, Origin::SqsMessage { index, message_id })
}

fn finish(contents: Result<Contents, EventError>, origin: Origin) -> EventItem {
    match contents {
        Ok(contents) => contents.into_item(origin),
        Err(error) => {
            let mut item = EventItem::new(origin);
            item.errors.push(error);
            item
        }
    }
}

fn parse_then_decode(text: &str, context: &str, depth: usize) -> Result<Contents, EventError> {
    let value = serde_json::from_str(text).map_err(|source| EventError::NotJson {
        context: context.to_owned(),
        source,
    })?;
    decode_wrapped(value, context, depth)
}

/// Decodes what can sit inside a wrapper (or be the whole payload): an S3
/// notification, a test event, an SNS envelope, or an EventBridge event.
fn decode_wrapped(value: Value, context: &str, depth: usize) -> Result<Contents, EventError> {
    let Value::Object(mut map) = value else {
        return Err(unsupported(context, &value));
    };
    if map.get("Records").is_some_and(Value::is_array) {
        let mut contents = Contents::default();
        let records = match map.remove("Records") {
            Some(Value::Array(records)) => records,
            _ => Vec::new(),
        };
        for (index, record) in records.into_iter().enumerate() {
            let record_context = format!("S3 record {index} in {context}");
            match record_kind(&record) {
                RecordKind::S3 => s3_record(record, &record_context, &mut contents),
                _ => contents.errors.push(unsupported(&record_context, &record)),
            }
        }
        return Ok(contents);
    }
    if map.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        let bucket = map.get("Bucket").and_then(Value::as_str).map(str::to_owned);
        let mut contents = Contents::default();
        contents.skipped.push(SkipReason::TestEvent { bucket });
        return Ok(contents);
    }
    if let (Some("Notification"), Some(Value::String(message))) =
        (map.get("Type").and_then(Value::as_str), map.get("Message"))
    {
        if depth >= MAX_WRAPPER_DEPTH {
            return Err(EventError::Unsupported {
                context: context.to_owned(),
                seen: describe_object(&map),
            });
        }
        return parse_then_decode(message, &format!("the SNS Message in {context}"), depth + 1);
    }
    if map.contains_key("detail-type") {
        return eventbridge(&map, context);
    }
    Err(EventError::Unsupported {
        context: context.to_owned(),
        seen: describe_object(&map),
    })
}

fn record_kind(record: &Value) -> RecordKind {
    let source = record
        .get("eventSource")
        .or_else(|| record.get("EventSource"))
        .and_then(Value::as_str);
    match source {
        Some("aws:s3") => RecordKind::S3,
        Some("aws:sqs") => RecordKind::Sqs,
        Some("aws:sns") => RecordKind::Sns,
        Some(_) => RecordKind::Unknown,
        // Some emulators leave eventSource out: recognise the shape instead.
        None if record.get("s3").is_some() => RecordKind::S3,
        None if record.get("body").is_some() && record.get("messageId").is_some() => {
            RecordKind::Sqs
        }
        None if record.get("Sns").is_some() => RecordKind::Sns,
        None => RecordKind::Unknown,
    }
}

fn s3_record(record: Value, context: &str, contents: &mut Contents) {
    let record: S3Record = match serde_json::from_value(record) {
        Ok(record) => record,
        Err(source) => {
            contents.errors.push(EventError::Malformed {
                context: context.to_owned(),
                source,
            });
            return;
        }
    };
    if let Some(version) = &record.event_version
        && version != "2"
        && !version.starts_with("2.")
    {
        contents.errors.push(EventError::EventVersion {
            context: context.to_owned(),
            version: version.clone(),
        });
        return;
    }
    let name = record
        .event_name
        .strip_prefix("s3:")
        .unwrap_or(&record.event_name);
    if !name.starts_with("ObjectCreated:") {
        contents.skipped.push(SkipReason::NotObjectCreated {
            event_name: record.event_name,
            bucket: Some(record.s3.bucket.name),
            raw_key: Some(record.s3.object.key),
        });
        return;
    }
    let S3Entity { bucket, object } = record.s3;
    let key = match decode_key(&object.key) {
        Ok(key) => key,
        Err(source) => {
            contents.errors.push(EventError::Key {
                bucket: bucket.name,
                raw_key: object.key,
                source,
            });
            return;
        }
    };
    if let Err(source) = validate_object(&bucket.name, &key) {
        contents.errors.push(EventError::InvalidObject {
            context: context.to_owned(),
            source,
        });
        return;
    }
    contents.objects.push(ObjectRef {
        bucket: bucket.name,
        key,
        size: object.size,
        etag: object.e_tag,
        version_id: object.version_id,
        sequencer: object.sequencer,
        event_time: record.event_time,
        event_name: record.event_name,
    });
}

fn eventbridge(map: &Map<String, Value>, context: &str) -> Result<Contents, EventError> {
    let detail_type = map
        .get("detail-type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if map.get("source").and_then(Value::as_str) != Some("aws.s3") {
        return Err(EventError::Unsupported {
            context: context.to_owned(),
            seen: describe_object(map),
        });
    }
    let context = format!("the EventBridge detail in {context}");
    let detail: BridgeDetail = serde_json::from_value(
        map.get("detail").cloned().unwrap_or(Value::Null),
    )
    .map_err(|source| EventError::Malformed {
        context: context.clone(),
        source,
    })?;
    let mut contents = Contents::default();
    if detail_type == "Object Created" {
        validate_object(&detail.bucket.name, &detail.object.key)
            .map_err(|source| EventError::InvalidObject { context, source })?;
        contents.objects.push(ObjectRef {
            bucket: detail.bucket.name,
            key: detail.object.key,
            size: detail.object.size,
            etag: detail.object.etag,
            version_id: detail.object.version_id,
            sequencer: detail.object.sequencer,
            event_time: map.get("time").and_then(Value::as_str).map(str::to_owned),
            event_name: detail_type.to_owned(),
        });
    } else {
        contents.skipped.push(SkipReason::NotObjectCreated {
            event_name: detail_type.to_owned(),
            bucket: Some(detail.bucket.name),
            raw_key: Some(detail.object.key),
        });
    }
    Ok(contents)
}

/// An [`EventError::Unsupported`] describing the JSON that was found.
fn unsupported(context: &str, seen: &Value) -> EventError {
    EventError::Unsupported {
        context: context.to_owned(),
        seen: describe(seen),
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(_) => "a boolean".to_owned(),
        Value::Number(_) => "a number".to_owned(),
        Value::String(_) => "a string".to_owned(),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(map) => describe_object(map),
    }
}

fn describe_object(map: &Map<String, Value>) -> String {
    let mut keys: Vec<String> = map
        .keys()
        .take(8)
        .map(|k| excerpt_of(k, DESCRIBED_BYTES).to_string())
        .collect();
    if map.len() > keys.len() {
        keys.push("…".to_owned());
    }
    let mut text = format!("an object with keys [{}]", keys.join(", "));
    for field in [
        "eventSource",
        "EventSource",
        "source",
        "detail-type",
        "Type",
        "Event",
    ] {
        if let Some(Value::String(v)) = map.get(field) {
            let _ = write!(text, ", {field} {:?}", excerpt_of(v, DESCRIBED_BYTES));
        }
    }
    text
}
