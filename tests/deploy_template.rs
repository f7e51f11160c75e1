//! The SAM template's trigger filters let every flow-log object through: text (`.log.gz`) and
//! Parquet (`.log.parquet`), plain and Hive-compatible keys.

/// The `Default:` of parameter `name` in deploy/template.yaml.
fn default_of(template: &str, name: &str) -> Option<String> {
    let block = template.split(&format!("\n  {name}:\n")).nth(1)?;
    let line = block
        .lines()
        .take_while(|l| l.starts_with("    "))
        .find_map(|l| {
            l.trim()
                .strip_prefix("Default:")
                .map(|v| v.trim().trim_matches('"').to_owned())
        })?;
    Some(line)
}

#[test]
fn the_default_trigger_filters_pass_text_parquet_and_hive_keys() -> anyhow::Result<()> {
    let template =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/deploy/template.yaml"))?;
    let prefix = default_of(&template, "TriggerPrefix").unwrap_or_default();
    let suffix = default_of(&template, "TriggerSuffix").unwrap_or_else(|| "missing".into());
    for key in [
        "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/25/123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20261125T0605Z_1a2b3c4d.log.gz",
        "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/11/25/06/123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20261125T0605Z_1a2b3c4d.log.parquet",
        "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=11/day=25/123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20261125T0605Z_1a2b3c4d.log.parquet",
    ] {
        assert!(key.starts_with(&prefix), "prefix {prefix:?} drops {key}");
        assert!(key.ends_with(&suffix), "suffix {suffix:?} drops {key}");
    }
    Ok(())
}
