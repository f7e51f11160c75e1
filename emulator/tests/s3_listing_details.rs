//! aws-sdk-s3 against the emulated S3 over real TCP: the listing details clients and
//! conformance suites check — `max-keys=0`, an empty delimiter, path-style URL encoding of keys
//! and common prefixes, and `allow-unordered` with a delimiter.

use anyhow::Result;
use aws_sdk_s3::Client;
use aws_sdk_s3::types::EncodingType;
use flowlog_emulator::Emulator;

mod s3_support;

use s3_support::{failure, put};

/// The keys of ceph's s3-tests `test_bucket_list*_encoding_basic`.
const ENCODING_KEYS: [&str; 4] = ["foo+1/bar", "foo/bar/xyzzy", "quux ab/thud", "asdf+b"];

async fn bucket_with(s3: &Client, bucket: &str, keys: &[&str]) -> Result<()> {
    s3.create_bucket().bucket(bucket).send().await?;
    for key in keys {
        put(s3, bucket, key, b"x").await?;
    }
    Ok(())
}

#[tokio::test]
async fn max_keys_zero_lists_nothing_and_is_not_truncated() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    bucket_with(&s3, "bkt", &["a", "b"]).await?;

    let v2 = s3
        .list_objects_v2()
        .bucket("bkt")
        .max_keys(0)
        .send()
        .await?;
    let v1 = s3.list_objects().bucket("bkt").max_keys(0).send().await?;
    let versions = s3
        .list_object_versions()
        .bucket("bkt")
        .max_keys(0)
        .send()
        .await?;

    assert_eq!((v2.contents().len(), v2.is_truncated()), (0, Some(false)));
    assert_eq!(v2.key_count(), Some(0));
    assert_eq!((v1.contents().len(), v1.is_truncated()), (0, Some(false)));
    assert_eq!(
        (versions.versions().len(), versions.is_truncated()),
        (0, Some(false))
    );
    Ok(())
}

#[tokio::test]
async fn an_empty_delimiter_groups_nothing_and_is_not_echoed() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    bucket_with(&s3, "bkt", &["a/1", "b/2"]).await?;

    let v2 = s3
        .list_objects_v2()
        .bucket("bkt")
        .delimiter("")
        .send()
        .await?;
    let v1 = s3.list_objects().bucket("bkt").delimiter("").send().await?;

    assert_eq!(v2.delimiter(), None);
    assert_eq!(v1.delimiter(), None);
    assert_eq!(v2.contents().len(), 2);
    assert!(v2.common_prefixes().is_empty());
    Ok(())
}

#[tokio::test]
async fn url_encoding_encodes_keys_and_common_prefixes_path_style() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    bucket_with(&s3, "bkt", &ENCODING_KEYS).await?;

    let v2 = s3
        .list_objects_v2()
        .bucket("bkt")
        .delimiter("/")
        .encoding_type(EncodingType::Url)
        .send()
        .await?;
    let v1 = s3
        .list_objects()
        .bucket("bkt")
        .delimiter("/")
        .encoding_type(EncodingType::Url)
        .send()
        .await?;
    let versions = s3
        .list_object_versions()
        .bucket("bkt")
        .delimiter("/")
        .encoding_type(EncodingType::Url)
        .send()
        .await?;

    let want_prefixes = [Some("foo%2B1/"), Some("foo/"), Some("quux%20ab/")];
    let v2_keys: Vec<_> = v2.contents().iter().map(|o| o.key()).collect();
    let v2_prefixes: Vec<_> = v2.common_prefixes().iter().map(|p| p.prefix()).collect();
    assert_eq!(v2.delimiter(), Some("/"));
    assert_eq!(v2_keys, [Some("asdf%2Bb")]);
    assert_eq!(v2_prefixes, want_prefixes);
    let v1_keys: Vec<_> = v1.contents().iter().map(|o| o.key()).collect();
    let v1_prefixes: Vec<_> = v1.common_prefixes().iter().map(|p| p.prefix()).collect();
    assert_eq!(v1_keys, [Some("asdf%2Bb")]);
    assert_eq!(v1_prefixes, want_prefixes);
    let version_prefixes: Vec<_> = versions
        .common_prefixes()
        .iter()
        .map(|p| p.prefix())
        .collect();
    assert_eq!(version_prefixes, want_prefixes);
    Ok(())
}

#[tokio::test]
async fn allow_unordered_with_a_delimiter_is_refused() -> Result<()> {
    let emulator = Emulator::start().await?;
    let s3 = emulator.s3_client();
    bucket_with(&s3, "bkt", &["a/1", "b"]).await?;
    let unordered = |req: &mut aws_sdk_s3::config::http::HttpRequest| {
        let uri = format!("{}&allow-unordered=true", req.uri());
        if let Err(e) = req.set_uri(uri) {
            panic!("a valid uri: {e}");
        }
    };

    let with_delimiter = s3
        .list_objects_v2()
        .bucket("bkt")
        .delimiter("/")
        .customize()
        .mutate_request(unordered)
        .send()
        .await;
    let v1_with_delimiter = s3
        .list_objects()
        .bucket("bkt")
        .delimiter("/")
        .customize()
        .mutate_request(unordered)
        .send()
        .await;
    let ordered = s3
        .list_objects_v2()
        .bucket("bkt")
        .delimiter("/")
        .customize()
        .mutate_request(|req| {
            let uri = format!("{}&allow-unordered=false", req.uri());
            if let Err(e) = req.set_uri(uri) {
                panic!("a valid uri: {e}");
            }
        })
        .send()
        .await;
    let without = s3
        .list_objects_v2()
        .bucket("bkt")
        .customize()
        .mutate_request(unordered)
        .send()
        .await?;

    assert_eq!(
        failure(&with_delimiter),
        (Some(400), Some("InvalidArgument".to_owned()))
    );
    assert_eq!(
        failure(&v1_with_delimiter),
        (Some(400), Some("InvalidArgument".to_owned()))
    );
    assert!(
        ordered.is_ok(),
        "allow-unordered=false is an ordered listing: {ordered:?}"
    );
    assert_eq!(without.contents().len(), 2);
    Ok(())
}
