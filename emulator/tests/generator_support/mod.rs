//! Shared helpers of the generator tests: gunzip, and an independent per-line checker of the
//! VPC Flow Logs invariants (written from the AWS facts, not from the generator's code), with
//! the transit-gateway rules in `transit`.

#![allow(dead_code)]

pub mod transit;

use std::collections::HashMap;
use std::io::Read as _;
use std::net::IpAddr;

use anyhow::{Context as _, bail, ensure};
use flate2::read::MultiGzDecoder;

/// The text of a gzip body.
pub fn gunzip(body: &[u8]) -> anyhow::Result<String> {
    let mut text = String::new();
    MultiGzDecoder::new(body)
        .read_to_string(&mut text)
        .context("gunzip")?;
    Ok(text)
}

/// What the checker needs to know about the file.
pub struct Expect {
    pub version: u32,
    pub aggregation: i64,
    /// Start of the file's 5-minute window, from its name.
    pub window_start: i64,
}

/// The window start encoded in a key's file name (`…_YYYYMMDDTHHmmZ_hash.log.gz`).
pub fn window_of_key(key: &str) -> anyhow::Result<i64> {
    let name = key.rsplit('/').next().unwrap_or(key);
    let parts: Vec<&str> = name.split('_').collect();
    ensure!(
        parts.len() == 6,
        "file name {name} has {} parts",
        parts.len()
    );
    let t = chrono::NaiveDateTime::parse_from_str(parts[4], "%Y%m%dT%H%MZ")
        .with_context(|| format!("time in {name}"))?;
    Ok(t.and_utc().timestamp())
}

const SERVICES: &[&str] = &[
    "-",
    "AMAZON",
    "AMAZON_APPFLOW",
    "AMAZON_CONNECT",
    "API_GATEWAY",
    "CHIME_MEETINGS",
    "CHIME_VOICECONNECTOR",
    "CLOUD9",
    "CLOUDFRONT",
    "CODEBUILD",
    "DYNAMODB",
    "EBS",
    "EC2",
    "EC2_INSTANCE_CONNECT",
    "GLOBALACCELERATOR",
    "KINESIS_VIDEO_STREAMS",
    "ROUTE53",
    "ROUTE53_HEALTHCHECKS",
    "ROUTE53_HEALTHCHECKS_PUBLISHING",
    "ROUTE53_RESOLVER",
    "S3",
    "WORKSPACES_GATEWAYS",
];

pub(crate) fn hex_id(value: &str, prefix: &str, digits: usize) -> bool {
    value
        .strip_prefix(prefix)
        .is_some_and(|h| h.len() == digits && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub(crate) fn num(row: &HashMap<&str, &str>, field: &str) -> anyhow::Result<Option<u64>> {
    match row.get(field) {
        None => Ok(None),
        Some(v) => {
            Ok(Some(v.parse().with_context(|| {
                format!("{field} = {v:?} is not a number")
            })?))
        }
    }
}

/// Checks one whole file: the header, then every line. Returns the number of data lines.
pub fn check_file(text: &str, expect: &Expect) -> anyhow::Result<usize> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .context("empty file")?
        .split_whitespace()
        .collect();
    ensure!(
        !header.is_empty()
            && header
                .iter()
                .all(|f| f.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')),
        "bad header {header:?}"
    );
    let mut n = 0;
    for (i, line) in lines.enumerate() {
        check_line(&header, line, expect).with_context(|| format!("line {}: {line}", i + 2))?;
        n += 1;
    }
    Ok(n)
}

/// Checks one data line against the invariants of VPC Flow Logs (and of transit-gateway flow
/// logs when the header has their fields).
pub fn check_line(header: &[&str], line: &str, expect: &Expect) -> anyhow::Result<()> {
    let tokens: Vec<&str> = line.split(' ').collect();
    ensure!(
        tokens.len() == header.len(),
        "{} tokens for {} fields",
        tokens.len(),
        header.len()
    );
    ensure!(
        tokens.iter().all(|t| !t.is_empty()),
        "empty token (double space)"
    );
    let row: HashMap<&str, &str> = header.iter().copied().zip(tokens.iter().copied()).collect();
    let get = |f: &str| row.get(f).copied();
    let transit = transit::is_transit(header);
    if transit {
        transit::check(&row)?;
    }
    if let Some(v) = num(&row, "version")? {
        ensure!(v == u64::from(expect.version), "version {v}");
    }
    if let Some(a) = get("account-id") {
        ensure!(
            a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()),
            "account-id {a}"
        );
    }
    if let Some(e) = get("interface-id") {
        ensure!(hex_id(e, "eni-", 17), "interface-id {e}");
    }
    if let Some(v) = get("vpc-id") {
        ensure!(hex_id(v, "vpc-", 17), "vpc-id {v}");
    }
    if let Some(v) = get("subnet-id") {
        ensure!(hex_id(v, "subnet-", 17), "subnet-id {v}");
    }
    if let Some(v) = get("instance-id") {
        ensure!(v == "-" || hex_id(v, "i-", 17), "instance-id {v}");
    }
    if let Some(v) = get("region") {
        ensure!(v.split('-').count() >= 3, "region {v}");
    }
    if let (Some(az), Some(region)) = (get("az-id"), get("region")) {
        ensure!(
            az.contains("-az") && region.starts_with(&az[..2]),
            "az-id {az} in {region}"
        );
    }
    for f in [
        "sublocation-type",
        "sublocation-id",
        "ecs-container-instance-arn",
        "ecs-container-instance-id",
    ] {
        if let Some(v) = get(f) {
            ensure!(v == "-", "{f} {v} (no sublocations, Fargate tasks only)");
        }
    }
    let ecs: Vec<&str> = header
        .iter()
        .filter(|f| f.starts_with("ecs-") && !f.contains("container-instance"))
        .map(|f| row[f])
        .collect();
    ensure!(
        ecs.iter().all(|v| *v == "-") || ecs.iter().all(|v| *v != "-"),
        "ecs fields half set: {ecs:?}"
    );
    let status = get("log-status").unwrap_or("OK");
    ensure!(
        ["OK", "NODATA", "SKIPDATA"].contains(&status),
        "log-status {status}"
    );
    if let (Some(start), Some(end)) = (num(&row, "start")?, num(&row, "end")?) {
        let (start, end) = (start as i64, end as i64);
        ensure!(start <= end, "start {start} after end {end}");
        ensure!(
            start.div_euclid(expect.aggregation) == end.div_euclid(expect.aggregation),
            "start/end cross an aggregation interval"
        );
        ensure!(
            (expect.window_start..expect.window_start + 300).contains(&end),
            "end {end} outside the file's window {}",
            expect.window_start
        );
    }
    let traffic_fields = [
        "srcaddr",
        "dstaddr",
        "srcport",
        "dstport",
        "protocol",
        "packets",
        "bytes",
        "tcp-flags",
        "type",
        "pkt-srcaddr",
        "pkt-dstaddr",
        "pkt-src-aws-service",
        "pkt-dst-aws-service",
        "flow-direction",
        "traffic-path",
        "reject-reason",
    ];
    if status != "OK" {
        ensure!(get("action").is_none_or(|a| a == "-"), "action on {status}");
        for f in traffic_fields {
            ensure!(get(f).is_none_or(|v| v == "-"), "{f} set on {status}");
        }
        ensure!(ecs.iter().all(|v| *v == "-"), "ecs fields on {status}");
        return Ok(());
    }
    if let Some(a) = get("action") {
        ensure!(a == "ACCEPT" || a == "REJECT", "action {a}");
    }
    let addr = |f: &str| -> anyhow::Result<Option<IpAddr>> {
        get(f)
            .map(|v| v.parse::<IpAddr>().with_context(|| format!("{f} {v}")))
            .transpose()
    };
    let (src, dst, psrc, pdst) = (
        addr("srcaddr")?,
        addr("dstaddr")?,
        addr("pkt-srcaddr")?,
        addr("pkt-dstaddr")?,
    );
    let family: Vec<bool> = [src, dst, psrc, pdst]
        .iter()
        .flatten()
        .map(IpAddr::is_ipv6)
        .collect();
    ensure!(
        family.windows(2).all(|w| w[0] == w[1]),
        "mixed address families"
    );
    if let (Some(t), Some(v6)) = (get("type"), family.first()) {
        ensure!(t == if *v6 { "IPv6" } else { "IPv4" }, "type {t}");
    }
    let protocol = num(&row, "protocol")?;
    if let Some(p) = protocol {
        ensure!([1, 6, 17, 58].contains(&p), "protocol {p}");
        if let Some(v6) = family.first() {
            ensure!(p != 1 || !v6, "ICMP over IPv6 must be 58");
            ensure!(p != 58 || *v6, "ICMPv6 over IPv4");
        }
    }
    for f in ["srcport", "dstport"] {
        if let Some(port) = num(&row, f)? {
            ensure!(port <= 65_535, "{f} {port}");
            if matches!(protocol, Some(1 | 58)) {
                ensure!(port == 0, "ICMP with {f} {port}");
            }
        }
    }
    if let (Some(packets), Some(bytes)) = (num(&row, "packets")?, num(&row, "bytes")?) {
        ensure!(packets >= 1, "no packets");
        ensure!(
            bytes >= packets * 40 && bytes <= packets * 9001,
            "{bytes} bytes in {packets} packets"
        );
    }
    if let Some(flags) = num(&row, "tcp-flags")? {
        match protocol {
            // Transit gateways also log PSH, ACK (beside other flags) and URG.
            Some(6) | None if transit => ensure!(
                flags & !(1 | 2 | 4 | 8 | 16 | 32) == 0,
                "tcp-flags {flags} has unsupported bits"
            ),
            Some(6) | None => {
                ensure!(
                    flags & !(1 | 2 | 4 | 16) == 0,
                    "tcp-flags {flags} has unsupported bits"
                );
                ensure!(
                    flags & 16 == 0 || flags & 2 != 0,
                    "ACK logged without SYN (only SYN-ACK is)"
                );
            }
            Some(_) => ensure!(flags == 0, "tcp-flags {flags} on non-TCP"),
        }
    }
    if let Some(d) = get("flow-direction") {
        ensure!(d == "ingress" || d == "egress", "flow-direction {d}");
        if let (false, Some(path)) = (transit, get("traffic-path")) {
            if d == "ingress" {
                ensure!(path == "-", "traffic-path {path} on ingress");
            } else {
                let p: u8 = path
                    .parse()
                    .with_context(|| format!("traffic-path {path} on egress"))?;
                ensure!((1..=8).contains(&p), "traffic-path {p}");
            }
        }
    }
    for f in ["pkt-src-aws-service", "pkt-dst-aws-service"] {
        if let Some(s) = get(f) {
            ensure!(SERVICES.contains(&s), "{f} {s}");
        }
    }
    if let Some(r) = get("reject-reason") {
        ensure!(
            r == "-" || (r == "BPA" && get("action") == Some("REJECT")),
            "reject-reason {r}"
        );
    }
    Ok(())
}

/// Fails unless `cond`, naming the subject.
pub fn require(cond: bool, what: &str) -> anyhow::Result<()> {
    if cond { Ok(()) } else { bail!("{what}") }
}
