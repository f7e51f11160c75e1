//! An in-memory S3 on `s3s`: the operations clients use, SigV4, checksums, versioning,
//! notifications.
//!
//! Layout:
//! - [`settings`]: credentials, region, object size cap (defaults documented there).
//! - `bucket_name`: S3's general purpose bucket naming rules (`InvalidBucketName`).
//! - `auth`: the one accepted key pair; `InvalidAccessKeyId` naming it for any other.
//! - `server`: binding, the hyper-util accept loop, request ids, chunked bodies without a
//!   length, graceful shutdown ([`S3Server`]).
//! - `backend`: the `s3s::S3` implementation, one thin method per operation, delegating to:
//!   - `buckets` (create, head, list, location, delete), `bucket_config` (ownership controls,
//!     public access block, policy), `acl` (bucket and object ACLs),
//!   - `objects` (put, delete, copy), `read` (get, head: ranges, `partNumber`), `attributes`
//!     (GetObjectAttributes), `tagging`, `conditions` (If-Match and friends),
//!   - `versioning` (Put/GetBucketVersioning, finding and writing versions) over `versions`
//!     (one key's stack of versions and delete markers),
//!   - `multipart` (create, upload part, abort), `part_copy` (UploadPartCopy), `complete`
//!     (CompleteMultipartUpload), `uploads` (ListParts, ListMultipartUploads),
//!   - `listing` (ListObjects v1/v2), `list_versions` (ListObjectVersions),
//!   - `notification_config` (notification configuration, firing events).
//! - `xml_body`: the 4 MiB bound on XML request bodies, bounded log excerpts, S3's messages.
//! - `store`: the data model; `body`: size cap and checksum verification of uploads;
//!   `checksums`: checksum types and composite / full-object values.

mod acl;
mod attributes;
mod auth;
mod backend;
mod body;
mod bucket_config;
mod bucket_name;
mod buckets;
mod checksums;
mod complete;
mod conditions;
mod list_versions;
mod listing;
mod multipart;
mod notification_config;
mod objects;
mod part_copy;
mod read;
mod server;
pub mod settings;
mod store;
mod tagging;
mod uploads;
mod versioning;
mod versions;
mod xml_body;

pub use server::{S3Server, ServeError, build_service};
pub use settings::S3Settings;
