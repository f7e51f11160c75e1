//! The S3 event record (`eventVersion` 2.1) exactly as S3 delivers it to Lambda, SQS and SNS.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::key::encode_event_key;

/// Which request created the object: the suffix of `ObjectCreated:*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CreatedBy {
    /// PutObject.
    Put,
    /// A browser-form POST upload.
    Post,
    /// CopyObject.
    Copy,
    /// CompleteMultipartUpload.
    CompleteMultipartUpload,
}

impl CreatedBy {
    /// The record's `eventName`, e.g. `ObjectCreated:Put`.
    #[must_use]
    pub fn event_name(self) -> &'static str {
        match self {
            Self::Put => "ObjectCreated:Put",
            Self::Post => "ObjectCreated:Post",
            Self::Copy => "ObjectCreated:Copy",
            Self::CompleteMultipartUpload => "ObjectCreated:CompleteMultipartUpload",
        }
    }

    /// Parses an `eventName` such as `ObjectCreated:Put` back (None for other events).
    #[must_use]
    pub fn from_event_name(name: &str) -> Option<Self> {
        [
            Self::Put,
            Self::Post,
            Self::Copy,
            Self::CompleteMultipartUpload,
        ]
        .into_iter()
        .find(|c| c.event_name() == name)
    }

    /// The EventBridge `detail.reason` for the same request.
    #[must_use]
    pub fn eventbridge_reason(self) -> &'static str {
        match self {
            Self::Put => "PutObject",
            Self::Post => "POST Object",
            Self::Copy => "CopyObject",
            Self::CompleteMultipartUpload => "CompleteMultipartUpload",
        }
    }
}

/// Everything S3 knows about one created object when it writes the event record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectCreated {
    /// The request kind.
    pub created_by: CreatedBy,
    /// `awsRegion`.
    pub region: String,
    /// Bucket name.
    pub bucket: String,
    /// The object key, not encoded (encoding happens when the record is built).
    pub key: String,
    /// Object size in bytes.
    pub size: u64,
    /// ETag without quotes.
    pub etag: String,
    /// Hex string, increasing for successive writes of the same key.
    pub sequencer: String,
    /// When the request completed.
    pub event_time: DateTime<Utc>,
    /// `userIdentity.principalId` of the requester.
    pub principal_id: String,
    /// `ownerIdentity.principalId` of the bucket owner.
    pub owner_id: String,
    /// `requestParameters.sourceIPAddress`.
    pub source_ip: String,
    /// `x-amz-request-id` of the request that created the object.
    pub request_id: String,
    /// `x-amz-id-2` of that request.
    pub host_id: String,
    /// The version the write created; present only when the bucket's versioning is enabled.
    pub version_id: Option<String>,
}

/// Builds one record of the `Records` array for a given configuration entry.
#[must_use]
pub fn event_record(created: &ObjectCreated, configuration_id: &str) -> Value {
    let mut object = json!({
        "key": encode_event_key(&created.key),
        "size": created.size,
        "eTag": created.etag,
        "sequencer": created.sequencer,
    });
    if let (Some(version), Some(map)) = (&created.version_id, object.as_object_mut()) {
        map.insert("versionId".into(), Value::String(version.clone()));
    }
    json!({
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": created.region,
        "eventTime": created.event_time.to_rfc3339_opts(SecondsFormat::Millis, true),
        "eventName": created.created_by.event_name(),
        "userIdentity": { "principalId": created.principal_id },
        "requestParameters": { "sourceIPAddress": created.source_ip },
        "responseElements": {
            "x-amz-request-id": created.request_id,
            "x-amz-id-2": created.host_id,
        },
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": created.bucket,
                "ownerIdentity": { "principalId": created.owner_id },
                "arn": format!("arn:aws:s3:::{}", created.bucket),
            },
            "object": object,
        },
    })
}

/// Wraps records into the notification document S3 sends: `{"Records":[…]}`.
#[must_use]
pub fn s3_event(records: Vec<Value>) -> Value {
    json!({ "Records": records })
}

/// The `s3:TestEvent` S3 sends to queue and topic destinations when a configuration is saved.
#[must_use]
pub fn test_event(bucket: &str, time: DateTime<Utc>, request_id: &str, host_id: &str) -> Value {
    json!({
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": time.to_rfc3339_opts(SecondsFormat::Millis, true),
        "Bucket": bucket,
        "RequestId": request_id,
        "HostId": host_id,
    })
}
