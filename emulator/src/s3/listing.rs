//! Listings: ListObjectsV2 (prefix, delimiter, max-keys, continuation-token, start-after,
//! `encoding-type=url`), ListObjects (v1) and ListObjectVersions (every object is version "null").

use std::collections::BTreeMap;
use std::ops::Bound;

use base64::Engine as _;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::backend::{Backend, no_such_bucket};
use super::store::StoredObject;
use crate::notify::encode_event_key;

/// One listing entry: an object or a rolled-up common prefix.
enum Entry {
    Object(String, Box<StoredObject>),
    Prefix(String),
}

/// One page of a listing.
struct Page {
    entries: Vec<Entry>,
    truncated: bool,
    /// The last key or common prefix returned: where the next page starts (exclusive).
    last: Option<String>,
}

/// Walks keys after `start` (exclusive) under `prefix`, rolling keys up at `delimiter`.
fn page(
    objects: &BTreeMap<String, StoredObject>,
    prefix: &str,
    delimiter: Option<&str>,
    start: Option<&str>,
    max_keys: usize,
) -> Page {
    let lower = match start {
        Some(s) if s >= prefix => Bound::Excluded(s.to_owned()),
        _ => Bound::Included(prefix.to_owned()),
    };
    let mut entries = Vec::new();
    let mut truncated = false;
    let mut last: Option<String> = None;
    for (key, obj) in objects.range((lower, Bound::Unbounded)) {
        if !key.starts_with(prefix) {
            break;
        }
        let rolled = delimiter.filter(|d| !d.is_empty()).and_then(|d| {
            key[prefix.len()..]
                .find(d)
                .map(|i| key[..prefix.len() + i + d.len()].to_owned())
        });
        let name = rolled.as_deref().unwrap_or(key);
        // A common prefix already returned (on this page or as the previous page's marker).
        if rolled.is_some() && (last.as_deref() == Some(name) || start.is_some_and(|s| name <= s)) {
            continue;
        }
        if entries.len() == max_keys {
            truncated = true;
            break;
        }
        last = Some(name.to_owned());
        entries.push(match rolled {
            Some(p) => Entry::Prefix(p),
            None => Entry::Object(key.clone(), Box::new(obj.clone())),
        });
    }
    Page {
        entries,
        truncated,
        last,
    }
}

fn max_keys(requested: Option<i32>) -> S3Result<usize> {
    match requested {
        None => Ok(1000),
        Some(n) if n < 0 => Err(s3_error!(
            InvalidArgument,
            "max-keys must be a non-negative integer, got {n}"
        )),
        Some(n) => Ok(usize::try_from(n).unwrap_or(1000).min(1000)),
    }
}

/// Applies `encoding-type=url` to a value returned in a listing.
struct Encoder {
    url: bool,
}

impl Encoder {
    fn new(encoding_type: Option<&EncodingType>) -> S3Result<Self> {
        match encoding_type.map(EncodingType::as_str) {
            None => Ok(Self { url: false }),
            Some(e) if e.eq_ignore_ascii_case(EncodingType::URL) => Ok(Self { url: true }),
            Some(other) => Err(s3_error!(
                InvalidArgument,
                "Invalid Encoding Method specified in Request: {other}"
            )),
        }
    }

    fn apply(&self, value: String) -> String {
        if self.url {
            encode_event_key(&value)
        } else {
            value
        }
    }

    fn apply_opt(&self, value: Option<String>) -> Option<String> {
        value.map(|v| self.apply(v))
    }

    fn echo(&self) -> Option<EncodingType> {
        self.url
            .then(|| EncodingType::from_static(EncodingType::URL))
    }
}

fn to_object(key: String, obj: &StoredObject, enc: &Encoder, owner: Option<Owner>) -> Object {
    Object {
        key: Some(enc.apply(key)),
        size: Some(i64::try_from(obj.data.len()).unwrap_or(i64::MAX)),
        e_tag: Some(ETag::Strong(obj.etag.clone())),
        last_modified: Some(obj.last_modified.clone()),
        storage_class: Some(ObjectStorageClass::from_static(
            ObjectStorageClass::STANDARD,
        )),
        owner,
        ..Default::default()
    }
}

fn encode_token(last: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last.as_bytes())
}

fn decode_token(token: &str) -> S3Result<String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            s3_error!(
                InvalidArgument,
                "The continuation token provided is incorrect"
            )
        })
}

impl Backend {
    fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        delimiter: Option<&str>,
        start: Option<&str>,
        max: usize,
    ) -> S3Result<Page> {
        let buckets = self.store.lock();
        let b = buckets.get(bucket).ok_or_else(|| no_such_bucket(bucket))?;
        Ok(page(&b.objects, prefix, delimiter, start, max))
    }

    pub(crate) fn op_list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let input = req.input;
        let enc = Encoder::new(input.encoding_type.as_ref())?;
        let max = max_keys(input.max_keys)?;
        let token_start = input
            .continuation_token
            .as_deref()
            .map(decode_token)
            .transpose()?;
        let start = match (token_start, input.start_after.clone()) {
            (Some(t), Some(s)) => Some(t.max(s)),
            (t, s) => t.or(s),
        };
        let prefix = input.prefix.clone().unwrap_or_default();
        let p = self.list_page(
            &input.bucket,
            &prefix,
            input.delimiter.as_deref(),
            start.as_deref(),
            max,
        )?;
        let owner = input.fetch_owner.unwrap_or(false).then(Self::owner);
        let mut contents = Vec::new();
        let mut common_prefixes = Vec::new();
        for e in p.entries {
            match e {
                Entry::Object(k, o) => contents.push(to_object(k, &o, &enc, owner.clone())),
                Entry::Prefix(cp) => common_prefixes.push(CommonPrefix {
                    prefix: Some(enc.apply(cp)),
                }),
            }
        }
        let key_count = i32::try_from(contents.len() + common_prefixes.len()).unwrap_or(i32::MAX);
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(input.bucket),
            prefix: Some(enc.apply(prefix)),
            delimiter: enc.apply_opt(input.delimiter),
            start_after: enc.apply_opt(input.start_after),
            max_keys: Some(i32::try_from(max).unwrap_or(1000)),
            key_count: Some(key_count),
            continuation_token: input.continuation_token,
            next_continuation_token: p
                .truncated
                .then(|| p.last.as_deref().map(encode_token))
                .flatten(),
            is_truncated: Some(p.truncated),
            contents: Some(contents),
            common_prefixes: (!common_prefixes.is_empty()).then_some(common_prefixes),
            encoding_type: enc.echo(),
            ..Default::default()
        }))
    }

    pub(crate) fn op_list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        let input = req.input;
        let enc = Encoder::new(input.encoding_type.as_ref())?;
        let max = max_keys(input.max_keys)?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let p = self.list_page(
            &input.bucket,
            &prefix,
            input.delimiter.as_deref(),
            input.marker.as_deref(),
            max,
        )?;
        let mut contents = Vec::new();
        let mut common_prefixes = Vec::new();
        for e in p.entries {
            match e {
                Entry::Object(k, o) => contents.push(to_object(k, &o, &enc, Some(Self::owner()))),
                Entry::Prefix(cp) => common_prefixes.push(CommonPrefix {
                    prefix: Some(enc.apply(cp)),
                }),
            }
        }
        // v1 returns NextMarker only when a delimiter is given; clients use the last key otherwise.
        let next_marker = (p.truncated && input.delimiter.is_some())
            .then(|| p.last.clone())
            .flatten();
        Ok(S3Response::new(ListObjectsOutput {
            name: Some(input.bucket),
            prefix: Some(enc.apply(prefix)),
            marker: Some(enc.apply(input.marker.unwrap_or_default())),
            delimiter: enc.apply_opt(input.delimiter),
            max_keys: Some(i32::try_from(max).unwrap_or(1000)),
            is_truncated: Some(p.truncated),
            next_marker: enc.apply_opt(next_marker),
            contents: Some(contents),
            common_prefixes: (!common_prefixes.is_empty()).then_some(common_prefixes),
            encoding_type: enc.echo(),
            ..Default::default()
        }))
    }

    pub(crate) fn op_list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        let input = req.input;
        let enc = Encoder::new(input.encoding_type.as_ref())?;
        let max = max_keys(input.max_keys)?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let p = self.list_page(
            &input.bucket,
            &prefix,
            input.delimiter.as_deref(),
            input.key_marker.as_deref(),
            max,
        )?;
        let mut versions = Vec::new();
        let mut common_prefixes = Vec::new();
        for e in p.entries {
            match e {
                Entry::Object(k, o) => versions.push(ObjectVersion {
                    key: Some(enc.apply(k)),
                    version_id: Some("null".to_owned()),
                    is_latest: Some(true),
                    size: Some(i64::try_from(o.data.len()).unwrap_or(i64::MAX)),
                    e_tag: Some(ETag::Strong(o.etag.clone())),
                    last_modified: Some(o.last_modified.clone()),
                    owner: Some(Self::owner()),
                    storage_class: Some(ObjectVersionStorageClass::from_static(
                        ObjectVersionStorageClass::STANDARD,
                    )),
                    ..Default::default()
                }),
                Entry::Prefix(cp) => common_prefixes.push(CommonPrefix {
                    prefix: Some(enc.apply(cp)),
                }),
            }
        }
        Ok(S3Response::new(ListObjectVersionsOutput {
            name: Some(input.bucket),
            prefix: Some(enc.apply(prefix)),
            delimiter: enc.apply_opt(input.delimiter),
            key_marker: Some(enc.apply(input.key_marker.unwrap_or_default())),
            version_id_marker: Some(input.version_id_marker.unwrap_or_default()),
            max_keys: Some(i32::try_from(max).unwrap_or(1000)),
            is_truncated: Some(p.truncated),
            next_key_marker: p
                .truncated
                .then(|| p.last.clone())
                .flatten()
                .map(|k| enc.apply(k)),
            next_version_id_marker: p.truncated.then(|| "null".to_owned()),
            versions: Some(versions),
            common_prefixes: (!common_prefixes.is_empty()).then_some(common_prefixes),
            encoding_type: enc.echo(),
            ..Default::default()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(keys: &[&str]) -> BTreeMap<String, StoredObject> {
        keys.iter()
            .map(|k| {
                (
                    (*k).to_owned(),
                    StoredObject {
                        data: bytes::Bytes::new(),
                        etag: String::new(),
                        last_modified: Timestamp::from(std::time::UNIX_EPOCH),
                        content_type: None,
                        content_encoding: None,
                        cache_control: None,
                        content_disposition: None,
                        metadata: None,
                        checksum: Checksum::default(),
                        parts_count: None,
                        tags: Vec::new(),
                    },
                )
            })
            .collect()
    }

    fn names(p: &Page) -> Vec<String> {
        p.entries
            .iter()
            .map(|e| match e {
                Entry::Object(k, _) => k.clone(),
                Entry::Prefix(p) => format!("{p}*"),
            })
            .collect()
    }

    #[test]
    fn pages_roll_up_common_prefixes_and_resume_after_them() {
        let objects = store(&["a/1", "a/2", "b", "c/x/1", "c/y", "d"]);
        let first = page(&objects, "", Some("/"), None, 2);
        assert_eq!(names(&first), ["a/*", "b"]);
        assert!(first.truncated);
        let second = page(&objects, "", Some("/"), first.last.as_deref(), 2);
        assert_eq!(names(&second), ["c/*", "d"]);
        assert!(!second.truncated);
        let nested = page(&objects, "c/", Some("/"), None, 10);
        assert_eq!(names(&nested), ["c/x/*", "c/y"]);
        let resumed = page(&objects, "", None, Some("a/2"), 10);
        assert_eq!(names(&resumed), ["b", "c/x/1", "c/y", "d"]);
    }
}
