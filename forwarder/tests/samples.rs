//! Every AWS sample, plain and gzip, with and without a header: `parse` output snapshots.

mod common;

use common::{DEFAULT_HEADER, gzip, read_fixture, render};
use flowlog_forwarder::LogTypeConfig;

const SAMPLES: [&str; 5] = [
    "default-v2",
    "custom-v3-tcp-flags",
    "custom-v3-transit-path",
    "custom-v5",
    "nat-custom",
];

#[test]
fn every_sample_parses_the_same_as_plain_text_and_as_gzip() -> anyhow::Result<()> {
    let config = LogTypeConfig::builtin_vpc();
    for name in SAMPLES {
        // Arrange
        let plain = read_fixture(&format!("samples/{name}.log"))?;
        // Act
        let from_plain = render(&config, &plain)?;
        let from_gzip = render(&config, &gzip(&plain)?)?;
        // Assert
        insta::assert_snapshot!(name, from_plain);
        assert_eq!(from_gzip, from_plain, "{name}: gzip and plain differ");
    }
    Ok(())
}

/// Transit-gateway flow logs: the default (v6) format and a custom one.
const TRANSIT_GATEWAY_SAMPLES: [&str; 2] = ["tgw-default", "tgw-custom"];

#[test]
fn transit_gateway_samples_give_one_record_per_line_with_every_field() -> anyhow::Result<()> {
    let config = LogTypeConfig::builtin_vpc();
    for name in TRANSIT_GATEWAY_SAMPLES {
        // Arrange
        let plain = read_fixture(&format!("samples/{name}.log"))?;
        let lines = plain
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .count();
        // Act
        let (out, summary) = common::parse_bytes(&config, &gzip(&plain)?)?;
        // Assert
        assert!(summary.is_clean(), "{name}: {summary}");
        assert_eq!(summary.accounting.records as usize, lines - 1, "{name}");
        let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap_or("{}"))?;
        assert!(first.get("action").is_none(), "{name}: no action field");
        assert_eq!(first["version"], "6", "{name}");
        insta::assert_snapshot!(name, render(&config, &plain)?);
    }
    Ok(())
}

#[test]
fn every_sample_parses_with_the_header_toggled() -> anyhow::Result<()> {
    let config = LogTypeConfig::builtin_vpc();
    for name in SAMPLES {
        let plain = String::from_utf8(read_fixture(&format!("samples/{name}.log"))?)?;
        let toggled = if plain.starts_with("version ") || plain.starts_with("instance-id ") {
            plain
                .split_once('\n')
                .map(|(_, rest)| rest.to_owned())
                .unwrap_or_default()
        } else {
            format!("{DEFAULT_HEADER}\n{plain}")
        };
        let output = render(&config, toggled.as_bytes())?;
        insta::assert_snapshot!(format!("{name}-header-toggled"), output);
        assert_eq!(
            render(&config, &gzip(toggled.as_bytes())?)?,
            output,
            "{name}"
        );
    }
    Ok(())
}

#[test]
fn a_multi_member_gzip_object_gives_every_line() -> anyhow::Result<()> {
    // Arrange: the header and first lines in one member, the rest in a second member.
    let config = LogTypeConfig::builtin_vpc();
    let plain = read_fixture("samples/custom-v3-tcp-flags.log")?;
    let cut = plain
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(3)
        .map_or(0, |(i, _)| i + 1);
    let mut two_members = gzip(&plain[..cut])?;
    two_members.extend(gzip(&plain[cut..])?);
    // Act
    let output = render(&config, &two_members)?;
    // Assert
    assert_eq!(output, render(&config, &plain)?);
    assert!(output.contains("records=8"), "{output}");
    Ok(())
}

#[test]
fn the_double_space_line_keeps_every_field_in_place() -> anyhow::Result<()> {
    let config = LogTypeConfig::builtin_vpc();
    let plain = read_fixture("samples/custom-v3-tcp-flags.log")?;
    let output = render(&config, &plain)?;
    let last = output.lines().nth(7).unwrap_or_default();
    let record: serde_json::Value = serde_json::from_str(last)?;
    assert_eq!(record["dstport"], "43638");
    assert_eq!(record["pkt_srcaddr"], "10.0.0.62");
    assert_eq!(record["tcp_flags"], "19");
    Ok(())
}

#[test]
fn unknown_fields_in_a_header_are_accepted_as_strings() -> anyhow::Result<()> {
    // Arrange: v9+ fields this forwarder's table does not know.
    let input = "version srcaddr encryption-status resource-id start\n9 10.0.0.1 1 eni-1235b8ca123456789 1700000000\n";
    // Act
    let (out, summary) = common::parse_bytes(&LogTypeConfig::builtin_vpc(), input.as_bytes())?;
    // Assert
    let record: serde_json::Value = serde_json::from_str(out.trim_end())?;
    assert_eq!(record["encryption_status"], "1");
    assert_eq!(record["resource_id"], "eni-1235b8ca123456789");
    assert_eq!(record["_zl_timestamp"], 1_700_000_000_000i64);
    assert!(summary.is_clean(), "{summary}");
    Ok(())
}
