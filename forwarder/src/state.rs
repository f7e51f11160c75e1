//! A small store for the forwarder's own state (dead letters, progress
//! markers): a local directory in CLI mode, or a prefix in S3 for Lambda.
//!
//! Keys are relative (`deadletter/…`, `progress/…`) and made of `/`-separated
//! segments without `.`/`..`. Objects are small and written whole.
//!
//! **The state prefix may be inside the watched bucket.** Its own writes then
//! raise `ObjectCreated` events for the forwarder: the pipeline must ignore
//! them with [`StateStore::is_own_state_key`], or it would forward its own
//! dead letters and markers as if they were flow logs.
//!
//! IAM for the S3 form: `s3:GetObject`, `s3:PutObject`, `s3:DeleteObject` on
//! `arn:aws:s3:::BUCKET/PREFIX*` and `s3:ListBucket` on the bucket (without
//! ListBucket, S3 answers a missing marker with AccessDenied instead of
//! NoSuchKey, which [`StateStore::get`] reports as an error, not as absent).

use std::io;
use std::path::{Path, PathBuf};

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;

/// Where state lives.
#[derive(Debug, Clone)]
pub enum StateStore {
    /// A directory on local disk (CLI mode); created on first write.
    Local(PathBuf),
    /// Objects under `prefix` in `bucket` (Lambda mode).
    S3 {
        /// The S3 client (the same one that reads flow logs).
        client: Client,
        /// Bucket holding the state.
        bucket: String,
        /// Prefix of every state key, e.g. `flowlog-forwarder/`; a trailing `/`
        /// is added when missing.
        prefix: String,
    },
}

/// A state operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A key that would escape the store or is empty.
    #[error("state key `{key}` is not valid: {reason}")]
    InvalidKey {
        /// The key given.
        key: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// Local file system failure.
    #[error("state directory: could not {op} {}: {source}; check that the directory is writable", path.display())]
    Local {
        /// What was attempted.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// S3 failure.
    #[error(
        "state store {url}: {op} failed: {message}; the forwarder's role needs s3:{permission} \
         on {resource}"
    )]
    S3 {
        /// What was attempted (`PutObject` …).
        op: &'static str,
        /// The IAM action it needs.
        permission: &'static str,
        /// `s3://bucket/key` (or the listed prefix).
        url: String,
        /// The ARN the permission must cover: `arn:aws:s3:::bucket/prefix*`.
        resource: String,
        /// The client's description.
        message: String,
    },
}

impl StateStore {
    /// An S3 store, normalising the prefix to end with `/` (or be empty).
    pub fn s3(client: Client, bucket: impl Into<String>, prefix: &str) -> Self {
        let prefix = prefix.trim_start_matches('/');
        let prefix = if prefix.is_empty() || prefix.ends_with('/') {
            prefix.to_owned()
        } else {
            format!("{prefix}/")
        };
        Self::S3 {
            client,
            bucket: bucket.into(),
            prefix,
        }
    }

    /// Whether an S3 object is this store's own state and must not be
    /// forwarded (call it on every `ObjectCreated` before reading the object).
    pub fn is_own_state_key(&self, bucket: &str, key: &str) -> bool {
        match self {
            Self::Local(_) => false,
            Self::S3 {
                bucket: own,
                prefix,
                ..
            } => own == bucket && key.starts_with(prefix.as_str()),
        }
    }

    /// Where the store is, for messages: a path or `s3://bucket/prefix`.
    pub fn location(&self) -> String {
        match self {
            Self::Local(dir) => dir.display().to_string(),
            Self::S3 { bucket, prefix, .. } => format!("s3://{bucket}/{prefix}"),
        }
    }

    /// Writes `body` under `key`, replacing it. Local writes go to a temporary
    /// file renamed into place, so a crash never leaves half a file.
    ///
    /// # Errors
    /// [`StateError`] for an invalid key or a failed write.
    pub async fn put(&self, key: &str, body: Bytes) -> Result<(), StateError> {
        check_key(key)?;
        match self {
            Self::Local(dir) => {
                let path = dir.join(key);
                let parent = path.parent().unwrap_or(dir);
                tokio::fs::create_dir_all(parent)
                    .await
                    .map_err(local("create", parent))?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default();
                let temp = parent.join(format!("{TEMP_PREFIX}{name}.{}", std::process::id()));
                tokio::fs::write(&temp, &body)
                    .await
                    .map_err(local("write", &temp))?;
                tokio::fs::rename(&temp, &path)
                    .await
                    .map_err(local("rename into", &path))
            }
            Self::S3 {
                client,
                bucket,
                prefix,
            } => {
                let full = format!("{prefix}{key}");
                client
                    .put_object()
                    .bucket(bucket)
                    .key(&full)
                    .body(ByteStream::from(body))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| s3_error("PutObject", "PutObject", bucket, prefix, &full, &e))
            }
        }
    }

    /// Reads `key`; `None` when it does not exist.
    ///
    /// # Errors
    /// [`StateError`] for an invalid key or a failed read.
    pub async fn get(&self, key: &str) -> Result<Option<Bytes>, StateError> {
        check_key(key)?;
        match self {
            Self::Local(dir) => {
                let path = dir.join(key);
                match tokio::fs::read(&path).await {
                    Ok(body) => Ok(Some(Bytes::from(body))),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(local("read", &path)(e)),
                }
            }
            Self::S3 {
                client,
                bucket,
                prefix,
            } => {
                let full = format!("{prefix}{key}");
                let output = match client.get_object().bucket(bucket).key(&full).send().await {
                    Ok(output) => output,
                    Err(e) if e.code() == Some("NoSuchKey") => return Ok(None),
                    Err(e) => {
                        return Err(s3_error(
                            "GetObject",
                            "GetObject",
                            bucket,
                            prefix,
                            &full,
                            &e,
                        ));
                    }
                };
                let body = output.body.collect().await.map_err(|e| {
                    s3_failure(
                        "GetObject",
                        "GetObject",
                        bucket,
                        prefix,
                        &full,
                        e.to_string(),
                    )
                })?;
                Ok(Some(body.into_bytes()))
            }
        }
    }

    /// Every key that starts with `prefix` (relative, e.g. `deadletter/`),
    /// sorted.
    ///
    /// # Errors
    /// [`StateError`] when the listing fails (a missing local directory is empty).
    pub async fn list(&self, prefix: &str) -> Result<Vec<String>, StateError> {
        let mut keys = match self {
            Self::Local(dir) => list_local(dir, prefix).await?,
            Self::S3 {
                client,
                bucket,
                prefix: own,
            } => {
                let full = format!("{own}{prefix}");
                let mut keys = Vec::new();
                let mut pages = client
                    .list_objects_v2()
                    .bucket(bucket)
                    .prefix(&full)
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| {
                        s3_error("ListObjectsV2", "ListBucket", bucket, own, &full, &e)
                    })?;
                    keys.extend(
                        page.contents()
                            .iter()
                            .filter_map(|o| o.key()?.strip_prefix(own.as_str()))
                            .map(str::to_owned),
                    );
                }
                keys
            }
        };
        keys.sort();
        Ok(keys)
    }

    /// Removes `key`; removing a missing key is not an error.
    ///
    /// # Errors
    /// [`StateError`] for an invalid key or a failed delete.
    pub async fn delete(&self, key: &str) -> Result<(), StateError> {
        check_key(key)?;
        match self {
            Self::Local(dir) => {
                let path = dir.join(key);
                match tokio::fs::remove_file(&path).await {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => Err(local("delete", &path)(e)),
                    _ => Ok(()),
                }
            }
            Self::S3 {
                client,
                bucket,
                prefix,
            } => {
                let full = format!("{prefix}{key}");
                client
                    .delete_object()
                    .bucket(bucket)
                    .key(&full)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| {
                        s3_error("DeleteObject", "DeleteObject", bucket, prefix, &full, &e)
                    })
            }
        }
    }
}

/// Local temporary files start with this and are never listed.
const TEMP_PREFIX: &str = ".tmp-";

fn check_key(key: &str) -> Result<(), StateError> {
    let reason = if key.is_empty() {
        Some("it is empty")
    } else if key.starts_with('/') || key.contains('\\') {
        Some("it must be relative, with `/` separators")
    } else if key
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == ".." || s.starts_with(TEMP_PREFIX))
    {
        Some("segments must be non-empty and not `.`, `..` or temporary names")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(StateError::InvalidKey {
            key: key.to_owned(),
            reason,
        }),
        None => Ok(()),
    }
}

fn local(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StateError {
    let path = path.to_path_buf();
    move |source| StateError::Local { op, path, source }
}

fn s3_error<E, R>(
    op: &'static str,
    permission: &'static str,
    bucket: &str,
    prefix: &str,
    key: &str,
    err: &SdkError<E, R>,
) -> StateError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    s3_failure(
        op,
        permission,
        bucket,
        prefix,
        key,
        DisplayErrorContext(err).to_string(),
    )
}

fn s3_failure(
    op: &'static str,
    permission: &'static str,
    bucket: &str,
    prefix: &str,
    key: &str,
    message: String,
) -> StateError {
    StateError::S3 {
        op,
        permission,
        url: format!("s3://{bucket}/{key}"),
        resource: if permission == "ListBucket" {
            format!("arn:aws:s3:::{bucket} (prefix {prefix})")
        } else {
            format!("arn:aws:s3:::{bucket}/{prefix}*")
        },
        message,
    }
}

/// Files under `dir` whose relative path starts with `prefix`, walking
/// subdirectories iteratively.
async fn list_local(dir: &Path, prefix: &str) -> Result<Vec<String>, StateError> {
    let mut keys = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, rel)) = pending.pop() {
        let mut entries = match tokio::fs::read_dir(&path).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(local("list", &path)(e)),
        };
        while let Some(entry) = entries.next_entry().await.map_err(local("list", &path))? {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(TEMP_PREFIX) {
                continue;
            }
            let key = format!("{rel}{name}");
            let kind = entry
                .file_type()
                .await
                .map_err(local("inspect", &entry.path()))?;
            if kind.is_dir() {
                let dir_key = format!("{key}/");
                if dir_key.starts_with(prefix) || prefix.starts_with(&dir_key) {
                    pending.push((entry.path(), dir_key));
                }
            } else if key.starts_with(prefix) {
                keys.push(key);
            }
        }
    }
    Ok(keys)
}
