//! aws-sdk-s3 against the emulated S3 over real TCP: additional checksums as S3 keeps them —
//! a wrong value refused with BadDigest, and multipart objects whose checksum is full-object or
//! composite according to the algorithm and `x-amz-checksum-type`.

use anyhow::{Context as _, Result};
use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, ChecksumMode, ChecksumType, CompletedMultipartUpload, CompletedPart,
};
use base64::Engine as _;
use flowlog_emulator::Emulator;

mod s3_support;

use s3_support::{MODES, client, failure, mode_name};

const PART: usize = 5 * 1024 * 1024;

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn crc32(data: &[u8]) -> String {
    b64(&crc32fast::hash(data).to_be_bytes())
}

fn data() -> (Vec<u8>, Vec<u8>) {
    (vec![b'a'; PART], vec![b'b'; 100])
}

/// What a completion answered.
type Completion = Result<
    aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadOutput,
    aws_sdk_s3::error::SdkError<
        aws_sdk_s3::operation::complete_multipart_upload::CompleteMultipartUploadError,
        aws_sdk_s3::config::http::HttpResponse,
    >,
>;

/// Uploads two parts under `algorithm` (and `kind`), then completes with `whole` claimed.
async fn multipart(
    s3: &Client,
    key: &str,
    algorithm: ChecksumAlgorithm,
    kind: Option<ChecksumType>,
    whole: Option<String>,
) -> Result<Completion> {
    let upload = s3
        .create_multipart_upload()
        .bucket("bkt")
        .key(key)
        .checksum_algorithm(algorithm.clone())
        .set_checksum_type(kind.clone())
        .send()
        .await?;
    let id = upload.upload_id().context("upload id")?;
    let (a, b) = data();
    let mut done = CompletedMultipartUpload::builder();
    for (n, part) in [(1, a), (2, b)] {
        let out = s3
            .upload_part()
            .bucket("bkt")
            .key(key)
            .upload_id(id)
            .part_number(n)
            .checksum_algorithm(algorithm.clone())
            .body(ByteStream::from(part))
            .send()
            .await?;
        done = done.parts(
            CompletedPart::builder()
                .part_number(n)
                .set_e_tag(out.e_tag().map(str::to_owned))
                .set_checksum_crc32(out.checksum_crc32().map(str::to_owned))
                .set_checksum_crc32_c(out.checksum_crc32_c().map(str::to_owned))
                .set_checksum_sha256(out.checksum_sha256().map(str::to_owned))
                .set_checksum_crc64_nvme(out.checksum_crc64_nvme().map(str::to_owned))
                .build(),
        );
    }
    Ok(s3
        .complete_multipart_upload()
        .bucket("bkt")
        .key(key)
        .upload_id(id)
        .set_checksum_crc32(whole)
        .set_checksum_type(kind)
        .multipart_upload(done.build())
        .send()
        .await)
}

#[tokio::test]
async fn a_wrong_sha256_is_refused_with_bad_digest_in_both_checksum_modes() -> Result<()> {
    let emulator = Emulator::start().await?;
    for mode in &MODES {
        let s3 = client(&emulator, mode);
        let bucket = format!("sha-{}", mode_name(mode));
        s3.create_bucket().bucket(&bucket).send().await?;
        let right = b64(&<sha2::Sha256 as sha2::Digest>::digest(b"payload"));
        let wrong = b64(&[0u8; 32]);

        let ok = s3
            .put_object()
            .bucket(&bucket)
            .key("k")
            .checksum_sha256(&right)
            .body(ByteStream::from_static(b"payload"))
            .send()
            .await?;
        let bad = s3
            .put_object()
            .bucket(&bucket)
            .key("k")
            .checksum_sha256(&wrong)
            .body(ByteStream::from_static(b"payload"))
            .send()
            .await;
        let garbage = s3
            .put_object()
            .bucket(&bucket)
            .key("k")
            .checksum_sha256("bad")
            .body(ByteStream::from_static(b"payload"))
            .send()
            .await;
        let file = tempfile::NamedTempFile::new()?;
        std::fs::write(file.path(), b"payload")?;
        let streamed = s3
            .put_object()
            .bucket(&bucket)
            .key("k")
            .checksum_sha256(&wrong)
            .body(ByteStream::from_path(file.path()).await?)
            .send()
            .await;
        let head = s3
            .head_object()
            .bucket(&bucket)
            .key("k")
            .checksum_mode(ChecksumMode::Enabled)
            .send()
            .await?;

        assert_eq!(ok.checksum_sha256(), Some(right.as_str()), "mode {mode:?}");
        assert_eq!(ok.checksum_type(), Some(&ChecksumType::FullObject));
        assert_eq!(
            failure(&bad),
            (Some(400), Some("BadDigest".to_owned())),
            "mode {mode:?}"
        );
        assert_eq!(
            failure(&garbage),
            (Some(400), Some("BadDigest".to_owned())),
            "mode {mode:?}"
        );
        assert_eq!(
            failure(&streamed),
            (Some(400), Some("BadDigest".to_owned())),
            "mode {mode:?}, streamed body"
        );
        assert_eq!(
            head.checksum_sha256(),
            Some(right.as_str()),
            "the good write stayed"
        );
    }
    Ok(())
}

#[tokio::test]
async fn crc32_multipart_objects_are_composite_by_default_and_full_object_on_request() -> Result<()>
{
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;
    let (a, b) = data();
    let whole = [a.clone(), b.clone()].concat();
    let mut raw = crc32fast::hash(&a).to_be_bytes().to_vec();
    raw.extend_from_slice(&crc32fast::hash(&b).to_be_bytes());

    let composite = multipart(&s3, "composite", ChecksumAlgorithm::Crc32, None, None).await??;
    let full = multipart(
        &s3,
        "full",
        ChecksumAlgorithm::Crc32,
        Some(ChecksumType::FullObject),
        Some(crc32(&whole)),
    )
    .await??;
    let wrong = multipart(
        &s3,
        "wrong",
        ChecksumAlgorithm::Crc32,
        Some(ChecksumType::FullObject),
        Some(crc32(b"something else")),
    )
    .await?;
    // The SDK validates a full-object checksum against the body it reads.
    let read = s3
        .get_object()
        .bucket("bkt")
        .key("full")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await?;
    let read_type = read.checksum_type().cloned();
    let read_body = read.body.collect().await?.to_vec();
    let head = s3
        .head_object()
        .bucket("bkt")
        .key("composite")
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await?;
    let part = s3
        .get_object()
        .bucket("bkt")
        .key("composite")
        .part_number(2)
        .checksum_mode(ChecksumMode::Enabled)
        .send()
        .await?;

    let want_composite = format!("{}-2", crc32(&raw));
    assert_eq!(composite.checksum_crc32(), Some(want_composite.as_str()));
    assert_eq!(composite.checksum_type(), Some(&ChecksumType::Composite));
    assert_eq!(full.checksum_crc32(), Some(crc32(&whole).as_str()));
    assert_eq!(full.checksum_type(), Some(&ChecksumType::FullObject));
    assert_eq!(failure(&wrong), (Some(400), Some("BadDigest".to_owned())));
    assert_eq!(read_type, Some(ChecksumType::FullObject));
    assert!(read_body == whole, "validated full read");
    assert_eq!(head.checksum_crc32(), Some(want_composite.as_str()));
    assert_eq!(head.checksum_type(), Some(&ChecksumType::Composite));
    assert_eq!(
        part.checksum_crc32(),
        Some(crc32(&b).as_str()),
        "a part read carries that part's checksum"
    );
    assert_eq!(part.body.collect().await?.to_vec(), b);
    Ok(())
}

#[tokio::test]
async fn each_algorithm_allows_only_the_checksum_types_s3_allows() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    s3.create_bucket().bucket("bkt").send().await?;
    let (a, b) = data();
    let whole = [a, b].concat();

    let nvme = multipart(&s3, "nvme", ChecksumAlgorithm::Crc64Nvme, None, None).await??;
    let single = s3
        .put_object()
        .bucket("bkt")
        .key("nvme-single")
        .checksum_algorithm(ChecksumAlgorithm::Crc64Nvme)
        .body(ByteStream::from(whole))
        .send()
        .await?;
    let sha_composite = multipart(&s3, "sha", ChecksumAlgorithm::Sha256, None, None).await??;
    let refused = [
        (ChecksumAlgorithm::Sha256, ChecksumType::FullObject),
        (ChecksumAlgorithm::Sha1, ChecksumType::FullObject),
        (ChecksumAlgorithm::Crc64Nvme, ChecksumType::Composite),
    ];
    let mut codes = Vec::new();
    for (algorithm, kind) in refused {
        let r = s3
            .create_multipart_upload()
            .bucket("bkt")
            .key("x")
            .checksum_algorithm(algorithm)
            .checksum_type(kind)
            .send()
            .await;
        codes.push(failure(&r));
    }
    let crc32c = multipart(&s3, "crc32c", ChecksumAlgorithm::Crc32C, None, None)
        .await?
        .map(|_| ());
    let upload = s3
        .create_multipart_upload()
        .bucket("bkt")
        .key("m")
        .checksum_algorithm(ChecksumAlgorithm::Crc32)
        .send()
        .await?;
    let id = upload.upload_id().context("id")?;
    let part = s3
        .upload_part()
        .bucket("bkt")
        .key("m")
        .upload_id(id)
        .part_number(1)
        .body(ByteStream::from_static(b"x"))
        .send()
        .await?;
    let wrong_type = s3
        .complete_multipart_upload()
        .bucket("bkt")
        .key("m")
        .upload_id(id)
        .checksum_type(ChecksumType::FullObject)
        .multipart_upload(
            CompletedMultipartUpload::builder()
                .parts(
                    CompletedPart::builder()
                        .part_number(1)
                        .set_e_tag(part.e_tag().map(str::to_owned))
                        .build(),
                )
                .build(),
        )
        .send()
        .await;

    assert_eq!(nvme.checksum_type(), Some(&ChecksumType::FullObject));
    assert_eq!(
        nvme.checksum_crc64_nvme(),
        single.checksum_crc64_nvme(),
        "full-object CRC64NVME is the whole body's"
    );
    assert_eq!(
        sha_composite.checksum_type(),
        Some(&ChecksumType::Composite)
    );
    assert!(
        sha_composite
            .checksum_sha256()
            .is_some_and(|c| c.ends_with("-2"))
    );
    for code in codes {
        assert_eq!(code, (Some(400), Some("InvalidRequest".to_owned())));
    }
    assert!(crc32c.is_ok(), "CRC32C composite is fine: {crc32c:?}");
    assert_eq!(
        failure(&wrong_type),
        (Some(400), Some("InvalidRequest".to_owned()))
    );
    Ok(())
}
