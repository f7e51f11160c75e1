//! The generated files, checked line by line against the VPC Flow Logs invariants, and the
//! service behaviours: filters, key layouts, windows, rotation, delivery order, manifest,
//! determinism.

mod generator_support;

use std::collections::{BTreeMap, HashMap};

use anyhow::ensure;
use flowlog_emulator::generator::{
    Destination, Filter, GenerateOptions, Generated, KeyLayout, LogFormat, RecordsDigest, generate,
    line_digest,
};
use generator_support::{Expect, check_file, gunzip, window_of_key};

const ALL_FIELDS: &str = "${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status} ${vpc-id} ${subnet-id} ${instance-id} ${tcp-flags} ${type} ${pkt-srcaddr} ${pkt-dstaddr} ${region} ${az-id} ${sublocation-type} ${sublocation-id} ${pkt-src-aws-service} ${pkt-dst-aws-service} ${flow-direction} ${traffic-path} ${ecs-cluster-arn} ${ecs-cluster-name} ${ecs-container-instance-arn} ${ecs-container-instance-id} ${ecs-container-id} ${ecs-second-container-id} ${ecs-service-name} ${ecs-task-definition-arn} ${ecs-task-arn} ${ecs-task-id} ${reject-reason}";

fn options(minutes: i64, aggregation: u32) -> GenerateOptions {
    let mut o = GenerateOptions {
        seed: 42,
        duration_secs: minutes * 60,
        ..GenerateOptions::default()
    };
    o.service.aggregation = aggregation;
    o
}

/// Checks every line of every object; returns the data lines per action.
fn check_all(
    generated: &Generated,
    version: u32,
    aggregation: i64,
) -> anyhow::Result<HashMap<String, u64>> {
    let mut actions = HashMap::new();
    ensure!(!generated.objects.is_empty(), "no objects");
    for object in &generated.objects {
        let window_start = window_of_key(&object.key)?;
        let text = gunzip(&object.body)?;
        let expect = Expect {
            version,
            aggregation,
            window_start,
        };
        check_file(&text, &expect).map_err(|e| anyhow::anyhow!("{}: {e:#}", object.key))?;
        let header: Vec<&str> = text.lines().next().unwrap_or_default().split(' ').collect();
        let action = header.iter().position(|f| *f == "action");
        for line in text.lines().skip(1) {
            let a = action.and_then(|i| line.split(' ').nth(i)).unwrap_or("?");
            *actions.entry(a.to_owned()).or_insert(0) += 1;
        }
    }
    Ok(actions)
}

#[test]
fn every_default_format_line_keeps_the_flow_log_invariants() -> anyhow::Result<()> {
    let generated = generate(&options(60, 600))?;
    let actions = check_all(&generated, 2, 600)?;
    ensure!(
        actions.get("ACCEPT").copied().unwrap_or(0) > 1000,
        "{actions:?}"
    );
    ensure!(
        actions.get("REJECT").copied().unwrap_or(0) > 50,
        "{actions:?}"
    );
    Ok(())
}

#[test]
fn every_line_of_a_format_with_all_fields_keeps_the_invariants() -> anyhow::Result<()> {
    let mut o = options(30, 60);
    o.service.format = LogFormat::parse(ALL_FIELDS)?;
    let generated = generate(&o)?;
    check_all(&generated, 8, 60)?;
    let text: String = generated
        .objects
        .iter()
        .map(|o| gunzip(&o.body))
        .collect::<anyhow::Result<_>>()?;
    for wanted in [
        " 58 ",
        " 1 ",
        " 17 ",
        "IPv6",
        " S3 ",
        " DYNAMODB ",
        "NODATA",
        "arn:aws:ecs:",
        "egress",
        "ingress",
    ] {
        ensure!(text.contains(wanted), "no line contains {wanted:?}");
    }
    Ok(())
}

#[test]
fn nat_gateway_records_translate_packet_addresses() -> anyhow::Result<()> {
    let mut o = options(10, 60);
    o.service.format = LogFormat::parse(
        "${instance-id} ${interface-id} ${srcaddr} ${dstaddr} ${pkt-srcaddr} ${pkt-dstaddr} ${flow-direction} ${log-status}",
    )?;
    let generated = generate(&o)?;
    let text: String = generated
        .objects
        .iter()
        .map(|o| gunzip(&o.body))
        .collect::<anyhow::Result<_>>()?;
    let translated = text.lines().filter(|l| {
        let t: Vec<&str> = l.split(' ').collect();
        t.len() == 8 && t[0] == "-" && t[7] == "OK" && t[2] != t[4] && t[6] == "egress"
    });
    ensure!(
        translated.count() > 0,
        "no NAT egress record with pkt-srcaddr != srcaddr"
    );
    Ok(())
}

#[test]
fn byte_counts_sometimes_exceed_two_to_the_31() -> anyhow::Result<()> {
    let generated = generate(&options(120, 600))?;
    let mut max = 0u64;
    for object in &generated.objects {
        for line in gunzip(&object.body)?.lines().skip(1) {
            if let Some(Ok(bytes)) = line.split(' ').nth(9).map(str::parse::<u64>) {
                max = max.max(bytes);
            }
        }
    }
    ensure!(max > 1 << 31, "largest byte count {max}");
    Ok(())
}

#[test]
fn accept_and_reject_filters_keep_only_their_action() -> anyhow::Result<()> {
    for (filter, kept) in [(Filter::Accept, "ACCEPT"), (Filter::Reject, "REJECT")] {
        let mut o = options(30, 60);
        o.service.filter = filter;
        let actions = check_all(&generate(&o)?, 2, 60)?;
        ensure!(
            actions.get(kept).copied().unwrap_or(0) > 0,
            "{filter}: {actions:?}"
        );
        for (action, n) in &actions {
            ensure!(
                action == kept || action == "-",
                "{filter} let {n} {action} records through"
            );
        }
    }
    Ok(())
}

#[test]
fn keys_follow_the_aws_layout_for_all_four_options() -> anyhow::Result<()> {
    let plain = "AWSLogs/123456789012/vpcflowlogs/us-east-1/2026/01/15/";
    let hive = "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=us-east-1/year=2026/month=01/day=15/";
    for (hive_on, hourly) in [(false, false), (false, true), (true, false), (true, true)] {
        let mut o = options(15, 60);
        o.service.destination = Destination::parse("arn:aws:s3:::central-logs/vpc/")?;
        o.service.layout = KeyLayout {
            hive: hive_on,
            hourly,
        };
        for object in generate(&o)?.objects {
            let key = &object.key;
            ensure!(object.bucket == "central-logs", "bucket {}", object.bucket);
            let (dir, name) = key.rsplit_once('/').unwrap_or_default();
            // File name: <account>_vpcflowlogs_<region>_<fl-id>_<YYYYMMDDTHHmmZ>_<8 hex>.log.gz
            let parts: Vec<&str> = name.split('_').collect();
            let ok_name = parts.len() == 6
                && parts[..3] == ["123456789012", "vpcflowlogs", "us-east-1"]
                && parts[3]
                    .strip_prefix("fl-")
                    .is_some_and(|h| h.len() == 17 && h.bytes().all(|b| b.is_ascii_hexdigit()))
                && parts[4].len() == 14
                && parts[4].starts_with("20260115T")
                && parts[4].ends_with('Z')
                && parts[5]
                    .strip_suffix(".log.gz")
                    .is_some_and(|h| h.len() == 8 && h.bytes().all(|b| b.is_ascii_hexdigit()));
            ensure!(ok_name, "file name {name}");
            let (hour, minute) = (&parts[4][9..11], &parts[4][11..13]);
            ensure!(minute.parse::<u32>()? % 5 == 0, "window minute {minute}");
            let mut expected = format!("vpc/{}", if hive_on { hive } else { plain });
            if hourly {
                expected.push_str(&if hive_on {
                    format!("hour={hour}/")
                } else {
                    format!("{hour}/")
                });
            }
            ensure!(
                format!("{dir}/") == expected,
                "hive={hive_on} hourly={hourly}: {key}"
            );
        }
    }
    Ok(())
}

#[test]
fn a_window_has_several_files_when_writers_or_rotation_split_it_and_each_has_a_header()
-> anyhow::Result<()> {
    let mut o = options(10, 60);
    o.service.rotate_bytes = 8 * 1024;
    let generated = generate(&o)?;
    let mut per_window: BTreeMap<i64, usize> = BTreeMap::new();
    for object in &generated.objects {
        *per_window.entry(object.summary.window_start).or_default() += 1;
        ensure!(
            object.summary.raw_bytes <= 8 * 1024 + 512,
            "{} has {} bytes",
            object.key,
            object.summary.raw_bytes
        );
        let text = gunzip(&object.body)?;
        ensure!(
            text.starts_with("version account-id interface-id "),
            "{} lacks the header",
            object.key
        );
    }
    ensure!(
        per_window.values().all(|n| *n >= 4),
        "files per window: {per_window:?}"
    );
    Ok(())
}

#[test]
fn files_are_delivered_after_their_window_and_not_in_key_order() -> anyhow::Result<()> {
    let generated = generate(&options(60, 60))?;
    let delivered: Vec<i64> = generated.objects.iter().map(|o| o.delivered_at).collect();
    ensure!(
        delivered.windows(2).all(|w| w[0] <= w[1]),
        "objects are not in delivery order"
    );
    for o in &generated.objects {
        let delay = o.delivered_at - (o.summary.window_start + 300);
        ensure!(
            (60..=660).contains(&delay),
            "{} delivered {delay} s after its window",
            o.key
        );
    }
    let windows: Vec<i64> = generated
        .objects
        .iter()
        .map(|o| o.summary.window_start)
        .collect();
    ensure!(
        windows.windows(2).any(|w| w[0] > w[1]),
        "files arrived strictly in window order"
    );
    Ok(())
}

#[test]
fn the_manifest_matches_the_files() -> anyhow::Result<()> {
    let mut o = options(30, 60);
    o.service.format = LogFormat::parse(ALL_FIELDS)?;
    let generated = generate(&o)?;
    ensure!(
        generated.manifest.objects.len() == generated.objects.len(),
        "object count"
    );
    let mut total = RecordsDigest::new();
    for (object, entry) in generated.objects.iter().zip(&generated.manifest.objects) {
        ensure!(
            entry.key == object.key && entry.bucket == object.bucket,
            "order of {}",
            entry.key
        );
        let text = gunzip(&object.body)?;
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or_default().split(' ').collect();
        ensure!(entry.fields == header, "fields of {}", entry.key);
        let (mut digest, mut records, mut nodata, mut reject, mut ends) =
            (RecordsDigest::new(), 0u64, 0u64, 0u64, Vec::new());
        for line in lines {
            let tokens: Vec<&str> = line.split_whitespace().collect();
            digest.add(line_digest(&tokens));
            records += 1;
            nodata += u64::from(tokens[13] == "NODATA");
            reject += u64::from(tokens[12] == "REJECT");
            ends.push(tokens[11].parse::<i64>()?);
        }
        ensure!(entry.records == records, "records of {}", entry.key);
        ensure!(
            entry.by_log_status.nodata == nodata && entry.by_action.reject == reject,
            "counts of {}",
            entry.key
        );
        ensure!(
            entry.by_action.accept + entry.by_action.reject + entry.by_action.none == records,
            "action sum of {}",
            entry.key
        );
        ensure!(
            entry.records_digest == digest.to_hex(),
            "digest of {}",
            entry.key
        );
        ensure!(
            Some(&entry.first_end) == ends.iter().min()
                && Some(&entry.last_end) == ends.iter().max(),
            "ends of {}",
            entry.key
        );
        ensure!(
            entry.gzip_bytes == object.body.len() as u64 && entry.raw_bytes == text.len() as u64,
            "sizes of {}",
            entry.key
        );
        total.merge(digest);
    }
    ensure!(
        generated.manifest.totals.records_digest == total.to_hex(),
        "total digest"
    );
    ensure!(
        generated.manifest.totals.records
            == generated
                .manifest
                .objects
                .iter()
                .map(|o| o.records)
                .sum::<u64>(),
        "total records"
    );
    Ok(())
}

#[test]
fn the_same_seed_and_options_give_byte_identical_objects_and_manifest() -> anyhow::Result<()> {
    let (a, b) = (generate(&options(30, 60))?, generate(&options(30, 60))?);
    ensure!(
        a.manifest.to_json() == b.manifest.to_json(),
        "manifests differ"
    );
    ensure!(a.objects.len() == b.objects.len(), "object counts differ");
    for (x, y) in a.objects.iter().zip(&b.objects) {
        ensure!(x.key == y.key && x.body == y.body, "{} differs", x.key);
    }
    let other = generate(&GenerateOptions {
        seed: 43,
        ..options(30, 60)
    })?;
    ensure!(
        other.manifest.totals.records_digest != a.manifest.totals.records_digest,
        "another seed gave the same traffic"
    );
    Ok(())
}

#[test]
fn gzip_headers_carry_no_time_or_name() -> anyhow::Result<()> {
    let generated = generate(&options(10, 60))?;
    for o in &generated.objects {
        ensure!(
            o.body[..4] == [0x1f, 0x8b, 8, 0] && o.body[4..8] == [0, 0, 0, 0],
            "{}: header {:?}",
            o.key,
            &o.body[..10]
        );
    }
    Ok(())
}
