//! The invariant checker itself: it accepts AWS's own sample lines (and transit-gateway records
//! written from AWS's field descriptions) and rejects broken ones, so a green run of the
//! generator tests means something.

mod generator_support;

use anyhow::ensure;
use generator_support::{Expect, check_line};

const V5_HEADER: &str = "version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status";
const V5_EGRESS: &str = "5 10.0.0.71 52.95.128.179 34210 80 6 1616729292 1616729349 IPv4 7 471 123456789012 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-0c50d5961bcb2d47b eni-1235b8ca123456789 ap-southeast-2 apse2-az3 - - ACCEPT 3 10.0.0.71 52.95.128.179 - S3 8 egress OK";

fn expect() -> Expect {
    Expect {
        version: 5,
        aggregation: 600,
        window_start: 1_616_729_100,
    }
}

#[test]
fn the_checker_accepts_the_aws_v5_sample() -> anyhow::Result<()> {
    let header: Vec<&str> = V5_HEADER.split(' ').collect();
    check_line(&header, V5_EGRESS, &expect())
}

#[test]
fn the_checker_rejects_lines_that_break_an_invariant() -> anyhow::Result<()> {
    let header: Vec<&str> = V5_HEADER.split(' ').collect();
    let broken = [
        (" 8 egress OK", " 8 ingress OK", "traffic-path on ingress"),
        (" 6 1616729292", " 17 1616729292", "tcp-flags on UDP"),
        (" 34210 80 6", " 34210 80 1", "ICMP with ports"),
        (" 7 471 ", " 7 47 ", "bytes below the smallest frame"),
        (" 7 471 ", " 1 90000 ", "bytes above the largest frame"),
        ("ACCEPT 3", "ACCEPT 16", "ACK without SYN"),
        ("1616729349", "1616729999", "end outside the window"),
        (" IPv4 ", " IPv6 ", "type that does not match the address"),
        (" - S3 ", " - SQS ", "unknown AWS service"),
        ("ACCEPT 3", "ACCEPT  3", "double space"),
        (" OK", " NODATA", "traffic fields on NODATA"),
    ];
    for (from, to, what) in broken {
        let line = V5_EGRESS.replacen(from, to, 1);
        ensure!(line != V5_EGRESS, "{what}: pattern {from:?} not found");
        ensure!(
            check_line(&header, &line, &expect()).is_err(),
            "the checker accepted {what}: {line}"
        );
    }
    Ok(())
}

const TGW_HEADER: &str = "version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region flow-direction pkt-src-aws-service pkt-dst-aws-service";
const TGW_INGRESS: &str = "6 TransitGateway 123456789012 tgw-0a1b2c3d4e5f6a7b8 tgw-attach-0a1b2c3d4e5f6a7b8 123456789012 210987654321 vpc-0a1b2c3d4e5f6a7b8 vpc-1a1b2c3d4e5f6a7b8 subnet-0a1b2c3d4e5f6a7b8 subnet-1a1b2c3d4e5f6a7b8 eni-0a1b2c3d4e5f6a7b8 eni-1a1b2c3d4e5f6a7b8 use1-az1 use1-az1 tgw-attach-1a1b2c3d4e5f6a7b8 10.0.1.10 10.1.2.20 49152 443 6 12 4200 1768464010 1768464050 OK IPv4 0 0 0 0 26 us-east-1 ingress - -";
const TGW_NODATA: &str = "6 TransitGateway 123456789012 tgw-0a1b2c3d4e5f6a7b8 tgw-attach-0a1b2c3d4e5f6a7b8 - - - - - - - - - - - - - - - - - - 1768464002 1768464058 NODATA - - - - - - us-east-1 - - -";

fn tgw_expect() -> Expect {
    Expect {
        version: 6,
        aggregation: 60,
        window_start: 1_768_464_000,
    }
}

#[test]
fn the_checker_accepts_transit_gateway_records() -> anyhow::Result<()> {
    let header: Vec<&str> = TGW_HEADER.split(' ').collect();
    check_line(&header, TGW_INGRESS, &tgw_expect())?;
    check_line(&header, TGW_NODATA, &tgw_expect())?;
    let dropped = TGW_INGRESS
        .replace(
            "210987654321 vpc-0a1b2c3d4e5f6a7b8 vpc-1a1b2c3d4e5f6a7b8 subnet-0a1b2c3d4e5f6a7b8 subnet-1a1b2c3d4e5f6a7b8 eni-0a1b2c3d4e5f6a7b8 eni-1a1b2c3d4e5f6a7b8 use1-az1 use1-az1 tgw-attach-1a1b2c3d4e5f6a7b8",
            "- vpc-0a1b2c3d4e5f6a7b8 - subnet-0a1b2c3d4e5f6a7b8 - eni-0a1b2c3d4e5f6a7b8 - use1-az1 - -",
        )
        .replace(" OK IPv4 0 0 0 0 26 ", " OK IPv4 12 0 0 0 2 ");
    check_line(&header, &dropped, &tgw_expect())
}

#[test]
fn the_checker_rejects_transit_gateway_records_that_break_an_invariant() -> anyhow::Result<()> {
    let header: Vec<&str> = TGW_HEADER.split(' ').collect();
    let broken = [
        (
            "6 TransitGateway ",
            "6 TransitGatewayX ",
            "unknown resource-type",
        ),
        ("tgw-0a1b2c3d4e5f6a7b8 ", "tgw-0a1b ", "short tgw-id"),
        (
            "tgw-attach-1a1b2c3d4e5f6a7b8 10.0.1.10",
            "tgw-attach-0a1b2c3d4e5f6a7b8 10.0.1.10",
            "the pair is the attachment",
        ),
        (
            "tgw-attach-1a1b2c3d4e5f6a7b8 10.0.1.10",
            "- 10.0.1.10",
            "a dropped flow with a destination",
        ),
        (
            " 0 0 0 0 26 us-east-1 ingress",
            " 0 0 3 0 26 us-east-1 egress",
            "loss on egress",
        ),
        (" 0 0 0 0 26 ", " 0 0 13 0 26 ", "more lost than sent"),
        (" 26 us-east-1", " 64 us-east-1", "an unknown TCP flag"),
        (
            "1768464050 OK",
            "1768464070 OK",
            "start/end across a minute",
        ),
        (
            "use1-az1 use1-az1",
            "euw1-az1 use1-az1",
            "an AZ of another region",
        ),
        ("6 TransitGateway", "7 TransitGateway", "a version above 6"),
    ];
    for (from, to, what) in broken {
        let line = TGW_INGRESS.replacen(from, to, 1);
        ensure!(line != TGW_INGRESS, "{what}: pattern {from:?} not found");
        ensure!(
            check_line(&header, &line, &tgw_expect()).is_err(),
            "the checker accepted {what}: {line}"
        );
    }
    let renamed = TGW_HEADER.replace(" type ", " action ");
    let with_action: Vec<&str> = renamed.split(' ').collect();
    let line = TGW_INGRESS.replace(" OK IPv4 ", " OK ACCEPT ");
    ensure!(
        check_line(&with_action, &line, &tgw_expect()).is_err(),
        "the checker accepted an action in a transit-gateway record"
    );
    Ok(())
}
