//! The shapes an S3 event takes when it reaches a Lambda through SQS, SNS or EventBridge.
//!
//! Pure functions over emitted events, so the forwarder's decoders can be tested against
//! what the emulator really produced. Ids are derived from the content (SHA-256), so the same
//! input always gives the same output and snapshots stay stable.

use md5::{Digest as _, Md5};
use serde_json::{Value, json};
use sha2::Sha256;

use super::key::decode_event_key;
use super::record::CreatedBy;

/// A UUID-shaped id derived from `seed`.
fn content_id(seed: &str) -> String {
    let h = Sha256::digest(seed.as_bytes());
    let hex = hex::encode(&h[..16]);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The region part of an ARN (`arn:aws:sqs:REGION:…`), empty when absent.
fn arn_region(arn: &str) -> &str {
    arn.split(':').nth(3).unwrap_or_default()
}

/// The account part of an ARN, empty when absent.
fn arn_account(arn: &str) -> &str {
    arn.split(':').nth(4).unwrap_or_default()
}

/// The first record's `eventTime`, used as the wrappers' timestamps.
fn event_time(s3_event: &Value) -> String {
    s3_event
        .pointer("/Records/0/eventTime")
        .and_then(Value::as_str)
        .unwrap_or("1970-01-01T00:00:00.000Z")
        .to_owned()
}

fn epoch_millis(time: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(time)
        .map_or_else(|_| "0".to_owned(), |t| t.timestamp_millis().to_string())
}

fn sqs_record(body: &str, index: usize, queue_arn: &str, sent: &str) -> Value {
    let message_id = content_id(&format!("sqs:{queue_arn}:{index}:{body}"));
    let millis = epoch_millis(sent);
    json!({
        "messageId": message_id,
        "receiptHandle": format!("AQEB{}", content_id(&format!("receipt:{message_id}")).replace('-', "")),
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": millis,
            "SenderId": "AIDAJHIPRHEMV73VRJEBU",
            "ApproximateFirstReceiveTimestamp": millis,
        },
        "messageAttributes": {},
        "md5OfBody": hex::encode(Md5::digest(body.as_bytes())),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": arn_region(queue_arn),
    })
}

/// S3 → SQS → Lambda: one SQS record per S3 event, whose `body` is the event as a JSON string.
#[must_use]
pub fn sqs_event(s3_events: &[Value], queue_arn: &str) -> Value {
    let records: Vec<Value> = s3_events
        .iter()
        .enumerate()
        .map(|(i, event)| sqs_record(&event.to_string(), i, queue_arn, &event_time(event)))
        .collect();
    json!({ "Records": records })
}

/// The SNS notification document whose `Message` is the S3 event as a JSON string.
#[must_use]
pub fn sns_message(s3_event: &Value, topic_arn: &str) -> Value {
    let message = s3_event.to_string();
    let message_id = content_id(&format!("sns:{topic_arn}:{message}"));
    json!({
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": topic_arn,
        "Subject": "Amazon S3 Notification",
        "Message": message,
        "Timestamp": event_time(s3_event),
        "SignatureVersion": "1",
        "Signature": "RU1VTEFUT1I=",
        "SigningCertURL": format!("https://sns.{}.amazonaws.com/SimpleNotificationService-emulator.pem", arn_region(topic_arn)),
        "UnsubscribeURL": format!("https://sns.{}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic_arn}:{message_id}", arn_region(topic_arn)),
    })
}

/// S3 → SNS → Lambda: `{"Records":[{"EventSource":"aws:sns","Sns":{…,"Message":"<S3 event>"}}]}`.
#[must_use]
pub fn sns_event(s3_event: &Value, topic_arn: &str) -> Value {
    let sns = sns_message(s3_event, topic_arn);
    let subscription = format!(
        "{topic_arn}:{}",
        content_id(&format!("subscription:{topic_arn}"))
    );
    let mut sns_for_lambda = sns;
    if let Some(map) = sns_for_lambda.as_object_mut() {
        // Lambda's SNS records spell these two with "Url", SNS-over-HTTP/SQS with "URL".
        if let Some(v) = map.remove("SigningCertURL") {
            map.insert("SigningCertUrl".into(), v);
        }
        if let Some(v) = map.remove("UnsubscribeURL") {
            map.insert("UnsubscribeUrl".into(), v);
        }
        map.insert("MessageAttributes".into(), json!({}));
    }
    json!({ "Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription,
        "Sns": sns_for_lambda,
    }]})
}

/// S3 → SNS → SQS → Lambda: SQS records whose `body` is the SNS notification JSON string.
#[must_use]
pub fn sns_in_sqs_event(s3_events: &[Value], topic_arn: &str, queue_arn: &str) -> Value {
    let records: Vec<Value> = s3_events
        .iter()
        .enumerate()
        .map(|(i, event)| {
            sqs_record(
                &sns_message(event, topic_arn).to_string(),
                i,
                queue_arn,
                &event_time(event),
            )
        })
        .collect();
    json!({ "Records": records })
}

fn reason_for(event_name: &str) -> &'static str {
    CreatedBy::from_event_name(event_name)
        .unwrap_or(CreatedBy::Put)
        .eventbridge_reason()
}

/// S3 → EventBridge: one `Object Created` event per record, key decoded, lower-case `etag`.
#[must_use]
pub fn eventbridge_events(s3_event: &Value) -> Vec<Value> {
    let Some(records) = s3_event.get("Records").and_then(Value::as_array) else {
        return Vec::new();
    };
    records.iter().map(eventbridge_event).collect()
}

fn eventbridge_event(record: &Value) -> Value {
    let text = |ptr: &str| {
        record
            .pointer(ptr)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let bucket = text("/s3/bucket/name");
    let time = text("/eventTime");
    let time = chrono::DateTime::parse_from_rfc3339(&time).map_or(time, |t| {
        t.with_timezone(&chrono::Utc)
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    });
    let mut object = json!({
        "key": decode_event_key(&text("/s3/object/key")),
        "size": record.pointer("/s3/object/size").cloned().unwrap_or(Value::Null),
        "etag": text("/s3/object/eTag"),
        "sequencer": text("/s3/object/sequencer"),
    });
    if let (Some(version), Some(map)) = (
        record.pointer("/s3/object/versionId"),
        object.as_object_mut(),
    ) {
        map.insert("version-id".into(), version.clone());
    }
    let request_id = text("/responseElements/x-amz-request-id");
    let principal = text("/userIdentity/principalId");
    let account = arn_account(&principal).to_owned();
    json!({
        "version": "0",
        "id": content_id(&format!("eventbridge:{request_id}:{}", record)),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": if account.is_empty() { "123456789012".to_owned() } else { account },
        "time": time,
        "region": text("/awsRegion"),
        "resources": [format!("arn:aws:s3:::{bucket}")],
        "detail": {
            "version": "0",
            "bucket": { "name": bucket },
            "object": object,
            "request-id": request_id,
            "requester": principal,
            "source-ip-address": text("/requestParameters/sourceIPAddress"),
            "reason": reason_for(&text("/eventName")),
        },
    })
}
