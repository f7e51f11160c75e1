//! Additional checksums (CRC32, CRC32C, CRC64NVME, SHA1, SHA256) beyond a body's own
//! verification: which checksum type a multipart upload gets per algorithm, composite
//! (checksum of the part checksums, `-N`) and full-object values, one algorithm at a time.

use base64::Engine as _;
use s3s::checksum::ChecksumHasher;
use s3s::dto::{Checksum, ChecksumType};
use s3s::{S3Result, s3_error};

/// The algorithms S3 offers, by their upper-case names.
pub(crate) const ALGORITHMS: [&str; 5] = ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"];

/// Whether any algorithm has a value.
pub(crate) fn has_any_checksum(c: &Checksum) -> bool {
    ALGORITHMS.iter().any(|a| value(c, a).is_some())
}

/// The value for one algorithm.
pub(crate) fn value<'a>(c: &'a Checksum, algorithm: &str) -> Option<&'a String> {
    match algorithm {
        "CRC32" => c.checksum_crc32.as_ref(),
        "CRC32C" => c.checksum_crc32c.as_ref(),
        "CRC64NVME" => c.checksum_crc64nvme.as_ref(),
        "SHA1" => c.checksum_sha1.as_ref(),
        "SHA256" => c.checksum_sha256.as_ref(),
        _ => None,
    }
}

fn slot<'a>(c: &'a mut Checksum, algorithm: &str) -> Option<&'a mut Option<String>> {
    match algorithm {
        "CRC32" => Some(&mut c.checksum_crc32),
        "CRC32C" => Some(&mut c.checksum_crc32c),
        "CRC64NVME" => Some(&mut c.checksum_crc64nvme),
        "SHA1" => Some(&mut c.checksum_sha1),
        "SHA256" => Some(&mut c.checksum_sha256),
        _ => None,
    }
}

/// A hasher computing only `algorithm`.
fn hasher(algorithm: &str) -> ChecksumHasher {
    let mut h = ChecksumHasher::default();
    match algorithm {
        "CRC32" => h.crc32 = Some(Default::default()),
        "CRC32C" => h.crc32c = Some(Default::default()),
        "CRC64NVME" => h.crc64nvme = Some(Default::default()),
        "SHA1" => h.sha1 = Some(Default::default()),
        "SHA256" => h.sha256 = Some(Default::default()),
        _ => {}
    }
    h
}

/// `algorithm` over `data`, base64, as S3 shows it.
pub(crate) fn compute(algorithm: &str, data: &[u8]) -> Option<String> {
    let mut h = hasher(algorithm);
    h.update(data);
    value(&h.finalize(), algorithm).cloned()
}

/// Only `algorithm`'s value of `c` (plus `c`'s type).
pub(crate) fn only(c: &Checksum, algorithm: &str) -> Checksum {
    let mut out = Checksum {
        checksum_type: c.checksum_type.clone(),
        ..Checksum::default()
    };
    if let (Some(v), Some(s)) = (value(c, algorithm), slot(&mut out, algorithm)) {
        *s = Some(v.clone());
    }
    out
}

/// A checksum holding one value with its type.
pub(crate) fn single(algorithm: &str, v: String, checksum_type: &'static str) -> Checksum {
    let mut out = Checksum {
        checksum_type: Some(ChecksumType::from_static(checksum_type)),
        ..Checksum::default()
    };
    if let Some(s) = slot(&mut out, algorithm) {
        *s = Some(v);
    }
    out
}

/// The upper-case name of a client-supplied algorithm.
///
/// # Errors
/// InvalidRequest for an algorithm S3 does not offer.
pub(crate) fn algorithm_name(given: &str) -> S3Result<String> {
    let upper = given.to_ascii_uppercase();
    if ALGORITHMS.contains(&upper.as_str()) {
        Ok(upper)
    } else {
        Err(s3_error!(
            InvalidRequest,
            "Checksum algorithm {given:?} is unsupported; use one of CRC32, CRC32C, CRC64NVME, SHA1, SHA256"
        ))
    }
}

/// Whether a multipart upload's object checksum is FULL_OBJECT (true) or COMPOSITE (false),
/// from CreateMultipartUpload's algorithm and `x-amz-checksum-type`, as S3 allows them:
/// CRC64NVME only full-object, SHA1/SHA256 only composite, CRC32/CRC32C either (composite by
/// default).
///
/// # Errors
/// InvalidRequest for a type without an algorithm, an unknown type, or a pair S3 refuses.
pub(crate) fn upload_is_full_object(
    algorithm: Option<&str>,
    checksum_type: Option<&str>,
) -> S3Result<bool> {
    let Some(algorithm) = algorithm else {
        return match checksum_type {
            None => Ok(false),
            Some(_) => Err(s3_error!(
                InvalidRequest,
                "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."
            )),
        };
    };
    let full = match checksum_type {
        None => algorithm == "CRC64NVME",
        Some(ChecksumType::FULL_OBJECT) => true,
        Some(ChecksumType::COMPOSITE) => false,
        Some(other) => {
            return Err(s3_error!(
                InvalidRequest,
                "Value for x-amz-checksum-type header is invalid: {other:?} (FULL_OBJECT or COMPOSITE)"
            ));
        }
    };
    let allowed = match algorithm {
        "CRC64NVME" => full,
        "SHA1" | "SHA256" => !full,
        _ => true,
    };
    if !allowed {
        let kind = if full { "FULL_OBJECT" } else { "COMPOSITE" };
        return Err(s3_error!(
            InvalidRequest,
            "The {kind} checksum type cannot be used with the {} checksum algorithm.",
            algorithm.to_ascii_lowercase()
        ));
    }
    Ok(full)
}

/// S3's composite checksum: `algorithm` over the concatenated raw part checksums, then `-N`.
/// `None` when a part lacks a value for the algorithm.
pub(crate) fn composite(algorithm: &str, parts: &[&Checksum]) -> Option<Checksum> {
    let mut h = hasher(algorithm);
    for part in parts {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(value(part, algorithm)?)
            .ok()?;
        h.update(&raw);
    }
    let sum = value(&h.finalize(), algorithm)?.clone();
    Some(single(
        algorithm,
        format!("{sum}-{}", parts.len()),
        ChecksumType::COMPOSITE,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Algorithm, requested type, and whether the upload is full-object (Err: refused).
    type Case = (Option<&'static str>, Option<&'static str>, Result<bool, ()>);

    #[test]
    fn multipart_checksum_types_follow_the_s3_table() {
        let table: [Case; 11] = [
            (None, None, Ok(false)),
            (None, Some("FULL_OBJECT"), Err(())),
            (Some("CRC32"), None, Ok(false)),
            (Some("CRC32"), Some("FULL_OBJECT"), Ok(true)),
            (Some("CRC32C"), Some("COMPOSITE"), Ok(false)),
            (Some("CRC64NVME"), None, Ok(true)),
            (Some("CRC64NVME"), Some("COMPOSITE"), Err(())),
            (Some("SHA256"), None, Ok(false)),
            (Some("SHA256"), Some("FULL_OBJECT"), Err(())),
            (Some("SHA1"), Some("FULL_OBJECT"), Err(())),
            (Some("CRC32"), Some("PARTIAL"), Err(())),
        ];
        for (algorithm, kind, want) in table {
            let got = upload_is_full_object(algorithm, kind).map_err(|_| ());
            assert_eq!(got, want, "{algorithm:?} {kind:?}");
        }
    }

    #[test]
    fn a_composite_checksum_hashes_the_raw_part_checksums() {
        let a = single(
            "CRC32",
            compute("CRC32", b"a").unwrap_or_default(),
            "COMPOSITE",
        );
        let b = single(
            "CRC32",
            compute("CRC32", b"b").unwrap_or_default(),
            "COMPOSITE",
        );
        let mut raw = crc32fast::hash(b"a").to_be_bytes().to_vec();
        raw.extend_from_slice(&crc32fast::hash(b"b").to_be_bytes());
        let want = format!(
            "{}-2",
            base64::engine::general_purpose::STANDARD.encode(crc32fast::hash(&raw).to_be_bytes())
        );
        let got = composite("CRC32", &[&a, &b]);
        assert_eq!(got.and_then(|c| c.checksum_crc32), Some(want));
        assert_eq!(composite("SHA256", &[&a]).map(|c| c.checksum_type), None);
    }
}
