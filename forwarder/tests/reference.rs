//! The records equal those of Site24x7's `s3-sender.py` for the default format, apart from the
//! one documented difference: `_zl_timestamp` is a JSON number, not the string `start + "000"`.

mod common;

use common::{DEFAULT_HEADER, ctx, parse_bytes, read_fixture};
use flowlog_forwarder::LogTypeConfig;
use regex::Regex;
use serde_json::{Map, Value};

/// What the Python reference builds for one line: `groupdict()` (unmatched → `-`), then
/// `_zl_timestamp` = `start + "000"` and `s247agentuid` = bucket. `None` when it does not match.
fn reference_record(regex: &Regex, line: &str, bucket: &str) -> Option<(Vec<String>, Value)> {
    let caps = regex.captures(line)?;
    let mut keys = Vec::new();
    let mut map = Map::new();
    for name in regex.capture_names().flatten() {
        let value = caps.name(name).map_or("-", |m| m.as_str());
        keys.push(name.to_owned());
        map.insert(name.to_owned(), Value::String(value.to_owned()));
    }
    let start = map.get("start")?.as_str()?.to_owned();
    map.insert("_zl_timestamp".into(), Value::String(format!("{start}000")));
    map.insert("s247agentuid".into(), Value::String(bucket.to_owned()));
    keys.extend(["_zl_timestamp".to_owned(), "s247agentuid".to_owned()]);
    Some((keys, Value::Object(map)))
}

fn keys_in_order(json: &str) -> Vec<String> {
    let key = Regex::new(r#""([A-Za-z0-9_]+)":"#).expect("static regex");
    key.captures_iter(json).map(|c| c[1].to_owned()).collect()
}

#[test]
fn default_format_records_equal_the_reference_except_the_numeric_timestamp() -> anyhow::Result<()> {
    // Arrange
    let config = LogTypeConfig::from_file(&common::fixture("configs/site24x7-vpc.json"))?;
    let python_regex = Regex::new(LogTypeConfig::builtin_vpc_regex())?;
    let sample = String::from_utf8(read_fixture("samples/default-v2.log")?)?;
    for input in [sample.clone(), format!("{DEFAULT_HEADER}\n{sample}")] {
        // Act
        let (out, summary) = parse_bytes(&config, input.as_bytes())?;
        // Assert
        let data_lines: Vec<&str> = sample.lines().collect();
        let ours: Vec<&str> = out.lines().collect();
        assert_eq!(
            ours.len(),
            data_lines.len(),
            "one record per data line; {summary}"
        );
        for (line, json) in data_lines.iter().zip(ours) {
            let (keys, expected) = reference_record(&python_regex, line, &ctx().bucket)
                .ok_or_else(|| anyhow::anyhow!("reference regex does not match {line}"))?;
            let mut record: Value = serde_json::from_str(json)?;
            let ts = record["_zl_timestamp"]
                .as_i64()
                .ok_or_else(|| anyhow::anyhow!("not a number"))?;
            record["_zl_timestamp"] = Value::String(ts.to_string());
            assert_eq!(record, expected, "line {line}");
            assert_eq!(keys_in_order(json), keys, "key order for {line}");
        }
    }
    Ok(())
}

#[test]
fn the_header_line_is_never_a_record() -> anyhow::Result<()> {
    let config = LogTypeConfig::builtin_vpc();
    let sample = String::from_utf8(read_fixture("samples/default-v2.log")?)?;
    let (out, summary) = parse_bytes(&config, format!("{DEFAULT_HEADER}\n{sample}").as_bytes())?;
    assert!(!out.contains("account-id"), "{out}");
    assert_eq!(
        (summary.accounting.header, summary.accounting.records),
        (1, 7)
    );
    Ok(())
}
