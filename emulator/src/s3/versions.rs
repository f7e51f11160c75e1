//! The versions of one key, as S3 keeps them: a stack of object versions and delete markers,
//! newest on top, written according to the bucket's versioning state.
//!
//! Pure data: the backend decides what to answer; this module only says what is stored.

use s3s::dto::Timestamp;

use super::store::{StoredObject, Versioning};

/// The version id of the version written while versioning is off or suspended.
pub(crate) const NULL_VERSION: &str = "null";

/// Characters of generated version ids: URL-safe, so ids travel in query strings unescaped.
const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
/// Length of generated version ids (S3's are 32 characters too).
const ID_LEN: usize = 32;

/// A fresh, random version id.
pub(crate) fn new_version_id() -> String {
    (0..ID_LEN)
        .map(|_| char::from(ID_ALPHABET[rand::random_range(0..ID_ALPHABET.len())]))
        .collect()
}

/// Whether a client-supplied version id could name a version here (`null` or a generated id);
/// S3 answers 400 InvalidArgument for ids that cannot, 404 NoSuchVersion for ids it lacks.
pub(crate) fn is_well_formed(id: &str) -> bool {
    id == NULL_VERSION || (id.len() == ID_LEN && id.bytes().all(|b| ID_ALPHABET.contains(&b)))
}

/// A delete marker: a version that says "no object here" and makes GET answer 404.
#[derive(Debug, Clone)]
pub(crate) struct DeleteMarker {
    pub(crate) version_id: String,
    pub(crate) last_modified: Timestamp,
}

/// One entry of a key's history.
#[derive(Debug, Clone)]
pub(crate) enum Version {
    Object(Box<StoredObject>),
    DeleteMarker(DeleteMarker),
}

impl Version {
    pub(crate) fn id(&self) -> &str {
        match self {
            Self::Object(o) => &o.version_id,
            Self::DeleteMarker(m) => &m.version_id,
        }
    }

    pub(crate) fn object(&self) -> Option<&StoredObject> {
        match self {
            Self::Object(o) => Some(o),
            Self::DeleteMarker(_) => None,
        }
    }
}

/// What a DELETE without a version id did to a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Removal {
    /// Unversioned bucket: the object is gone for good.
    Removed,
    /// Versioned bucket: a delete marker with this id is now the latest version.
    Marker(String),
}

/// Every version of one key, oldest first (the last one is the latest).
#[derive(Debug, Clone, Default)]
pub(crate) struct History {
    versions: Vec<Version>,
}

impl History {
    /// The latest version, object or delete marker.
    pub(crate) fn latest(&self) -> Option<&Version> {
        self.versions.last()
    }

    /// The current object: the latest version unless it is a delete marker.
    pub(crate) fn current(&self) -> Option<&StoredObject> {
        self.latest().and_then(Version::object)
    }

    /// The version with this id.
    pub(crate) fn find(&self, version_id: &str) -> Option<&Version> {
        self.versions.iter().find(|v| v.id() == version_id)
    }

    /// The object version with this id, or the current one, for in-place changes (tags, ACL).
    pub(crate) fn object_mut(&mut self, version_id: Option<&str>) -> Option<&mut StoredObject> {
        let version = match version_id {
            Some(id) => self.versions.iter_mut().find(|v| v.id() == id),
            None => self.versions.last_mut(),
        }?;
        match version {
            Version::Object(o) => Some(o),
            Version::DeleteMarker(_) => None,
        }
    }

    /// Versions newest first, as ListObjectVersions returns them.
    pub(crate) fn newest_first(&self) -> impl Iterator<Item = &Version> {
        self.versions.iter().rev()
    }

    /// Whether nothing (not even a delete marker) is left under the key.
    pub(crate) fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }

    /// Writes an object as the new latest version and returns its version id: a fresh id when
    /// versioning is enabled, otherwise `null` (replacing any earlier `null` version).
    pub(crate) fn put(&mut self, versioning: Versioning, mut object: StoredObject) -> String {
        object.version_id = match versioning {
            Versioning::Enabled => new_version_id(),
            Versioning::Unversioned | Versioning::Suspended => {
                self.remove(NULL_VERSION);
                NULL_VERSION.to_owned()
            }
        };
        let id = object.version_id.clone();
        self.versions.push(Version::Object(Box::new(object)));
        id
    }

    /// A DELETE without a version id: removes the object when versioning was never configured,
    /// otherwise adds a delete marker (`null` when suspended, replacing the `null` version).
    pub(crate) fn delete(&mut self, versioning: Versioning, now: Timestamp) -> Removal {
        let version_id = match versioning {
            Versioning::Unversioned => {
                self.versions.clear();
                return Removal::Removed;
            }
            Versioning::Enabled => new_version_id(),
            Versioning::Suspended => {
                self.remove(NULL_VERSION);
                NULL_VERSION.to_owned()
            }
        };
        self.versions.push(Version::DeleteMarker(DeleteMarker {
            version_id: version_id.clone(),
            last_modified: now,
        }));
        Removal::Marker(version_id)
    }

    /// Removes one version for good; the one below it (if any) becomes the latest.
    pub(crate) fn remove(&mut self, version_id: &str) -> Option<Version> {
        let at = self.versions.iter().position(|v| v.id() == version_id)?;
        Some(self.versions.remove(at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(body: &'static str) -> StoredObject {
        let mut o = StoredObject::empty(Timestamp::from(std::time::UNIX_EPOCH));
        o.data = bytes::Bytes::from_static(body.as_bytes());
        o
    }

    fn now() -> Timestamp {
        Timestamp::from(std::time::UNIX_EPOCH)
    }

    fn ids(h: &History) -> Vec<String> {
        h.newest_first()
            .map(|v| match v {
                Version::Object(o) => format!("{}={}", v.id(), String::from_utf8_lossy(&o.data)),
                Version::DeleteMarker(_) => format!("{}=marker", v.id()),
            })
            .collect()
    }

    #[test]
    fn an_unversioned_key_keeps_one_null_version_and_delete_removes_it() {
        let mut h = History::default();
        assert_eq!(h.put(Versioning::Unversioned, object("a")), "null");
        h.put(Versioning::Unversioned, object("b"));
        assert_eq!(ids(&h), ["null=b"]);
        assert_eq!(h.delete(Versioning::Unversioned, now()), Removal::Removed);
        assert!(h.is_empty());
    }

    #[test]
    fn an_enabled_key_stacks_versions_and_delete_adds_a_marker() {
        let mut h = History::default();
        let first = h.put(Versioning::Enabled, object("a"));
        let second = h.put(Versioning::Enabled, object("b"));
        assert_ne!(first, second);
        assert!(is_well_formed(&first) && is_well_formed(&second));
        assert_eq!(
            h.current().map(|o| o.version_id.as_str()),
            Some(second.as_str())
        );
        let Removal::Marker(marker) = h.delete(Versioning::Enabled, now()) else {
            panic!("versioned delete adds a marker");
        };
        assert!(h.current().is_none(), "a delete marker hides the key");
        assert!(h.find(&first).and_then(Version::object).is_some());
        h.remove(&marker);
        assert_eq!(
            h.current().map(|o| o.version_id.as_str()),
            Some(second.as_str())
        );
    }

    #[test]
    fn a_suspended_key_replaces_only_its_null_version() {
        let mut h = History::default();
        h.put(Versioning::Unversioned, object("old-null"));
        let kept = h.put(Versioning::Enabled, object("versioned"));
        h.put(Versioning::Suspended, object("new-null"));
        assert_eq!(
            ids(&h),
            ["null=new-null", format!("{kept}=versioned").as_str()]
        );
        assert_eq!(
            h.delete(Versioning::Suspended, now()),
            Removal::Marker("null".to_owned())
        );
        assert_eq!(
            ids(&h),
            ["null=marker", format!("{kept}=versioned").as_str()]
        );
    }

    #[test]
    fn version_ids_are_checked_for_shape() {
        for (id, ok) in [
            ("null", true),
            ("", false),
            ("short", false),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef", true),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcde/", false),
        ] {
            assert_eq!(is_well_formed(id), ok, "{id:?}");
        }
    }
}
