//! Bad input: each is a clear error or a counted skip, never a panic.

mod common;

use common::{fixture, gzip, parse_bytes, read_fixture};
use flowlog_forwarder::{ConfigError, LogTypeConfig, UnparsableReason};
use rand::{RngCore as _, SeedableRng as _};

fn config_error(path: &str) -> anyhow::Result<ConfigError> {
    match LogTypeConfig::from_file(&fixture(path)) {
        Ok(_) => anyhow::bail!("{path} was accepted"),
        Err(e) => Ok(e),
    }
}

#[test]
fn bad_configs_name_the_key_and_the_fix_without_echoing_the_api_key() -> anyhow::Result<()> {
    let cases = [
        ("bad/bad-base64.txt", "base64"),
        ("bad/bad-json.b64", "JSON"),
        ("bad/bad-regex.json", "`regex`"),
        ("bad/unknown-dateformat.json", "`dateFormat`"),
        ("bad/missing-apikey.json", "`apiKey`"),
        ("bad/apikey-not-a-string.json", "`apiKey`"),
    ];
    let mut messages = String::new();
    for (path, needle) in cases {
        let message = config_error(path)?.to_string();
        assert!(message.contains(needle), "{path}: {message}");
        assert!(
            message.contains("fix") || message.contains("use "),
            "{path} gives no fix: {message}"
        );
        assert!(
            !message.contains("ab12cd34") && !message.contains("1234567890"),
            "{path} leaks: {message}"
        );
        messages.push_str(&format!("{path}: {message}\n"));
    }
    insta::assert_snapshot!("bad-config-messages", messages);
    Ok(())
}

#[test]
fn look_around_in_a_regex_is_rejected_with_the_construct_named() {
    let json = r#"{"apiKey":"k","logType":"t","uploadDomain":"h","regex":"(?P<a>x)(?=y)"}"#;
    let message = LogTypeConfig::from_json_bytes(json.as_bytes())
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(message.contains("look-ahead"), "{message}");
}

#[test]
fn an_upload_domain_given_as_a_url_is_rejected() {
    let json = r#"{"apiKey":"k","logType":"t","uploadDomain":"https://logc.site24x7.com/upload"}"#;
    let message = LogTypeConfig::from_json_bytes(json.as_bytes())
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(message.contains("uploadDomain"), "{message}");
}

#[test]
fn a_truncated_gzip_object_reports_an_error_after_counting_what_it_read() -> anyhow::Result<()> {
    // Arrange
    let plain = read_fixture("samples/custom-v3-tcp-flags.log")?;
    let compressed = gzip(&plain)?;
    let truncated = &compressed[..compressed.len() / 2];
    // Act
    let (_, summary) = parse_bytes(&LogTypeConfig::builtin_vpc(), truncated)?;
    // Assert
    let error = summary
        .read_error
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    assert!(error.starts_with("gunzip failed"), "{summary}");
    assert!(summary.accounting.is_balanced());
    Ok(())
}

#[test]
fn random_bytes_are_counted_as_unparsable_lines() -> anyhow::Result<()> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for _ in 0..20 {
        let mut bytes = vec![0u8; 4096];
        rng.fill_bytes(&mut bytes);
        let (out, summary) = parse_bytes(&LogTypeConfig::builtin_vpc(), &bytes)?;
        assert!(out.is_empty(), "random bytes gave records: {out}");
        assert!(summary.accounting.is_balanced(), "{summary}");
        assert_eq!(
            summary.accounting.unparsable, summary.accounting.lines,
            "{summary}"
        );
    }
    Ok(())
}

#[test]
fn random_bytes_behind_gzip_magic_are_a_read_error() -> anyhow::Result<()> {
    let mut bytes = vec![0x1f, 0x8b];
    bytes.extend((0..1000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    let (_, summary) = parse_bytes(&LogTypeConfig::builtin_vpc(), &bytes)?;
    assert!(summary.read_error.is_some(), "{summary}");
    Ok(())
}

#[test]
fn invalid_utf8_lines_are_counted_and_the_others_still_parse() -> anyhow::Result<()> {
    let mut input = read_fixture("samples/default-v2.log")?;
    input.extend_from_slice(b"2 123456789010 eni-1 \xff\xfe - - - - - - 1 2 - NODATA\n");
    let (out, summary) = parse_bytes(&LogTypeConfig::builtin_vpc(), &input)?;
    assert_eq!(out.lines().count(), 7);
    assert_eq!(
        summary.accounting.first_unparsable[0].reason,
        UnparsableReason::InvalidUtf8
    );
    assert_eq!(summary.accounting.first_unparsable[0].line, 8);
    Ok(())
}

#[test]
fn too_few_and_too_many_fields_are_unparsable_with_their_line_numbers() -> anyhow::Result<()> {
    for (path, found) in [
        ("bad/too-few-fields.log", 13),
        ("bad/too-many-fields.log", 15),
    ] {
        let (out, summary) = parse_bytes(&LogTypeConfig::builtin_vpc(), &read_fixture(path)?)?;
        assert_eq!(out.lines().count(), 1, "{path}");
        let first = &summary.accounting.first_unparsable[0];
        let expected_line = if found == 13 { 2 } else { 1 };
        assert_eq!(first.line, expected_line, "{path}");
        assert_eq!(
            first.reason,
            UnparsableReason::FieldCount {
                expected: 14,
                found
            },
            "{path}"
        );
    }
    Ok(())
}

#[test]
fn an_empty_file_and_a_header_only_file_give_no_records_and_no_error() -> anyhow::Result<()> {
    for (path, lines, header) in [("bad/empty.log", 0, 0), ("bad/header-only.log", 1, 1)] {
        let (out, summary) = parse_bytes(&LogTypeConfig::builtin_vpc(), &read_fixture(path)?)?;
        assert!(out.is_empty(), "{path}");
        assert_eq!(
            (summary.accounting.lines, summary.accounting.header),
            (lines, header),
            "{path}"
        );
        assert!(summary.is_clean(), "{path}: {summary}");
        assert_eq!(summary.batches, 0, "{path}");
    }
    Ok(())
}

#[test]
fn a_ten_megabyte_line_is_skipped_and_counted_without_stopping_the_object() -> anyhow::Result<()> {
    let mut input = vec![b'x'; 10 * 1024 * 1024];
    input.push(b'\n');
    input.extend(read_fixture("samples/default-v2.log")?);
    let (out, summary) = parse_bytes(&LogTypeConfig::builtin_vpc(), &input)?;
    assert_eq!(out.lines().count(), 7);
    assert!(matches!(
        summary.accounting.first_unparsable[0].reason,
        UnparsableReason::LineTooLong {
            bytes: 10_485_760,
            ..
        }
    ));
    Ok(())
}

#[test]
fn a_bad_date_is_an_unparsable_line_not_a_wrong_timestamp() -> anyhow::Result<()> {
    let line = b"2 123456789010 eni-1 1.1.1.1 2.2.2.2 1 2 6 1 1 not-a-time 1418530070 ACCEPT OK\n";
    let (out, summary) = parse_bytes(&LogTypeConfig::builtin_vpc(), line)?;
    assert!(out.is_empty());
    assert_eq!(
        summary.accounting.first_unparsable[0].reason,
        UnparsableReason::BadTimestamp
    );
    Ok(())
}

#[test]
fn a_byte_order_mark_before_the_header_does_not_hide_it() -> anyhow::Result<()> {
    let mut input = b"\xEF\xBB\xBF".to_vec();
    input.extend(read_fixture("samples/custom-v5.log")?);
    let (out, summary) = parse_bytes(&LogTypeConfig::builtin_vpc(), &input)?;
    assert_eq!(
        (summary.accounting.header, out.lines().count()),
        (1, 2),
        "{summary}"
    );
    Ok(())
}
