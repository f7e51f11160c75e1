//! Hostile `logTypeConfig`s and records: every one is refused with the key and the limit, or
//! handled the way Site24x7 does, in bounded time and memory, never with duplicate JSON keys.

mod common;

use std::io::Write as _;

use common::{DEFAULT_HEADER, parse_bytes};
use flowlog_forwarder::{ConfigError, LogTypeConfig, UnparsableReason};

const BASE: &str = r#""apiKey":"ab12cd34","logType":"vpc","uploadDomain":"logc.site24x7.com""#;

fn config(extra: &str) -> Result<LogTypeConfig, ConfigError> {
    LogTypeConfig::from_json_bytes(format!("{{{BASE}{extra}}}").as_bytes())
}

fn refused(extra: &str) -> String {
    match config(extra) {
        Ok(_) => panic!("accepted: {}", &extra[..extra.len().min(200)]),
        Err(e) => e.to_string(),
    }
}

fn config_file(bytes: &[u8]) -> anyhow::Result<tempfile::NamedTempFile> {
    let mut file = tempfile::NamedTempFile::new()?;
    file.write_all(bytes)?;
    Ok(file)
}

#[test]
fn a_regex_with_more_named_groups_than_the_limit_is_refused_naming_the_key_and_the_limit() {
    let groups: String = (0..1000).map(|i| format!(r"(?P<f{i}>\S+)\s")).collect();
    let json = serde_json::to_string(&groups).unwrap_or_default();

    let message = refused(&format!(r#","regex":{json}"#));

    assert!(message.contains("`regex`"), "{message}");
    assert!(message.contains("1000 capture groups"), "{message}");
    assert!(message.contains("64"), "{message}");
    assert!(message.len() < 1024, "{} bytes", message.len());
}

#[test]
fn the_group_limit_holds_for_every_regex_key() {
    let groups: String = (0..65).map(|i| format!(r"(?P<g{i}>a)")).collect();
    let json = serde_json::to_string(&groups).unwrap_or_default();
    for (key, extra) in [
        ("`dateRegex`", format!(r#","dateRegex":{json}"#)),
        (
            "`derivedConfig.dstaddr`",
            format!(r#","derivedConfig":{{"dstaddr":[{json}]}}"#),
        ),
        (
            "`maskingConfig.srcaddr.regex`",
            format!(r#","maskingConfig":{{"srcaddr":{{"regex":{json},"string":"x"}}}}"#),
        ),
    ] {
        let message = refused(&extra);
        assert!(message.contains(key), "{key}: {message}");
        assert!(message.contains("65 capture groups"), "{key}: {message}");
    }
}

#[test]
fn the_largest_flow_log_regex_fits_the_group_limit() {
    let groups: String = (0..64).map(|i| format!(r"(?P<f{i}>\S+)\s+")).collect();
    let json = serde_json::to_string(&groups).unwrap_or_default();
    assert!(config(&format!(r#","regex":{json}"#)).is_ok());
}

#[test]
fn a_regex_that_compiles_too_big_is_refused_naming_the_size_limit() {
    let message = refused(r#","regex":"(?P<a>\\w{2000}){50}""#);

    assert!(message.contains("`regex`"), "{message}");
    assert!(message.contains("1 MiB"), "{message}");
    assert!(message.len() < 1024, "{} bytes", message.len());
}

#[test]
fn a_regex_syntax_error_does_not_echo_a_huge_pattern() {
    let pattern = format!("(?P<a>{})(", "x".repeat(1 << 19));

    let message = refused(&format!(r#","regex":"{pattern}""#));

    assert!(message.contains("`regex`"), "{message}");
    assert!(message.len() < 4096, "{} bytes", message.len());
}

#[test]
fn a_config_file_that_is_json_but_not_an_object_says_so() -> anyhow::Result<()> {
    for (text, found) in [
        (&b"[1, 2]"[..], "an array"),
        (b"\"x\"", "a string"),
        (b"  42\n", "a number"),
        (b"null", "null"),
        (b"\xEF\xBB\xBF[]", "an array"),
    ] {
        let file = config_file(text)?;

        let message = LogTypeConfig::from_file(file.path())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();

        assert!(
            message.contains("JSON but not an object"),
            "{text:?}: {message}"
        );
        assert!(message.contains(found), "{text:?}: {message}");
        assert!(!message.contains("base64"), "{text:?}: {message}");
    }
    Ok(())
}

#[test]
fn a_config_file_with_a_byte_order_mark_loads() -> anyhow::Result<()> {
    let json = format!("{{{BASE}}}");
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend_from_slice(json.as_bytes());
    let file = config_file(&bom)?;
    assert_eq!(LogTypeConfig::from_file(file.path())?.log_type(), "vpc");

    let encoded = flowlog_forwarder::config::encode_env_value(&String::from_utf8(bom)?);
    assert_eq!(LogTypeConfig::from_env_value(&encoded)?.log_type(), "vpc");
    Ok(())
}

#[test]
fn a_config_over_one_mebibyte_is_refused_naming_the_limit() -> anyhow::Result<()> {
    let mut padded = format!("{{{BASE},\"pad\":\"").into_bytes();
    padded.resize(2 * 1024 * 1024, b'x');
    padded.extend_from_slice(b"\"}");
    let file = config_file(&padded)?;

    let from_file = LogTypeConfig::from_file(file.path())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    let from_json = LogTypeConfig::from_json_bytes(&padded)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    let encoded = flowlog_forwarder::config::encode_env_value(&String::from_utf8(padded)?);
    let from_env = LogTypeConfig::from_env_value(&encoded)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();

    for message in [from_file, from_json, from_env] {
        assert!(message.contains("1 MiB"), "{message}");
        assert!(message.contains("larger than"), "{message}");
    }
    Ok(())
}

#[test]
fn an_upload_domain_must_be_a_host_with_an_optional_port() {
    for domain in [
        "host@other.example",
        "host?x=",
        "host#frag",
        "user:pass@host",
        "host:",
        "host:http",
        "host:99999",
        ":443",
        "host..example",
        ".example",
        "host!x",
    ] {
        let json = format!(r#"{{"apiKey":"k","logType":"t","uploadDomain":"{domain}"}}"#);
        let message = LogTypeConfig::from_json_bytes(json.as_bytes())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(message.contains("`uploadDomain`"), "{domain}: {message}");
        assert!(message.contains("host"), "{domain}: {message}");
    }
    for domain in [
        "logc.site24x7.com",
        "logc.site24x7.com:443",
        "127.0.0.1:8080",
        "localhost",
        "[::1]:8080",
        "LOGC.Site24x7.EU",
    ] {
        let json = format!(r#"{{"apiKey":"k","logType":"t","uploadDomain":"{domain}"}}"#);
        let config = LogTypeConfig::from_json_bytes(json.as_bytes());
        assert!(config.is_ok(), "{domain}: {:?}", config.err());
    }
}

#[test]
fn a_negative_unix_time_is_an_unparsable_line() -> anyhow::Result<()> {
    let input = format!(
        "{DEFAULT_HEADER}\n2 123456789010 eni-1 1.1.1.1 2.2.2.2 1 2 6 1 1 -5 1418530070 ACCEPT OK\n\
         2 123456789010 eni-1 1.1.1.1 2.2.2.2 1 2 6 1 1 1418530010 1418530070 ACCEPT OK\n"
    );

    let (out, summary) = parse_bytes(&LogTypeConfig::builtin_vpc(), input.as_bytes())?;

    assert_eq!(out.lines().count(), 1, "{out}");
    assert_eq!(summary.accounting.unparsable, 1, "{summary}");
    assert_eq!(
        summary.accounting.first_unparsable[0].reason,
        UnparsableReason::BadTimestamp
    );
    Ok(())
}

/// Counts `"name":` at the top level of one NDJSON record.
fn key_count(line: &str, name: &str) -> usize {
    line.matches(&format!("\"{name}\":")).count()
}

#[test]
fn derived_and_key_fields_named_like_existing_fields_replace_them_once() -> anyhow::Result<()> {
    // derivedConfig adds `dstaddr` (already a field), `dst_net` twice (two rules) and
    // `s247agentuid`; configTypes sets `srcport` (a field) and `s247agentuid` (the bucket's).
    let config = config(
        r#","regex":"^(?P<version>\\S+)\\s+(?P<account_id>\\S+)\\s+(?P<interface_id>\\S+)\\s+(?P<srcaddr>\\S+)\\s+(?P<dstaddr>\\S+)\\s+(?P<srcport>\\S+)\\s+(?P<dstport>\\S+)\\s+(?P<protocol>\\S+)\\s+(?P<packets>\\S+)\\s+(?P<bytes>\\S+)\\s+(?P<start>\\S+)\\s+(?P<end>\\S+)\\s+(?P<action>\\S+)\\s+(?P<log_status>\\S+)\\s*$",
        "dateField":"start","dateFormat":"unix",
        "derivedConfig":{"srcaddr":["^(?P<dstaddr>\\d+)\\.(?P<dst_net>\\d+)"],
                         "interface_id":["^eni-(?P<dst_net>\\w+)$","^(?P<s247agentuid>.*)$"]},
        "configTypes":{"srcport":"@filepath:0","s247agentuid":"@filepath:1"}"#,
    )?;
    let input = format!(
        "{DEFAULT_HEADER}\n2 123456789010 eni-abc 10.20.30.40 172.31.16.21 49761 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n"
    );

    let (out, summary) = parse_bytes(&config, input.as_bytes())?;

    assert_eq!(summary.accounting.unparsable, 0, "{summary}");
    let line = out.lines().next().unwrap_or_default();
    for name in [
        "dstaddr",
        "dst_net",
        "srcport",
        "s247agentuid",
        "_zl_timestamp",
        "srcaddr",
    ] {
        assert_eq!(key_count(line, name), 1, "{name} in {line}");
    }
    let record: serde_json::Value = serde_json::from_str(line)?;
    assert_eq!(
        record["dstaddr"], "10",
        "derived replaces the field: {line}"
    );
    // Rules run in field order (interface_id, then srcaddr): the later match wins.
    assert_eq!(record["dst_net"], "20", "the later rule wins: {line}");
    assert_eq!(record["srcport"], "AWSLogs", "configTypes replaces: {line}");
    assert_eq!(record["s247agentuid"], "my-flow-logs", "{line}");
    Ok(())
}

#[test]
fn a_derived_field_replaces_a_field_only_on_lines_where_it_matches() -> anyhow::Result<()> {
    let config = config(
        r#","dateField":"start","dateFormat":"unix",
        "derivedConfig":{"srcaddr":["^10\\.(?P<dstaddr>\\d+)"]}"#,
    )?;
    let input = format!(
        "{DEFAULT_HEADER}\n2 1 eni-1 10.20.30.40 172.31.16.21 1 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n\
         2 1 eni-1 192.168.0.1 172.31.16.21 1 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n"
    );

    let (out, _) = parse_bytes(&config, input.as_bytes())?;

    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    for line in &lines {
        assert_eq!(key_count(line, "dstaddr"), 1, "{line}");
    }
    let first: serde_json::Value = serde_json::from_str(lines[0])?;
    let second: serde_json::Value = serde_json::from_str(lines[1])?;
    assert_eq!(first["dstaddr"], "20");
    assert_eq!(second["dstaddr"], "172.31.16.21");
    Ok(())
}
