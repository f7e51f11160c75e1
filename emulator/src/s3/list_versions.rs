//! ListObjectVersions: every version and delete marker, keys in order and each key's versions
//! newest first, with prefix, delimiter, max-keys and the key / version-id markers.

use std::collections::BTreeMap;
use std::ops::Bound;

use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};

use super::backend::{Backend, no_such_bucket};
use super::listing::{Encoder, algorithms, delimiter, max_keys, rolled_up};
use super::versions::{History, Version};

/// One entry of a versions page.
enum Entry {
    Version {
        key: String,
        version: Version,
        is_latest: bool,
    },
    Prefix(String),
}

/// One page of ListObjectVersions.
struct Page {
    entries: Vec<Entry>,
    truncated: bool,
    /// Where the next page starts: the last key (or prefix) and version id returned.
    next_key: Option<String>,
    next_version: Option<String>,
}

/// Where a page starts.
struct Start<'a> {
    key_marker: Option<&'a str>,
    version_id_marker: Option<&'a str>,
}

fn page(
    objects: &BTreeMap<String, History>,
    prefix: &str,
    delimiter: Option<&str>,
    start: &Start<'_>,
    max: usize,
) -> Page {
    let mut p = Page {
        entries: Vec::new(),
        truncated: false,
        next_key: None,
        next_version: None,
    };
    if max == 0 {
        return p;
    }
    let lower = match start.key_marker {
        Some(m) if m >= prefix => Bound::Included(m.to_owned()),
        _ => Bound::Included(prefix.to_owned()),
    };
    let mut last_prefix: Option<String> = None;
    'keys: for (key, history) in objects.range((lower, Bound::Unbounded)) {
        if !key.starts_with(prefix) {
            break;
        }
        let at_marker = start.key_marker == Some(key.as_str());
        if at_marker && start.version_id_marker.is_none() {
            continue;
        }
        if let Some(rolled) = rolled_up(key, prefix, delimiter) {
            let seen = last_prefix.as_deref() == Some(rolled.as_str())
                || start.key_marker.is_some_and(|m| rolled.as_str() <= m);
            if seen {
                continue;
            }
            if p.entries.len() == max {
                p.truncated = true;
                break;
            }
            p.next_key = Some(rolled.clone());
            p.next_version = None;
            last_prefix = Some(rolled.clone());
            p.entries.push(Entry::Prefix(rolled));
            continue;
        }
        let mut versions = history.newest_first().enumerate().peekable();
        if at_marker && let Some(marker) = start.version_id_marker {
            // Resume after the marker's version; a marker no longer there skips the key.
            if !history.newest_first().any(|v| v.id() == marker) {
                continue;
            }
            for (_, v) in versions.by_ref() {
                if v.id() == marker {
                    break;
                }
            }
        }
        for (i, version) in versions {
            if p.entries.len() == max {
                p.truncated = true;
                break 'keys;
            }
            p.next_key = Some(key.clone());
            p.next_version = Some(version.id().to_owned());
            p.entries.push(Entry::Version {
                key: key.clone(),
                version: version.clone(),
                is_latest: i == 0,
            });
        }
    }
    if !p.truncated {
        p.next_key = None;
        p.next_version = None;
    }
    p
}

impl Backend {
    pub(crate) fn op_list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        let input = req.input;
        let enc = Encoder::new(input.encoding_type.as_ref())?;
        let max = max_keys(input.max_keys)?;
        let delimiter = delimiter(input.delimiter);
        let key_marker = input.key_marker.filter(|m| !m.is_empty());
        let version_id_marker = input.version_id_marker.filter(|m| !m.is_empty());
        if version_id_marker.is_some() && key_marker.is_none() {
            return Err(s3_error!(
                InvalidArgument,
                "A version-id marker cannot be specified without a key marker."
            ));
        }
        let prefix = input.prefix.clone().unwrap_or_default();
        let p = {
            let buckets = self.store.lock();
            let b = buckets
                .get(&input.bucket)
                .ok_or_else(|| no_such_bucket(&input.bucket))?;
            let start = Start {
                key_marker: key_marker.as_deref(),
                version_id_marker: version_id_marker.as_deref(),
            };
            page(&b.objects, &prefix, delimiter.as_deref(), &start, max)
        };
        let mut versions = Vec::new();
        let mut delete_markers = Vec::new();
        let mut common_prefixes = Vec::new();
        for e in p.entries {
            match e {
                Entry::Version {
                    key,
                    version: Version::Object(o),
                    is_latest,
                } => versions.push(ObjectVersion {
                    key: Some(enc.apply(&key)),
                    version_id: Some(o.version_id.clone()),
                    is_latest: Some(is_latest),
                    size: Some(i64::try_from(o.data.len()).unwrap_or(i64::MAX)),
                    e_tag: Some(ETag::Strong(o.etag.clone())),
                    last_modified: Some(o.last_modified.clone()),
                    owner: Some(Self::owner()),
                    storage_class: Some(ObjectVersionStorageClass::from(
                        o.storage_class
                            .clone()
                            .unwrap_or_else(|| ObjectVersionStorageClass::STANDARD.to_owned()),
                    )),
                    checksum_algorithm: algorithms(&o.checksum),
                    checksum_type: o.checksum.checksum_type.clone(),
                    ..Default::default()
                }),
                Entry::Version {
                    key,
                    version: Version::DeleteMarker(m),
                    is_latest,
                } => delete_markers.push(DeleteMarkerEntry {
                    key: Some(enc.apply(&key)),
                    version_id: Some(m.version_id),
                    is_latest: Some(is_latest),
                    last_modified: Some(m.last_modified),
                    owner: Some(Self::owner()),
                }),
                Entry::Prefix(cp) => common_prefixes.push(CommonPrefix {
                    prefix: Some(enc.apply(&cp)),
                }),
            }
        }
        Ok(S3Response::new(ListObjectVersionsOutput {
            name: Some(input.bucket),
            prefix: Some(enc.apply(&prefix)),
            delimiter: enc.apply_opt(delimiter.as_deref()),
            key_marker: Some(enc.apply(key_marker.as_deref().unwrap_or_default())),
            version_id_marker: Some(version_id_marker.unwrap_or_default()),
            max_keys: Some(i32::try_from(max).unwrap_or(1000)),
            is_truncated: Some(p.truncated),
            next_key_marker: enc.apply_opt(p.next_key.as_deref()),
            next_version_id_marker: p.next_version,
            versions: (!versions.is_empty()).then_some(versions),
            delete_markers: (!delete_markers.is_empty()).then_some(delete_markers),
            common_prefixes: (!common_prefixes.is_empty()).then_some(common_prefixes),
            encoding_type: enc.echo(),
            ..Default::default()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::s3::store::{StoredObject, Versioning};
    use s3s::dto::Timestamp;

    fn epoch() -> Timestamp {
        Timestamp::from(std::time::UNIX_EPOCH)
    }

    /// Keys with `n` versions each (the last one a delete marker when `deleted`).
    fn store(keys: &[(&str, usize, bool)]) -> BTreeMap<String, History> {
        keys.iter()
            .map(|(k, n, deleted)| {
                let mut h = History::default();
                for _ in 0..*n {
                    h.put(Versioning::Enabled, StoredObject::empty(epoch()));
                }
                if *deleted {
                    h.delete(Versioning::Enabled, epoch());
                }
                ((*k).to_owned(), h)
            })
            .collect()
    }

    fn names(p: &Page) -> Vec<String> {
        p.entries
            .iter()
            .map(|e| match e {
                Entry::Version {
                    key,
                    version: Version::Object(_),
                    is_latest,
                } => format!("{key}{}", if *is_latest { "!" } else { "" }),
                Entry::Version { key, is_latest, .. } => {
                    format!("{key}-marker{}", if *is_latest { "!" } else { "" })
                }
                Entry::Prefix(p) => format!("{p}*"),
            })
            .collect()
    }

    #[test]
    fn pages_walk_every_version_and_resume_at_the_markers() {
        let objects = store(&[
            ("a", 2, false),
            ("b", 1, true),
            ("c/1", 1, false),
            ("c/2", 1, false),
        ]);
        let all = page(
            &objects,
            "",
            None,
            &Start {
                key_marker: None,
                version_id_marker: None,
            },
            100,
        );
        assert_eq!(names(&all), ["a!", "a", "b-marker!", "b", "c/1!", "c/2!"]);

        let mut seen = Vec::new();
        let (mut key, mut version) = (None::<String>, None::<String>);
        loop {
            let start = Start {
                key_marker: key.as_deref(),
                version_id_marker: version.as_deref(),
            };
            let p = page(&objects, "", None, &start, 2);
            seen.extend(names(&p));
            if !p.truncated {
                break;
            }
            (key, version) = (p.next_key, p.next_version);
        }
        assert_eq!(
            seen,
            names(&all),
            "pages of two add up to the whole listing"
        );

        let rolled = page(
            &objects,
            "",
            Some("/"),
            &Start {
                key_marker: None,
                version_id_marker: None,
            },
            100,
        );
        assert_eq!(names(&rolled), ["a!", "a", "b-marker!", "b", "c/*"]);
        let after_key = page(
            &objects,
            "",
            None,
            &Start {
                key_marker: Some("a"),
                version_id_marker: None,
            },
            100,
        );
        assert_eq!(names(&after_key)[0], "b-marker!");
    }
}
