//! Transit-gateway flow logs: every line keeps the version 6 invariants (checked independently),
//! the gateway and its attachments are consistent across records, drops are rare, flow logs of
//! other accounts see their own attachments, and what AWS refuses is refused with the fix.

mod generator_support;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use anyhow::ensure;
use clap::Parser;
use flowlog_emulator::generator::cli::GenerateArgs;
use flowlog_emulator::generator::{
    Filter, FlowLogService, GenerateOptions, Generated, LogFormat, ResourceType, TrafficOptions,
    generate,
};
use generator_support::{Expect, check_file, gunzip, window_of_key};

fn options(minutes: i64, accounts: &[&str]) -> GenerateOptions {
    GenerateOptions {
        seed: 17,
        duration_secs: minutes * 60,
        service: FlowLogService {
            account_ids: accounts.iter().map(|a| (*a).to_owned()).collect(),
            ..FlowLogService::transit_gateway()
        },
        traffic: TrafficOptions::default(),
        ..GenerateOptions::default()
    }
}

/// One data line as field name → token.
type Row = HashMap<String, String>;

/// Every data line of every object, by object key.
fn rows(generated: &Generated) -> anyhow::Result<Vec<(String, Vec<Row>)>> {
    let mut out = Vec::new();
    for object in &generated.objects {
        let text = gunzip(&object.body)?;
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split(' ').collect();
        let rows = lines
            .map(|l| {
                header
                    .iter()
                    .zip(l.split(' '))
                    .map(|(h, v)| ((*h).to_owned(), v.to_owned()))
                    .collect()
            })
            .collect();
        out.push((object.key.clone(), rows));
    }
    Ok(out)
}

#[test]
fn every_transit_gateway_line_keeps_the_version_6_invariants() -> anyhow::Result<()> {
    let generated = generate(&options(60, &["123456789012", "210987654321"]))?;
    ensure!(!generated.objects.is_empty(), "no objects");
    let mut lines = 0;
    for object in &generated.objects {
        let text = gunzip(&object.body)?;
        ensure!(
            text.starts_with("version resource-type account-id tgw-id tgw-attachment-id "),
            "{} header",
            object.key
        );
        let expect = Expect {
            version: 6,
            aggregation: 60,
            window_start: window_of_key(&object.key)?,
        };
        lines +=
            check_file(&text, &expect).map_err(|e| anyhow::anyhow!("{}: {e:#}", object.key))?;
    }
    ensure!(lines > 1000, "only {lines} lines");
    Ok(())
}

#[test]
fn attachments_pair_up_and_belong_to_one_gateway_per_region() -> anyhow::Result<()> {
    let owner = "123456789012";
    let generated = generate(&options(30, &[owner, "210987654321"]))?;
    let mut gateways = BTreeSet::new();
    let mut attachment_vpc: BTreeMap<String, String> = BTreeMap::new();
    let (mut ingress, mut egress) = (0u64, 0u64);
    for (key, rows) in rows(&generated)? {
        for row in rows {
            gateways.insert(row["tgw-id"].clone());
            ensure!(
                row["account-id"] == owner,
                "account-id {} in {key}",
                row["account-id"]
            );
            if row["log-status"] != "OK" {
                continue;
            }
            let (att, side) = if row["flow-direction"] == "ingress" {
                ingress += 1;
                (&row["tgw-attachment-id"], "src")
            } else {
                egress += 1;
                (&row["tgw-attachment-id"], "dst")
            };
            // An attachment always stands for the same VPC.
            let vpc = &row[&format!("tgw-{side}-vpc-id")];
            let known = attachment_vpc
                .entry(att.clone())
                .or_insert_with(|| vpc.clone());
            ensure!(known == vpc, "{att} is attached to {known} and {vpc}");
        }
    }
    ensure!(gateways.len() == 1, "gateways {gateways:?}");
    // Default estate: 2 VPCs per account, 2 accounts.
    ensure!(attachment_vpc.len() == 4, "attachments {attachment_vpc:?}");
    ensure!(
        ingress > 0 && egress > 0,
        "ingress {ingress}, egress {egress}"
    );
    Ok(())
}

#[test]
fn other_accounts_log_their_own_attachments_and_the_owner_logs_the_gateway() -> anyhow::Result<()> {
    let (owner, spoke) = ("123456789012", "210987654321");
    let generated = generate(&options(30, &[owner, spoke]))?;
    let mut seen: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (key, rows) in rows(&generated)? {
        let flow_log_account = key.split('/').nth(1).unwrap_or_default().to_owned();
        for row in rows {
            let kind = row["resource-type"].clone();
            *seen
                .entry((flow_log_account.clone(), kind.clone()))
                .or_default() += 1;
            if kind == "TransitGatewayAttachment" && row["log-status"] == "OK" {
                let side = if row["flow-direction"] == "ingress" {
                    "src"
                } else {
                    "dst"
                };
                ensure!(
                    row[&format!("tgw-{side}-vpc-account-id")] == spoke,
                    "{key} logs another account's attachment"
                );
            }
        }
    }
    let count = |a: &str, k: &str| {
        seen.get(&(a.to_owned(), k.to_owned()))
            .copied()
            .unwrap_or(0)
    };
    ensure!(count(owner, "TransitGateway") > 0, "{seen:?}");
    ensure!(count(spoke, "TransitGatewayAttachment") > 0, "{seen:?}");
    ensure!(
        count(owner, "TransitGatewayAttachment") == 0 && count(spoke, "TransitGateway") == 0,
        "{seen:?}"
    );
    // The spoke's records are a subset of the gateway's: the owner logs every attachment.
    ensure!(
        count(owner, "TransitGateway") > count(spoke, "TransitGatewayAttachment"),
        "{seen:?}"
    );
    Ok(())
}

#[test]
fn drops_are_rare_and_counted_on_ingress() -> anyhow::Result<()> {
    let mut o = options(3 * 60, &["123456789012"]);
    o.traffic.rate = 4.0;
    let generated = generate(&o)?;
    let counters = [
        "packets-lost-no-route",
        "packets-lost-blackhole",
        "packets-lost-mtu-exceeded",
        "packets-lost-ttl-expired",
    ];
    let mut with_loss: BTreeMap<&str, u64> = BTreeMap::new();
    let mut total = 0u64;
    for (_, rows) in rows(&generated)? {
        for row in rows.iter().filter(|r| r["log-status"] == "OK") {
            total += 1;
            for c in counters {
                if row[c] != "0" {
                    *with_loss.entry(c).or_default() += 1;
                }
            }
        }
    }
    let lossy: u64 = with_loss.values().sum();
    ensure!(
        counters.iter().all(|c| with_loss.contains_key(c)),
        "not every kind of drop appears: {with_loss:?} in {total} records"
    );
    ensure!(
        lossy * 100 < total,
        "{lossy} of {total} records lost packets"
    );
    Ok(())
}

#[test]
fn transit_gateway_records_count_under_no_action_in_the_manifest() -> anyhow::Result<()> {
    let generated = generate(&options(15, &["123456789012"]))?;
    let totals = &generated.manifest.totals;
    ensure!(totals.records > 0, "no records");
    ensure!(
        totals.by_action.accept == 0
            && totals.by_action.reject == 0
            && totals.by_action.none == totals.records,
        "{:?}",
        totals.by_action
    );
    let o = &generated.manifest.options;
    ensure!(
        o.resource_type == "transit-gateway" && o.version == 6 && o.format == "default",
        "{o:?}"
    );
    Ok(())
}

#[test]
fn custom_transit_gateway_formats_take_their_own_fields_only() -> anyhow::Result<()> {
    let mut o = options(10, &["123456789012"]);
    o.service.format = LogFormat::parse(
        "${tgw-attachment-id} ${srcaddr} ${dstaddr} ${packets-lost-no-route} ${log-status}",
    )?;
    let generated = generate(&o)?;
    let text = gunzip(&generated.objects[0].body)?;
    ensure!(
        text.starts_with("tgw-attachment-id srcaddr dstaddr packets-lost-no-route log-status\n"),
        "{}",
        &text[..80.min(text.len())]
    );
    ensure!(generated.manifest.options.version == 6, "version");
    Ok(())
}

#[test]
fn what_aws_refuses_for_transit_gateways_is_refused_with_the_fix() -> anyhow::Result<()> {
    let base = options(10, &["123456789012"]);
    let mut accept = base.clone();
    accept.service.filter = Filter::Accept;
    let mut ten_minutes = base.clone();
    ten_minutes.service.aggregation = 600;
    let mut one_vpc = base.clone();
    one_vpc.traffic.vpcs = 1;
    let mut action = base.clone();
    action.service.format = LogFormat::parse("${srcaddr} ${action}")?;
    let mut vpc_with_tgw_field = GenerateOptions::default();
    vpc_with_tgw_field.service.format = LogFormat::parse("${srcaddr} ${tgw-id}")?;
    assert_eq!(vpc_with_tgw_field.service.resource_type, ResourceType::Vpc);
    let table = [
        (accept, "use ALL"),
        (ten_minutes, "set it to 60"),
        (one_vpc, "at least 2 VPCs"),
        (action, "field `action` is not available in transit-gateway"),
        (vpc_with_tgw_field, "field `tgw-id` is not available in vpc"),
    ];
    for (o, reason) in table {
        let err = generate(&o)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        ensure!(err.contains(reason), "expected {reason:?}, got {err:?}");
    }
    Ok(())
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    generate: GenerateArgs,
}

#[test]
fn the_cli_defaults_transit_gateway_logs_to_their_format_and_60_seconds() -> anyhow::Result<()> {
    let args = Cli::try_parse_from(["generate", "--resource-type", "transit-gateway"])?.generate;
    let o = args.options()?;
    ensure!(
        o.service.resource_type == ResourceType::TransitGateway,
        "resource type"
    );
    ensure!(
        o.service.aggregation == 60,
        "aggregation {}",
        o.service.aggregation
    );
    let explicit = Cli::try_parse_from([
        "generate",
        "--resource-type",
        "transit-gateway",
        "--aggregation",
        "600",
    ])?
    .generate
    .options()?;
    let err = generate(&explicit)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    ensure!(err.contains("60 seconds only"), "{err}");
    let bad = Cli::try_parse_from(["generate", "--resource-type", "nat-gateway"])?.generate;
    let err = bad
        .options()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    ensure!(err.contains("vpc or transit-gateway"), "{err}");
    Ok(())
}
