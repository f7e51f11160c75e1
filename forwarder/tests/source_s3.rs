//! Reading objects from a real local S3 (moto over TCP) with the real aws-sdk-s3.

mod source_support;

use std::io::{BufRead, Read};

use flowlog_forwarder::FileFormat;
use flowlog_forwarder::source::{ReadError, RetryPolicy, SourceError, open_object};
use source_support::{Moto, gzip, put_object};

const LINES: &str = "version account-id interface-id srcaddr\n\
2 123456789010 eni-1235b8ca123456789 172.31.16.139\n\
2 123456789010 eni-1235b8ca123456789 172.31.16.21\n";

async fn read_all_lines(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> anyhow::Result<(flowlog_forwarder::source::ObjectMeta, Vec<String>)> {
    let object = open_object(client, bucket, key, &RetryPolicy::default()).await?;
    let meta = object.meta.clone();
    let reader = object.into_blocking_reader();
    let lines = tokio::task::spawn_blocking(move || reader.lines().collect::<Result<Vec<_>, _>>())
        .await??;
    Ok((meta, lines))
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_a_plain_text_object_and_reports_its_etag_size_and_date() -> anyhow::Result<()> {
    let moto = Moto::start()?;
    let client = moto.client().await?;
    put_object(
        &client,
        "logs",
        "AWSLogs/plain.log",
        LINES.as_bytes().to_vec(),
    )
    .await?;

    let (meta, lines) = read_all_lines(&client, "logs", "AWSLogs/plain.log").await?;

    assert_eq!(lines, LINES.lines().collect::<Vec<_>>());
    assert_eq!(meta.format, FileFormat::PlainText);
    assert_eq!(meta.size, Some(LINES.len() as u64));
    let etag = meta.etag.expect("moto sends an ETag");
    assert!(!etag.contains('"'), "quotes are trimmed: {etag}");
    assert!(
        etag.len() == 32 && etag.bytes().all(|b| b.is_ascii_hexdigit()),
        "{etag}"
    );
    assert!(meta.last_modified.is_some());
    assert_eq!(meta.attempts, 1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_a_gzip_object_detected_by_its_magic_bytes_not_its_key() -> anyhow::Result<()> {
    let moto = Moto::start()?;
    let client = moto.client().await?;
    put_object(&client, "logs", "no-suffix", gzip(LINES.as_bytes())).await?;

    let (meta, lines) = read_all_lines(&client, "logs", "no-suffix").await?;

    assert_eq!(meta.format, FileFormat::GzipText);
    assert_eq!(lines, LINES.lines().collect::<Vec<_>>());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_every_member_of_a_multi_member_gzip_object() -> anyhow::Result<()> {
    let moto = Moto::start()?;
    let client = moto.client().await?;
    let mut body = gzip(b"first member line 1\nfirst member line 2\n");
    body.extend(gzip(b"second member line 3\n"));
    body.extend(gzip(b"third member line 4\n"));
    put_object(&client, "logs", "multi.log.gz", body).await?;

    let (_, lines) = read_all_lines(&client, "logs", "multi.log.gz").await?;

    assert_eq!(
        lines,
        [
            "first member line 1",
            "first member line 2",
            "second member line 3",
            "third member line 4"
        ]
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_an_empty_object_as_empty_text() -> anyhow::Result<()> {
    let moto = Moto::start()?;
    let client = moto.client().await?;
    put_object(&client, "logs", "empty.log.gz", Vec::new()).await?;

    let (meta, lines) = read_all_lines(&client, "logs", "empty.log.gz").await?;

    assert_eq!(meta.format, FileFormat::PlainText);
    assert!(lines.is_empty());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn reads_a_50_mb_object_through_fixed_size_buffers() -> anyhow::Result<()> {
    // Arrange: 50 MiB+ of distinct flow-log-like lines, gzip-compressed.
    let moto = Moto::start()?;
    let client = moto.client().await?;
    let mut text = Vec::with_capacity(53 << 20);
    let mut lines = 0u64;
    while text.len() < 52 << 20 {
        text.extend_from_slice(
            format!(
                "2 123456789010 eni-{lines:017x} 10.0.{}.{} 10.1.0.1 {} 443 6 {} {} 1700000000 1700000060 ACCEPT OK\n",
                lines % 250,
                lines % 199,
                lines % 65_000,
                lines % 97,
                lines * 7,
            )
            .as_bytes(),
        );
        lines += 1;
    }
    let expected_len = text.len() as u64;
    put_object(&client, "logs", "big.log.gz", gzip(&text)).await?;
    drop(text);

    // Act: read it through the blocking reader, noting the largest chunk handed out.
    let object = open_object(&client, "logs", "big.log.gz", &RetryPolicy::default()).await?;
    let stored = object.meta.size.expect("size");
    let mut reader = object.into_blocking_reader();
    let (read, counted_lines, largest, capacity, compressed) =
        tokio::task::spawn_blocking(move || -> std::io::Result<_> {
            let (mut read, mut newlines, mut largest) = (0u64, 0u64, 0usize);
            loop {
                let chunk = reader.fill_buf()?;
                if chunk.is_empty() {
                    break;
                }
                largest = largest.max(chunk.len());
                newlines += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
                read += chunk.len() as u64;
                let n = chunk.len();
                reader.consume(n);
            }
            Ok((
                read,
                newlines,
                largest,
                reader.buffer_capacity(),
                reader.compressed_bytes(),
            ))
        })
        .await??;

    // Assert: everything arrived, and never through more than the fixed buffers.
    assert_eq!(read, expected_len);
    assert_eq!(counted_lines, lines);
    assert_eq!(compressed, stored);
    assert!(capacity <= 128 * 1024, "buffers: {capacity}");
    assert!(
        largest <= capacity,
        "a chunk of {largest} bytes exceeds the buffers"
    );
    assert!(
        expected_len > 50 * capacity as u64 * 8,
        "the object dwarfs the buffers"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn names_the_bucket_and_key_when_the_key_does_not_exist() -> anyhow::Result<()> {
    let moto = Moto::start()?;
    let client = moto.client().await?;
    put_object(&client, "logs", "present", b"x\n".to_vec()).await?;

    let err = open_object(
        &client,
        "logs",
        "year=2026/missing key.log.gz",
        &RetryPolicy::default(),
    )
    .await
    .expect_err("the key is missing");

    assert!(matches!(err, SourceError::NoSuchKey { .. }), "{err:?}");
    assert!(!err.is_retryable_later());
    insta::assert_snapshot!(err.to_string());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn names_the_bucket_when_it_does_not_exist() -> anyhow::Result<()> {
    let moto = Moto::start()?;
    let client = moto.client().await?;

    let err = open_object(
        &client,
        "no-such-bucket",
        "a/b.log",
        &RetryPolicy::default(),
    )
    .await
    .expect_err("the bucket is missing");

    assert!(matches!(err, SourceError::NoSuchBucket { .. }), "{err:?}");
    insta::assert_snapshot!(err.to_string());
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_corrupt_gzip_as_an_io_error_naming_the_object() -> anyhow::Result<()> {
    let moto = Moto::start()?;
    let client = moto.client().await?;
    let mut body = gzip(&LINES.repeat(200).into_bytes());
    let middle = body.len() / 2;
    for byte in &mut body[middle..middle + 16] {
        *byte ^= 0x5a;
    }
    put_object(&client, "logs", "corrupt.log.gz", body).await?;

    let object = open_object(&client, "logs", "corrupt.log.gz", &RetryPolicy::default()).await?;
    let mut reader = object.into_blocking_reader();
    let err = tokio::task::spawn_blocking(move || reader.read_to_end(&mut Vec::new()))
        .await?
        .expect_err("the gzip is corrupt");

    let typed = ReadError::find(&err).expect("a typed read error inside the io::Error");
    assert!(matches!(typed, ReadError::Gzip { .. }), "{typed:?}");
    let message = err.to_string();
    assert!(message.contains("s3://logs/corrupt.log.gz"), "{message}");
    assert!(message.contains("corrupt or truncated gzip"), "{message}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_truncated_gzip_as_an_io_error_naming_the_object() -> anyhow::Result<()> {
    let moto = Moto::start()?;
    let client = moto.client().await?;
    let mut body = gzip(&LINES.repeat(200).into_bytes());
    body.truncate(body.len() / 2);
    put_object(&client, "logs", "truncated.log.gz", body).await?;

    let object = open_object(&client, "logs", "truncated.log.gz", &RetryPolicy::default()).await?;
    let mut reader = object.into_blocking_reader();
    let err = tokio::task::spawn_blocking(move || reader.read_to_end(&mut Vec::new()))
        .await?
        .expect_err("the gzip is truncated");

    assert!(
        matches!(ReadError::find(&err), Some(ReadError::Gzip { .. })),
        "{err:?}"
    );
    Ok(())
}
