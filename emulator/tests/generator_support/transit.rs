//! The transit-gateway rules of the independent checker (from AWS's "Transit gateway flow log
//! records" and the reference notes): version 6 fields, no `action`, the gateway and attachment
//! ids, the pair attachment, and the `packets-lost-*` counters.

use std::collections::HashMap;

use anyhow::{Context as _, ensure};

use super::{hex_id, num};

/// Fields only transit-gateway flow logs have.
const ONLY_TRANSIT: &[&str] = &[
    "resource-type",
    "tgw-id",
    "tgw-attachment-id",
    "tgw-src-vpc-account-id",
    "tgw-dst-vpc-account-id",
    "tgw-src-vpc-id",
    "tgw-dst-vpc-id",
    "tgw-src-subnet-id",
    "tgw-dst-subnet-id",
    "tgw-src-eni",
    "tgw-dst-eni",
    "tgw-src-az-id",
    "tgw-dst-az-id",
    "tgw-pair-attachment-id",
    "packets-lost-no-route",
    "packets-lost-blackhole",
    "packets-lost-mtu-exceeded",
    "packets-lost-ttl-expired",
];

/// VPC fields that transit-gateway logs do not have.
const ONLY_VPC: &[&str] = &[
    "action",
    "interface-id",
    "vpc-id",
    "subnet-id",
    "instance-id",
    "pkt-srcaddr",
    "pkt-dstaddr",
    "az-id",
    "traffic-path",
    "reject-reason",
];

const LOST: [&str; 4] = [
    "packets-lost-no-route",
    "packets-lost-blackhole",
    "packets-lost-mtu-exceeded",
    "packets-lost-ttl-expired",
];

/// Whether a header is that of a transit-gateway flow log.
pub fn is_transit(header: &[&str]) -> bool {
    header.iter().any(|f| ONLY_TRANSIT.contains(f))
}

fn account(v: &str) -> bool {
    v.len() == 12 && v.bytes().all(|b| b.is_ascii_digit())
}

/// Checks the transit-gateway fields of one row (field name → token).
pub fn check(row: &HashMap<&str, &str>) -> anyhow::Result<()> {
    let get = |f: &str| row.get(f).copied();
    for f in ONLY_VPC {
        ensure!(
            get(f).is_none(),
            "transit-gateway record with the VPC field {f}"
        );
    }
    if let Some(t) = get("resource-type") {
        ensure!(
            t == "TransitGateway" || t == "TransitGatewayAttachment",
            "resource-type {t}"
        );
    }
    if let Some(v) = get("tgw-id") {
        ensure!(hex_id(v, "tgw-", 17), "tgw-id {v}");
    }
    let attachment = get("tgw-attachment-id");
    if let Some(v) = attachment {
        ensure!(hex_id(v, "tgw-attach-", 17), "tgw-attachment-id {v}");
    }
    let status = get("log-status").unwrap_or("OK");
    let sides = |side: &str| {
        [
            format!("tgw-{side}-vpc-account-id"),
            format!("tgw-{side}-vpc-id"),
            format!("tgw-{side}-subnet-id"),
            format!("tgw-{side}-eni"),
            format!("tgw-{side}-az-id"),
        ]
    };
    if status != "OK" {
        for f in sides("src")
            .iter()
            .chain(&sides("dst"))
            .map(String::as_str)
            .chain(LOST)
            .chain(["tgw-pair-attachment-id"])
        {
            ensure!(get(f).is_none_or(|v| v == "-"), "{f} set on {status}");
        }
        return Ok(());
    }
    let pair = get("tgw-pair-attachment-id");
    if let Some(p) = pair {
        ensure!(
            p == "-" || hex_id(p, "tgw-attach-", 17),
            "tgw-pair-attachment-id {p}"
        );
        ensure!(Some(p) != attachment, "the pair is the attachment itself");
    }
    let dropped = pair == Some("-");
    for (side, may_be_unknown) in [("src", false), ("dst", dropped)] {
        let [acct, vpc, subnet, eni, az] = sides(side);
        let value = |f: &str| get(f).filter(|v| !(may_be_unknown && *v == "-"));
        if let Some(v) = value(&acct) {
            ensure!(account(v), "{acct} {v}");
        }
        if let Some(v) = value(&vpc) {
            ensure!(hex_id(v, "vpc-", 17), "{vpc} {v}");
        }
        if let Some(v) = value(&subnet) {
            ensure!(hex_id(v, "subnet-", 17), "{subnet} {v}");
        }
        if let Some(v) = value(&eni) {
            ensure!(hex_id(v, "eni-", 17), "{eni} {v}");
        }
        if let Some(v) = value(&az) {
            ensure!(v.contains("-az"), "{az} {v}");
        }
        if dropped && side == "dst" {
            for f in [&acct, &vpc, &subnet, &eni, &az] {
                ensure!(get(f).is_none_or(|v| v == "-"), "{f} set on a dropped flow");
            }
        }
    }
    let lost: Vec<Option<u64>> = LOST
        .iter()
        .map(|f| num(row, f))
        .collect::<anyhow::Result<_>>()?;
    let total: u64 = lost.iter().flatten().sum();
    let direction = get("flow-direction");
    if direction == Some("egress") {
        ensure!(total == 0, "packets lost on an egress record");
        ensure!(!dropped, "an egress record without a pair attachment");
    }
    if let Some(packets) = num(row, "packets")? {
        ensure!(total <= packets, "{total} of {packets} packets lost");
        let all_known = lost.iter().all(Option::is_some);
        if dropped && all_known {
            ensure!(total == packets, "a dropped flow lost {total} of {packets}");
        }
    }
    if let Some(region) = get("region") {
        for az in ["tgw-src-az-id", "tgw-dst-az-id"] {
            if let Some(v) = get(az).filter(|v| *v != "-") {
                ensure!(region.starts_with(&v[..2]), "{az} {v} outside {region}");
            }
        }
    }
    if let Some(v) = get("version") {
        let v: u32 = v.parse().with_context(|| format!("version {v}"))?;
        ensure!(v <= 6, "transit-gateway version {v}");
    }
    Ok(())
}
