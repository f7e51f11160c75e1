//! Listings of current objects: ListObjectsV2 (prefix, delimiter, max-keys, continuation-token,
//! start-after, `encoding-type=url`) and ListObjects (v1), plus what ListObjectVersions shares
//! with them (max-keys, the delimiter, URL encoding of returned names).

use std::collections::BTreeMap;
use std::ops::Bound;

use base64::Engine as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::backend::{Backend, no_such_bucket};
use super::checksums::ALGORITHMS;
use super::store::StoredObject;
use super::versions::History;

/// What `encoding-type=url` leaves as is: RFC 3986 unreserved characters and `/`.
const LISTING_KEEP: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// Percent-encodes a name as S3 does for `encoding-type=url`: `quux ab/` → `quux%20ab/`,
/// `foo+1/` → `foo%2B1/` (not form encoding: a space is `%20`, never `+`).
pub(crate) fn url_encode(name: &str) -> String {
    utf8_percent_encode(name, LISTING_KEEP).to_string()
}

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

/// The common prefix `key` rolls up to under `prefix` and `delimiter`, if any.
pub(crate) fn rolled_up(key: &str, prefix: &str, delimiter: Option<&str>) -> Option<String> {
    let d = delimiter?;
    key[prefix.len()..]
        .find(d)
        .map(|i| key[..prefix.len() + i + d.len()].to_owned())
}

/// Walks keys with a current object after `start` (exclusive) under `prefix`, rolling keys up at
/// `delimiter`; keys whose latest version is a delete marker are invisible.
fn page(
    objects: &BTreeMap<String, History>,
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
    if max_keys == 0 {
        return Page {
            entries,
            truncated,
            last,
        };
    }
    for (key, history) in objects.range((lower, Bound::Unbounded)) {
        if !key.starts_with(prefix) {
            break;
        }
        let Some(obj) = history.current() else {
            continue;
        };
        let rolled = rolled_up(key, prefix, delimiter);
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

/// `max-keys` as asked (at most 1000).
pub(crate) fn max_keys(requested: Option<i32>) -> S3Result<usize> {
    match requested {
        None => Ok(1000),
        Some(n) if n < 0 => Err(s3_error!(
            InvalidArgument,
            "max-keys must be a non-negative integer, got {n}"
        )),
        Some(n) => Ok(usize::try_from(n).unwrap_or(1000).min(1000)),
    }
}

/// The delimiter to apply: an empty one is no delimiter, and is not echoed.
pub(crate) fn delimiter(given: Option<String>) -> Option<String> {
    given.filter(|d| !d.is_empty())
}

/// Refuses `allow-unordered=true` together with a delimiter, as S3-compatible stores that
/// offer unordered listings do (the query parameter is not part of the typed input).
fn check_unordered(uri: &http::Uri, delimiter: Option<&str>) -> S3Result<()> {
    let unordered = uri.query().is_some_and(|q| {
        q.split('&').any(|p| match p.split_once('=') {
            Some((k, v)) => k == "allow-unordered" && v.eq_ignore_ascii_case("true"),
            None => p == "allow-unordered",
        })
    });
    if unordered && delimiter.is_some() {
        return Err(s3_error!(
            InvalidArgument,
            "allow-unordered cannot be used together with a delimiter"
        ));
    }
    Ok(())
}

/// Applies `encoding-type=url` to a value returned in a listing.
pub(crate) struct Encoder {
    url: bool,
}

impl Encoder {
    pub(crate) fn new(encoding_type: Option<&EncodingType>) -> S3Result<Self> {
        match encoding_type.map(EncodingType::as_str) {
            None => Ok(Self { url: false }),
            Some(e) if e.eq_ignore_ascii_case(EncodingType::URL) => Ok(Self { url: true }),
            Some(other) => Err(s3_error!(
                InvalidArgument,
                "Invalid Encoding Method specified in Request: {other}"
            )),
        }
    }

    pub(crate) fn apply(&self, value: &str) -> String {
        if self.url {
            url_encode(value)
        } else {
            value.to_owned()
        }
    }

    pub(crate) fn apply_opt(&self, value: Option<&str>) -> Option<String> {
        value.map(|v| self.apply(v))
    }

    pub(crate) fn echo(&self) -> Option<EncodingType> {
        self.url
            .then(|| EncodingType::from_static(EncodingType::URL))
    }
}

/// The algorithms an object has checksums for, as listings name them.
pub(crate) fn algorithms(c: &Checksum) -> Option<Vec<ChecksumAlgorithm>> {
    let names: Vec<ChecksumAlgorithm> = ALGORITHMS
        .iter()
        .filter(|a| super::checksums::value(c, a).is_some())
        .map(|a| ChecksumAlgorithm::from((*a).to_owned()))
        .collect();
    (!names.is_empty()).then_some(names)
}

fn to_object(key: &str, obj: &StoredObject, enc: &Encoder, owner: Option<Owner>) -> Object {
    Object {
        key: Some(enc.apply(key)),
        size: Some(i64::try_from(obj.data.len()).unwrap_or(i64::MAX)),
        e_tag: Some(ETag::Strong(obj.etag.clone())),
        last_modified: Some(obj.last_modified.clone()),
        storage_class: Some(ObjectStorageClass::from(
            obj.storage_class
                .clone()
                .unwrap_or_else(|| ObjectStorageClass::STANDARD.to_owned()),
        )),
        checksum_algorithm: algorithms(&obj.checksum),
        checksum_type: obj.checksum.checksum_type.clone(),
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

/// Objects and common prefixes of a page, encoded.
fn split(
    entries: Vec<Entry>,
    enc: &Encoder,
    owner: Option<&Owner>,
) -> (Vec<Object>, Vec<CommonPrefix>) {
    let mut contents = Vec::new();
    let mut common_prefixes = Vec::new();
    for e in entries {
        match e {
            Entry::Object(k, o) => contents.push(to_object(&k, &o, enc, owner.cloned())),
            Entry::Prefix(cp) => common_prefixes.push(CommonPrefix {
                prefix: Some(enc.apply(&cp)),
            }),
        }
    }
    (contents, common_prefixes)
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
        let delimiter = delimiter(input.delimiter);
        check_unordered(&req.uri, delimiter.as_deref())?;
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
            delimiter.as_deref(),
            start.as_deref(),
            max,
        )?;
        let owner = input.fetch_owner.unwrap_or(false).then(Self::owner);
        let (contents, common_prefixes) = split(p.entries, &enc, owner.as_ref());
        let key_count = i32::try_from(contents.len() + common_prefixes.len()).unwrap_or(i32::MAX);
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(input.bucket),
            prefix: Some(enc.apply(&prefix)),
            delimiter: enc.apply_opt(delimiter.as_deref()),
            start_after: enc.apply_opt(input.start_after.as_deref()),
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
        let delimiter = delimiter(input.delimiter);
        check_unordered(&req.uri, delimiter.as_deref())?;
        let enc = Encoder::new(input.encoding_type.as_ref())?;
        let max = max_keys(input.max_keys)?;
        let prefix = input.prefix.clone().unwrap_or_default();
        let p = self.list_page(
            &input.bucket,
            &prefix,
            delimiter.as_deref(),
            input.marker.as_deref(),
            max,
        )?;
        let (contents, common_prefixes) = split(p.entries, &enc, Some(&Self::owner()));
        // v1 returns NextMarker only when a delimiter is given; clients use the last key otherwise.
        let next_marker = (p.truncated && delimiter.is_some())
            .then(|| p.last.clone())
            .flatten();
        Ok(S3Response::new(ListObjectsOutput {
            name: Some(input.bucket),
            prefix: Some(enc.apply(&prefix)),
            marker: Some(enc.apply(input.marker.as_deref().unwrap_or_default())),
            delimiter: enc.apply_opt(delimiter.as_deref()),
            max_keys: Some(i32::try_from(max).unwrap_or(1000)),
            is_truncated: Some(p.truncated),
            next_marker: enc.apply_opt(next_marker.as_deref()),
            contents: Some(contents),
            common_prefixes: (!common_prefixes.is_empty()).then_some(common_prefixes),
            encoding_type: enc.echo(),
            ..Default::default()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::store::Versioning;

    fn store(keys: &[&str]) -> BTreeMap<String, History> {
        keys.iter()
            .map(|k| {
                let mut h = History::default();
                h.put(
                    Versioning::Unversioned,
                    StoredObject::empty(Timestamp::from(std::time::UNIX_EPOCH)),
                );
                ((*k).to_owned(), h)
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
        let none = page(&objects, "", None, None, 0);
        assert!(none.entries.is_empty() && !none.truncated, "max-keys 0");
    }

    #[test]
    fn deleted_keys_neither_list_nor_make_prefixes() {
        let mut objects = store(&["gone/1", "kept"]);
        if let Some(h) = objects.get_mut("gone/1") {
            h.delete(Versioning::Enabled, Timestamp::from(std::time::UNIX_EPOCH));
        }
        let p = page(&objects, "", Some("/"), None, 10);
        assert_eq!(names(&p), ["kept"]);
    }

    #[test]
    fn url_encoding_is_path_style() {
        for (name, want) in [
            ("quux ab/", "quux%20ab/"),
            ("foo+1/", "foo%2B1/"),
            ("year=2026/a b.log", "year%3D2026/a%20b.log"),
            ("é~_.-", "%C3%A9~_.-"),
        ] {
            assert_eq!(url_encode(name), want, "{name}");
        }
    }
}
