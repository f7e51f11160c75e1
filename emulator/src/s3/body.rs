//! Reading a request body into memory while enforcing the size cap and verifying checksums.
//!
//! Covers both ways clients send integrity data: `Content-MD5` / `x-amz-checksum-*` headers
//! (awscli, boto3, aws-sdk-s3 with in-memory bodies) and the `aws-chunked` trailer
//! (aws-sdk-s3 with streaming bodies; s3s decodes the chunks and hands us the trailer).

use base64::Engine as _;
use bytes::{Bytes, BytesMut};
use futures::StreamExt as _;
use http::HeaderMap;
use md5::{Digest as _, Md5};
use s3s::checksum::ChecksumHasher;
use s3s::dto::{Checksum, StreamingBlob};
use s3s::{S3Error, S3ErrorCode, S3Result, TrailingHeaders, s3_error};

/// What the client claimed about the body it is sending.
#[derive(Debug, Default)]
pub(crate) struct Claims<'a> {
    /// Checksums from `x-amz-checksum-*` headers.
    pub(crate) checksum: Checksum,
    /// `x-amz-sdk-checksum-algorithm`: compute (and return) this one even without a value.
    pub(crate) algorithm: Option<&'a str>,
    /// `Content-MD5`, base64.
    pub(crate) content_md5: Option<&'a str>,
    /// `Content-Length` or `x-amz-decoded-content-length`, when known.
    pub(crate) length: Option<u64>,
}

/// A body read in full, with the digests computed over it.
#[derive(Debug)]
pub(crate) struct Received {
    pub(crate) data: Bytes,
    pub(crate) md5: [u8; 16],
    /// The checksums computed for the algorithms the client used (base64).
    pub(crate) checksum: Checksum,
}

/// Names the algorithms a request declared in its headers (`x-amz-trailer`, checksum headers).
fn declared_algorithms(headers: &HeaderMap) -> Vec<String> {
    let mut names = Vec::new();
    for value in headers.get_all("x-amz-trailer") {
        if let Ok(v) = value.to_str() {
            names.extend(v.split(',').map(|s| s.trim().to_ascii_lowercase()));
        }
    }
    names
}

fn hasher_for(claims: &Claims<'_>, headers: &HeaderMap) -> ChecksumHasher {
    let declared = declared_algorithms(headers);
    let algorithm = claims.algorithm.map(str::to_ascii_uppercase);
    let wants = |upper: &str, field: &Option<String>| {
        field.is_some()
            || algorithm.as_deref() == Some(upper)
            || declared
                .iter()
                .any(|d| d == &format!("x-amz-checksum-{}", upper.to_ascii_lowercase()))
    };
    let c = &claims.checksum;
    ChecksumHasher {
        crc32: wants("CRC32", &c.checksum_crc32).then(Default::default),
        crc32c: wants("CRC32C", &c.checksum_crc32c).then(Default::default),
        sha1: wants("SHA1", &c.checksum_sha1).then(Default::default),
        sha256: wants("SHA256", &c.checksum_sha256).then(Default::default),
        crc64nvme: wants("CRC64NVME", &c.checksum_crc64nvme).then(Default::default),
    }
}

fn too_large(received_at_least: u64, cap: u64) -> S3Error {
    s3_error!(
        EntityTooLarge,
        "Your proposed upload ({received_at_least} bytes or more) exceeds the emulator's maximum object size of {cap} bytes; raise it with --max-object-size or EmulatorBuilder::max_object_size"
    )
}

/// Reads the whole body, refusing more than `cap` bytes, and verifies every claimed digest.
///
/// # Errors
/// `EntityTooLarge` over the cap, `InvalidDigest` for a malformed `Content-MD5`, `BadDigest`
/// when a checksum (header or trailer) does not match the bytes received, `IncompleteBody` when
/// the connection fails mid-body.
pub(crate) async fn receive(
    body: Option<StreamingBlob>,
    cap: u64,
    claims: Claims<'_>,
    headers: &HeaderMap,
    trailers: Option<&TrailingHeaders>,
) -> S3Result<Received> {
    if let Some(length) = claims.length
        && length > cap
    {
        return Err(too_large(length, cap));
    }
    let mut hasher = hasher_for(&claims, headers);
    let mut md5 = Md5::new();
    let mut buf = BytesMut::new();
    if let Some(mut body) = body {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                S3Error::with_message(
                    S3ErrorCode::IncompleteBody,
                    format!("failed to read the request body: {e}"),
                )
            })?;
            let total = buf.len() as u64 + chunk.len() as u64;
            if total > cap {
                return Err(too_large(total, cap));
            }
            hasher.update(&chunk);
            md5.update(&chunk);
            buf.extend_from_slice(&chunk);
        }
    }
    let md5: [u8; 16] = md5.finalize().into();
    let computed = hasher.finalize();

    let mut expected = claims.checksum;
    if let Some(trailers) = trailers {
        merge_trailers(&mut expected, trailers)?;
    }
    verify(&expected, &computed)?;
    if let Some(claimed) = claims.content_md5 {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(claimed.trim())
            .map_err(|_| {
                s3_error!(
                    InvalidDigest,
                    "The Content-MD5 you specified is not valid base64."
                )
            })?;
        if decoded.len() != 16 {
            return Err(s3_error!(
                InvalidDigest,
                "The Content-MD5 you specified is not 16 bytes long."
            ));
        }
        if decoded != md5 {
            return Err(s3_error!(
                BadDigest,
                "The Content-MD5 you specified did not match what we received."
            ));
        }
    }
    Ok(Received {
        data: buf.freeze(),
        md5,
        checksum: computed,
    })
}

fn merge_trailers(expected: &mut Checksum, trailers: &TrailingHeaders) -> S3Result<()> {
    let read = trailers.read(|h| {
        let get = |name: &str| h.get(name).map(|v| v.to_str().map(str::to_owned));
        [
            get("x-amz-checksum-crc32"),
            get("x-amz-checksum-crc32c"),
            get("x-amz-checksum-sha1"),
            get("x-amz-checksum-sha256"),
            get("x-amz-checksum-crc64nvme"),
        ]
    });
    let Some(values) = read else { return Ok(()) };
    let mut values = values.into_iter().map(|v| {
        v.transpose().map_err(|_| {
            s3_error!(
                InvalidArgument,
                "A checksum trailer value is not valid ASCII."
            )
        })
    });
    let mut next = |slot: &mut Option<String>| -> S3Result<()> {
        if let Some(v) = values.next().transpose()?.flatten() {
            *slot = Some(v);
        }
        Ok(())
    };
    next(&mut expected.checksum_crc32)?;
    next(&mut expected.checksum_crc32c)?;
    next(&mut expected.checksum_sha1)?;
    next(&mut expected.checksum_sha256)?;
    next(&mut expected.checksum_crc64nvme)?;
    Ok(())
}

fn verify(expected: &Checksum, computed: &Checksum) -> S3Result<()> {
    let pairs = [
        ("crc32", &expected.checksum_crc32, &computed.checksum_crc32),
        (
            "crc32c",
            &expected.checksum_crc32c,
            &computed.checksum_crc32c,
        ),
        ("sha1", &expected.checksum_sha1, &computed.checksum_sha1),
        (
            "sha256",
            &expected.checksum_sha256,
            &computed.checksum_sha256,
        ),
        (
            "crc64nvme",
            &expected.checksum_crc64nvme,
            &computed.checksum_crc64nvme,
        ),
    ];
    for (name, want, got) in pairs {
        if let Some(want) = want
            && Some(want) != got.as_ref()
        {
            return Err(s3_error!(
                BadDigest,
                "The x-amz-checksum-{name} you specified did not match the calculated checksum."
            ));
        }
    }
    Ok(())
}

/// Builds the client's claims from the common checksum fields of an input.
pub(crate) fn checksum_of(
    crc32: Option<&String>,
    crc32c: Option<&String>,
    sha1: Option<&String>,
    sha256: Option<&String>,
    crc64nvme: Option<&String>,
) -> Checksum {
    Checksum {
        checksum_crc32: crc32.cloned(),
        checksum_crc32c: crc32c.cloned(),
        checksum_sha1: sha1.cloned(),
        checksum_sha256: sha256.cloned(),
        checksum_crc64nvme: crc64nvme.cloned(),
        checksum_type: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blob(data: &'static [u8]) -> Option<StreamingBlob> {
        Some(StreamingBlob::from(s3s::Body::from(Bytes::from_static(
            data,
        ))))
    }

    fn crc32_of(data: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(data).to_be_bytes())
    }

    #[tokio::test]
    async fn verifies_claimed_checksums_and_the_size_cap() {
        let hello = b"hello";
        let md5_b64 = base64::engine::general_purpose::STANDARD.encode(Md5::digest(hello));
        let good_crc = crc32_of(hello);
        let cases: Vec<(&str, Claims<'_>, u64, Option<&str>)> = vec![
            ("no claims", Claims::default(), 100, None),
            (
                "matching crc32",
                Claims {
                    checksum: checksum_of(Some(&good_crc), None, None, None, None),
                    ..Claims::default()
                },
                100,
                None,
            ),
            (
                "wrong crc32",
                Claims {
                    checksum: checksum_of(Some(&"AAAAAA==".to_owned()), None, None, None, None),
                    ..Claims::default()
                },
                100,
                Some("BadDigest"),
            ),
            (
                "matching md5",
                Claims {
                    content_md5: Some(&md5_b64),
                    ..Claims::default()
                },
                100,
                None,
            ),
            (
                "md5 not base64",
                Claims {
                    content_md5: Some("***"),
                    ..Claims::default()
                },
                100,
                Some("InvalidDigest"),
            ),
            (
                "over the cap while streaming",
                Claims::default(),
                4,
                Some("EntityTooLarge"),
            ),
            (
                "declared length over the cap",
                Claims {
                    length: Some(10),
                    ..Claims::default()
                },
                5,
                Some("EntityTooLarge"),
            ),
        ];
        for (name, claims, cap, want) in cases {
            let got = receive(blob(hello), cap, claims, &HeaderMap::new(), None).await;
            let code = got.as_ref().err().map(|e| e.code().as_str().to_owned());
            assert_eq!(code.as_deref(), want, "case {name:?}");
            if let Ok(r) = got {
                assert_eq!(&r.data[..], hello, "case {name:?}");
            }
        }
    }

    #[tokio::test]
    async fn computes_the_algorithm_named_by_the_sdk_header_even_without_a_value() {
        let claims = Claims {
            algorithm: Some("crc32"),
            ..Claims::default()
        };
        let got = receive(blob(b"abc"), 100, claims, &HeaderMap::new(), None).await;
        assert_eq!(
            got.ok().and_then(|r| r.checksum.checksum_crc32),
            Some(crc32_of(b"abc"))
        );
    }
}
