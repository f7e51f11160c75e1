//! The first lines of seeded files, pinned: a default-format file, a version 5 custom file, and
//! a transit-gateway file (default format, two accounts).

mod generator_support;

use flowlog_emulator::generator::{FlowLogService, GenerateOptions, LogFormat, generate};
use generator_support::gunzip;

const V5: &str = "${version} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${start} ${end} ${type} ${packets} ${bytes} ${account-id} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${action} ${tcp-flags} ${pkt-srcaddr} ${pkt-dstaddr} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${traffic-path} ${flow-direction} ${log-status}";

fn first_lines(options: &GenerateOptions, n: usize) -> anyhow::Result<String> {
    let generated = generate(options)?;
    let first = generated
        .objects
        .first()
        .ok_or_else(|| anyhow::anyhow!("no objects"))?;
    let text = gunzip(&first.body)?;
    let lines: Vec<&str> = text.lines().take(n).collect();
    Ok(format!("{}\n{}", first.key, lines.join("\n")))
}

#[test]
fn a_seeded_default_format_file_starts_with_these_lines() -> anyhow::Result<()> {
    let options = GenerateOptions {
        duration_secs: 600,
        ..GenerateOptions::default()
    };
    insta::assert_snapshot!(first_lines(&options, 16)?);
    Ok(())
}

#[test]
fn a_seeded_version_5_custom_file_starts_with_these_lines() -> anyhow::Result<()> {
    let mut options = GenerateOptions {
        seed: 5,
        duration_secs: 600,
        ..GenerateOptions::default()
    };
    options.service.format = LogFormat::parse(V5)?;
    options.service.aggregation = 60;
    insta::assert_snapshot!(first_lines(&options, 16)?);
    Ok(())
}

#[test]
fn a_seeded_transit_gateway_file_starts_with_these_lines() -> anyhow::Result<()> {
    let options = GenerateOptions {
        seed: 6,
        duration_secs: 600,
        service: FlowLogService {
            account_ids: vec!["123456789012".into(), "210987654321".into()],
            ..FlowLogService::transit_gateway()
        },
        ..GenerateOptions::default()
    };
    insta::assert_snapshot!(first_lines(&options, 12)?);
    Ok(())
}
