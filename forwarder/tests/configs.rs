//! `fixtures/configs`: decoding snapshots, and what each config does to records.

mod common;

use common::{fixture, read_fixture, render};
use flowlog_forwarder::LogTypeConfig;

#[test]
fn the_site24x7_vpc_config_decodes_from_json_and_from_unpadded_url_safe_base64()
-> anyhow::Result<()> {
    // Arrange / Act
    let from_json = LogTypeConfig::from_file(&fixture("configs/site24x7-vpc.json"))?;
    let from_b64 = LogTypeConfig::from_file(&fixture("configs/site24x7-vpc.b64"))?;
    let encoded = String::from_utf8(read_fixture("configs/site24x7-vpc.b64")?)?;
    let from_env = LogTypeConfig::from_env_value(&encoded)?;
    // Assert
    insta::assert_debug_snapshot!("site24x7-vpc-config", from_json);
    assert_eq!(format!("{from_b64:?}"), format!("{from_json:?}"));
    assert_eq!(format!("{from_env:?}"), format!("{from_json:?}"));
    assert_eq!(from_json.upload_url(), "https://logc.site24x7.com/upload");
    assert_eq!(
        from_json.api_key().expose(),
        "ab12cd34ef56ab12cd34ef56ab12cd34"
    );
    assert_eq!(from_json.log_type(), "vpc_flow_logs");
    Ok(())
}

#[test]
fn standard_padded_base64_decodes_too() -> anyhow::Result<()> {
    let json = String::from_utf8(read_fixture("configs/site24x7-vpc.json")?)?;
    let encoded = flowlog_forwarder::config::encode_env_value(&json);
    let config = LogTypeConfig::from_env_value(&encoded)?;
    assert_eq!(config.upload_domain(), "logc.site24x7.com");
    Ok(())
}

#[test]
fn debug_output_never_shows_the_api_key() -> anyhow::Result<()> {
    for name in [
        "site24x7-vpc.json",
        "transforms.json",
        "strftime-timezone.json",
    ] {
        let config = LogTypeConfig::from_file(&fixture(&format!("configs/{name}")))?;
        let debug = format!("{config:?}");
        assert!(!debug.contains("ab12cd34"), "{name} leaks the key");
        assert!(debug.contains("<redacted>"), "{name}");
    }
    Ok(())
}

#[test]
fn the_transforms_config_ignores_masks_hashes_derives_filters_and_adds_key_segments()
-> anyhow::Result<()> {
    // Arrange
    let config = LogTypeConfig::from_file(&fixture("configs/transforms.json"))?;
    let sample = read_fixture("samples/default-v2.log")?;
    // Act
    let output = render(&config, &sample)?;
    // Assert
    insta::assert_debug_snapshot!("transforms-config", config);
    insta::assert_snapshot!("transforms-default-v2", output);
    assert!(
        output.contains("filtered=4"),
        "REJECT and NODATA/SKIPDATA lines are filtered: {output}"
    );
    Ok(())
}

#[test]
fn the_strftime_config_applies_its_timezone_to_a_regex_parsed_log() -> anyhow::Result<()> {
    // Arrange
    let config = LogTypeConfig::from_file(&fixture("configs/strftime-timezone.json"))?;
    let log = read_fixture("configs/strftime-timezone.log")?;
    // Act
    let output = render(&config, &log)?;
    // Assert: 25/Nov/2026:11:30:00 at +0530 is 06:00:00Z = 1795586400000.
    insta::assert_debug_snapshot!("strftime-timezone-config", config);
    insta::assert_snapshot!("strftime-timezone-log", output);
    assert!(
        output.contains("\"_zl_timestamp\":1795586400000"),
        "{output}"
    );
    Ok(())
}

#[test]
fn log_size_is_the_line_minus_ignored_plus_rewrite_changes_plus_derived_fields()
-> anyhow::Result<()> {
    // Arrange: one accepted line through the transforms config.
    let config = LogTypeConfig::from_file(&fixture("configs/transforms.json"))?;
    let line = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK";
    // Act
    let (_, summary) = common::parse_bytes(&config, line.as_bytes())?;
    // Assert: ignored `version` (1) and `log_status` (2); srcaddr's "139" masked to "x" (-2);
    // the 17 hex digits of interface_id hashed to 64 (+47); derived dst_net "172.31" (+6).
    let expected = line.len() - 1 - 2 - 2 + 47 + 6;
    assert_eq!(summary.accounting.log_size, expected as u64, "{summary}");
    Ok(())
}
